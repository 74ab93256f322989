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
        moment = dt.datetime.fromtimestamp(int(value), tz=dt.UTC)
    except ValueError:
        raise BookletError(f"SOURCE_DATE_EPOCH={value!r} is not a whole number of "
                           "seconds since 1970; unset it or fix it") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Layout:
    """One edition laid out in pages but not yet written: count pages, then write."""

    html: str
    document: Any  # weasyprint.Document
    variant: str | None

    @property
    def pages(self) -> int:
        return len(self.document.pages)


def layout_pdf(html: str, *, base_url: Path, allowed_roots: list[Path],
               variant: str | None = "pdf/ua-1") -> Layout:
    """Lay out the HTML into pages without writing a PDF yet.

    Booklets need the page count before they are final (they are padded to a
    multiple of 4), and laying out is most of the cost of a build.
    """
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    refused: list[str] = []
    fetcher = _sandboxed_fetcher(allowed_roots, refused)
    logger = logging.getLogger("weasyprint")
    logger.setLevel(logging.ERROR)
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
    return Layout(html, document, variant)


def write_layout(layout: Layout, *, image_dpi: int | None = None) -> bytes:
    """Write a laid-out edition as PDF bytes (deterministic for the same HTML)."""
    identifier = hashlib.md5(layout.html.encode(), usedforsecurity=False).hexdigest()
    options: dict[str, Any] = {}
    if image_dpi:
        options.update(dpi=image_dpi, optimize_images=True)
    return layout.document.write_pdf(
        pdf_variant=layout.variant, pdf_identifier=identifier.encode(),
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
