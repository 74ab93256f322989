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
from pathlib import Path
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


def render_pdf(html: str, *, base_url: Path, allowed_roots: list[Path],
               variant: str | None = "pdf/ua-1") -> bytes:
    """Lay out the HTML and return the PDF bytes (deterministic for the same HTML)."""
    import weasyprint
    from weasyprint.urls import FatalURLFetchingError

    refused: list[str] = []
    fetcher = _sandboxed_fetcher(allowed_roots, refused)
    logger = logging.getLogger("weasyprint")
    logger.setLevel(logging.ERROR)
    identifier = hashlib.md5(html.encode(), usedforsecurity=False).hexdigest().encode()
    try:
        document = weasyprint.HTML(string=html, base_url=base_url.as_uri() + "/",
                                   url_fetcher=fetcher)
        return document.write_pdf(pdf_variant=variant, pdf_identifier=identifier,
                                  custom_metadata=False)
    except FatalURLFetchingError as exc:
        reason = refused[0] if refused else str(exc)
        raise BookletError(f"refused to load {reason}") from None


def write_pdf(data: bytes, out: Path) -> Path:
    return write_atomic(out, data)
