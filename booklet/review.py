"""Review stage: per-language clinical sign-off bound to a content fingerprint.

An approval in ``reviews.toml`` is valid only for the exact content it was
given for. Any change to that language's content (chapters, tables, handout
texts, its catalog) changes the fingerprint and turns the edition back into a
draft, which is marked on every page and cannot be emailed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

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


def catalog_path(project: Project, language: str) -> Path:
    return project.locales_dir / language / "LC_MESSAGES" / "booklet.po"


def fingerprint(project: Project, language: str) -> str:
    """Hash everything a clinical reviewer reads in this language, and nothing else.

    The source chapters and tables count for every language (a translation of
    changed English is changed content); a catalog counts only for its own
    language, so fixing the Spanish does not un-approve the Arabic.
    """
    digest = hashlib.sha256()

    def add(name: str, data: bytes) -> None:
        digest.update(name.encode() + b"\0" + len(data).to_bytes(8, "big") + data)

    for path in sorted(project.chapters_dir.glob("*.md")) + sorted(
            project.chapters_dir.glob("*.toml")):
        add(path.relative_to(project.root).as_posix(), path.read_bytes())
    texts = [project.title, project.subtitle, project.disclaimer, project.disclaimer_short,
             *project.sources]
    add("booklet.toml:texts", "\n".join(texts).encode())
    if language != project.source_language:
        catalog = catalog_path(project, language)
        add(f"locales/{language}", catalog.read_bytes() if catalog.is_file() else b"")
    return "sha256:" + digest.hexdigest()


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
        if valid:
            reviews[language] = Review(language, by, on, fp)
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
    review = Review(language, approved_by.strip(), on or dt.date.today(),
                    fingerprint(project, language))
    reviews = load_reviews(project, replacing=language)
    reviews[language] = review
    data = {"languages": {lang: {"approved_by": r.approved_by, "approved_on": r.approved_on,
                                 "fingerprint": r.fingerprint}
                          for lang, r in sorted(reviews.items())}}
    header = ("# Clinical sign-off per language, written by `booklet approve`.\n"
              "# Editing content changes its fingerprint and makes that language a draft.\n\n")
    write_atomic(project.root / REVIEWS_NAME, (header + tomli_w.dumps(data)).encode())
    return review
