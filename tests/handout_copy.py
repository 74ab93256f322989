"""A private copy of the repository's own handout, for the tests and for bench/run.py.

One module both import (the tests through conftest.py, the benchmark by path),
so what "the handout" means is written once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

HANDOUT_PARTS = ("booklet.toml", "chapters", "assets", "locales", "reviews.toml")


def copy_handout(dest: Path) -> Path:
    """Copy the repository's own ANKL handout project (content only) to dest."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in HANDOUT_PARTS:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name)
        elif source.is_file():
            shutil.copy2(source, dest / name)
    return dest
