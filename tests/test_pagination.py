"""Tests for pagination and line breaking: what a reader leafing through notices.

They read WeasyPrint's laid-out boxes (as tests/test_pages.py does for footers)
of the small fixture project tests/projects/pagination, each edition laid out
once for the module: running heads and footers on one line, the "When to
call" panel on page 2, no paragraph ending in a lone word that could have had
company, Chinese table heads wrapping between words and inside the page, and
no hyphenation where it does not help.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_pages import _line_count, _margin_boxes, _text, lay_out

from booklet.project import load_project

FIXTURE = Path(__file__).resolve().parent / "projects" / "pagination"
HEAD_LANGUAGES = ["en", "es", "ar"]
PRINT_FORMATS = ["a4", "a5-booklet", "half-letter-booklet", "large-print"]


@pytest.fixture(scope="module")
def project():
    return load_project(FIXTURE)


@pytest.fixture(scope="module")
def layouts(project):
    """Each (language, format) laid out once, on first use."""
    cache: dict[tuple[str, str], object] = {}

    def get(language: str, fmt: str):
        if (language, fmt) not in cache:
            cache[language, fmt] = lay_out(project, language, fmt)
        return cache[language, fmt]

    return get


def _boxes(box):
    yield box
    for child in getattr(box, "children", ()) or ():
        yield from _boxes(child)


def _page_of(layout, element_id: str) -> int:
    for number, page in enumerate(layout.document.pages, start=1):
        if any(getattr(b, "element", None) is not None and b.element.get("id") == element_id
               for b in _boxes(page._page_box)):
            return number
    raise AssertionError(f"#{element_id} is not laid out")


@pytest.mark.parametrize("language", HEAD_LANGUAGES)
@pytest.mark.parametrize("fmt", PRINT_FORMATS)
def test_running_heads_and_footers_are_one_line(layouts, language, fmt):
    layout = layouts(language, fmt)
    heads = 0
    for number, page in enumerate(layout.document.pages, start=1):
        for keyword, box in _margin_boxes(page, "@"):
            if not _text(box).strip():
                continue
            heads += keyword.startswith("@top")
            assert _line_count(box) <= 1, (language, fmt, number, keyword, _text(box))
    # The fixture's long chapter title is in a running head on some page.
    assert heads >= len(layout.document.pages) // 2


@pytest.mark.parametrize("language", HEAD_LANGUAGES)
@pytest.mark.parametrize("fmt", [*PRINT_FORMATS, "letter"])
def test_when_to_call_is_on_page_2(layouts, language, fmt):
    layout = layouts(language, fmt)
    assert _page_of(layout, "when-to-call-front") == 2
    assert _page_of(layout, "contents-title") in (2, 3)


def _lines(box):
    from weasyprint.formatting_structure import boxes

    return [child for child in box.children if isinstance(child, boxes.LineBox)]


def _line_text(line) -> str:
    return "".join(getattr(b, "text", "") for b in line.descendants()).replace("\u200b", "")


def _chapter_paragraphs(layout):
    """(page number, box) of every plain paragraph directly in a chapter."""
    from weasyprint.formatting_structure import boxes

    def walk(box, in_chapter: bool):
        element = getattr(box, "element", None)
        if isinstance(box, boxes.BlockBox) and getattr(box, "element_tag", "") == "section":
            in_chapter = "chapter" in (element.get("class") or "").split()
        if (in_chapter and isinstance(box, boxes.BlockBox)
                and getattr(box, "element_tag", "") == "p" and not element.get("class")):
            yield box
            return
        for child in getattr(box, "children", ()) or ():
            yield from walk(child, in_chapter)

    for number, page in enumerate(layout.document.pages, start=1):
        for box in walk(page._page_box, False):
            yield number, box


@pytest.mark.parametrize("fmt", ["a4", "a5-booklet", "large-print"])
def test_no_body_paragraph_ends_in_a_lone_short_word(layouts, fmt):
    layout = layouts("en", fmt)
    checked = 0
    for number, box in _chapter_paragraphs(layout):
        lines = _lines(box)
        if len(lines) < 2:
            continue
        checked += 1
        last = _line_text(lines[-1]).strip()
        previous = _line_text(lines[-2]).rstrip()
        hyphenated = previous.endswith(("-", "\u2010"))
        assert any(ch.isspace() for ch in last) or hyphenated or len(last) > 13, (
            fmt, number, previous, last)
    assert checked >= 5  # the fixture's paragraphs run over two lines or more


@pytest.mark.parametrize("fmt", ["a5-booklet", "half-letter-booklet", "screen"])
def test_chinese_table_heads_wrap_between_words_inside_the_page(layouts, fmt):
    from weasyprint.formatting_structure import boxes

    layout = layouts("zh-Hans", fmt)
    whole = {"治疗（方案）": [["治疗（方案）"], ["治疗", "（方案）"]],
             "无进展生存率": [["无进展生存率"], ["无进展", "生存率"]],
             "包含的药物": [["包含的药物"], ["包含的", "药物"]],
             "备注": [["备注"]]}
    seen = set()
    for number, page in enumerate(layout.document.pages, start=1):
        page_box = page._page_box
        left = page_box.margin_left
        right = page_box.margin_width() - page_box.margin_right
        for box in _boxes(page_box):
            if (isinstance(box, boxes.TableCellBox) and box.element_tag == "th"
                    and box.element.get("scope") == "col"):
                lines = [_line_text(line).strip() for line in box.descendants()
                         if isinstance(line, boxes.LineBox)]
                label = "".join(lines)
                assert lines in whole.get(label, []), (fmt, number, lines)
                seen.add(label)
            if isinstance(box, boxes.TableBox):
                for text in box.descendants():
                    if isinstance(text, boxes.TextBox) and text.text.strip():
                        assert left - 0.5 <= text.position_x, (fmt, number, text.text)
                        assert text.position_x + text.width <= right + 0.5, (
                            fmt, number, text.text)
    assert seen == set(whole)


def test_no_hyphenation_in_headings_box_titles_or_table_cells(layouts):
    layout = layouts("es", "a5-booklet")
    kinds = set()
    for page in layout.document.pages:
        for box in _boxes(page._page_box):
            element = getattr(box, "element", None)
            if element is None or not hasattr(box, "style"):
                continue
            tag, classes = element.tag, element.get("class") or ""
            if tag in ("h1", "h2", "h3", "th", "td", "caption") or "admonition-title" in classes:
                kinds.add(tag if "admonition-title" not in classes else "box title")
                assert box.style["hyphens"] in ("none", "manual"), (tag, classes, _text(box))
    assert {"h1", "h2", "th", "td", "box title"} <= kinds



def test_the_preflight_names_an_authors_page_break_as_the_cause(tmp_path):
    """A short page that ends at ``::: newpage`` is the author's: the warning says where."""
    import shutil

    from booklet.build import build_edition
    from booklet.core import Edition
    from booklet.preflight import preflight

    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns("locales"))
    (root / "chapters" / "03-forms.md").write_text(
        "---\ntitle: My notes\n---\n\nUse these pages in whatever way works for you.\n\n"
        "::: newpage\n\n## Before my visit\n\nWrite down what you want to ask.\n",
        encoding="utf-8")
    edition = Edition("en", "a4")
    result = build_edition(root, edition, root / "dist")
    holes = [p for p in preflight(result.path, edition, load_project(root))
             if p.code == "page-hole"]
    assert any("::: newpage in chapters/03-forms.md, line 7" in p.message for p in holes), holes


def _pages_holding(layout, css_class: str) -> list[int]:
    return [number for number, page in enumerate(layout.document.pages, start=1)
            if any(getattr(b, "element", None) is not None
                   and css_class in (b.element.get("class") or "").split()
                   for b in _boxes(page._page_box))]


def test_a_call_box_is_never_split_from_its_numbers(tmp_path):
    """Wherever the text before it ends, a call box (title, triggers and the
    clinic's numbers at its end) lies on one page; shifted down line by line,
    the fixture's box would otherwise straddle an A5 page break."""
    import shutil

    root = tmp_path / "p"
    shutil.copytree(FIXTURE, root)
    chapter = root / "chapters" / "01-questions.md"
    text = chapter.read_text(encoding="utf-8")
    filler = "Call sooner rather than later.\n\n"
    spans = []
    for lines in range(0, 16, 2):
        chapter.write_text(text.replace("## When should I call?\n",
                                        "## When should I call?\n\n" + filler * lines),
                           encoding="utf-8")
        layout = lay_out(load_project(root), "en", "a5-booklet")
        spans.append(_pages_holding(layout, "call"))
    assert all(len(pages) == 1 for pages in spans), spans
    assert len({pages[0] for pages in spans}) > 1  # the filler did move the box
