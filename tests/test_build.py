"""Tests for the build of many editions: skipping what is current, failures, kills, scale."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from booklet.build import BuildFailed, build_all, build_edition, build_many, find_projects
from booklet.cli import main
from booklet.core import Edition
from booklet.project import load_project

SMALL = Path(__file__).resolve().parent / "projects" / "small"
CHAPTER = "chapters/01-feet.md"


def _copy(dest: Path, slug: str | None = None) -> Path:
    shutil.copytree(SMALL, dest)
    if slug:
        config = dest / "booklet.toml"
        config.write_text(config.read_text().replace('slug = "feet"', f'slug = "{slug}"'))
    return dest


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The small fixture's four editions, built once in two workers."""
    root = _copy(tmp_path_factory.mktemp("built") / "small")
    results = build_all(load_project(root), out_dir=root / "dist", jobs=2)
    return root, results


def _entries(root: Path) -> dict[str, dict]:
    return json.loads((root / "dist" / "manifest.json").read_text())["editions"]


def test_first_build_records_inputs_and_timing(built):
    root, results = built
    assert len(results) == 4 and not any(r.skipped for r in results)
    entries = _entries(root)
    for result in results:
        entry = entries[result.path.name]
        for key in ("file", "language", "format", "pages", "sha256", "fingerprint",
                    "approved", "approved_by", "tool_version", "inputs"):
            assert key in entry, key
        assert entry["inputs"].startswith("sha256:") and entry["inputs"] == result.inputs
        assert result.seconds > 0 and result.cpu_seconds > 0 and result.peak_rss_mb > 0
        size = entry["size"]
        assert size["total"] == result.path.stat().st_size
        assert size["fonts"] + size["images"] + size["content"] + size["structure"] == \
            size["total"]
        assert size["fonts"] > 0 and size["content"] > 0 and size["structure"] > 0
    # Each language has its own inputs; each format too.
    assert len({e["inputs"] for e in entries.values()}) == 4


def test_size_over_budget_names_where_the_bytes_go(built):
    from booklet.manifest import size_problems

    _, results = built
    pdf = results[0].path
    assert size_problems(pdf, pdf.stat().st_size) == []
    (problem,) = size_problems(pdf, 1024, "booklet.toml: key 'size_budget.a4'")
    assert problem.code == "size-over-budget" and problem.location.startswith("booklet.toml")
    assert "fonts" in problem.message and "over its budget of 1 KiB" in problem.message


def test_no_change_rebuild_skips_everything_without_importing_weasyprint(built):
    root, results = built
    code = (
        "import sys\n"
        "from booklet.build import build_all\n"
        "from booklet.project import load_project\n"
        f"results = build_all(load_project({str(root)!r}), out_dir={str(root / 'dist')!r})\n"
        "print(all(r.skipped for r in results), len(results), 'weasyprint' in sys.modules)\n"
        "print(*[m for m in ('babel', 'markdown', 'jinja2', 'pikepdf', 'fontTools')\n"
        "        if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    assert out[0].split() == ["True", "4", "False"]
    # Nothing else that only a real build needs: deciding that nothing changed is cheap.
    assert out[1].split() == []


def test_booklet_laid_out_with_last_padding_is_the_same_booklet(built, tmp_path):
    root, results = built
    (booklet,) = [r for r in results if r.edition == Edition("en", "a5-booklet")]
    assert _entries(root)[booklet.path.name]["notes_pages"] == booklet.notes_pages
    for hint in {booklet.notes_pages, (booklet.notes_pages + 1) % 4}:
        again = build_edition(load_project(root), booklet.edition, tmp_path / str(hint),
                              notes_hint=hint)
        assert again.notes_pages == booklet.notes_pages
        assert again.path.read_bytes() == booklet.path.read_bytes()
    # A rebuild with the padding known from the manifest reports the booklet too.
    (rebuilt,) = build_all(load_project(root), ["en"], ["a5-booklet"], root / "dist", force=True)
    assert rebuilt.edition == booklet.edition and rebuilt.notes_pages == booklet.notes_pages


def test_changed_spanish_catalog_rebuilds_only_spanish(tmp_path):
    root = _copy(tmp_path / "small")
    project = load_project(root)
    build_all(project, formats=["a4"], out_dir=root / "dist", jobs=1)
    from booklet import i18n

    i18n.update(project)  # writes locales/es/LC_MESSAGES/booklet.po
    again = {r.edition.language: r for r in build_all(load_project(root), formats=["a4"],
                                                      out_dir=root / "dist", jobs=1)}
    assert again["en"].skipped and not again["es"].skipped


def test_force_and_a_changed_pdf_rebuild(tmp_path):
    root = _copy(tmp_path / "small")
    project = load_project(root)
    first = build_all(project, ["en"], ["a4"], root / "dist")[0]
    assert build_all(project, ["en"], ["a4"], root / "dist")[0].skipped
    assert not build_all(project, ["en"], ["a4"], root / "dist", force=True)[0].skipped
    original = first.path.read_bytes()
    first.path.write_bytes(original + b"\n% edited by hand\n")
    rebuilt = build_all(project, ["en"], ["a4"], root / "dist")[0]
    assert not rebuilt.skipped and rebuilt.path.read_bytes() == original


def test_one_failing_language_keeps_the_others(tmp_path):
    root = _copy(tmp_path / "small")
    project = load_project(root)
    from booklet import i18n

    (po,) = [p for p in i18n.update(project) if "/es/" in p.as_posix()]
    text = po.read_text(encoding="utf-8")
    # A translation that changes a number is refused: a wrong figure must never print.
    needle = 'msgid "Call the clinic if a sore does not heal in 2 days."\nmsgstr ""'
    assert needle in text
    po.write_text(text.replace(needle, needle[:-2] + '"Llame si no se cura en 3 días."'),
                  encoding="utf-8")
    with pytest.raises(BuildFailed) as caught:
        build_all(load_project(root), formats=["a4"], out_dir=root / "dist", jobs=2)
    failure = caught.value
    assert [o.edition.language for o in failure.outcomes] == ["es"]
    assert "1 of 2 editions failed" in failure.message and "es a4" in failure.message
    assert [r.edition.language for r in failure.results] == ["en"]
    assert set(_entries(root)) == {"feet_en_a4.pdf"}

    result = CliRunner().invoke(main, ["build", str(root), "--format", "a4", "-j", "2"])
    assert result.exit_code == 1
    assert "feet_en_a4.pdf" in result.output and "current" in result.output
    assert "  es a4: " in result.output and "Traceback" not in result.output


def test_several_projects_in_one_folder(tmp_path):
    library = tmp_path / "library"
    _copy(library / "feet", "feet")
    _copy(library / "hands", "hands")
    assert find_projects([library]) == [library / "feet", library / "hands"]
    result = CliRunner().invoke(main, ["build", str(library), "--lang", "en", "--format", "a4",
                                       "-j", "2"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.endswith(" s")]
    assert len(lines) == 2  # one line per edition, with its time
    assert (library / "feet" / "dist" / "feet_en_a4.pdf").is_file()
    assert (library / "hands" / "dist" / "hands_en_a4.pdf").is_file()


# ---------------------------------------------------------------------------
# A killed parallel build leaves no process behind
# ---------------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    """Every live process's children, read from /proc (zombies count as gone)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z":
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
def test_killed_parallel_build_leaves_no_worker(tmp_path, sig):
    root = _copy(tmp_path / "small")
    booklet = Path(sys.executable).with_name("booklet")
    command = [str(booklet)] if booklet.is_file() else [sys.executable, "-m", "booklet.cli"]
    parent = subprocess.Popen([*command, "build", str(root), "-j", "2", "--force"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while time.monotonic() < deadline and parent.poll() is None:
            workers = _descendants(parent.pid)
            if len(workers) >= 2:
                break
            time.sleep(0.1)
        assert parent.poll() is None and len(workers) >= 2, "the build never started workers"
        time.sleep(1.0)  # let them get to work
        workers |= _descendants(parent.pid)
        os.kill(parent.pid, sig)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and any(_alive(p) for p in workers):
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)], "workers outlived the build"
        if sig == signal.SIGTERM:
            assert parent.returncode != 0
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


# ---------------------------------------------------------------------------
# Dask: the same editions on a cluster, byte for byte
# ---------------------------------------------------------------------------

def test_dask_cluster_build_is_byte_identical(built, tmp_path):
    distributed = pytest.importorskip("distributed")
    root, local = built
    out = tmp_path / "dask-dist"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        results = build_many([load_project(root)], out_dir=out,
                             scheduler=cluster.scheduler_address)
    assert len(results) == len(local) == 4
    for mine, theirs in zip(sorted(results, key=lambda r: r.path.name),
                            sorted(local, key=lambda r: r.path.name), strict=True):
        assert mine.path.parent == out and mine.path.name == theirs.path.name
        assert mine.path.read_bytes() == theirs.path.read_bytes()
        if theirs.sheets:
            assert mine.sheets.read_bytes() == theirs.sheets.read_bytes()
    local_entries = _entries(root)
    dask_entries = json.loads((out / "manifest.json").read_text())["editions"]
    for name, entry in dask_entries.items():
        assert entry["sha256"] == local_entries[name]["sha256"]
        assert entry["inputs"] == local_entries[name]["inputs"]
