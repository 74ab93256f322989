"""Tests for the print formats: real builds read back with pypdf and pikepdf, pixels with pypdfium2.

One module-scoped build makes a short handout (tests/projects/formats) in
Arabic (right to left) and Chinese (CJK) in every format. The project has no
catalogs, so the text is the English fallback, but page direction, fonts,
language tags and the "not yet translated" marks are those of the edition's
language: the layouts are exercised as an Arabic or Chinese reader gets them.
Its pain-plan table is long enough to cross a page in every format.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from functools import cache
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
import tinycss2
import tinycss2.color5
from pypdf import PdfReader

from booklet import press
from booklet.build import build_all, build_edition
from booklet.errors import BookletError
from booklet.preflight import contrast_ratio as _contrast
from booklet.preflight import grey as _grey
from booklet.project import FORMATS, load_project, theme_dir
from booklet.render import Edition, is_rtl

from conftest import normalize

FIXTURE = Path(__file__).resolve().parent / "projects" / "formats"
LANGUAGES = ("ar", "zh-Hans")  # one right-to-left, one CJK
BOOKLETS = ("a5-booklet", "half-letter-booklet")
MM = 72 / 25.4
ROWS = 18  # rows of chapters/pain-plans.toml
PAGE_LABEL = re.compile(r"Page\s*(\d+)\s*of\s*(\d+)")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[tuple[str, str], object]:
    """Every format in Arabic and Chinese, built once for the module."""
    out = tmp_path_factory.mktemp("formats")
    results = build_all(load_project(FIXTURE), list(LANGUAGES), list(FORMATS), out, jobs=2)
    return {(r.edition.language, r.edition.format): r for r in results}


EDITIONS = [(lang, fmt) for lang in LANGUAGES for fmt in FORMATS]


def _ids(edition: tuple[str, str]) -> str:
    return "-".join(edition)


@cache
def _texts(path: Path) -> list[str]:
    return [normalize(page.extract_text() or "") for page in PdfReader(path).pages]


def _chunks(page) -> list[tuple[str, float, float, float]]:
    """(text, x, y, font size in pt) of each text chunk, in PDF user space."""
    found = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text.strip():
            return
        a, b, c, d, e, f = tm
        ca, cb, cc, cd, ce, cf = cm
        # Text rendering matrix = Tm x CTM; its vertical scale is the type size.
        m_c, m_d = c * ca + d * cc, c * cb + d * cd
        x = e * ca + f * cc + ce
        y = e * cb + f * cd + cf
        found.append((text.strip(), x, y, font_size * (m_c * m_c + m_d * m_d) ** 0.5))

    page.extract_text(visitor_text=visit)
    return found


def _lines(page) -> list[tuple[str, float, float]]:
    """Chunks that start at the same point joined: right-to-left lines come in pieces."""
    joined: dict[tuple[int, int], list[str]] = {}
    for text, x, y, _size in _chunks(page):
        joined.setdefault((round(x), round(y)), []).append(text)
    return [(" ".join(texts), x, y) for (x, y), texts in joined.items()]


def _label_x(page, number: int) -> float:
    """x of the "Page N of M" footer of a reading-order page."""
    for text, x, _y in _lines(page):
        match = PAGE_LABEL.search(text)
        if match and int(match.group(1)) == number:
            return x
    raise AssertionError(f"no 'Page {number} of' label found")


# --- every format, every language -------------------------------------------

@pytest.mark.parametrize("edition", EDITIONS, ids=_ids)
def test_every_format_builds_in_rtl_and_cjk(built, edition):
    language, fmt = edition
    result = built[edition]
    reader = PdfReader(result.path)
    assert len(reader.pages) == result.pages > 1
    assert str(reader.trailer["/Root"]["/Lang"]) == language
    fonts = {str(font["/BaseFont"]) for page in reader.pages
             for font in page["/Resources"]["/Font"].values()}
    script_font = "Arabic" if language == "ar" else "CJK"
    assert any(script_font in name for name in fonts), fonts
    # Every embedded font is a subset (a "ABCDEF+" prefix): small files.
    assert all(re.match(r"^/[A-Z]{6}\+", name) for name in fonts), fonts
    # The footer counts the pages right, on the last page too.
    last = PAGE_LABEL.search(_texts(result.path)[-1])
    assert last and (int(last.group(1)), int(last.group(2))) == (result.pages,) * 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_page_number_sits_at_the_end_of_the_line(built, language):
    """Right-to-left pages put the page number on the left, as the reader expects."""
    page = PdfReader(built[(language, "a4")].path).pages[2]
    on_left = _label_x(page, 3) < float(page.mediabox.width) / 2
    assert on_left == is_rtl(language)


# --- the table: header repeated, rows whole ---------------------------------

@pytest.mark.parametrize("edition", EDITIONS, ids=_ids)
def test_table_header_repeats_and_rows_never_split(built, edition):
    texts = _texts(built[edition].path)
    starts = {n: [i for i, t in enumerate(texts) if f"Plan {n:02d}" in t]
              for n in range(1, ROWS + 1)}
    ends = {n: [i for i, t in enumerate(texts) if f"row {n:02d} ends" in t]
            for n in range(1, ROWS + 1)}
    for n in range(1, ROWS + 1):
        assert len(starts[n]) == 1 and starts[n] == ends[n], (
            f"row {n} starts on {starts[n]} and ends on {ends[n]}")
    table_pages = sorted({pages[0] for pages in starts.values()})
    assert len(table_pages) >= 2, "the fixture's table should cross a page"
    for index in table_pages:
        # The column labels: a repeated header row, or (large print) a label per value.
        assert "Medicines in it" in texts[index] and "How often" in texts[index], index


# --- contents ----------------------------------------------------------------

@pytest.mark.parametrize("edition", EDITIONS, ids=_ids)
def test_contents_page_numbers_point_at_the_chapters(built, edition):
    texts = _texts(built[edition].path)
    contents = next(text for text in texts if "Contents" in text)
    for title, first_words in (("Managing pain", "Pain is expected after the operation"),
                               ("Words you may hear", "The pad and tape")):
        match = re.search(re.escape(title) + r"[ .]*(\d+)", contents) or re.search(
            r"(\d+)[ .]*" + re.escape(title), contents)
        assert match, contents
        page = texts[int(match.group(1)) - 1]
        assert title in page and first_words in page, (title, match.group(1))


# --- booklets: padding, page numbers outside, imposition ---------------------

BOOKLET_EDITIONS = [(lang, fmt) for lang in LANGUAGES for fmt in BOOKLETS]


def _body_text(page, top: float, bottom: float) -> str:
    """Text between the header and footer bands (top and bottom in pt), without DRAFT."""
    height = float(page.mediabox.height)
    return " ".join(text for text, _x, y, _size in _chunks(page)
                    if bottom < y < height - top and text != "DRAFT")


@pytest.mark.parametrize("edition", BOOKLET_EDITIONS, ids=_ids)
def test_booklet_padded_with_notes_before_the_back_cover(built, edition):
    result = built[edition]
    pages = PdfReader(result.path).pages
    assert len(pages) % 4 == 0
    texts = _texts(result.path)
    # The back cover is the last page, and only the last page.
    assert [i for i, t in enumerate(texts) if "knees@example.org" in t] == [len(texts) - 1]
    disclaimer = max(i for i, t in enumerate(texts) if "It does not replace advice" in t)
    bodies = [_body_text(page, top=15 * MM, bottom=19 * MM) for page in pages]
    # Never a blank page: every page has something between header and footer.
    assert all(body.strip() for body in bodies), [i + 1 for i, b in enumerate(bodies)
                                                  if not b.strip()]
    # Between the disclaimer and the back cover: notes pages and nothing else.
    padding = bodies[disclaimer + 1:-1]
    assert len(padding) < 4
    assert all(body == "Notes" for body in padding), padding


def test_some_booklet_needed_padding(built):
    """The fixture is sized so the notes-page path runs, not only the lucky one."""
    notes = [sum(1 for t in _texts(built[e].path) if t.count("Notes") and "Plan" not in t
                 and "knees@" not in t and "Contents" not in t)
             for e in BOOKLET_EDITIONS]
    assert any(notes), notes


@pytest.mark.parametrize("edition", BOOKLET_EDITIONS, ids=_ids)
def test_booklet_page_numbers_on_the_outer_edge(built, edition):
    language, _fmt = edition
    reader = PdfReader(built[edition].path)
    for number, page in enumerate(reader.pages, start=1):
        if number == 1:
            continue  # the cover carries no page number
        # The first page is a right-hand page in a left-to-right booklet and
        # a left-hand one in a right-to-left booklet; then they alternate.
        right_hand = (number % 2 == 1) != is_rtl(language)
        on_right = _label_x(page, number) > float(page.mediabox.width) / 2
        assert on_right == right_hand, number


def _sheet_sides(path: Path) -> list[tuple[int, int]]:
    """(left, right) page labels read off each side of each imposed sheet.

    Read with PDFium, which places each page's form XObject as a printer does.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    sides = []
    document = pypdfium2.PdfDocument(str(path))
    try:
        for page in document:
            middle = page.get_width() / 2
            textpage = page.get_textpage()
            text = textpage.get_text_range()
            halves: dict[bool, list[int]] = {True: [], False: []}
            # PDFium gives right-to-left lines in visual order: "16 of 1 Page".
            for match in re.finditer(rf"{PAGE_LABEL.pattern}|(\d+)\s*of\s*(\d+)\s*Page", text):
                x, y = ctypes.c_double(), ctypes.c_double()
                pdfium_c.FPDFText_GetCharOrigin(textpage.raw, match.start(), x, y)
                halves[x.value < middle].append(int(match.group(1) or match.group(4)))
            # The cover (page 1) is the one page without a number.
            for half in halves.values():
                half[:] = half or [1]
            assert len(halves[True]) == len(halves[False]) == 1, halves
            sides.append((halves[True][0], halves[False][0]))
    finally:
        document.close()
    return sides


def _fold_and_read(sides: list[tuple[int, int]], right_to_left: bool) -> list[int]:
    """Print duplex (flip on the short edge), fold, nest, staple: the reading order.

    Knows only the physics. Flipping on the short edge puts the back's left
    half behind the front's right half. Folded, the right half of the front
    is the outside of the right leaf. A right-to-left booklet is the mirror
    image: bound on the right, so swap the halves and read it the same way.
    """
    if right_to_left:
        sides = [(right, left) for left, right in sides]
    leaves_in, leaves_out = [], []
    for (front_left, front_right), (back_left, back_right) in zip(sides[0::2], sides[1::2],
                                                                 strict=True):
        leaves_in.append((front_right, back_left))  # right leaf: recto outside
        leaves_out.append((back_right, front_left))  # left leaf: read from inside out
    leaves = leaves_in + leaves_out[::-1]
    return [number for leaf in leaves for number in leaf]


@pytest.mark.parametrize("edition", BOOKLET_EDITIONS, ids=_ids)
def test_imposed_sheets_read_in_order_when_folded(built, edition):
    language, fmt = edition
    result = built[edition]
    assert result.sheets and result.sheets.name.endswith(f"_{fmt}-sheets.pdf")
    sheet = PdfReader(result.sheets).pages[0]
    size = (float(sheet.mediabox.width), float(sheet.mediabox.height))
    expected = (841.89, 595.28) if FORMATS[fmt].impose_on == "a4" else (792.0, 612.0)
    assert size == pytest.approx(expected, abs=0.01)
    sides = _sheet_sides(result.sheets)
    assert len(sides) == result.pages // 2
    assert _fold_and_read(sides, is_rtl(language)) == list(range(1, result.pages + 1))


# --- press -------------------------------------------------------------------

A4 = (595.28, 841.89)
BLEED = 3 * MM  # 8.5 pt


@pytest.mark.parametrize("edition", [(lang, fmt) for lang in LANGUAGES
                                     for fmt in ("press", "press-x1a")], ids=_ids)
def test_press_page_boxes(built, edition):
    reader = PdfReader(built[edition].path)
    for page in reader.pages:
        trim = [float(v) for v in page["/TrimBox"]]
        bleed = [float(v) for v in page["/BleedBox"]]
        media = [float(v) for v in page.mediabox]
        assert trim == pytest.approx([0, 0, *A4], abs=0.01)
        assert bleed == pytest.approx([-BLEED, -BLEED, A4[0] + BLEED, A4[1] + BLEED],
                                      abs=0.01)
        # A slug around the bleed holds the marks (booklet.press).
        assert media[0] < bleed[0] and media[1] < bleed[1]
        assert media[2] > bleed[2] and media[3] > bleed[3]


@pytest.mark.parametrize("language", LANGUAGES)
def test_press_is_pdf_x(built, language):
    with pikepdf.open(built[(language, "press")].path) as pdf:
        meta = pdf.open_metadata()
        assert meta.get("pdfxid:GTS_PDFXVersion") == "PDF/X-4"
    with pikepdf.open(built[(language, "press-x1a")].path) as pdf:
        assert str(pdf.docinfo["/GTS_PDFXVersion"]) == "PDF/X-1a:2003"
        # PDF/X-1a allows no transparency: every graphics state is opaque.
        for page in pdf.pages:
            for state in page.Resources.get("/ExtGState", {}).values():
                assert float(state.get("/CA", 1)) == 1 and float(state.get("/ca", 1)) == 1
                assert state.get("/SMask", pikepdf.Name.None_) == pikepdf.Name.None_


@pytest.mark.parametrize("fmt", ["press", "press-x1a"])
def test_press_colours_are_process_cmyk_with_black_only_text(built, fmt):
    """No RGB for the press to convert; body text in black ink alone (sharp when plates shift)."""
    with pikepdf.open(built[("ar", fmt)].path) as pdf:
        for page in pdf.pages:
            operators = {str(op) for _operands, op in pikepdf.parse_content_stream(page)}
            assert not operators & {"rg", "RG"}, "RGB colour in a press page"
        text_colours, colour = set(), None
        for operands, op in pikepdf.parse_content_stream(pdf.pages[2]):
            if str(op) == "scn":
                colour = tuple(float(v) for v in operands)
            elif str(op) in ("Tj", "TJ"):
                text_colours.add(colour)
        assert (0, 0, 0, 1) in text_colours


def test_press_carries_an_output_intent(built):
    """PDF/X needs an output intent: booklet.press attaches one (or refuses: test_press.py)."""
    for fmt in ("press", "press-x1a"):
        with pikepdf.open(built[("zh-Hans", fmt)].path) as pdf:
            intent = pdf.Root.OutputIntents[0]
            assert intent.S == "/GTS_PDFX" and int(intent.DestOutputProfile.N) == 4
    with pikepdf.open(built[("zh-Hans", "a4")].path) as pdf:
        assert "/OutputIntents" not in pdf.Root


def test_format_specific_custom_stylesheet_is_layered_last(tmp_path):
    """styles/custom-press.css reaches the press edition only (e.g. the shop's ICC profile)."""
    from booklet import content, render

    project_dir = tmp_path / "custom"
    shutil.copytree(FIXTURE, project_dir)
    (project_dir / "styles").mkdir()
    (project_dir / "styles" / "custom.css").write_text("p { color: #000; }")
    (project_dir / "styles" / "custom-press.css").write_text("p { color: #111; }")
    project = load_project(project_dir)
    chapters = content.load_chapters(project, "en")

    def links(fmt: str) -> list[str]:
        html = render.render_html(project, Edition("en", fmt), chapters, review=None)
        return re.findall(r'<link rel="stylesheet" href="[^"]*/([^"/]+)"', html)

    assert links("press")[-2:] == ["custom.css", "custom-press.css"]
    assert links("a4")[-1] == "custom.css" and "custom-press.css" not in links("a4")


def test_press_cover_band_runs_into_the_bleed(built):
    """The cover band reaches the bleed edge; below it the bleed stays paper-white."""
    document = pypdfium2.PdfDocument(str(built[("zh-Hans", "press")].path))
    try:
        scale = 2  # 144 dpi
        image = document[0].render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        document.close()
    # The image covers the MediaBox: the 8.5 pt bleed and the slug for the marks.
    slug = press.SLUG_MM * MM
    assert image.width == pytest.approx((A4[0] + 2 * (BLEED + slug)) * scale, abs=2)
    edge = round(slug * scale) + 1  # just inside the bleed's outer edge
    band = (image.getpixel((edge, edge)),
            image.getpixel((image.width - edge - 1, round((slug + 12 * MM) * scale))))
    assert all(value < 120 for value in band), band
    # (Not at mid-height: the registration cross sits there.)
    assert image.getpixel((edge, image.height // 3)) > 245


def test_press_build_is_byte_identical(built, tmp_path):
    """PDF/X-4 metadata holds a document ID; it must come from the content, not chance."""
    first = built[("zh-Hans", "press")].path
    again = build_edition(load_project(FIXTURE), Edition("zh-Hans", "press"), tmp_path).path
    assert again.read_bytes() == first.read_bytes()


def test_press_needs_a_fixed_date(tmp_path, monkeypatch):
    project = tmp_path / "undated"
    shutil.copytree(FIXTURE, project)
    config = project / "booklet.toml"
    config.write_text(re.sub(r"(?m)^published = .*\n", "", config.read_text()))
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    with pytest.raises(BookletError, match="published = YYYY-MM-DD"):
        build_edition(load_project(project), Edition("zh-Hans", "press"), tmp_path / "out")


# --- large print ---------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_large_print_type_is_at_least_18pt(built, language):
    """Every piece of text, header and footer included, is set at 18 pt or more."""
    reader = PdfReader(built[(language, "large-print")].path)
    sizes = [(round(size, 2), text, number) for number, page in enumerate(reader.pages, 1)
             for text, _x, _y, size in _chunks(page)]
    assert min(sizes)[0] >= 18 - 0.01, min(sizes)
    headings = [size for size, text, _ in sizes if text == "Managing pain"]
    assert max(headings) >= 22


# --- screen ------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
def test_screen_edition_links_and_is_pdf_ua(built, language):
    path = built[(language, "screen")].path
    with pikepdf.open(path) as pdf:
        assert pdf.open_metadata().get("pdfuaid:part") == "1"
        # Page 2 is "When to call" (tel: links); page 3 the contents.
        links = [a for a in pdf.pages[2].get("/Annots", [])
                 if a.get("/Subtype") == "/Link"]
        # Contents: 3 chapters and the disclaimer, each a link into the document.
        assert len(links) >= 4
        assert all("/Dest" in a or a.get("/A", {}).get("/S") == "/GoTo" for a in links)
        for page in pdf.pages:
            assert "/TrimBox" not in page or list(page.TrimBox) == list(page.MediaBox)
    # A page for phones: narrower than the office A4 page.
    with pikepdf.open(path) as pdf:
        assert float(pdf.pages[0].MediaBox[2]) < A4[0] - 100


def _link_targets(path: Path, index: int) -> dict[str, int]:
    """Named destinations of the links on a page, with the page number each goes to."""
    reader = PdfReader(path)
    names = reader.named_destinations
    targets = {}
    for annot in reader.pages[index].get("/Annots", []) or []:
        annot = annot.get_object()
        name = str(annot.get("/Dest", ""))
        if annot.get("/Subtype") == "/Link" and name in names:
            targets[name] = reader.get_destination_page_number(names[name]) + 1
    return targets


@pytest.mark.parametrize("language", LANGUAGES)
def test_screen_glossary_words_link_to_their_definitions(built, language):
    path = built[(language, "screen")].path
    texts = _texts(path)
    glossary_page = next(i for i, t in enumerate(texts) if "The pad and tape" in t) + 1
    first_chapter = next(i for i, t in enumerate(texts) if "How much should I walk?" in t)
    next_chapter = next(i for i, t in enumerate(texts) if "Pain is expected" in t)
    targets = {}  # A5 pages: the first chapter runs over several
    for index in range(first_chapter, next_chapter):
        targets.update(_link_targets(path, index))
    assert {"glossary-dressing", "glossary-physiotherapist", "glossary-swelling"} <= set(
        targets), targets
    assert {targets[name] for name in targets if name.startswith("glossary-")} == {
        glossary_page}
    # Print editions keep the text plain: nobody can click on paper.
    assert not any(name.startswith("glossary-")
                   for name in _link_targets(built[(language, "a4")].path, first_chapter))


# --- grayscale -----------------------------------------------------------------

def _mode_along(image, y: float, x0: float, x1: float) -> int:
    """The most common grey along a horizontal line: a band's background, not its text."""
    row = [image.getpixel((x, round(y))) for x in range(round(x0), round(x1))]
    return Counter(row).most_common(1)[0][0]


def test_grayscale_keeps_banding_and_boxes_apart(built):
    """Printed in grey, banded rows differ from plain ones and boxes from the page."""
    path = built[("zh-Hans", "a4")].path
    reader = PdfReader(path)
    scale = 100 / 72
    index = next(i for i, t in enumerate(_texts(path)) if "Plan 02" in t and "Plan 03" in t)
    page = reader.pages[index]
    height = float(page.mediabox.height)
    where = {text: (x, y) for text, x, y, _ in _chunks(page)
             if text in ("Plan 02", "Plan 03", "Key points")}
    document = pypdfium2.PdfDocument(str(path))
    try:
        image = document[index].render(scale=scale, grayscale=True).to_pil().convert("L")
        chapter = document[2].render(scale=scale, grayscale=True).to_pil().convert("L")
    finally:
        document.close()

    def grey(text):
        x, y = where[text]
        return _mode_along(image, (height - y - 2) * scale, x * scale, (x + 200) * scale)

    banded, plain = grey("Plan 02"), grey("Plan 03")  # even rows are banded
    assert plain > 245 and plain - banded >= 20, (banded, plain)
    # A box: tinted background and a dark rule down its side, both visible in grey.
    box_page = next(i for i, t in enumerate(_texts(path)) if "Key points" in t)
    assert box_page == 2
    key = next((x, y) for text, x, y, _ in _chunks(reader.pages[2]) if text == "Key points")
    line_y = (height - key[1] + 14) * scale
    tint = _mode_along(chapter, line_y, key[0] * scale, (key[0] + 300) * scale)
    assert 200 < tint <= 250, tint
    rule = min(chapter.getpixel((x, round(line_y)))
               for x in range(round((key[0] - 45) * scale), round(key[0] * scale)))
    assert rule < 110, rule


# --- colours -------------------------------------------------------------------

def _stylesheet_rules(path: Path):
    """(selector, {property: value tokens}) for each style rule of a stylesheet."""
    rules = tinycss2.parse_stylesheet(path.read_text(), skip_comments=True,
                                      skip_whitespace=True)
    for rule in rules:
        if rule.type != "qualified-rule":
            continue
        declarations = tinycss2.parse_declaration_list(rule.content, skip_comments=True,
                                                       skip_whitespace=True)
        yield (tinycss2.serialize(rule.prelude).strip(),
               {d.name: d.value for d in declarations if d.type == "declaration"})


def _colour(tokens, variables: dict[str, list]) -> tuple[float, float, float] | None:
    """The first opaque colour in a value, with var() resolved; None if there is none."""
    for token in tokens:
        if token.type == "function" and token.lower_name == "var":
            name = next(t.value for t in token.arguments if t.type == "ident")
            found = _colour(variables.get(name, []), variables)
        elif token.type in ("hash", "function", "ident"):
            parsed = tinycss2.color5.parse_color(token)
            found = None
            if parsed is not None and parsed != "currentcolor" and parsed.alpha == 1:
                if parsed.space == "device-cmyk":  # the press's inks, as a viewer shows them
                    c, m, y, k = parsed.coordinates
                    found = ((1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k))
                else:
                    found = tuple(parsed.to("srgb").coordinates)
        else:
            continue
        if found is not None:
            return found
    return None


# aria-hidden and meant to be faint; the cover band is an empty coloured shape.
DECORATION = {".draft-mark", ".cover-band"}


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_theme_colour_pairs_reach_7_to_1_in_colour_and_in_grey(fmt):
    """Every text colour on every background it can sit on, read from the theme's CSS.

    A rule that sets both a colour and a background is one pair; a text
    colour without its own background may sit on any surface the theme
    paints (plain page, box tint, table band), so it must work on all of
    them. The DRAFT mark is decoration, not text to read.
    """
    styles = theme_dir() / "styles"
    sheets = [styles / "handout.css", styles / FORMATS[fmt].stylesheet]
    if fmt == "press-x1a":
        sheets.insert(1, styles / "format-press.css")
    # The cascade, simply: a later sheet's rule for the same selector wins per property.
    merged: dict[str, dict[str, list]] = {}
    for sheet in sheets:
        for selector, declarations in _stylesheet_rules(sheet):
            merged.setdefault(selector, {}).update(declarations)
    rules = list(merged.items())
    variables = {k: v for k, v in merged.get(":root", {}).items() if k.startswith("--")}
    white = (1.0, 1.0, 1.0)
    pairs, texts, surfaces = [], [], [white]
    for selector, declarations in rules:
        text = _colour(declarations.get("color", []), variables)
        ground = _colour(declarations.get("background-color") or
                         declarations.get("background", []), variables)
        if selector in DECORATION:
            continue
        if text and ground:
            pairs.append((selector, text, ground))
        elif text:
            texts.append((selector, text))
        elif ground:
            surfaces.append(ground)
    pairs += [(selector, text, ground) for selector, text in texts for ground in surfaces]
    assert len(pairs) > 10
    for selector, text, ground in pairs:
        assert _contrast(text, ground) >= 7, (selector, text, ground)
        assert _contrast(_grey(text), _grey(ground)) >= 7, ("in grey", selector, text, ground)
    # Table banding and box tints must differ from the page in grey, too.
    for ground in surfaces[1:]:
        if ground != white:
            assert _grey(white)[0] - _grey(ground)[0] >= 0.03, ground


@pytest.mark.parametrize("edition", EDITIONS, ids=_ids)
def test_every_edition_passes_the_contrast_preflight(built, edition):
    """What the theme's CSS promises (above), the written PDF keeps: no text under 7:1."""
    from booklet.preflight import CHECKS, Document

    contrast = next(c for c in CHECKS if c.name == "contrast")
    doc = Document(built[edition].path, Edition(*edition))
    try:
        assert list(contrast.function(doc)) == []
    finally:
        doc.close()


def test_link_glossary_links_each_term_once_outside_headings_and_links():
    from booklet.content import Chapter, link_glossary

    glossary = Chapter(Path("09-glossary.md"), "glossary", "Words",
                       "<dl>\n<dt>EBV (Epstein-Barr virus)</dt>\n<dd>A common virus.</dd>\n"
                       "<dt>Leukemia</dt>\n<dd>A cancer of the blood.</dd>\n</dl>", "")
    chapter = Chapter(Path("01-about.md"), "about", "About",
                      "<h2>What is leukemia?</h2><p>Leukemias differ. Leukemia is linked to "
                      "the Epstein-Barr virus, or EBV; leukemia again.</p>"
                      '<p><a href="#x">EBV</a></p>', "")
    linked, terms = link_glossary([chapter, glossary])
    assert '<dt id="glossary-ebv-epstein-barr-virus">EBV (Epstein-Barr virus)</dt>' in terms.html
    assert linked.html.count('class="glossary-link"') == 2
    assert "<h2>What is leukemia?</h2>" in linked.html  # headings stay plain
    assert "<p>Leukemias differ. " in linked.html  # whole words only
    assert '<a class="glossary-link" href="#glossary-leukemia">Leukemia</a> is' in linked.html
    # "EBV" and "Epstein-Barr virus" are one entry: only the first use is linked.
    assert ('<a class="glossary-link" href="#glossary-ebv-epstein-barr-virus">'
            "Epstein-Barr virus</a>, or EBV;") in linked.html
    assert '<a href="#x">EBV</a>' in linked.html  # never a link inside a link
