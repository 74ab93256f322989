"""Preview stage: PNG images of PDF pages and contact sheets, for looking at a result."""

from __future__ import annotations

from pathlib import Path

from booklet.errors import BookletError
from booklet.files import write_atomic


def parse_pages(spec: str, page_count: int) -> list[int]:
    """Turn '1,3,5-7' or 'all' into 1-based page numbers within the document.

    A range reaching past the end stops at the last page ('3-999' is pages 3 to
    the end), so a large number cannot make the preview render without end.
    """
    if spec.strip().lower() == "all":
        return list(range(1, page_count + 1))
    pages: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        try:
            if "-" in part:
                first, last = (int(x) for x in part.split("-", 1))
            else:
                first = last = int(part)
        except ValueError:
            raise BookletError(f"--pages {spec!r}: use numbers and ranges like '1,3,5-7' "
                               "or 'all'") from None
        if first > last:
            raise BookletError(f"--pages {spec!r}: the range {part!r} is empty; write the "
                               f"first page first, like '{last}-{first}'")
        if not 1 <= first <= page_count:
            raise BookletError(f"--pages {spec!r}: page {first} does not exist; the PDF has "
                               f"{page_count} pages")
        pages.extend(p for p in range(first, min(last, page_count) + 1) if p not in pages)
    return pages


def render_pages(pdf: Path, out_dir: Path, *, pages: str = "1", dpi: int = 100,
                 grayscale: bool = False) -> list[Path]:
    """Write one PNG per chosen page as out_dir/<pdf stem>-p<N>.png."""
    import io

    import pypdfium2

    try:
        document = pypdfium2.PdfDocument(str(pdf))
    except pypdfium2.PdfiumError as exc:
        raise BookletError(f"{pdf}: cannot be read as a PDF ({exc})") from None
    written = []
    try:
        for number in parse_pages(pages, len(document)):
            image = document[number - 1].render(scale=dpi / 72, grayscale=grayscale).to_pil()
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            written.append(write_atomic(Path(out_dir) / f"{pdf.stem}-p{number}.png",
                                        buffer.getvalue()))
    finally:
        document.close()
    return written


def contact_sheet(images: list[Path], out: Path, columns: int = 6) -> Path:
    """Lay page images side by side on one PNG, to see a whole handout at a glance."""
    import io

    from PIL import Image

    opened = [Image.open(p).convert("RGB") for p in images]
    width = max(i.width for i in opened)
    height = max(i.height for i in opened)
    rows = (len(opened) + columns - 1) // columns
    gap = 8
    sheet = Image.new("RGB", (min(columns, len(opened)) * (width + gap) + gap,
                              rows * (height + gap) + gap), "#808080")
    for index, image in enumerate(opened):
        sheet.paste(image, (gap + (index % columns) * (width + gap),
                            gap + (index // columns) * (height + gap)))
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return write_atomic(out, buffer.getvalue())
