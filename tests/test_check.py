"""The quality gate on the shipped content: plain language and figures in the prose."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from booklet.check import check_project, plain_text, readability
from booklet.content import load_chapters
from booklet.project import load_project

from conftest import REPO


def test_every_chapter_reads_at_grade_8_or_below():
    for chapter in load_chapters(load_project(REPO)):
        score = readability(plain_text(chapter.html))
        assert score.grade <= 8.0, (chapter.path.name, score)
        assert score.words_per_sentence <= 20, (chapter.path.name, score)


def test_shipped_project_passes_all_checks():
    problems = check_project(load_project(REPO), today=dt.date(2026, 11, 26))
    assert problems == []


def test_hard_text_is_reported(handout: Path):
    chapter = handout / "chapters" / "01-what-is-ankl.md"
    chapter.write_text(chapter.read_text() + "\n\nNotwithstanding considerable interindividual "
                       "heterogeneity, multiagent chemotherapeutic regimens incorporating "
                       "asparaginase demonstrate substantially improved progression-free "
                       "survival characteristics, particularly among comparatively younger "
                       "individuals lacking significant comorbidities.\n" * 12)
    problems = check_project(load_project(handout), today=dt.date(2026, 11, 26))
    assert any("01-what-is-ankl.md" in p.location and "Flesch-Kincaid grade" in p.message
               for p in problems)


def test_table_figure_missing_from_prose_is_reported(handout: Path):
    table = handout / "chapters" / "regimens.toml"
    table.write_text(table.read_text().replace('pfs = "Varies"', 'pfs = "41% at 2 years"'))
    problems = check_project(load_project(handout), today=dt.date(2026, 11, 26))
    assert any("rows[0].pfs" in p.location and "'41%'" in p.message for p in problems)


def test_overdue_review_date_is_a_warning(handout: Path):
    problems = check_project(load_project(handout), today=dt.date(2028, 1, 1))
    assert any(p.level == "warning" and "next_review" in p.location for p in problems)
