"""The wheel a clinic installs: theme and scaffold inside it, working outside this repo."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Offline: the build backend (hatchling, in the test extra) comes from this environment.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index",
                    "--no-build-isolation", "-q", "-w", str(out), str(REPO)], check=True,
                   capture_output=True)
    return next(out.glob("booklet-*.whl"))


def test_wheel_carries_theme_and_scaffold(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("booklet/theme/templates/handout.html", "booklet/theme/styles/handout.css",
                 "booklet/scaffold/booklet.toml", "booklet/cli.py"):
        assert name in names, name
    assert not any(n.startswith("chapters/") for n in names)


def test_new_and_build_from_a_fresh_virtual_environment(wheel: Path, tmp_path: Path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print("
                                "sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Install the wheel's files only; its dependencies come from the test environment
    # (already installed there from PyPI), so the test needs no network.
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    # Isolated (-I: no PYTHON* variables, no user site, no current folder on the path)
    # and a clean environment: only what a clinic's shell would have.
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path),
           "LANG": "C.UTF-8"}
    run = [str(python), "-I", "-m", "booklet.cli"]
    where = subprocess.run([str(python), "-I", "-c", "import booklet; print(booklet.__file__)"],
                           capture_output=True, text=True, check=True, cwd=workdir,
                           env=env).stdout
    assert where.startswith(str(site)), where
    subprocess.run([*run, "new", "clinic-handout"], cwd=workdir, check=True,
                   capture_output=True, env=env)
    result = subprocess.run([*run, "build", "clinic-handout", "--format", "a4"], cwd=workdir,
                            capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    pdf = workdir / "clinic-handout" / "dist" / "clinic-handout_en_a4.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
