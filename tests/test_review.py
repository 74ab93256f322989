"""The clinical review gate: DRAFT until approved, and again after any change."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from booklet.build import build_edition
from booklet.errors import BookletError
from booklet.project import load_project
from booklet.render import Edition
from booklet.review import approval, approve, fingerprint

from conftest import REPO, normalize, page_texts


def draft_pages(pdf: Path) -> list[bool]:
    return ["DRAFT" in text for text in page_texts(pdf)]


def test_shipped_handout_is_not_approved():
    project = load_project(REPO)
    assert not (REPO / "reviews.toml").exists()
    for language in project.languages:
        assert approval(project, language) is None


def test_draft_until_approved_then_draft_again_after_a_change(handout: Path, tmp_path: Path):
    edition = Edition("en", "a4")
    draft = build_edition(handout, edition, tmp_path / "1")
    assert draft.draft and all(draft_pages(draft.path))

    approve(load_project(handout), "en", "Dr. Ada Reviewer", on=dt.date(2026, 11, 20))
    approved = build_edition(handout, edition, tmp_path / "2")
    assert not approved.draft
    assert not any(draft_pages(approved.path))
    text = normalize(" ".join(page_texts(approved.path)))
    assert "Clinically reviewed by Dr. Ada Reviewer on November 20, 2026." in text

    chapter = handout / "chapters" / "05-treatment.md"
    chapter.write_text(chapter.read_text().replace("73% at 5 years", "74% at 5 years", 1))
    changed = build_edition(handout, edition, tmp_path / "3")
    assert changed.draft and all(draft_pages(changed.path))


def test_approval_records_who_when_and_fingerprint(handout: Path):
    project = load_project(handout)
    review = approve(project, "en", "Dr. B", on=dt.date(2026, 11, 21))
    saved = (handout / "reviews.toml").read_text()
    assert 'approved_by = "Dr. B"' in saved
    assert "approved_on = 2026-11-21" in saved
    assert review.fingerprint in saved and review.fingerprint.startswith("sha256:")


def test_style_and_contact_changes_invalidate_approval(handout: Path):
    """Project CSS and the clinic's phone decide what prints (issue 8): both un-approve."""
    project = load_project(handout)
    before = fingerprint(project, "en")
    (handout / "styles").mkdir()
    (handout / "styles" / "custom.css").write_text("h1 { color: #000; }")
    (handout / "booklet.toml").write_text((handout / "booklet.toml").read_text().replace(
        'phone = "+1 555 0100"', 'phone = "+1 555 0199"'))
    assert fingerprint(load_project(handout), "en") != before


def test_approve_unknown_language_names_the_key(handout: Path):
    with pytest.raises(BookletError, match="key 'languages': 'xx' is not one of"):
        approve(load_project(handout), "xx", "Dr. C")


def test_catalog_messages_kept_by_the_files_bytes(handout: Path, tmp_path: Path, monkeypatch):
    """A no-change rebuild reads the parsed catalog back; any edit is parsed anew."""
    from booklet.review import catalog_messages

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    project = load_project(handout)
    language = next(lang for lang in project.languages if lang != project.source_language)
    before = fingerprint(project, language)
    po = handout / "locales" / language / "LC_MESSAGES" / "booklet.po"
    first = catalog_messages(po)
    assert catalog_messages(po) == first
    assert fingerprint(project, language) == before
    assert len(list((tmp_path / "cache" / "booklet" / "catalogs").iterdir())) == 1
    text = po.read_text(encoding="utf-8")
    po.write_text(text.replace('msgstr "', 'msgstr "x', 2).replace('msgstr "x', 'msgstr "', 1),
                  encoding="utf-8")
    assert catalog_messages(po) != first
    assert fingerprint(project, language) != before
