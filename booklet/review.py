"""Review stage: per-language clinical sign-off bound to a content fingerprint.

An approval in ``reviews.toml`` is valid only for the exact content it was
given for. Any change to what prints in that language (chapters, tables,
images, the project's styles and templates, the theme, the handout's texts,
its catalog's messages) changes the fingerprint and turns the edition back
into a draft, which is stamped DRAFT on every page and cannot be emailed. The
fingerprint's named parts are recorded with the approval, so ``booklet review
status`` can say what changed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import unquote

from booklet.core import ERROR, BookletError, Problem
from booklet.files import read_text, write_atomic
from booklet.project import Project

REVIEWS_NAME = "reviews.toml"


@dataclass(frozen=True)
class Review:
    language: str
    approved_by: str
    approved_on: dt.date
    fingerprint: str
    parts: dict[str, str] = field(default_factory=dict, compare=False)


def catalog_path(project: Project, language: str) -> Path:
    return project.locales_dir / language / "LC_MESSAGES" / "booklet.po"


IMAGE_REFERENCE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img[^>]*\ssrc=[\"']([^\"']+)")


def _canonical(value) -> bytes:
    """Structured data as canonical JSON: no two different values hash alike."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def _tree_hash(root: Path, folders: list[Path]) -> str:
    digest = hashlib.sha256()
    for folder in folders:
        for path in _files(folder):
            data = path.read_bytes()
            name = path.relative_to(root).as_posix().encode()
            digest.update(len(name).to_bytes(8, "big") + name
                          + len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def handout_texts(project: Project) -> dict:
    """What booklet.toml puts on the pages, as structured data (hashed as canonical JSON)."""
    clinic = project.clinic
    return {
        "title": project.title, "subtitle": project.subtitle,
        "disclaimer": project.disclaimer, "disclaimer_short": project.disclaimer_short,
        "sources": list(project.sources), "version": project.version,
        "published": project.published.isoformat() if project.published else None,
        "next_review": project.next_review.isoformat() if project.next_review else None,
        "languages": list(project.languages), "source_language": project.source_language,
        "clinic": {"name": clinic.name, "phone": clinic.phone, "email": clinic.email,
                   "address": clinic.address, "website": clinic.website,
                   "logo": clinic.logo.relative_to(project.root).as_posix()
                   if clinic.logo and clinic.logo.is_relative_to(project.root)
                   else str(clinic.logo or "")},
    }


def catalog_messages(path: Path) -> list:
    """A catalog's messages as data: context, id, translation, flags; never comments.

    A line-number shift in ``#:`` references or a new POT date must not
    un-approve a translation whose words did not change.
    """
    if not path.is_file():
        return []
    data = path.read_bytes()
    # Parsing a catalog with Babel is most of a no-change rebuild's time: the result is
    # kept by the file's bytes (and Babel's version), so an unchanged catalog is not parsed.
    from booklet.files import user_cache, write_atomic

    cached = user_cache("catalogs") / f"{_sha(data + _babel_version().encode())}.json"
    try:
        return json.loads(cached.read_bytes())
    except (OSError, ValueError):
        pass
    messages = _parse_catalog(path, data)
    from contextlib import suppress

    with suppress(OSError, BookletError):  # a read-only home: only slower next time
        write_atomic(cached, json.dumps(messages, ensure_ascii=False).encode())
    return messages


@cache
def _babel_version() -> str:
    from booklet.manifest import _installed_versions

    return "\0" + _installed_versions(("babel",))[0]


def _parse_catalog(path: Path, data: bytes) -> list:
    import io

    from babel.messages.pofile import read_po

    try:
        catalog = read_po(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 (Babel raises several kinds)
        raise BookletError(f"{path}: not a readable PO file: {exc}") from None
    messages = [["plural-forms", catalog.plural_forms]]
    for message in catalog:
        if not message.id:
            continue
        messages.append([message.context or "", message.id, message.string,
                         sorted(message.flags)])
    # Plural ids and strings as lists, not tuples: the same value as read from the cache.
    return json.loads(json.dumps(sorted(messages[1:], key=json.dumps) + messages[:1]))


def _referenced_images(project: Project, texts: list[str]) -> list[Path]:
    """Files that Markdown images or <img> in chapters, tables and catalogs point to."""
    found = set()
    for text in texts:
        for match in IMAGE_REFERENCE.finditer(text):
            src = unquote(match.group(1) or match.group(2))
            if ":" in src.split("/")[0] or src.startswith("//"):
                continue
            target = (project.chapters_dir / src.split("#")[0]).resolve()
            if target.is_file() and target.is_relative_to(project.root.resolve()):
                found.add(target)
    return sorted(found)


def fingerprint_parts(project: Project, language: str) -> dict[str, str]:
    """The hash of each input that decides what prints in this language, by name.

    Named parts let ``booklet review status`` say what changed since an
    approval: a chapter, an image, a stylesheet, a template, the handout's
    texts, the catalog, the theme or the tool.
    """
    from booklet import __version__

    parts, texts = _parts_of_every_language(project)
    parts, texts = dict(parts), list(texts)
    root = project.root.resolve()

    def add_file(path: Path) -> None:
        path = path.resolve()
        if path.is_file():
            name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
            parts[name] = _sha(path.read_bytes())

    if language != project.source_language:
        catalog = catalog_path(project, language)
        messages = catalog_messages(catalog)
        parts[f"locales/{language}"] = _sha(_canonical(messages))
        texts += [m[2] if isinstance(m[2], str) else " ".join(m[2]) for m in messages
                  if len(m) == 4]
    for path in _referenced_images(project, texts):
        add_file(path)
    parts["booklet"] = __version__
    return dict(sorted(parts.items()))


# While set (one build's plan), the parts every language shares are read once per project.
_SHARED_PARTS: dict | None = None


@contextmanager
def one_read_of_shared_parts():
    """Read the files every language's fingerprint hashes once while fingerprinting
    several languages in one go (a build's plan); each call outside reads them again."""
    global _SHARED_PARTS
    outer = _SHARED_PARTS
    if outer is None:
        _SHARED_PARTS = {}
    try:
        yield
    finally:
        _SHARED_PARTS = outer


def _parts_of_every_language(project: Project) -> tuple[dict[str, str], list[str]]:
    """The fingerprint parts (and the source texts) that do not depend on the language."""
    if _SHARED_PARTS is not None and project in _SHARED_PARTS:
        return _SHARED_PARTS[project]
    from booklet.project import theme_dir

    root = project.root.resolve()
    parts: dict[str, str] = {}
    texts = []

    def add_file(path: Path) -> None:
        path = path.resolve()
        if path.is_file():
            name = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
            parts[name] = _sha(path.read_bytes())

    for path in _files(project.chapters_dir):
        add_file(path)
        if path.suffix in (".md", ".toml"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    for folder in ("assets", "styles", "templates"):
        for path in _files(project.root / folder):
            add_file(path)
    if project.clinic.logo:
        add_file(project.clinic.logo)
    parts["booklet.toml"] = _sha(_canonical(handout_texts(project)))
    theme = theme_dir()
    parts["theme"] = _tree_hash(theme, [theme / "templates", theme / "styles"])
    if _SHARED_PARTS is not None:
        _SHARED_PARTS[project] = (parts, texts)
    return parts, texts


def fingerprint(project: Project, language: str) -> str:
    """Hash everything that decides what prints in this language, and nothing else.

    The source chapters, tables, images, the project's styles/ and templates/,
    the theme and the tool version count for every language (a translation of
    changed English is changed content); a catalog counts only for its own
    language, so fixing the Spanish does not un-approve the Arabic.
    """
    return fingerprint_of(fingerprint_parts(project, language))


def fingerprint_of(parts: dict[str, str]) -> str:
    return "sha256:" + _sha(_canonical(parts))


def describe_part(name: str) -> str:
    """A reviewer's name for a fingerprint part."""
    if name == "booklet.toml":
        return "the handout's texts in booklet.toml"
    if name == "theme":
        return "the theme's templates and styles"
    if name == "booklet":
        return "the booklet tool version"
    if name.startswith("locales/"):
        return f"the {name.split('/')[1]} catalog ({name}/LC_MESSAGES/booklet.po)"
    if name.startswith("chapters/") and name.endswith(".md"):
        return f"chapter {name.split('/')[-1].split('-')[0]} ({name})"
    return name


def changed_parts(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """What changed between two sets of fingerprint parts, in a reviewer's words."""
    changes = []
    for name in sorted(set(before) | set(after)):
        if name not in before:
            changes.append(f"added: {describe_part(name)}")
        elif name not in after:
            changes.append(f"removed: {describe_part(name)}")
        elif before[name] != after[name]:
            changes.append(f"changed: {describe_part(name)}")
    return changes


@dataclass(frozen=True)
class ReviewState:
    """One language's review: approved for the current content, or what changed since."""

    language: str
    review: Review | None
    current: str
    changes: tuple[str, ...]

    @property
    def approved(self) -> bool:
        return self.review is not None and self.review.fingerprint == self.current


def review_status(project: Project) -> list[ReviewState]:
    """Per language: is the current content approved, and if not, what changed."""
    reviews = load_reviews(project)
    states = []
    for language in project.languages:
        parts = fingerprint_parts(project, language)
        current = fingerprint_of(parts)
        review = reviews.get(language)
        changes: list[str] = []
        if review and review.fingerprint != current:
            changes = changed_parts(review.parts, parts) if review.parts else \
                ["(the approval records no parts: approved with an older booklet)"]
        states.append(ReviewState(language, review, current, tuple(changes)))
    return states


def _review_problems(path: Path, raw: dict) -> tuple[dict[str, Review], list[Problem]]:
    """Every entry of reviews.toml checked at once; what is valid, and what is not."""
    fix = "re-run booklet approve --lang LANG --by NAME for that language"
    problems: list[Problem] = []
    reviews: dict[str, Review] = {}

    def bad(key: str, message: str, hint: str = fix) -> None:
        problems.append(Problem("review-invalid", ERROR, message,
                                f"{path}: key '{key}'", hint))

    start_over = f"delete {path.name} and approve each language again"
    for key in sorted(set(raw) - {"languages"}):
        bad(key, "unknown key; reviews.toml holds only [languages.LANG] tables", start_over)
    languages = raw.get("languages", {})
    if not isinstance(languages, dict):
        bad("languages", f"got {languages!r}; expected tables like [languages.en]",
            start_over)
        return reviews, problems
    for language, entry in languages.items():
        key = f"languages.{language}"
        if not isinstance(entry, dict):
            bad(key, f"got {entry!r}; expected a table with approved_by, approved_on "
                "and fingerprint")
            continue
        by, on, fp = (entry.get(k) for k in ("approved_by", "approved_on", "fingerprint"))
        valid = True
        if not isinstance(by, str) or name_problem(by):
            bad(f"{key}.approved_by", f"got {by!r}; " + (name_problem(by) if isinstance(
                by, str) else "expected the reviewer's name as a quoted string"))
            valid = False
        if isinstance(on, dt.datetime) or not isinstance(on, dt.date):
            bad(f"{key}.approved_on", f"got {on!r}; expected a date without quotes, "
                "like approved_on = 2026-11-01")
            valid = False
        if not isinstance(fp, str) or not fp.startswith("sha256:"):
            bad(f"{key}.fingerprint", f"got {fp!r}; expected \"sha256:...\" as written "
                "by booklet approve")
            valid = False
        parts = entry.get("parts", {})
        if not isinstance(parts, dict) or not all(isinstance(v, str) for v in parts.values()):
            bad(f"{key}.parts", f"got {parts!r}; expected a table of names and hashes")
            valid = False
        if valid:
            reviews[language] = Review(language, by, on, fp, {str(k): v
                                                             for k, v in parts.items()})
    return reviews, problems


def load_reviews(project: Project, *, replacing: str = "") -> dict[str, Review]:
    """Read reviews.toml; every problem in it is reported at once, with its key.

    ``replacing`` names the language about to be approved again: a broken entry
    for it is no problem, since the new approval replaces it.
    """
    path = project.root / REVIEWS_NAME
    if not path.is_file():
        return {}
    try:
        raw = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise BookletError(f"{path}: not valid TOML: {exc}; fix that line or delete the "
                           "file and approve again") from None
    reviews, problems = _review_problems(path, raw)
    mine = (f"key 'languages.{replacing}'", f"key 'languages.{replacing}.")
    problems = [p for p in problems if not (replacing and p.location.endswith(mine[0]))
                and not (replacing and mine[1] in p.location)]
    if problems:
        raise BookletError.from_problems(problems)
    return reviews


MAX_NAME = 100


def name_problem(name: str) -> str:
    """Why a reviewer's name cannot be recorded, or "" when it can."""
    if not name.strip():
        return "the reviewer's name is empty"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "the name has a line break or another control character; give it on one line"
    if len(name) > MAX_NAME:
        return f"the name is longer than {MAX_NAME} characters"
    return ""


def approval(project: Project, language: str) -> Review | None:
    """Return the review that covers the current content, or None (a draft)."""
    review = load_reviews(project).get(language)
    if review and review.fingerprint == fingerprint(project, language):
        return review
    return None


def approve(project: Project, language: str, approved_by: str,
            on: dt.date | None = None) -> Review:
    """Record that approved_by signed off this language's current content."""
    import tomli_w

    if language not in project.languages:
        raise BookletError(f"{project.config_path}: key 'languages': {language!r} is not "
                           f"one of {list(project.languages)}; add it there first")
    problem = name_problem(approved_by)
    if problem:
        raise BookletError(f"--by {approved_by!r}: {problem}")
    parts = fingerprint_parts(project, language)
    review = Review(language, approved_by.strip(), on or dt.date.today(),
                    fingerprint_of(parts), parts)
    reviews = load_reviews(project, replacing=language)
    reviews[language] = review
    # parts: what the fingerprint is made of, so `booklet review status` can say what changed.
    data = {"languages": {lang: {"approved_by": r.approved_by, "approved_on": r.approved_on,
                                 "fingerprint": r.fingerprint,
                                 **({"parts": dict(sorted(r.parts.items()))} if r.parts else {})}
                          for lang, r in sorted(reviews.items())}}
    header = ("# Clinical sign-off per language, written by `booklet approve`.\n"
              "# Editing content changes its fingerprint and makes that language a draft.\n\n")
    write_atomic(project.root / REVIEWS_NAME, (header + tomli_w.dumps(data)).encode())
    return review


def approval_summary(project: Project, language: str) -> list[str]:
    """What `booklet approve` is about to record: the language, the content, the changes."""
    if language not in project.languages:
        return []
    from booklet.content import chapter_files, table_files

    parts = fingerprint_parts(project, language)
    chapters, tables = chapter_files(project), table_files(project)
    images = [n for n in parts if n.split("/")[0] not in ("chapters", "styles", "templates",
                                                          "locales")
              and "/" in n and not n.endswith((".md", ".toml"))]
    overrides = [n for n in parts if n.startswith(("styles/", "templates/"))]
    kind = "source" if language == project.source_language else "translation"
    lines = [f"Approving {language} ({kind}) of {project.title!r}, version {project.version}:",
             f"  {len(chapters)} chapter(s), {len(tables)} table(s), "
             f"{len(images)} image/asset file(s), "
             f"{len(overrides)} project style/template override(s)"]
    if language != project.source_language:
        messages = [m for m in catalog_messages(catalog_path(project, language)) if len(m) == 4]
        translated = sum(1 for m in messages if (m[2] if isinstance(m[2], str) else all(m[2]))
                         and "fuzzy" not in m[3])
        lines.append(f"  catalog {catalog_path(project, language).relative_to(project.root)}: "
                     f"{translated} of {len(messages)} messages translated")
        lines += [f"  listed for review: {entry}" for entry in reorder_entries(project, language)]
    previous = load_reviews(project, replacing=language).get(language)
    if previous is None:
        lines.append("  first approval of this language")
    elif previous.fingerprint == fingerprint_of(parts):
        lines.append("  unchanged since the approval by "
                     f"{previous.approved_by} on {previous.approved_on.isoformat()}")
    else:
        lines.append(f"  changes since the approval by {previous.approved_by} on "
                     f"{previous.approved_on.isoformat()}:")
        lines += [f"    {c}" for c in (changed_parts(previous.parts, parts) if previous.parts
                                       else ["(the earlier approval records no parts)"])]
    return lines


def reorder_entries(project: Project, language: str) -> list[str]:
    """Catalog entries whose bare numbers are in another order than the English: read them."""
    try:
        from booklet.quantities import reordered_entries
    except ImportError:  # pragma: no cover
        return []
    return reordered_entries(catalog_path(project, language), project.source_language)
