"""Chapters: Markdown features, sanitizing, images, data tables, broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from booklet.content import load_chapters, load_table, render_markdown
from booklet.errors import BookletError
from booklet.project import load_project

from conftest import PROJECTS, REPO

BROKEN = sorted((PROJECTS / "broken-chapters").glob("*.md"))


def make_project(root: Path, chapter: str, name: str = "01-test.md") -> Path:
    (root / "chapters").mkdir(parents=True)
    (root / "booklet.toml").write_text('title = "T"\n[clinic]\nname = "C"\n')
    (root / "chapters" / name).write_text(chapter)
    return root


def render(root: Path) -> str:
    return load_chapters(load_project(root))[0].html


@pytest.mark.parametrize("chapter", BROKEN, ids=lambda p: p.stem)
def test_broken_chapter_names_file_line_and_fix(chapter: Path, tmp_path: Path):
    text = chapter.read_text()
    expected = text.rsplit("<!-- expect: ", 1)[1].split(" -->")[0]
    make_project(tmp_path / "p", text)
    with pytest.raises(BookletError) as error:
        load_chapters(load_project(tmp_path / "p"))
    assert expected in str(error.value)


def test_chapters_follow_file_name_order(tmp_path: Path):
    root = Path(shutil.copytree(PROJECTS / "minimal", tmp_path / "p"))
    # 10 sorts after 9 only by its digits' text, which is why names carry two digits.
    (root / "chapters" / "10-last.md").write_text("---\ntitle: Last\n---\n\nText.\n")
    (root / "chapters" / "00-first.md").write_text("---\ntitle: First\n---\n\nText.\n")
    titles = [c.title for c in load_chapters(load_project(root))]
    assert titles == ["First", "Looking after a cut", "Last"]


def test_misnamed_chapter_is_refused(tmp_path: Path):
    make_project(tmp_path, "---\ntitle: T\n---\n", name="intro.md")
    with pytest.raises(BookletError, match="intro.md: chapter file names must look like"):
        load_chapters(load_project(tmp_path))


def test_markdown_features_render(tmp_path: Path):
    make_project(tmp_path, """---
title: T
---

## A "quoted" heading {#custom}

| Drug | Dose |
|---|---|
| A | 1 mg |

Term
:   Its definition.

A claim.[^1]

[^1]: The footnote.

!!! keypoints "Key points"
    - One point.
""")
    html = render(tmp_path)
    assert "&ldquo;quoted&rdquo;" in html or "\u201cquoted\u201d" in html
    assert 'id="custom"' in html
    assert "<table>" in html and "<td>1 mg</td>" in html
    assert "<dt>Term</dt>" in html and "<dd>" in html
    assert 'class="footnote"' in html
    assert "footnote-backref" not in html and "\u21a9" not in html
    assert 'class="admonition keypoints"' in html


def test_raw_html_is_sanitized(tmp_path: Path):
    make_project(tmp_path, """---
title: T
---

<script>alert('x')</script>

<p onclick="steal()">Click</p> <iframe src="https://example.org"></iframe>
""")
    html = render(tmp_path)
    assert "<script" not in html and "alert('x')" not in html
    assert "onclick" not in html and "<iframe" not in html
    assert "Click" in html  # a javascript: link is an error: tests/test_gate.py


def test_image_inside_project_resolves_relative_to_chapter(tmp_path: Path):
    make_project(tmp_path, "---\ntitle: T\n---\n\n![Logo](../assets/logo.svg)\n")
    (tmp_path / "assets").mkdir()
    shutil.copy(REPO / "assets" / "logo.svg", tmp_path / "assets" / "logo.svg")
    html = render(tmp_path)
    assert 'src="assets/logo.svg"' in html  # relative to the project, the HTML's base


def test_missing_image_warns_in_draft_and_fails_in_strict(tmp_path: Path):
    make_project(tmp_path, "---\ntitle: T\n---\n\n![Gone](../assets/gone.png)\n")
    project = load_project(tmp_path)
    warnings: list[str] = []
    chapters = load_chapters(project, warnings=warnings)
    assert "<img" not in chapters[0].html
    assert warnings and "01-test.md:5: image '../assets/gone.png' not found" in str(warnings[0])
    assert warnings[0].code == "image-missing"
    with pytest.raises(BookletError, match="01-test.md:5: image"):
        load_chapters(project, strict=True)


def test_regimen_table_is_data_with_caption_and_source():
    project = load_project(REPO)
    table = load_table(project, "regimens", "test")
    assert [row["regimen"] for row in table.rows] == ["SMILE", "VIDL", "GELOX/D"]
    assert [row["pfs"] for row in table.rows] == ["Varies", "73% at 5 years", "73% at 5 years"]
    chapter = next(c for c in load_chapters(project) if c.slug == "treatment")
    assert '<table class="data-table">' in chapter.html
    assert "<caption>" in chapter.html and 'class="table-source"' in chapter.html
    assert '<span class="nobreak">L-asparaginase</span>' in chapter.html
    assert '<th scope="col"' in chapter.html and '<th scope="row"' in chapter.html


def test_table_with_wrong_columns_names_file_and_row(tmp_path: Path):
    make_project(tmp_path, "---\ntitle: T\n---\n\n::: table t\n")
    (tmp_path / "chapters" / "t.toml").write_text(
        '[[columns]]\nkey = "a"\nlabel = "A"\n\n[[rows]]\nb = "x"\n')
    with pytest.raises(BookletError) as error:
        load_chapters(load_project(tmp_path))
    message = str(error.value)
    assert "t.toml: rows[0]: unknown column ['b']" in message
    assert "rows[0]: missing ['a']" in message


def test_markdown_in_translated_or_raw_text_is_sanitized_in_tables(tmp_path: Path):
    project_root = make_project(tmp_path, "---\ntitle: T\n---\n")
    project = load_project(project_root)
    html = render_markdown(project, project_root / "chapters" / "01-test.md",
                           "Text <img src=x onerror=alert(1)>", 5, slug="t", language="en")
    assert "onerror" not in html


def test_link_to_another_chapter_becomes_an_internal_link(tmp_path: Path):
    make_project(tmp_path, "---\ntitle: T\n---\n\nSee [the records](02-records.md) and "
                 "[a section](02-records.md#diary) or [the web](https://example.org).\n")
    (tmp_path / "chapters" / "02-records.md").write_text("---\ntitle: R\n---\n")
    html = render(tmp_path)
    assert 'href="#records"' in html and 'href="#records-diary"' in html
    assert 'href="https://example.org"' in html


def test_link_to_a_local_file_is_refused_with_line(tmp_path: Path):
    make_project(tmp_path, "---\ntitle: T\n---\n\nText.\n\n[form](../assets/form.pdf)\n")
    with pytest.raises(BookletError, match=r"01-test.md:7: link '../assets/form.pdf' is not a "
                       "chapter"):
        render(tmp_path)
