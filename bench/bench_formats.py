"""Benchmark: build time and file size per format, relative to the plain A4 build.

    .venv/bin/python bench/bench_formats.py [PROJECT] [--lang LANG] [--repeat N]

Builds one language of PROJECT (default: this repository's handout) in every
format, one edition at a time in this process, and prints per format the best
of N build times, that time as a multiple of the A4 build measured in the same
run, the page count and the file sizes (a booklet's imposed sheets too).
Absolute times depend on the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from booklet.build import build_edition
from booklet.project import FORMATS, load_project
from booklet.render import Edition

REPO = Path(__file__).resolve().parents[1]


def measure(project_dir: Path, language: str, repeat: int) -> list[dict]:
    """Build every format `repeat` times; return one row per format, A4 first."""
    project = load_project(project_dir)
    names = ["a4", *(name for name in FORMATS if name != "a4")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-formats-") as out:
        # Warm-up: imports, fontconfig and font files are paid once, not by A4 alone.
        build_edition(project, Edition(language, "a4"), out)
        for name in names:
            times = []
            for _ in range(repeat):
                start = time.perf_counter()
                result = build_edition(project, Edition(language, name), out)
                times.append(time.perf_counter() - start)
            rows.append({
                "format": name,
                "seconds": min(times),
                "pages": result.pages,
                "kib": result.path.stat().st_size / 1024,
                "sheets_kib": result.sheets.stat().st_size / 1024 if result.sheets else None,
            })
    return rows


def print_table(rows: list[dict], language: str, repeat: int) -> None:
    baseline = rows[0]
    print(f"language {language}, best of {repeat}; ratios against {baseline['format']} "
          "in this run")
    header = f"{'format':<20} {'time s':>7} {'x a4':>6} {'pages':>5} {'size KiB':>9} " \
             f"{'x a4':>6} {'sheets KiB':>10}"
    print(header)
    print("-" * len(header))
    for row in rows:
        sheets = f"{row['sheets_kib']:10.0f}" if row["sheets_kib"] is not None else " " * 10
        print(f"{row['format']:<20} {row['seconds']:7.2f} "
              f"{row['seconds'] / baseline['seconds']:6.2f} {row['pages']:5d} "
              f"{row['kib']:9.0f} {row['kib'] / baseline['kib']:6.2f} {sheets}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, default=REPO)
    parser.add_argument("--lang", default=None, help="language to build (default: source)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    language = args.lang or load_project(args.project).source_language
    print_table(measure(args.project, language, args.repeat), language, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
