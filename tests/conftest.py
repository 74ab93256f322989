"""Shared fixtures: real projects on disk, real builds, PDFs read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from handout_copy import HANDOUT_PARTS, REPO, copy_handout  # noqa: F401 (tests import them)

PROJECTS = Path(__file__).resolve().parent / "projects"


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
