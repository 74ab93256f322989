"""Translated editions: catalogs, fallbacks, parity checks, scripts and fonts.

Real PO files written and read by Babel, real builds read back with pypdf and
pikepdf, pixels with pypdfium2. Each shipped translation is built once (A4) for
the module; the five-script fixture (tests/projects/five-scripts: en, fr, ja,
he, hi, no catalogs) once too. Everything else works on catalogs, not PDFs.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from babel import Locale
from babel.dates import format_date as babel_date
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from booklet import i18n
from booklet.build import build_all, build_edition
from booklet.check import font_problems
from booklet.cli import main
from booklet.content import load_chapters
from booklet.errors import BookletError
from booklet.project import load_project
from booklet.render import Edition, format_date, language_name
from booklet.review import approval, approve, catalog_path

from conftest import PROJECTS, REPO, copy_handout, normalize, page_texts

SHIPPED = ("es", "pt-BR", "zh-Hans", "ar")
FIVE = PROJECTS / "five-scripts"
MM = 72 / 25.4


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> dict[str, object]:
    """The four shipped translations in A4, built once for the module."""
    out = tmp_path_factory.mktemp("shipped")
    results = build_all(load_project(REPO), list(SHIPPED), ["a4"], out, jobs=2)
    return {r.edition.language: r for r in results}


@pytest.fixture(scope="module")
def five(tmp_path_factory) -> dict[str, object]:
    """The five-script fixture: every edition, no catalogs at all."""
    root = tmp_path_factory.mktemp("five") / "project"
    shutil.copytree(FIVE, root)
    results = build_all(load_project(root), None, ["a4"], root / "dist", jobs=2)
    return {r.edition.language: r for r in results}


def _five_copy(tmp_path: Path) -> Path:
    root = tmp_path / "five"
    shutil.copytree(FIVE, root)
    return root


def _set_translations(po: Path, language: str, translations: dict[str, str]) -> dict[str, int]:
    """Fill msgstrs in a PO file with Babel; return the msgid line of each entry."""
    with po.open("rb") as f:
        catalog = read_po(f, locale=i18n.babel_locale_name(language))
    for msgid, text in translations.items():
        message = catalog.get(msgid) or catalog.get(msgid, i18n.TABLE_CONTEXT)
        assert message is not None, msgid
        message.string = text
        message.flags.discard("fuzzy")
    po.write_bytes(i18n._po_bytes(catalog))
    lines = po.read_text(encoding="utf-8").split("\n")
    found = {}
    for msgid in translations:
        first = f'msgid "{msgid}"'
        for number, line in enumerate(lines, start=1):
            if line == first or (line == 'msgid ""' and
                                 lines[number].startswith(f'"{msgid[:30]}')):
                found[msgid] = number
                break
    return found


# --- catalogs: extract, update, status ----------------------------------------

def test_extract_lists_every_segment_with_its_file_and_line(handout: Path):
    project = load_project(handout)
    pot = i18n.extract(project)
    first = pot.read_bytes()
    assert i18n.extract(project).read_bytes() == first  # no creation-date churn
    text = first.decode()
    assert '"POT-Creation-Date: 2026-11-01 00:00+0000\\n"' in text
    catalog = read_po(io.BytesIO(first))
    heading = catalog.get("What does ANKL stand for?")
    assert heading.locations == [("chapters/01-what-is-ankl.md", 11)]
    assert ("chapters/01-what-is-ankl.md", 2) in catalog.get("What is ANKL?").locations
    assert len(catalog.get("Key points").locations) == 8  # one entry, every box
    # Tables: caption, labels, cells, each drug of a list column, with the file.
    drug = catalog.get("L-asparaginase", i18n.TABLE_CONTEXT)
    assert drug.locations[0][0] == "chapters/regimens.toml"
    assert catalog.get("Medicines in it", i18n.TABLE_CONTEXT) is not None
    # booklet.toml texts and the theme's own strings, plurals included.
    assert catalog.get(project.disclaimer_short).locations[0][0] == "booklet.toml"
    assert catalog.get(project.sources[0]) is not None
    page_of = catalog.get("Page {page} of {pages}")
    assert page_of.locations[0][0] == "booklet/render.py"
    assert "python-brace-format" in page_of.flags
    plural = catalog.get("Available in {n} language:")
    assert plural.id == ("Available in {n} language:", "Available in {n} languages:")
    assert catalog.get("General information only, not medical advice. Ask your care team.")
    assert catalog.get("Draft: not clinically reviewed").locations[0][0].startswith("templates/")


def test_update_marks_changed_english_fuzzy_and_removed_obsolete(handout: Path):
    chapter = handout / "chapters" / "01-what-is-ankl.md"
    text = chapter.read_text()
    old = "It is called aggressive because it moves fast."
    removed = "Learning about ANKL can help you make choices and feel less alone."
    assert old in text and removed in text
    chapter.write_text(text.replace(old, "It is called aggressive because it grows fast.")
                       .replace(f"    - {removed}\n", ""))
    config = handout / "booklet.toml"
    config.write_text(config.read_text().replace('"ar"]', '"ar", "fr"]'))
    project = load_project(handout)
    written = i18n.update(project)
    assert catalog_path(project, "fr") in written

    po = catalog_path(project, "es")
    with po.open("rb") as f:
        catalog = read_po(f, locale="es")
    changed = catalog.get("It is called aggressive because it grows fast.")
    assert changed.fuzzy and changed.string  # the old Spanish kept, to check
    assert f'#| msgid "{old}"' in po.read_text()  # Poedit shows what changed
    assert removed in catalog.obsolete and removed not in catalog
    with catalog_path(project, "fr").open("rb") as f:
        french = read_po(f)
    # A new catalog gets Babel's own rule for French, whatever CLDR version is installed.
    assert str(french.locale) == "fr"
    assert french.plural_forms == get_plural("fr").plural_forms  # CLDR, as Babel has it

    status = {s.language: s for s in i18n.status(project)}
    es = status["es"]
    assert (es.translated, es.fuzzy, es.untranslated) == (es.total - 1, 1, 0)
    assert status["fr"].untranslated == status["fr"].total and status["fr"].percent == 0.0
    assert status["en"].source and status["en"].percent == 100.0

    # A draft build shows the fuzzy segment in English, marked, and says where.
    localized = i18n.localize(project, "es")
    assert any("chapters/01-what-is-ankl.md:7: fuzzy" in w for w in localized.warnings)
    html = load_chapters(project, "es", translate_chapter=localized.translate_chapter,
                         translate=localized.translate)[0].html
    assert ('<span lang="en" class="fallback">It is called aggressive because it grows '
            "fast.</span>") in html


def test_status_command_table_and_json(handout: Path):
    runner = CliRunner()
    table = runner.invoke(main, ["i18n", "status", str(handout)])
    assert table.exit_code == 0, table.output
    assert re.search(r"^ar\s+\d+\s+0\s+0\s+100\.0%\s+draft", table.output, re.M), table.output
    data = json.loads(runner.invoke(main, ["i18n", "status", str(handout), "--json"]).output)
    rows = {row["language"]: row for row in data}
    assert set(rows) == {"en", *SHIPPED}
    for language in SHIPPED:
        row = rows[language]
        assert row["percent"] == 100.0 and row["fuzzy"] == 0 and row["untranslated"] == 0
        assert row["review"] == "draft" and row["approved_by"] is None
        assert not row["problems"] and not row["outdated"]
    assert rows["en"]["source"]


def test_extract_and_update_commands(tmp_path: Path):
    root = _five_copy(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["i18n", "extract", str(root)])
    assert result.exit_code == 0 and "booklet.pot" in result.output
    result = runner.invoke(main, ["i18n", "update", str(root)])
    assert result.exit_code == 0, result.output
    for language in ("fr", "ja", "he", "hi"):
        assert (root / "locales" / language / "LC_MESSAGES" / "booklet.po").is_file()


# --- building with a catalog ---------------------------------------------------

def test_strict_build_refuses_untranslated_segments_with_their_place(tmp_path: Path):
    root = _five_copy(tmp_path)
    with pytest.raises(BookletError) as caught:
        build_edition(root, Edition("fr", "a4"), tmp_path / "out", strict=True)
    message = str(caught.value)
    assert "--strict" in message and "untranslated" in message
    assert "chapters/01-line-care.md:9: untranslated: 'How do I keep it clean?'" in message
    assert "chapters/flushes.toml:1: untranslated: 'What to use when you flush" in message
    assert not (tmp_path / "out").exists()
    result = CliRunner().invoke(main, ["build", str(root), "--lang", "fr", "--strict"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "chapters/01-line-care.md:2" in result.output


def test_translated_text_reaches_the_page_and_strict_passes_when_complete(shipped):
    result = shipped["es"]
    assert not result.warnings or not any("untranslated" in w for w in result.warnings)
    pages = [normalize(t) for t in page_texts(result.path)]
    assert "¿Qué es la ANKL?" in pages[2]
    assert "Contenido" in pages[1] and "Página 2 de" in pages[1]
    # The date in the reader's format, as the installed CLDR writes it.
    assert babel_date(load_project(REPO).published, "long", locale="es") in pages[0]
    reader = PdfReader(result.path)
    assert str(reader.trailer["/Root"]["/Lang"]) == "es"
    assert reader.metadata.title == "Leucemia agresiva de células NK (ANKL)"
    assert result.path.name == "ankl-guide_es_a4.pdf"
    i18n.localize(load_project(REPO), "es", strict=True)  # nothing left to refuse


def test_fallback_is_marked_and_listed(five):
    result = five["fr"]
    assert any("56 untranslated" in w and "chapters/01-line-care.md:9" in w
               for w in result.warnings), result.warnings
    project = load_project(result.path.parent.parent)
    localized = i18n.localize(project, "fr")
    chapter = load_chapters(project, "fr", translate_chapter=localized.translate_chapter,
                            translate=localized.translate)[0]
    assert '<h2 id="line-care-how-do-i-keep-it-clean"><span lang="en" class="fallback">' \
        "How do I keep it clean?</span></h2>" in chapter.html
    assert '<span class="nobreak"><span lang="en" class="fallback">syringe</span>' \
        in chapter.html
    assert chapter.title == "Looking after your line"  # a template title: unwrapped
    # The visible marker: the source language's tag after each fallback segment,
    # and the legend under the contents.
    pages = page_texts(result.path)
    assert "HowdoIkeepitclean?en" in pages[2].replace(" ", "")
    assert "Notyettranslated:showninEnglish" in pages[1].replace(" ", "")
    # The marker is drawn as ink just after the heading's last letter.
    page = PdfReader(result.path).pages[2]
    ends = [x for text, x, _y in _chunks(page) if text == "en"]
    assert ends, "no 'en' marker drawn on the page"


def test_number_parity_error_names_the_po_line(handout: Path):
    project = load_project(handout)
    po = catalog_path(project, "es")
    english = ("The 5-year survival rate is often given as 30-40%. This means about 30 to "
               "40 out of every 100 people are alive 5 years after diagnosis.")
    wrong = ("La tasa de supervivencia a 5 años suele ser de 35-40%. Esto significa que "
             "unas 35 a 40 de cada 100 personas siguen vivas 5 años después.")
    lines = _set_translations(po, "es", {english: wrong})
    with pytest.raises(BookletError) as caught:
        i18n.localize(load_project(handout), "es")
    message = str(caught.value)
    assert f"{po}:{lines[english]}: number 30 of the English missing" in message
    assert f"{po}:{lines[english]}: number 35 not in the English" in message
    assert "chapters/06-what-to-expect.md:" in message
    with pytest.raises(BookletError):  # fatal in a draft build too: never print a wrong dose
        build_edition(handout, Edition("es", "a4"), handout / "dist")


def test_locale_digits_and_separators_count_as_the_same_number():
    assert i18n.number_values("73% at 5 years") <= i18n.number_values("٧٣٪ بعد ٥ سنوات")
    assert i18n.number_values("30-40%") <= i18n.number_values("۳۰-۴۰٪")
    assert "2.5" in i18n.number_values("2,5 mg") and "1000" in i18n.number_values("1 000")
    assert "1000" in i18n.number_values("1.000") and "1000" in i18n.number_values("1,000")
    assert i18n.parity_problems("Take 10 mL", "Tome 100 mL") == [
        "number 10 of the English missing (a dose, a percent or a count must not change)",
        "number 100 not in the English (a dose, a percent or a count must not change)"]
    assert i18n.parity_problems("73% at 5 years", "5年时73%") == []


def test_markup_parity_errors_name_the_po_line(tmp_path: Path):
    root = _five_copy(tmp_path)
    project = load_project(root)
    i18n.update(project)
    po = catalog_path(project, "fr")
    english = ("Wash your hands for 20 seconds before you touch the line. Read **the "
               "leaflet** on [our website](https://example.org/lines) for pictures.[^1]")
    broken = ("Lavez-vous les mains pendant 20 secondes avant de toucher la ligne. Lisez "
              "**le dépliant sur <b>notre site</b> pour les images.")
    lines = _set_translations(po, "fr", {english: broken, "Key points": "Points clés",
                                         "Flush the line every 7 days.":
                                         "Rincez la ligne tous les 7 jours."})
    with pytest.raises(BookletError) as caught:
        i18n.localize(load_project(root), "fr")
    message = str(caught.value)
    where = f"{po}:{lines[english]}:"
    for problem in ("unbalanced emphasis: 1 ** (bold) markers",
                    "link target 'https://example.org/lines' of the English is missing",
                    "footnote reference '1' of the English is missing",
                    "raw HTML <b> is not in the English"):
        assert f"{where} {problem}" in message, message
    assert "(English at chapters/01-line-care.md:11)" in message
    assert message.count(f"{po}:") == 5  # the header and four problems: good ones pass
    # The same catalog passes once the translation keeps the markup.
    _set_translations(po, "fr", {english: (
        "Lavez-vous les mains pendant 20 secondes avant de toucher la ligne. Lisez **le "
        "dépliant** sur [notre site](https://example.org/lines) pour les images.[^1]")})
    localized = i18n.localize(load_project(root), "fr")
    html = load_chapters(project, "fr", translate_chapter=localized.translate_chapter,
                         translate=localized.translate)[0].html
    assert "<strong>le dépliant</strong>" in html and 'href="https://example.org/lines"' in html
    assert "Points clés" in html


def test_translations_are_sanitized(tmp_path: Path):
    root = _five_copy(tmp_path)
    project = load_project(root)
    i18n.update(project)
    source = "Change the dressing every 7 days, or sooner if it gets wet."
    _set_translations(catalog_path(project, "fr"), "fr", {source: (
        "Changez le pansement tous les 7 jours <script>alert(1)</script>.")})
    with pytest.raises(BookletError, match="raw HTML <script>"):
        i18n.localize(load_project(root), "fr")


def test_plural_theme_strings_follow_the_language_rules():
    project = load_project(REPO)
    arabic = i18n.localize(project, "ar").translations
    forms = {n: arabic.ngettext("Language", "Languages", n) for n in (1, 2, 5, 11, 100)}
    assert forms[1] == "اللغة" and forms[2] == "اللغتان" and forms[5] == "اللغات"
    assert arabic.gettext("Contents") == "المحتويات"
    chinese = i18n.localize(project, "zh-Hans").translations
    assert chinese.ngettext("Available in {n} language:", "Available in {n} languages:",
                            5).format(n=5) == "提供5种语言版本："
    day = dt.date(2026, 11, 1)
    assert format_date(day, "pt-BR") == babel_date(day, "long", locale="pt_BR")
    assert format_date(day, "zh-Hans") == babel_date(day, "long", locale="zh_Hans")
    assert language_name("ar") == Locale.parse("ar").get_display_name("ar")
    assert language_name("zh-Hans").startswith(Locale.parse("zh").get_display_name("zh"))


# --- review fingerprints per language ------------------------------------------

def test_changing_one_catalog_unapproves_only_that_language(handout: Path):
    project = load_project(handout)
    for language in ("es", "ar"):
        approve(project, language, "Dr. Ada Reviewer", on=dt.date(2026, 11, 20))
    assert approval(project, "es") and approval(project, "ar")
    po = catalog_path(project, "es")
    po.write_text(po.read_text(encoding="utf-8").replace("Puntos clave", "Lo más importante"),
                  encoding="utf-8")
    project = load_project(handout)
    assert approval(project, "es") is None
    assert approval(project, "ar") is not None
    status = {s.language: s for s in i18n.status(project)}
    assert status["ar"].review == "approved" and status["ar"].approved_by == "Dr. Ada Reviewer"
    assert status["es"].review.startswith("draft")


# --- scripts, directions and fonts --------------------------------------------

def _chunks(page) -> list[tuple[str, float, float]]:
    """(text, x, y) of each text chunk in PDF user space."""
    found = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            found.append((text.strip(), tm[4] * cm[0] + tm[5] * cm[2] + cm[4],
                          tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

    page.extract_text(visitor_text=visit)
    return found


def _ink_columns(image, top: int, bottom: int, threshold: int = 160) -> list[int]:
    """x of every pixel column with dark ink between two rows (the DRAFT mark is light)."""
    gray = image.convert("L")
    width = gray.width
    pixels = gray.load()
    return [x for x in range(width)
            if any(pixels[x, y] < threshold for y in range(top, bottom))]


def test_arabic_contents_page_is_flush_right_with_page_number_on_the_left(shipped):
    path = shipped["ar"].path
    reader = PdfReader(path)
    # The contents follow the "When to call" panel on page 2 (or open page 3).
    dest = reader.named_destinations["contents-title"]
    number = reader.get_destination_page_number(dest)
    assert number in (1, 2)
    pdf = pypdfium2.PdfDocument(path)
    page = pdf[number]
    dpi = 100
    image = page.render(scale=dpi / 72).to_pil()
    mm = dpi / 25.4
    width = image.width
    left_margin, right_margin = 20 * mm, width - 20 * mm
    top = int((float(reader.pages[number].mediabox.height) - float(dest.top)) / 72 * dpi)
    # The heading "المحتويات" (Contents): ink reaches the right margin, not the left.
    title = _ink_columns(image, top, top + int(14 * mm))
    assert title, "no heading ink found"
    assert abs(max(title) - right_margin) < 2 * mm
    assert min(title) > width / 2
    # Each contents line starts at the right margin (leaders run to the page number).
    lines = _ink_columns(image, top + int(16 * mm), top + int(60 * mm))
    assert abs(max(lines) - right_margin) < 2 * mm
    # The footer: the page number sits on the left (the page's end in Arabic).
    reader_page = reader.pages[number]
    footer = [(text, x) for text, x, y in _chunks(reader_page) if y < 30 * MM]
    numbers = [x for text, x in footer if text.isdigit()]  # "الصفحة 2 من 32"
    assert numbers and all(x < float(reader_page.mediabox.width) / 2 for x in numbers), footer
    footer_ink = _ink_columns(image, image.height - int(26 * mm), image.height - int(16 * mm))
    assert min(footer_ink) < left_margin + 3 * mm  # page number at the left margin
    assert max(footer_ink) > right_margin - 2 * mm  # disclaimer line at the right one
    pdf.close()


def test_arabic_edition_direction_shaping_and_latin_names(shipped):
    result = shipped["ar"]
    reader = PdfReader(result.path)
    assert str(reader.trailer["/Root"]["/Lang"]) == "ar"
    fonts = {str(f["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-Arabic" in name for name in fonts)
    # Shaping: the PDF draws contextual forms, so Arabic letters come out of
    # glyphs other than the isolated ones; the text still extracts as Arabic.
    text = " ".join(page_texts(result.path))
    assert "المحتويات" in text or "تايوتحملا" in text
    # Latin drug names stay whole left-to-right words in the Arabic table.
    assert "dexamethasone" in text and "L-asparaginase" in text


def _glyph_report(path: Path) -> tuple[list[str], str]:
    """(glyph problems, the text the glyphs draw), reading every text-showing operator.

    A problem is a glyph that is .notdef (glyph 0: the empty box) or that its
    embedded font does not have. The text is decoded through each font's
    ToUnicode map, glyph by glyph.
    """
    pdf = pikepdf.open(path)
    fonts: dict[tuple[int, int], tuple[str, dict[int, str], int]] = {}
    problems: list[str] = []
    drawn: list[str] = []

    def font_info(font) -> tuple[str, dict[int, str], int]:
        key = font.objgen
        if key not in fonts:
            mapping: dict[int, str] = {}
            cmap = font.ToUnicode.read_bytes().decode("latin-1") if "/ToUnicode" in font \
                else ""
            for gid, uni in re.findall(r"<([0-9a-fA-F]{4})>\s*<([0-9a-fA-F]+)>", cmap):
                mapping[int(gid, 16)] = bytes.fromhex(uni).decode("utf-16-be")
            descriptor = font.DescendantFonts[0].FontDescriptor
            data = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
            glyphs = TTFont(io.BytesIO(data.read_bytes()), lazy=True)["maxp"].numGlyphs
            fonts[key] = (str(font.BaseFont), mapping, glyphs)
        return fonts[key]

    def visit(container, resources, where: str) -> None:
        current = None
        for operands, operator in pikepdf.parse_content_stream(container):
            name = str(operator)
            if name == "Tf":
                current = font_info(resources.Font[operands[0]])
            elif name == "Do":
                xobject = resources.XObject[operands[0]]
                if xobject.Subtype == "/Form":
                    visit(xobject, xobject.get("/Resources", resources), where)
            elif name in ("Tj", "TJ") and current:
                base, mapping, glyphs = current
                items = operands[0] if name == "TJ" else [operands[0]]
                for item in items:
                    if not isinstance(item, pikepdf.String):
                        continue
                    data = bytes(item)
                    for i in range(0, len(data) - 1, 2):
                        gid = data[i] << 8 | data[i + 1]
                        if gid == 0 or gid >= glyphs:
                            problems.append(f"{where}: glyph {gid} of {base}")
                        # A conjunct or ligature maps its text from its first glyph only.
                        drawn.append(mapping.get(gid, ""))

    for number, page in enumerate(pdf.pages, start=1):
        visit(page, page.Resources, f"page {number}")
    return problems, "".join(drawn)


@pytest.mark.parametrize("language", ("en", *SHIPPED))
def test_no_missing_glyphs_in_shipped_editions(shipped, english_a4, language):
    result = english_a4 if language == "en" else shipped[language]
    problems, text = _glyph_report(result.path)
    assert not problems, problems[:10]
    # Every character of the edition's own text is among the glyphs drawn.
    title = load_project(REPO).title if language == "en" else \
        i18n.localize(load_project(REPO), language).text["title"]
    assert set(title) - {" "} <= set(text)


def test_chinese_edition_fonts_breaks_and_size(shipped):
    result = shipped["zh-Hans"]
    assert result.path.stat().st_size < 1_000_000  # subset fonts, not the 20 MB CJK file
    reader = PdfReader(result.path)
    fonts = {str(f["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("CJK-SC" in name for name in fonts) and all("+" in name for name in fonts)
    # No line starts with closing punctuation (the line breaker keeps it with its text).
    for text in page_texts(result.path):
        for line in text.split("\n"):
            assert not re.match(r"^\s*[，。、；：？！）」』”]", line), line


def test_font_coverage_fails_with_the_characters_and_fonts(tmp_path: Path):
    root = _five_copy(tmp_path)
    chapter = root / "chapters" / "01-line-care.md"
    chapter.write_text(chapter.read_text().replace("Key points", "Key points \ue000"))
    with pytest.raises(BookletError) as caught:
        build_edition(root, Edition("ja", "a4"), tmp_path / "out")
    message = str(caught.value)
    assert "U+E000" in message and "Noto Sans CJK JP" in message and "empty boxes" in message
    assert not (tmp_path / "out").exists()
    problems = font_problems(load_project(root), "ar", '<html lang="ar"><p>ANKL مرض</p></html>')
    assert problems == []


def test_five_script_project_builds_without_catalogs(five):
    assert set(five) == {"en", "fr", "ja", "he", "hi"}
    expected_font = {"ja": "CJK-JP", "he": "Hebrew", "hi": "Devanagari"}
    for language, result in five.items():
        reader = PdfReader(result.path)
        assert str(reader.trailer["/Root"]["/Lang"]) == language
        assert result.path.name == f"line-care_{language}_a4.pdf"
        fonts = {str(f["/BaseFont"]) for p in reader.pages
                 for f in p["/Resources"]["/Font"].values()}
        if language in expected_font:
            assert any(expected_font[language] in name for name in fonts), (language, fonts)
        problems, _text = _glyph_report(result.path)
        assert not problems, (language, problems[:10])
    # Hebrew runs right to left: its page number sits on the left.
    page = PdfReader(five["he"].path).pages[2]
    labels = [x for text, x, y in _chunks(page) if "of 5" in text and y < 30 * MM]
    assert labels and labels[0] < float(page.mediabox.width) / 2


def test_a_broken_catalog_is_reported_with_its_line(handout: Path):
    po = catalog_path(load_project(handout), "es")
    lines = po.read_text(encoding="utf-8").split("\n")
    number = next(i for i, line in enumerate(lines) if line.startswith("msgstr \"¿Qu"))
    lines[number] = lines[number].replace("msgstr", "msgtsr")  # a typo in a hand edit
    po.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BookletError) as caught:
        i18n.localize(load_project(handout), "es")
    assert f"{po}:{number + 1}: not a valid PO file" in str(caught.value)


# --- plural rules come from the catalog; PO files gettext accepts ---------------

SWEEP = (0, 1, 2, 5, 11, 21, 100, 1000000)


def _plural_entries(project) -> list[tuple[str, str]]:
    return [m.id for m in i18n.template_catalog(project) if m.id and m.pluralizable]


def _sweep(project, language: str) -> dict[tuple[str, int], str]:
    """ngettext of every plural theme string for every n; English is a failure."""
    translations = i18n.localize(project, language).translations
    found = {}
    for singular, plural in _plural_entries(project):
        for n in SWEEP:
            text = translations.ngettext(singular, plural, n)
            assert text not in (singular, plural) and "\u2066" not in text, \
                (language, singular, n, text)
            found[singular, n] = text
    return found


@pytest.mark.parametrize("language", SHIPPED)
def test_shipped_plural_strings_are_never_english(language: str):
    project = load_project(REPO)
    assert _plural_entries(project)
    _sweep(project, language)


def _fill_plurals(po: Path, language: str) -> list[str]:
    """Give every plural entry one distinct msgstr per form of the catalog's header."""
    catalog = i18n.read_catalog(po, language)
    for message in catalog:
        if message.id and message.pluralizable:
            message.string = tuple(f"{language}#{i} {{n}}" if "{n}" in message.id[0]
                                   else f"{language}#{i}" for i in range(catalog.num_plurals))
            message.flags.discard("fuzzy")
    po.write_bytes(i18n._po_bytes(catalog))
    return [catalog.plural_expr]


NEW_LANGUAGES = ("es", "pt-BR", "fr", "ar", "he", "ru", "ko", "ur", "fa", "hi", "zh-Hans")


@pytest.fixture(scope="module")
def fixture_catalogs(tmp_path_factory) -> Path:
    """The five-script fixture with catalogs for many plural systems, plurals filled."""
    root = tmp_path_factory.mktemp("plurals") / "five"
    shutil.copytree(FIVE, root)
    config = root / "booklet.toml"
    languages = ", ".join(f'"{lang}"' for lang in ("en", *NEW_LANGUAGES))
    config.write_text(re.sub(r"^languages = .*$", f"languages = [{languages}]",
                             config.read_text(), flags=re.M))
    i18n.update(load_project(root))
    for language in NEW_LANGUAGES:
        _fill_plurals(catalog_path(load_project(root), language), language)
    return root


@pytest.mark.parametrize("language", NEW_LANGUAGES)
def test_fixture_plural_strings_follow_the_catalog_rule(fixture_catalogs: Path,
                                                        language: str):
    import gettext

    project = load_project(fixture_catalogs)
    found = _sweep(project, language)
    catalog = i18n.read_catalog(catalog_path(project, language), language)
    rule = gettext.c2py(catalog.plural_expr)
    for (singular, n), text in found.items():
        assert text.startswith(f"{language}#{rule(n)}"), (singular, n, text)


def test_an_older_plural_header_is_obeyed_not_the_installed_cldr(tmp_path: Path):
    """A Spanish catalog written for two forms keeps working under a Babel with three."""
    root = _five_copy(tmp_path)
    config = root / "booklet.toml"
    config.write_text(config.read_text().replace('"hi"]', '"hi", "es"]'))
    project = load_project(root)
    i18n.update(project)
    po = catalog_path(project, "es")
    header = '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
    text = re.sub(r'"Plural-Forms: .*?\\n"\n', lambda _: header,
                  po.read_text(encoding="utf-8"), count=1, flags=re.S)
    po.write_text(re.sub(r"^msgstr\[[2-9]\] .*\n", "", text, flags=re.M), encoding="utf-8")
    _fill_plurals(po, "es")
    assert i18n.read_catalog(po, "es").num_plurals == 2
    translations = i18n.localize(project, "es").translations
    for n in SWEEP:
        text = translations.ngettext("Language", "Languages", n)
        assert text == ("es#0" if n == 1 else "es#1"), (n, text)
    # update brings the rule up to date with CLDR and has a translator check the forms.
    i18n.update(project)
    from babel.messages.plurals import get_plural

    catalog = i18n.read_catalog(po, "es")
    assert catalog.plural_forms == get_plural("es").plural_forms
    message = catalog.get(("Language", "Languages"))
    assert len(message.string) == catalog.num_plurals
    if get_plural("es").num_plurals != 2:
        assert message.fuzzy
    assert _msgfmt_check(po) == ""


def _msgfmt_check(path: Path) -> str:
    """GNU msgfmt --check; its complaints, or "" when gettext accepts the file."""
    import subprocess

    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is missing: apt-get install gettext (see ./run)"
    result = subprocess.run([msgfmt, "--check", "-o", "/dev/null", str(path)],
                            capture_output=True, text=True)
    errors = [line for line in result.stderr.splitlines() if "warning:" not in line]
    return "" if result.returncode == 0 and not errors else result.stderr


def test_every_written_po_file_passes_msgfmt_check(handout: Path):
    project = load_project(handout)
    assert _msgfmt_check(i18n.extract(project)) == ""
    # An English edit of a long paragraph (a multi-line previous msgid) and a new language.
    chapter = handout / "chapters" / "01-what-is-ankl.md"
    text = chapter.read_text(encoding="utf-8")
    paragraph = max((p for p in text.split("\n\n") if not p.lstrip().startswith(("-", "#", "!"))),
                    key=len).strip()
    assert len(paragraph) > 80
    changed = paragraph.replace(" ", "  ", 1).replace(".", ". Ask us.", 1)
    chapter.write_text(text.replace(paragraph, changed), encoding="utf-8")
    config = handout / "booklet.toml"
    config.write_text(config.read_text().replace('"ar"]', '"ar", "fr"]'))
    project = load_project(handout)
    written = i18n.update(project)
    assert catalog_path(project, "fr") in written
    for path in written:
        assert _msgfmt_check(path) == "", path
    po = catalog_path(project, "es")
    catalog = i18n.read_catalog(po, "es")
    fuzzy = [m for m in catalog if m.id and m.fuzzy]
    assert len(fuzzy) == 1 and fuzzy[0].previous_id == [" ".join(paragraph.split())]
    assert '#| msgid ""\n#| "' in po.read_text(encoding="utf-8")
    # A second update keeps the previous msgid for the translator and changes nothing.
    before = {path: path.read_bytes() for path in written}
    assert i18n.update(project) == written
    assert {path: path.read_bytes() for path in written} == before
    assert "python-format" not in po.read_text(encoding="utf-8")
    assert "Generated-By: booklet" in po.read_text(encoding="utf-8")


def test_shipped_catalogs_are_valid_and_up_to_date(tmp_path: Path):
    for path in sorted((REPO / "locales").rglob("*.po*")):
        assert _msgfmt_check(path) == "", path
    root = copy_handout(tmp_path / "handout")
    written = i18n.update(load_project(root))
    def content(path: Path) -> list[str]:
        # References move whenever a template or chapter gains a line; the rest
        # (headers, flags, wrapping, plural forms) must be exactly what update writes.
        return [line for line in path.read_text(encoding="utf-8").split("\n")
                if not line.startswith("#:")]

    for path in written:
        shipped = REPO / path.relative_to(root)
        assert content(path) == content(shipped), \
            f"{shipped} is not what booklet i18n update writes: run it and commit"


def test_status_exits_non_zero_on_a_problem(handout: Path):
    po = catalog_path(load_project(handout), "es")
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Puntos clave"',
                                                         'msgstr "Los 7 puntos clave"'),
                  encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["i18n", "status", str(handout), "--json"])
    assert result.exit_code == 1
    rows = {row["language"]: row for row in json.loads(result.stdout)}
    assert any("number 7 not in the English" in p["message"] for p in rows["es"]["problems"])
    assert not rows["pt-BR"]["problems"]
    assert runner.invoke(main, ["i18n", "status", str(handout)]).exit_code == 1


# --- glossaries sorted in the reader's language ---------------------------------

GLOSSARY_TERMS = {  # fixture words, not medical content
    "es": {"Dressing": "Apósito", "Needle": "Aguja", "Saline": "Suero salino",
           "Flush": "Lavado (flush)"},
    "zh-Hans": {"Dressing": "敷料", "Needle": "针头", "Saline": "生理盐水",
                "Flush": "冲管"},
}


@pytest.mark.parametrize("language", sorted(GLOSSARY_TERMS))
def test_glossary_sorted_by_translated_term_with_english_in_brackets(tmp_path: Path,
                                                                     language: str):
    from booklet.language import collation_key

    root = _five_copy(tmp_path)
    (root / "chapters" / "02-words.md").write_text(
        "---\ntitle: Words\n---\n\n" + "\n\n".join(
            f"{term}\n:   A word you may hear." for term in sorted(GLOSSARY_TERMS[language]))
        + "\n", encoding="utf-8")
    config = root / "booklet.toml"
    config.write_text(re.sub(r"^languages = .*$", f'languages = ["en", "{language}"]',
                             config.read_text(), flags=re.M))
    project = load_project(root)
    i18n.update(project)
    po = catalog_path(project, language)
    catalog = i18n.read_catalog(po, language)
    for english, translated in GLOSSARY_TERMS[language].items():
        catalog.get(english).string = translated
    po.write_bytes(i18n._po_bytes(catalog))
    chapter = [c for c in load_chapters(project, language,
                                        translate_chapter=i18n.localize(
                                            project, language).translate_chapter,
                                        translate=lambda t: t)
               if "<dt" in c.html][0]
    terms = [re.sub(r"<[^>]*>", "", t) for t in re.findall(r"<dt[^>]*>(.*?)</dt>",
                                                          chapter.html)]
    key = collation_key(language)
    assert terms == sorted(terms, key=key)
    assert len(terms) == len(GLOSSARY_TERMS[language])
    brackets = ("\uff08", "\uff09") if language.startswith("zh") else (" (", ")")
    for english, translated in GLOSSARY_TERMS[language].items():
        expected = translated if "(" in translated else \
            f"{translated}{brackets[0]}{english}{brackets[1]}"
        assert expected in terms, (expected, terms)


# --- segmenting proven against the parse that renders -----------------------------

README_CONSTRUCTS = """---
title: "Every construct the README shows"
---

!!! keypoints "Key points"
    - Two to four short points, with **bold** and a [link](https://example.org).
    - A second point that runs
      over two lines.

## A heading phrased as the reader's question? {#own-id}

One idea per paragraph. Numbers as digits: 7 days.[^1]
A second line of the same paragraph.

::: table flushes

!!! todo "What you can do"
    - Ask your care team which plan is right for you.

!!! call "Call your care team if"
    - you have a fever.
    - the line is red or sore.

1. First numbered step.
2. Second numbered step.

- A list item
    - nested by four spaces
- Another item

| What | Why |
|------|-----|
| Saline | To keep the line open |

![A map of the ward](../assets/map.svg)

Dressing
:   A clean cover over the line.

::: lines 3

::: newpage

[^1]: A footnote.
"""


def test_every_readme_construct_segments_as_it_renders():
    i18n.check_segmenting(README_CONSTRUCTS, "chapters/x.md")
    blocks = i18n.markdown_blocks(README_CONSTRUCTS)
    kinds = {block.kind for block in blocks}
    assert {"title", "box-title", "item", "heading", "paragraph", "cell", "term",
            "definition", "footnote"} <= kinds
    nested = next(b for b in blocks if b.text == "nested by four spaces")
    assert nested.kind == "item"
    # Reassembled with every segment replaced, the document keeps its structure.
    rebuilt = i18n.translate_markdown(README_CONSTRUCTS, lambda b: f"X {b.text}")
    assert i18n._structure(rebuilt.split("---\n", 2)[2]) == \
        i18n._structure(README_CONSTRUCTS.split("---\n", 2)[2])
    call = [b for b in blocks if b.kind == "item" and "fever" in b.text][0]
    assert "completes the sentence" in call.note and "Call your care team if" in call.note


@pytest.mark.parametrize("source, line", [
    ("Intro.\n\nA heading\n=========\n\nText.\n", 3),
    ("Intro.\n\nWhat | Why\n-----|----\nSaline | Open\n", 3),
    ("Intro.\n\nA smaller heading\n-----------------\n\nText.\n", 3),
])
def test_a_block_the_segmenter_does_not_know_is_an_error_with_its_line(
        tmp_path: Path, source: str, line: int):
    root = _five_copy(tmp_path)
    (root / "chapters" / "02-odd.md").write_text("---\ntitle: Odd\n---\n\n" + source,
                                                 encoding="utf-8")
    with pytest.raises(BookletError, match=rf"chapters/02-odd\.md:{line + 4}: "):
        i18n.extract(load_project(root))
