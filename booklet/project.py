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

from booklet.core import FORMATS, BookletError, Format  # noqa: F401 (Format re-exported)

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
    review_notes: tuple[str, ...] = ()  # for the reviewing clinician only: never printed
    press: Press = field(default_factory=Press)
    warnings: tuple[str, ...] = field(default=(), compare=False)

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
    """Collects every problem in one pass; raised together at the end."""

    def __init__(self, path: Path):
        self.path = path
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.errors.append(f"{self.path}: key '{key}': {message}")

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(f"{self.path}: key '{key}': {message}")


KNOWN_KEYS = {
    "title", "subtitle", "slug", "source_language", "languages", "formats", "version",
    "published", "next_review", "sources", "clinic", "disclaimer", "review_notes", "press",
}
CLINIC_KEYS = {"name", "phone", "email", "address", "website", "logo", "after_hours",
               "emergency"}
DISCLAIMER_KEYS = {"text", "short"}


def _text(raw: dict, key: str, problems: _Problems, *, required: bool = False,
          prefix: str = "") -> str:
    value = raw.get(key)
    full = f"{prefix}{key}"
    if value is None:
        if required:
            problems.error(full, f'is required: add {key} = "..."')
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

    Raises BookletError listing all problems at once. Unknown keys are warnings
    (kept in ``Project.warnings``); with ``strict`` they are errors too.
    """
    root = Path(root).resolve()
    path = root / CONFIG_NAME
    if not path.is_file():
        where = root if root.is_dir() else f"{root} (no such folder)"
        raise BookletError(
            f"{where}: no {CONFIG_NAME} found. Run the command inside a handout project, "
            "pass its folder, or create one with: booklet new DIR")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BookletError(f"{path}: not valid TOML: {exc}. Check quotes and brackets "
                           "on that line.") from None
    except UnicodeDecodeError as exc:
        raise BookletError(f"{path}: not UTF-8 text ({exc}); save the file as UTF-8.") from None

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
                       'name = "..." (and phone, email, address, website)')
    else:
        for key in sorted(set(clinic_raw) - CLINIC_KEYS):
            problems.warn(f"clinic.{key}", "unknown key (allowed: "
                          f"{', '.join(sorted(CLINIC_KEYS))}); ignored")
        values = {k: _text(clinic_raw, k, problems, required=(k == "name"), prefix="clinic.")
                  for k in CLINIC_KEYS - {"logo"}}
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

    review_notes = _string_list(raw, "review_notes", problems)
    press = _press(raw.get("press", {}), root, problems)

    if strict and problems.warnings:
        problems.errors.extend(problems.warnings)
    if problems.errors:
        count = len(problems.errors)
        raise BookletError(f"{count} problem{'s' if count > 1 else ''} in {path}:\n"
                           + "\n".join(f"  {e}" for e in problems.errors))
    return Project(
        root=root, title=title, subtitle=subtitle, slug=slug,
        source_language=source_language, languages=tuple(languages),
        formats=tuple(formats), version=version.strip(), published=published,
        next_review=next_review, sources=tuple(sources), clinic=clinic,
        disclaimer=disclaimer, disclaimer_short=disclaimer_short,
        review_notes=tuple(review_notes), press=press,
        warnings=tuple(problems.warnings),
    )
