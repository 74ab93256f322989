"""Build: string the stages together for one edition, and for the matrix of editions.

project → content → (i18n) → render → pdf → (impose). Each edition is
independent, so the matrix runs in worker processes, one per core.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from booklet.errors import BookletError
from booklet.project import FORMATS, Format, Project, load_project
from booklet.render import Edition


@dataclass(frozen=True)
class BuildResult:
    edition: Edition
    path: Path
    pages: int
    draft: bool
    warnings: tuple[str, ...] = field(default=())
    sheets: Path | None = None  # booklets: the reading-order pages imposed for printing
    fingerprint: str = ""  # the content fingerprint this edition was built from
    approved_by: str = ""

    def manifest_entry(self) -> dict:
        """This edition's entry in dist/manifest.json."""
        from booklet import __version__
        from booklet.manifest import file_sha256

        entry = {"file": self.path.name, "language": self.edition.language,
                 "format": self.edition.format, "pages": self.pages,
                 "sha256": file_sha256(self.path), "fingerprint": self.fingerprint,
                 "approved": not self.draft, "approved_by": self.approved_by,
                 "tool_version": __version__}
        if self.sheets:
            entry["sheets"] = {"file": self.sheets.name, "sha256": file_sha256(self.sheets)}
        return entry


def edition_filename(project: Project, edition: Edition) -> str:
    return f"{project.slug}_{edition.language}_{edition.format}.pdf"


def sheets_filename(project: Project, edition: Edition) -> str:
    """Name of a booklet's imposed sheets, beside its reading-order PDF."""
    return f"{project.slug}_{edition.language}_{edition.format}-sheets.pdf"


def _require_known(project: Project, edition: Edition) -> None:
    """Refuse a language the project does not list or a format the theme lacks."""
    if edition.format not in FORMATS:
        raise BookletError(f"--format {edition.format!r}: allowed values: {', '.join(FORMATS)}")
    if edition.language not in project.languages:
        raise BookletError(f"--lang {edition.language!r}: not in {project.config_path} "
                           f"key 'languages' {list(project.languages)}; add it there first")


def _as_project(project: Project | Path | str) -> Project:
    return project if isinstance(project, Project) else load_project(project)


def build_edition(project: Project | Path | str, edition: Edition, out_dir: Path | str = "dist",
                  *, strict: bool = False) -> BuildResult:
    """Render one edition to out_dir and report what happened."""
    from booklet import check, content, i18n, pdf, render, review

    project = _as_project(project)
    _require_known(project, edition)
    localized = i18n.localize(project, edition.language, strict=strict)
    warnings: list[str] = list(localized.warnings)
    chapters = content.load_chapters(project, edition.language, strict=strict,
                                     warnings=warnings,
                                     translate_chapter=localized.translate_chapter,
                                     translate=localized.translate)
    approval = review.approval(project, edition.language)
    fmt = FORMATS[edition.format]

    def html_for(notes_pages: int) -> str:
        html = render.render_html(project, edition, chapters, review=approval,
                                  modified=pdf.source_date(), notes_pages=notes_pages,
                                  translations=localized.translations, text=localized.text)
        html = localized.finish(html)
        warnings.extend(w for w in check.require_font_coverage(project, edition.language, html)
                        if w not in warnings)
        return html

    layout = _layout_padded(project, fmt, html_for, warnings)
    data = pdf.write_layout(layout, image_dpi=fmt.image_dpi)
    if fmt.bleed_mm:  # press: slug, marks outside the bleed, output intent (booklet.press)
        from booklet.press import finish_press

        data = finish_press(data, project, fmt)
    out = pdf.write_pdf(data, Path(out_dir) / edition_filename(project, edition))
    from booklet.preflight import build_warnings  # read the written PDF back (preflight)
    warnings.extend(build_warnings(out, edition, project, approval=approval))
    sheets = None
    if fmt.impose_on:
        from booklet.impose import impose_saddle_stitch

        sheets = impose_saddle_stitch(out, Path(out_dir) / sheets_filename(project, edition),
                                      fmt.impose_on,
                                      right_to_left=render.is_rtl(edition.language))
    return BuildResult(edition, out, layout.pages, approval is None, tuple(warnings),
                       sheets=sheets, fingerprint=review.fingerprint(project, edition.language),
                       approved_by=approval.approved_by if approval else "")


def _layout_padded(project: Project, fmt: Format, html_for: Callable[[int], str],
                   warnings: list[str]):
    """Lay out an edition; pad a booklet to a multiple of fmt.pad_to pages.

    The padding is notes pages before the back cover, so the back cover stays
    last and no page is blank. It needs the page count, so a booklet that is
    not already a multiple of 4 is laid out a second time with the notes.
    """
    from booklet import pdf, render

    def lay_out(notes_pages: int) -> pdf.Layout:
        return pdf.layout_pdf(html_for(notes_pages), base_url=project.root,
                              allowed_roots=render.stylesheet_roots(project),
                              variant=fmt.pdf_variant)

    layout = lay_out(0)
    missing = -layout.pages % fmt.pad_to
    if missing:
        layout = lay_out(missing)
        if layout.pages % fmt.pad_to:
            raise BookletError(
                f"format {fmt.name!r}: {layout.pages} pages after adding {missing} notes "
                f"pages, not a multiple of {fmt.pad_to}: a notes page must fit on one page; "
                "show fewer ruled lines (.notes-lines .line:nth-child(n+N) {display: none}) "
                f"in styles/{fmt.stylesheet} or styles/custom.css")
    if fmt.pad_to > 1 and _back_cover_pages(layout) > 1:
        warnings.append(
            f"format {fmt.name!r}: the back cover runs over {_back_cover_pages(layout)} pages, "
            "so the folded booklet's outside back is not the whole back cover; shorten "
            f"the sources or the clinic details in {project.config_path}")
    return layout


def _back_cover_pages(layout) -> int:
    """Count the pages at the end laid out on the back-cover page type."""
    count = 0
    for page in reversed(layout.document.pages):
        # WeasyPrint keeps the page type on its private page box; without it, skip the check.
        page_type = getattr(getattr(page, "_page_box", None), "page_type", None)
        if getattr(page_type, "name", None) != "back-cover":
            break
        count += 1
    return count


def build(project: Project | Path | str, edition: Edition, out_dir: Path | str = "dist") -> Path:
    """Build one edition and return the PDF's path (the public API)."""
    return build_edition(project, edition, out_dir).path


def _build_in_worker(args: tuple[Path, Edition, Path, bool]) -> BuildResult:
    root, edition, out_dir, strict = args
    return build_edition(load_project(root), edition, out_dir, strict=strict)


def build_all(project: Project, languages: list[str] | None = None,
              formats: list[str] | None = None, out_dir: Path | str = "dist", *,
              strict: bool = False, jobs: int | None = None) -> list[BuildResult]:
    """Build every requested (language, format) pair, in parallel where cores allow."""
    editions = [Edition(lang, fmt) for lang in (languages or project.languages)
                for fmt in (formats or project.formats)]
    for edition in editions:
        _require_known(project, edition)
    jobs = jobs or min(len(editions), os.cpu_count() or 1)
    out_dir = Path(out_dir)
    if jobs <= 1 or len(editions) == 1:
        results = [build_edition(project, e, out_dir, strict=strict) for e in editions]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(_build_in_worker,
                                    [(project.root, e, out_dir, strict) for e in editions]))
    from booklet.manifest import record_editions

    record_editions(out_dir, [result.manifest_entry() for result in results])
    return results
