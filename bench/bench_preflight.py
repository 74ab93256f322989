"""Benchmark: what each preflight check costs on built editions, relative to reading the file.

    .venv/bin/python bench/bench_preflight.py DIST [--repeat N]

For every edition dist/manifest.json lists, reads the PDF once (the content
streams, fonts and tags every check shares) and then runs each registered
check on it; prints per check the best of N times summed over the editions,
and that time as a share of the shared read measured in the same run. Absolute
times depend on the machine; the ratios are what to compare.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from booklet.core import Edition
from booklet.manifest import load_manifest
from booklet.preflight import CHECKS, Document


def best(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    entries = load_manifest(args.dist)
    read, per_check, pages = 0.0, dict.fromkeys((c.name for c in CHECKS), 0.0), 0
    for name, entry in sorted(entries.items()):
        edition = Edition(str(entry["language"]), str(entry["format"]))

        def load(name=name, edition=edition, entry=entry) -> Document:
            doc = Document(args.dist / name, edition, entry=entry)
            doc.pages, doc.elements  # noqa: B018 (read what the checks share)
            return doc

        read += best(lambda: load().close(), args.repeat)
        doc = load()
        pages += len(doc.pages)
        for registered in CHECKS:
            if registered.group == "review":
                continue  # needs the project; reads no PDF
            per_check[registered.name] += best(lambda r=registered, d=doc: list(r.function(d)),
                                               args.repeat)
        doc.close()
    count = len(entries)
    print(f"{count} edition(s), {pages} pages; shared read {read:.2f} s "
          f"({read / max(count, 1):.3f} s an edition)")
    for name, spent in sorted(per_check.items(), key=lambda item: -item[1]):
        if name == "review":
            continue
        print(f"  {name:12} {spent:7.3f} s  {spent / max(count, 1):.3f} s an edition  "
              f"{spent / read:6.1%} of the read")


if __name__ == "__main__":
    main()
