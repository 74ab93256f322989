"""Build: string the stages together for one edition, and for the matrix of editions.

project → content → (i18n) → render → pdf → (impose). Each edition is
independent, so the matrix is a map over editions: skipped when its inputs
and PDF are unchanged (dist/manifest.json), else run in warm worker processes
that die with the parent, or on a Dask cluster (``scheduler``).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from booklet.core import WARNING, BookletError, Edition, Outcome, Problem, as_problems
from booklet.project import FORMATS, Format, Project, load_project


@dataclass(frozen=True)
class BuildResult:
    edition: Edition
    path: Path
    pages: int
    draft: bool
    problems: tuple[Problem, ...] = field(default=())
    sheets: Path | None = None  # booklets: the reading-order pages imposed for printing
    fingerprint: str = ""  # the content fingerprint this edition was built from
    approved_by: str = ""
    inputs: str = ""  # hash of everything that decides the bytes (manifest "inputs")
    skipped: bool = False  # current already: not rebuilt
    seconds: float = 0.0  # wall time of this edition's build
    cpu_seconds: float = 0.0  # CPU time of the process that built it, for this edition
    peak_rss_mb: float = 0.0  # peak memory of that process so far
    notes_pages: int = 0  # ruled pages added to pad a booklet (the next build's first guess)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The problems as text with their codes, for callers that print them."""
        return tuple(f"{p} [{p.code}]" for p in self.problems)

    def manifest_entry(self) -> dict:
        """This edition's entry in dist/manifest.json."""
        from booklet import __version__
        from booklet.manifest import file_sha256, size_breakdown

        entry = {"file": self.path.name, "language": self.edition.language,
                 "format": self.edition.format, "pages": self.pages,
                 "sha256": file_sha256(self.path), "fingerprint": self.fingerprint,
                 "approved": not self.draft, "approved_by": self.approved_by,
                 "tool_version": __version__, "inputs": self.inputs,
                 "problems": [p.as_dict() for p in self.problems],
                 "notes_pages": self.notes_pages,
                 "size": size_breakdown(self.path)}
        if self.sheets:
            entry["sheets"] = {"file": self.sheets.name, "sha256": file_sha256(self.sheets)}
        return entry

    def timing(self) -> dict:
        """Time, CPU and memory of this edition, for ``build --json``."""
        return {"seconds": round(self.seconds, 3), "cpu_seconds": round(self.cpu_seconds, 3),
                "peak_rss_mb": round(self.peak_rss_mb, 1), "skipped": self.skipped}


def edition_filename(project: Project, edition: Edition) -> str:
    return f"{project.slug}_{edition.language}_{edition.format}.pdf"


def sheets_filename(project: Project, edition: Edition) -> str:
    """Name of a booklet's imposed sheets, beside its reading-order PDF."""
    return f"{project.slug}_{edition.language}_{edition.format}-sheets.pdf"


def _require_known(project: Project, edition: Edition) -> None:
    """Refuse a language the project does not list or a format the theme lacks."""
    if edition.format not in FORMATS:
        raise BookletError(f"--format {edition.format!r}: allowed values: {', '.join(FORMATS)}")
    if edition.language not in project.languages:
        raise BookletError(f"--lang {edition.language!r}: not in {project.config_path} "
                           f"key 'languages' {list(project.languages)}; add it there first")


def _as_project(project: Project | Path | str) -> Project:
    return project if isinstance(project, Project) else load_project(project)


def build_edition(project: Project | Path | str, edition: Edition, out_dir: Path | str = "dist",
                  *, strict: bool = False, cache_key: str = "",
                  notes_hint: int = 0) -> BuildResult:
    """Render one edition to out_dir and report what happened.

    Within one build (the same ``cache_key``), a language's Markdown and
    localisation are done once and shared by all its formats in this process.
    ``notes_hint`` is the padding a booklet needed last time: when it is right
    again, the booklet is laid out once instead of twice.
    """
    from booklet import check, content, pdf, render, review
    from booklet.pdf import CSS_REJECTED

    project = _as_project(project)
    _require_known(project, edition)
    approval = review.approval(project, edition.language)
    # An approved edition must print in full: a missing image is an error there.
    localized, chapters, language_problems, fonts_checked = _language_work(
        project, edition.language, strict, strict or approval is not None, cache_key)
    warnings: list = list(language_problems)
    fmt = FORMATS[edition.format]

    def html_for(notes_pages: int) -> str:
        html = render.render_html(project, edition, chapters, review=approval,
                                  modified=pdf.source_date(), notes_pages=notes_pages,
                                  translations=localized.translations, text=localized.text)
        html = localized.finish(html)
        warnings.extend(w for w in check.require_font_coverage(
            project, edition.language, html, checked=fonts_checked) if w not in warnings)
        return html

    layout, notes_pages = _layout_padded(project, fmt, html_for, warnings, notes_hint)
    if layout.warnings:
        # Something WeasyPrint could not draw, or text cut off at the page edge.
        where = f"{edition.language} {edition.format} edition"
        found = [f"{where}: {w}" for w in content.locate_image_warnings(layout.warnings,
                                                                         chapters)]
        if strict or approval is not None:
            reason = "--strict" if strict else "an approved edition must print in full"
            raise BookletError(f"{len(found)} rendering problem(s) ({reason}):\n"
                               + "\n".join(f"  {w}" for w in found))
        for warning in found:
            if CSS_REJECTED in warning:  # "edition: styles/x.css:2:3: WeasyPrint ignored ..."
                place, message = warning.split(f": {CSS_REJECTED}", 1)
                warning = Problem("css-ignored", WARNING, f"{message} (WeasyPrint skips it)",
                                  place.removeprefix(f"{where}: "),
                                  "fix or remove the declaration")
            if warning not in warnings:
                warnings.append(warning)
    data = pdf.write_layout(layout, image_dpi=fmt.image_dpi)
    target = Path(out_dir) / edition_filename(project, edition)
    if fmt.bleed_mm:  # press: slug, marks outside the bleed, output intent (booklet.press)
        from booklet.press import finish_press

        data = finish_press(data, project, fmt)
    if approval is None:
        # Stamped after layout, so no project CSS or template can hide it.
        mark = (localized.translations or render.gettext_module.NullTranslations()).gettext(
            "DRAFT")
        data = pdf.stamp_draft(data, pdf.draft_mark_pdf(
            mark, edition.language, rtl=render.is_rtl(edition.language),
            cmyk=(fmt.pdf_variant or "").startswith("pdf/x")),
            outline=fmt.pdf_variant == "pdf/x-1a")
        pdf.require_draft_mark(data, str(target))
    out = pdf.write_pdf(data, target)
    from booklet.preflight import preflight_after_build  # read the written PDF back

    for found in preflight_after_build(out, edition, project, approval=approval):
        # A preflight error does not stop the build (booklet check fails on it).
        warnings.append(found if found.level == WARNING else Problem(
            found.code, WARNING, found.message, found.location,
            "; ".join(filter(None, (found.hint, "booklet check fails on this")))))
    sheets = None
    if fmt.impose_on:
        from booklet.impose import impose_saddle_stitch

        gettext = (localized.translations or render.gettext_module.NullTranslations()).gettext
        sheets = impose_saddle_stitch(out, Path(out_dir) / sheets_filename(project, edition),
                                      dict(project.sheets).get(fmt.name, fmt.impose_on),
                                      right_to_left=render.is_rtl(edition.language),
                                      note=gettext(render.PRINTING_NOTE),
                                      language=edition.language)
    return BuildResult(edition, out, layout.pages, approval is None, as_problems(warnings),
                       sheets=sheets, fingerprint=review.fingerprint(project, edition.language),
                       approved_by=approval.approved_by if approval else "",
                       notes_pages=notes_pages)


# One build's per-language work, kept for the build that made it (cache_key)
# and dropped when another build starts, so edits between builds are seen.
_LANGUAGE_CACHE: dict[tuple, tuple] = {}


def _language_work(project: Project, language: str, strict: bool, strict_content: bool,
                   cache_key: str):
    """Localise and render a language's chapters (and share its font check): once a build.

    ``strict_content`` refuses what cannot print in full (a missing image): it is
    set for ``--strict`` and for approved editions.
    """
    from booklet import content, i18n

    key = (cache_key, project, language, strict, strict_content)
    if cache_key and key in _LANGUAGE_CACHE:
        return _LANGUAGE_CACHE[key]
    localized = i18n.localize(project, language, strict=strict)
    warnings: list = list(as_problems(localized.warnings, "translation-incomplete"))
    chapters = content.load_chapters(project, language, strict=strict_content,
                                     warnings=warnings,
                                     translate_chapter=localized.translate_chapter,
                                     translate=localized.translate)
    # The characters the font check found covered, shared by the language's formats.
    fonts_checked: set[tuple[str, str]] = set()
    done = (localized, chapters, as_problems(warnings), fonts_checked)
    if cache_key:
        for old in [k for k in _LANGUAGE_CACHE if k[0] != cache_key]:
            del _LANGUAGE_CACHE[old]
        _LANGUAGE_CACHE[key] = done
    return done


def _layout_padded(project: Project, fmt: Format, html_for: Callable[[int], str],
                   warnings: list[str], notes_hint: int = 0):
    """Lay out an edition; pad a booklet to a multiple of fmt.pad_to pages.

    The padding is notes pages before the back cover, so the back cover stays
    last and no page is blank. It needs the page count, so a booklet that is
    not already a multiple of 4 is laid out a second time with the notes.
    A first layout with ``notes_hint`` notes pages that comes out a multiple
    of fmt.pad_to is final: fewer than pad_to pages of padding that make the
    count a multiple are the only right padding. Returns (layout, notes pages).
    """
    from booklet import pdf, render

    def lay_out(notes_pages: int) -> pdf.Layout:
        return pdf.layout_pdf(html_for(notes_pages), base_url=project.root,
                              allowed_roots=render.stylesheet_roots(project),
                              variant=fmt.pdf_variant,
                              stylesheets=tuple(sorted((project.root / "styles").glob("*.css"))))

    guess = notes_hint if fmt.pad_to > 1 and 0 < notes_hint < fmt.pad_to else 0
    layout = lay_out(guess)
    missing = -(layout.pages - guess) % fmt.pad_to
    if missing != guess:
        layout = lay_out(missing)
        if layout.pages % fmt.pad_to:
            raise BookletError(
                f"format {fmt.name!r}: {layout.pages} pages after adding {missing} notes "
                f"pages, not a multiple of {fmt.pad_to}: a notes page must fit on one page; "
                "show fewer ruled lines (.notes-lines .line:nth-child(n+N) {display: none}) "
                f"in styles/{fmt.stylesheet} or styles/custom.css")
    return layout, missing


def build(project: Project | Path | str, edition: Edition, out_dir: Path | str = "dist") -> Path:
    """Build one edition and return the PDF's path (the public API)."""
    return build_edition(project, edition, out_dir).path




# ---------------------------------------------------------------------------
# The matrix: many editions of one or more projects
# ---------------------------------------------------------------------------

# Rough relative cost per format, to start the longest editions first so the
# last minutes of a build are not one big edition on one core: booklets are
# laid out twice and imposed, large print has twice the pages.
_FORMAT_WEIGHT = {"a5-booklet": 2.2, "half-letter-booklet": 2.2, "large-print": 1.8,
                  "press": 1.2, "press-x1a": 1.2}


@dataclass(frozen=True)
class Job:
    """One edition of one project to build into out_dir, with its inputs hash."""

    project: Project
    edition: Edition
    out_dir: Path
    inputs: str
    # The padding this booklet needed last time (manifest); not part of which job it is.
    notes_hint: int = field(default=0, compare=False)

    @property
    def label(self) -> str:
        return f"{self.project.slug} {self.edition.language} {self.edition.format}"

    @property
    def weight(self) -> float:
        return _FORMAT_WEIGHT.get(self.edition.format, 1.0)


class BuildFailed(BookletError):
    """Some editions failed; the others were built and recorded.

    ``results`` holds the editions that were built (or current), ``outcomes``
    what happened to each failed one.
    """

    def __init__(self, results: list[BuildResult], outcomes: list[Outcome], total: int):
        if total == 1:  # one edition asked for: its own message, nothing around it
            lines = [outcomes[0].error]
        else:
            lines = [f"{len(outcomes)} of {total} editions failed "
                     f"({len(results)} built or current, recorded in the manifest):"]
            for outcome in outcomes:
                lines.append(f"  {outcome.edition.language} {outcome.edition.format}: "
                             + outcome.error.replace("\n", "\n    "))
        problems = [p for o in outcomes for p in o.problems]
        super().__init__("\n".join(lines), problems)
        self.results = results
        self.outcomes = outcomes


def plan(projects: list[Project], languages: list[str] | None = None,
         formats: list[str] | None = None, out_dir: Path | str = "dist") -> list[Job]:
    """Every requested edition of every project with its inputs hash (no WeasyPrint)."""
    from booklet import manifest
    from booklet.review import one_read_of_shared_parts

    with one_read_of_shared_parts():
        return _plan(projects, languages, formats, out_dir, manifest.tool_inputs())


def _plan(projects, languages, formats, out_dir, tool: str) -> list[Job]:
    from booklet import manifest

    jobs = []
    for project in projects:
        editions = [Edition(lang, fmt) for lang in (languages or project.languages)
                    for fmt in (formats or project.formats)]
        for edition in editions:
            _require_known(project, edition)
        target = Path(out_dir)
        if not target.is_absolute():
            target = project.root / target
        common = manifest.project_inputs(project)
        per_language = {lang: manifest.language_inputs(project, lang)
                        for lang in {e.language for e in editions}}
        jobs += [Job(project, e, target, manifest.edition_inputs(
            tool, common, per_language[e.language], FORMATS[e.format])) for e in editions]
    return jobs


def build_all(project: Project, languages: list[str] | None = None,
              formats: list[str] | None = None, out_dir: Path | str = "dist", *,
              strict: bool = False, jobs: int | None = None, force: bool = False,
              scheduler: str | None = None,
              progress: Callable[[BuildResult | Outcome], None] | None = None,
              ) -> list[BuildResult]:
    """Build every requested (language, format) pair that is not current already."""
    return build_many([project], languages, formats, out_dir, strict=strict, jobs=jobs,
                      force=force, scheduler=scheduler, progress=progress)


def build_many(projects: list[Project], languages: list[str] | None = None,
               formats: list[str] | None = None, out_dir: Path | str = "dist", *,
               strict: bool = False, jobs: int | None = None, force: bool = False,
               scheduler: str | None = None,
               progress: Callable[[BuildResult | Outcome], None] | None = None,
               ) -> list[BuildResult]:
    """Build the editions of several projects in one pool; return them in plan order.

    An edition whose inputs hash and files match dist/manifest.json is current
    and not rebuilt (``force`` rebuilds). Each finished edition is recorded in
    its manifest at once, in this process, so a killed build keeps what it
    finished. A failed edition does not stop the others: after all of them,
    BuildFailed lists the failures. ``progress`` is called once per edition.
    """
    from booklet import manifest

    planned = plan(projects, languages, formats, out_dir)
    results: dict[Job, BuildResult] = {}
    failed: list[Outcome] = []
    todo: list[Job] = []
    manifests: dict[Path, dict] = {}
    for job in planned:
        entries = manifests.setdefault(job.out_dir, manifest.load_manifest(job.out_dir))
        entry = entries.get(edition_filename(job.project, job.edition))
        if not force and manifest.is_current(job.out_dir, entry, job.inputs) and not (
                strict and entry.get("problems")):
            results[job] = _current_result(job, entry)
            if progress:
                progress(results[job])
        else:
            hint = entry.get("notes_pages", 0) if entry else 0
            todo.append(replace(job, notes_hint=hint if isinstance(hint, int) else 0))
    # Longest first; a language's formats next to each other share its Markdown work.
    todo.sort(key=lambda j: (-j.weight, j.project.root.as_posix(), j.edition.language))

    def finished(job: Job, result: BuildResult | None, outcome: Outcome | None) -> None:
        if result is not None:
            result = replace(result, inputs=job.inputs)
            manifest.record_editions(job.out_dir, [result.manifest_entry()])
            results[job] = result
        else:
            failed.append(outcome)
        if progress:
            progress(result if result is not None else outcome)

    if todo:
        cache_key = f"{os.getpid()}-{time.monotonic_ns()}"
        if scheduler:
            _run_on_dask(scheduler, todo, strict, finished)
        else:
            workers = min(jobs or os.cpu_count() or 1, len(todo))
            if workers <= 1:
                for job in todo:
                    _run_here(job, strict, cache_key, finished)
            else:
                _run_in_pool(todo, workers, strict, cache_key, finished)
    built = [results[job] for job in planned if job in results]
    if failed:
        raise BuildFailed(built, failed, len(planned))
    return built


def _current_result(job: Job, entry: dict) -> BuildResult:
    """The BuildResult of an edition that is current: read back from its manifest entry."""
    sheets = entry.get("sheets")
    return BuildResult(job.edition, job.out_dir / entry["file"], int(entry.get("pages", 0)),
                       not entry.get("approved", False),
                       tuple(Problem(**p) for p in entry.get("problems", ())),
                       sheets=job.out_dir / sheets["file"] if isinstance(sheets, dict) else None,
                       fingerprint=entry.get("fingerprint", ""),
                       approved_by=entry.get("approved_by", ""), inputs=job.inputs,
                       skipped=True)


def _outcome(edition: Edition, exc: BaseException) -> Outcome:
    if isinstance(exc, BookletError):
        return Outcome(edition, tuple(exc.problems), exc.message)
    # A bug, not a user mistake: say so, but keep the other editions.
    message = f"internal error ({type(exc).__name__}: {exc}); please report it"
    return Outcome(edition, (Problem("internal-error", "error", message),), message)


def _timed_build(project: Project, edition: Edition, out_dir: Path, strict: bool,
                 cache_key: str, notes_hint: int = 0) -> BuildResult:
    """Build one edition and note its wall time, CPU time and the process's peak memory."""
    import resource

    wall, cpu = time.perf_counter(), time.process_time()
    result = build_edition(project, edition, out_dir, strict=strict, cache_key=cache_key,
                           notes_hint=notes_hint)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return replace(result, seconds=time.perf_counter() - wall,
                   cpu_seconds=time.process_time() - cpu, peak_rss_mb=peak_kib / 1024)


def _run_here(job: Job, strict: bool, cache_key: str, finished) -> None:
    try:
        result = _timed_build(job.project, job.edition, job.out_dir, strict, cache_key,
                              job.notes_hint)
    except Exception as exc:  # noqa: BLE001 (one edition's failure is reported, not fatal)
        finished(job, None, _outcome(job.edition, exc))
    else:
        finished(job, result, None)


# ---------------------------------------------------------------------------
# Local worker processes: warm, and never outliving the build
# ---------------------------------------------------------------------------

def _die_with_parent(parent_pid: int) -> None:
    """Make this worker exit when the build process dies, however it dies.

    On Linux the kernel sends SIGKILL when the parent goes (PR_SET_PDEATHSIG);
    everywhere a thread also checks that the parent is still ours, since a
    dead parent's children are handed to another process.
    """
    import ctypes
    import sys

    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="booklet-parent-watch", daemon=True).start()


def _worker_init(parent_pid: int) -> None:
    """Set up a worker: die with the parent, leave Ctrl-C to it, import WeasyPrint once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent_pid)
    import weasyprint  # noqa: F401 (warm: paid once per worker, not per edition)


def _build_in_worker(args: tuple[Project, Edition, Path, bool, str, int]) -> BuildResult:
    return _timed_build(*args)


class _Terminated(BaseException):
    """SIGTERM reached the build: stop like Ctrl-C, then exit with the signal's status."""


def _run_in_pool(todo: list[Job], workers: int, strict: bool, cache_key: str,
                 finished) -> None:
    """Run jobs in worker processes; on Ctrl-C or SIGTERM cancel the rest and stop them."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    # spawn: each worker is this process's own child (so it can watch it) and
    # starts clean, without the parent's threads or half-held locks.
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context,
                               initializer=_worker_init, initargs=(os.getpid(),))
    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_term(signum, frame):
            raise _Terminated()

        previous = signal.signal(signal.SIGTERM, on_term)
    try:
        pending = {pool.submit(_build_in_worker, (j.project, j.edition, j.out_dir, strict,
                                                  cache_key, j.notes_hint)): j for j in todo}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                job = pending.pop(future)
                try:
                    result = future.result()
                except Exception as exc:  # noqa: BLE001 (reported per edition)
                    finished(job, None, _outcome(job.edition, exc))
                else:
                    finished(job, result, None)
    except (KeyboardInterrupt, _Terminated) as exc:
        _stop_pool(pool)
        if isinstance(exc, _Terminated):
            raise SystemExit(128 + signal.SIGTERM) from None
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        pool.shutdown(wait=True, cancel_futures=True)


def _stop_pool(pool) -> None:
    """Cancel what has not started and stop the workers now (they would finish otherwise)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=5)


# ---------------------------------------------------------------------------
# A Dask cluster: the same map on many machines
# ---------------------------------------------------------------------------

def render_edition_bytes(project: Project, edition: Edition, strict: bool, notes_hint: int = 0
                         ) -> tuple[BuildResult, bytes, bytes | None]:
    """Build one edition in a scratch folder and return it with its PDF (and sheets) bytes.

    Runs on a Dask worker: the project must be readable at the same path there
    (a shared or synced folder), as the PDF records the paths it was built from.
    """
    import tempfile

    with tempfile.TemporaryDirectory(prefix="booklet-") as scratch:
        result = _timed_build(project, edition, Path(scratch), strict, "", notes_hint)
        data = result.path.read_bytes()
        sheets = result.sheets.read_bytes() if result.sheets else None
    return result, data, sheets


def _run_on_dask(scheduler: str, todo: list[Job], strict: bool, finished) -> None:
    """Submit each job to the Dask scheduler; write what comes back beside the manifest."""
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise BookletError(f"--scheduler {scheduler}: Dask is not installed; install the "
                           'extra: pip install "booklet[distributed]"') from None
    from booklet.files import write_atomic

    try:
        client = Client(scheduler, timeout=30)
    except OSError as exc:
        raise BookletError(f"--scheduler {scheduler}: cannot reach the Dask scheduler "
                           f"({exc}); start one (dask scheduler) or fix the address") from None
    with client:
        futures = {client.submit(render_edition_bytes, j.project, j.edition, strict,
                                 j.notes_hint, pure=False, key=f"booklet-{j.label}-{j.inputs[-12:]}"
                                 .replace(" ", "-")): j for j in todo}
        for future in as_completed(futures):
            job = futures[future]
            try:
                result, data, sheets = future.result()
            except Exception as exc:  # noqa: BLE001 (reported per edition)
                finished(job, None, _outcome(job.edition, exc))
                continue
            path = write_atomic(job.out_dir / result.path.name, data)
            sheets_path = (write_atomic(job.out_dir / result.sheets.name, sheets)
                           if result.sheets and sheets is not None else None)
            finished(job, replace(result, path=path, sheets=sheets_path), None)


def find_projects(paths: list[Path]) -> list[Path]:
    """Project folders: each path itself if it has booklet.toml, else its subfolders that do."""
    from booklet.project import CONFIG_NAME

    found: list[Path] = []
    for path in paths:
        path = Path(path)
        if (path / CONFIG_NAME).is_file() or not path.is_dir():
            found.append(path)  # a missing booklet.toml is load_project's error to give
            continue
        inner = sorted(p.parent for p in path.glob(f"*/{CONFIG_NAME}"))
        found += inner or [path]
    return found
