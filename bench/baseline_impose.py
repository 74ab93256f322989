"""Baseline for bench/run.py: the pypdf imposition booklet used before form XObjects.

Kept verbatim (apart from this docstring) from commit 0abcb6f so the benchmark
can measure the old way and the new one side by side in the same run.
"""

from __future__ import annotations

import hashlib
from io import BytesIO
from pathlib import Path

from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import PdfReadError
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    NameObject,
    RectangleObject,
    TextStringObject,
)

from booklet.errors import BookletError
from booklet.files import write_atomic

# Landscape sheet sizes in points (width, height). A4 is 297 x 210 mm.
SHEETS: dict[str, tuple[float, float]] = {
    "a4": (841.89, 595.28),
    "letter": (792.0, 612.0),
}

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
                         right_to_left: bool = False) -> Path:
    """Impose reading_pdf two-up onto landscape sheets; write out atomically; return out.

    A right_to_left booklet (Arabic, Hebrew) is bound on its right edge, so
    every sheet side is mirrored: the front cover lands on the left half.

    sheet is "a4" (for A5 pages) or "letter" (for half-letter pages). Each page
    is placed at 100 % and centred in its half when it fits there; a page of
    another, larger size is shrunk uniformly to fit its half and centred, never
    enlarged, so the type keeps the size it was designed at. Pages are measured
    by their TrimBox when they have one (press PDFs carry bleed around it) and
    clipped to it, else by their MediaBox.

    The output is deterministic: the same input bytes and sheet give the same
    output bytes, so rebuilding an unchanged booklet does not change the file.
    """
    reading_pdf = Path(reading_pdf)
    if sheet not in SHEETS:
        raise BookletError(f"unknown sheet size {sheet!r}: use one of {', '.join(sorted(SHEETS))}")
    sheet_w, sheet_h = SHEETS[sheet]

    try:
        source = reading_pdf.read_bytes()
        reader = PdfReader(BytesIO(source))
        pages = list(reader.pages)
    except FileNotFoundError:
        raise BookletError(f"{reading_pdf}: no such file to impose") from None
    except PdfReadError as e:
        raise BookletError(f"{reading_pdf}: not a readable PDF ({e})") from None

    try:
        order = saddle_stitch_order(len(pages))
        if right_to_left:
            order = [(right, left) for left, right in order]
    except BookletError as e:
        raise BookletError(f"{reading_pdf}: {e.message}") from None

    writer = PdfWriter()
    # Blank pages do not raise the header version the way add_page does, and
    # WeasyPrint's transparency and fonts need the source's version.
    writer.pdf_header = reader.pdf_header
    half_w = sheet_w / 2
    for left, right in order:
        side = writer.add_blank_page(width=sheet_w, height=sheet_h)
        for number, x0 in ((left, 0.0), (right, half_w)):
            _place(side, pages[number - 1], x0, half_w, sheet_h)
        # Merging parses the content streams; without this they are written raw.
        side.compress_content_streams()

    _copy_metadata(reader, writer)
    # pypdf writes no /ID unless asked, and a random one if it makes one;
    # deriving it from the input keeps rebuilds byte-identical and still gives
    # distinct files distinct IDs. pypdf has no public setter for it.
    digest = hashlib.sha256(source + b"\0" + sheet.encode()).digest()[:16]
    writer._ID = ArrayObject([ByteStringObject(digest), ByteStringObject(digest)])

    buffer = BytesIO()
    writer.write(buffer)
    return write_atomic(Path(out), buffer.getvalue())


def _place(side: PageObject, page: PageObject, x0: float, half_w: float, half_h: float) -> None:
    """Draw page onto side, centred in the half starting at x0, shrunk only if too big.

    Links are dropped: the sheets are for the printer, and their targets are
    reading-order pages that no longer exist in this file.
    """
    if page.rotation % 360:
        # Merging ignores /Rotate, so a rotated page would land sideways.
        page.transfer_rotation_to_content()
    box = RectangleObject(page["/TrimBox"]) if "/TrimBox" in page else page.mediabox
    # pypdf clips merged content to the CropBox; make that the trim so bleed
    # never spills across the fold onto the neighbouring page.
    page.cropbox = box
    annots = page.get("/Annots")
    if annots is not None:
        kept = [a for a in annots.get_object() if a.get_object().get("/Subtype") != "/Link"]
        if kept:
            page[NameObject("/Annots")] = ArrayObject(kept)
        else:
            del page["/Annots"]

    w, h = float(box.width), float(box.height)
    fits = w <= half_w + _FIT_TOLERANCE_PT and h <= half_h + _FIT_TOLERANCE_PT
    scale = 1.0 if fits else min(half_w / w, half_h / h)
    ctm = (
        Transformation()
        .translate(-float(box.left), -float(box.bottom))
        .scale(scale, scale)
        .translate(x0 + (half_w - w * scale) / 2, (half_h - h * scale) / 2)
    )
    side.merge_transformed_page(page, ctm)


def _copy_metadata(reader: PdfReader, writer: PdfWriter) -> None:
    """Carry the title, author, subject and language over to the sheets.

    Viewers and print queues show the title; the language lets a screen
    reader pick a voice even though the sheets themselves are not tagged.
    """
    info = reader.metadata or {}
    writer.add_metadata({key: info[key] for key in _INFO_KEYS if info.get(key)})
    lang = reader.trailer["/Root"].get("/Lang")
    if lang is not None:
        writer.root_object[NameObject("/Lang")] = TextStringObject(str(lang.get_object()))
