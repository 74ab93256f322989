"""The command line: clean messages, exit codes, and the commands a clinic uses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from booklet import __version__
from booklet.cli import main

from conftest import PROJECTS


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_version():
    result = run("--version")
    assert result.exit_code == 0 and __version__ in result.output


def test_help_does_not_import_weasyprint_or_babel():
    code = ("import sys; from booklet.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('weasyprint', 'babel', 'markdown') if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert output.strip().endswith("[]")


def test_user_error_is_one_line_without_traceback(tmp_path: Path):
    (tmp_path / "booklet.toml").write_text((PROJECTS / "broken-config" / "bad-format.toml")
                                           .read_text())
    result = run("build", str(tmp_path))
    assert result.exit_code == 1
    assert "key 'formats': got 'a3'" in result.output
    assert "Traceback" not in result.output


def test_unknown_language_is_a_clean_error(tmp_path: Path):
    result = run("new", str(tmp_path / "h"))
    assert result.exit_code == 0
    result = run("build", str(tmp_path / "h"), "--lang", "fr")
    assert result.exit_code == 1
    assert "--lang 'fr': not in" in result.output and "Traceback" not in result.output


def test_new_then_build_approve_and_preview(tmp_path: Path):
    root = tmp_path / "my-handout"
    result = run("new", str(root), "--title", "Living with anemia")
    assert result.exit_code == 0, result.output
    result = run("build", str(root), "--format", "a4")
    assert result.exit_code == 0, result.output
    pdf = root / "dist" / "living-with-anemia_en_a4.pdf"
    assert pdf.is_file()
    assert "DRAFT" in result.output

    result = run("approve", str(root), "--lang", "en", "--by", "Dr. D")
    assert result.exit_code == 0, result.output
    result = run("build", str(root), "--format", "a4")
    assert "approved" in result.output

    result = run("preview", str(pdf), "--pages", "1-2", "--dpi", "30",
                 "--out", str(tmp_path / "png"), "--sheet")
    assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in (tmp_path / "png").iterdir())
    assert pngs == ["living-with-anemia_en_a4-p1.png", "living-with-anemia_en_a4-p2.png",
                    "living-with-anemia_en_a4-sheet.png"]
    assert (tmp_path / "png" / pngs[0]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_preview_bad_page_range(tmp_path: Path):
    run("new", str(tmp_path / "h"))
    run("build", str(tmp_path / "h"), "--format", "a4")
    pdf = next((tmp_path / "h" / "dist").glob("*.pdf"))
    result = run("preview", str(pdf), "--pages", "99")
    assert result.exit_code == 1 and "page 99 does not exist" in result.output


def test_new_refuses_non_empty_folder(tmp_path: Path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    result = run("new", str(tmp_path / "x"))
    assert result.exit_code == 1 and "not empty" in result.output


def test_check_command_passes_on_shipped_handout(tmp_path: Path):
    # The content checks only: no built PDFs to preflight in an empty --out.
    result = run("check", str(Path(__file__).resolve().parents[1]), "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "error:" not in result.output and "[preflight-nothing]" in result.output


def _minimal(tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(PROJECTS / "minimal", tmp_path / "minimal"))


def test_build_json_lists_editions_and_problems(tmp_path: Path):
    import json

    root = _minimal(tmp_path)
    (root / "styles").mkdir()
    (root / "styles" / "custom.css").write_text("p { font-size: big }\n")
    result = CliRunner().invoke(main, ["build", str(root), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is True and data["problems"] == []
    [edition] = data["editions"]
    assert (edition["language"], edition["format"], edition["draft"]) == ("en", "a4", True)
    assert Path(edition["file"]).is_file() and edition["pages"] >= 1
    css = [p for p in edition["problems"] if p["code"] == "css-ignored"]
    assert [p["level"] for p in css] == ["warning"]
    assert css[0]["location"].startswith("styles/custom.css:1:")

    strict = CliRunner().invoke(main, ["build", str(root), "--json", "--strict"])
    assert strict.exit_code == 1
    data = json.loads(strict.stdout)
    assert data["ok"] is False
    # Stopped in layout or reported per edition: either way every problem is an error.
    found = data["problems"] + [p for e in data.get("editions", []) for p in e["problems"]]
    assert found and all(p["level"] == "error" for p in found)


def test_build_json_reports_every_config_problem(tmp_path: Path):
    import json

    (tmp_path / "booklet.toml").write_text(
        (PROJECTS / "broken-config" / "several-at-once.toml").read_text())
    result = CliRunner().invoke(main, ["build", str(tmp_path), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False and len(data["problems"]) > 1
    assert all(p["level"] == "error" and "booklet.toml: key '" in p["location"]
               for p in data["problems"])


def test_strict_makes_config_warnings_errors(tmp_path: Path):
    root = _minimal(tmp_path)
    config = root / "booklet.toml"
    config.write_text("colour = 'blue'\n" + config.read_text())
    result = run("check", str(root))
    assert result.exit_code == 0 and "warning: " in result.output and "'colour'" in result.output
    for command in ("check", "build"):
        result = run(command, str(root), "--strict")
        assert result.exit_code == 1, result.output
        assert "error: " in result.output and "'colour'" in result.output
    assert not (root / "dist").exists()


def test_check_json(tmp_path: Path):
    import json

    root = _minimal(tmp_path)
    table = root / "chapters" / "dressings.toml"
    table.write_text(table.read_text().replace('when = "Small cuts"', 'when = "41% of cuts"'))
    result = CliRunner().invoke(main, ["check", str(root), "--json"])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    errors = [p for p in problems if p["level"] == "error"]
    assert [p["code"] for p in errors] == ["figure-not-in-prose"]
    assert set(errors[0]) == {"code", "level", "message", "location", "hint"}


def test_i18n_status_json_problems_are_values(tmp_path: Path):
    import json

    root = _minimal(tmp_path)
    result = CliRunner().invoke(main, ["i18n", "status", str(root), "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.stdout)
    assert row["language"] == "en" and row["problems"] == []
    (root / "reviews.toml").write_text("languages = 5\n")
    result = CliRunner().invoke(main, ["i18n", "status", str(root), "--json"])
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["code"] == "review-invalid" and "reviews.toml" in problem["location"]


def test_library_does_not_import_click():
    package = Path(__file__).resolve().parents[1] / "booklet"
    importers = [p.name for p in package.glob("*.py")
                 if p.name != "cli.py" and "import click" in p.read_text()]
    assert importers == []


def test_strict_makes_layout_warnings_errors_too(tmp_path: Path):
    """Text cut off at the page edge is found in layout; --strict treats it as any other."""
    root = _minimal(tmp_path)
    chapter = next((root / "chapters").glob("*.md"))
    chapter.write_text(chapter.read_text() + "\n" + "W" * 300 + "\n")
    result = run("build", str(root))
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "past the right edge" in result.output
    result = run("build", str(root), "--strict")
    assert result.exit_code == 1
    assert "error: " in result.output and "past the right edge" in result.output
    assert "Traceback" not in result.output


def test_i18n_status_json_locates_catalog_problems(tmp_path: Path):
    import json

    root = _minimal(tmp_path)
    config = root / "booklet.toml"
    config.write_text(config.read_text().replace('languages = ["en"]', 'languages = ["en", "es"]'))
    assert run("i18n", "extract", str(root)).exit_code == 0
    assert run("i18n", "update", str(root)).exit_code == 0
    po = root / "locales" / "es" / "LC_MESSAGES" / "booklet.po"
    english = 'msgid "Wash the cut with clean water. Cover it with a plaster."\n'
    lines = po.read_text().splitlines(keepends=True)
    line = lines.index(english) + 1  # the message's first line, as Babel counts it
    po.write_text(po.read_text().replace(english + 'msgstr ""',
                                         english + 'msgstr "<b>Lave</b> la herida."'))
    result = CliRunner().invoke(main, ["i18n", "status", str(root), "--json"])
    rows = {row["language"]: row for row in json.loads(result.stdout)}
    [problem] = rows["es"]["problems"]
    assert problem["code"] == "catalog-invalid" and problem["level"] == "error"
    assert problem["location"] == f"{po}:{line}"
    assert "raw HTML <b>" in problem["message"]
