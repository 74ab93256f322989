"""Build: string the stages together for one edition, and for the matrix of editions.

project → content → (i18n) → render → pdf → (impose). Each edition is
independent, so the matrix runs in worker processes, one per core.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from booklet.errors import BookletError
from booklet.project import FORMATS, Project, load_project
from booklet.render import Edition


@dataclass(frozen=True)
class BuildResult:
    edition: Edition
    path: Path
    pages: int
    draft: bool
    warnings: tuple[str, ...] = field(default=())


def edition_filename(project: Project, edition: Edition) -> str:
    return f"{project.slug}_{edition.language}_{edition.format}.pdf"


def _as_project(project: Project | Path | str) -> Project:
    return project if isinstance(project, Project) else load_project(project)


def build_edition(project: Project | Path | str, edition: Edition, out_dir: Path | str = "dist",
                  *, strict: bool = False) -> BuildResult:
    """Render one edition to out_dir and report what happened."""
    from booklet import content, pdf, render, review

    project = _as_project(project)
    if edition.format not in FORMATS:
        raise BookletError(f"--format {edition.format!r}: allowed values: {', '.join(FORMATS)}")
    if edition.language not in project.languages:
        raise BookletError(f"--lang {edition.language!r}: not in {project.config_path} "
                           f"key 'languages' {list(project.languages)}; add it there first")
    warnings: list[str] = []
    chapters = content.load_chapters(project, edition.language, strict=strict,
                                     warnings=warnings)
    approval = review.approval(project, edition.language)
    html = render.render_html(project, edition, chapters, review=approval,
                              modified=pdf.source_date())
    data = pdf.render_pdf(html, base_url=project.root,
                          allowed_roots=render.stylesheet_roots(project),
                          variant=FORMATS[edition.format].pdf_variant)
    out = pdf.write_pdf(data, Path(out_dir) / edition_filename(project, edition))
    return BuildResult(edition, out, _page_count(data), approval is None, tuple(warnings))


def _page_count(data: bytes) -> int:
    import io

    from pypdf import PdfReader

    return len(PdfReader(io.BytesIO(data)).pages)


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
        if edition.language not in project.languages:
            raise BookletError(f"--lang {edition.language!r}: not in {project.config_path} "
                               f"key 'languages' {list(project.languages)}")
        if edition.format not in FORMATS:
            raise BookletError(f"--format {edition.format!r}: allowed values: "
                               f"{', '.join(FORMATS)}")
    jobs = jobs or min(len(editions), os.cpu_count() or 1)
    out_dir = Path(out_dir)
    if jobs <= 1 or len(editions) == 1:
        return [build_edition(project, e, out_dir, strict=strict) for e in editions]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(_build_in_worker,
                             [(project.root, e, out_dir, strict) for e in editions]))
