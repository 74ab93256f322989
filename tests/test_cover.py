"""Tests for the cover: laid-out boxes of the fixture project tests/projects/forms in
English, Arabic and Chinese across the page formats, and one written PDF read back."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader
from test_forms import _boxes, _classes, lay_out

from booklet.build import build_edition
from booklet.core import Edition
from booklet.project import load_project

from conftest import normalize

FIXTURE = Path(__file__).resolve().parent / "projects" / "forms"
LANGUAGES = ("en", "ar", "zh-Hans")
FORMATS = ("a4", "letter", "a5-booklet", "half-letter-booklet", "large-print", "screen")


@pytest.fixture(scope="module")
def project():
    return load_project(FIXTURE)


@pytest.fixture(scope="module")
def arabic_booklet(tmp_path_factory, project):
    return build_edition(project, Edition("ar", "a5-booklet"), tmp_path_factory.mktemp("cover"))


@pytest.fixture(scope="module")
def arabic_a5(arabic_booklet) -> Path:
    return arabic_booklet.path


def _part(page, name: str):
    found = [box for box in _boxes(page) if name in _classes(box)]
    assert found, name
    return found[0]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("fmt", FORMATS)
def test_help_numbers_sit_in_the_lower_third(language, fmt):
    """The cover is one page; its help numbers are in the lower third of it, below
    (never over) the title and the drawing."""
    document = lay_out(language, fmt)
    cover = document.pages[0]
    assert not any("cover" in _classes(box) for page in document.pages[1:]
                   for box in _boxes(page))  # the cover never runs on to page 2
    upper, art, lower = (_part(cover, name) for name in ("cover-upper", "cover-art",
                                                         "cover-lower"))
    help_box = _part(cover, "cover-help")
    page_box = cover._page_box
    top = page_box.margin_top
    height = page_box.height - page_box.margin_top - page_box.margin_bottom
    assert help_box.position_y >= top + height * 2 / 3 - 1, (language, fmt)
    assert upper.position_y + upper.margin_height() <= art.position_y + 0.5
    assert art.position_y + art.margin_height() <= lower.position_y + 0.5
    bottom = lower.position_y + lower.margin_height()
    assert bottom <= page_box.margin_height() - page_box.margin_bottom + 0.5
    assert art.background.layers[0].image is not None  # the calm drawing is there


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_page_number_or_footer_on_the_cover(fmt):
    cover = lay_out("en", fmt).pages[0]
    margin_text = [
        "".join(getattr(b, "text", "") for b in child.descendants())
        for child in cover._page_box.children if getattr(child, "at_keyword", None)]
    assert not any(text.strip() for text in margin_text), margin_text


def test_cover_carries_logo_name_once_edition_and_numbers(arabic_a5, project):
    cover = normalize(PdfReader(arabic_a5).pages[0].extract_text() or "")
    clinic = project.clinic
    assert cover.count(clinic.name) == 1
    for number in (clinic.phone, clinic.after_hours, clinic.emergency):
        assert number in cover
    assert "العربية" in cover  # the language, in itself
    assert project.version in cover
    with pikepdf.open(arabic_a5) as document:
        alts = [str(obj.get("/Alt")) for obj in document.objects
                if isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == "/Figure"
                and obj.get("/Alt") is not None]
    assert clinic.name in alts  # the logo, named for a screen reader


def test_cover_drawing_ships_with_the_theme():
    from booklet.project import theme_dir

    drawing = theme_dir() / "styles" / "cover-art.svg"
    assert drawing.read_text().lstrip().startswith("<svg")


def test_built_sheets_carry_the_printing_note(arabic_booklet):
    """The build hands the edition's note to the imposition: on A4 it is shown on
    screen and never printed (tests/test_impose.py reads both kinds of sheet)."""
    from booklet.render import PRINTING_NOTE

    with pikepdf.open(arabic_booklet.sheets) as sheets:
        note = sheets.pages[0].obj.Annots[0]
        # The fixture's catalog lacks it: English, isolated in the right-to-left edition.
        assert str(note.Contents).strip("\u2066\u2069\u200e\u200f") == PRINTING_NOTE
        assert int(note.F) & 4 == 0
        assert sheets.Root.ViewerPreferences.Duplex == "/DuplexFlipShortEdge"


def test_project_asks_for_a_sheet_with_room_for_the_note(tmp_path):
    """[sheets] a5-booklet = "sra4": the note is printed above the pages, outside the trim."""
    import shutil

    from booklet.render import PRINTING_NOTE

    shutil.copytree(FIXTURE, tmp_path / "p")
    config = tmp_path / "p" / "booklet.toml"
    config.write_text(config.read_text() + '\n[sheets]\na5-booklet = "sra4"\n')
    result = build_edition(tmp_path / "p", Edition("en", "a5-booklet"), tmp_path / "out")
    with pikepdf.open(result.sheets) as sheets:
        assert [round(float(v)) for v in sheets.pages[0].mediabox] == [0, 0, 907, 638]
        assert "/Annots" not in sheets.pages[0].obj
    assert PRINTING_NOTE in normalize(PdfReader(result.sheets).pages[0].extract_text())


@pytest.mark.parametrize(("table", "key"), [('a5-booklet = "a3"', "sheets.a5-booklet"),
                                            ('a4 = "sra4"', "sheets.a4")])
def test_sheets_setting_is_validated(tmp_path, table, key):
    import shutil

    from booklet.core import BookletError

    shutil.copytree(FIXTURE, tmp_path / "p")
    config = tmp_path / "p" / "booklet.toml"
    config.write_text(config.read_text() + f"\n[sheets]\n{table}\n")
    with pytest.raises(BookletError, match=key):
        load_project(tmp_path / "p")
