"""Project stage: load and validate ``booklet.toml`` into plain data.

Every problem in the file is collected in one pass and reported at once, each
with the file, the key, the value seen and what is allowed, so that a clinic
fixing a hand-written file does not play whack-a-mole.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from booklet.core import (  # noqa: F401 (Format re-exported)
    ERROR,
    FORMATS,
    WARNING,
    BookletError,
    Format,
    Problem,
)
from booklet.files import read_text

CONFIG_NAME = "booklet.toml"
PACKAGE_DIR = Path(__file__).resolve().parent


BCP47 = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Clinic:
    name: str
    phone: str = ""
    email: str = ""
    address: str = ""
    website: str = ""
    logo: Path | None = None
    after_hours: str = ""  # out-of-hours number, printed with phone wherever help is asked for
    emergency: str = ""  # emergency number (e.g. the local ambulance)
    temperature_unit: str = "C"  # "C" or "F": the record forms' temperature column


@dataclass(frozen=True)
class Press:
    """The print shop's colour characterization: PDF/X needs it as the output intent."""

    output_profile: Path | None = None
    output_condition: str = ""


@dataclass(frozen=True)
class Project:
    root: Path
    title: str
    clinic: Clinic
    subtitle: str = ""
    slug: str = "handout"
    source_language: str = "en"
    languages: tuple[str, ...] = ("en",)
    formats: tuple[str, ...] = ("a4", "letter")
    version: str = "1.0"
    published: dt.date | None = None
    next_review: dt.date | None = None
    sources: tuple[str, ...] = ()
    disclaimer: str = ""
    disclaimer_short: str = ""
    budgets: tuple[tuple[str, str, int], ...] = ()  # (format or "" for all, key, limit)
    review_notes: tuple[str, ...] = ()  # for the reviewing clinician only: never printed
    press: Press = field(default_factory=Press)
    # Digits per language where a project chooses ([numbering] ar = "arab"),
    # else CLDR's default for the language.
    numbering: tuple[tuple[str, str], ...] = ()
    # The sheet a booklet format is imposed on, where the project picks one
    # ([sheets] a5-booklet = "sra4": room for the printing note outside the trim).
    sheets: tuple[tuple[str, str], ...] = ()
    problems: tuple[Problem, ...] = field(default=(), compare=False)  # warnings only

    @property
    def warnings(self) -> tuple[str, ...]:
        return tuple(str(p) for p in self.problems)

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def chapters_dir(self) -> Path:
        return self.root / "chapters"

    @property
    def locales_dir(self) -> Path:
        return self.root / "locales"


def theme_dir() -> Path:
    """Return the folder holding the default theme's templates/ and styles/.

    An installed wheel carries the theme inside the package; a source checkout
    keeps it at the repository root, next to the package.
    """
    packaged = PACKAGE_DIR / "theme"
    if (packaged / "templates").is_dir():
        return packaged
    return PACKAGE_DIR.parent


def theme_file(project: Project, kind: str, name: str) -> Path:
    """Find templates/NAME or styles/NAME: the project's own file wins over the theme's."""
    own = project.root / kind / name
    if own.is_file():
        return own
    return theme_dir() / kind / name


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:40].strip("-") or "handout"


class _Problems:
    """Collects every problem in one pass, as values; the caller decides what is fatal."""

    def __init__(self, path: Path):
        self.path = path
        self.all: list[Problem] = []

    def add(self, level: str, code: str, key: str, message: str) -> None:
        # "what is wrong; what is allowed or how to fix it": the second part is the hint.
        message, _, hint = message.partition("; ")
        self.all.append(Problem(code, level, message, f"{self.path}: key '{key}'", hint))

    def error(self, key: str, message: str, code: str = "config-invalid") -> None:
        self.add(ERROR, code, key, message)

    def warn(self, key: str, message: str, code: str = "config-unknown-key") -> None:
        self.add(WARNING, code, key, message)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.all if p.level == ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.all if p.level == WARNING]


KNOWN_KEYS = {
    "title", "subtitle", "slug", "source_language", "languages", "formats", "version",
    "published", "next_review", "sources", "clinic", "disclaimer", "mail", "budgets",
    "review_notes", "press",
    "numbering", "sheets",
}
# Sheets each booklet format can be imposed on (booklet.impose.SHEETS), default first.
BOOKLET_SHEETS = {"a5-booklet": ("a4", "sra4"), "half-letter-booklet": ("letter",)}
CLINIC_KEYS = {"name", "phone", "email", "address", "website", "logo", "after_hours",
               "emergency", "temperature_unit"}
# The scale a clinic's thermometers show, printed in the record forms' column header.
TEMPERATURE_UNITS = {"C": "°C", "F": "°F"}
DISCLAIMER_KEYS = {"text", "short"}
BUDGET_KEYS = {"pages", "file_kb"}


def _budgets(raw: dict, problems: _Problems) -> tuple[tuple[str, str, int], ...]:
    """[budgets] pages / file_kb for every format, and [budgets.FORMAT] for one (preflight)."""
    table = raw.get("budgets", {})
    if not isinstance(table, dict):
        problems.error("budgets", "expected a [budgets] table with pages and file_kb")
        return ()
    found = []
    scopes = [("", {k: v for k, v in table.items() if not isinstance(v, dict)})]
    scopes += [(k, v) for k, v in table.items() if isinstance(v, dict)]
    for scope, values in scopes:
        prefix = f"budgets.{scope}." if scope else "budgets."
        if scope and scope not in FORMATS:
            problems.error(prefix[:-1], f"unknown format; allowed: {', '.join(FORMATS)}")
            continue
        for key, value in values.items():
            if key not in BUDGET_KEYS:
                problems.warn(prefix + key, "unknown key (allowed: file_kb, pages); ignored")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 1:
                problems.error(prefix + key, f"got {value!r}; expected a whole number above 0")
            else:
                found.append((scope, key, value))
    return tuple(found)


def _text(raw: dict, key: str, problems: _Problems, *, required: bool = False,
          prefix: str = "") -> str:
    value = raw.get(key)
    full = f"{prefix}{key}"
    if value is None:
        if required:
            problems.error(full, f'is required: add {key} = "..."', "config-missing")
        return ""
    if not isinstance(value, str):
        problems.error(full, f"got {value!r} ({type(value).__name__}); expected a quoted string")
        return ""
    if required and not value.strip():
        problems.error(full, "is empty; write the text between the quotes")
    return value.strip()


def _date(raw: dict, key: str, problems: _Problems) -> dt.date | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    problems.error(key, f"got {value!r}; expected a date without quotes, like {key} = 2026-11-01")
    return None


def _language(value: object, key: str, problems: _Problems) -> str | None:
    if isinstance(value, str) and BCP47.match(value):
        return value
    problems.error(
        key, f"got {value!r}; expected a BCP 47 language tag such as \"en\", \"es\", "
        "\"pt-BR\", \"zh-Hans\" or \"ar\"")
    return None


def _string_list(raw: dict, key: str, problems: _Problems) -> list[str]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.error(key, f"got {value!r}; expected a list of quoted strings, like "
                       f'{key} = ["..."]')
        return []
    return [v.strip() for v in value]


LOGO_SUFFIXES = {".svg", ".png", ".jpg", ".jpeg"}


def _unreadable_image(path: Path) -> str:
    """Why the cover could not draw this logo ("" when it can): never dropped in silence."""
    suffix = path.suffix.lower()
    if suffix not in LOGO_SUFFIXES:
        return f"a {suffix or 'suffix-less'} file is not an image the cover can show " \
            f"(allowed: {', '.join(sorted(LOGO_SUFFIXES))})"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if suffix == ".svg":
        import xml.etree.ElementTree as ElementTree

        try:
            root = ElementTree.fromstring(data)
        except ElementTree.ParseError as exc:
            return f"not a readable SVG file ({exc})"
        return "" if root.tag.rsplit("}", 1)[-1] == "svg" else "not an SVG drawing (no <svg>)"
    from io import BytesIO

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return f"not a readable image ({exc})"
    return ""


def _press(raw: object, root: Path, problems: _Problems) -> Press:
    """Read [press]: output_profile (an ICC file in the project) and output_condition."""
    if not isinstance(raw, dict):
        problems.error("press", "expected a [press] table with output_profile and "
                       "output_condition")
        return Press()
    for key in sorted(set(raw) - {"output_profile", "output_condition"}):
        problems.warn(f"press.{key}", "unknown key (allowed: output_condition, "
                      "output_profile); ignored")
    condition = _text(raw, "output_condition", problems, prefix="press.")
    profile_raw = _text(raw, "output_profile", problems, prefix="press.")
    profile = (root / profile_raw).resolve() if profile_raw else None
    if profile and not profile.is_relative_to(root):
        problems.error("press.output_profile", f"{profile_raw!r} is outside the project; "
                       "copy the ICC file into assets/ and point to it there")
        profile = None
    elif profile and not profile.is_file():
        problems.error("press.output_profile", f"{profile_raw!r}: no such file in {root}")
        profile = None
    return Press(profile, condition)


def load_project(root: Path | str = ".", *, strict: bool = False) -> Project:
    """Read root/booklet.toml, check every key, and return the Project.

    Raises BookletError listing all problems at once (``.problems`` holds
    them as values). Unknown keys are warnings (kept in ``Project.problems``);
    with ``strict`` they are errors too.
    """
    path = Path(root).resolve() / CONFIG_NAME
    project, problems = validate_project(root)
    errors = [p.as_error() for p in problems if strict or p.level == ERROR]
    if errors:
        count = len(errors)
        raise BookletError.from_problems(
            errors, f"{count} problem{'s' if count > 1 else ''} in {path}:")
    return project


def validate_project(root: Path | str = ".") -> tuple[Project | None, tuple[Problem, ...]]:
    """Check every key of root/booklet.toml in one pass, as mkdocs' Config.validate() does.

    Returns the Project (None when there are errors) and every problem found,
    errors and warnings alike; the caller decides what is fatal. A missing or
    unreadable file is raised at once: there is nothing to check.
    """
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    if not path.is_file():
        where = root if root.is_dir() else f"{root} (no such folder)"
        raise BookletError(
            f"{where}: no {CONFIG_NAME} found. Run the command inside a handout project, "
            "pass its folder, or create one with: booklet new DIR")
    try:
        raw = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise BookletError(f"{path}: not valid TOML: {exc}. Check quotes and brackets "
                           "on that line.") from None

    problems = _Problems(path)
    for key in sorted(set(raw) - KNOWN_KEYS):
        problems.warn(key, f"unknown key (allowed: {', '.join(sorted(KNOWN_KEYS))}); ignored")

    title = _text(raw, "title", problems, required=True)
    subtitle = _text(raw, "subtitle", problems)
    slug = raw.get("slug", _slugify(title) if title else "handout")
    if not isinstance(slug, str) or not SLUG.match(slug):
        problems.error("slug", f"got {slug!r}; expected lowercase letters, digits and "
                       "hyphens, like slug = \"ankl-guide\"")
        slug = "handout"

    source_language = _language(raw.get("source_language", "en"), "source_language",
                                problems) or "en"
    languages_raw = raw.get("languages", [source_language])
    languages: list[str] = []
    if not isinstance(languages_raw, list) or not languages_raw:
        problems.error("languages", f"got {languages_raw!r}; expected a non-empty list "
                       "of language tags, like languages = [\"en\", \"es\"]")
    else:
        for lang in languages_raw:
            tag = _language(lang, "languages", problems)
            if tag and tag in languages:
                problems.error("languages", f"{tag!r} is listed twice")
            elif tag:
                languages.append(tag)

    formats_raw = raw.get("formats", ["a4", "letter"])
    formats: list[str] = []
    if not isinstance(formats_raw, list) or not formats_raw:
        problems.error("formats", f"got {formats_raw!r}; expected a list, allowed values: "
                       f"{', '.join(FORMATS)}")
    else:
        for name in formats_raw:
            if name in FORMATS:
                formats.append(name)
            else:
                problems.error("formats", f"got {name!r}; allowed values: {', '.join(FORMATS)}")

    version = raw.get("version", "1.0")
    if isinstance(version, (int, float)):
        problems.error("version", f"got {version!r} (a number); write it as a string, "
                       f'like version = "{version}"')
        version = str(version)
    elif not isinstance(version, str) or not version.strip():
        problems.error("version", f"got {version!r}; expected a string like \"1.0\"")
        version = "1.0"

    published = _date(raw, "published", problems)
    next_review = _date(raw, "next_review", problems)
    if published and next_review and next_review <= published:
        problems.error("next_review", f"{next_review} is not after published = {published}; "
                       "the next review must come after publication")
    sources = _string_list(raw, "sources", problems)

    clinic_raw = raw.get("clinic")
    clinic = Clinic(name="")
    if not isinstance(clinic_raw, dict):
        problems.error("clinic", "is required: add a [clinic] table with at least "
                       'name = "..." (and phone, email, address, website)', "config-missing")
    else:
        for key in sorted(set(clinic_raw) - CLINIC_KEYS):
            problems.warn(f"clinic.{key}", "unknown key (allowed: "
                          f"{', '.join(sorted(CLINIC_KEYS))}); ignored")
        values = {k: _text(clinic_raw, k, problems, required=(k == "name"), prefix="clinic.")
                  for k in CLINIC_KEYS - {"logo", "temperature_unit"}}
        unit = clinic_raw.get("temperature_unit", "C")
        if unit not in TEMPERATURE_UNITS:
            problems.error("clinic.temperature_unit", f"got {unit!r}; allowed values: "
                           '"C" (Celsius) or "F" (Fahrenheit), like temperature_unit = "C"')
            unit = "C"
        values["temperature_unit"] = unit
        email = values["email"]
        if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
            problems.error("clinic.email", f"got {email!r}; expected an address like "
                           "\"info@clinic.org\"")
        logo = None
        logo_raw = clinic_raw.get("logo")
        if logo_raw is not None:
            if not isinstance(logo_raw, str):
                problems.error("clinic.logo", f"got {logo_raw!r}; expected a path string "
                               "like \"assets/logo.svg\"")
            else:
                logo = (root / logo_raw).resolve()
                if not logo.is_relative_to(root):
                    problems.error("clinic.logo", f"{logo_raw!r} is outside the project; "
                                   "copy the logo into assets/ and point to it there")
                    logo = None
                elif not logo.is_file():
                    problems.error("clinic.logo", f"{logo_raw!r}: no such file in {root}")
                    logo = None
                elif unreadable := _unreadable_image(logo):
                    problems.error("clinic.logo", f"{logo_raw!r}: {unreadable}; save the logo "
                                   "as an SVG or PNG file and point to it")
                    logo = None
        clinic = Clinic(logo=logo, **values)
        for key in ("after_hours", "emergency"):
            if not values[key]:
                problems.warn(f"clinic.{key}", "missing: call boxes and the 'When to call' "
                              f'panel print no {key.replace("_", "-")} number; add {key} = '
                              '"..." to [clinic]')

    disclaimer_raw = raw.get("disclaimer", {})
    if not isinstance(disclaimer_raw, dict):
        problems.error("disclaimer", "expected a [disclaimer] table with text and short")
        disclaimer_raw = {}
    for key in sorted(set(disclaimer_raw) - DISCLAIMER_KEYS):
        problems.warn(f"disclaimer.{key}", "unknown key (allowed: short, text); ignored")
    disclaimer = _text(disclaimer_raw, "text", problems, prefix="disclaimer.")
    disclaimer_short = _text(disclaimer_raw, "short", problems, prefix="disclaimer.")

    budgets = _budgets(raw, problems)
    review_notes = _string_list(raw, "review_notes", problems)
    press = _press(raw.get("press", {}), root, problems)
    numbering_raw = raw.get("numbering", {})
    numbering: list[tuple[str, str]] = []
    from booklet.language import DIGITS

    if not isinstance(numbering_raw, dict):
        problems.error("numbering", "expected a [numbering] table, like ar = \"arab\"")
        numbering_raw = {}
    for key, value in sorted(numbering_raw.items()):
        if value not in DIGITS:
            problems.error(f"numbering.{key}", f"got {value!r}; expected one of "
                           f"{', '.join(sorted(DIGITS))} (latn: 0-9, arab: ٠-٩)")
        else:
            numbering.append((key, value))

    sheets_raw = raw.get("sheets", {})
    sheets: list[tuple[str, str]] = []
    if not isinstance(sheets_raw, dict):
        problems.error("sheets", 'expected a [sheets] table, like a5-booklet = "sra4"')
        sheets_raw = {}
    for key, value in sorted(sheets_raw.items()):
        allowed = BOOKLET_SHEETS.get(key)
        if allowed is None:
            problems.error(f"sheets.{key}", f"not a booklet format; allowed keys: "
                           f"{', '.join(BOOKLET_SHEETS)}")
        elif value not in allowed:
            problems.error(f"sheets.{key}", f"got {value!r}; allowed values: "
                           + ", ".join(f'"{a}"' for a in allowed))
        else:
            sheets.append((key, value))

    if problems.errors:
        return None, tuple(problems.all)
    return Project(
        root=root, title=title, subtitle=subtitle, slug=slug,
        source_language=source_language, languages=tuple(languages),
        formats=tuple(formats), version=version.strip(), published=published,
        next_review=next_review, sources=tuple(sources), clinic=clinic,
        disclaimer=disclaimer, disclaimer_short=disclaimer_short,
        budgets=budgets, numbering=tuple(numbering), review_notes=tuple(review_notes),
        press=press, sheets=tuple(sheets), problems=tuple(problems.warnings),
    ), tuple(problems.all)


# ---------------------------------------------------------------------------
# The [mail] table: read only by `booklet send` (booklet/mail.py)
# ---------------------------------------------------------------------------

MAIL_KEYS = {"host", "port", "security", "user", "password_file", "from", "reply_to",
             "ca_file", "clinic_addresses", "max_attachment_mb", "retries", "retry_seconds",
             "timeout_seconds"}
MAIL_SECURITY = ("starttls", "tls", "none")
MAIL_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "::1", "[::1]"}


@dataclass(frozen=True)
class MailSettings:
    """How `booklet send` hands messages over: an SMTP relay, or (no host) the outbox."""

    from_address: str
    reply_to: str = ""
    host: str = ""  # empty: write .eml files to the outbox instead of sending
    port: int = 587
    security: str = "starttls"
    user: str = ""
    password_file: Path | None = None
    ca_file: Path | None = None
    clinic_addresses: tuple[str, ...] = ()
    max_attachment_mb: float = 10.0
    retries: int = 3
    retry_seconds: float = 5.0
    timeout_seconds: float = 60.0
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def transport(self) -> str:
        return "smtp" if self.host else "outbox"


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _mail_address(value: str, key: str, problems: _Problems) -> str:
    from email_validator import EmailNotValidError, validate_email

    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        problems.error(key, f"got {value!r}: {exc}; expected an address like "
                       '"handouts@clinic.org"')
        return ""


def load_mail_settings(project: Project) -> MailSettings:
    """Read and check the [mail] table of booklet.toml (every problem at once).

    No table means the embedded default: messages are written as .eml files to
    the outbox, from the clinic's email address. The password is never read
    from here: only BOOKLET_SMTP_PASSWORD or a password_file its owner alone reads.
    """
    path = project.config_path
    raw = tomllib.loads(path.read_text(encoding="utf-8")).get("mail", {})
    problems = _Problems(path)
    if not isinstance(raw, dict):
        raise BookletError(f"{path}: key 'mail': expected a [mail] table with host, port, "
                           "security, user, from, reply_to, clinic_addresses")
    if "password" in raw:
        problems.error("mail.password", "a password never goes in booklet.toml; remove it "
                       "and set BOOKLET_SMTP_PASSWORD or password_file = \"PATH\" (a file "
                       "only you can read)")
    for key in sorted(set(raw) - MAIL_KEYS - {"password"}):
        problems.warn(f"mail.{key}", f"unknown key (allowed: {', '.join(sorted(MAIL_KEYS))}); "
                      "ignored")
    text = {key: _text(raw, key, problems, prefix="mail.")
            for key in ("host", "user", "from", "reply_to", "security", "ca_file",
                        "password_file")}
    sender = text["from"] or project.clinic.email
    if not sender:
        problems.error("mail.from", 'is required when [clinic] has no email: add from = '
                       '"handouts@clinic.org"')
    else:
        sender = _mail_address(sender, "mail.from" if text["from"] else "clinic.email",
                               problems)
    reply_to = _mail_address(text["reply_to"], "mail.reply_to", problems) \
        if text["reply_to"] else ""
    security = text["security"] or "starttls"
    if security not in MAIL_SECURITY:
        problems.error("mail.security", f"got {security!r}; allowed values: "
                       f"{', '.join(MAIL_SECURITY)} (none only for a relay on this machine)")
        security = "starttls"
    host = text["host"]
    if security == "none" and host and not is_loopback(host):
        problems.error("mail.security", f"\"none\" sends in plain text, allowed only to a "
                       f"relay on this machine (127.0.0.1, ::1, localhost), not {host!r}; "
                       "use \"starttls\" or \"tls\"")
    port = raw.get("port", MAIL_PORTS[security])
    if not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536:
        problems.error("mail.port", f"got {port!r}; expected a number from 1 to 65535, like "
                       f"port = {MAIL_PORTS[security]}")
        port = MAIL_PORTS[security]

    def file_key(key: str) -> Path | None:
        if not text[key]:
            return None
        found = (project.root / text[key]).expanduser().resolve()
        if not found.is_file():
            problems.error(f"mail.{key}", f"{text[key]!r}: no such file")
            return None
        return found

    ca_file, password_file = file_key("ca_file"), file_key("password_file")
    clinic_addresses = [_mail_address(a, "mail.clinic_addresses", problems)
                        for a in _string_list(raw, "clinic_addresses", problems) if a]

    def number(key: str, default: float, low: float, high: float) -> float:
        value = raw.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not low <= value <= high:
            problems.error(f"mail.{key}", f"got {value!r}; expected a number from {low:g} "
                           f"to {high:g}, like {key} = {default:g}")
            return default
        return value

    settings = MailSettings(
        from_address=sender, reply_to=reply_to, host=host, port=port, security=security,
        user=text["user"], password_file=password_file, ca_file=ca_file,
        clinic_addresses=tuple(a for a in clinic_addresses if a),
        max_attachment_mb=number("max_attachment_mb", 10, 0.01, 1000),
        retries=int(number("retries", 3, 0, 10)),
        retry_seconds=number("retry_seconds", 5, 0, 600),
        timeout_seconds=number("timeout_seconds", 60, 1, 600),
        warnings=tuple(str(p) for p in problems.warnings))
    if problems.errors:
        count = len(problems.errors)
        raise BookletError.from_problems(
            problems.errors, f"{count} problem{'s' if count > 1 else ''} in the [mail] table "
            f"of {path}:")
    return settings
