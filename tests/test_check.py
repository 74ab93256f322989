"""The quality gate: plain language, figures in the prose, review dates, stylesheets.

The tool is tested on tests/projects/minimal; the shipped handout only has to pass.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from booklet.check import check_project, plain_text, readability
from booklet.content import load_chapters
from booklet.project import load_project

from conftest import PROJECTS, REPO


def test_every_chapter_reads_at_grade_8_or_below():
    for chapter in load_chapters(load_project(REPO)):
        score = readability(plain_text(chapter.html))
        assert score.grade <= 8.0, (chapter.path.name, score)
        assert score.words_per_sentence <= 20, (chapter.path.name, score)


def test_shipped_project_passes_all_checks():
    problems = check_project(load_project(REPO), today=dt.date(2026, 11, 26))
    assert problems == []


def _minimal(tmp_path: Path) -> Path:
    return Path(shutil.copytree(PROJECTS / "minimal", tmp_path / "minimal"))


def test_fixture_passes_all_checks(tmp_path: Path):
    root = _minimal(tmp_path)
    assert check_project(load_project(root), today=dt.date(2026, 6, 1)) == []


def test_hard_text_is_reported(tmp_path: Path):
    root = _minimal(tmp_path)
    chapter = root / "chapters" / "01-cuts.md"
    chapter.write_text(chapter.read_text() + "\n\nNotwithstanding considerable interindividual "
                       "heterogeneity, multiagent chemotherapeutic regimens incorporating "
                       "asparaginase demonstrate substantially improved progression-free "
                       "survival characteristics, particularly among comparatively younger "
                       "individuals lacking significant comorbidities.\n" * 12)
    problems = check_project(load_project(root), today=dt.date(2026, 6, 1))
    grade = [p for p in problems if p.code == "readability-grade"]
    assert grade and grade[0].level == "error" and grade[0].location == str(chapter)
    assert "Flesch-Kincaid grade" in grade[0].message and grade[0].hint


def test_table_figure_missing_from_prose_is_reported(tmp_path: Path):
    root = _minimal(tmp_path)
    table = root / "chapters" / "dressings.toml"
    table.write_text(table.read_text().replace('when = "Small cuts"', 'when = "41% of cuts"'))
    problems = check_project(load_project(root), today=dt.date(2026, 6, 1))
    assert [(p.code, p.location) for p in problems] == [
        ("figure-not-in-prose", f"{table}: rows[0].when")]
    assert "'41%'" in problems[0].message


def test_overdue_review_date_is_a_warning(tmp_path: Path):
    root = _minimal(tmp_path)
    next_review = load_project(root).next_review
    problems = check_project(load_project(root), today=next_review + dt.timedelta(days=1))
    assert [(p.code, p.level) for p in problems] == [("review-overdue", "warning")]
    assert "next_review" in problems[0].location


def test_stylesheet_problem_names_file_and_line(tmp_path: Path):
    root = _minimal(tmp_path)
    (root / "styles").mkdir()
    (root / "styles" / "custom.css").write_text("p { color: red }\n\np { font-size: big }\n")
    problems = check_project(load_project(root), today=dt.date(2026, 6, 1))
    assert [(p.code, p.level, p.location.rsplit(":", 1)[0]) for p in problems] == [
        ("css-ignored", "warning", "styles/custom.css:3")]
    assert "font-size" in problems[0].message


def test_font_coverage_kept_on_disk_is_the_fonts_own(tmp_path: Path, monkeypatch):
    """The coverage read back from the cache is the font's cmap; a changed font is read again."""
    from fontTools.ttLib import TTFont

    from booklet import check

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    font = check.find_font("Noto Sans")
    copy = tmp_path / "font.ttf"
    shutil.copy(font.file, copy)
    cmap = set(TTFont(copy, fontNumber=font.index).getBestCmap())
    for _ in range(2):  # computed, then read from the cache
        check._cmap.cache_clear()
        coverage = check._cmap(str(copy), font.index)
        assert [c for c in range(0x3000) if (c in coverage) != (c in cmap)] == []
    assert len(list((tmp_path / "cache" / "booklet" / "cmaps").iterdir())) == 1
    copy.write_bytes(copy.read_bytes() + b"\0" * 4)  # another file now: another entry
    check._cmap.cache_clear()
    check._cmap(str(copy), font.index)
    assert len(list((tmp_path / "cache" / "booklet" / "cmaps").iterdir())) == 2
