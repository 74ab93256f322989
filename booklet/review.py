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

from booklet.errors import BookletError
from booklet.files import write_atomic
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


def load_reviews(project: Project) -> dict[str, Review]:
    path = project.root / REVIEWS_NAME
    if not path.is_file():
        return {}
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BookletError(f"{path}: not valid TOML: {exc}") from None
    reviews = {}
    for language, entry in raw.get("languages", {}).items():
        try:
            reviews[language] = Review(language, str(entry["approved_by"]),
                                       entry["approved_on"], str(entry["fingerprint"]))
        except (KeyError, TypeError) as exc:
            raise BookletError(f"{path}: key 'languages.{language}': missing {exc}; "
                               "re-run booklet approve for this language") from None
    return reviews


def approval(project: Project, language: str) -> Review | None:
    """Return the review that covers the current content, or None (a draft)."""
    review = load_reviews(project).get(language)
    if review and review.fingerprint == fingerprint(project, language):
        return review
    return None


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def approve(project: Project, language: str, approved_by: str,
            on: dt.date | None = None) -> Review:
    """Record that approved_by signed off this language's current content."""
    if language not in project.languages:
        raise BookletError(f"{project.config_path}: key 'languages': {language!r} is not "
                           f"one of {list(project.languages)}; add it there first")
    if not approved_by.strip():
        raise BookletError("approve: --by needs the reviewer's name")
    review = Review(language, approved_by.strip(), on or dt.date.today(),
                    fingerprint(project, language))
    reviews = load_reviews(project)
    reviews[language] = review
    lines = ["# Clinical sign-off per language, written by `booklet approve`.",
             "# Editing content changes its fingerprint and makes that language a draft.", ""]
    for lang in sorted(reviews):
        r = reviews[lang]
        lines += [f'[languages."{lang}"]', f"approved_by = {_toml_string(r.approved_by)}",
                  f"approved_on = {r.approved_on.isoformat()}",
                  f"fingerprint = {_toml_string(r.fingerprint)}", ""]
    write_atomic(project.root / REVIEWS_NAME, "\n".join(lines).encode())
    return review
