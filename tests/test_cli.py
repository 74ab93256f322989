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
