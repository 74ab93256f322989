"""What the desk shows about each handout: its languages, editions and their states.

Plain functions over a loaded project and its output folder, so the views stay
thin and the states are testable without a browser. Every path handed to the
file system is built here from a known language and format, never taken from
a URL.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass, field
from pathlib import Path

from booklet.core import FORMATS, BookletError, Edition
from booklet.project import Project, load_project

APPROVED = "approved"
DRAFT = "draft"
OVERDUE = "review overdue"
INCOMPLETE = "translation incomplete"
OUT_OF_DATE = "PDF out of date"
NOT_BUILT = "not built"
CURRENT = "current"


@dataclass(frozen=True)
class EditionState:
    """One PDF as the desk sees it: does it exist, and does it match the content now."""

    edition: Edition
    path: Path
    built: bool
    current: bool  # matches the manifest, the content fingerprint and the approval
    pages: int = 0
    sheets: Path | None = None
    reason: str = ""

    @property
    def state(self) -> str:
        if not self.built:
            return NOT_BUILT
        return CURRENT if self.current else OUT_OF_DATE


@dataclass(frozen=True)
class LanguageState:
    """One language of a handout: review, translation and its editions."""

    language: str
    approved: bool
    approved_by: str = ""
    approved_on: dt.date | None = None
    overdue: bool = False
    translated_percent: float = 100.0
    incomplete: bool = False
    source: bool = False
    editions: tuple[EditionState, ...] = ()

    @property
    def out_of_date(self) -> bool:
        """A built PDF no longer matches (an edition never built is shown as such, per cell)."""
        return any(e.built and not e.current for e in self.editions)

    @property
    def states(self) -> tuple[str, ...]:
        """Every state that applies, most important first (shown as words, not colour)."""
        found = [APPROVED if self.approved else DRAFT]
        if self.overdue:
            found.append(OVERDUE)
        if self.incomplete:
            found.append(INCOMPLETE)
        if self.out_of_date:
            found.append(OUT_OF_DATE)
        return tuple(found)


@dataclass(frozen=True)
class Handout:
    """A project the desk serves, with the state of all its languages."""

    slug: str
    project: Project
    out_dir: Path
    languages: tuple[LanguageState, ...] = field(default=())

    @property
    def title(self) -> str:
        return self.project.title

    def language(self, code: str) -> LanguageState | None:
        return next((lang for lang in self.languages if lang.language == code), None)

    def edition(self, language: str, fmt: str) -> EditionState | None:
        found = self.language(language)
        if found is None:
            return None
        return next((e for e in found.editions if e.edition.format == fmt), None)

    def cover(self) -> EditionState | None:
        """The PDF whose first page stands for the handout: the source language's first
        built format, else any language's."""
        ordered = sorted(self.languages, key=lambda lang: not lang.source)
        built = [e for lang in ordered for e in lang.editions if e.built]
        return built[0] if built else None


def discover(paths: list[Path]) -> dict[str, Path]:
    """Map handout slug to project folder: each path is a project or a folder of projects."""
    roots: list[Path] = []
    for path in paths:
        path = Path(path).resolve()
        if (path / "booklet.toml").is_file():
            roots.append(path)
        elif path.is_dir():
            roots += sorted(p for p in path.iterdir() if (p / "booklet.toml").is_file())
        else:
            raise BookletError(f"{path}: not a handout project (no booklet.toml) nor a folder "
                               "of projects; give the folder that holds booklet.toml")
    if not roots:
        raise BookletError(f"no handout projects in {', '.join(map(str, paths))}: give a "
                           "folder with booklet.toml, or a folder of such folders")
    found: dict[str, Path] = {}
    for root in roots:
        slug = load_project(root).slug
        if slug in found:
            raise BookletError(f"{root / 'booklet.toml'}: key 'slug' {slug!r} is also used by "
                               f"{found[slug]}; give each handout its own slug")
        found[slug] = root
    return found


@functools.lru_cache(maxsize=1024)
def _sha256(path: Path, size: int, mtime_ns: int) -> str:
    from booklet.manifest import file_sha256

    return file_sha256(path)


def pdf_sha256(path: Path) -> str:
    """A PDF's sha256, hashed again only when its size or time changed (every page view asks)."""
    info = path.stat()
    return _sha256(path, info.st_size, info.st_mtime_ns)


def _edition_state(project: Project, edition: Edition, out_dir: Path, manifest: dict,
                   fingerprint: str, approved: bool) -> EditionState:
    from booklet.build import edition_filename, sheets_filename

    path = out_dir / edition_filename(project, edition)
    sheets = out_dir / sheets_filename(project, edition) if FORMATS[edition.format].impose_on \
        else None
    if not path.is_file():
        return EditionState(edition, path, False, False, reason="no PDF yet")
    entry = manifest.get(path.name)
    if entry is None:
        return EditionState(edition, path, True, False, sheets=sheets,
                            reason="not in the manifest")
    reason = ""
    if entry.get("sha256") != pdf_sha256(path):
        reason = "the PDF differs from the one built"
    elif entry.get("fingerprint") != fingerprint:
        reason = "the content changed since it was built"
    elif bool(entry.get("approved")) != approved:
        reason = "the approval changed since it was built"
    return EditionState(edition, path, True, not reason, pages=int(entry.get("pages") or 0),
                        sheets=sheets if sheets and sheets.is_file() else None, reason=reason)


_STATUS_LOCK = threading.Lock()
_STATUS_CACHE: dict[Path, tuple[tuple, list]] = {}


def _inputs_stamp(project: Project) -> tuple:
    """Names, sizes and times of every file translation coverage is computed from."""
    from booklet.i18n import theme_template_files

    files = [project.config_path, project.root / "reviews.toml"]
    for folder in (project.chapters_dir, project.locales_dir):
        if folder.is_dir():
            files += sorted(p for p in folder.rglob("*") if p.is_file())
    files += theme_template_files(project)
    stamp = []
    for path in files:
        try:
            info = path.stat()
        except OSError:
            continue
        stamp.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(stamp)


def coverage(project: Project) -> list:
    """booklet.i18n.status, recomputed only when a chapter, catalog or review file changed.

    Extracting every segment takes about a second for a five-language handout:
    too slow to repeat on every page a nurse opens between two patients.
    """
    from booklet import i18n

    stamp = _inputs_stamp(project)
    with _STATUS_LOCK:
        cached = _STATUS_CACHE.get(project.root)
    if cached and cached[0] == stamp:
        return cached[1]
    try:
        found = i18n.status(project)
    except BookletError:  # a chapter Markdown cannot read: its build says where and why
        return []
    with _STATUS_LOCK:
        _STATUS_CACHE[project.root] = (stamp, found)
    return found


def load_handout(slug: str, root: Path, out_dir: str | Path = "dist", *,
                 today: dt.date | None = None) -> Handout:
    """Load a project and work out every language's and edition's state now."""
    from booklet.manifest import load_manifest
    from booklet.review import approval, fingerprint

    project = load_project(root)
    out = Path(out_dir) if Path(out_dir).is_absolute() else project.root / out_dir
    manifest = load_manifest(out)
    today = today or dt.date.today()
    overdue = bool(project.next_review and project.next_review < today)
    statuses = {s.language: s for s in coverage(project)}
    languages = []
    for language in project.languages:
        review = approval(project, language)
        status = statuses.get(language)
        incomplete = bool(status and not status.source and (
            status.untranslated or status.fuzzy or status.outdated))
        current = fingerprint(project, language)
        editions = tuple(_edition_state(project, Edition(language, fmt), out, manifest,
                                        current, review is not None)
                         for fmt in project.formats)
        languages.append(LanguageState(
            language, review is not None,
            approved_by=review.approved_by if review else "",
            approved_on=review.approved_on if review else None,
            overdue=overdue, translated_percent=status.percent if status else 100.0,
            incomplete=incomplete, source=language == project.source_language,
            editions=editions))
    return Handout(slug, project, out, tuple(languages))


def matches(handout: Handout, query: str, language: str = "") -> bool:
    """Search by title (any words, any case) and by language code."""
    if language and handout.language(language) is None:
        return False
    words = query.casefold().split()
    haystack = " ".join([handout.title, handout.project.subtitle, handout.slug]).casefold()
    return all(word in haystack for word in words)
