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
    errors into what a person sees, never a traceback.
    """

    def invoke(self, ctx: click.Context):
        from booklet.core import BookletError

        try:
            return super().invoke(ctx)
        except BookletError as exc:
            click.echo(_("error: {}").format(exc.message), err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="booklet")
def main() -> None:
    """Build print-ready, multilingual patient handouts from Markdown chapters."""


@main.command()
@PROJECT
@click.option("--lang", "languages", multiple=True, metavar="LANG",
              help=_("Language to build (repeatable); default: all in booklet.toml."))
@click.option("--format", "formats", multiple=True, metavar="FORMAT",
              help=_("Format to build (repeatable); default: formats in booklet.toml."))
@click.option("--out", "out_dir", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help=_("Output folder, relative to the project."))
@click.option("--strict", is_flag=True,
              help=_("Treat warnings (unknown keys, missing images, untranslated text) "
                     "as errors."))
@click.option("--jobs", "-j", type=click.IntRange(1, 64), default=None,
              help=_("Editions rendered in parallel; default: one per core."))
def build(project: Path, languages: tuple[str, ...], formats: tuple[str, ...],
          out_dir: Path, strict: bool, jobs: int | None) -> None:
    """Build every edition (language x format) of the handout in PROJECT into PDFs."""
    from booklet.build import build_all
    from booklet.project import load_project

    loaded = load_project(project, strict=strict)
    for warning in loaded.warnings:
        click.echo(_("warning: {}").format(warning), err=True)
    if not out_dir.is_absolute():
        out_dir = loaded.root / out_dir
    results = build_all(loaded, list(languages) or None, list(formats) or None, out_dir,
                        strict=strict, jobs=jobs)
    for result in results:
        for warning in result.warnings:
            click.echo(_("warning: {}").format(warning), err=True)
        state = _("DRAFT") if result.draft else _("approved")
        click.echo(f"{result.path}  {result.pages} {_('pages')}  {state}")
        if result.sheets:
            note = _("imposed for duplex printing (flip on short edge), folding and stapling")
            click.echo(f"{result.sheets}  {note}")
    drafts = sum(r.draft for r in results)
    if drafts:
        click.echo(_("{n} of {total} editions are drafts: not clinically reviewed "
                     "(booklet approve --lang LANG --by NAME).").format(
            n=drafts, total=len(results)), err=True)


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
    from booklet.review import approve as record_approval

    review = record_approval(load_project(project), language, approved_by)
    click.echo(_("Approved {lang} by {name} on {date} ({fingerprint}).").format(
        lang=language, name=review.approved_by, date=review.approved_on.isoformat(),
        fingerprint=review.fingerprint[:19]))


@main.command()
@click.argument("pdf", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pages", default="1", show_default=True,
              help=_("Pages to render: '1,3,5-7' or 'all'."))
@click.option("--dpi", type=click.IntRange(20, 600), default=100, show_default=True)
@click.option("--out", "out_dir", default="preview", show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--sheet", is_flag=True, help=_("Also write a contact sheet of the pages."))
def preview(pdf: Path, pages: str, dpi: int, out_dir: Path, sheet: bool) -> None:
    """Render pages of a built PDF to PNG images, to look at a result."""
    from booklet.preview import contact_sheet, render_pages

    written = render_pages(pdf, out_dir, pages=pages, dpi=dpi)
    for path in written:
        click.echo(str(path))
    if sheet:
        click.echo(str(contact_sheet(written, out_dir / f"{pdf.stem}-sheet.png")))


@main.command()
@PROJECT
@click.option("--strict", is_flag=True, help=_("Exit non-zero on warnings too."))
@click.option("--json", "as_json", is_flag=True, help=_("Print the problems as JSON."))
@click.option("--out", "out_dir", default="dist", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help=_("Folder of the built PDFs, relative to the project."))
@click.option("--for-sending", is_flag=True,
              help=_("Check as before emailing: a draft or an overdue review is an error."))
def check(project: Path, strict: bool, as_json: bool, out_dir: Path, for_sending: bool) -> None:
    """Check the content (readability, table figures, review dates) and preflight the PDFs.

    The preflight reads every PDF that dist/manifest.json lists: structure and
    tags, type sizes, fonts, page boxes, page fullness, the footer, the review.
    """
    from booklet.check import check_project
    from booklet.core import ERROR, BookletError, Problem
    from booklet.preflight import preflight_dist
    from booklet.project import load_project

    loaded = load_project(project)
    problems = [p if isinstance(p, Problem) else
                Problem("content", p.level, p.message, str(p.where))
                for p in check_project(loaded)]
    if not out_dir.is_absolute():
        out_dir = loaded.root / out_dir
    problems += preflight_dist(loaded, out_dir, for_sending=for_sending)
    if as_json:
        import json

        click.echo(json.dumps([p.as_dict() for p in problems], indent=2, ensure_ascii=False))
    else:
        for problem in problems:
            click.echo(f"{problem.level}: {problem} [{problem.code}]")
    failed = [p for p in problems if p.level == ERROR or strict]
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
    from booklet.i18n import status as catalog_status
    from booklet.project import load_project

    rows = catalog_status(load_project(project))
    if as_json:
        import json

        click.echo(json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False))
        if any(row.problems for row in rows):
            raise SystemExit(1)
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


if __name__ == "__main__":  # pragma: no cover
    main()


@main.group()
def review() -> None:
    """The clinical review: what the reviewing clinician reads before approving."""


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
