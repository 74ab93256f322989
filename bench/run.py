"""Benchmark: fast rebuilds and scale, every ratio against a baseline measured in this run.

    .venv/bin/python bench/run.py [--repeat N] [--matrix small|full] [--write]

Measures, on a private copy of this repository's handout (dist/ is never touched):

1. booklet (English A4, command line, imports included) against WeasyPrint
   alone rendering the same final HTML in a fresh interpreter;
2. the A5 booklet edition against the A4 edition (warm, one process), and the
   imposition alone: form XObjects against the pypdf baseline kept in
   bench/baseline_impose.py;
3. a matrix (small: en, es x a4, a5-booklet; full: all 40 editions) with
   ``-j 1`` and ``-j 2``, a no-change rebuild of it, and a rebuild after one
   Spanish msgstr changed (which editions rebuilt); peak memory per worker;
4. the content stage of a generated 2000-row table: one reused Markdown
   against one Markdown per cell (the way before);
5. a Dask LocalCluster of two worker processes against the local pool on the
   tests' small fixture (when the ``distributed`` extra is installed).

Prints min and median of N runs and, with --write, writes bench/RESULTS.md
with the machine, date, versions and load. The suite never asserts timings.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SMALL = REPO / "tests" / "projects" / "small"
BOOKLET = [sys.executable, "-m", "booklet.cli"]
sys.path.insert(0, str(REPO / "tests"))
from handout_copy import copy_handout  # noqa: E402 (the tests' copy of the handout)

TARGETS = {}  # name -> (value, limit, text)


def _stats(times: list[float]) -> dict:
    return {"min": min(times), "median": statistics.median(times), "runs": len(times)}


def _fmt(stat: dict) -> str:
    return f"min {stat['min']:.3f} s, median {stat['median']:.3f} s ({stat['runs']} runs)"


def _run(command: list[str], **kwargs) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    elapsed = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    return elapsed, done


def _run_cpu(command: list[str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the command and its children) of a command.

    On a shared machine the wall time waits for other people's work; the CPU
    time is what this command itself cost.
    """
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed, _ = _run(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _target(name: str, value: float, limit: float, text: str, *, at_least: bool = False):
    met = value >= limit if at_least else value <= limit
    TARGETS[name] = (value, limit, text, met, at_least)
    print(f"  -> {text}: {value:.3f} (target {'>=' if at_least else '<='} {limit}) "
          f"{'MET' if met else 'NOT MET'}")


# ---------------------------------------------------------------------------

def final_html(project, edition) -> str:
    """The HTML booklet hands to WeasyPrint for an edition without padding pages."""
    from booklet import content, i18n, pdf, render, review

    localized = i18n.localize(project, edition.language)
    chapters = content.load_chapters(project, edition.language,
                                     translate_chapter=localized.translate_chapter,
                                     translate=localized.translate)
    html = render.render_html(project, edition, chapters,
                              review=review.approval(project, edition.language),
                              modified=pdf.source_date(), notes_pages=0,
                              translations=localized.translations, text=localized.text)
    return localized.finish(html)


WEASYPRINT_ALONE = """
import sys, weasyprint
html = open(sys.argv[1], encoding="utf-8").read()
weasyprint.HTML(string=html, base_url=sys.argv[2]).write_pdf(sys.argv[3],
                                                             pdf_variant="pdf/ua-1")
"""


def bench_overhead(root: Path, scratch: Path, repeat: int) -> dict:
    from booklet.core import Edition
    from booklet.project import load_project

    print("1. booklet English A4 vs WeasyPrint alone on the same final HTML "
          "(fresh interpreter each, imports included)")
    project = load_project(root)
    html_file = scratch / "final.html"
    html_file.write_text(final_html(project, Edition("en", "a4")), encoding="utf-8")
    ours, alone, ours_cpu, alone_cpu = [], [], [], []
    for _ in range(repeat):
        wall, cpu = _run_cpu([*BOOKLET, "build", str(root), "--lang", "en", "--format", "a4",
                              "--force", "--out", str(scratch / "one")])
        ours.append(wall)
        ours_cpu.append(cpu)
        wall, cpu = _run_cpu([sys.executable, "-c", WEASYPRINT_ALONE, str(html_file),
                              root.as_uri() + "/", str(scratch / "alone.pdf")])
        alone.append(wall)
        alone_cpu.append(cpu)
    result = {"booklet": _stats(ours), "weasyprint": _stats(alone),
              "booklet_cpu": _stats(ours_cpu), "weasyprint_cpu": _stats(alone_cpu),
              "stages_cpu": _stage_breakdown(root, scratch)}
    print(f"  booklet    {_fmt(result['booklet'])}\n  WeasyPrint {_fmt(result['weasyprint'])}"
          f"\n  CPU: booklet {_fmt(result['booklet_cpu'])}\n"
          f"       WeasyPrint {_fmt(result['weasyprint_cpu'])}")
    print("  where booklet's CPU goes (one build, s): " + ", ".join(
        f"{name} {value:.3f}" for name, value in result["stages_cpu"].items()))
    _target("overhead", result["booklet"]["min"] / result["weasyprint"]["min"], 1.10,
            "booklet / WeasyPrint alone (wall, min)")
    _target("overhead_cpu", result["booklet_cpu"]["min"] / result["weasyprint_cpu"]["min"],
            1.10, "booklet / WeasyPrint alone (CPU, min)")
    return result


# One English A4 build in a fresh interpreter with a CPU clock around each stage:
# where booklet's time goes besides WeasyPrint's own rendering and writing.
STAGES = """
import json, sys, time
start = time.process_time()
import booklet.build as build, booklet.check as check, booklet.pdf as pdf
import booklet.preflight as preflight, booklet.render as render
spent = {"import booklet": time.process_time() - start}
start = time.process_time()
import weasyprint
spent["import WeasyPrint"] = time.process_time() - start

def clock(module, name, label):
    function = getattr(module, name)
    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - start
    setattr(module, name, timed)

render_method = weasyprint.HTML.render
def render_clocked(self, *args, **kwargs):
    start = time.process_time()
    try:
        return render_method(self, *args, **kwargs)
    finally:
        label = "WeasyPrint layout (and the DRAFT mark's)"
        spent[label] = spent.get(label, 0.0) + time.process_time() - start
weasyprint.HTML.render = render_clocked
clock(pdf, "write_layout", "WeasyPrint PDF writing")
clock(build, "_language_work", "Markdown and localisation")
clock(render, "render_html", "Jinja templates")
clock(check, "require_font_coverage", "font check")
clock(pdf, "draft_mark_pdf", "DRAFT mark layout")
clock(pdf, "stamp_draft", "DRAFT stamp")
clock(pdf, "require_draft_mark", "DRAFT check")
clock(preflight, "preflight_after_build", "preflight")
clock(build.BuildResult, "manifest_entry", "manifest")
from booklet.project import load_project
start = time.process_time()
build.build_all(load_project(sys.argv[1]), ["en"], ["a4"], sys.argv[2], jobs=1, force=True)
spent["build (all of it)"] = time.process_time() - start
print(json.dumps(spent))
"""


def _stage_breakdown(root: Path, scratch: Path) -> dict:
    _, done = _run([sys.executable, "-c", STAGES, str(root), str(scratch / "stages")])
    spent = json.loads(done.stdout.strip().splitlines()[-1])
    total = spent["build (all of it)"]
    named = sum(v for k, v in spent.items()
                if not k.startswith(("import", "build", "DRAFT mark layout")))
    spent["other (the rest of the build)"] = total - named
    return {name: round(value, 3) for name, value in spent.items()}


def bench_booklet(root: Path, scratch: Path, repeat: int) -> dict:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import baseline_impose

    from booklet.build import build_all
    from booklet.impose import impose_saddle_stitch
    from booklet.manifest import size_breakdown
    from booklet.project import load_project

    print("2. A5 booklet edition vs A4 edition (warm, one process, --force, padding known "
          "from the last build); imposition alone")
    project = load_project(root)
    out = scratch / "formats"
    # Warm-up: imports, fontconfig, and the manifest that knows each booklet's padding.
    build_all(project, ["en"], ["a4", "a5-booklet"], out, jobs=1, force=True)
    a4, a5 = [], []
    booklet = None
    for _ in range(repeat):
        for times, fmt in ((a4, "a4"), (a5, "a5-booklet")):
            start = time.perf_counter()
            (built,) = build_all(project, ["en"], [fmt], out, jobs=1, force=True)
            times.append(time.perf_counter() - start)
            booklet = built if fmt == "a5-booklet" else booklet
    new, new_cpu, old = [], [], []
    for index in range(max(repeat, 3) * 2):
        start, cpu = time.perf_counter(), time.process_time()
        impose_saddle_stitch(booklet.path, scratch / "sheets-new.pdf", "a4")
        new.append(time.perf_counter() - start)
        new_cpu.append(time.process_time() - cpu)
        if index < 2:  # the baseline takes seconds; two runs say enough
            start = time.perf_counter()
            baseline_impose.impose_saddle_stitch(booklet.path, scratch / "sheets-old.pdf", "a4")
            old.append(time.perf_counter() - start)
    result = {"a4": _stats(a4), "a5-booklet": _stats(a5), "pages": booklet.pages,
              "impose_xobject": _stats(new), "impose_xobject_cpu": _stats(new_cpu),
              "impose_pypdf": _stats(old),
              "size_a4": size_breakdown(out / booklet.path.name.replace("a5-booklet", "a4")),
              "size_a5_booklet": size_breakdown(booklet.path),
              "size_sheets_xobject": size_breakdown(scratch / "sheets-new.pdf"),
              "size_sheets_pypdf": size_breakdown(scratch / "sheets-old.pdf"),
              "cjk_font_a4": cjk_subset_sizes(
                  out / booklet.path.name.replace("a5-booklet", "a4"))}
    print(f"  a4         {_fmt(result['a4'])}\n  a5-booklet {_fmt(result['a5-booklet'])} "
          f"({booklet.pages} pages)")
    print(f"  imposition, form XObjects {_fmt(result['impose_xobject'])}\n"
          f"  imposition, pypdf (before) {_fmt(result['impose_pypdf'])}")
    _target("booklet", result["a5-booklet"]["min"] / result["a4"]["min"], 1.25,
            "a5-booklet / a4 (min)")
    _target("impose", result["impose_xobject"]["min"], 0.1,
            "imposition of the booklet, s (wall, min)")
    _target("impose_cpu", result["impose_xobject_cpu"]["min"], 0.1,
            "imposition of the booklet, s (CPU, min)")
    return result


def cjk_subset_sizes(path: Path) -> dict:
    """What the English edition's CJK font costs as embedded, and what the same characters
    would cost subset with compact glyph ids (WeasyPrint keeps each glyph's id from the
    65,535-glyph font, so the subset carries empty slots up to the highest one used)."""
    import io
    import zlib

    import pikepdf
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from booklet.check import find_font
    from booklet.preflight import _parse_cmap

    found = {}
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for font in (page.obj.get("/Resources", {}).get("/Font") or {}).values():
                name = str(font.get("/BaseFont", ""))
                if "CJK" not in name or name in found:
                    continue
                descriptor = font.DescendantFonts[0].FontDescriptor
                stored = len(descriptor.FontFile3.read_raw_bytes())
                text = "".join(_parse_cmap(font.ToUnicode.read_bytes()).values())
                found[name] = {"text": text, "embedded_bytes": stored}
    for entry in found.values():
        system = find_font("Noto Sans CJK SC")
        compact = TTFont(system.file, fontNumber=system.index)
        options = subset.Options(retain_gids=False, desubroutinize=True, hinting=False,
                                 notdef_outline=True)
        options.drop_tables += ["GSUB", "GPOS", "SVG ", "BASE", "DSIG"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=entry["text"])
        subsetter.subset(compact)
        data = io.BytesIO()
        compact.save(data)
        entry["compact_subset_bytes"] = len(zlib.compress(data.getvalue(), 9))
    return found


CHILD = """
import json, sys
from booklet.build import build_many
from booklet.project import load_project
args = json.loads(sys.argv[1])
results = build_many([load_project(args["root"])], args["languages"], args["formats"],
                     args["out"], jobs=args["jobs"], force=args["force"])
print(json.dumps([{"file": r.path.name, "skipped": r.skipped, **r.timing()}
                  for r in results]))
print("weasyprint imported:", "weasyprint" in sys.modules)
"""


def _child_build(root: Path, languages, formats, out: Path, jobs: int, force: bool):
    args = json.dumps({"root": str(root), "languages": languages, "formats": formats,
                       "out": str(out), "jobs": jobs, "force": force})
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed, done = _run([sys.executable, "-c", CHILD, args])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The build and its worker processes (joined before it exits), user + system.
    _child_build.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    lines = done.stdout.strip().splitlines()
    return elapsed, json.loads(lines[-2]), lines[-1].endswith("True")


def _touch_one_spanish_msgstr(root: Path) -> str:
    """Change one translated Spanish msgstr in a way that prints the same (a trailing space)."""
    po = root / "locales" / "es" / "LC_MESSAGES" / "booklet.po"
    text = po.read_text(encoding="utf-8")
    match = re.search(r'^msgstr "(.+)"$', text, flags=re.M)
    po.write_text(text[:match.start()] + f'msgstr "{match.group(1)} "' + text[match.end():],
                  encoding="utf-8")
    return match.group(1)[:40]


def bench_matrix(root: Path, scratch: Path, repeat: int, matrix: str) -> dict:
    from booklet.project import load_project

    project = load_project(root)
    if matrix == "full":
        languages, formats = list(project.languages), list(project.formats)
    else:
        languages, formats = ["en", "es"], ["a4", "a5-booklet"]
    count = len(languages) * len(formats)
    print(f"3. matrix of {count} editions ({', '.join(languages)} x {', '.join(formats)}), "
          "in a fresh interpreter each")
    out = scratch / "matrix"
    result: dict = {"editions": count}
    if matrix == "full":
        # Never two builds of the full matrix: -j 2 once, the ratio comes from the small one.
        j2, editions, _ = _child_build(root, languages, formats, out, 2, True)
        result["j2"] = _stats([j2])
        print(f"  -j 2 {_fmt(result['j2'])}")
    else:
        j1s, j2s, cpu1, cpu2 = [], [], [], []
        for index in range(max(1, repeat // 2)):
            order = (1, 2) if index % 2 == 0 else (2, 1)
            for jobs in order:
                elapsed, editions, _ = _child_build(root, languages, formats, out, jobs, True)
                (j1s if jobs == 1 else j2s).append(elapsed)
                (cpu1 if jobs == 1 else cpu2).append(_child_build.cpu)
                if jobs == 2:
                    result["peak_rss_mb_per_worker"] = max(e["peak_rss_mb"] for e in editions)
                    result["cpu_seconds"] = sum(e["cpu_seconds"] for e in editions)
        result["j1"], result["j2"] = _stats(j1s), _stats(j2s)
        print(f"  -j 1 {_fmt(result['j1'])}\n  -j 2 {_fmt(result['j2'])}\n"
              f"  peak memory per worker {result['peak_rss_mb_per_worker']:.0f} MB")
        result["j1_cpu"], result["j2_cpu"] = _stats(cpu1), _stats(cpu2)
        print(f"  CPU -j 1 {_fmt(result['j1_cpu'])}\n  CPU -j 2 {_fmt(result['j2_cpu'])}")
        _target("parallel", result["j2"]["min"] / result["j1"]["min"], 0.6,
                "-j 2 / -j 1 (wall, min)")
        # Two cores that do nothing else run the -j 2 work in half its CPU time at best:
        # what the ratio can be on an idle machine, from what each build cost.
        _target("parallel_cpu", result["j2_cpu"]["min"] / 2 / result["j1_cpu"]["min"], 0.6,
                "-j 2 CPU / 2 / -j 1 CPU (the idle-machine bound)")
    noop, imported = [], False
    for _ in range(max(repeat, 3)):
        elapsed, editions, imported_now = _child_build(root, languages, formats, out, 2, False)
        rebuilt = [e["file"] for e in editions if not e["skipped"]]
        if rebuilt:  # booklet's own source changed since the build above
            print(f"  warning: a no-change rebuild rebuilt {rebuilt}")
        imported |= imported_now
        noop.append(elapsed)
    runs = [_run_cpu([*BOOKLET, "build", str(root),
                      *sum((["--lang", x] for x in languages), []),
                      *sum((["--format", x] for x in formats), []), "--out", str(out)])
            for _ in range(max(repeat, 3))]
    cli = [wall for wall, _ in runs]
    result["noop"], result["noop_cli"] = _stats(noop), _stats(cli)
    result["noop_cli_cpu"] = _stats([cpu for _, cpu in runs])
    result["noop_imports_weasyprint"] = imported
    print(f"  no-change rebuild (library, fresh interpreter) {_fmt(result['noop'])}; "
          f"WeasyPrint imported: {imported}\n"
          f"  no-change rebuild (booklet build) {_fmt(result['noop_cli'])}")
    _target("noop", result["noop_cli"]["min"], 0.5,
            f"no-change rebuild of {count} editions, s (booklet build, wall, min)")
    _target("noop_cpu", result["noop_cli_cpu"]["min"], 0.5,
            f"no-change rebuild of {count} editions, s (booklet build, CPU, min)")
    if "es" in languages:
        changed = _touch_one_spanish_msgstr(root)
        elapsed, editions, _ = _child_build(root, languages, formats, out, 2, False)
        rebuilt = sorted(e["file"] for e in editions if not e["skipped"])
        result["after_spanish_edit"] = {"seconds": elapsed, "rebuilt": rebuilt,
                                        "msgstr": changed}
        only_spanish = all("_es_" in name for name in rebuilt) and rebuilt
        print(f"  after editing one Spanish msgstr: rebuilt {len(rebuilt)} of {count} in "
              f"{elapsed:.1f} s; only Spanish: {bool(only_spanish)}")
        result["only_spanish"] = bool(only_spanish)
    return result


def bench_table(scratch: Path, repeat: int) -> dict:
    from booklet import content
    from booklet.project import load_project

    print("4. content stage of a 2000-row table: one reused Markdown vs one per cell (before)")
    root = scratch / "table"
    (root / "chapters").mkdir(parents=True)
    (root / "booklet.toml").write_text(
        'title = "Table"\nlanguages = ["en"]\nformats = ["a4"]\n'
        '[clinic]\nname = "Bench clinic"\n', encoding="utf-8")
    (root / "chapters" / "01-table.md").write_text(
        "---\ntitle: Table\n---\n\n::: table big\n", encoding="utf-8")
    rows = "".join(
        f'[[rows]]\nname = "Row {i}"\ndrugs = "alpha{i}, *beta*, gamma"\n'
        f'note = "Take **{i % 7 + 1}** tablets with water."\n\n' for i in range(2000))
    (root / "chapters" / "big.toml").write_text(
        '[[columns]]\nkey = "name"\nlabel = "Name"\n\n[[columns]]\nkey = "drugs"\n'
        'label = "Medicines"\nlist = true\n\n[[columns]]\nkey = "note"\nlabel = "Note"\n\n'
        + rows, encoding="utf-8")
    project = load_project(root)
    reused = content.inline_markdown

    def per_cell(text: str, language: str, where: str = "") -> str:
        rendered = content._markdown(language, "x").convert(text).strip()
        rendered = re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.S)
        return content.sanitize(rendered)

    times: dict[str, list[float]] = {"reused": [], "per_cell": []}
    outputs = {}
    try:
        for _ in range(repeat):
            for name, function in (("per_cell", per_cell), ("reused", reused)):
                content.inline_markdown = function
                start = time.perf_counter()
                outputs[name] = content.load_chapters(project, "en")[0].html
                times[name].append(time.perf_counter() - start)
    finally:
        content.inline_markdown = reused
    result = {name: _stats(values) for name, values in times.items()}
    result["same_html"] = outputs["reused"] == outputs["per_cell"]
    print(f"  one per cell {_fmt(result['per_cell'])}\n  reused       {_fmt(result['reused'])}"
          f"\n  same HTML: {result['same_html']}")
    _target("table", result["reused"]["min"] / result["per_cell"]["min"], 1 / 3,
            "2000-row table content stage, reused / before (min)")
    return result


def bench_dask(scratch: Path, repeat: int) -> dict:
    try:
        import distributed
    except ImportError:
        print("5. Dask: skipped (pip install 'booklet[distributed]')")
        return {}
    from booklet.build import build_many
    from booklet.project import load_project

    print("5. Dask LocalCluster (2 worker processes) vs local pool -j 2, small fixture "
          "(4 editions)")
    root = scratch / "small"
    shutil.copytree(SMALL, root)
    local, dask = [], []
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        for _ in range(max(1, repeat // 2)):
            local.append(_child_build(root, None, None, scratch / "local", 2, True)[0])
            start = time.perf_counter()
            build_many([load_project(root)], out_dir=scratch / "dask", force=True,
                       scheduler=cluster.scheduler_address)
            dask.append(time.perf_counter() - start)
    identical = all((scratch / "local" / p.name).read_bytes() == p.read_bytes()
                    for p in (scratch / "dask").glob("*.pdf"))
    result = {"local": _stats(local), "dask": _stats(dask), "identical": identical}
    print(f"  local -j 2 {_fmt(result['local'])} (fresh interpreter and workers)\n"
          f"  Dask       {_fmt(result['dask'])} (running cluster)\n"
          f"  byte-identical: {identical}")
    TARGETS["dask"] = (result["dask"]["min"] / result["local"]["min"], None,
                       "Dask / local (min; for many machines, not one)", None, False)
    print(f"  -> Dask / local: {TARGETS['dask'][0]:.2f}")
    return result


# ---------------------------------------------------------------------------

def machine() -> dict:
    from importlib import metadata

    cpu = ""
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    versions = {}
    for name in ("booklet", "weasyprint", "pydyf", "pikepdf", "pypdf", "markdown", "dask",
                 "distributed"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "-"
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "platform": platform.platform(), "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version(), "versions": versions}


def notes(results: dict) -> list[str]:
    """What the numbers compare, and why a target is not met where the numbers say so."""
    lines = ["## What is compared", "",
             "- **booklet / WeasyPrint alone**: `booklet build --lang en --format a4 --force` "
             "against a fresh interpreter that imports WeasyPrint and writes the same final "
             "HTML (booklet's own, taken before layout) as PDF/UA-1. Both include interpreter "
             "start-up and imports. WeasyPrint alone does only layout and writing; booklet "
             "also reads Markdown and catalogs, runs Jinja, checks fonts, lays out and stamps "
             "the DRAFT mark, checks the mark, runs the preflight (which reads the written "
             "PDF back) and records the manifest: the stage table below says what each "
             "costs. Wall time on a shared machine waits for other people's work; the CPU "
             "ratio is the one to read under load.",
             "- **imposition**: `impose_saddle_stitch` alone on the 44-page A5 booklet, "
             "warm; its wall time includes the fsync of the atomic write.",
             "- **-j 2 / -j 1**: the small matrix in a fresh interpreter each; it says "
             "something only on an idle 2-core machine (see the load above)."]
    stages = results.get("overhead", {}).get("stages_cpu")
    if stages:
        lines += ["", "### Where booklet's CPU goes (one English A4 build, s)", "",
                  "| stage | CPU s |", "|---|---|"]
        lines += [f"| {name} | {value:.3f} |" for name, value in stages.items()]
    cjk = results.get("booklet", {}).get("cjk_font_a4") or {}
    for name, entry in cjk.items():
        lines += ["", "### The CJK font in the English edition", "",
                  f"The back cover's language list needs {entry['text']!r} from Noto Sans "
                  f"CJK SC: embedded as {name[1:]} it takes {entry['embedded_bytes']} bytes. "
                  f"The same characters subset with compact glyph ids take "
                  f"{entry['compact_subset_bytes']} bytes (deflated). WeasyPrint subsets with "
                  "retained glyph ids (its content streams and /CIDToGIDMap Identity use the "
                  "font's own ids, up to 29967 here), so the subset carries an empty slot "
                  "for every glyph below the highest one used; a TrueType CJK font would pad "
                  "its loca and hmtx the same way. Getting the 1-2 KiB needs a subset whose "
                  "glyph ids are renumbered with the content streams (a WeasyPrint change, "
                  "or a re-subset that rewrites the CJK font's text runs), not done here."]
    return lines


def write_results(path: Path, info: dict, results: dict, load_before, load_after,
                  args) -> None:
    lines = ["# Benchmark results", "",
             f"`.venv/bin/python bench/run.py --repeat {args.repeat} --matrix {args.matrix} "
             + (f"--only {' '.join(args.only)} " if args.only else "")
             + "--write`, written by the script itself.", "",
             f"- date: {info['date']}",
             f"- machine: {info['cpu']}, {info['cores']} cores, {info['platform']}",
             f"- Python {info['python']}; "
             + ", ".join(f"{k} {v}" for k, v in info["versions"].items()),
             f"- load average (1, 5, 15 min) before: {', '.join(f'{x:.2f}' for x in load_before)}"
             f"; after: {', '.join(f'{x:.2f}' for x in load_after)}",
             "", "Ratios compare runs made side by side in this run; absolute times depend "
             "on the machine and its load.", "",
             "| target | measured | limit | met |", "|---|---|---|---|"]
    for value, limit, text, met, at_least in TARGETS.values():
        bound = "-" if limit is None else f"{'≥' if at_least else '≤'} {limit:.3g}"
        state = "-" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {text} | {value:.3f} | {bound} | {state} |")
    lines += ["", *notes(results)]
    lines += ["", "## Raw numbers (seconds unless named)", "", "```json",
              json.dumps(results, indent=2, default=str), "```", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--matrix", choices=("small", "full"), default="small")
    parser.add_argument("--only", nargs="*", default=None,
                        help="sections: overhead booklet matrix table dask")
    parser.add_argument("--write", action="store_true", help="write the results file")
    parser.add_argument("--output", type=Path,
                        default=Path(__file__).resolve().parent / "RESULTS.md",
                        help="results file for --write (default: bench/RESULTS.md)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    print(f"load average before: {load_before}")
    results: dict = {}
    sections = args.only or ["overhead", "booklet", "matrix", "table", "dask"]
    with tempfile.TemporaryDirectory(prefix="booklet-bench-") as tmp:
        scratch = Path(tmp)
        root = copy_handout(scratch / "handout")
        if "overhead" in sections:
            results["overhead"] = bench_overhead(root, scratch, args.repeat)
        if "booklet" in sections:
            results["booklet"] = bench_booklet(root, scratch, args.repeat)
        if "matrix" in sections:
            results["matrix"] = bench_matrix(root, scratch, args.repeat, args.matrix)
        if "table" in sections:
            results["table"] = bench_table(scratch, args.repeat)
        if "dask" in sections:
            results["dask"] = bench_dask(scratch, args.repeat)
    load_after = os.getloadavg()
    print(f"load average after: {load_after}")
    if args.write:
        write_results(args.output, machine(), results, load_before, load_after, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
