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
def check(project: Path, strict: bool) -> None:
    """Check content quality: readability, table figures in prose, review dates."""
    from booklet.check import check_project
    from booklet.errors import BookletError
    from booklet.project import load_project

    problems = check_project(load_project(project))
    for problem in problems:
        click.echo(f"{problem.level}: {problem.where}: {problem.message}")
    errors = [p for p in problems if p.level == "error" or strict]
    if errors:
        raise BookletError(_("{n} problem(s) found.").format(n=len(errors)))
    click.echo(_("All checks passed."))


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
    """Show per language how much is translated, fuzzy or missing, and its review."""
    from booklet.i18n import status as catalog_status
    from booklet.project import load_project

    rows = catalog_status(load_project(project))
    if as_json:
        import json

        click.echo(json.dumps([row.as_dict() for row in rows], indent=2, ensure_ascii=False))
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
