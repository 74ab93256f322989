"""Tests for the pages a reader holds: help numbers, box kinds, footers, cover, links.

They read the laid-out boxes (WeasyPrint's page and margin boxes) or the
written PDF of the small fixture project tests/projects/clinic, built once.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader

from booklet import content, i18n, pdf, render
from booklet.build import build_edition
from booklet.core import FORMATS, Edition
from booklet.project import load_project

from conftest import normalize

FIXTURE = Path(__file__).resolve().parent / "projects" / "clinic"


@pytest.fixture(scope="module")
def clinic():
    return load_project(FIXTURE)


@pytest.fixture(scope="module")
def built(tmp_path_factory, clinic) -> dict[tuple[str, str], Path]:
    out = tmp_path_factory.mktemp("pages")
    editions = [("en", "a4"), ("es", "a4"), ("en", "screen")]
    return {(lang, fmt): build_edition(clinic, Edition(lang, fmt), out).path
            for lang, fmt in editions}


def _texts(path: Path) -> list[str]:
    return [normalize(page.extract_text() or "") for page in PdfReader(path).pages]


def lay_out(project, language: str, fmt: str):
    """Lay an edition out the way the build does, and keep the page boxes."""
    localized = i18n.localize(project, language)
    chapters = content.load_chapters(project, language,
                                     translate_chapter=localized.translate_chapter,
                                     translate=localized.translate)
    html = localized.finish(render.render_html(
        project, Edition(language, fmt), chapters, review=None,
        translations=localized.translations, text=localized.text))
    return pdf.layout_pdf(html, base_url=project.root,
                          allowed_roots=render.stylesheet_roots(project),
                          variant=FORMATS[fmt].pdf_variant)


def _margin_boxes(page, prefix: str):
    for child in page._page_box.children:
        keyword = getattr(child, "at_keyword", "") or ""
        if keyword.startswith(prefix):
            yield keyword, child


def _line_count(box) -> int:
    from weasyprint.formatting_structure import boxes

    return sum(isinstance(b, boxes.LineBox) for b in box.descendants())


def _extent(box) -> tuple[float, float]:
    """Left and right edge of the text actually set in a margin box."""
    from weasyprint.formatting_structure import boxes

    texts = [b for b in box.descendants() if isinstance(b, boxes.TextBox)]
    return (min(b.position_x for b in texts), max(b.position_x + b.width for b in texts))


def _text(box) -> str:
    return "".join(getattr(b, "text", "") for b in box.descendants())


def test_call_box_page_carries_the_clinic_numbers(built, clinic):
    for path in (built["en", "a4"], built["es", "a4"]):
        pages = _texts(path)
        trigger = "your calf is painful"  # untranslated in the fixture: the same in both
        box_pages = [text for text in pages if trigger in text]
        assert len(box_pages) >= 3  # the chapter, the "When to call" page, the back cover
        for text in box_pages:
            for number in (clinic.clinic.phone, clinic.clinic.after_hours,
                           clinic.clinic.emergency):
                assert number in text, (path.name, text)


def test_when_to_call_inside_front_and_on_back_cover(built, clinic):
    pages = _texts(built["en", "a4"])
    assert "When to call" in pages[1] and "When to call" in pages[-1]
    assert clinic.clinic.phone in pages[0]  # and the cover carries the numbers
    spanish = _texts(built["es", "a4"])
    assert "Cuándo llamar" in spanish[1]  # labels through the catalog
    assert "Llame a su equipo médico si" in spanish[1]  # the chapters' own call title


def test_no_patient_edition_prints_the_review_notes(built, clinic):
    assert clinic.review_notes
    for path in built.values():
        text = " ".join(_texts(path))
        for note in clinic.review_notes:
            assert note[:40] not in text, path.name


def test_shipped_handout_keeps_review_notes_out(english_a4):
    project = load_project(Path(__file__).resolve().parents[1])
    text = " ".join(_texts(english_a4.path))
    for note in project.review_notes:
        assert note[:50] not in normalize(text)


def test_cover_has_no_footer_or_page_number(built, clinic):
    cover = _texts(built["en", "a4"])[0]
    assert "Page 1" not in cover
    assert clinic.disclaimer_short not in cover
    assert cover.count(clinic.clinic.name) == 1


def test_box_kinds_carry_an_icon_with_alt_text(clinic):
    localized = i18n.localize(clinic, "es")
    chapters = content.load_chapters(clinic, "es", translate_chapter=localized.translate_chapter,
                                     translate=localized.translate)
    html = render.render_html(clinic, Edition("es", "a4"), chapters, review=None,
                              translations=localized.translations, text=localized.text)
    for kind in ("keypoints", "todo", "call"):
        assert f'icons/{kind}.svg" alt="' in html
    assert 'alt=""' not in html.split('class="box-icon"')[1][:200]


@pytest.mark.parametrize("language", ["en", "es", "ar"])
@pytest.mark.parametrize("fmt", ["a4", "a5-booklet", "large-print", "screen"])
def test_every_footer_is_one_line(clinic, language, fmt):
    layout = lay_out(clinic, language, fmt)
    footers = 0
    for number, page in enumerate(layout.document.pages, start=1):
        extents = []
        for keyword, box in _margin_boxes(page, "@bottom"):
            footers += 1
            assert _line_count(box) <= 1, (language, fmt, number, keyword, _text(box))
            assert box.style["font_size"] * 0.75 >= 9, (fmt, keyword)  # px to pt
            extents.append(_extent(box))
        # Set on one line, not run into the page number (nowrap text can overflow).
        extents.sort()
        assert all(left >= 0 and right <= page.width for left, right in extents), (
            language, fmt, number, extents, page.width)
        for (_, right), (left, _) in zip(extents, extents[1:], strict=False):
            assert right <= left, (language, fmt, number, extents)
    assert footers >= len(layout.document.pages) - 1  # every page but the cover


def test_screen_links_dial_and_mail(built, clinic):
    uris = []
    for page in PdfReader(built["en", "screen"]).pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A")
            if action and "/URI" in action:
                uris.append(str(action["/URI"]))
    assert "tel:+15550199" in uris
    assert f"mailto:{clinic.clinic.email}" in uris
    assert any(uri.startswith("https://") for uri in uris)


def test_missing_numbers_warn_naming_the_key(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "p")
    config = tmp_path / "p" / "booklet.toml"
    config.write_text("\n".join(line for line in config.read_text().splitlines()
                                if not line.startswith(("after_hours", "emergency"))))
    project = load_project(tmp_path / "p")
    assert any("clinic.after_hours" in w for w in project.warnings)
    assert any("clinic.emergency" in w for w in project.warnings)


def test_svg_figure_labels_are_catalog_entries_and_translate(built, clinic):
    found = [s for s in i18n.segments(clinic) if s.kind == "figure label"]
    assert [(s.msgid, s.file, s.line) for s in found] == [
        ("Thigh bone", "assets/knee.svg", 4), ("New knee joint", "assets/knee.svg", 5)]
    spanish = " ".join(_texts(built["es", "a4"]))
    assert "Fémur" in spanish and "Nueva articulación de rodilla" in spanish
    assert "Thigh bone" not in spanish
    assert "Thigh bone" in " ".join(_texts(built["en", "a4"]))
