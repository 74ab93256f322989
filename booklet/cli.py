"""Command line: options and messages only; each command delegates to one library call.

Heavy modules (WeasyPrint, Babel) are imported inside the commands, so
``booklet --help`` stays instant.
"""

from __future__ import annotations

import gettext
from pathlib import Path

import click

from booklet import __version__

_ = gettext.translation("booklet-cli", fallback=True).gettext

PROJECT = click.argument("project", default=".", type=click.Path(file_okay=False,
                                                                   path_type=Path))


class _Commands(click.Group):
    """The command group: a BookletError from the library is one message and exit 1.

    The library knows nothing of click; this is the one place that turns its
    errors into what a person sees, never a traceback. An OSError that a
    stage did not turn into a BookletError still names its file.
    """

    def invoke(self, ctx: click.Context):
        from booklet.core import BookletError

        try:
            return super().invoke(ctx)
        except BookletError as exc:
            click.echo(_("error: {}").format(exc.message), err=True)
            ctx.exit(exc.exit_code)
        except OSError as exc:
            where = exc.filename or _("a file")
            click.echo(_("error: {where}: {reason}; check the path and its permissions")
                       .format(where=where, reason=exc.strerror or exc), err=True)
            ctx.exit(1)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="booklet")
def main() -> None:
    """Build print-ready, multilingual patient handouts from Markdown chapters."""


def _output_folder(folder: Path, option: str) -> Path:
    """Make sure the output folder exists and takes files, or say which option to fix."""
    import tempfile

    from booklet.core import BookletError

    if folder.exists() and not folder.is_dir():
        raise BookletError(_("{option} {folder}: is a file, not a folder; choose a folder")
                           .format(option=option, folder=folder))
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise BookletError(_("{option} {folder}: cannot write there ({reason}); choose a "
                             "folder you can write to").format(
            option=option, folder=folder, reason=exc.strerror or exc)) from None
    return folder


def _level(problem) -> str:
    return _("error") if problem.level == "error" else _("warning")


def _report(problems, strict: bool) -> list:
    """Print each problem once as 'level: text'; return the ones that are errors.

    ``--strict`` makes every warning an error, whatever stage found it.
    """
    seen, errors = set(), []
    for problem in problems:
        if strict:
            problem = problem.as_error()
        if str(problem) in seen:
            continue
        seen.add(str(problem))
        click.echo(f"{_level(problem)}: {problem} [{problem.code}]", err=True)
        if problem.level == "error":
            errors.append(problem)
    return errors


def _echo_json(data) -> None:
    import json

    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _json_failure(exc) -> None:
    """Print a BookletError as JSON for scripts and exit 1."""
    _echo_json({"ok": False, "problems": [p.as_dict() for p in exc.problems]})
    raise click.exceptions.Exit(1)


JSON = click.option("--json", "as_json", is_flag=True,
                    help=_("Print the result and its problems as JSON, for scripts and CI."))


@main.command()
@click.argument("projects", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option("--lang", "languages", multiple=True, metavar="LANG",
              help=_("Language to build (repeatable); default: all in booklet.toml."))
@click.option("--format", "formats", multiple=True, metavar="FORMAT",
              help=_("Format to build (repeatable); default: formats in booklet.toml."))
@click.option("--out", "out_dir", default="dist", show_default=True,
              type=click.Path(path_type=Path),
              help=_("Output folder, relative to the project."))
@click.option("--strict", is_flag=True,
              help=_("Treat every warning (unknown keys, missing images, untranslated "
                     "text, fonts, PDF/X, CSS) as an error."))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help=_("Editions rendered in parallel; default: one per core."))
@click.option("--force", is_flag=True,
              help=_("Rebuild every edition, even those whose inputs have not changed."))
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help=_("Build on this Dask cluster instead of local processes "
                     '(pip install "booklet[distributed]").'))
@JSON
def build(projects: tuple[Path, ...], languages: tuple[str, ...], formats: tuple[str, ...],
          out_dir: Path, strict: bool, jobs: int | None, force: bool,
          scheduler: str | None, as_json: bool) -> None:
    """Build every edition (language x format) of the handouts in PROJECTS into PDFs.

    PROJECTS are project folders, or folders holding several (default: the
    current folder). Editions whose inputs have not changed since the last
    build are not rebuilt.
    """
    from booklet.build import build_many, find_projects
    from booklet.core import BookletError
    from booklet.project import load_project

    def progress(done) -> None:
        """One line per edition as it finishes (not with --json: that prints at the end)."""
        # A failed edition is said once, with the others, in the error at the end.
        if as_json or getattr(done, "error", ""):
            return
        state = _("DRAFT") if done.draft else _("approved")
        when = _("current") if done.skipped else f"{done.seconds:.1f} s"
        click.echo(f"{done.path}  {done.pages} {_('pages')}  {state}  {when}")
        if done.sheets:
            note = _("imposed for duplex printing (flip on short edge), folding and stapling")
            click.echo(f"{done.sheets}  {note}")

    try:
        loaded = [load_project(root) for root in find_projects(list(projects) or [Path(".")])]
        config_problems = [p for project in loaded for p in project.problems]
        if strict and config_problems:
            raise BookletError.from_problems([p.as_error() for p in config_problems])
        for project in loaded:
            _output_folder(out_dir if out_dir.is_absolute() else project.root / out_dir,
                           "--out")
        results = build_many(loaded, list(languages) or None, list(formats) or None, out_dir,
                             strict=strict, jobs=jobs, force=force, scheduler=scheduler,
                             progress=progress)
    except BookletError as exc:
        if as_json:
            _json_failure(exc)
        raise
    # An edition that was current already reported its problems when it was built.
    problems = config_problems + [p for r in results if not r.skipped for p in r.problems]
    if as_json:
        level = (lambda p: p.as_error()) if strict else (lambda p: p)
        editions = [{"language": r.edition.language, "format": r.edition.format,
                     "file": str(r.path), "pages": r.pages, "draft": r.draft,
                     "sheets": str(r.sheets) if r.sheets else None, **r.timing(),
                     "problems": [level(p).as_dict() for p in r.problems]} for r in results]
        ok = not any(level(p).level == "error" for p in problems)
        _echo_json({"ok": ok, "problems": [level(p).as_dict() for p in config_problems],
                    "editions": editions})
        if not ok:
            raise click.exceptions.Exit(1)
        return
    errors = _report(problems, strict)
    drafts = sum(r.draft for r in results)
    if drafts:
        click.echo(_("{n} of {total} editions are drafts: not clinically reviewed "
                     "(booklet approve --lang LANG --by NAME).").format(
            n=drafts, total=len(results)), err=True)
    if errors:
        raise BookletError(_("{n} warning(s) treated as errors (--strict).").format(
            n=len(errors)))

@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", default=None, help=_("Handout title for booklet.toml."))
def new(directory: Path, title: str | None) -> None:
    """Create a new handout project in DIRECTORY that builds at once."""
    from booklet.scaffold import create_project

    root = create_project(directory, title=title)
    click.echo(_("Created {root}. Next: cd {root} && booklet build").format(root=root))


@main.command()
@PROJECT
@click.option("--lang", "language", required=True, metavar="LANG",
              help=_("Language whose current content the clinician approved."))
@click.option("--by", "approved_by", required=True, metavar="NAME",
              help=_("Name of the approving clinician."))
def approve(project: Path, language: str, approved_by: str) -> None:
    """Record a clinician's approval of one language's current content."""
    from booklet.project import load_project
    from booklet.review import approval_summary
    from booklet.review import approve as record_approval

    loaded = load_project(project)
    # Show what is being approved before recording it.
    for line in approval_summary(loaded, language):
        click.echo(line)
    review = record_approval(loaded, language, approved_by)
    click.echo(_("Approved {lang} by {name} on {date} ({fingerprint}).").format(
        lang=language, name=review.approved_by, date=review.approved_on.isoformat(),
        fingerprint=review.fingerprint[:19]))


@main.group()
def review() -> None:
    """Clinical review: what is approved, and what changed since."""


@review.command("status")
@PROJECT
def review_status(project: Path) -> None:
    """Show per language whether its current content is approved, and what changed."""
    from booklet.project import load_project
    from booklet.review import review_status as states

    for state in states(load_project(project)):
        if state.approved:
            click.echo(_("{lang}: approved by {name} on {date}").format(
                lang=state.language, name=state.review.approved_by,
                date=state.review.approved_on.isoformat()))
        elif state.review is None:
            click.echo(_("{lang}: DRAFT, never approved").format(lang=state.language))
        else:
            click.echo(_("{lang}: DRAFT, changed since {name} approved it on {date}:").format(
                lang=state.language, name=state.review.approved_by,
                date=state.review.approved_on.isoformat()))
            for change in state.changes:
                click.echo(f"  {change}")


@main.command()
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pages", default="1", show_default=True,
              help=_("Pages to render: '1,3,5-7' or 'all'."))
@click.option("--dpi", type=click.IntRange(20, 600), default=100, show_default=True)
@click.option("--out", "out_dir", default="preview", show_default=True,
              type=click.Path(path_type=Path))
@click.option("--sheet", is_flag=True, help=_("Also write a contact sheet of the pages."))
def preview(pdf: Path, pages: str, dpi: int, out_dir: Path, sheet: bool) -> None:
    """Render pages of a built PDF to PNG images, to look at a result."""
    from booklet.preview import contact_sheet, render_pages

    written = render_pages(pdf, _output_folder(out_dir, "--out"), pages=pages, dpi=dpi)
    for path in written:
        click.echo(str(path))
    if sheet:
        click.echo(str(contact_sheet(written, out_dir / f"{pdf.stem}-sheet.png")))


@main.command()
@PROJECT
@click.option("--strict", is_flag=True, help=_("Exit non-zero on warnings too."))
@JSON
@click.option("--out", "out_dir", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help=_("Folder of the built PDFs, relative to the project."))
@click.option("--for-sending", is_flag=True,
              help=_("Check as before emailing: a draft or an overdue review is an error."))
def check(project: Path, strict: bool, as_json: bool, out_dir: Path, for_sending: bool) -> None:
    """Check the content (readability, table figures, review dates, CSS) and preflight the PDFs.

    The preflight reads every PDF that dist/manifest.json lists: structure and
    tags, type sizes, fonts, page boxes, page fullness, the footer, the review.
    """
    from booklet.check import check_project
    from booklet.core import ERROR, BookletError
    from booklet.preflight import preflight_dist
    from booklet.project import load_project

    try:
        loaded = load_project(project)
        problems = list(loaded.problems) + check_project(loaded)
        if not out_dir.is_absolute():
            out_dir = loaded.root / out_dir
        problems += preflight_dist(loaded, out_dir, for_sending=for_sending)
    except BookletError as exc:
        if as_json:
            _echo_json([p.as_dict() for p in exc.problems])
            raise click.exceptions.Exit(1) from None
        raise
    if strict:
        problems = [p.as_error() for p in problems]
    failed = [p for p in problems if p.level == ERROR]
    if as_json:
        _echo_json([p.as_dict() for p in problems])
    else:
        for problem in problems:
            click.echo(f"{_level(problem)}: {problem} [{problem.code}]")
    if failed:
        raise BookletError(_("{n} problem(s) found.").format(n=len(failed)))
    if not as_json:
        click.echo(_("All checks passed.") if not problems else
                   _("No errors ({n} warning(s)).").format(n=len(problems)))


@main.command()
@PROJECT
@click.option("--to", "to", metavar="ADDRESS", help=_("Send to one family at this address."))
@click.option("--lang", "language", metavar="LANG", help=_("The family's language (with --to)."))
@click.option("--format", "fmt", default="screen", show_default=True, metavar="FORMAT",
              help=_("Edition format (with --to)."))
@click.option("--name", default="", help=_("The family's name for the greeting (with --to)."))
@click.option("--csv", "csv_file", is_flag=False, flag_value="-", default=None,
              metavar="FILE", help=_("Send to every row of FILE (columns email, language, "
                                     "optional name, format); with --report: print CSV."))
@click.option("--by", default="", metavar="NAME",
              help=_("Staff member sending, for the record; default: the OS user."))
@click.option("--batch", "batch_id", default=None, metavar="ID",
              help=_("Batch id (idempotency key with address and edition); default: the "
                     "CSV's content hash, or today's date and the address."))
@click.option("--dry-run", is_flag=True, help=_("List what would go out; write nothing."))
@click.option("--allow-draft", is_flag=True,
              help=_("Send a draft as a test, only to [mail] clinic_addresses."))
@click.option("--no-rebuild", is_flag=True,
              help=_("Refuse an edition whose PDF is out of date instead of rebuilding it."))
@click.option("--out", "out_dir", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help=_("Folder of the built PDFs and manifest.json, relative to the project."))
@click.option("--report", is_flag=True, help=_("Print the send record instead of sending."))
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              metavar="DATE", help=_("With --report: only from this date (YYYY-MM-DD)."))
@click.option("--forget", metavar="ADDRESS",
              help=_("Erase ADDRESS from the send log and outbox (a hash is kept)."))
@click.option("--resolve", nargs=2, metavar="MESSAGE-ID sent|not-sent", default=None,
              help=_("Decide a message whose outcome is unknown, after checking the "
                     "relay's log: sent (never resend) or not-sent (the next run sends it)."))
def send(project: Path, to: str | None, language: str | None, fmt: str, name: str,
         csv_file: str | None, by: str, batch_id: str | None, dry_run: bool,
         allow_draft: bool, no_rebuild: bool, out_dir: Path, report: bool, since,
         forget: str | None, resolve: tuple[str, str] | None) -> None:
    """Email approved editions to families, exactly once, and keep the record."""
    import sys

    from booklet import mail
    from booklet.core import BookletError
    from booklet.project import load_mail_settings, load_project

    loaded = load_project(project)
    if report:
        rows = mail.send_report(loaded, since=since.date() if since else None)
        if csv_file is not None:
            click.echo(mail.report_csv(rows), nl=False)
            return
        for row in rows:
            draft = "  " + _("DRAFT test") if row["draft"] else ""
            click.echo(f"{row['sent_at']}  {row['status']:<7} {row['email']}  "
                       f"{row['language']} {row['format']}  v{row['version']}  "
                       f"{row['fingerprint'][:19]}  {_('by')} {row['by']}  "
                       f"{row['batch_id']}{draft}")
        click.echo(_("{n} record(s).").format(n=len(rows)))
        return
    if resolve:
        message_id, decision = resolve
        if decision not in ("sent", "not-sent"):
            raise BookletError(_("--resolve {id} {decision}: the decision is sent or "
                                 "not-sent").format(id=message_id, decision=decision))
        changed = mail.resolve_unknown(loaded, message_id, delivered=decision == "sent", by=by)
        click.echo(_("Recorded {decision} for {id} ({n} record(s)).").format(
            decision=decision, id=message_id, n=changed))
        return
    if forget:
        changed = mail.forget_address(loaded, forget)
        click.echo(_("Erased {address} from {n} record(s); a hash is kept so a resend "
                     "is recognised.").format(address=forget, n=changed))
        return
    if bool(to) == bool(csv_file):
        raise BookletError(_("send: give either --to ADDRESS --lang LANG, or --csv FILE "
                             "(or --report, or --forget ADDRESS)"))
    settings = load_mail_settings(loaded)
    for warning in (*loaded.warnings, *settings.warnings):
        click.echo(_("warning: {}").format(warning), err=True)
    problems = []
    if to:
        if not language:
            raise BookletError(_("send --to: --lang is required (one of {languages})").format(
                languages=", ".join(loaded.languages)))
        recipients = [mail.Recipient(to, language, name, fmt)]
    else:
        path = Path(csv_file if csv_file != "-" else "<stdin>")
        try:
            data = sys.stdin.buffer.read() if csv_file == "-" else path.read_bytes()
        except OSError as exc:
            raise BookletError(f"--csv {path}: {exc.strerror}") from None
        recipients, problems = mail.read_recipients_csv(data, str(path))
        if batch_id is None:
            import hashlib

            batch_id = "csv-" + hashlib.sha256(data).hexdigest()[:12]
    for problem in problems:
        click.echo(_("error: {}").format(problem), err=True)
    labels = {"sent": _("sent"), "failed": _("failed"), "skipped": _("skipped"),
              "unknown": _("unknown")}

    def line(row) -> str:
        where = f"line {row.line}: " if row.line else ""
        detail = row.reply if row.status == "sent" else row.reason or row.reply
        label = _("dry run") if dry_run and mail.is_repeat(row) and \
            row.reason.startswith("dry run") else labels[row.status]
        if label != labels[row.status]:
            detail = detail.removeprefix("dry run: ")
        return (f"{label:<8} {where}{row.email}  {row.language} {row.format}"
                + (f"  {detail}" if detail else ""))

    tty = sys.stdout.isatty()
    bar = None
    if tty and len(recipients) > 1:
        bar = click.progressbar(length=len(recipients), label=_("Sending"))
        bar.__enter__()

    def progress(row) -> None:
        if bar is not None:
            bar.update(1)
        else:
            click.echo(line(row))

    try:
        summary = mail.send_batch(
            loaded, recipients, by=by, batch_id=batch_id, out_dir=out_dir,
            dry_run=dry_run, allow_draft=allow_draft, rebuild=not no_rebuild,
            progress=progress, note=lambda text: click.echo(text, err=True))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    if bar is not None:
        for row in summary.rows:
            if row.status != "sent":
                click.echo(line(row))
    where = _("the outbox {folder}").format(folder=mail.outbox_dir(loaded)) \
        if settings.transport == "outbox" else f"{settings.host}:{settings.port}"
    if dry_run:
        click.echo(_("Dry run, batch {batch}: nothing sent, nothing written.").format(
            batch=summary.batch_id))
    else:
        click.echo(_("Batch {batch} to {where}: {sent} sent, {failed} failed, {skipped} "
                     "skipped, {unknown} unknown, {bad} bad row(s).").format(
            batch=summary.batch_id, where=where, sent=len(summary.sent),
            failed=len(summary.failed), skipped=len(summary.skipped),
            unknown=len(summary.unknown), bad=len(problems)))
    refused = [row for row in summary.skipped if not mail.is_repeat(row)]
    if summary.failed or summary.unknown or problems or refused:
        sys.exit(1)


@main.group()
def i18n() -> None:
    """Translation catalogs (gettext PO files) for the handout's languages."""


@i18n.command()
@PROJECT
def extract(project: Path) -> None:
    """Write locales/booklet.pot: every translatable segment with its file and line."""
    from booklet.i18n import extract as extract_template
    from booklet.project import load_project

    click.echo(str(extract_template(load_project(project))))


@i18n.command()
@PROJECT
def update(project: Path) -> None:
    """Merge the template into locales/LANG/LC_MESSAGES/booklet.po for every language."""
    from booklet.i18n import update as update_catalogs
    from booklet.project import load_project

    for path in update_catalogs(load_project(project)):
        click.echo(str(path))


@i18n.command()
@PROJECT
@click.option("--json", "as_json", is_flag=True, help=_("Print the counts as JSON."))
def status(project: Path, as_json: bool) -> None:
    """Show per language how much is translated, fuzzy or missing, and its review.

    Exits 1 when any catalog has a problem (listed, and in --json as "problems").
    """
    from booklet.core import ERROR, BookletError, as_problems
    from booklet.i18n import status as catalog_status
    from booklet.project import load_project

    try:
        rows = catalog_status(load_project(project))
    except BookletError as exc:
        if as_json:
            _json_failure(exc)
        raise
    if as_json:
        _echo_json([dict(row.as_dict(), problems=[
            p.as_dict() for p in as_problems(row.problems, "catalog-invalid", ERROR)])
            for row in rows])
        if any(row.problems for row in rows):
            raise click.exceptions.Exit(1)
        return
    header = (_("language"), _("translated"), _("fuzzy"), _("untranslated"), _("done"),
              _("review"))
    click.echo(f"{header[0]:<13} {header[1]:>10} {header[2]:>6} {header[3]:>12} "
               f"{header[4]:>6}  {header[5]}")
    for row in rows:
        review = row.review
        if row.approved_by:
            review += " " + _("by {name} on {date}").format(
                name=row.approved_by, date=row.approved_on.isoformat())
        if row.outdated and row.catalog is None:
            review += "  " + _("(no catalog yet: booklet i18n update)")
        elif row.outdated:
            review += "  " + _("(catalog out of date: booklet i18n update)")
        language = f"{row.language} ({_('source')})" if row.source else row.language
        click.echo(f"{language:<13} {row.translated:>10} {row.fuzzy:>6} "
                   f"{row.untranslated:>12} {row.percent:>5.1f}%  {review}")
    for row in rows:
        for problem in row.problems:
            click.echo(_("error: {}").format(problem), err=True)
    from booklet.quantities import reordered_entries
    from booklet.review import catalog_path

    loaded = load_project(project)
    for row in rows:
        if not row.source:
            for entry in reordered_entries(catalog_path(loaded, row.language),
                                           loaded.source_language):
                click.echo(_("review: {}").format(entry.replace(f"{loaded.root}/", "")))
    if any(row.problems for row in rows):
        raise SystemExit(1)  # so CI can gate on it



class _DeskGroup(click.Group):
    """``booklet desk [PROJECT...]`` serves; ``booklet desk user add NAME`` manages accounts.

    Anything that is not a subcommand's name goes to ``serve``, so the short
    form needs no extra word.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@main.group(cls=_DeskGroup)
def desk() -> None:
    """The clinic desk: a local web page where staff find, print and email handouts."""


@desk.command("serve")
@click.argument("projects", nargs=-1, type=click.Path(file_okay=False, path_type=Path))
@click.option("--port", type=click.IntRange(0, 65535), default=8470, show_default=True,
              help=_("Port to listen on (0: any free port)."))
@click.option("--host", default="127.0.0.1", show_default=True,
              help=_("Address to listen on; anything but this machine needs --cert and "
                     "--key."))
@click.option("--cert", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_("TLS certificate (PEM), needed to listen beyond this machine."))
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_("TLS private key (PEM) for --cert."))
@click.option("--users", "users_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help=_("Users file; default: $BOOKLET_DESK_USERS or "
                                   "~/.config/booklet/desk-users.json."))
def desk_serve(projects: tuple[Path, ...], port: int, host: str, cert: Path | None,
               key: Path | None, users_file: Path | None) -> None:
    """Serve the desk for PROJECT folders (or folders of projects); default: this folder.

    Staff sign in with accounts made by: booklet desk user add NAME
    """
    from booklet.desk.serve import check_listen, serve
    from booklet.desk.users import default_users_file, load_users

    tls = check_listen(host, cert, key)
    users_file = users_file or default_users_file()
    if not load_users(users_file):
        click.echo(_("warning: no desk users in {path}; add one with: booklet desk user add "
                     "NAME").format(path=users_file), err=True)
    try:
        from booklet.desk import create_app
    except ImportError as exc:
        from booklet.errors import BookletError

        raise BookletError(_("the desk needs its extra packages ({reason}): pip install "
                             "'booklet[desk]'").format(reason=exc)) from None
    app = create_app(list(projects) or [Path(".")], users_file, secure_cookies=tls)
    serve(app, host, port, cert=cert, key=key, say=click.echo)


@desk.group("user")
def desk_user() -> None:
    """Desk accounts (argon2 hashes in a file only you can read)."""


@desk_user.command("add")
@click.argument("name")
@click.option("--users", "users_file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help=_("Users file; default: $BOOKLET_DESK_USERS or "
                                   "~/.config/booklet/desk-users.json."))
def desk_user_add(name: str, users_file: Path | None) -> None:
    """Create the account NAME (or set a new password); the password is asked twice."""
    import sys

    from booklet.desk.users import add_user, default_users_file

    try:
        import argon2  # noqa: F401
    except ImportError as exc:
        from booklet.errors import BookletError

        raise BookletError(_("the desk needs its extra packages ({reason}): pip install "
                             "'booklet[desk]'").format(reason=exc)) from None
    if sys.stdin.isatty():
        password = click.prompt(_("Password"), hide_input=True,
                                confirmation_prompt=_("Repeat the password"))
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    path = users_file or default_users_file()
    add_user(path, name, password)
    click.echo(_("Added {name} to {path}.").format(name=name.strip(), path=path))


@review.command()
@PROJECT
@click.option("--lang", "language", default=None, metavar="LANG",
              help=_("Language to review; default: the source language."))
@click.option("--out", "out_dir", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help=_("Output folder, relative to the project."))
def packet(project: Path, language: str | None, out_dir: Path) -> None:
    """Write the review packet PDF: content, table figures and sources, notes, sign-off."""
    from booklet.packet import write_packet
    from booklet.project import load_project

    click.echo(str(write_packet(load_project(project), language, out_dir)))


if __name__ == "__main__":  # pragma: no cover
    main()
