"""Tests for what the reader writes on: tick-box lists and record forms.

A small fixture project (tests/projects/forms) is laid out once per edition
and its WeasyPrint boxes are read back (which page a form lands on, how wide
its columns are); the written PDF is read back for text and tags.
"""

from __future__ import annotations

import shutil
from functools import cache
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader
from test_pages import lay_out as lay_out_edition

from booklet import content, i18n, render
from booklet.build import build_edition
from booklet.core import BookletError, Edition
from booklet.project import load_project

from conftest import normalize

FIXTURE = Path(__file__).resolve().parent / "projects" / "forms"
LANGUAGES = ("en", "ar", "zh-Hans")
PAPER = ("a4", "letter", "a5-booklet", "half-letter-booklet", "large-print")
TASKS = ("I know how to keep the cast dry.", "I know which signs mean I should call.",
         "I have a date for my next visit.")


@pytest.fixture(scope="module")
def project():
    return load_project(FIXTURE)


@pytest.fixture(scope="module")
def english_a4(tmp_path_factory, project) -> Path:
    return build_edition(project, Edition("en", "a4"), tmp_path_factory.mktemp("forms")).path


@cache
def lay_out(language: str, fmt: str):
    """Lay one edition of the fixture out the way the build does (test_pages.lay_out)."""
    return lay_out_edition(load_project(FIXTURE), language, fmt).document


def _boxes(page):
    """The outermost box of each element on a laid-out page, in document order
    (an element's line and text boxes carry its tag too)."""
    seen = set()
    stack = [page._page_box]
    while stack:
        box = stack.pop(0)
        element = getattr(box, "element", None)
        if getattr(box, "element_tag", None) and id(element) not in seen:
            seen.add(id(element))
            yield box
        stack[0:0] = list(getattr(box, "children", []))


def _classes(box) -> set[str]:
    return set((box.element.get("class") or "").split())


def _text(box) -> str:
    return "".join(getattr(b, "text", "") for b in box.descendants())


# --- tick-box lists -------------------------------------------------------------

def test_task_list_prints_a_drawn_box_with_alt_text(english_a4):
    """Each "- [ ] " item gets an image of an empty box, tagged as a Figure whose alt
    text says what it is; no "[ ]" and no checkbox glyph reach the page."""
    reader = PdfReader(english_a4)
    text = normalize(" ".join(page.extract_text() or "" for page in reader.pages))
    for task in TASKS:
        assert task in text
    assert "[ ]" not in text and "\u2610" not in text
    with pikepdf.open(english_a4) as document:
        figures = [obj for obj in document.objects
                   if isinstance(obj, pikepdf.Dictionary) and obj.get("/S") == "/Figure"
                   and str(obj.get("/Alt", "")) == render.TICK_BOX_ALT]
    assert len(figures) == len(TASKS)  # the plain list after it gets none


def test_task_list_boxes_hang_beside_each_item():
    document = lay_out("en", "a4")
    boxes = [b for page in document.pages for b in _boxes(page)]
    ticks = [b for b in boxes if b.element_tag == "img" and "tick-box" in _classes(b)]
    items = [b for b in boxes if b.element_tag == "li" and "task" in _classes(b)]
    assert len(ticks) == len(items) == len(TASKS)
    for tick in ticks:
        assert tick.width == pytest.approx(tick.height) and tick.width > 10  # a box, not a dot
    plain = [b for b in boxes if b.element_tag == "li" and "task" not in _classes(b)
             and "the cast clinic letter" in _text(b)]
    assert plain  # an ordinary list keeps its bullets


def test_task_marker_is_not_part_of_the_translated_text(project):
    path = FIXTURE / "chapters" / "01-checklist.md"
    blocks = i18n.markdown_blocks(project, path, path.read_text(encoding="utf-8"))
    items = [b.text for b in blocks if b.kind == "item"]
    assert items == [*TASKS, "the cast clinic letter", "a list of your medicines"]


def test_a_translated_task_list_keeps_its_boxes(tmp_path):
    """The catalog's text replaces the item's; the box stays in front of it."""
    from babel.messages.pofile import read_po, write_po

    shutil.copytree(FIXTURE, tmp_path / "p")
    po = tmp_path / "p" / "locales" / "zh-Hans" / "LC_MESSAGES" / "booklet.po"
    with po.open("rb") as f:
        catalog = read_po(f)
    catalog[TASKS[0]].string = "我知道如何保持石膏干燥。"
    with po.open("wb") as f:
        write_po(f, catalog)
    project = load_project(tmp_path / "p")
    localized = i18n.localize(project, "zh-Hans")
    chapter = content.load_chapters(project, "zh-Hans",
                                    translate_chapter=localized.translate_chapter,
                                    translate=localized.translate)[0]
    assert chapter.html.count(content.TICK_BOX) == len(TASKS)
    assert content.TICK_BOX + "我知道如何保持石膏干燥。" in chapter.html


# --- record forms ---------------------------------------------------------------

def test_temperature_unit_from_the_project_in_the_header(english_a4):
    text = " ".join(normalize(p.extract_text() or "") for p in PdfReader(english_a4).pages)
    assert "Temperature (°F)" in text
    chinese = lay_out("zh-Hans", "a4")
    heads = [_text(b) for page in chinese.pages for b in _boxes(page) if b.element_tag == "th"]
    # The fixture's catalog label, full-width brackets (a zero-width space between words).
    assert "体温（°F）" in [head.replace("\u200b", "") for head in heads]
    arabic = lay_out("ar", "a4")
    heads = [_text(b) for page in arabic.pages for b in _boxes(page) if b.element_tag == "th"]
    temperature = next(head for head in heads if "الحرارة" in head)
    # The unit is isolated left to right, so it never reads "(F°)" in a right-to-left line.
    assert "(\u2066°" in temperature and temperature.replace("\u2066", "").replace(
        "\u2069", "").endswith("(°F)")


@pytest.mark.parametrize("value", ["K", "celsius", 37])
def test_temperature_unit_is_validated(tmp_path, value):
    shutil.copytree(FIXTURE, tmp_path / "p")
    config = tmp_path / "p" / "booklet.toml"
    literal = f'"{value}"' if isinstance(value, str) else str(value)
    config.write_text(config.read_text().replace('temperature_unit = "F"',
                                                 f"temperature_unit = {literal}"))
    with pytest.raises(BookletError) as caught:
        load_project(tmp_path / "p")
    assert "clinic.temperature_unit" in str(caught.value)
    assert '"C"' in str(caught.value) and '"F"' in str(caught.value)


def test_temperature_unit_defaults_to_celsius(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "p")
    config = tmp_path / "p" / "booklet.toml"
    config.write_text(config.read_text().replace('temperature_unit = "F"\n', ""))
    assert load_project(tmp_path / "p").clinic.temperature_unit == "C"


def test_column_options_are_validated(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "p")
    table = tmp_path / "p" / "chapters" / "diary.toml"
    table.write_text(table.read_text().replace('width = "narrow"', 'width = "tiny"', 1))
    with pytest.raises(BookletError) as caught:
        content.load_chapters(load_project(tmp_path / "p"))
    assert "diary.toml" in str(caught.value) and "width = 'tiny'" in str(caught.value)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("fmt", PAPER)
def test_each_form_fits_one_page(language, fmt):
    """The form's heading, its instructions and every visible row share one page."""
    document = lay_out(language, fmt)
    pages = {index for index, page in enumerate(document.pages) for box in _boxes(page)
             if "form-page" in _classes(box) or "record-form" in _classes(box)}
    assert len(pages) == 1, (language, fmt, pages)
    page = document.pages[pages.pop()]
    rows = [b for b in _boxes(page) if b.element_tag == "tr"]
    assert len(rows) >= 6  # the header and at least five rows to write in
    heading = [b for b in _boxes(page) if b.element_tag == "h2"]
    assert len(heading) == 1  # "Symptom diary", in the edition's language
    instructions = [b for b in _boxes(page) if b.element_tag == "p"
                    and "how bad it is from 0" in _text(b)]
    assert len(instructions) == 1  # said once, not again as a caption
    if fmt == "large-print":  # turned sideways so 18 pt columns stay wide enough
        assert page.width > page.height
    else:
        assert page.width < page.height


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("fmt", ("a4", "a5-booklet", "large-print"))
def test_form_columns_are_sized_by_content(language, fmt):
    document = lay_out(language, fmt)
    heads = {b.element.get("class").split()[0]: b for page in document.pages
             for b in _boxes(page) if b.element_tag == "th"
             and (b.element.get("class") or "").startswith("col-")}
    width = {key: box.border_width() for key, box in heads.items()}
    for wide in ("col-symptom", "col-notes"):
        for narrow in ("col-severity", "col-temperature", "col-date"):
            assert width[wide] > width[narrow], (wide, narrow, width)


def test_screen_edition_leaves_the_forms_out():
    document = lay_out("en", "screen")
    rows = [b for page in document.pages for b in _boxes(page) if b.element_tag == "tr"]
    assert rows == []


# --- the logo -------------------------------------------------------------------

@pytest.mark.parametrize(("name", "data"), [
    ("logo.png", b"not a png at all"),
    ("logo.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><rect></svg>"),
    ("logo.gif", b"GIF89a"),
])
def test_unreadable_logo_is_a_problem_naming_the_key(tmp_path, name, data):
    shutil.copytree(FIXTURE, tmp_path / "p")
    (tmp_path / "p" / "assets" / name).write_bytes(data)
    config = tmp_path / "p" / "booklet.toml"
    config.write_text(config.read_text().replace('"assets/logo.svg"', f'"assets/{name}"'))
    with pytest.raises(BookletError) as caught:
        load_project(tmp_path / "p")
    assert "clinic.logo" in str(caught.value) and name in str(caught.value)


def test_a_longer_form_runs_on_without_a_blank_page(tmp_path):
    """A project's form with more rows than a page holds continues between rows,
    its header repeated; nothing is pushed ahead of it to leave an empty page."""
    shutil.copytree(FIXTURE, tmp_path / "p")
    table = tmp_path / "p" / "chapters" / "diary.toml"
    table.write_text(table.read_text().replace("blank_rows = 14", "blank_rows = 40"))
    result = build_edition(tmp_path / "p", Edition("en", "a4"), tmp_path / "out")
    pages = [normalize(page.extract_text() or "") for page in PdfReader(result.path).pages]
    start = next(i for i, text in enumerate(pages) if "Symptom diary" in text)
    assert "How bad (0-10)" in pages[start]  # the heading keeps its form
    assert "How bad (0-10)" in pages[start + 1]  # the header repeats where it runs on
    assert "These pages are for you to write on." in pages[start - 1]  # no blank page


def test_a_short_page_before_a_landscape_form_is_not_a_hole(tmp_path):
    """Large print turns a form's page sideways, so the text before it must end
    its page: the page-hole check knows a change of page shape forces that break."""
    shutil.copytree(FIXTURE, tmp_path / "p")
    records = next(p for p in (tmp_path / "p" / "chapters").glob("*.md")
                   if "::: newpage" in p.read_text())
    records.write_text(records.read_text().replace("::: newpage\n", "", 1))
    result = build_edition(tmp_path / "p", Edition("en", "large-print"), tmp_path / "out")
    pages = [normalize(page.extract_text() or "") for page in PdfReader(result.path).pages]
    short = next(i for i, text in enumerate(pages)
                 if "These pages are for you to write on." in text)
    assert "Symptom diary" not in pages[short]  # the form needed a page of its own
    assert "Symptom diary" in pages[short + 1]
    assert not [p for p in result.problems if p.code == "page-hole"], result.problems
