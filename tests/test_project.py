"""booklet.toml: the shipped project loads; each broken file gives its message."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from booklet.errors import BookletError
from booklet.project import load_project, theme_file

from conftest import PROJECTS, REPO

BROKEN = sorted((PROJECTS / "broken-config").glob("*.toml"))


def test_shipped_handout_loads():
    project = load_project(REPO)
    assert project.title and project.clinic.name
    assert project.published and project.next_review > project.published
    assert project.source_language in project.languages
    assert project.problems == ()


def test_fixture_values_are_read():
    project = load_project(PROJECTS / "minimal")
    assert (project.title, project.slug, project.languages, project.formats) == (
        "Caring for a small cut", "cut", ("en",), ("a4",))
    assert (project.published, project.next_review) == (dt.date(2026, 1, 10),
                                                        dt.date(2027, 1, 10))
    assert project.clinic.name == "Test Clinic"


@pytest.mark.parametrize("config", BROKEN, ids=lambda p: p.stem)
def test_broken_config_names_key_and_fix(config: Path, tmp_path: Path):
    expected = config.read_text().splitlines()[0].removeprefix("# expect: ")
    shutil.copy(config, tmp_path / "booklet.toml")
    with pytest.raises(BookletError) as error:
        load_project(tmp_path)
    message = str(error.value)
    assert expected in message
    assert str(tmp_path / "booklet.toml") in message


def test_all_problems_reported_at_once(tmp_path: Path):
    shutil.copy(PROJECTS / "broken-config" / "several-at-once.toml", tmp_path / "booklet.toml")
    with pytest.raises(BookletError) as error:
        load_project(tmp_path)
    message = str(error.value)
    for key in ("'title'", "'formats'", "'clinic.name'"):
        assert key in message


def test_unknown_key_warns_and_strict_refuses(tmp_path: Path):
    (tmp_path / "booklet.toml").write_text(
        'title = "T"\ncolour = "blue"\n[clinic]\nname = "C"\nafter_hours = "1"\n'
        'emergency = "2"\n')
    project = load_project(tmp_path)
    assert any("key 'colour': unknown key" in w for w in project.warnings)
    [problem] = project.problems
    assert (problem.code, problem.level) == ("config-unknown-key", "warning")
    assert problem.location == f"{tmp_path / 'booklet.toml'}: key 'colour'"
    with pytest.raises(BookletError, match="colour") as error:
        load_project(tmp_path, strict=True)
    assert [p.level for p in error.value.problems] == ["error"]


def test_problems_are_values_each_with_its_key(tmp_path: Path):
    shutil.copy(PROJECTS / "broken-config" / "several-at-once.toml", tmp_path / "booklet.toml")
    with pytest.raises(BookletError) as error:
        load_project(tmp_path)
    problems = error.value.problems
    assert len(problems) >= 3 and all(p.level == "error" for p in problems)
    assert {"config-missing", "config-invalid"} <= {p.code for p in problems}
    assert all(p.location.startswith(f"{tmp_path / 'booklet.toml'}: key '") for p in problems)


def test_missing_config_says_how_to_start(tmp_path: Path):
    with pytest.raises(BookletError, match="booklet new DIR"):
        load_project(tmp_path)


def test_project_file_overrides_theme_file(tmp_path: Path):
    (tmp_path / "booklet.toml").write_text('title = "T"\n[clinic]\nname = "C"\n')
    project = load_project(tmp_path)
    assert theme_file(project, "templates", "cover.html").parent.parent != tmp_path
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "cover.html").write_text("<p>own cover</p>")
    assert theme_file(project, "templates", "cover.html") == tmp_path / "templates" / "cover.html"


def test_validate_returns_errors_and_warnings_without_raising(tmp_path: Path):
    from booklet.project import validate_project

    (tmp_path / "booklet.toml").write_text(
        'title = 5\ncolour = "blue"\nformats = ["a3"]\n[clinic]\nname = "C"\n'
        'after_hours = "1"\nemergency = "2"\n')
    project, problems = validate_project(tmp_path)
    assert project is None
    assert sorted((p.level, p.location.rsplit(" ", 1)[-1]) for p in problems) == [
        ("error", "'formats'"), ("error", "'title'"), ("warning", "'colour'")]
