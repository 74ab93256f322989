"""The English handout as a reader gets it: real PDFs, read back."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pikepdf
import pytest
from pypdf import PdfReader

from booklet.build import build_edition
from booklet.errors import BookletError
from booklet.render import Edition

from conftest import PROJECTS, normalize, page_texts

EN_A4 = Edition("en", "a4")


@pytest.fixture(scope="module")
def pages(english_a4) -> list[str]:
    return [normalize(t) for t in page_texts(english_a4.path)]


def test_cover_shows_title_clinic_language_date_and_draft_notice(pages):
    cover = pages[0]
    for text in ("Aggressive NK-cell leukemia (ANKL)", "A plain-language guide",
                 "Example Hematology Clinic", "English", "November 1, 2026", "Version 1.0",
                 "Draft: not clinically reviewed"):
        assert text in cover


TITLES = ["What is ANKL?", "Warning signs", "What causes ANKL?", "How is ANKL diagnosed?",
          "How is ANKL treated?", "What can I expect?", "Living well with ANKL",
          "Questions to ask your care team", "Words you may hear", "My records",
          "Important: about this handout"]


def first_pages(pages: list[str]) -> dict[str, int]:
    """Page number (1-based) where each chapter starts: its title opens the page."""
    starts = {}
    for number, text in enumerate(pages, start=1):
        for title in TITLES:
            if text.startswith(title) and title not in starts:
                starts[title] = number
    return starts


def test_chapters_appear_in_order(pages):
    starts = first_pages(pages)
    assert list(starts) == TITLES
    assert list(starts.values()) == sorted(starts.values())


def test_contents_page_numbers_are_the_real_pages(english_a4, pages):
    contents = page_texts(english_a4.path)[1]
    entries = re.findall(r"^(.+?)\s*\.{3,}\s*(\d+)$", contents, flags=re.M)
    assert [title for title, _ in entries] == TITLES
    starts = first_pages(pages)
    for title, number in entries:
        assert starts[title] == int(number), title


def test_footer_has_page_x_of_y_disclaimer_and_version_on_every_page(pages):
    total = len(pages)
    for number, text in enumerate(pages, start=1):
        if number == 1:
            continue  # the cover has no page furniture
        assert f"Page {number} of {total}" in text
        assert "General information only, not medical advice." in text


def test_disclaimer_box_at_the_end_before_back_cover(pages):
    assert "Important: about this handout" in pages[-2]
    assert "It is not medical advice" in pages[-2]
    back = pages[-1]
    for text in ("+1 555 0100", "handouts@example.org", "Published", "Next review",
                 "November 1, 2027", "Sources", "Version", "English"):
        assert text in back


def test_draft_mark_on_every_page(pages):
    assert all("DRAFT" in text for text in pages)


def test_regimen_table_figures_and_caption(pages):
    text = " ".join(pages)
    assert "73% at 5 years" in text
    assert "Progression-free survival" in text
    assert "does not name the studies" in text


def test_pdf_ua_structure_language_title_and_bookmarks(english_a4):
    with pikepdf.open(english_a4.path) as pdf:
        root = pdf.Root
        assert str(root.Lang) == "en"
        assert root.MarkInfo.Marked
        assert "/StructTreeRoot" in root
        assert root.ViewerPreferences.DisplayDocTitle
        assert str(pdf.docinfo.Title) == "Aggressive NK-cell leukemia (ANKL)"
        assert str(pdf.docinfo.Author) == "Example Hematology Clinic"
        assert str(pdf.docinfo.CreationDate).startswith("D:20261101")
        with pdf.open_outline() as outline:
            titles = [item.title for item in outline.root]
        assert "What is ANKL?" in titles and "Words you may hear" in titles
        kinds = set()

        def walk(node, depth=0):
            if depth > 40:
                return
            if isinstance(node, pikepdf.Dictionary) and "/S" in node:
                kinds.add(str(node.S))
            kids = node.get("/K") if isinstance(node, pikepdf.Dictionary) else None
            if isinstance(kids, pikepdf.Array):
                for kid in kids:
                    walk(kid, depth + 1)
            elif isinstance(kids, pikepdf.Dictionary):
                walk(kids, depth + 1)

        walk(root.StructTreeRoot)
        assert {"/H1", "/H2", "/P", "/L", "/LI", "/Table", "/TH", "/TD"} <= kinds


def test_contents_links_jump_to_chapters(english_a4):
    reader = PdfReader(english_a4.path)
    links = [a for a in reader.pages[1].get("/Annots", []) if a.get_object()["/Subtype"] == "/Link"]
    assert len(links) >= 11


def test_fonts_embedded_and_subset(english_a4):
    with pikepdf.open(english_a4.path) as pdf:
        for page in pdf.pages:
            for font in page.Resources.get("/Font", {}).values():
                name = str(font.BaseFont)
                assert re.match(r"^/[A-Z]{6}\+", name), name
                descriptor = font.DescendantFonts[0].FontDescriptor
                assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))


def _text_sizes(page) -> list[float]:
    sizes = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip():
            scale = (tm[0] * cm[0] + tm[1] * cm[2]) if tm and cm else 1
            sizes.append(round(font_size * abs(scale or 1), 1))

    page.extract_text(visitor_text=visit)
    return sizes


def test_body_text_at_least_12pt(english_a4):
    reader = PdfReader(english_a4.path)
    sizes = []
    for page in reader.pages[2:6]:
        sizes.extend(_text_sizes(page))
    body = max(set(sizes), key=sizes.count)
    assert body >= 12


def test_lines_at_most_75_characters(english_a4):
    reader = PdfReader(english_a4.path)
    longest = 0
    for page in reader.pages[2:20]:
        for line in page.extract_text().splitlines():
            if "Page " in line and " of " in line:
                continue
            longest = max(longest, len(line.strip()))
    assert 30 < longest <= 75


def test_two_builds_are_byte_identical(tmp_path: Path, english_a4):
    again = build_edition(Path(__file__).resolve().parents[1], EN_A4, tmp_path)
    assert again.path.read_bytes() == english_a4.path.read_bytes()


def test_source_date_epoch_sets_modification_date(tmp_path: Path, monkeypatch, handout):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01
    first = build_edition(handout, EN_A4, tmp_path / "a").path.read_bytes()
    second = build_edition(handout, EN_A4, tmp_path / "b").path.read_bytes()
    assert first == second
    with pikepdf.open(tmp_path / "a" / "ankl-guide_en_a4.pdf") as pdf:
        assert str(pdf.docinfo.ModDate).startswith("D:20260101000000")
        assert str(pdf.docinfo.CreationDate).startswith("D:20261101")


@pytest.fixture(scope="module")
def long_table(tmp_path_factory) -> Path:
    return build_edition(PROJECTS / "long-table", EN_A4, tmp_path_factory.mktemp("lt")).path


def test_table_header_repeats_on_each_page_it_crosses(long_table):
    texts = page_texts(long_table)
    table_pages = [t for t in texts if re.search(r"Row \d\d", t)]
    assert len(table_pages) >= 2
    for text in table_pages:
        assert normalize(text).count("Name Medicines Note") == 1


def test_no_table_row_splits_across_pages(long_table):
    texts = [normalize(t) for t in page_texts(long_table)]
    for number in range(1, 41):
        holders = [t for t in texts if f"Row {number:02d}" in t]
        assert len(holders) == 1
        page = holders[0]
        # The whole row, to its last words, is on the page that starts it.
        assert f"alpha{number}" in page and f"gamma{number}" in page
        assert f"Line one of row {number:02d}. A second sentence makes this row taller" in page
        assert "so a split would show" in page


def test_remote_resource_in_a_stylesheet_is_refused(tmp_path: Path, handout):
    (handout / "styles").mkdir()
    (handout / "styles" / "custom.css").write_text(
        "body { background: url(https://example.org/track.png); }")
    with pytest.raises(BookletError, match="remote resources are not allowed"):
        build_edition(handout, EN_A4, tmp_path)


def test_failed_build_leaves_previous_pdf_intact(tmp_path: Path, handout):
    out = tmp_path / "out"
    good = build_edition(handout, EN_A4, out).path
    before = good.read_bytes()
    chapter = handout / "chapters" / "01-what-is-ankl.md"
    chapter.write_text(chapter.read_text() + "\n![x](https://example.org/x.png)\n")
    with pytest.raises(BookletError):
        build_edition(handout, EN_A4, out)
    assert good.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [good.name]


def test_project_template_overrides_theme(tmp_path: Path, handout):
    (handout / "templates").mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "templates" / "disclaimer.html",
                handout / "templates" / "disclaimer.html")
    path = handout / "templates" / "disclaimer.html"
    path.write_text(path.read_text().replace("<p>{{ disclaimer }}</p>",
                                             "<p>Own words: {{ disclaimer }}</p>"))
    result = build_edition(handout, EN_A4, tmp_path)
    assert "Own words:" in normalize(" ".join(page_texts(result.path)))
