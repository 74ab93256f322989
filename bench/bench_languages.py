"""Benchmark: the cost of the five-language build against the English one, and PDF sizes.

Builds the repository's handout in A4: English alone, then every language in
booklet.toml, in the same run and one edition at a time (so the ratio is CPU
cost, not how many cores the machine has), then prints the ratio and each
PDF's size. The Chinese edition must stay under 1 MB: WeasyPrint embeds only
the glyphs used from the 20 MB CJK font (a size, so the test suite asserts it
too; timings are only printed here).

    .venv/bin/python bench/bench_languages.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from booklet.build import build_edition
from booklet.project import load_project
from booklet.render import Edition

REPO = Path(__file__).resolve().parents[1]
CJK_LIMIT = 1_000_000


def timed_builds(languages: list[str], out: Path) -> tuple[float, dict[str, int],
                                                          dict[str, float]]:
    project = load_project(REPO)
    sizes, seconds = {}, {}
    start = time.perf_counter()
    for language in languages:
        began = time.perf_counter()
        result = build_edition(project, Edition(language, "a4"), out)
        seconds[language] = time.perf_counter() - began
        sizes[language] = result.path.stat().st_size
    return time.perf_counter() - start, sizes, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs of each build (median)")
    args = parser.parse_args()
    languages = list(load_project(REPO).languages)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        timed_builds(["en"], out)  # warm up: imports, font caches
        english, everything, sizes, each = [], [], {}, {}
        for _ in range(args.repeat):
            english.append(timed_builds(["en"], out)[0])
            seconds, sizes, each = timed_builds(languages, out)
            everything.append(seconds)
    base, total = statistics.median(english), statistics.median(everything)
    print(f"English A4:            {base:6.2f} s")
    print(f"{len(languages)} languages A4:       {total:6.2f} s  "
          f"({', '.join(languages)})")
    print(f"ratio:                 {total / base:6.2f} x the English build "
          f"({total / base / len(languages):.2f} x per edition)")
    print("per language (A4, last run): time, ratio to English, PDF size")
    for language, size in sizes.items():
        print(f"  {language:<8} {each[language]:6.2f} s  {each[language] / base:5.2f} x  "
              f"{size / 1024:8.1f} KiB")
    cjk = {lang: size for lang, size in sizes.items() if lang.split("-")[0] in ("zh", "ja", "ko")}
    failed = {lang: size for lang, size in cjk.items() if size >= CJK_LIMIT}
    for language, size in cjk.items():
        state = "over the limit" if language in failed else "under"
        print(f"{language} A4 is {size / 1_000_000:.2f} MB: {state} {CJK_LIMIT / 1_000_000:.0f} MB")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
