"""Translated editions: catalogs, fallbacks, parity checks, scripts and fonts.

Real PO files written and read by Babel, real builds read back with pypdf and
pikepdf, pixels with pypdfium2. Catalog, page and right-to-left tests use the
fixture projects: tests/projects/translated (en, es, ar with complete catalogs;
its es and ar editions built once for the module) and five-scripts (en, fr,
ja, he, hi, no catalogs). The shipped catalogs are only checked as a product
(valid, up to date, plurals never English, no missing glyph), never for their
text. Nothing asserts a CLDR value: expectations are asked of Babel.
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

from conftest import PROJECTS, REPO, normalize, page_texts

SHIPPED = ("es", "pt-BR", "zh-Hans", "ar")
FIVE = PROJECTS / "five-scripts"
# A small handout with complete es and ar catalogs: what the tests of catalogs,
# translated pages and right-to-left layout read (never the ANKL handout's text).
TRANSLATED = PROJECTS / "translated"
FIXTURE_LANGUAGES = ("es", "ar")
MM = 72 / 25.4


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> dict[str, object]:
    """The four shipped translations in A4, built once for the module."""
    out = tmp_path_factory.mktemp("shipped")
    results = build_all(load_project(REPO), list(SHIPPED), ["a4"], out, jobs=2)
    return {r.edition.language: r for r in results}


@pytest.fixture
def translated(tmp_path: Path) -> Path:
    """A private copy of the translated fixture that a test may change."""
    root = tmp_path / "translated"
    shutil.copytree(TRANSLATED, root)
    return root


@pytest.fixture(scope="module")
def fixture_editions(tmp_path_factory) -> dict[str, object]:
    """The translated fixture's Spanish and Arabic A4 editions, built once."""
    root = tmp_path_factory.mktemp("translated") / "project"
    shutil.copytree(TRANSLATED, root)
    results = build_all(load_project(root), list(FIXTURE_LANGUAGES), ["a4"], root / "dist",
                        jobs=2)
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

def test_extract_lists_every_segment_with_its_file_and_line(translated: Path):
    project = load_project(translated)
    pot = i18n.extract(project)
    first = pot.read_bytes()
    assert i18n.extract(project).read_bytes() == first  # no creation-date churn
    text = first.decode()
    day = project.published.isoformat()
    assert f'"POT-Creation-Date: {day} 00:00+0000\\n"' in text  # from the content
    catalog = read_po(io.BytesIO(first))
    heading = catalog.get("How do you keep a record?")
    assert heading.locations == [("chapters/01-at-home.md", 14)]
    assert ("chapters/01-at-home.md", 2) in catalog.get("Your line at home").locations
    assert ("booklet.toml", 5) in catalog.get("Your line at home").locations  # one entry
    # Tables: caption, labels, cells, each item of a list column, with the file; the
    # same English as a glossary term and a table cell are two entries.
    item = catalog.get("NaCl", i18n.TABLE_CONTEXT)
    assert item.locations[0][0] == "chapters/supplies.toml"
    assert catalog.get("Names on the box", i18n.TABLE_CONTEXT) is not None
    assert catalog.get("Dressing").locations[0][0] == "chapters/03-words.md"
    assert catalog.get("Dressing", i18n.TABLE_CONTEXT).locations[0][0] == \
        "chapters/supplies.toml"
    # booklet.toml texts and the theme's own strings, plurals included.
    assert catalog.get(project.disclaimer_short).locations[0][0] == "booklet.toml"
    assert catalog.get(project.sources[0]) is not None
    page_of = catalog.get("Page {page} of {pages}")
    assert page_of.locations[0][0] == "booklet/render.py"
    assert "python-brace-format" in page_of.flags
    plural = catalog.get("Available in {n} language:")
    assert plural.id == ("Available in {n} language:", "Available in {n} languages:")
    assert catalog.get("Draft: not clinically reviewed").locations[0][0].startswith("templates/")


def test_update_marks_changed_english_fuzzy_and_removed_obsolete(translated: Path):
    chapter = translated / "chapters" / "01-at-home.md"
    text = chapter.read_text()
    old = "Write down each change of dressing."
    removed = "Ask us when something looks different."
    assert old in text and removed in text
    chapter.write_text(text.replace(old, "Write down every change of dressing.")
                       .replace(f"    - {removed}\n", ""))
    config = translated / "booklet.toml"
    config.write_text(config.read_text().replace('"ar"]', '"ar", "fr"]'))
    project = load_project(translated)
    written = i18n.update(project)
    assert catalog_path(project, "fr") in written

    po = catalog_path(project, "es")
    with po.open("rb") as f:
        catalog = read_po(f, locale="es")
    changed = catalog.get("Write down every change of dressing.")
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
    assert any("chapters/01-at-home.md:7: fuzzy" in w for w in localized.warnings)
    html = load_chapters(project, "es", translate_chapter=localized.translate_chapter,
                         translate=localized.translate)[0].html
    assert ('<span lang="en" class="fallback">Write down every change of '
            "dressing.</span>") in html


def test_status_command_table_and_json(translated: Path):
    runner = CliRunner()
    table = runner.invoke(main, ["i18n", "status", str(translated)])
    assert table.exit_code == 0, table.output
    assert re.search(r"^ar\s+\d+\s+0\s+0\s+100\.0%\s+draft", table.output, re.M), table.output
    data = json.loads(runner.invoke(main, ["i18n", "status", str(translated), "--json"]).output)
    rows = {row["language"]: row for row in data}
    assert set(rows) == {"en", *FIXTURE_LANGUAGES}
    for language in FIXTURE_LANGUAGES:
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


def test_translated_text_reaches_the_page_and_strict_passes_when_complete(fixture_editions):
    result = fixture_editions["es"]
    project = load_project(TRANSLATED)
    assert not result.warnings or not any("untranslated" in w for w in result.warnings)
    pages = [normalize(t) for t in page_texts(result.path)]
    catalog = i18n.read_catalog(catalog_path(project, "es"), "es")
    assert catalog.get("What does the nurse show you?").string in pages[2]
    contents = catalog.get("Contents").string
    page_of = catalog.get("Page {page} of {pages}").string.split("{page}")[0].strip()
    assert contents in pages[1] and f"{page_of} 2" in pages[1]
    # The date in the reader's format, as the installed CLDR writes it.
    assert babel_date(project.published, "long", locale="es") in pages[0]
    reader = PdfReader(result.path)
    assert str(reader.trailer["/Root"]["/Lang"]) == "es"
    assert reader.metadata.title == catalog.get(project.title).string
    assert result.path.name == f"{project.slug}_es_a4.pdf"
    i18n.localize(project, "es", strict=True)  # nothing left to refuse


def test_fallback_is_marked_and_listed(five):
    result = five["fr"]
    assert any("58 untranslated" in w and "chapters/01-line-care.md:9" in w
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


def test_number_parity_error_names_the_po_line(translated: Path):
    project = load_project(translated)
    po = catalog_path(project, "es")
    english = ("Keep 30 to 40 supply items at home, and write the date of each change on "
               "the dressing.")
    wrong = ("Tenga de 35 a 40 materiales en casa y escriba la fecha de cada cambio en el "
             "apósito.")
    lines = _set_translations(po, "es", {english: wrong})
    with pytest.raises(BookletError) as caught:
        i18n.localize(load_project(translated), "es")
    message = str(caught.value)
    assert f"{po}:{lines[english]}: number 30 of the English missing" in message
    assert f"{po}:{lines[english]}: number 35 not in the English" in message
    assert "chapters/01-at-home.md:16" in message
    with pytest.raises(BookletError):  # fatal in a draft build too: never print a wrong dose
        build_edition(translated, Edition("es", "a4"), translated / "dist")


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
    project = load_project(TRANSLATED)
    arabic = i18n.localize(project, "ar").translations
    catalog = i18n.read_catalog(catalog_path(project, "ar"), "ar")
    import gettext

    rule = gettext.c2py(catalog.plural_expr)  # the catalog's own rule, not CLDR's
    strings = catalog.get(("Language", "Languages")).string
    for n in (1, 2, 5, 11, 100):
        assert arabic.ngettext("Language", "Languages", n) == strings[rule(n)]
    assert arabic.gettext("Contents") == catalog.get("Contents").string
    day = dt.date(2026, 11, 1)
    assert format_date(day, "pt-BR") == babel_date(day, "long", locale="pt_BR")
    assert format_date(day, "zh-Hans") == babel_date(day, "long", locale="zh_Hans")
    assert language_name("ar") == Locale.parse("ar").get_display_name("ar")
    assert language_name("zh-Hans").startswith(Locale.parse("zh").get_display_name("zh"))


# --- review fingerprints per language ------------------------------------------

def test_changing_one_catalog_unapproves_only_that_language(translated: Path):
    project = load_project(translated)
    for language in ("es", "ar"):
        approve(project, language, "Dr. Ada Reviewer", on=dt.date(2026, 11, 20))
    assert approval(project, "es") and approval(project, "ar")
    po = catalog_path(project, "es")
    po.write_text(po.read_text(encoding="utf-8").replace("Puntos clave", "Lo más importante"),
                  encoding="utf-8")
    project = load_project(translated)
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


def test_arabic_contents_page_is_flush_right_with_page_number_on_the_left(fixture_editions):
    from booklet.language import language

    path = fixture_editions["ar"].path
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
    lines = _ink_columns(image, top + int(16 * mm), top + int(40 * mm))
    assert abs(max(lines) - right_margin) < 2 * mm
    # The footer: the page number sits on the left (the page's end in Arabic).
    reader_page = reader.pages[number]
    footer = [(text, x) for text, x, y in _chunks(reader_page) if y < 30 * MM]
    count = len(reader.pages)
    digits = language("ar").number  # the edition's numbering (CLDR's default for ar)
    numbers = [x for text, x in footer if text in (digits(str(number + 1)), digits(str(count)))]
    assert numbers and all(x < float(reader_page.mediabox.width) / 2 for x in numbers), footer
    footer_ink = _ink_columns(image, image.height - int(26 * mm), image.height - int(16 * mm))
    assert min(footer_ink) < left_margin + 3 * mm  # page number at the left margin
    assert max(footer_ink) > right_margin - 2 * mm  # disclaimer line at the right one
    pdf.close()


def test_arabic_edition_direction_shaping_and_latin_names(fixture_editions):
    result = fixture_editions["ar"]
    reader = PdfReader(result.path)
    assert str(reader.trailer["/Root"]["/Lang"]) == "ar"
    fonts = {str(f["/BaseFont"]) for p in reader.pages for f in p["/Resources"]["/Font"].values()}
    assert any("Noto-Sans-Arabic" in name for name in fonts)
    # Shaping: the PDF draws contextual forms, so Arabic letters come out of
    # glyphs other than the isolated ones; the text still extracts as Arabic.
    contents = i18n.localize(load_project(TRANSLATED), "ar").translations.gettext("Contents")
    text = " ".join(page_texts(result.path))
    assert contents in text or contents[::-1] in text
    # Latin names stay whole left-to-right words in the Arabic table.
    assert "sodium chloride" in text and "NaCl" in text and "transparent film" in text


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


def test_a_broken_catalog_is_reported_with_its_line(translated: Path):
    po = catalog_path(load_project(translated), "es")
    lines = po.read_text(encoding="utf-8").split("\n")
    number = next(i for i, line in enumerate(lines) if line.startswith("msgstr \"¿Qu"))
    lines[number] = lines[number].replace("msgstr", "msgtsr")  # a typo in a hand edit
    po.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(BookletError) as caught:
        i18n.localize(load_project(translated), "es")
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


def test_every_written_po_file_passes_msgfmt_check(translated: Path):
    handout = translated
    project = load_project(handout)
    assert _msgfmt_check(i18n.extract(project)) == ""
    # An English edit of a long paragraph (a multi-line previous msgid) and a new language.
    chapter = handout / "chapters" / "01-at-home.md"
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


def test_shipped_catalogs_are_valid():
    """Whether they are up to date with the English is the product's concern, not
    the tool's: CI runs ``booklet i18n update`` and fails on a difference, so a
    clinician's correction of the English breaks no test."""
    for path in sorted((REPO / "locales").rglob("*.po*")):
        assert _msgfmt_check(path) == "", path


def test_status_exits_non_zero_on_a_problem(translated: Path):
    po = catalog_path(load_project(translated), "es")
    po.write_text(po.read_text(encoding="utf-8").replace('msgstr "Puntos clave"',
                                                         'msgstr "Los 7 puntos clave"'),
                  encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["i18n", "status", str(translated), "--json"])
    assert result.exit_code == 1
    rows = {row["language"]: row for row in json.loads(result.stdout)}
    assert any("number 7 not in the English" in p["message"] for p in rows["es"]["problems"])
    assert not rows["ar"]["problems"]
    assert runner.invoke(main, ["i18n", "status", str(translated)]).exit_code == 1


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

A paragraph with its own class, "smart quotes", the body's apostrophe and a
link to [another chapter](01-line-care.md).
{: .lead }

<div class="note">Raw HTML, sanitized
like the rest.</div>

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


def _tags(html: str) -> list[str]:
    """The element names of an HTML fragment, in document order (its structure)."""
    return re.findall(r"<([a-z][a-z0-9]*)", html)


def _render(root: Path, name: str, translate_block=None) -> str:
    """A chapter's HTML in English, or with every block's text replaced."""
    from booklet.content import ChapterTranslation

    project = load_project(root)
    translation = ChapterTranslation(lambda title: title, translate_block) \
        if translate_block else None
    chapter = [c for c in load_chapters(project, "en", translate_chapter=translation)
               if c.path.name == name][0]
    return chapter.html


def _chapter(tmp_path: Path, body: str) -> tuple[Path, Path]:
    root = _five_copy(tmp_path)
    path = root / "chapters" / "02-constructs.md"
    path.write_text(body, encoding="utf-8")
    return root, path


def test_every_readme_construct_segments_as_it_renders(tmp_path: Path):
    root, path = _chapter(tmp_path, README_CONSTRUCTS)
    blocks = i18n.markdown_blocks(load_project(root), path, README_CONSTRUCTS)
    kinds = {block.kind for block in blocks}
    assert {"title", "box-title", "item", "heading", "paragraph", "cell", "term",
            "definition", "footnote", "html"} <= kinds
    lines = README_CONSTRUCTS.split("\n")
    for block in blocks:  # each block points at the line where its text starts
        assert block.text.split(" ")[0].strip('"') in lines[block.line - 1], block
    assert not any("{" in b.text for b in blocks)  # attribute lists are not text
    nested = next(b for b in blocks if b.text == "nested by four spaces")
    assert nested.kind == "item"
    assert next(b for b in blocks if b.kind == "heading").text == \
        "A heading phrased as the reader's question?"  # without its {#own-id}
    # Every block replaced: the same page structure, and no English text left.
    english = _render(root, path.name)
    # (a translation is one line: only the English's line breaks become spaces)
    def squash(html: str) -> str:
        return re.sub(r"\s+", " ", html)

    assert squash(_render(root, path.name, lambda b: b.text)) == squash(english)
    marked = _render(root, path.name, lambda b: b.text.replace(">", ">X", 1)
                     if b.kind == "html" else f"X{b.text}")
    assert _tags(marked) == _tags(english)
    assert 'id="own-id"' in marked and 'class="lead"' in marked
    assert 'href="#line-care"' in marked  # the chapter link still checked and rewritten
    assert marked.count(">X") == len(blocks) - 1  # every block but the front matter's title
    call = [b for b in blocks if b.kind == "item" and "fever" in b.text][0]
    assert "completes the sentence" in call.note and "Call your care team if" in call.note
    point = [b for b in blocks if b.kind == "item" and "short points" in b.text][0]
    assert "completes the sentence" not in point.note  # "Key points" is no sentence


# Markdown that a hand-written segmenter cut differently from how it renders:
# each is segmented from the parse, so its translation keeps the English shape.
VARIANTS = {
    "setext-heading": ("Intro.\n\nA heading\n=========\n\nText.\n",
                       {"A heading": "heading"}),
    "smaller-setext-heading": ("Intro.\n\nA smaller heading\n-----------------\n\nText.\n",
                               {"A smaller heading": "heading"}),
    "table-without-pipes": ("Intro.\n\nWhat | Why\n-----|----\nSaline | Open\n",
                            {"What": "cell", "Saline": "cell", "Open": "cell"}),
    "two-space-nested-list": ("- outer item\n  - inner item\n- last item\n",
                              {"outer item": "item", "inner item": "item",
                               "last item": "item"}),  # one flat list, as it renders
    "tab-indented-box": ('!!! todo "What you can do"\n\t- Rest when you can.\n',
                         {"What you can do": "box-title", "Rest when you can.": "item"}),
    "raw-html-block": ("Intro.\n\n<div class=\"note\">Bring\nthis page.</div>\n",
                       {'<div class="note">Bring this page.</div>': "html"}),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_markdown_variants_segment_as_they_render(tmp_path: Path, name: str):
    source, expected = VARIANTS[name]
    text = "---\ntitle: Odd\n---\n\n" + source
    root, path = _chapter(tmp_path, text)
    blocks = {b.text: b.kind for b in i18n.markdown_blocks(load_project(root), path, text)}
    for segment, kind in expected.items():
        assert blocks.get(segment) == kind, blocks
    english = _render(root, path.name)
    marked = _render(root, path.name, lambda b: b.text.replace(">", ">X", 1)
                     if b.kind == "html" else f"X{b.text}")  # HTML translated inside its tags
    assert _tags(marked) == _tags(english)
    visible = re.sub(r"<[^>]*>", "\n", marked)
    words = [w.strip() for w in visible.split("\n") if w.strip()]
    assert words and all(w.startswith("X") for w in words), words


@pytest.mark.parametrize("source, line, what", [
    ("Intro.\n\n    an indented code block\n", 3, "<pre>"),
    ("Intro.\n\n- item\n\n        code inside an item\n", 5, "<pre>"),
])
def test_a_block_the_segmenter_does_not_know_is_an_error_with_its_line(
        tmp_path: Path, source: str, line: int, what: str):
    root = _five_copy(tmp_path)
    (root / "chapters" / "02-odd.md").write_text("---\ntitle: Odd\n---\n\n" + source,
                                                 encoding="utf-8")
    with pytest.raises(BookletError, match=rf"chapters/02-odd\.md:{line + 4}: .*{what}"):
        i18n.extract(load_project(root))


# --- the source language comes from booklet.toml ---------------------------------


def _spanish_source(tmp_path: Path) -> Path:
    """The minimal fixture written in Spanish (source_language = "es"), translated to English."""
    root = tmp_path / "fuente"
    shutil.copytree(PROJECTS / "minimal", root)
    config = root / "booklet.toml"
    config.write_text(config.read_text().replace('source_language = "en"\nlanguages = ["en"]',
                                                 'source_language = "es"\n'
                                                 'languages = ["es", "en"]'))
    (root / "chapters" / "01-cuts.md").write_text(
        "---\ntitle: Cuidar un corte\n---\n\nLave el corte 2 veces al día con agua limpia.\n"
        "\n::: table dressings\n\nCambie la tirita cada día.\n")
    return root


def test_catalog_checks_take_the_source_language_from_booklet_toml(tmp_path: Path):
    root = _spanish_source(tmp_path)
    project = load_project(root)
    assert project.source_language == "es"
    po = catalog_path(project, "en")
    assert i18n.update(project)[1:] == [po]  # the template, then one catalog: English
    source = "Lave el corte 2 veces al día con agua limpia."
    lines = _set_translations(po, "en", {source: "Wash the cut 3 times a day with clean water."})
    with pytest.raises(BookletError) as caught:
        i18n.localize(load_project(root), "en")
    spanish = Locale.parse("es").get_language_name("en")  # what Babel calls it
    assert spanish != "English"
    message = str(caught.value)
    assert f"{po}:{lines[source]}: number 2 of the {spanish} missing" in message
    assert f"({spanish} at chapters/01-cuts.md:" in message
    assert message.endswith(f"to show the {spanish} until it is fixed.")
    # The Spanish edition is the source: no catalog, nothing to check.
    assert i18n.localize(load_project(root), "es").language == "es"


def test_parity_names_the_source_language():
    spanish = Locale.parse("es").get_language_name("en")
    assert i18n.parity_problems("Tome 10 mL", "Take 100 mL", "en",
                                source_language="es") == [
        f"number 10 of the {spanish} missing (a dose, a percent or a count must not change)",
        f"number 100 not in the {spanish} (a dose, a percent or a count must not change)"]


@pytest.mark.parametrize("value", ['"english"', "5", '"en_US!"'])
def test_a_bad_source_language_is_one_clear_error(tmp_path: Path, value: str):
    root = tmp_path / "bad"
    shutil.copytree(PROJECTS / "minimal", root)
    config = root / "booklet.toml"
    config.write_text(config.read_text().replace('source_language = "en"',
                                                 f"source_language = {value}"))
    with pytest.raises(BookletError, match=r"source_language.*BCP 47 language tag"):
        load_project(root)


WASH = ("Wash your hands for 20 seconds before you touch the line. Read **the leaflet** on "
        "[our website](https://example.org/lines) for pictures.[^1]")
# Fixture text (not medical content): the 20 written as a word.
WASH_FR = ("Lavez-vous les mains pendant vingt secondes avant de toucher la ligne. Lisez "
           "**le dépliant** sur [notre site](https://example.org/lines) pour les images.[^1]")


def test_a_number_written_as_a_word_is_an_exception_the_reviewer_sees(tmp_path: Path):
    root = _five_copy(tmp_path)
    project = load_project(root)
    i18n.update(project)
    po = catalog_path(project, "fr")
    catalog = i18n.read_catalog(po, "fr")
    catalog.get(WASH).string = WASH_FR
    po.write_bytes(i18n._po_bytes(catalog))
    with pytest.raises(BookletError, match=r"booklet\.po:\d+: number.* 20"):
        i18n.localize(project, "fr")
    catalog = i18n.read_catalog(po, "fr")
    catalog.get(WASH).user_comments.append("booklet: number-as-word 20")
    po.write_bytes(i18n._po_bytes(catalog))
    assert "# booklet: number-as-word 20" in po.read_text(encoding="utf-8")
    i18n.update(project)  # a translator comment survives the next update
    localized = i18n.localize(project, "fr")
    assert not any(f.text == WASH for f in localized.fallbacks)
    result = CliRunner().invoke(main, ["i18n", "status", str(root)])
    assert result.exit_code == 0, result.output
    assert re.search(r"review: .*fr/LC_MESSAGES/booklet\.po:\d+: number 20 written as a word",
                     result.output), result.output
    rows = json.loads(CliRunner().invoke(main, ["i18n", "status", str(root),
                                                "--json"]).output)
    fr = next(row for row in rows if row["language"] == "fr")
    assert any("number 20 written as a word" in entry for entry in fr["to_read"])
    from booklet.packet import numbers_as_words

    assert [w.values for w in numbers_as_words(project, "fr")] == [("20",)]


def _records_project(tmp_path: Path) -> Path:
    """The five-script fixture with a data table and a record form that share "Notes"."""
    root = _five_copy(tmp_path)
    chapters = root / "chapters"
    (chapters / "kits.toml").write_text(
        '[[columns]]\nkey = "kit"\nlabel = "Kit"\n\n[[columns]]\nkey = "notes"\n'
        'label = "Notes"\n\n[[rows]]\nkit = "Saline"\nnotes = "Keep it cool"\n',
        encoding="utf-8")
    (chapters / "diary.toml").write_text(
        'caption = "Write down each flush."\nblank_rows = 3\n\n[[columns]]\nkey = "date"\n'
        'label = "Date"\n\n[[columns]]\nkey = "notes"\nlabel = "Notes"\n', encoding="utf-8")
    (chapters / "02-records.md").write_text(
        "---\ntitle: Records\n---\n\n::: table kits\n\n::: table diary\n", encoding="utf-8")
    return root


def test_the_same_english_in_a_data_table_and_a_form_has_two_contexts(tmp_path: Path):
    root = _records_project(tmp_path)
    project = load_project(root)
    i18n.update(project)
    po = catalog_path(project, "fr")
    catalog = i18n.read_catalog(po, "fr")
    form = catalog.get("Notes", i18n.FORM_CONTEXT)
    table = catalog.get("Notes", i18n.TABLE_CONTEXT)
    assert form.locations == [("chapters/diary.toml", 10)]  # the label's own line
    assert table.locations == [("chapters/kits.toml", 7)]
    assert "fills in by hand" in " ".join(form.auto_comments)
    form.string, table.string = "Mes notes", "Remarques"
    po.write_bytes(i18n._po_bytes(catalog))
    localized = i18n.localize(project, "fr")
    html = next(c.html for c in load_chapters(project, "fr",
                                              translate_chapter=localized.translate_chapter,
                                              translate=localized.translate)
                if c.path.name == "02-records.md")
    data, record = html.split('class="table-figure record-form"')
    assert ">Remarques</th>" in data and ">Mes notes</th>" in record


def test_update_carries_a_translation_over_to_its_new_context(tmp_path: Path):
    root = _records_project(tmp_path)
    project = load_project(root)
    i18n.update(project)
    po = catalog_path(project, "fr")
    catalog = i18n.read_catalog(po, "fr")
    # A catalog written before forms had their own msgctxt: "Date" under "table".
    old = catalog.get("Date", i18n.FORM_CONTEXT)
    catalog.delete("Date", i18n.FORM_CONTEXT)
    catalog.add("Date", "Date du jour", locations=old.locations, context=i18n.TABLE_CONTEXT)
    po.write_bytes(i18n._po_bytes(catalog))
    i18n.update(project)
    catalog = i18n.read_catalog(po, "fr")
    carried = catalog.get("Date", i18n.FORM_CONTEXT)
    assert carried.string == "Date du jour" and not carried.fuzzy
    assert catalog.get("Date", i18n.TABLE_CONTEXT) is None
    assert not any(m.id == "Date" for m in catalog.obsolete.values())
    assert _msgfmt_check(po) == ""
