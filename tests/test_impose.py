"""Tests for the imposition stage: real WeasyPrint PDFs in, imposed sheets read back."""

from __future__ import annotations

import re
from functools import cache
from io import BytesIO
from pathlib import Path

import pikepdf
import pypdfium2
import pytest
from pypdf import PdfReader
from weasyprint import HTML

from booklet.errors import BookletError
from booklet.impose import SHEETS, impose_saddle_stitch, saddle_stitch_order

A5 = (419.527559, 595.275591)
HALF_LETTER = (396.0, 612.0)


@cache
def _reading_pdf_bytes(pages: int, size: str = "A5", bleed: str | None = None) -> bytes:
    """Render a reading-order handout whose page k shows only a big centred "Page k".

    Cached because WeasyPrint dominates the run time and the PDFs never change.
    The grey page background makes each page's extent visible when rendered.
    """
    bleed_css = f"bleed: {bleed};" if bleed else ""
    css = (
        f"@page {{ size: {size}; margin: 15mm; background: #ddd; {bleed_css} }}"
        "html, body { height: 100%; margin: 0 }"
        "section { break-after: page; height: 100%; display: flex;"
        " align-items: center; justify-content: center }"
        "h1 { font-size: 48pt; margin: 0 }"
    )
    body = "".join(f"<section><h1>Page {k}</h1></section>" for k in range(1, pages + 1))
    html = (
        '<html lang="en-GB"><head><meta charset="utf-8"><title>Knee surgery</title>'
        '<meta name="author" content="Physio team">'
        '<meta name="description" content="After your operation">'
        f"<style>{css}</style></head><body>{body}</body></html>"
    )
    pdf = HTML(string=html).write_pdf()
    assert len(PdfReader(BytesIO(pdf)).pages) == pages  # the fixture itself is right
    return pdf


def _reading_pdf(tmp_path: Path, pages: int, size: str = "A5", bleed: str | None = None) -> Path:
    path = tmp_path / f"reading-{pages}-{size.replace(' ', '-')}-{bleed}.pdf"
    path.write_bytes(_reading_pdf_bytes(pages, size, bleed))
    return path


def _labels(pdf: Path, index: int = 0) -> list[tuple[str, float]]:
    """Return (text, x of its first glyph's origin on the page) for each text chunk.

    Read with PDFium, which draws form XObjects as a printer does, so it sees
    where an imposed page's text really lands on the sheet.
    """
    import ctypes

    import pypdfium2.raw as pdfium_c

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        textpage = doc[index].get_textpage()
        found: list[tuple[str, float]] = []
        chunk, x0, last = "", 0.0, None
        for i in range(textpage.count_chars()):
            ch = textpage.get_text_range(i, 1)
            x, y = ctypes.c_double(), ctypes.c_double()
            pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, x, y)
            if ch in "\r\n" or (last is not None and abs(x.value - last) > 100):
                if chunk.strip():
                    found.append((chunk.strip(), x0))
                chunk, last = "", None
                if ch in "\r\n":
                    continue
            if not chunk:
                x0 = x.value
            chunk += ch
            last = x.value
        if chunk.strip():
            found.append((chunk.strip(), x0))
        return found
    finally:
        doc.close()


def _sides(pdf: Path) -> list[tuple[int, int]]:
    """Read each sheet side's (left, right) page labels by where the text sits."""
    sides = []
    for index, page in enumerate(PdfReader(pdf).pages):
        middle = float(page.mediabox.width) / 2
        halves: dict[str, str] = {"left": "", "right": ""}
        for text, x in _labels(pdf, index):
            halves["left" if x < middle else "right"] += text
        numbers = [re.fullmatch(r"Page(\d+)", h.replace(" ", "")) for h in halves.values()]
        assert all(numbers), f"unexpected labels on a side: {halves}"
        sides.append((int(numbers[0].group(1)), int(numbers[1].group(1))))
    return sides


def _fold_and_read(sides: list[tuple[int, int]]) -> list[int]:
    """Simulate duplex short-edge printing, folding and nesting; return the reading order.

    Independent of the imposition rule: it only knows the physics. Sides come
    in printing order (front of sheet 1, back of sheet 1, front of sheet 2, ...).
    Printing flips the sheet on its short edge, so a panel of the back image at
    x sits behind the front panel at (sheet width - x): the back's left half
    is behind the front's right half. Each sheet is folded with its front
    outside, and the sheets are nested with the first one printed outermost.
    """
    assert len(sides) % 2 == 0
    sheets = []
    for front, back in zip(sides[0::2], sides[1::2], strict=True):
        # Panels indexed by physical position on the sheet seen from the front.
        front_at = {"left": front[0], "right": front[1]}
        back_at = {"right": back[0], "left": back[1]}  # mirrored by the flip
        # Folding makes two leaves, each with a recto (read first) and a verso.
        # The right-hand leaf's recto is outside (front), its verso inside (back);
        # the left-hand leaf is read from the inside (back) to the outside (front).
        right_leaf = (front_at["right"], back_at["right"])
        left_leaf = (back_at["left"], front_at["left"])
        sheets.append((right_leaf, left_leaf))
    # Nested sheets: right leaves from the outside in, then left leaves from the inside out.
    leaves = [right for right, _ in sheets] + [left for _, left in reversed(sheets)]
    return [number for leaf in leaves for number in leaf]


def _render(pdf: Path, page_index: int, dpi: int):
    """Render one sheet side to a greyscale PIL image, as a reader would see it."""
    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        return doc[page_index].render(scale=dpi / 72).to_pil().convert("L")
    finally:
        doc.close()


def _half_extents(pdf: Path, page_index: int, dpi: int = 36):
    """Render a sheet; return its size in px, and per half the grey page box and the label box."""
    image = _render(pdf, page_index, dpi)
    width, height = image.size
    result = {}
    for name, x0, x1 in (("left", 0, width // 2), ("right", width // 2, width)):
        half = image.crop((x0, 0, x1, height))
        # Anything darker than paper white is page (grey #ddd) or ink; ink is near black.
        page_box = half.point(lambda v: 255 if v < 245 else 0).getbbox()
        ink_box = half.point(lambda v: 255 if v < 100 else 0).getbbox()
        result[name] = (
            (page_box[0] + x0, page_box[1], page_box[2] + x0, page_box[3]),
            (ink_box[0] + x0, ink_box[1], ink_box[2] + x0, ink_box[3]),
        )
    return (width, height), result


def _rule(n: int) -> list[tuple[int, int]]:
    return [(n - i, i + 1) if i % 2 == 0 else (i + 1, n - i) for i in range(n // 2)]


# 1. The order rule itself.


def test_order_for_8_and_12_pages():
    assert saddle_stitch_order(8) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    assert saddle_stitch_order(12) == [(12, 1), (2, 11), (10, 3), (4, 9), (8, 5), (6, 7)]
    for n in (4, 8, 12, 16, 40):
        order = saddle_stitch_order(n)
        assert order == _rule(n)
        assert sorted(p for side in order for p in side) == list(range(1, n + 1))


@pytest.mark.parametrize("count", [0, 6, 10, -4])
def test_order_rejects_counts_not_a_multiple_of_4(count):
    with pytest.raises(BookletError, match=rf"(?<!\d){count} pages") as info:
        saddle_stitch_order(count)
    assert "pad the booklet with notes pages to a multiple of 4" in info.value.message


# 2. A5 on A4.


def test_a5_eight_pages_on_a4(tmp_path):
    out = impose_saddle_stitch(_reading_pdf(tmp_path, 8), tmp_path / "sheets.pdf")
    assert out == tmp_path / "sheets.pdf"
    reader = PdfReader(out)
    assert len(reader.pages) == 4
    for page in reader.pages:
        box = page.mediabox
        assert (float(box.left), float(box.bottom)) == (0, 0)
        assert (float(box.width), float(box.height)) == pytest.approx((841.89, 595.28))
        assert box.width > box.height
    assert _sides(out) == [(8, 1), (2, 7), (6, 3), (4, 5)]


def test_document_info_and_language_are_kept(tmp_path):
    reader = PdfReader(impose_saddle_stitch(_reading_pdf(tmp_path, 4), tmp_path / "s.pdf"))
    assert reader.metadata.title == "Knee surgery"
    assert reader.metadata.author == "Physio team"
    assert reader.metadata.subject == "After your operation"
    assert reader.trailer["/Root"]["/Lang"] == "en-GB"


# 3. Half-letter on Letter.


def test_half_letter_on_letter(tmp_path):
    reading = _reading_pdf(tmp_path, 8, size="5.5in 8.5in")
    out = impose_saddle_stitch(reading, tmp_path / "sheets.pdf", sheet="letter")
    reader = PdfReader(out)
    assert len(reader.pages) == 4
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == (792, 612)
    assert _sides(out) == [(8, 1), (2, 7), (6, 3), (4, 5)]
    # Half-letter fills its half exactly: the label lands where it was, shifted by the half.
    (source_x,) = [x for _, x in _labels(reading)]
    right_x = [x for _, x in _labels(out) if x > 396]
    assert right_x == [pytest.approx(396 + source_x, abs=0.01)]


# 4. Placement: each page fills its half, label centred in it.


def test_a5_pages_fill_their_halves_of_a4(tmp_path):
    out = impose_saddle_stitch(_reading_pdf(tmp_path, 4), tmp_path / "sheets.pdf")
    (width, height), halves = _half_extents(out, 0)
    for name, centre in (("left", width / 4), ("right", 3 * width / 4)):
        page_box, ink_box = halves[name]
        # The grey A5 page covers its whole half (to within a pixel at 36 dpi)...
        expected = (0, 0, width // 2, height) if name == "left" else (width // 2, 0, width, height)
        assert page_box == pytest.approx(expected, abs=1), name
        # ...and its label sits in the middle of that half, not shifted towards the fold.
        assert (ink_box[0] + ink_box[2]) / 2 == pytest.approx(centre, abs=2), name
        assert (ink_box[1] + ink_box[3]) / 2 == pytest.approx(height / 2, abs=6), name


def test_a5_unscaled_and_centred_exactly(tmp_path):
    reading = _reading_pdf(tmp_path, 4)
    out = impose_saddle_stitch(reading, tmp_path / "sheets.pdf")
    (source_x,) = [x for _, x in _labels(reading)]
    gutter = (841.89 / 2 - A5[0]) / 2  # A5 is 1.4 pt narrower than half an A4
    xs = sorted(x for _, x in _labels(out))
    assert xs == [
        pytest.approx(gutter + source_x, abs=0.01),
        pytest.approx(841.89 / 2 + gutter + source_x, abs=0.01),
    ]


def test_a5_on_letter_is_shrunk_to_fit_its_half(tmp_path):
    out = impose_saddle_stitch(_reading_pdf(tmp_path, 4), tmp_path / "s.pdf", sheet="letter")
    (width, height), halves = _half_extents(out, 0)
    scale = 396 / A5[0]  # width-bound: A5 is wider than half a Letter
    page_height = A5[1] * scale * 36 / 72
    for name in ("left", "right"):
        page_box, _ = halves[name]
        assert page_box[2] - page_box[0] == pytest.approx(width / 2, abs=1)
        assert page_box[3] - page_box[1] == pytest.approx(page_height, abs=1)
        assert page_box[1] == pytest.approx((height - page_height) / 2, abs=1)
    assert _sides(out) == [(4, 1), (2, 3)]


def test_smaller_pages_are_centred_not_enlarged(tmp_path):
    reading = _reading_pdf(tmp_path, 4, size="A6")
    out = impose_saddle_stitch(reading, tmp_path / "s.pdf")
    source = PdfReader(reading).pages[0]
    (source_x,) = [x for _, x in _labels(reading)]
    gutter = (841.89 / 2 - float(source.mediabox.width)) / 2
    xs = sorted(x for _, x in _labels(out))
    assert xs == [
        pytest.approx(gutter + source_x, abs=0.01),
        pytest.approx(841.89 / 2 + gutter + source_x, abs=0.01),
    ]


def test_trimbox_is_used_and_bleed_is_clipped(tmp_path):
    plain = impose_saddle_stitch(_reading_pdf(tmp_path, 4), tmp_path / "plain.pdf")
    bled = impose_saddle_stitch(_reading_pdf(tmp_path, 4, bleed="3mm"), tmp_path / "bled.pdf")
    assert PdfReader(tmp_path / "reading-4-A5-3mm.pdf").pages[0].mediabox.width > A5[0]
    # Placed by the trim, not scaled down by the bleed: labels land at the same spots...
    positions = [sorted(x for _, x in _labels(p)) for p in (plain, bled)]
    assert positions[1] == pytest.approx(positions[0], abs=0.01)
    # ...and the bleed is cut at the trim: the 1.4 pt gutter at the fold stays paper
    # white, where untrimmed bleed would paint it grey from both sides.
    for pdf in (plain, bled):
        image = _render(pdf, 0, dpi=144)
        fold = round(841.89 / 2 * 2)  # the pixel column under the fold at 2 px/pt
        for y in range(0, image.height, 50):
            assert image.getpixel((fold, y)) > 245, (pdf.name, y)
            assert image.getpixel((fold - 4, y)) < 245 and image.getpixel((fold + 4, y)) < 245


# 5. Determinism.


def test_same_input_gives_byte_identical_output(tmp_path):
    reading = _reading_pdf(tmp_path, 8)
    first = impose_saddle_stitch(reading, tmp_path / "a.pdf").read_bytes()
    second = impose_saddle_stitch(reading, tmp_path / "b.pdf").read_bytes()
    assert first == second
    # The /ID is there and derived from the input, not random.
    file_id = PdfReader(BytesIO(first)).trailer["/ID"]
    assert file_id[0] == file_id[1]
    other = impose_saddle_stitch(reading, tmp_path / "c.pdf", sheet="letter")
    assert PdfReader(other).trailer["/ID"][0] != file_id[0]


# 6. Wrong page count.


def test_six_page_input_is_refused(tmp_path):
    out = tmp_path / "sheets.pdf"
    with pytest.raises(BookletError, match=r"(?<!\d)6 pages") as info:
        impose_saddle_stitch(_reading_pdf(tmp_path, 6), out)
    assert "pad the booklet with notes pages to a multiple of 4" in info.value.message
    assert not out.exists()


def test_unknown_sheet_is_refused(tmp_path):
    with pytest.raises(BookletError, match="a3.*a4, letter"):
        impose_saddle_stitch(_reading_pdf(tmp_path, 4), tmp_path / "s.pdf", sheet="a3")


# 7. Folding: a second, physical derivation of the order.


def test_fold_simulation_on_known_layout():
    # Hand-checked against a folded paper dummy: 8 pages on 2 sheets.
    assert _fold_and_read([(8, 1), (2, 7), (6, 3), (4, 5)]) == list(range(1, 9))
    # A wrong back (not mirrored) must fail, or the simulation proves nothing.
    assert _fold_and_read([(8, 1), (7, 2), (6, 3), (5, 4)]) != list(range(1, 9))


@pytest.mark.parametrize("n", [4, 8, 12, 16, 20, 64])
def test_folded_rule_reads_in_order(n):
    assert _fold_and_read(saddle_stitch_order(n)) == list(range(1, n + 1))


def test_folded_imposed_pdf_reads_in_order(tmp_path):
    out = impose_saddle_stitch(_reading_pdf(tmp_path, 12), tmp_path / "sheets.pdf")
    assert _fold_and_read(_sides(out)) == list(range(1, 13))


def test_sheet_sizes_are_exact():
    assert SHEETS == {"a4": (841.89, 595.28), "letter": (792.0, 612.0),
                      "sra4": (907.09, 637.80)}  # 320 x 225 mm


# 8. Form XObjects: each page copied once as it was rendered; print hints; links dropped.


def test_each_page_is_placed_once_with_its_content_unchanged(tmp_path):
    import pikepdf

    reading = _reading_pdf(tmp_path, 8)
    out = impose_saddle_stitch(reading, tmp_path / "sheets.pdf")
    with pikepdf.open(reading) as source, pikepdf.open(out) as sheets:
        originals = [page.obj.Contents.read_bytes() for page in source.pages]
        placed = []
        for side in sheets.pages:
            forms = side.obj.Resources.XObject
            assert len(forms) == 2
            placed += [forms[name].read_bytes() for name in forms]
            # Each side only draws its two forms: nothing of the pages is re-encoded there.
            assert side.obj.Contents.read_bytes().count(b" Do") == 2
    assert sorted(placed) == sorted(originals)


def test_sheets_ask_for_duplex_flipped_on_the_short_edge(tmp_path):
    import pikepdf

    reading = _reading_pdf(tmp_path, 4)
    with pikepdf.open(impose_saddle_stitch(reading, tmp_path / "s.pdf")) as pdf:
        assert pdf.Root.ViewerPreferences.Duplex == pikepdf.Name.DuplexFlipShortEdge
        assert "/Direction" not in pdf.Root.ViewerPreferences
    with pikepdf.open(impose_saddle_stitch(reading, tmp_path / "r.pdf",
                                           right_to_left=True)) as pdf:
        assert pdf.Root.ViewerPreferences.Direction == pikepdf.Name.R2L


def test_links_are_dropped_on_sheets(tmp_path):
    pages = "".join(f'<section><a href="https://example.org/{k}">Page {k}</a></section>'
                    for k in range(1, 5))
    html = ("<html><head><style>@page { size: A5 } section { break-after: page }</style>"
            f"</head><body>{pages}</body></html>")
    reading = tmp_path / "linked.pdf"
    reading.write_bytes(HTML(string=html).write_pdf())
    assert "/Annots" in PdfReader(reading).pages[0]
    out = impose_saddle_stitch(reading, tmp_path / "s.pdf")
    assert all("/Annots" not in page for page in PdfReader(out).pages)
    assert _sides(out) == [(4, 1), (2, 3)]


# 9. The printing note: never ink on the pages; outside the trim where the sheet has room.

NOTE = "Print double-sided, flip on short edge, fold in half."


def _printed_text(pdf: Path, index: int = 0) -> list[tuple[str, float]]:
    """(text, y of its baseline) of each line PDFium finds in the page content
    (annotations are not page content: a printer skips a non-printing one)."""
    import ctypes

    import pypdfium2.raw as pdfium_c

    doc = pypdfium2.PdfDocument(str(pdf))
    try:
        textpage = doc[index].get_textpage()
        lines, chunk, y0 = [], "", 0.0
        for i in range(textpage.count_chars()):
            ch = textpage.get_text_range(i, 1)
            if ch in "\r\n":
                if chunk.strip():
                    lines.append((chunk.strip(), y0))
                chunk = ""
                continue
            if not chunk:
                x, y = ctypes.c_double(), ctypes.c_double()
                pdfium_c.FPDFText_GetCharOrigin(textpage.raw, i, x, y)
                y0 = y.value
            chunk += ch
        if chunk.strip():
            lines.append((chunk.strip(), y0))
        return lines
    finally:
        doc.close()


def test_note_on_a4_is_shown_but_never_printed(tmp_path):
    """Two A5 pages fill the A4 sheet: the note is a non-printing annotation."""
    out = impose_saddle_stitch(_reading_pdf(tmp_path, 8), tmp_path / "s.pdf", note=NOTE,
                               language="en")
    with pikepdf.open(out) as sheets:
        annotations = sheets.pages[0].obj.get("/Annots")
        assert annotations is not None and len(annotations) == 1
        note = annotations[0]
        assert note.Subtype == "/FreeText" and str(note.Contents) == NOTE
        assert int(note.F) & 4 == 0  # the Print flag is off: shown on screen, not printed
        assert "/N" in note.AP  # drawn the same in every viewer
        left, bottom, right, top = (float(v) for v in note.Rect)
        assert 0 <= left < right <= SHEETS["a4"][0] and top <= SHEETS["a4"][1]
        assert all("/Annots" not in page.obj for page in sheets.pages[1:])
    assert not any("double-sided" in text for text, _ in _printed_text(out))
    # The viewer draws it: the top strip of the rendered sheet is no longer blank.
    image = _render(out, 0, 72)
    strip = image.crop((0, 0, image.width, int(SHEETS["a4"][1] - bottom)))
    assert strip.getextrema()[0] < 128


def test_note_on_sra4_is_printed_outside_the_trim(tmp_path):
    out = impose_saddle_stitch(_reading_pdf(tmp_path, 8), tmp_path / "s.pdf", sheet="sra4",
                               note=NOTE, language="en")
    with pikepdf.open(out) as sheets:
        assert all("/Annots" not in page.obj for page in sheets.pages)
    sheet_h = SHEETS["sra4"][1]
    trim_top = (sheet_h + A5[1]) / 2  # the A5 pages are centred at 100 %
    lines = _printed_text(out)
    note = [(text, y) for text, y in lines if "double-sided" in text]
    assert note and note[0][0] == NOTE
    assert trim_top < note[0][1] < sheet_h  # above the pages, on the sheet
    assert not any("double-sided" in text for text, _ in _printed_text(out, 1))  # once


def test_note_in_a_right_to_left_language(tmp_path):
    arabic = "اطبع على الوجهين"
    out = impose_saddle_stitch(_reading_pdf(tmp_path, 4), tmp_path / "s.pdf", sheet="sra4",
                               note=arabic, language="ar", right_to_left=True)
    printed = " ".join(text for text, _ in _printed_text(out))
    assert "الوجهين" in printed or "الوجهين"[::-1] in printed
