"""PDF stage: WeasyPrint renders the HTML with a sandboxed fetcher, written atomically.

The fetcher only serves files inside the project and the installed theme: no
network, no ``file:`` outside those folders. Anything else stops the build
with an error instead of printing a handout with a silently missing part.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from booklet.errors import BookletError
from booklet.files import write_atomic


def _sandboxed_fetcher(allowed_roots: list[Path], refused: list[str]):
    from weasyprint.urls import FatalURLFetchingError, URLFetcher

    roots = [root.resolve() for root in allowed_roots]

    class SandboxedFetcher(URLFetcher):
        """Serve data: URLs and files under the allowed roots; refuse the rest."""

        def fetch(self, url, headers=None):
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if any(path.is_relative_to(root) for root in roots):
                    return super().fetch(url, headers)
                reason = f"{url}: outside the project; copy the file into the project"
            else:
                reason = f"{url}: remote resources are not allowed; download it into assets/"
            refused.append(reason)
            raise FatalURLFetchingError(reason)

    return SandboxedFetcher(allowed_protocols={"file", "data"}, fail_on_errors=True)


def source_date() -> str | None:
    """Return SOURCE_DATE_EPOCH as an ISO date-time, for reproducible builds."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if not value:
        return None
    try:
        seconds = int(value)
    except ValueError:
        raise BookletError(f"SOURCE_DATE_EPOCH={value!r} is not a whole number of "
                           "seconds since 1970; unset it or fix it") from None
    try:
        moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (ValueError, OverflowError, OSError):
        raise BookletError(f"SOURCE_DATE_EPOCH={value!r} is out of range (a date between "
                           "1970 and 9999 is needed); unset it or fix it") from None
    if seconds < 0:
        raise BookletError(f"SOURCE_DATE_EPOCH={value!r} is before 1970; unset it or fix it")
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Layout:
    """One edition laid out in pages but not yet written: count pages, then write."""

    html: str
    document: Any  # weasyprint.Document
    variant: str | None
    # What WeasyPrint could not use (an image, a CSS rule, a resource), and text
    # that runs off the page: nothing disappears without a message.
    warnings: tuple[str, ...] = ()

    @property
    def pages(self) -> int:
        return len(self.document.pages)


class _Capture(logging.Handler):
    """Collect WeasyPrint's messages during one call, as its own tests do (capture_logs)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if message not in self.messages:
            self.messages.append(message)


@contextmanager
def captured_weasyprint_log():
    """Capture WeasyPrint's warnings and errors for one render, without silencing it globally."""
    logger = logging.getLogger("weasyprint")
    handler = _Capture()
    propagate = logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


CSS_REJECTED = "WeasyPrint ignored a CSS rule: "


def stylesheet_rejections(paths: list[Path], root: Path, fetcher) -> list[tuple[str, str]]:
    """Parse each project stylesheet alone: (file:line:col, WeasyPrint's message) per rule
    it rejects, so the place is named (the render's own log has no file).

    Through the same sandboxed fetcher as the render: an @import is refused the same way.
    """
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    found = []
    for path in paths:
        with captured_weasyprint_log() as messages:
            try:
                weasyprint.CSS(filename=str(path), url_fetcher=fetcher)
            except FatalURLFetchingError:
                continue  # the render refuses it with the reason
            except Exception as exc:  # noqa: BLE001 (tinycss2/WeasyPrint raise several kinds)
                messages.append(str(exc))
        name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        for message in messages:
            match = re.search(r" at (\d+):(\d+)", message)
            found.append((f"{name}:{match.group(1)}:{match.group(2)}" if match else name,
                          message))
    return found


def layout_pdf(html: str, *, base_url: Path, allowed_roots: list[Path],
               variant: str | None = "pdf/ua-1", stylesheets: tuple[Path, ...] = (),
               where: str = "") -> Layout:
    """Lay out the HTML into pages without writing a PDF yet.

    Booklets need the page count before they are final (they are padded to a
    multiple of 4), and laying out is most of the cost of a build. WeasyPrint's
    log is captured around this one render and returned as warnings, with
    text boxes that run past the page's content box.
    """
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    refused: list[str] = []
    fetcher = _sandboxed_fetcher(allowed_roots, refused)
    with captured_weasyprint_log() as messages:
        try:
            source = weasyprint.HTML(string=html, base_url=base_url.as_uri() + "/",
                                     url_fetcher=fetcher)
            # The variant matters already here: PDF/X sets the output intent.
            document = source.render(pdf_variant=variant)
        except FatalURLFetchingError as exc:
            reason = refused[0] if refused else str(exc)
            raise BookletError(f"refused to load {reason}") from None
    if variant and variant.startswith("pdf/x") and not (
            document.metadata.created and document.metadata.modified):
        # WeasyPrint would stamp PDF/X files with the clock: never the same twice.
        raise BookletError(f"{variant.upper()} needs a fixed date and none is known: set "
                           "published = YYYY-MM-DD in booklet.toml (or SOURCE_DATE_EPOCH)")
    prefix = f"{where}: " if where else ""
    # A rejected rule is logged by the render without its file: only then parse each
    # stylesheet alone to name it (a clean render costs no second parse).
    css_warnings = [f"{where}: {CSS_REJECTED}{message}" for where, message
                    in stylesheet_rejections(list(stylesheets), base_url, fetcher)
                    ] if messages else []
    known = {w.split(CSS_REJECTED, 1)[-1] for w in css_warnings}
    root_uri = base_url.resolve().as_uri() + "/"
    warnings = list(css_warnings) + [f"{prefix}WeasyPrint: {m.replace(root_uri, '')}"
                                     for m in messages if m not in known]
    warnings += [f"{prefix}{w}" for w in overflow_warnings(document)]
    return Layout(html, document, variant, tuple(warnings))


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def overflow_warnings(document, tolerance: float = 1.0) -> list[str]:
    """Text boxes that run past the page's content box: clipped or off the paper.

    Read from the laid-out boxes (not the text), so a long word, a long URL or
    a nowrap table cell that pushes a column off the page is found wherever it is.
    """
    from weasyprint.formatting_structure import boxes

    found: list[str] = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box  # noqa: SLF001 (WeasyPrint keeps the box tree here)
        left = page_box.content_box_x()
        right = left + page_box.width

        def walk(box, chapter: str, number=number, left=left, right=right) -> None:
            element = getattr(box, "element", None)
            if element is not None and "chapter" in (element.get("class") or "").split() \
                    and element.get("id"):
                chapter = element.get("id")
            if isinstance(box, boxes.TextBox):
                start, end = box.position_x, box.position_x + box.width
                over = max(end - right, left - start)
                if over > tolerance and box.text.strip():
                    side = "right" if end - right >= left - start else "left"
                    place = f"chapter {chapter!r}, " if chapter else ""
                    found.append(f"page {number} ({place}text {_snippet(box.text)!r}): runs "
                                 f"{over * 25.4 / 96:.0f} mm past the {side} edge of the "
                                 "page's text area and is cut off; break the long word or "
                                 "URL, or let the table cell wrap")
                return
            if isinstance(box, boxes.ParentBox):
                for child in box.children:
                    walk(child, chapter)

        for child in page_box.children:
            if not isinstance(child, boxes.MarginBox):
                walk(child, "")
    return found


def write_layout(layout: Layout, *, image_dpi: int | None = None) -> bytes:
    """Write a laid-out edition as PDF bytes (deterministic for the same HTML)."""
    identifier = hashlib.md5(layout.html.encode(), usedforsecurity=False).hexdigest()
    options: dict[str, Any] = {}
    if image_dpi:
        options.update(dpi=image_dpi, optimize_images=True)
    # pdf_tags: WeasyPrint tags PDF/UA by itself but PDF/X only when asked; a press
    # file keeps the edition's structure (reading order, headings, alt text) too.
    return layout.document.write_pdf(
        pdf_variant=layout.variant, pdf_identifier=identifier.encode(), pdf_tags=True,
        custom_metadata=False, finisher=_stable_document_id(
            identifier, right_to_left=bool(RTL_ROOT.search(layout.html[:2000]))), **options)


RTL_ROOT = re.compile(r'<html[^>]*\sdir="rtl"')


def _stable_document_id(identifier: str, right_to_left: bool = False):
    """Replace the random XMP DocumentID WeasyPrint gives PDF/X-4 with one from the HTML.

    Same inputs must give the same bytes; a random UUID in the metadata breaks that.
    A right-to-left edition also declares /Direction /R2L, so viewers show its
    two-page spreads with the first page on the right.
    """
    stable = f"xmp.did:{uuid.UUID(identifier)}".encode()

    def finish(document, pdf) -> None:
        if right_to_left:
            import pydyf

            preferences = pdf.catalog.get("ViewerPreferences")
            if not isinstance(preferences, pydyf.Dictionary):
                preferences = pydyf.Dictionary()
            preferences["Direction"] = "/R2L"
            pdf.catalog["ViewerPreferences"] = preferences
        reference = pdf.catalog.get("Metadata")
        if reference is None:
            return
        stream = pdf.objects[int(bytes(reference).split()[0])]
        stream.stream = [re.sub(rb"xmp\.did:[0-9a-fA-F-]{36}", stable, bytes(chunk))
                         for chunk in stream.stream]

    return finish


def write_pdf(data: bytes, out: Path) -> Path:
    return write_atomic(out, data)


# ---------------------------------------------------------------------------
# The DRAFT mark: stamped onto the laid-out pages, verified before writing
# ---------------------------------------------------------------------------

DRAFT_XOBJECT = "/BookletDraftMark"
_DRAFT_KEY = "/BookletDraft"


def draft_mark_pdf(mark: str, language: str, *, rtl: bool = False,
                   cmyk: bool = False) -> bytes:
    """Lay out the DRAFT word alone on a transparent A4 page, from the tool's own CSS.

    No project stylesheet or template takes part, so nothing a project writes
    can hide, shrink or recolour the mark. A longer word in another language
    gets a smaller size, so it fits the page.
    """
    import html as html_module

    import weasyprint

    size = 110 if len(mark) <= 5 else max(24, 560 // len(mark))
    colour = "device-cmyk(0 0 0 1 / 0.16)" if cmyk else "rgba(0, 0, 0, 0.16)"
    spacing = "0" if language.split("-")[0] in {"ar", "fa", "ur", "hi", "mr", "ne"} else "8pt"
    source = f"""<!DOCTYPE html><html lang="{html_module.escape(language)}"
dir="{'rtl' if rtl else 'ltr'}"><head><meta charset="utf-8"><style>
@page {{ size: 210mm 297mm; margin: 0; }}
html, body {{ margin: 0; background: none; }}
div {{ position: absolute; top: 42%; left: 0; right: 0; text-align: center;
  font-family: "Noto Sans", "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans Devanagari",
  "Noto Sans CJK SC", sans-serif;
  font-size: {size}pt; font-weight: 700; letter-spacing: {spacing};
  color: {colour}; transform: rotate(-40deg); white-space: nowrap; }}
</style></head><body><div>{html_module.escape(mark)}</div></body></html>"""
    document = weasyprint.HTML(string=source).render()
    identifier = hashlib.md5(source.encode(), usedforsecurity=False).hexdigest()
    return document.write_pdf(pdf_identifier=identifier.encode(), custom_metadata=False)


def _outlined(stamp, pikepdf) -> None:
    """Turn the mark into opaque outlined letters: PDF/X-1a allows no transparency.

    Thin outlines over the page cover almost nothing of the text beneath them,
    where a solid tint would.
    """
    page = stamp.pages[0]
    ops = []
    for operands, operator in pikepdf.parse_content_stream(page):
        name = str(operator)
        if name == "gs":
            continue  # the transparency
        if name in ("scn", "sc"):
            ops.append(pikepdf.ContentStreamInstruction(
                [0, 0, 0, 0.45], pikepdf.Operator("k")))
            ops.append(pikepdf.ContentStreamInstruction(
                [0, 0, 0, 0.45], pikepdf.Operator("K")))
            continue
        if name == "cs":
            continue
        ops.append(pikepdf.ContentStreamInstruction(operands, operator))
        if name == "BT":
            ops.append(pikepdf.ContentStreamInstruction([1], pikepdf.Operator("Tr")))
            ops.append(pikepdf.ContentStreamInstruction([1.6], pikepdf.Operator("w")))
    page.obj.Contents = stamp.make_stream(pikepdf.unparse_content_stream(ops))
    if "/ExtGState" in page.obj.Resources:
        del page.obj.Resources["/ExtGState"]


def stamp_draft(data: bytes, mark_pdf: bytes, *, outline: bool = False) -> bytes:
    """Draw the mark over every page of a written PDF, after layout.

    The page's own content is wrapped in q/Q so nothing it leaves behind (a
    clip, a colour) reaches the mark; the mark is an artifact for PDF/UA.
    ``outline`` draws opaque outlined letters, for PDF/X-1a (no transparency).
    """
    import io

    import pikepdf

    pdf = pikepdf.open(io.BytesIO(data))
    stamp = pikepdf.open(io.BytesIO(mark_pdf))
    if outline:
        _outlined(stamp, pikepdf)
    form = pdf.copy_foreign(stamp.pages[0].as_form_xobject())
    form[_DRAFT_KEY] = True
    fx0, fy0, fx1, fy1 = (float(v) for v in form.BBox)
    for page in pdf.pages:
        x0, y0, x1, y1 = (float(v) for v in page.trimbox)
        scale = min((x1 - x0) / (fx1 - fx0), (y1 - y0) / (fy1 - fy0))
        tx = x0 + ((x1 - x0) - (fx1 - fx0) * scale) / 2 - fx0 * scale
        ty = y0 + ((y1 - y0) - (fy1 - fy0) * scale) / 2 - fy0 * scale
        if "/Resources" not in page.obj:
            page.obj.Resources = pikepdf.Dictionary()
        resources = page.obj.Resources
        if "/XObject" not in resources:
            resources.XObject = pikepdf.Dictionary()
        resources.XObject[DRAFT_XOBJECT] = form
        page.contents_add(pikepdf.Stream(pdf, b"q\n"), prepend=True)
        page.contents_add(pikepdf.Stream(pdf, (
            f"\nQ\n/Artifact BMC q {scale:.6f} 0 0 {scale:.6f} {tx:.4f} {ty:.4f} cm "
            f"{DRAFT_XOBJECT} Do Q EMC\n").encode()))
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def draft_problems(data: bytes) -> list[str]:
    """Pages of a PDF that do not end by drawing the DRAFT mark over everything else."""
    import io

    import pikepdf

    problems = []
    draws_text: dict[tuple[int, int], bool] = {}  # one mark, shared by the pages: read once

    def shows_text(form) -> bool:
        key = form.objgen
        if key not in draws_text or key == (0, 0):
            draws_text[key] = any(str(op) in ("Tj", "TJ")
                                  for _, op in pikepdf.parse_content_stream(form, "Tj TJ"))
        return draws_text[key]

    with pikepdf.open(io.BytesIO(data)) as pdf:
        for number, page in enumerate(pdf.pages, start=1):
            xobjects = page.obj.get("/Resources", {}).get("/XObject", {})
            form = xobjects.get(DRAFT_XOBJECT)
            if form is None or not form.get(_DRAFT_KEY) or not shows_text(form):
                problems.append(f"page {number}: no DRAFT mark")
                continue
            depth, last_open = 0, 0
            # The nesting needs only these operators of the whole page (parsed in qpdf, and
            # no Python objects for the text); what is drawn after the mark can only be in
            # the page's last content stream, read in full below.
            ops = pikepdf.parse_content_stream(page, "q Q cm Do BMC EMC")
            for index, (operands, op) in enumerate(ops):
                name = str(op)
                if name == "q":
                    depth += 1
                elif name == "Q":
                    depth -= 1
                elif name == "Do" and depth == 1 and operands and \
                        str(operands[0]) == DRAFT_XOBJECT:
                    last_open = index
            tail = [str(op) for _, op in ops[last_open - 3:]] if last_open >= 3 else []
            contents = page.obj.get("/Contents")
            last = (contents[len(contents) - 1] if isinstance(contents, pikepdf.Array)
                    and len(contents) else contents)
            drawn_last = [str(op) for _, op in (pikepdf.parse_content_stream(last)
                                                 if isinstance(last, pikepdf.Stream) else [])]
            if tail != ["BMC", "q", "cm", "Do", "Q", "EMC"] or depth != 0 or \
                    drawn_last[-6:] != tail:
                problems.append(f"page {number}: the DRAFT mark is not drawn last, over "
                                "everything else")
    return problems


def require_draft_mark(data: bytes, where: str) -> None:
    """Refuse to write a draft PDF unless every page carries the mark."""
    problems = draft_problems(data)
    if problems:
        raise BookletError(f"{where}: refusing to write a draft without its DRAFT mark on "
                           "every page (" + "; ".join(problems[:5]) + "); this is a bug in "
                           "booklet, please report it")
