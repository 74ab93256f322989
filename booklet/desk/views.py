"""The desk's pages: library, one handout, previews, PDFs, email, CSV batches, record, jobs.

Every URL part that names something on disk (handout, language, format, page)
is looked up among the handouts, languages and formats the desk knows, and the
path is then built from those known values: nothing from a URL reaches the
file system as given.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import secrets
import threading
import time
from pathlib import Path

from booklet.core import FORMATS, BookletError
from booklet.desk.app import Desk, csrf_token
from booklet.desk.jobs import DONE, FAILED, INTERRUPTED, RUNNING
from booklet.desk.library import Handout, load_handout, matches
from booklet.desk.mailapi import MailUnavailable, mail
from booklet.desk.translations import format_date, language_name

MAX_UPLOAD = 256 * 1024  # bytes in one CSV: a day's families fit many times over
MAX_ROWS = 500
PENDING_MINUTES = 30
THUMB_DPI = 40
PREVIEW_DPI = 90
RECORD_COLUMNS = ("sent_at", "handout", "email", "name", "language", "format", "status", "by",
                  "file", "version", "draft", "message_id", "reply", "pdf_sha256",
                  "fingerprint", "batch_id")


_worker = threading.local()  # the language of the staff member who queued a job


def translations():
    """The staff member's catalog, also in a worker thread (no request there)."""
    import gettext as gnu

    from flask import current_app, g, has_app_context

    if not has_app_context():
        return getattr(_worker, "translations", None) or gnu.NullTranslations()
    desk = current_app.extensions["booklet_desk"]
    return desk.translations.get(getattr(g, "language", "en"), desk.translations["en"])


def gettext(message: str, **values) -> str:
    text = translations().gettext(message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, **values) -> str:
    text = translations().ngettext(singular, plural, n)
    values.setdefault("num", n)
    return text % values


_ = gettext


def register(app, desk: Desk) -> None:  # noqa: C901 - one place lists every page
    from flask import (
        Response,
        abort,
        g,
        jsonify,
        redirect,
        render_template,
        request,
        send_file,
        session,
        url_for,
    )
    from werkzeug.exceptions import HTTPException

    @app.context_processor
    def helpers():
        return {"user": getattr(g, "user", ""), "page_language": getattr(g, "language", "en"),
                "languages_offered": sorted(desk.translations)}

    # Globals, not context: macros imported without context use them too.
    app.jinja_env.globals.update(
        csrf_token=csrf_token, state_label=state_label, FORMATS=FORMATS,
        language_name=lambda code: language_name(code, g.language),
        autonym=lambda code: language_name(code, code),
        format_date=lambda d: format_date(d, g.language) if d else "")

    def handout_or_404(slug: str) -> Handout:
        root = desk.roots.get(slug)
        if root is None:
            abort(404, _("There is no handout called “%(slug)s” on this desk.", slug=slug))
        try:
            return load_handout(slug, root, desk.out_dir, today=desk.date())
        except BookletError as exc:
            abort(503, _("This handout cannot be read right now: %(reason)s",
                         reason=exc.message))

    def edition_or_404(handout: Handout, language: str, fmt: str):
        found = handout.edition(language, fmt)
        if found is None:
            abort(404, _("“%(title)s” has no edition in language “%(language)s” and format "
                         "“%(format)s”.", title=handout.title, language=language, format=fmt))
        return found

    def pdf_or_404(state):
        if not state.built:
            abort(404, _("This PDF has not been built yet. Use “Rebuild what is out of date” "
                         "on the handout's page."))
        return state.path

    # -- errors ---------------------------------------------------------------

    messages = {
        400: lambda d: _("This form has expired or did not come from this desk. Go back, "
                         "reload the page and try again.") if d == "csrf" else
        _("The request could not be understood."),
        401: lambda d: _("Your session has expired. Please sign in again.") if d == "expired"
        else _("Please sign in to use the desk."),
        403: lambda d: _("You may not do this."),
        404: lambda d: _("This page does not exist."),
        405: lambda d: _("This page cannot be used that way."),
        413: lambda d: _("The file is too large: at most %(size)s kB.",
                         size=MAX_UPLOAD // 1024),
        503: lambda d: _("This is not available right now."),
    }

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        described = exc.description if isinstance(exc.description, str) else ""
        builtin = described in ("csrf", "expired", "signin") or described == (
            type(exc).description)
        text = messages.get(code, lambda d: _("Something went wrong."))(described) \
            if builtin or not described else described
        return render_template("error.html", code=code, message=text,
                               signin=code == 401), code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("desk error")
        return render_template("error.html", code=500, message=_(
            "Something went wrong on the desk. The problem has been written to its log."),
            signin=False), 500

    # -- sign-in and language -------------------------------------------------

    @app.route("/signin", methods=["GET", "POST"])
    def signin():
        from booklet.desk.users import verify_user

        error = ""
        if request.method == "POST":
            name = request.form.get("name", "").strip()
            password = request.form.get("password", "")
            failures = [t for t in desk.failures.get(name[:64], []) if t > time.time() - 900]
            if len(failures) >= 10:
                error = _("Too many attempts for this name. Wait 15 minutes.")
            elif name and password and verify_user(desk.users_file, name, password):
                language = session.get("language")
                session.clear()
                session.permanent = True
                session.update(user=name, seen=int(time.time()),
                               csrf=secrets.token_urlsafe(32))
                if language:
                    session["language"] = language
                desk.failures.pop(name, None)
                return redirect(url_for("library"), code=303)
            else:
                if len(desk.failures) > 1000:  # names typed at random cannot fill memory
                    desk.failures.clear()
                desk.failures[name[:64]] = [*failures, time.time()]
                error = _("The name or the password is wrong.")
        return render_template("signin.html", error=error), 401 if error else 200

    @app.post("/signout")
    def signout():
        language = session.get("language")
        session.clear()
        if language:
            session["language"] = language
        return redirect(url_for("signin"), code=303)

    @app.post("/language")
    def set_language():
        chosen = request.form.get("language", "")
        if chosen not in desk.translations:
            abort(400, _("Unknown page language."))
        session["language"] = chosen
        target = request.form.get("next", "")
        # Only a path on this desk: never an open redirect.
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = url_for("library")
        return redirect(target, code=303)

    # -- library and handout --------------------------------------------------

    @app.get("/")
    def library():
        query = request.args.get("q", "").strip()[:200]
        language = request.args.get("language", "").strip()[:35]
        handouts, broken = [], []
        for slug in desk.roots:
            try:
                handout = load_handout(slug, desk.roots[slug], desk.out_dir,
                                       today=desk.date())
            except BookletError as exc:
                broken.append((slug, exc.message))
                continue
            if matches(handout, query, language):
                handouts.append(handout)
        every_language = sorted({code for slug in desk.roots
                                 for code in _languages_of(desk, slug)})
        return render_template("library.html", handouts=handouts, broken=broken,
                               query=query, language=language,
                               every_language=every_language)

    @app.get("/h/<slug>")
    def handout(slug: str):
        found = handout_or_404(slug)
        jobs = [j for j in desk.board.recent() if j.handout == slug]
        module = packet_module()
        packets = {lang.language: (found.out_dir / module.packet_filename(
            found.project, lang.language)).is_file() for lang in found.languages} \
            if module else None
        return render_template("handout.html", handout=found, jobs=jobs[:5], packets=packets)

    @app.get("/h/<slug>/cover.png")
    def cover(slug: str):
        found = handout_or_404(slug)
        state = found.cover()
        if state is None:
            abort(404, _("No PDF has been built for this handout yet."))
        return send_file(_page_png(desk, found, state.path, 1, THUMB_DPI),
                         mimetype="image/png", max_age=0)

    @app.get("/h/<slug>/<language>/<fmt>/preview")
    def preview(slug: str, language: str, fmt: str):
        found = handout_or_404(slug)
        state = edition_or_404(found, language, fmt)
        path = pdf_or_404(state)
        pages = _page_count(desk, path)
        page = request.args.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= pages:
            abort(404, _("Page %(page)s does not exist: this PDF has %(pages)s pages.",
                         page=page[:10], pages=pages))
        return render_template("preview.html", handout=found, state=state, page=int(page),
                               pages=pages)

    @app.get("/h/<slug>/<language>/<fmt>/page-<int:page>.png")
    def page_image(slug: str, language: str, fmt: str, page: int):
        found = handout_or_404(slug)
        path = pdf_or_404(edition_or_404(found, language, fmt))
        if not 1 <= page <= _page_count(desk, path):
            abort(404)
        return send_file(_page_png(desk, found, path, page, PREVIEW_DPI),
                         mimetype="image/png", max_age=0)

    @app.get("/h/<slug>/<language>/<fmt>/pdf")
    def pdf(slug: str, language: str, fmt: str):
        found = handout_or_404(slug)
        path = pdf_or_404(edition_or_404(found, language, fmt))
        return send_file(path, mimetype="application/pdf", download_name=path.name,
                         as_attachment=False, max_age=0)

    @app.get("/h/<slug>/<language>/<fmt>/sheets")
    def sheets(slug: str, language: str, fmt: str):
        found = handout_or_404(slug)
        state = edition_or_404(found, language, fmt)
        if state.sheets is None:
            abort(404, _("This edition has no imposed sheets: only booklets are imposed."))
        return send_file(state.sheets, mimetype="application/pdf",
                         download_name=state.sheets.name, as_attachment=False, max_age=0)

    # -- the clinician's review packet ----------------------------------------

    def packet_or_404(found: Handout, language: str):
        module = packet_module()
        if module is None:
            abort(404, _("This installation of booklet makes no review packets."))
        if found.language(language) is None:
            abort(404, _("“%(title)s” has no language “%(language)s”.", title=found.title,
                         language=language))
        return module, found.out_dir / module.packet_filename(found.project, language)

    @app.get("/h/<slug>/<language>/packet")
    def packet(slug: str, language: str):
        found = handout_or_404(slug)
        _module, path = packet_or_404(found, language)
        if not path.is_file():
            abort(404, _("The review packet has not been made yet. Use “Make the review "
                         "packet” on the handout's page."))
        return send_file(path, mimetype="application/pdf", download_name=path.name,
                         as_attachment=False, max_age=0)

    @app.post("/h/<slug>/<language>/packet")
    def make_packet(slug: str, language: str):
        found = handout_or_404(slug)
        module, _path = packet_or_404(found, language)
        root, out = found.project.root, found.out_dir

        def work(job):
            from booklet.project import load_project

            desk.board.update(job, 0, RUNNING)
            try:
                written = module.write_packet(load_project(root), language, out)
            except Exception as exc:  # noqa: BLE001 - the page says why; the desk goes on
                desk.board.update(job, 0, FAILED, str(exc) or type(exc).__name__)
                return None
            desk.board.update(job, 0, DONE, written.name)
            return written

        job = desk.board.submit("rebuild", g.user, slug,
                                [_("review packet, %(language)s", language=language)], work,
                                setup=_in_language(translations()))
        return redirect(url_for("job", job_id=job.id), code=303)

    # -- rebuild --------------------------------------------------------------

    @app.post("/h/<slug>/rebuild")
    def rebuild(slug: str):
        found = handout_or_404(slug)
        stale = [e.edition for lang in found.languages for e in lang.editions
                 if not e.current]
        labels = [f"{e.language} {e.format}" for e in stale]
        root, out = found.project.root, found.out_dir

        def work(job):
            from booklet.build import build_edition
            from booklet.manifest import record_editions
            from booklet.project import load_project

            project = load_project(root)
            for index, edition in enumerate(stale):
                desk.board.update(job, index, RUNNING)
                try:
                    result = build_edition(project, edition, out)
                    record_editions(out, [result.manifest_entry()])
                except Exception as exc:  # noqa: BLE001 - one edition failing stops no other
                    desk.board.update(job, index, FAILED, str(exc) or type(exc).__name__)
                    continue
                desk.board.update(job, index, DONE, _("%(pages)s pages", pages=result.pages))
            return len(stale)

        job = desk.board.submit("rebuild", g.user, slug, labels, work,
                                setup=_in_language(translations()))
        return redirect(url_for("job", job_id=job.id), code=303)

    # -- email one family -----------------------------------------------------

    def email_form(found: Handout):
        fields = {"email": request.form.get("email", "").strip()[:254],
                  "language": request.form.get("language", "").strip(),
                  "format": request.form.get("format", "screen").strip(),
                  "name": " ".join(request.form.get("name", "").split())[:120]}
        errors = {}
        address = _valid_email(fields["email"])
        if address is None:
            errors["email"] = _("Enter an email address like name@example.org.")
        else:
            fields["email"] = address
        if found.language(fields["language"]) is None:
            errors["language"] = _("Choose one of this handout's languages.")
        if fields["format"] not in found.project.formats:
            errors["format"] = _("Choose one of this handout's formats.")
        return fields, errors

    def check(found: Handout, fields: dict):
        """The PDF that would be attached, or the reason it may not be sent."""
        api = mail()
        recipient = api.Recipient(fields["email"], fields["language"], fields["name"],
                                  fields["format"])
        try:
            return recipient, Path(api.check_sendable(found.project, recipient,
                                                      out_dir=found.out_dir)), ""
        except BookletError as exc:
            return recipient, None, exc.message

    def mail_or_503():
        try:
            return mail()
        except MailUnavailable as exc:
            abort(503, _("Email is not available on this desk: %(reason)s", reason=str(exc)))

    @app.get("/h/<slug>/email")
    def email(slug: str):
        found = handout_or_404(slug)
        mail_or_503()
        language = request.args.get("language", "")
        fields = {"email": "", "name": "", "format": request.args.get("format", "screen"),
                  "language": language if found.language(language) else ""}
        return render_template("email.html", handout=found, fields=fields, errors={},
                               refused="")

    def checked_email(found):
        """Return (fields, recipient, attachment, refusal): refusal is the form again with
        why not (422 or 409), or None when the message may go.

        The confirmation step and the send both run it: what was confirmed is
        checked again at send time (an approval may have changed in between).
        """
        fields, errors = email_form(found)
        if errors:
            return fields, None, None, (render_template(
                "email.html", handout=found, fields=fields, errors=errors, refused=""), 422)
        recipient, attachment, refused = check(found, fields)
        if refused:
            return fields, None, None, (render_template(
                "email.html", handout=found, fields=fields, errors={}, refused=refused), 409)
        return fields, recipient, attachment, None

    @app.post("/h/<slug>/email")
    def email_check(slug: str):
        found = handout_or_404(slug)
        mail_or_503()
        fields, _recipient, attachment, refusal = checked_email(found)
        if refusal:
            return refusal
        return render_template("email_confirm.html", handout=found, fields=fields,
                               attachment=attachment,
                               size_kb=max(1, attachment.stat().st_size // 1024),
                               state=found.edition(fields["language"], fields["format"]),
                               language_state=found.language(fields["language"]))

    @app.post("/h/<slug>/email/send")
    def email_send(slug: str):
        found = handout_or_404(slug)
        api = mail_or_503()
        _fields, recipient, _attachment, refusal = checked_email(found)
        if refusal:
            return refusal
        job = _submit_send(desk, api, found, [recipient], g.user, None)
        return redirect(url_for("job", job_id=job.id), code=303)

    # -- a day's CSV batch ----------------------------------------------------

    @app.get("/h/<slug>/batch")
    def batch(slug: str):
        found = handout_or_404(slug)
        mail_or_503()
        return render_template("batch.html", handout=found, rows=None, error="")

    @app.post("/h/<slug>/batch")
    def batch_upload(slug: str):
        found = handout_or_404(slug)
        upload = request.files.get("csv")
        data = upload.read(MAX_UPLOAD + 1) if upload else b""
        error = ""
        if not data:
            error = _("Choose a CSV file to upload.")
        elif len(data) > MAX_UPLOAD:
            abort(413)
        else:
            try:
                data.decode("utf-8", errors="strict")
            except UnicodeDecodeError as exc:
                line = data[:exc.start].count(b"\n") + 1
                error = _("Line %(line)s is not UTF-8 text. Save the file as “CSV UTF-8” and "
                          "upload it again.", line=line)
            else:
                if data.count(b"\n") > MAX_ROWS + 1:
                    error = _("The file has more than %(rows)s rows. Split it into smaller "
                              "files.", rows=MAX_ROWS)
        if error:
            return render_template("batch.html", handout=found, rows=None, error=error), 422
        api = mail_or_503()
        source = Path(upload.filename or "upload.csv").name[:80] or "upload.csv"
        recipients, problems = api.read_recipients_csv(data, source)
        raw = _raw_rows(data)
        rows = []
        for problem in problems:
            line = _line_of(problem.location)
            cells = raw.get(line, {})
            rows.append({"line": line, "email": cells.get("email", ""),
                         "language": cells.get("language", ""),
                         "format": cells.get("format", ""), "name": cells.get("name", ""),
                         "error": problem.message})
        ready = []
        for recipient in recipients:
            row = {"line": recipient.line, "email": recipient.email,
                   "language": recipient.language, "format": recipient.format,
                   "name": recipient.name, "error": ""}
            if found.language(recipient.language) is None:
                row["error"] = _("“%(language)s” is not a language of this handout.",
                                 language=recipient.language)
            else:
                try:
                    api.check_sendable(found.project, recipient, out_dir=found.out_dir)
                    ready.append(recipient)
                except BookletError as exc:
                    row["error"] = exc.message
            rows.append(row)
        rows.sort(key=lambda r: r["line"])
        key = ""
        _forget_old_batches(desk)
        if ready:
            key = secrets.token_urlsafe(16)
            desk.pending[key] = {"user": g.user, "slug": slug, "recipients": ready,
                                 "created": time.time()}
        return render_template("batch.html", handout=found, rows=rows, error="", key=key,
                               ready=len(ready), source=source)

    @app.post("/h/<slug>/batch/send")
    def batch_send(slug: str):
        found = handout_or_404(slug)
        api = mail_or_503()
        key = request.form.get("batch", "")
        pending = desk.pending.pop(key, None)
        if not pending or pending["user"] != g.user or pending["slug"] != slug:
            abort(404, _("This batch was already sent or has expired. Upload the file "
                         "again."))
        job = _submit_send(desk, api, found, pending["recipients"], g.user, key)
        return redirect(url_for("job", job_id=job.id), code=303)

    # -- jobs -----------------------------------------------------------------

    @app.get("/jobs/<job_id>")
    def job(job_id: str):
        found = desk.board.get(job_id)
        if found is None:
            abort(404, _("There is no such job on this desk (it may be an old one: each "
                         "handout keeps its last 200 jobs)."))
        return render_template("job.html", job=found)

    @app.get("/jobs/<job_id>.json")
    def job_json(job_id: str):
        found = desk.board.get(job_id)
        if found is None:
            abort(404)
        data = found.as_dict()
        for step in data["steps"]:
            step["state_label"] = state_label(step["state"])
        data["summary"] = _job_summary(found)
        return jsonify(data)

    # -- the send record ------------------------------------------------------

    def record_rows():
        api = mail_or_503()
        filters = {key: request.args.get(key, "").strip()[:254]
                   for key in ("since", "until", "handout", "language", "by")}
        errors = {}
        dates = {}
        for key in ("since", "until"):
            if filters[key]:
                try:
                    dates[key] = dt.date.fromisoformat(filters[key])
                except ValueError:
                    errors[key] = _("Use a date like 2026-11-27.")
        if filters["handout"] and filters["handout"] not in desk.roots:
            errors["handout"] = _("Choose a handout from the list.")
        rows = []
        if not errors:
            for slug in ([filters["handout"]] if filters["handout"] else desk.roots):
                try:
                    found = load_handout(slug, desk.roots[slug], desk.out_dir,
                                         today=desk.date())
                    report = api.send_report(found.project, since=dates.get("since"))
                except BookletError as exc:
                    errors.setdefault("handout", exc.message)
                    continue
                for entry in report:
                    row = {**entry, "handout": slug}
                    day = str(row.get("sent_at") or "")[:10]
                    if "until" in dates and day and day > dates["until"].isoformat():
                        continue
                    if "since" in dates and day and day < dates["since"].isoformat():
                        continue
                    if filters["language"] and row.get("language") != filters["language"]:
                        continue
                    if filters["by"] and filters["by"].casefold() != str(
                            row.get("by", "")).casefold():
                        continue
                    rows.append(row)
        rows.sort(key=lambda r: str(r.get("sent_at") or ""), reverse=True)
        return filters, errors, rows

    @app.get("/record")
    def record():
        filters, errors, rows = record_rows()
        return render_template("record.html", filters=filters, errors=errors, rows=rows,
                               handouts=sorted(desk.roots),
                               every_language=sorted({c for s in desk.roots
                                                      for c in _languages_of(desk, s)})
                               ), 422 if errors else 200

    @app.get("/record.csv")
    def record_csv():
        filters, errors, rows = record_rows()
        if errors:
            abort(422, "; ".join(errors.values()))
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(RECORD_COLUMNS)
        for row in rows:
            writer.writerow([_csv_cell(row.get(column, "")) for column in RECORD_COLUMNS])
        name = f"send-record-{desk.date().isoformat()}.csv"
        return Response(buffer.getvalue().encode("utf-8"), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})

    app.jinja_env.globals["job_summary"] = _job_summary


def _in_language(catalog):
    """A worker's set-up: say what happens in the language of who asked for it."""
    def setup() -> None:
        _worker.translations = catalog
    return setup


def state_label(state: str) -> str:
    """A state in the staff member's language (states are shown as words, never colour alone)."""
    labels = {
        "approved": _("approved"), "draft": _("draft"), "review overdue": _("review overdue"),
        "translation incomplete": _("translation incomplete"),
        "PDF out of date": _("PDF out of date"), "not built": _("not built"),
        "current": _("current"), "waiting": _("waiting"), "running": _("running"),
        "done": _("done"), "failed": _("failed"), "sent": _("sent"),
        "interrupted": _("interrupted"), "unstarted": _("not started"),
        "skipped": _("skipped"), "unknown": _("unknown"),
    }
    return labels.get(state, state)


def _job_summary(job) -> str:
    counts = job.counts()
    total = len(job.steps)
    if job.state == FAILED and job.error:
        return _("Stopped: %(reason)s", reason=job.error)
    if job.state == INTERRUPTED:
        return _("Interrupted: the desk stopped while this was under way. %(done)s of "
                 "%(total)s finished; check the send record before sending again.",
                 done=job.counts()[DONE] + job.counts()[FAILED], total=len(job.steps))
    if not total:
        return _("Nothing to do: everything is up to date.")
    finished = counts[DONE] + counts[FAILED]
    text = _("%(done)s of %(total)s finished", done=finished, total=total)
    if counts[FAILED]:
        text += "; " + _("%(failed)s failed", failed=counts[FAILED])
    return text


def _languages_of(desk: Desk, slug: str) -> tuple[str, ...]:
    from booklet.project import load_project

    try:
        return load_project(desk.roots[slug]).languages
    except BookletError:
        return ()


def _valid_email(address: str) -> str | None:
    from email_validator import EmailNotValidError, validate_email

    if not address:
        return None
    try:
        return validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError:
        return None


def _line_of(location: str) -> int:
    tail = location.rsplit(":", 1)[-1] if ":" in location else ""
    return int(tail) if tail.isdigit() else 0


def packet_module():
    """booklet.packet (the clinician's review packet) when this installation has it."""
    try:
        from booklet import packet
    except ImportError:
        return None
    return packet if hasattr(packet, "write_packet") and hasattr(packet, "packet_filename") \
        else None


def _raw_rows(data: bytes) -> dict[int, dict[str, str]]:
    """The cells of every row by line number, to show a bad row as the file has it."""
    rows: dict[int, dict[str, str]] = {}
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
        header = [h.strip().casefold() for h in next(reader, [])]
        for cells in reader:
            rows[reader.line_num] = {key: value.strip()[:254]
                                     for key, value in zip(header, cells, strict=False)}
    except (csv.Error, UnicodeDecodeError):
        pass  # the mail stage's own reading reports what is wrong with the file
    return rows


def _csv_cell(value) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _forget_old_batches(desk: Desk) -> None:
    cutoff = time.time() - PENDING_MINUTES * 60
    for key in [k for k, v in desk.pending.items() if v["created"] < cutoff]:
        desk.pending.pop(key, None)


def _submit_send(desk: Desk, api, found: Handout, recipients: list, user: str,
                 batch_id: str | None):
    labels = [f"{r.email} ({r.language}, {r.format})" for r in recipients]
    index = {(r.email, r.language, r.format): i for i, r in enumerate(recipients)}
    project, out = found.project, found.out_dir

    def work(job):
        def progress(row) -> None:
            at = index.get((row.email, row.language, row.format))
            if at is not None:
                state = DONE if row.status == "sent" else FAILED
                said = row.reason or row.reply
                detail = f"{state_label(row.status)}: {said}" if said else \
                    state_label(row.status)
                desk.board.update(job, at, state, detail)

        summary = api.send_batch(project, recipients, by=user, batch_id=batch_id,
                                 out_dir=out, progress=progress)
        for row in summary.rows:
            progress(row)
        return summary

    return desk.board.submit("send", user, found.slug, labels, work,
                             setup=_in_language(translations()))


def _page_count(desk: Desk, pdf: Path) -> int:
    import pypdfium2

    with desk.render_lock:
        document = pypdfium2.PdfDocument(str(pdf))
        try:
            return len(document)
        finally:
            document.close()


def _page_png(desk: Desk, handout: Handout, pdf: Path, page: int, dpi: int) -> Path:
    """Render one page once per PDF content (the cache key is the file's sha256)."""
    from booklet.manifest import file_sha256
    from booklet.preview import render_pages

    folder = desk.cache_dir / handout.slug / f"{file_sha256(pdf)[:24]}-{dpi}"
    target = folder / f"{pdf.stem}-p{page}.png"
    if not target.is_file():
        with desk.render_lock:
            if not target.is_file():
                render_pages(pdf, folder, pages=str(page), dpi=dpi)
    return target
