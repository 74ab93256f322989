"""Imposition stage: reading-order pages to two-up saddle-stitch sheets.

The renderer writes the booklet in reading order (A5 or half-letter pages).
This stage places those pages two to a landscape sheet in the order that,
printed duplex on an office printer with "flip on short edge", then folded
in half and stapled on the fold, reads 1, 2, 3, ... again.

Each page becomes a form XObject (pikepdf/qpdf) drawn once on its sheet: its
content stream is copied as it is, never parsed or rewritten, so imposing
costs milliseconds and the page prints exactly as rendered.

The sheets carry a one-line printing note ("Print double-sided, flip on short
edge, fold in half") in the edition's language. Two A5 pages fill an A4
sheet edge to edge, so there is no room outside the trim: there the note is a
non-printing annotation across the top of the first sheet, which every PDF
viewer shows and no printer prints (never ink on the pages themselves). A
sheet with room around the pages (``sra4``, the print trade's oversize A4)
gets the note printed above the pages, outside the trim.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from booklet.errors import BookletError
from booklet.files import write_atomic

# Landscape sheet sizes in points (width, height). A4 is 297 x 210 mm.
SHEETS: dict[str, tuple[float, float]] = {
    "a4": (841.89, 595.28),
    "letter": (792.0, 612.0),
    "sra4": (907.09, 637.80),  # 320 x 225 mm: A4 plus room for the note outside the trim
}

MM = 72 / 25.4
# The printing note: 8 pt type in a strip this tall; printed only where the
# sheet leaves at least this much outside the trim.
NOTE_STRIP_PT = 5 * MM

# A page this close to its half is "the right size": A5 is 595.2756 pt tall
# against A4's rounded 595.28, and shrinking it by 0.001 % would only blur it.
_FIT_TOLERANCE_PT = 0.5

_INFO_KEYS = ("/Title", "/Author", "/Subject")


def saddle_stitch_order(page_count: int) -> list[tuple[int, int]]:
    """Return (left, right) 1-based page numbers for each sheet side, front then back.

    Side 1 is the front of the outer sheet (last page, first page); each next
    side works one page inwards from both ends, swapping left and right on
    the backs because turning the sheet over puts the inner pages behind.
    """
    if page_count <= 0 or page_count % 4:
        raise BookletError(
            f"the booklet has {page_count} pages, but saddle stitching needs a "
            f"positive multiple of 4: pad the booklet with notes pages to a multiple of 4"
        )
    n = page_count
    return [(n - i, i + 1) if i % 2 == 0 else (i + 1, n - i) for i in range(n // 2)]


def impose_saddle_stitch(reading_pdf: Path, out: Path, sheet: str = "a4", *,
                         right_to_left: bool = False, note: str = "",
                         language: str = "") -> Path:
    """Impose reading_pdf two-up onto landscape sheets; write out atomically; return out.

    A right_to_left booklet (Arabic, Hebrew) is bound on its right edge, so
    every sheet side is mirrored: the front cover lands on the left half.

    sheet is "a4" (for A5 pages) or "letter" (for half-letter pages). Each page
    is placed at 100 % and centred in its half when it fits there; a page of
    another, larger size is shrunk uniformly to fit its half and centred, never
    enlarged, so the type keeps the size it was designed at. Pages are measured
    by their TrimBox when they have one (press PDFs carry bleed around it) and
    clipped to it, else by their MediaBox.

    Links are dropped: the sheets are for the printer, and their targets are
    reading-order pages that do not exist in this file. The sheets ask the
    print dialog for duplex printing flipped on the short edge, and ``note``
    (in ``language``) says so to the person at the printer: printed above the
    pages when the sheet has room outside the trim, else a non-printing
    annotation (see the module docstring).

    The output is deterministic: the same input bytes and sheet give the same
    output bytes, so rebuilding an unchanged booklet does not change the file.
    """
    import pikepdf

    reading_pdf = Path(reading_pdf)
    if sheet not in SHEETS:
        raise BookletError(f"unknown sheet size {sheet!r}: use one of {', '.join(sorted(SHEETS))}")
    sheet_w, sheet_h = SHEETS[sheet]
    try:
        source = pikepdf.open(BytesIO(reading_pdf.read_bytes()))
    except FileNotFoundError:
        raise BookletError(f"{reading_pdf}: no such file to impose") from None
    except pikepdf.PdfError as e:
        raise BookletError(f"{reading_pdf}: not a readable PDF ({e})") from None

    with source:
        try:
            order = saddle_stitch_order(len(source.pages))
            if right_to_left:
                order = [(right, left) for left, right in order]
        except BookletError as e:
            raise BookletError(f"{reading_pdf}: {e.message}") from None

        sheets = pikepdf.new()
        half_w = sheet_w / 2
        forms = [_page_form(sheets, page) for page in source.pages]
        for left, right in order:
            side = sheets.add_blank_page(page_size=(sheet_w, sheet_h))
            names, drawing = pikepdf.Dictionary(), []
            for number, x0 in ((left, 0.0), (right, half_w)):
                form, box = forms[number - 1]
                name = pikepdf.Name(f"/P{number}")
                names[name] = form
                drawing.append(_placement(name, box, x0, half_w, sheet_h))
            side.obj.Resources = pikepdf.Dictionary(XObject=names)
            side.obj.Contents = sheets.make_stream(b"\n".join(drawing))
        if note:
            _add_note(sheets, note, language, right_to_left, forms[0][1], half_w, sheet_h)
        _copy_metadata(source, sheets, right_to_left)
        buffer = BytesIO()
        # The /ID comes from the output's own bytes: same input, same file.
        sheets.save(buffer, deterministic_id=True, min_version=source.pdf_version,
                    compress_streams=True,
                    object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return write_atomic(Path(out), buffer.getvalue())


def _page_form(sheets, page) -> tuple[object, tuple[float, float, float, float]]:
    """The page as a form XObject in sheets, clipped to its trim; and that box.

    The form's bounding box is the TrimBox (else the MediaBox), so bleed never
    spills across the fold onto the neighbouring page.
    """
    import pikepdf

    if int(page.obj.get("/Rotate", 0)) % 360:
        # A rotated page keeps its orientation through the form's /Matrix; lay it flat.
        page.obj.Rotate = 0
    box = [float(v) for v in (page.obj.get("/TrimBox") or page.mediabox)]
    left, bottom = min(box[0], box[2]), min(box[1], box[3])
    right, top = max(box[0], box[2]), max(box[1], box[3])
    form = page.as_form_xobject(handle_transformations=False)
    form.BBox = pikepdf.Array([left, bottom, right, top])
    return sheets.copy_foreign(form), (left, bottom, right - left, top - bottom)


def _placement(name, box: tuple[float, float, float, float], x0: float, half_w: float,
               half_h: float) -> bytes:
    """Content that draws form name centred in the half starting at x0, shrunk only if too big."""
    left, bottom, w, h = box
    fits = w <= half_w + _FIT_TOLERANCE_PT and h <= half_h + _FIT_TOLERANCE_PT
    scale = 1.0 if fits else min(half_w / w, half_h / h)
    tx = x0 + (half_w - w * scale) / 2 - left * scale
    ty = (half_h - h * scale) / 2 - bottom * scale
    numbers = " ".join(_number(v) for v in (scale, 0, 0, scale, tx, ty))
    return f"q {numbers} cm {name} Do Q".encode()


def _number(value: float) -> str:
    """A PDF number: fixed decimals, so the same placement gives the same bytes."""
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _copy_metadata(source, sheets, right_to_left: bool) -> None:
    """Carry the title, author, subject and language over to the sheets.

    Viewers and print queues show the title; the language lets a screen
    reader pick a voice even though the sheets themselves are not tagged.
    The viewer preferences preset the print dialog to what the fold needs.
    """
    import pikepdf

    for key in _INFO_KEYS:
        value = source.docinfo.get(key)
        if value is not None and str(value):
            sheets.docinfo[key] = pikepdf.String(str(value))
    lang = source.Root.get("/Lang")
    if lang is not None:
        sheets.Root.Lang = pikepdf.String(str(lang))
    preferences = pikepdf.Dictionary(Duplex=pikepdf.Name.DuplexFlipShortEdge)
    if right_to_left:
        preferences.Direction = pikepdf.Name.R2L
    sheets.Root.ViewerPreferences = preferences


def _note_pdf(note: str, language: str, right_to_left: bool, width: float) -> bytes:
    """The note alone on a strip of the sheet's width, set by WeasyPrint in the reader's
    script (Noto fonts), so it reads the same on every viewer and printer."""
    import hashlib
    import html

    import weasyprint

    source = f"""<!DOCTYPE html><html lang="{html.escape(language or 'en')}"
dir="{'rtl' if right_to_left else 'ltr'}"><head><meta charset="utf-8"><style>
@page {{ size: {width:.2f}pt {NOTE_STRIP_PT:.2f}pt; margin: 0; }}
html, body {{ margin: 0; }}
p {{ margin: 0; text-align: center; white-space: nowrap; color: #3d3d3d;
  font: 8pt/{NOTE_STRIP_PT:.2f}pt "Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew",
  "Noto Sans CJK SC", sans-serif; }}
</style></head><body><p>{html.escape(note)}</p></body></html>"""
    identifier = hashlib.md5(source.encode(), usedforsecurity=False).hexdigest()
    return weasyprint.HTML(string=source).write_pdf(pdf_identifier=identifier.encode(),
                                                     custom_metadata=False)


def _add_note(sheets, note: str, language: str, right_to_left: bool,
              page_box: tuple[float, float, float, float], half_w: float,
              sheet_h: float) -> None:
    """Put the printing note on the first sheet side: printed outside the trim where
    the sheet has room above the pages, else as a non-printing annotation."""
    import pikepdf

    sheet_w = 2 * half_w
    with pikepdf.open(BytesIO(_note_pdf(note, language, right_to_left, sheet_w))) as strip:
        form = sheets.copy_foreign(strip.pages[0].as_form_xobject())
    _, _, w, h = page_box
    scale = min(1.0, half_w / w, sheet_h / h)
    room = (sheet_h - h * scale) / 2  # above the trimmed pages
    side = sheets.pages[0].obj
    if room >= NOTE_STRIP_PT:
        y = sheet_h - room + (room - NOTE_STRIP_PT) / 2
        side.Resources.XObject[pikepdf.Name.Note] = form
        drawing = f"q 1 0 0 1 0 {_number(y)} cm /Note Do Q".encode()
        side.Contents = sheets.make_stream(side.Contents.read_bytes() + b"\n" + drawing)
        return
    # No room outside the trim: an annotation over the pages' top margin that
    # viewers show and printers skip (flags 0: the Print flag is not set).
    top = sheet_h - 0.5 * MM
    annotation = sheets.make_indirect(pikepdf.Dictionary(
        Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.FreeText,
        Rect=pikepdf.Array([0, top - NOTE_STRIP_PT, sheet_w, top]),
        Contents=pikepdf.String(note), F=0, DA=pikepdf.String("0.24 g /Helv 8 Tf"),
        Q=1, Border=pikepdf.Array([0, 0, 0]), AP=pikepdf.Dictionary(N=form)))
    side.Annots = pikepdf.Array([annotation])
