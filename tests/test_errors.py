"""Every broken input a clinic can give: one message naming the file or option, exit 1.

Each case copies tests/projects/minimal, breaks one thing, runs one command
and asserts what a user sees: exit code 1, no traceback, and the message
naming the file (and line) or the option to fix.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from booklet.cli import main

from conftest import PROJECTS

MINIMAL = PROJECTS / "minimal"
TABLE = "chapters/dressings.toml"
CHAPTER = "chapters/01-cuts.md"


def _write(root: Path, name: str, data: str | bytes) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")


def _prepend(root: Path, name: str, data: bytes) -> None:
    path = root / name
    path.write_bytes(data + path.read_bytes())


def _rows_instead(rows: str):
    """The fixture's table with its [[rows]] replaced by a `rows = ...` line."""
    def setup(root: Path) -> None:
        text = (root / TABLE).read_text(encoding="utf-8")
        columns = text.split("[[rows]]")[0]
        _write(root, TABLE, f"rows = {rows}\n" + columns)
    return setup


def _nested_list(root: Path) -> None:
    body = "".join("    " * depth + "- item\n" for depth in range(100))
    _write(root, CHAPTER, "---\ntitle: Deep\n---\n\n" + body)


def _second_language_with_bom_catalog(root: Path) -> None:
    config = root / "booklet.toml"
    config.write_text(config.read_text().replace('languages = ["en"]',
                                                 'languages = ["en", "es"]'))
    header = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
              '"Language: es\\n"\n')
    _write(root, "locales/es/LC_MESSAGES/booklet.po", b"\xef\xbb\xbf" + header.encode())


def _entity_image(root: Path) -> None:
    with (root / CHAPTER).open("a", encoding="utf-8") as f:
        f.write("\nSee this: ![a cut](&#97;ssets/none.png)\n")


def _approved_review(**overrides: str) -> str:
    entry = {"approved_by": '"Dr. A"', "approved_on": "2026-01-11",
             "fingerprint": '"sha256:00"', **overrides}
    return "[languages.en]\n" + "".join(f"{k} = {v}\n" for k, v in entry.items())


@dataclass(frozen=True)
class Case:
    id: str
    setup: object  # (root) -> None
    args: tuple[str, ...]  # "{root}" stands for the broken project
    names: tuple[str, ...]  # what the message must name: file, line, option
    env: dict[str, str] = field(default_factory=dict)


CASES = [
    Case("reviews approved_on is a string",
         lambda r: _write(r, "reviews.toml", _approved_review(approved_on='"x"')),
         ("i18n", "status", "{root}"), ("reviews.toml", "languages.en.approved_on")),
    Case("reviews languages is a number", lambda r: _write(r, "reviews.toml", "languages = 5\n"),
         ("i18n", "status", "{root}"), ("reviews.toml", "'languages'")),
    Case("reviews language is a string",
         lambda r: _write(r, "reviews.toml", '[languages]\nen = "approved"\n'),
         ("i18n", "status", "{root}"), ("reviews.toml", "languages.en")),
    Case("reviews in Latin-1", lambda r: _write(r, "reviews.toml", "# caf\xe9\n".encode("latin-1")),
         ("build", "{root}"), ("reviews.toml:1", "UTF-8")),
    Case("approve a name with a line break", lambda r: None,
         ("approve", "{root}", "--lang", "en", "--by", "Dr. A\nB"), ("--by", "line break")),
    Case("table rows are numbers", _rows_instead("[1, 2]"),
         ("check", "{root}"), ("dressings.toml", "rows[0]")),
    Case("table row is a string", _rows_instead('["Plaster"]'),
         ("build", "{root}"), ("dressings.toml", "rows[0]")),
    Case("table in Latin-1", lambda r: _prepend(r, TABLE, 'caption = "Pansé"\n'.encode("latin-1")),
         ("build", "{root}"), ("dressings.toml:1", "UTF-8")),
    Case("table blank_rows is a bool", lambda r: _prepend(r, TABLE, b"blank_rows = true\n"),
         ("build", "{root}"), ("dressings.toml", "blank_rows")),
    Case("table columns is a number", lambda r: _write(r, TABLE, "columns = 5\n"),
         ("build", "{root}"), ("dressings.toml", "columns")),
    Case("table caption is not a string",
         lambda r: _write(r, TABLE, (r / TABLE).read_text().replace(
             'caption = "Dressings you may use."', "caption = 5")),
         ("build", "{root}"), ("dressings.toml", "caption")),
    Case("table TOML syntax error", lambda r: _prepend(r, TABLE, b'caption = "open\n'),
         ("build", "{root}"), ("dressings.toml", "line 1")),
    Case("config in Latin-1", lambda r: _prepend(r, "booklet.toml", "# café\n".encode("latin-1")),
         ("build", "{root}"), ("booklet.toml:1", "UTF-8")),
    Case("template includes a missing file",
         lambda r: _write(r, "templates/handout.html", '\n{% include "nope.html" %}\n'),
         ("build", "{root}"), ("handout.html:2", "nope.html")),
    Case("template includes an absolute path",
         lambda r: _write(r, "templates/handout.html", '{% include "/etc/passwd" %}\n'),
         ("build", "{root}"), ("handout.html:1", "/etc/passwd")),
    Case("lists nested 100 levels", _nested_list,
         ("build", "{root}"), ("01-cuts.md:", "nested")),
    Case("chapter starts with a BOM", lambda r: _prepend(r, CHAPTER, b"\xef\xbb\xbf"),
         ("build", "{root}"), ("01-cuts.md:1", "byte-order mark")),
    Case("catalog starts with a BOM", _second_language_with_bom_catalog,
         ("i18n", "status", "{root}"), ("booklet.po:1", "byte-order mark")),
    Case("image URL written with entities", _entity_image,
         ("build", "{root}", "--strict"), ("01-cuts.md:11", "none.png")),
    Case("image that is not an image, under --strict",
         lambda r: (_write(r, "assets/x.png", "not a picture\n"), _write(
             r, CHAPTER, (r / CHAPTER).read_text() + "\n![A cut](../assets/x.png)\n")),
         ("build", "{root}", "--strict"), ("01-cuts.md:11", "x.png", "cannot be drawn")),
    Case("stylesheet error under --strict",
         lambda r: _write(r, "styles/custom.css", "p { color: red }\n\np { font-size: big }\n"),
         ("build", "{root}", "--strict"), ("custom.css:3", "font-size")),
    Case("--out is a file", lambda r: _write(r, "afile", ""),
         ("build", "{root}", "--out", "afile"), ("--out", "afile")),
    # A folder nobody may write into, root included (sysfs); see also the chmod test.
    Case("--out is a read-only folder", lambda r: None,
         ("build", "{root}", "--out", "/sys/kernel"), ("--out /sys/kernel", "cannot write")),
    Case("--out under /proc", lambda r: None,
         ("build", "{root}", "--out", "/proc/booklet-test"), ("--out", "/proc/booklet-test")),
    Case("output file name is a folder",
         lambda r: (r / "dist" / "cut_en_a4.pdf").mkdir(parents=True),
         ("build", "{root}"), ("cut_en_a4.pdf", "folder")),
    Case("new onto a file", lambda r: _write(r, "afile", ""),
         ("new", "{root}/afile"), ("afile", "is a file")),
    Case("SOURCE_DATE_EPOCH out of range", lambda r: None,
         ("build", "{root}"), ("SOURCE_DATE_EPOCH", "out of range"),
         env={"SOURCE_DATE_EPOCH": "99999999999999"}),
]
BY_ID = {case.id: case for case in CASES}


def _broken(tmp_path: Path, case: Case) -> Path:
    root = tmp_path / "project"
    shutil.copytree(MINIMAL, root)
    case.setup(root)
    return root


def _assert_one_message(result, names: tuple[str, ...]) -> None:
    assert result.exit_code == 1, result.output
    # CliRunner catches an escaped exception: a bug, even when the output looks clean.
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        repr(result.exception)
    assert "Traceback" not in result.output
    assert result.output.startswith("error: ") or "\nerror: " in result.output, result.output
    for name in names:
        assert name in result.output, (name, result.output)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_broken_input_gives_one_message(tmp_path: Path, case: Case, monkeypatch):
    root = _broken(tmp_path, case)
    for key, value in case.env.items():
        monkeypatch.setenv(key, value)
    args = [a.replace("{root}", str(root)) for a in case.args]
    _assert_one_message(CliRunner().invoke(main, args), case.names)


def test_refused_approval_writes_nothing(tmp_path: Path):
    root = _broken(tmp_path, BY_ID["approve a name with a line break"])
    CliRunner().invoke(main, ["approve", str(root), "--lang", "en", "--by", "Dr. A\nB"])
    assert not (root / "reviews.toml").exists()


def test_approval_round_trips_names_toml_must_escape(tmp_path: Path):
    root = _broken(tmp_path, BY_ID["approve a name with a line break"])
    name = 'Dr. "Ana" O\'Neil \\ Smith'
    result = CliRunner().invoke(main, ["approve", str(root), "--lang", "en", "--by", name])
    assert result.exit_code == 0, result.output
    status = CliRunner().invoke(main, ["i18n", "status", str(root), "--json"])
    assert status.exit_code == 0, status.output
    assert name in status.output.replace('\\"', '"').replace("\\\\", "\\")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder(tmp_path: Path):
    root = _broken(tmp_path, BY_ID["approve a name with a line break"])
    (root / "ro").mkdir()
    (root / "ro").chmod(0o555)
    result = CliRunner().invoke(main, ["build", str(root), "--out", "ro/dist"])
    _assert_one_message(result, ("--out", "ro/dist"))


@pytest.fixture(scope="module")
def three_page_pdf(tmp_path_factory) -> Path:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=100, height=140)
    path = tmp_path_factory.mktemp("pdf") / "three.pdf"
    with path.open("wb") as f:
        writer.write(f)
    return path


def test_preview_clamps_a_huge_range_to_the_document(three_page_pdf: Path, tmp_path: Path):
    result = CliRunner().invoke(main, ["preview", str(three_page_pdf), "--pages", "2-999999999",
                                       "--dpi", "20", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("*.png")) == ["three-p2.png", "three-p3.png"]


@pytest.mark.parametrize("pages, names", [("5-2", ("--pages", "empty")),
                                          ("9", ("--pages", "page 9", "3 pages")),
                                          ("x", ("--pages", "'x'"))],
                         ids=["backwards range", "page past the end", "not a number"])
def test_preview_bad_pages(three_page_pdf: Path, tmp_path: Path, pages: str, names):
    result = CliRunner().invoke(main, ["preview", str(three_page_pdf), "--pages", pages,
                                       "--out", str(tmp_path)])
    _assert_one_message(result, names)
    assert not list(tmp_path.glob("*.png"))


@pytest.mark.parametrize("case", [c for c in CASES if c.id in (
    "lists nested 100 levels", "SOURCE_DATE_EPOCH out of range", "reviews in Latin-1")],
    ids=lambda c: c.id)
def test_installed_command_prints_no_traceback(tmp_path: Path, case: Case):
    """The real console script, in its own process: what a clinic's terminal shows."""
    root = _broken(tmp_path, case)
    args = [a.replace("{root}", str(root)) for a in case.args]
    env = {**os.environ, **case.env}
    done = subprocess.run([sys.executable, "-m", "booklet.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.startswith("error: ")
    for name in case.names:
        assert name in done.stderr


def test_approving_again_repairs_a_broken_entry(tmp_path: Path):
    """The message says to re-run booklet approve; that must work."""
    root = _broken(tmp_path, BY_ID["reviews approved_on is a string"])
    result = CliRunner().invoke(main, ["approve", str(root), "--lang", "en", "--by", "Dr. A"])
    assert result.exit_code == 0, result.output
    status = CliRunner().invoke(main, ["i18n", "status", str(root)])
    assert status.exit_code == 0 and "approved by Dr. A" in status.output, status.output
