"""Shared fixtures: real projects on disk, real builds, PDFs read back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECTS = Path(__file__).resolve().parent / "projects"
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


@pytest.fixture
def handout(tmp_path: Path) -> Path:
    """A private copy of the ANKL handout that a test may change."""
    return copy_handout(tmp_path / "handout")


@pytest.fixture(scope="session")
def english_a4(tmp_path_factory):
    """The English A4 edition of the shipped handout, built once per test session."""
    from booklet.build import build_edition
    from booklet.render import Edition

    out = tmp_path_factory.mktemp("english-a4")
    return build_edition(REPO, Edition("en", "a4"), out)


def page_texts(path: Path) -> list[str]:
    """Text of every page, as a reader's PDF viewer would extract it."""
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def normalize(text: str) -> str:
    return " ".join(text.split())
