"""Mail stage: email an approved edition to families, exactly once, with a record.

send_batch resolves each family's edition (the PDF on disk must match
dist/manifest.json, and the manifest the current approval), composes one
``EmailMessage`` per family from the theme's sandboxed, translatable
templates (templates/email/), and hands it to the clinic's relay over SMTP
with TLS, or, with no relay configured, writes it to the outbox as an .eml
file. Every message is recorded in the send log (booklet/sendlog.py) before
and after it is handed over, so a batch run again sends nothing twice.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import os
import sqlite3
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

from booklet.core import ERROR, FORMATS, BookletError, Edition, Problem
from booklet.project import MailSettings, Project, load_mail_settings, theme_dir
from booklet.sendlog import LOG_NAME

PASSWORD_ENV = "BOOKLET_SMTP_PASSWORD"
MAIL_DIR = "mail"  # under the project: the send log and the outbox (patient data; 0700)
OUTBOX = "outbox"
DEFAULT_FORMAT = "screen"
EMAIL_TEMPLATES = ("subject.txt", "body.txt", "body.html")
CSV_COLUMNS = ("email", "language", "name", "format")


@dataclass(frozen=True)
class Recipient:
    email: str
    language: str
    name: str = ""
    format: str = DEFAULT_FORMAT
    line: int = 0  # CSV line number (0 when typed in)


@dataclass(frozen=True)
class SendRow:
    """What happened to one recipient in a batch."""

    email: str
    language: str
    format: str
    status: str  # "sent" | "failed" | "skipped" | "unknown"
    message_id: str = ""
    reply: str = ""
    reason: str = ""
    line: int = 0  # CSV line number, 0 when typed in


@dataclass(frozen=True)
class BatchSummary:
    batch_id: str
    rows: tuple[SendRow, ...]
    dry_run: bool = False

    def _with(self, status: str) -> tuple[SendRow, ...]:
        return tuple(row for row in self.rows if row.status == status)

    @property
    def sent(self) -> tuple[SendRow, ...]:
        return self._with("sent")

    @property
    def failed(self) -> tuple[SendRow, ...]:
        return self._with("failed")

    @property
    def skipped(self) -> tuple[SendRow, ...]:
        return self._with("skipped")

    @property
    def unknown(self) -> tuple[SendRow, ...]:
        return self._with("unknown")


# ---------------------------------------------------------------------------
# Input: addresses, fields, CSV
# ---------------------------------------------------------------------------


def control_character(value: str) -> str | None:
    """Name the first control character (CR, LF, NUL, ...) or line separator in value."""
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            return f"U+{ord(char):04X}" + (f" ({unicodedata.name(char)})"
                                           if unicodedata.name(char, "") else "")
    return None


def normalize_address(address: str) -> str:
    """Return the address as email-validator normalizes it, or raise BookletError saying why.

    Internationalised addresses are accepted (the relay must offer SMTPUTF8 for
    a non-ASCII local part; a non-ASCII domain alone is sent as IDNA).
    """
    from email_validator import EmailNotValidError, validate_email

    bad = control_character(address)
    if bad:
        raise BookletError(f"address {address!r}: contains the control character {bad}")
    try:
        return validate_email(address.strip(), check_deliverability=False,
                              allow_smtputf8=True).normalized
    except EmailNotValidError as exc:
        raise BookletError(f"address {address!r}: {exc}") from None


def _wire_address(address: str) -> str:
    """The address as it goes on the wire: IDNA domain; non-ASCII only in the local part."""
    from email_validator import validate_email

    info = validate_email(address, check_deliverability=False, allow_smtputf8=True)
    return info.ascii_email or f"{info.local_part}@{info.ascii_domain}"


def _row_problem(recipient: Recipient) -> str | None:
    for label, value in (("email", recipient.email), ("language", recipient.language),
                         ("name", recipient.name), ("format", recipient.format)):
        bad = control_character(value)
        if bad:
            return f"{label} {value!r} contains the control character {bad}; remove it"
    try:
        normalize_address(recipient.email)
    except BookletError as exc:
        return str(exc)
    if not recipient.language:
        return "no language: write a language tag such as es"
    if recipient.format not in FORMATS:
        return f"format {recipient.format!r}: allowed values: {', '.join(FORMATS)}"
    return None


def read_recipients_csv(data: bytes, source: str) -> tuple[list[Recipient], list[Problem]]:
    """Parse a CSV (UTF-8, a header row; columns email, language, optional name, format).

    Bad rows become Problems located at source:line and are left out; the
    good rows are returned, so the rest of a batch goes on.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return [], [Problem("csv-encoding", ERROR, f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                            f"{source}:{line}", "save the file as CSV UTF-8 and run again")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [Problem("csv-empty", ERROR, "the file is empty", f"{source}:1",
                            "write a header row: email,language,name,format")]
    except csv.Error as exc:
        return [], [Problem("csv-syntax", ERROR, str(exc), f"{source}:1")]
    columns = [name.strip().lower() for name in header]
    missing = [name for name in ("email", "language") if name not in columns]
    if missing:
        return [], [Problem("csv-columns", ERROR,
                            f"missing column{'s' if len(missing) > 1 else ''} "
                            f"{', '.join(missing)} (header: {', '.join(header)})",
                            f"{source}:1", "the header row needs email and language; name "
                            "and format are optional, in any order")]
    recipients: list[Recipient] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str, str], int] = {}
    while True:
        line = reader.line_num + 1  # where the row starts (a quoted value may span lines)
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(Problem("csv-syntax", ERROR, str(exc), f"{source}:{line}"))
            continue
        if not any(cell.strip() for cell in cells):
            continue
        values = {name: (cells[i].strip() if i < len(cells) else "")
                  for i, name in enumerate(columns) if name in CSV_COLUMNS}
        recipient = Recipient(values.get("email", ""), values.get("language", ""),
                              values.get("name", ""), values.get("format") or DEFAULT_FORMAT,
                              line)
        where = f"{source}:{line}"
        if len(cells) > len(columns):
            problems.append(Problem("csv-columns", ERROR, f"{len(cells)} fields, but the "
                                    f"header has {len(columns)}", where,
                                    "quote a value that holds a comma"))
            continue
        wrong = _row_problem(recipient)
        if wrong:
            problems.append(Problem("recipient-invalid", ERROR, wrong, where))
            continue
        key = (normalize_address(recipient.email).casefold(), recipient.language,
               recipient.format)
        if key in seen:
            problems.append(Problem("recipient-duplicate", ERROR,
                                    f"{recipient.email} ({recipient.language}, "
                                    f"{recipient.format}) is already on line {seen[key]}",
                                    where, "delete one of the two rows"))
            continue
        seen[key] = line
        recipients.append(recipient)
    return recipients, problems


# ---------------------------------------------------------------------------
# Which PDF goes out
# ---------------------------------------------------------------------------


class StaleEdition(BookletError):
    """The built PDF does not match the manifest or the current content (rebuild it)."""


@dataclass(frozen=True)
class Sendable:
    """An edition checked against the manifest and the approval: what gets attached."""

    edition: Edition
    pdf: Path
    sha256: str
    fingerprint: str
    draft: bool
    overdue: bool = False
    size: int = 0


def _as_project(project: Project | Path | str) -> Project:
    from booklet.project import load_project

    return project if isinstance(project, Project) else load_project(project)


def _out_dir(project: Project, out_dir: Path | str | None) -> Path:
    if out_dir is None:
        return project.root / "dist"
    out_dir = Path(out_dir)
    return out_dir if out_dir.is_absolute() else project.root / out_dir


def _stale_reason(project: Project, edition: Edition, out: Path,
                  current: str, approved: bool) -> tuple[str, Path, dict]:
    """Why the built PDF may not go out as it is ('' when it may)."""
    from booklet.build import edition_filename
    from booklet.manifest import file_sha256, load_manifest

    name = edition_filename(project, edition)
    pdf = out / name
    entry = load_manifest(out).get(name)
    if entry is None or not pdf.is_file():
        return f"{pdf} is not built (no entry in {out / 'manifest.json'})", pdf, {}
    if file_sha256(pdf) != entry.get("sha256"):
        return f"{pdf} does not match its sha256 in {out / 'manifest.json'} (changed after " \
               "the build)", pdf, entry
    if entry.get("fingerprint") != current:
        return f"{pdf} was built from other content than the current " \
               f"{edition.language} content", pdf, entry
    if approved and not entry.get("approved"):
        return f"{pdf} was built as a draft, before the current approval", pdf, entry
    if not approved and entry.get("approved"):
        # Its approval was withdrawn: the PDF lacks the DRAFT mark it must now carry.
        return f"{pdf} was built as approved, but the approval is withdrawn", pdf, entry
    return "", pdf, entry


def resolve_edition(project: Project, edition: Edition, *, out_dir: Path | str | None = None,
                    settings: MailSettings | None = None, allow_draft: bool = False,
                    rebuild: bool = False,
                    note: Callable[[str], None] | None = None) -> Sendable:
    """Check an edition for sending (rebuilding it first when asked); raise BookletError why not."""
    from booklet import review

    where = f"{edition.language} {edition.format}"
    if edition.language not in project.languages:
        raise BookletError(f"language {edition.language!r}: not one of the handout's "
                           f"languages {list(project.languages)} ({project.config_path} key "
                           "'languages')")
    if edition.format not in FORMATS:
        raise BookletError(f"format {edition.format!r}: allowed values: {', '.join(FORMATS)}")
    settings = settings or load_mail_settings(project)
    approval = review.approval(project, edition.language)
    overdue = bool(project.next_review and project.next_review < dt.date.today())
    if approval is None and not allow_draft:
        raise BookletError(f"{where}: a draft (no clinical approval of the current "
                           f"{edition.language} content), so it cannot be emailed; a "
                           f"clinician approves it with: booklet approve --lang "
                           f"{edition.language} --by NAME")
    if overdue and not allow_draft:
        raise BookletError(f"{where}: the review date next_review = "
                           f"{project.next_review} in {project.config_path} has passed; have "
                           "the handout reviewed, then set the next date and approve again")
    out = _out_dir(project, out_dir)
    current = review.fingerprint(project, edition.language)
    reason, pdf, entry = _stale_reason(project, edition, out, current, approval is not None)
    if reason and rebuild:
        from booklet.build import build_all

        if note:
            note(f"{where}: {reason}; rebuilding it")
        build_all(project, [edition.language], [edition.format], out, jobs=1)
        reason, pdf, entry = _stale_reason(project, edition, out, current,
                                           approval is not None)
    if reason:
        stale = StaleEdition(f"{where}: {reason}; build it again (booklet build --lang "
                             f"{edition.language} --format {edition.format}) or send without "
                             "--no-rebuild")
        stale.reason = reason
        raise stale
    size = pdf.stat().st_size
    limit = settings.max_attachment_mb * 1024 * 1024
    if size > limit:
        raise BookletError(f"{where}: {pdf.name} is {size / 1048576:.1f} MB, over "
                           f"max_attachment_mb = {settings.max_attachment_mb:g} in "
                           f"{project.config_path}; send the screen format or raise the limit")
    return Sendable(edition, pdf, entry["sha256"], current, approval is None, overdue, size)


def _size(size: int) -> str:
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{size / 1024:.0f} kB"


def _draft_allowed(settings: MailSettings, email: str, sendable: Sendable) -> str | None:
    """Why a draft (or overdue) edition may not go to this address; None when it may."""
    if not (sendable.draft or sendable.overdue):
        return None
    clinic = {a.casefold() for a in settings.clinic_addresses}
    if normalize_address(email).casefold() in clinic:
        return None
    what = "a draft" if sendable.draft else "past its review date"
    return (f"{sendable.edition.language} {sendable.edition.format} is {what}: "
            "--allow-draft sends only to the clinic's own addresses ([mail] "
            "clinic_addresses in booklet.toml), not to " + email)


def check_sendable(project: Project, recipient: Recipient, *, out_dir=None,
                   allow_draft: bool = False, rebuild: bool = False) -> Path:
    """Return the PDF that would be attached, or raise BookletError naming the language and why."""
    project = _as_project(project)
    wrong = _row_problem(recipient)
    if wrong:
        raise BookletError(wrong)
    settings = load_mail_settings(project)
    sendable = resolve_edition(project, Edition(recipient.language, recipient.format),
                               out_dir=out_dir, settings=settings, allow_draft=allow_draft,
                               rebuild=rebuild)
    refusal = _draft_allowed(settings, recipient.email, sendable)
    if refusal:
        raise BookletError(refusal)
    return sendable.pdf


# ---------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------


def email_template_dirs(project: Project) -> list[Path]:
    """Where the email templates come from: the project's own first, then the theme's."""
    return [project.root / "templates" / "email", theme_dir() / "templates" / "email"]


@dataclass(frozen=True)
class _Language:
    """What composing needs per language, loaded (templates compiled) once per batch."""

    title: str
    language_name: str
    templates: tuple  # subject.txt, body.txt, body.html, compiled with this translation


def _template_error(exc: Exception) -> BookletError:
    where = getattr(exc, "filename", None) or "templates/email/"
    line = f":{exc.lineno}" if getattr(exc, "lineno", None) else ""
    return BookletError(f"{where}{line}: email template: {exc}; fix the template "
                        f"({', '.join(EMAIL_TEMPLATES)})")


def _language(project: Project, language: str) -> _Language:
    import jinja2

    from booklet.i18n import localize
    from booklet.render import babel_locale, sandboxed_environment

    localized = localize(project, language)
    locale = babel_locale(language)
    # The handout's own sandbox: a translated "{name:>99999999}" is refused, not run.
    env = sandboxed_environment(email_template_dirs(project), localized.translations,
                                escape_strings=False)
    try:
        templates = tuple(env.get_template(name) for name in EMAIL_TEMPLATES)
    except jinja2.TemplateError as exc:
        raise _template_error(exc) from None
    # As the language writes its own name inside a sentence ("en español").
    return _Language(localized.text.get("title") or project.title,
                     locale.get_display_name(locale) or language, templates)


def render_email(project: Project, language: str, context: dict,
                 localized: _Language | None = None) -> tuple[str, str, str]:
    """Subject, plain text and HTML of the message, from sandboxed, translated templates."""
    import jinja2

    from booklet.render import is_rtl

    localized = localized or _language(project, language)
    subject_template, text_template, html_template = localized.templates
    values = {"lang": language, "direction": "rtl" if is_rtl(language) else "ltr",
              "title": localized.title, "language_name": localized.language_name, **context}
    try:
        subject = " ".join(subject_template.render(values).split())
        values["subject"] = subject
        text = text_template.render(values).strip() + "\n"
        html = html_template.render(values)
    except jinja2.TemplateError as exc:
        raise _template_error(exc) from None
    if is_rtl(language):
        from booklet.i18n import isolate_ltr_runs

        # As in the PDF: a phone number or a Latin name stays one left-to-right run.
        # Not in the plain text, where invisible marks would be copied with an address.
        html = isolate_ltr_runs(html)
    return subject, text, html


def compose(project: Project, settings: MailSettings, recipient: Recipient,
            sendable: Sendable, *, message_id: str, date: dt.datetime | None = None,
            localized: _Language | None = None) -> EmailMessage:
    """Build the message: both parts, the PDF attached, and the clinic as sender.

    EmailMessage with the default policy refuses CR/LF in headers, so nothing
    a family's name holds can add a header.
    """
    from email.headerregistry import Address
    from email.utils import format_datetime

    def address(name: str, email: str) -> Address:
        local, _, domain = email.rpartition("@")
        return Address(display_name=name, username=local,
                       domain=_wire_address(email).rpartition("@")[2] or domain)

    reply_to = settings.reply_to or project.clinic.email or settings.from_address
    subject, text, html = render_email(project, recipient.language, {
        "name": recipient.name, "clinic": project.clinic, "reply_to": reply_to,
        "version": project.version, "draft": sendable.draft}, localized)
    if sendable.draft or sendable.overdue:
        subject = f"DRAFT: {subject}"
    msg = EmailMessage()
    msg["From"] = address(project.clinic.name, settings.from_address)
    msg["To"] = address(recipient.name, normalize_address(recipient.email))
    msg["Reply-To"] = address(project.clinic.name, reply_to)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    msg.add_attachment(sendable.pdf.read_bytes(), maintype="application", subtype="pdf",
                       filename=sendable.pdf.name)
    # After the parts: set_content() clears every Content-* header it finds.
    msg["Content-Language"] = recipient.language
    return msg


def _needs_smtputf8(email: str) -> bool:
    return not _wire_address(email).isascii()


def _wire_bytes(msg: EmailMessage, smtputf8: bool) -> bytes:
    from email import policy

    return msg.as_bytes(policy=policy.SMTPUTF8 if smtputf8 else policy.SMTP)


# ---------------------------------------------------------------------------
# Transports
# ---------------------------------------------------------------------------


class _Refused(Exception):
    """The relay answered with an error code: 4xx temporary, 5xx permanent."""

    def __init__(self, code: int, text: str):
        super().__init__(f"{code} {text}")
        self.code, self.text = code, text

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500


class _Lost(Exception):
    """The connection dropped or timed out; ``during_data`` if the body was on its way."""

    def __init__(self, text: str, during_data: bool, connecting: bool = False):
        super().__init__(text)
        self.during_data, self.connecting = during_data, connecting


def _reply(code: int, text: bytes | str) -> str:
    text = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(text.split())}"


def _password(settings: MailSettings) -> str:
    """The relay password: from the environment or an owner-only file, never from the config."""
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    path = settings.password_file
    if path is None:
        raise BookletError(f"[mail] user = {settings.user!r} needs a password: set the "
                           f"environment variable {PASSWORD_ENV}, or password_file = "
                           "\"PATH\" in [mail] naming a file only you can read")
    info = path.stat()
    if info.st_mode & 0o077 or info.st_uid != os.getuid():
        raise BookletError(f"[mail] password_file {path}: others can read it (mode "
                           f"{info.st_mode & 0o777:o}); make it yours alone: chmod 600 {path}")
    return path.read_text(encoding="utf-8").strip("\r\n")


def _login(smtp, user: str, password: str) -> None:
    """Log in once with AUTH PLAIN when offered (inside TLS), else as smtplib chooses.

    smtplib's login() goes on to the next mechanism after a refusal, so one
    wrong password costs several exchanges and, with some relays, a timeout.
    """
    import smtplib

    if "PLAIN" in smtp.esmtp_features.get("auth", "").upper().split():
        smtp.user, smtp.password = user, password
        code, reply = smtp.auth("PLAIN", smtp.auth_plain)
        if code not in (235, 503):
            raise smtplib.SMTPAuthenticationError(code, reply)
        return
    smtp.login(user, password)


class _SmtpRelay:
    """One connection to the clinic's relay, opened when needed and reopened after a drop."""

    def __init__(self, settings: MailSettings):
        self.settings = settings
        self.smtp = None

    def _connect(self):
        import smtplib
        import ssl

        s = self.settings
        where = f"[mail] host {s.host}:{s.port} ({s.security})"
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                        context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    smtp.close()
                    raise BookletError(f"{where}: the relay does not offer STARTTLS; use "
                                       "security = \"tls\" with its TLS port, or ask for "
                                       "STARTTLS")
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.user:
                _login(smtp, s.user, _password(s))
        except ssl.SSLCertVerificationError as exc:
            raise BookletError(f"{where}: certificate refused ({exc.verify_message}); check "
                               "the host name, or name the relay's CA in [mail] ca_file") \
                from None
        except smtplib.SMTPAuthenticationError as exc:
            raise BookletError(f"{where}: login refused for user {s.user!r}: "
                               f"{_reply(exc.smtp_code, exc.smtp_error)}; check the user and "
                               f"the password ({PASSWORD_ENV} or password_file)") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise BookletError(f"{where}: {exc} (it offers no login); remove user from "
                               "[mail], or check host and port") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise _Lost(f"cannot reach {where}: {exc}", during_data=False,
                        connecting=True) from None
        return smtp

    def send(self, envelope_from: str, rcpt: str, data: bytes, smtputf8: bool,
             before_data: Callable[[], None]) -> str:
        """One SMTP transaction; return the relay's reply, raise _Refused or _Lost."""
        import smtplib

        if self.smtp is None:
            self.smtp = self._connect()
        smtp = self.smtp
        sending = False
        try:
            options = []
            if smtputf8:
                if not smtp.has_extn("smtputf8"):
                    raise _Refused(553, "the relay does not accept international addresses "
                                   "(no SMTPUTF8)")
                options = ["SMTPUTF8", "BODY=8BITMIME"]
            code, text = smtp.mail(envelope_from, options)
            if code != 250:
                smtp.rset()
                raise _Refused(code, _reply(code, text).partition(" ")[2])
            code, text = smtp.rcpt(rcpt)
            if code not in (250, 251):
                smtp.rset()
                raise _Refused(code, _reply(code, text).partition(" ")[2])
            before_data()
            sending = True
            code, text = smtp.data(data)
            if code != 250:
                raise _Refused(code, _reply(code, text).partition(" ")[2])
            return _reply(code, text)
        except smtplib.SMTPDataError as exc:  # DATA itself refused: nothing was delivered
            raise _Refused(exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error)
                           .partition(" ")[2]) from None
        except smtplib.SMTPResponseException as exc:
            self.close(polite=False)
            if sending:
                raise _Lost(_reply(exc.smtp_code, exc.smtp_error), during_data=True) from None
            raise _Refused(exc.smtp_code, _reply(exc.smtp_code, exc.smtp_error)
                           .partition(" ")[2]) from None
        except (smtplib.SMTPServerDisconnected, OSError) as exc:  # timeouts too
            self.close(polite=False)
            raise _Lost(str(exc) or type(exc).__name__, during_data=sending) from None

    def close(self, polite: bool = True) -> None:
        """Say QUIT (when the protocol is in a sane state) and close the connection."""
        if self.smtp is not None:
            try:
                if polite:
                    self.smtp.quit()
            except Exception:  # noqa: BLE001 (already gone: nothing to tell)
                pass
            finally:
                self.smtp.close()
            self.smtp = None


def outbox_dir(project: Project) -> Path:
    return project.root / MAIL_DIR / OUTBOX


def log_path(project: Project) -> Path:
    return project.root / MAIL_DIR / LOG_NAME


def _write_outbox(project: Project, data: bytes, key: str) -> Path:
    """Write the message as an .eml file (named by its idempotency key, so a rerun rewrites it)."""
    from booklet.files import write_atomic
    from booklet.sendlog import private_folder

    folder = outbox_dir(project)
    private_folder(folder.parent)
    folder.mkdir(exist_ok=True)
    return write_atomic(folder / f"{key[:20]}.eml", data)


# ---------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------


@dataclass
class _Work:
    recipient: Recipient
    sendable: Sendable
    row_id: int
    key: str
    message_id: str
    attempts: int = 0


def default_batch_id(recipients: list[Recipient]) -> str:
    """Today's date and a hash of the recipients: the same list sent twice today is one batch."""
    digest = hashlib.sha256("\n".join(f"{r.email.casefold()}\t{r.language}\t{r.format}"
                                      for r in recipients).encode()).hexdigest()[:12]
    return f"{dt.date.today().isoformat()}-{digest}"


def _who() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def send_batch(project: Project, recipients: list[Recipient], *, by: str = "",
               batch_id: str | None = None, out_dir=None, dry_run: bool = False,
               allow_draft: bool = False, rebuild: bool = True,
               progress: Callable[[SendRow], None] | None = None,
               note: Callable[[str], None] | None = None) -> BatchSummary:
    """Send each recipient its edition once (idempotent per batch id + address + edition).

    Through the [mail] relay of booklet.toml, or the .eml outbox when there is
    none; every row is in the send log before the transaction starts and is
    completed after it. A bad row is skipped with its reason; the rest go on.
    ``dry_run`` checks everything and writes nothing.
    """
    from email.utils import make_msgid

    from booklet import sendlog

    project = _as_project(project)
    settings = load_mail_settings(project)
    by = by or _who()
    batch_id = batch_id or default_batch_id(recipients)
    bad_id = control_character(batch_id)
    if bad_id or not batch_id.strip():
        raise BookletError(f"batch id {batch_id!r}: empty or holds a control character")
    lock = None if dry_run else _lock_batch(project, batch_id)
    conn = sendlog.open_log(log_path(project), readonly=dry_run)
    results: dict[int, SendRow] = {}

    def finish(index: int, row: SendRow) -> None:
        results[index] = row
        if progress:
            progress(row)

    editions: dict[Edition, Sendable | str] = {}
    languages: dict[str, _Language | str] = {}
    work: list[tuple[int, _Work]] = []
    from_domain = _wire_address(settings.from_address).rpartition("@")[2]
    try:
        for index, recipient in enumerate(recipients):
            def skip(reason: str, status: str = "skipped", recipient=recipient,
                     index=index, **extra) -> None:
                finish(index, SendRow(recipient.email, recipient.language, recipient.format,
                                      status, reason=reason, line=recipient.line, **extra))

            wrong = _row_problem(recipient)
            if wrong:
                skip(wrong)
                continue
            edition = Edition(recipient.language, recipient.format)
            if edition not in editions:
                try:
                    editions[edition] = resolve_edition(
                        project, edition, out_dir=out_dir, settings=settings,
                        allow_draft=allow_draft, rebuild=rebuild and not dry_run, note=note)
                except StaleEdition as exc:
                    editions[edition] = f"dry run: would rebuild it first ({exc.reason}), " \
                        "then send" if dry_run and rebuild else str(exc)
                except BookletError as exc:
                    editions[edition] = str(exc)
            sendable = editions[edition]
            if isinstance(sendable, str):
                skip(sendable)
                continue
            refusal = _draft_allowed(settings, recipient.email, sendable)
            if refusal:
                skip(refusal)
                continue
            if recipient.language not in languages:
                try:
                    languages[recipient.language] = _language(project, recipient.language)
                except BookletError as exc:
                    languages[recipient.language] = str(exc)
            if isinstance(languages[recipient.language], str):
                skip(languages[recipient.language])
                continue
            email = normalize_address(recipient.email)
            digest = sendlog.address_hash(conn, email)
            previous = sendlog.find(conn, batch_id, digest, recipient.language,
                                    recipient.format)
            if previous is not None:
                status = previous["status"]
                when = previous["sent_at"] or previous["updated_at"]
                if status == "sent":
                    skip(f"already sent in batch {batch_id} on {when}",
                         message_id=previous["message_id"], reply=previous["reply"])
                    continue
                if status == "failed" and not previous["temporary"]:
                    skip(f"refused for good earlier in batch {batch_id}: {previous['reply']}",
                         reply=previous["reply"])
                    continue
                if status in ("sending", "unknown") and previous["transport"] == "smtp":
                    reason = (f"outcome unknown: the run stopped on {when} while the message "
                              "was being handed to the relay; look it up in the relay's log "
                              f"by Message-ID {previous['message_id']}, then record it: "
                              f"booklet send --resolve '{previous['message_id']}' "
                              "sent|not-sent")
                    if not dry_run:
                        sendlog.update(conn, previous["id"], status="unknown", reply=reason)
                    skip(reason, status="unknown", message_id=previous["message_id"])
                    continue
            if dry_run:
                skip(f"dry run: would send {sendable.pdf.name} ({_size(sendable.size)})"
                     + (" as a DRAFT test" if sendable.draft else ""))
                continue
            key = hashlib.sha256(f"{batch_id}\0{digest}\0{edition.language}\0"
                                 f"{edition.format}".encode()).hexdigest()
            if previous is not None:
                row_id, message_id = previous["id"], previous["message_id"]
                attempts = previous["attempts"]
                # Resumed: the record names what goes out now (it may have been rebuilt).
                sendlog.update(conn, row_id, file=sendable.pdf.name,
                               pdf_sha256=sendable.sha256, fingerprint=sendable.fingerprint,
                               version=project.version, draft=int(sendable.draft),
                               transport=settings.transport, sent_by=by)
            else:
                message_id = make_msgid(domain=from_domain)
                attempts = 0
                try:
                    row_id = sendlog.begin(
                        conn, batch_id=batch_id, address_hash=digest, email=email,
                        name=recipient.name, language=edition.language,
                        format=edition.format, file=sendable.pdf.name,
                        pdf_sha256=sendable.sha256, fingerprint=sendable.fingerprint,
                        version=project.version, draft=int(sendable.draft),
                        transport=settings.transport, message_id=message_id, sent_by=by)
                except sqlite3.IntegrityError:
                    skip(f"another run is sending batch {batch_id} to this address now")
                    continue
            work.append((index, _Work(recipient, sendable, row_id, key, message_id, attempts)))
        if work:
            _deliver(project, settings, conn, work, languages, finish)
    finally:
        if conn is not None:
            conn.close()
        if lock is not None:
            lock.close()
    return BatchSummary(batch_id, tuple(results[i] for i in sorted(results)), dry_run)


def _lock_batch(project: Project, batch_id: str):
    """Hold a lock on the batch for this run, so two runs of one batch never overlap.

    Other batches (another nurse's send, the desk) run at the same time; the
    lock goes with the process, so a killed run leaves nothing to clean up.
    """
    try:
        import fcntl
    except ImportError:  # not a POSIX system: the log's unique key still guards
        return None
    from booklet.sendlog import private_folder

    folder = private_folder(project.root / MAIL_DIR) / "locks"
    folder.mkdir(exist_ok=True)
    name = hashlib.sha256(batch_id.encode()).hexdigest()[:20]
    handle = (folder / f"{name}.lock").open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise BookletError(f"batch {batch_id}: another booklet send is sending this batch "
                           "right now; wait for it to finish, then run again") from None
    return handle


def _deliver(project: Project, settings: MailSettings, conn: sqlite3.Connection,
             work: list[tuple[int, _Work]], languages: dict,
             finish: Callable[[int, SendRow], None]) -> None:
    """Hand every message over, retrying temporary failures with backoff, within limits."""
    from booklet import sendlog

    relay = _SmtpRelay(settings) if settings.transport == "smtp" else None
    envelope_from = _wire_address(settings.from_address)
    pending = list(work)
    round_number = 0
    try:
        while pending:
            if round_number:
                time.sleep(settings.retry_seconds * 2 ** (round_number - 1))
            retry: list[tuple[int, _Work]] = []
            unreachable = ""
            for index, item in pending:
                r = item.recipient
                email = normalize_address(r.email)
                smtputf8 = _needs_smtputf8(email)

                def done(status: str, reply: str, reason: str = "", *, item=item,
                         index=index, r=r, temporary: bool = False) -> None:
                    fields = {"status": status, "reply": reply or reason,
                              "attempts": item.attempts, "temporary": int(temporary)}
                    if status == "sent":
                        fields["sent_at"] = sendlog.now()
                    sendlog.update(conn, item.row_id, **fields)
                    finish(index, SendRow(r.email, r.language, r.format, status,
                                          item.message_id, reply, reason, r.line))

                item.attempts += 1
                if unreachable:  # the relay did not answer this round: try again later
                    _defer(conn, item, unreachable, settings, retry, index, done)
                    continue
                msg = compose(project, settings, r, item.sendable,
                              message_id=item.message_id, localized=languages[r.language])
                data = _wire_bytes(msg, smtputf8)
                if relay is None:
                    sendlog.update(conn, item.row_id, status="sending",
                                   attempts=item.attempts)
                    path = _write_outbox(project, data, item.key)
                    done("sent", f"written to {path.relative_to(project.root)}")
                    continue
                try:
                    reply = relay.send(envelope_from, _wire_address(email), data, smtputf8,
                                       lambda item=item: sendlog.update(
                                           conn, item.row_id, status="sending",
                                           attempts=item.attempts))
                except _Refused as exc:
                    if exc.temporary:
                        _defer(conn, item, str(exc), settings, retry, index, done)
                    else:
                        done("failed", str(exc))
                    continue
                except _Lost as exc:
                    if exc.during_data:
                        done("unknown", "", f"connection lost while the message was being "
                             f"handed over ({exc}); look it up in the relay's log by "
                             f"Message-ID {item.message_id}, then record it: booklet send "
                             f"--resolve '{item.message_id}' sent|not-sent")
                    else:
                        unreachable = str(exc) if exc.connecting else ""
                        _defer(conn, item, str(exc), settings, retry, index, done)
                    continue
                done("sent", reply)
            pending = retry
            round_number += 1
    finally:
        if relay is not None:
            # Interrupted mid-transaction (Ctrl-C): drop the line, do not wait for QUIT.
            relay.close(polite=sys.exc_info()[0] is None)


def _defer(conn: sqlite3.Connection, item: _Work, why: str, settings: MailSettings,
           retry: list, index: int, done: Callable) -> None:
    """A temporary failure: try again in the next round, or record it failed past the limit."""
    from booklet import sendlog

    if item.attempts <= settings.retries:
        sendlog.update(conn, item.row_id, status="pending", attempts=item.attempts,
                       reply=why, temporary=1)
        retry.append((index, item))
    else:
        done("failed", why, f"still failing after {item.attempts} attempts", temporary=True)


# ---------------------------------------------------------------------------
# The record
# ---------------------------------------------------------------------------

REPORT_KEYS = ("sent_at", "email", "name", "language", "format", "status", "version",
               "fingerprint", "pdf_sha256", "by", "message_id", "reply", "batch_id",
               "attempts", "file", "draft")


def send_report(project: Project, *, since: dt.date | None = None) -> list[dict]:
    """The send record, newest first: who received which handout, when, by whom."""
    from booklet import sendlog

    project = _as_project(project)
    conn = sendlog.open_log(log_path(project), readonly=True)
    try:
        found = sendlog.rows(conn, since)
    finally:
        if conn is not None:
            conn.close()
    return [{"sent_at": row["sent_at"] or row["updated_at"],
             "email": row["email"] or f"(erased, hash {row['address_hash'][:12]})",
             "name": row["name"], "language": row["language"], "format": row["format"],
             "status": row["status"], "version": row["version"],
             "fingerprint": row["fingerprint"], "pdf_sha256": row["pdf_sha256"],
             "by": row["sent_by"], "message_id": row["message_id"], "reply": row["reply"],
             "batch_id": row["batch_id"], "attempts": row["attempts"], "file": row["file"],
             "draft": bool(row["draft"])}
            for row in found]


def report_csv(rows: list[dict]) -> str:
    """The record as CSV (for a spreadsheet or the chart)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=REPORT_KEYS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: row.get(key, "") for key in REPORT_KEYS})
    return buffer.getvalue()


def forget_address(project: Project, email: str) -> int:
    """Erase an address from the log and the outbox (keeping a hash); return rows changed."""
    from email.parser import BytesHeaderParser
    from email.utils import getaddresses

    from booklet import sendlog

    project = _as_project(project)
    email = normalize_address(email)
    path = log_path(project)
    changed = 0
    if path.is_file():
        conn = sendlog.open_log(path)
        try:
            changed = sendlog.forget(conn, email)
        finally:
            conn.close()
    folder = outbox_dir(project)
    wire = _wire_address(email).casefold()
    if folder.is_dir():
        for eml in folder.glob("*.eml"):
            with eml.open("rb") as f:
                headers = BytesHeaderParser().parse(f)
            to = [a.casefold() for _, a in getaddresses(headers.get_all("To", []))]
            if wire in to or email.casefold() in to:
                eml.unlink()
    return changed


def is_repeat(row: SendRow) -> bool:
    """A row skipped because it was already handled (or a dry run), not because it is wrong."""
    return row.status == "skipped" and row.reason.startswith(
        ("already sent", "refused for good earlier", "dry run"))


def resolve_unknown(project: Project, message_id: str, *, delivered: bool, by: str = "") -> int:
    """Record a person's decision on a message whose outcome was unknown; return rows changed.

    ``delivered``: the relay's log shows it went out, so it is recorded sent and
    never sent again. Otherwise it goes back to pending, and the next run of
    its batch sends it (with the same Message-ID, so a relay can tell).
    """
    from booklet import sendlog

    project = _as_project(project)
    path = log_path(project)
    conn = sendlog.open_log(path) if path.is_file() else None
    if conn is None:
        raise BookletError(f"{path}: no send log yet; nothing to resolve")
    try:
        rows = conn.execute("SELECT id FROM sends WHERE message_id = ? AND status IN "
                            "('unknown', 'sending')", (message_id.strip(),)).fetchall()
        if not rows:
            raise BookletError(f"Message-ID {message_id}: no message with an unknown outcome "
                               "has it; see booklet send --report")
        who = by or _who()
        for row in rows:
            if delivered:
                sendlog.update(conn, row["id"], status="sent", sent_at=sendlog.now(),
                               reply=f"marked sent by {who} after checking the relay's log")
            else:
                sendlog.update(conn, row["id"], status="pending", temporary=1,
                               reply=f"marked not sent by {who}; the next run sends it")
    finally:
        conn.close()
    return len(rows)
