"""i18n stage: translatable segments of chapters, catalogs, applying translations.

A chapter is cut into blocks the way a translator thinks of it: the title,
each heading, paragraph, list item, box title, table cell, glossary term and
definition. The blocks come from the same Python-Markdown parse that renders
the English (booklet.content), and a translation replaces each block's text in
that parse, as Sphinx replaces translated nodes: structure (boxes, tables,
record pages) can never drift between languages, and there is no second
Markdown reader to disagree with the first.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from booklet.content import Block, ChapterTranslation, unchanged
from booklet.errors import BookletError
from booklet.files import write_atomic
from booklet.project import PACKAGE_DIR, Project, theme_dir
from booklet.review import catalog_path


def markdown_blocks(project: Project, path: Path, text: str) -> list[Block]:
    """List every translatable block of a chapter file, in reading order, from the
    Python-Markdown parse that renders it (booklet.content.chapter_blocks)."""
    from booklet.content import chapter_blocks

    return chapter_blocks(project, path, text)


# ---------------------------------------------------------------------------
# Catalogs: extract, update, status
# ---------------------------------------------------------------------------

TEMPLATE_NAME = "booklet.pot"
DOMAIN = "booklet"
# Data-table strings get their own msgctxt: a column label or a drug in a list
# may need a shorter form than the same English in the prose or the glossary.
TABLE_CONTEXT = "table"
# A record form's strings (a table with blank rows the reader fills in) mean
# something else than the same English in a data table: "Notes" heads a column
# to write one's own notes in, where the regimen table's "Notes" are remarks.
FORM_CONTEXT = "form"
# Contexts an entry had before, so `i18n update` carries its translation over
# (not fuzzy: the English and its use are the same) instead of losing it.
PREVIOUS_CONTEXTS = {FORM_CONTEXT: (TABLE_CONTEXT,)}
BRACE_FIELD = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class Segment:
    """One translatable string and where it comes from (file relative to the project)."""

    msgid: str | tuple[str, str]  # a tuple for plural theme strings (singular, plural)
    file: str
    line: int
    kind: str  # a Markdown block kind, "table ...", "booklet.toml ..." or "theme"
    context: str | None = None  # msgctxt: TABLE_CONTEXT, FORM_CONTEXT for table strings
    note: str = ""  # where it sits, for the translator (#. comment)


def _relative(project: Project, path: Path) -> str:
    path = path.resolve()
    for root in (project.root, theme_dir(), PACKAGE_DIR.parent):
        if path.is_relative_to(root):
            return path.relative_to(root).as_posix()
    return path.as_posix()


def _line_of(lines: list[str], needle: str, start: int = 0) -> int:
    """1-based line of the first line from ``start`` holding needle (as TOML would quote it)."""
    quoted = needle.replace("\\", "\\\\").replace('"', '\\"')
    for candidate in (quoted, needle, needle[:40]):
        for index in range(start, len(lines)):
            if candidate and candidate in lines[index]:
                return index + 1
    return 1


def _key_line(lines: list[str], key: str, text: str) -> int:
    """1-based line of ``key = "text"`` in a TOML file (a column label's own line, not
    the caption's that mentions the same words); else the first line with text."""
    quoted = text.replace("\\", "\\\\").replace('"', '\\"')
    pattern = re.compile(rf'^\s*{re.escape(key)}\s*=\s*["\'].*{re.escape(quoted[:40])}')
    for index, line in enumerate(lines):
        if pattern.match(line):
            return index + 1
    return _line_of(lines, text)


def _chapter_segments(project: Project) -> Iterator[Segment]:
    from booklet.content import chapter_files

    for path in chapter_files(project):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BookletError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from None
        name = _relative(project, path)
        blocks = markdown_blocks(project, path, text)
        chapter = next((b.text for b in blocks if b.kind == "title"), path.stem)
        for block in blocks:
            if block.text.strip():
                where = f'chapter "{chapter}"' if block.kind != "title" else ""
                note = "; ".join(n for n in (where, block.note) if n)
                yield Segment(block.text, name, block.line, block.kind, note=note)


def _table_segments(project: Project) -> Iterator[Segment]:
    from booklet.content import load_table, table_files

    for path in table_files(project):
        table = load_table(project, path.stem, str(path))
        lines = path.read_text(encoding="utf-8").split("\n")
        name = _relative(project, path)
        form = bool(table.blank_rows)
        where = "a record form the reader fills in by hand" if form else \
            "a data table; its numbers are checked against the English"

        def at(text: str, kind: str, key: str, lines: list[str] = lines,
               name: str = name, where: str = where, form: bool = form) -> Segment:
            return Segment(text, name, _key_line(lines, key, text), kind,
                           FORM_CONTEXT if form else TABLE_CONTEXT, note=where)

        if table.caption:
            yield at(table.caption, "table caption", "caption")
        labels = {column.key: column.label for column in table.columns}
        for column in table.columns:
            yield at(column.label, "table column label", "label")
        for row in table.rows:
            for column in table.columns:
                value = row.get(column.key, "")
                items = [i.strip() for i in value.split(",")] if column.is_list else [value]
                for item in items:
                    if item.strip():
                        yield at(item, f'table cell (column "{labels[column.key]}")',
                                 column.key)
        if table.source:
            yield at(table.source, "table source", "source")


def _config_segments(project: Project) -> Iterator[Segment]:
    lines = project.config_path.read_text(encoding="utf-8").split("\n")
    name = _relative(project, project.config_path)
    texts = [("title", project.title), ("subtitle", project.subtitle)]
    texts += [("sources", source) for source in project.sources]
    texts += [("disclaimer.text", project.disclaimer),
              ("disclaimer.short", project.disclaimer_short)]
    for key, text in texts:
        if text:
            yield Segment(text, name, _line_of(lines, text), f"booklet.toml {key}")


def theme_template_files(project: Project) -> list[Path]:
    """The templates this project renders with: its own override the theme's, by name."""
    names: dict[str, Path] = {}
    for folder in (theme_dir() / "templates", project.root / "templates"):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix in (".html", ".css") and path.is_file():
                    names[path.name] = path
    return [names[name] for name in sorted(names)]


def email_template_files(project: Project) -> list[Path]:
    """The email templates (subject, text and HTML body) of `booklet send`, own over theme's."""
    names: dict[str, Path] = {}
    for folder in (theme_dir() / "templates" / "email", project.root / "templates" / "email"):
        if folder.is_dir():
            for path in sorted(folder.iterdir()):
                if path.suffix in (".txt", ".html") and path.is_file():
                    names[path.name] = path
    return [names[name] for name in sorted(names)]


def _theme_segments(project: Project) -> Iterator[Segment]:
    import jinja2.ext
    from babel.messages.extract import DEFAULT_KEYWORDS, extract

    sources: list[tuple[Path, object, dict]] = [
        (path, jinja2.ext.babel_extract, {"trim_blocks": "true", "lstrip_blocks": "true"})
        for path in theme_template_files(project) + email_template_files(project)]
    sources.append((PACKAGE_DIR / "render.py", "python", {}))
    for path, method, options in sources:
        with path.open("rb") as fileobj:
            try:
                found = list(extract(method, fileobj, keywords=DEFAULT_KEYWORDS,
                                     options=options))
            except jinja2.TemplateSyntaxError as exc:  # in a project's own template
                raise BookletError(f"{path}: cannot read the template's strings: {exc}; "
                                   "fix the template syntax") from None
        for lineno, message, _comments, _context in found:
            name = f"booklet/{path.name}" if method == "python" else \
                f"templates/{'email/' if path.parent.name == 'email' else ''}{path.name}"
            note = ("the email that carries the handout (not printed)"
                    if name.startswith("templates/email/") else
                    "words of the layout, printed in every edition")
            yield Segment(message, name, lineno, "theme", note=note)


def segments(project: Project) -> list[Segment]:
    """Every translatable string of the project, in reading order, theme strings last."""
    from booklet.figures import segments as figure_segments  # SVG labels (booklet.figures)

    return [*_chapter_segments(project), *_table_segments(project),
            *_config_segments(project), *figure_segments(project), *_theme_segments(project)]


def _fixed_date(project: Project) -> dt.datetime:
    """A creation date from the content, not the clock, so extraction is reproducible."""
    day = project.published or dt.date(1970, 1, 1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _header_comment(project: Project, language: str | None) -> str:
    what = f"{language} translation" if language else "Translation template"
    return (f"# {what} of the handout \"{project.title}\".\n"
            "# Written by `booklet i18n extract` / `booklet i18n update`; edit the msgstr\n"
            "# lines with any PO editor (Poedit, Weblate, Lokalize) or a text editor.\n"
            "# Keep **bold**, links, footnotes [^1] and every number as in the English.\n"
            "# A count written as a word (a dual form) needs a translator comment\n"
            "# '# booklet: number-as-word 2' on its entry; the reviewer sees it listed.\n"
            "#")


def template_catalog(project: Project, found: list[Segment] | None = None):
    """Build the Babel catalog of every segment: the content of locales/booklet.pot."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(project=project.slug, version=project.version, charset="utf-8",
                      creation_date=_fixed_date(project), revision_date=_fixed_date(project),
                      fuzzy=False, header_comment=_header_comment(project, None))
    for segment in found if found is not None else segments(project):
        texts = segment.msgid if isinstance(segment.msgid, tuple) else (segment.msgid,)
        flags = ("python-brace-format",) if any(BRACE_FIELD.search(t) for t in texts) \
            and segment.kind == "theme" else ()
        existing = catalog.get(segment.msgid, segment.context)
        comment = f"{segment.kind}: {segment.note}" if segment.note else segment.kind
        comments = [] if existing and comment in existing.auto_comments else [comment]
        message = catalog.add(segment.msgid, locations=[(segment.file, segment.line)],
                              auto_comments=comments, flags=flags, context=segment.context)
        _drop_guessed_formats(message, flags)
    return catalog


def _drop_guessed_formats(message, keep: tuple[str, ...] | set[str] = ()) -> None:
    """Remove the printf flags Babel guesses from a "%" in the text ("73% of people").

    Booklet's strings are never %-formatted; the guess makes ``msgfmt --check``
    and ``pybabel compile`` demand the same "% o" conversion in every language.
    """
    for flag in ("python-format", "c-format"):
        if flag not in keep:
            message.flags.discard(flag)


GENERATED_BY = "Generated-By: booklet"
_PREVIOUS_TOKEN = "@@booklet-previous-{}@@"


def _po_bytes(catalog, *, template: bool = False) -> bytes:
    """The PO text of a catalog, valid for GNU gettext (``msgfmt --check``).

    Babel wraps a multi-line previous msgid (``#| msgid ""``) as a comment, which
    msgfmt rejects; here each previous msgid is written as msgmerge writes it.
    The Generated-By header names booklet, not the Babel version, so a new Babel
    does not rewrite every catalog.
    """
    import io

    from babel.messages.pofile import normalize, write_po

    previous: dict[str, tuple[str, ...]] = {}
    saved = []
    for message in catalog:
        if message.id and message.previous_id and not template:
            token = _PREVIOUS_TOKEN.format(len(previous))
            previous[token] = tuple(message.previous_id)
            saved.append((message, message.previous_id))
            message.previous_id = [token]
    buffer = io.BytesIO()
    try:
        write_po(buffer, catalog, width=76, include_previous=not template,
                 ignore_obsolete=False)
    finally:
        for message, value in saved:
            message.previous_id = value
    text = buffer.getvalue().decode("utf-8")
    text = re.sub(r'^"Generated-By: [^"\\]*\\n"$', f'"{GENERATED_BY}\\\\n"', text,
                  count=1, flags=re.M)
    # The Language header as a BCP 47 tag (pt-BR, zh-Hans), as Poedit and Weblate
    # write it; Babel writes its own locale name (pt_BR).
    text = re.sub(r'^"Language: ([A-Za-z]+)_([A-Za-z0-9_]+)\\n"$',
                  lambda m: f'"Language: {m.group(1)}-{m.group(2).replace("_", "-")}\\n"',
                  text, count=1, flags=re.M)

    def previous_lines(match: re.Match) -> str:
        ids = previous[match.group(1)]
        lines = [f"#| msgid {normalize(ids[0], prefix='#| ', width=76)}"]
        if len(ids) > 1:
            lines.append(f"#| msgid_plural {normalize(ids[1], prefix='#| ', width=76)}")
        return "\n".join(lines)

    text = re.sub(r'^#\| msgid "(@@booklet-previous-\d+@@)"$', previous_lines, text,
                  flags=re.M)
    return text.encode("utf-8")


def template_path(project: Project) -> Path:
    return project.locales_dir / TEMPLATE_NAME


def extract(project: Project) -> Path:
    """Write locales/booklet.pot with every segment of the project; return its path."""
    return write_atomic(template_path(project),
                        _po_bytes(template_catalog(project), template=True))


def babel_locale_name(language: str) -> str:
    """Map a BCP 47 tag (pt-BR, zh-Hans) to the name Babel and gettext use (pt_BR, zh_Hans)."""
    from booklet.language import locale_name

    return locale_name(language)


def read_catalog(path: Path, language: str):
    """Read a PO file with Babel; a broken file is a BookletError with file:line."""
    from babel.messages.pofile import PoFileError, read_po

    if path.read_bytes()[:3] == b"\xef\xbb\xbf":
        raise BookletError(f"{path}:1: the catalog starts with a UTF-8 byte-order mark "
                           "(BOM); save it as UTF-8 without BOM (Poedit does)")
    try:
        with path.open("rb") as fileobj:
            catalog = read_po(fileobj, locale=babel_locale_name(language),
                              abort_invalid=True, charset="utf-8")
    except PoFileError as exc:
        raise BookletError(f"{path}:{exc.lineno + 1}: not a valid PO file: {exc.args[0]}; "
                           "open it in a PO editor (Poedit) or fix that line") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BookletError(f"{path}: cannot read the catalog ({exc}); save it as UTF-8 "
                           "PO, for example with Poedit") from None
    for message in catalog:
        _read_previous(message)
        _drop_guessed_formats(message)
    _check_plural_header(catalog, path)
    return catalog


def _read_previous(message) -> None:
    """Turn ``#|`` lines (which Babel reads as translator comments) back into previous_id."""
    from babel.messages.pofile import unescape

    lines = [c[1:].strip() for c in message.user_comments if c.startswith("|")]
    if not lines:
        return
    message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
    ids: dict[str, list[str]] = {}
    key = None
    for line in lines:
        keyword, _, rest = line.partition(" ")
        if keyword in ("msgid", "msgid_plural", "msgctxt"):
            key, line = keyword, rest.strip()
        if key and line.startswith('"') and line.endswith('"') and len(line) >= 2:
            ids.setdefault(key, []).append(unescape(line))
    previous = ["".join(ids.get(k, [])) for k in ("msgid", "msgid_plural") if k in ids]
    if previous and message.id:
        message.previous_id = previous


def _check_plural_header(catalog, path: Path) -> None:
    """A Plural-Forms header that gettext cannot evaluate is an error with the file."""
    import gettext as gettext_module

    try:
        gettext_module.c2py(catalog.plural_expr)
    except (ValueError, RecursionError) as exc:
        raise BookletError(f"{path}: the Plural-Forms header {catalog.plural_forms!r} is not "
                           f"a valid gettext expression ({exc}); run booklet i18n update to "
                           "take the language's rule from CLDR") from None


def _new_catalog(project: Project, language: str):
    from babel.messages.catalog import Catalog

    return Catalog(locale=babel_locale_name(language), domain=DOMAIN, project=project.slug,
                   version=project.version, charset="utf-8",
                   creation_date=_fixed_date(project), revision_date=_fixed_date(project),
                   fuzzy=False, header_comment=_header_comment(project, language),
                   language_team=f"{language} <{project.clinic.email or 'LL@li.org'}>")


def translation_languages(project: Project) -> list[str]:
    return [lang for lang in project.languages if lang != project.source_language]


def update(project: Project) -> list[Path]:
    """Write locales/booklet.pot, then merge it into every language's booklet.po.

    A changed English segment keeps its old translation marked fuzzy (Babel's
    fuzzy matching), a removed one becomes obsolete (``#~``), a new one is added
    untranslated. Missing catalogs are created with the language's plural rules.
    """
    template = template_catalog(project)
    written = [write_atomic(template_path(project), _po_bytes(template, template=True))]
    for language in translation_languages(project):
        path = catalog_path(project, language)
        catalog = read_catalog(path, language) if path.is_file() else \
            _new_catalog(project, language)
        written.append(write_atomic(path, _po_bytes(update_catalog(catalog, template,
                                                                   project))))
    return written


def cldr_plural_forms(language: str) -> str:
    """The gettext Plural-Forms of a language as the installed Babel's CLDR data says."""
    from babel.messages.plurals import get_plural

    return get_plural(babel_locale_name(language)).plural_forms


def update_catalog(catalog, template, project: Project | None = None):
    """Merge the template into one language's catalog, as ``i18n update`` does.

    The catalog's Plural-Forms is brought up to date with CLDR; when the rule
    changes, every translated plural entry is marked fuzzy (Babel's merge does
    that when the number of forms differs; here also when only the rule does),
    so a translator checks which form goes where. Previous msgids of entries
    that stay fuzzy are kept, and printf flags Babel guesses are dropped.
    """
    from babel.messages.plurals import get_plural

    previous = {(m.id if isinstance(m.id, str) else m.id[0], m.context): m.previous_id
                for m in catalog if m.id and m.previous_id}
    wanted = get_plural(catalog.locale)
    rule_changed = (catalog.num_plurals, _spaceless(catalog.plural_expr)) != \
        (wanted.num_plurals, _spaceless(wanted.plural_expr))
    if rule_changed:
        catalog.mime_headers = [("Plural-Forms", wanted.plural_forms)]
    carried = _carry_contexts(catalog, template)
    catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
    for key in carried:  # the translation lives on under its new msgctxt
        catalog.obsolete.pop(key, None)
    if project is not None:
        # Babel keeps the old version; the handout's version is what the PO describes.
        catalog.project, catalog.version = project.slug, project.version
    for message in catalog:
        if not message.id:
            continue
        entry = template.get(message.id, message.context)
        _drop_guessed_formats(message, entry.flags if entry is not None else ())
        if message.pluralizable:
            strings = list(message.string) if isinstance(message.string, (list, tuple)) \
                else [message.string]
            if len(strings) != catalog.num_plurals:
                strings = (strings + [""] * catalog.num_plurals)[:catalog.num_plurals]
                message.string = tuple(strings)
                message.flags.add("fuzzy")
            if rule_changed and any(strings):
                message.flags.add("fuzzy")
        key = (message.id if isinstance(message.id, str) else message.id[0], message.context)
        if message.fuzzy and not message.previous_id and key in previous:
            message.previous_id = previous[key]
        if not message.fuzzy:
            message.previous_id = []
    return catalog


def _carry_contexts(catalog, template) -> list:
    """Copy each entry whose msgctxt changed (PREVIOUS_CONTEXTS) to its new context
    before merging, so its translation is kept as it was; return the old keys
    no longer in the template."""
    from babel.messages.catalog import Message

    gone = []
    for entry in template:
        if not entry.id or entry.context not in PREVIOUS_CONTEXTS \
                or catalog.get(entry.id, entry.context) is not None:
            continue
        for old_context in PREVIOUS_CONTEXTS[entry.context]:
            old = catalog.get(entry.id, old_context)
            if old is None:
                continue
            catalog[entry.id] = Message(entry.id, old.string, flags=old.flags,
                                        user_comments=old.user_comments,
                                        previous_id=old.previous_id, context=entry.context)
            if template.get(entry.id, old_context) is None:
                gone.append(catalog._key_for(entry.id, old_context))
            break
    return gone


def _spaceless(expression: str) -> str:
    return re.sub(r"\s+", "", expression).strip("()")


def _message_state(message) -> str:
    if message is None:
        return "untranslated"
    strings = message.string if isinstance(message.string, (list, tuple)) else \
        (message.string,)
    if not all(s and s.strip() for s in strings):
        return "untranslated"
    if message.fuzzy:
        return "fuzzy"
    return "translated"


@dataclass(frozen=True)
class LanguageStatus:
    """How far one language's catalog covers the current English, and its review."""

    language: str
    catalog: Path | None
    total: int
    translated: int
    fuzzy: int
    untranslated: int
    outdated: bool  # the PO file lacks current segments: run booklet i18n update
    review: str  # "approved", "draft" or "draft (approval out of date)"
    source: bool = False  # the language the chapters are written in
    approved_by: str = ""
    approved_on: dt.date | None = None
    problems: tuple[str, ...] = ()
    # Entries a reviewer reads closely: numbers moved, written as words, foreign digits.
    to_read: tuple[str, ...] = ()

    @property
    def percent(self) -> float:
        return round(100.0 * self.translated / self.total, 1) if self.total else 100.0

    def as_dict(self) -> dict:
        return {"language": self.language,
                "catalog": str(self.catalog) if self.catalog else None,
                "total": self.total, "translated": self.translated, "fuzzy": self.fuzzy,
                "untranslated": self.untranslated, "percent": self.percent,
                "outdated": self.outdated, "review": self.review, "source": self.source,
                "approved_by": self.approved_by or None,
                "approved_on": self.approved_on.isoformat() if self.approved_on else None,
                "problems": list(self.problems), "to_read": list(self.to_read)}


def status(project: Project) -> list[LanguageStatus]:
    """Count translated / fuzzy / untranslated segments per language against the English."""
    from booklet.review import approval, load_reviews

    template = template_catalog(project)
    total = sum(1 for message in template if message.id)
    reviews = load_reviews(project)
    result = []
    for language in project.languages:
        review = approval(project, language)
        stale = reviews.get(language)
        state = "approved" if review else "draft"
        facts = {"approved_by": review.approved_by if review else "",
                 "approved_on": review.approved_on if review else None}
        if language == project.source_language:
            result.append(LanguageStatus(language, None, total, total, 0, 0, False,
                                         state, source=True, **facts))
            continue
        path = catalog_path(project, language)
        catalog = read_catalog(path, language) if path.is_file() else None
        counts = {"translated": 0, "fuzzy": 0, "untranslated": 0}
        outdated = catalog is None
        for message in template:
            if not message.id:
                continue
            found = catalog.get(message.id, message.context) if catalog is not None \
                else None
            outdated = outdated or found is None
            counts[_message_state(found)] += 1
        problems = tuple(validate_catalog(template, catalog, path, project.source_language)) \
            if catalog else ()
        from booklet.quantities import reordered_entries

        to_read = tuple(reordered_entries(path, project.source_language)) if catalog else ()
        if stale and not review:
            facts = {"approved_by": stale.approved_by, "approved_on": stale.approved_on}
            state = "draft (approval out of date)"
        result.append(LanguageStatus(language, path if catalog is not None else None, total,
                                     outdated=outdated, review=state, problems=problems,
                                     to_read=to_read,
                                     **counts, **facts))
    return result


# ---------------------------------------------------------------------------
# Validation: markup and number parity between English and translation
# ---------------------------------------------------------------------------

LINK_TARGET = re.compile(r"\]\(\s*<?([^)\s>]+)")
REFERENCE = re.compile(r"\]\[([^\]]+)\]")
FOOTNOTE_REF = re.compile(r"\[\^([^\]]+)\]")
HTML_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?=[\s/>])[^<>]*>")
NUMBER = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?!\d)|\d+(?:[.,\u066b\u066c'\u2019]\d+)*")
# An HTML tag starts with a letter: "<5% ... >20%" is the reader's text (issue 8).
MARKUP = re.compile(r"\]\([^)]*\)|\[\^[^\]]*\]|\]\[[^\]]*\]|</?[A-Za-z][^<>]*>|\{\w*\}")
SEPARATOR = re.compile(r"[.,\u066b\u066c'\u2019 \u00a0\u202f]")


def _ascii_digits(text: str) -> str:
    """Map every decimal digit (Arabic-Indic ٠-٩, Eastern Arabic ۰-۹, full-width) to 0-9."""
    import unicodedata

    return "".join(str(unicodedata.digit(ch)) if not ch.isascii() and
                   unicodedata.category(ch) == "Nd" else ch for ch in text)


def number_values(text: str) -> set[str]:
    """The numeric values written in text, tolerant of locale digits and separators.

    "1,000", "1.000" and "1 000" may be a thousand or (for the first two) one with
    a decimal part; both readings are kept, so a translation that switches
    separator conventions still matches its English number.
    """
    values: set[str] = set()
    for token in NUMBER.findall(_ascii_digits(text)):
        groups = SEPARATOR.split(token)
        separators = SEPARATOR.findall(token)
        if len(groups) == 1:
            values.add(str(int(groups[0])))
            continue
        if all(len(g) == 3 for g in groups[1:]) and len(set(separators)) == 1:
            values.add(str(int("".join(groups))))  # thousands grouping
            if len(groups) > 2 or separators[0] not in ".,\u066b":
                continue
        decimal = groups[-1].rstrip("0")
        whole = str(int("".join(groups[:-1])))
        values.add(f"{whole}.{decimal}" if decimal else whole)
    return values


def _emphasis_counts(text: str) -> dict[str, int]:
    text = re.sub(r"`[^`]*`", "", text)
    strong = len(re.findall(r"\*\*", text)) + len(re.findall(r"(?<!\w)__|__(?!\w)", text))
    rest = text.replace("**", "")
    rest = re.sub(r"(?<!\w)__|__(?!\w)", "", rest)
    star = rest.count("*")
    underscore = len(re.findall(r"(?<!\w)_|_(?!\w)", rest))
    return {"** (bold)": strong, "* (italic)": star, "_ (italic)": underscore}


def source_name(source_language: str) -> str:
    """The source language as the checks' messages name it: "English", "Spanish"."""
    from babel import Locale, UnknownLocaleError

    try:
        return Locale.parse(source_language.replace("-", "_")).get_language_name("en") \
            or source_language
    except (UnknownLocaleError, ValueError):
        return source_language


def parity_problems(source: str, translation: str, language: str = "",
                    as_words: tuple[str, ...] = (), source_language: str = "en") -> list[str]:
    """Say how a translation breaks the source's markup or changes its numbers
    (``as_words``: bare counts the entry's translator comment lets be words)."""
    named = source_name(source_language)
    problems = []
    counts, translated = _emphasis_counts(source), _emphasis_counts(translation)
    for marker, count in translated.items():
        if count % 2:
            problems.append(f"unbalanced emphasis: {count} {marker} markers (an odd count)")
        elif count != counts[marker]:
            problems.append(f"emphasis differs from the {named}: {count} {marker} "
                            f"markers, the {named} has {counts[marker]}")
    for pattern, what in ((LINK_TARGET, "link target"), (REFERENCE, "link reference"),
                          (FOOTNOTE_REF, "footnote reference")):
        want, have = pattern.findall(source), pattern.findall(translation)
        for item in sorted(set(want) - set(have)):
            problems.append(f"{what} {item!r} of the {named} is missing")
        for item in sorted(set(have) - set(want)):
            problems.append(f"{what} {item!r} is not in the {named}")
    new_tags = {t.lower() for t in HTML_TAG.findall(translation)} - \
        {t.lower() for t in HTML_TAG.findall(source)}
    for tag in sorted(new_tags):
        problems.append(f"raw HTML <{tag}> is not in the {named}; write Markdown instead")
    # Numbers as quantities (value, kind, comparison), and structure: booklet/quantities.py.
    from booklet.quantities import translation_problems

    problems += translation_problems(source, translation, language, source_language,
                                     as_words=as_words)
    return problems


def _format_problems(text: str, allowed: set[str]) -> list[str]:
    from booklet.render import format_problems

    return format_problems(text, allowed)


def _placeholder_problems(source: tuple[str, ...], strings: tuple[str, ...],
                          english: str = "English") -> list[str]:
    allowed = {name for text in source for name in BRACE_FIELD.findall(text)}
    problems = []
    for index, text in enumerate(strings):
        found = set(BRACE_FIELD.findall(text))
        if allowed:  # a template formats this string: only {name} (booklet.render.safe_format)
            problems += [p for p in _format_problems(text, allowed) if "format spec" in p]
        for name in sorted(found - allowed):
            problems.append(f"placeholder {{{name}}} is not in the {english} (allowed: "
                            f"{', '.join('{' + n + '}' for n in sorted(allowed)) or 'none'})")
        if len(strings) == 1:
            for name in sorted(allowed - found):
                problems.append(f"placeholder {{{name}}} of the {english} is missing")
        elif index == len(strings) - 1 and "n" in allowed and "n" not in found:
            problems.append("placeholder {n} is missing from the last plural form")
    return problems


def validate_message(message, path: Path, english_at: str = "",
                     catalog=None, source_language: str = "en") -> list[str]:
    """Problems of one translated message, each as 'PO file:line: what (English at)'.

    The source language is the project's (``source_language`` in booklet.toml).

    With its ``catalog``, a plural entry must have one msgstr per form of the
    catalog's Plural-Forms (Babel's ``num_plurals`` checker).
    """
    from babel.messages.catalog import TranslationError
    from babel.messages.checkers import num_plurals

    source = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = tuple(message.string) if isinstance(message.string, (list, tuple)) else \
        (message.string,)
    problems = []
    if catalog is not None:
        try:
            num_plurals(catalog, message)
        except TranslationError as exc:
            problems.append(f"{exc} for {catalog.plural_forms!r}, found {len(strings)} "
                            "msgstr; run booklet i18n update")
    english = source_name(source_language)
    problems += _placeholder_problems(source, strings, english)
    if len(source) == 1:
        from booklet.quantities import numbers_as_words

        problems += parity_problems(source[0], strings[0], path.parent.parent.name,
                                    numbers_as_words(message.user_comments), source_language)
    where = english_at or ", ".join(f"{f}:{n}" for f, n in message.locations[:1])
    return [f"{path}:{message.lineno or 1}: {problem} ({english} at {where})"
            for problem in problems]


def validate_catalog(template, catalog, path: Path, source_language: str = "en") -> list[str]:
    """Check every translated, non-fuzzy message that the current source still uses."""
    problems: list[str] = []
    for entry in template:
        if not entry.id:
            continue
        message = catalog.get(entry.id, entry.context)
        if _message_state(message) == "translated":
            english_at = ", ".join(f"{f}:{n}" for f, n in entry.locations[:1])
            problems += validate_message(message, path, english_at, catalog, source_language)
    return problems


# ---------------------------------------------------------------------------
# Applying a catalog at build time
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Fallback:
    """A segment shown in the source language because its translation is missing or fuzzy."""

    where: str  # file:line of the English
    state: str  # "untranslated" or "fuzzy"
    text: str
    more: int = 0  # further places with the same English

    def __str__(self) -> str:
        text = self.text if len(self.text) <= 60 else self.text[:57] + "..."
        also = f" (and {self.more} more)" if self.more else ""
        return f"{self.where}{also}: {self.state}: {text!r}"


@dataclass(frozen=True)
class TableTranslation:
    """Table strings in their msgctxt: a data table's, or (``form``) a record form's."""

    table: Callable[[str], str]
    form: Callable[[str], str]

    def __call__(self, text: str) -> str:
        return self.table(text)


@dataclass(frozen=True)
class Localization:
    """What the build needs to produce one language's edition."""

    language: str
    translate_chapter: ChapterTranslation | None
    translate: Callable[[str], str]  # a TableTranslation; unchanged for the source
    translations: gettext.NullTranslations
    text: dict
    catalog: Path | None = None
    fallbacks: tuple[Fallback, ...] = ()
    catalog_exists: bool = False

    def finish(self, html: str) -> str:
        """Last touch on the rendered HTML: bidi isolation for right-to-left scripts,
        whole words for scripts that break at spaces only (Korean)."""
        from booklet.language import language as language_of

        facts = language_of(self.language)
        if facts.word_break == "keep-all":
            html = keep_words_whole(html)
        return isolate_ltr_runs(html) if facts.rtl else html

    @property
    def warnings(self) -> tuple[str, ...]:
        if not self.fallbacks:
            return ()
        where = self.catalog if self.catalog_exists else \
            f"{self.catalog} (no such file; run: booklet i18n update)"
        counts = {state: sum(f.state == state for f in self.fallbacks)
                  for state in ("untranslated", "fuzzy")}
        head = (f"{where}: {counts['untranslated']} untranslated and {counts['fuzzy']} fuzzy "
                f"segments shown in the source language ({self.language} edition), marked "
                "in the text:")
        return (head + "".join(f"\n    {f}" for f in self.fallbacks),)


def fallback_html(text: str, source_language: str, language: str) -> str:
    """Wrap source-language Markdown inline text so readers and screen readers see it is."""
    from booklet.render import is_rtl

    if is_rtl(language) and not is_rtl(source_language):
        # An isolate keeps a whole English sentence, end punctuation included, in
        # left-to-right order inside the right-to-left page.
        return f'<span lang="{source_language}" dir="ltr" class="fallback">{LRI}{text}{PDI}</span>'
    if is_rtl(source_language) and not is_rtl(language):
        return f'<span lang="{source_language}" dir="rtl" class="fallback">{RLI}{text}{PDI}</span>'
    return f'<span lang="{source_language}" class="fallback">{text}</span>'


def isolate_fallback(text: str, source_language: str, language: str) -> str:
    """Source-language text printed by a template (escaped, so no span): isolate it
    when the edition runs the other way, so "What is ANKL?" keeps its question mark."""
    from booklet.render import is_rtl

    if is_rtl(language) == is_rtl(source_language):
        return text
    # The marks hold the end punctuation in place when the text wraps: WeasyPrint
    # lays out each line on its own, so an isolate split over two lines is lost.
    if is_rtl(source_language):
        return f"{RLI}{RLM}{text}{RLM}{PDI}"
    return f"{LRI}{LRM}{text}{LRM}{PDI}"


class _IsolatingFallback(gettext.NullTranslations):
    """Theme strings missing from a catalog, isolated like other source-language text."""

    def __init__(self, source_language: str, language: str) -> None:
        super().__init__()
        self.source_language, self.language = source_language, language

    def gettext(self, message: str) -> str:
        return isolate_fallback(message, self.source_language, self.language)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def gnu_translations(messages: dict, plural_forms: str) -> gettext.GNUTranslations:
    """A standard gettext object (gettext, ngettext) from checked messages.

    The plural rule is the catalog's own Plural-Forms, never the installed
    Babel's: the translator wrote one msgstr per form of that rule, and a newer
    CLDR with a different number of forms must not send ngettext to a form the
    catalog lacks (which gettext answers with the English).
    """
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(charset="utf-8", fuzzy=False)
    catalog.mime_headers = [("Plural-Forms", plural_forms)]
    for msgid, string in messages.items():
        catalog.add(msgid, string)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def english_in_brackets(translated: str, english: str, language: str) -> str:
    """A glossary term with the English after it: "Aguja (Needle)", "针头（Needle）"."""
    from booklet.language import language as language_of

    if language_of(language).script in ("Hans", "Hant", "Jpan"):
        return f"{translated}\uff08{english}\uff09"
    return f"{translated} ({english})"


def _single_line(text: str) -> str:
    """Translations are inline text: a line break typed in a PO editor is a space."""
    return " ".join(text.split())


def localize(project: Project, language: str, *, strict: bool = False) -> Localization:
    """Load a language's catalog and return the translators the build uses.

    Missing and fuzzy segments fall back to the source language, wrapped in
    ``<span lang class="fallback">`` where the text is Markdown (titles and
    template strings fall back unwrapped) and listed in ``warnings``; with
    ``strict`` they are refused. A translation that breaks markup or changes a
    number is always an error, draft or not: a wrong dose must never print.
    """
    source = project.source_language
    if language == source:
        return Localization(language, None, unchanged, gettext.NullTranslations(), {})
    path = catalog_path(project, language)
    catalog = read_catalog(path, language) if path.is_file() else None
    template = template_catalog(project)
    usable: dict[tuple[str | None, str | tuple[str, str]], str | tuple[str, ...]] = {}
    fallbacks: list[Fallback] = []
    problems: list[str] = []
    for entry in template:
        if not entry.id:
            continue
        message = catalog.get(entry.id, entry.context) if catalog is not None else None
        state = _message_state(message)
        english_at = f"{entry.locations[0][0]}:{entry.locations[0][1]}"
        if state == "translated":
            found = validate_message(message, path, english_at, catalog, source)
            if found:
                problems += found
                continue
            usable[entry.context, entry.id] = tuple(_single_line(s) for s in message.string) \
                if isinstance(message.string, (list, tuple)) else _single_line(message.string)
        elif not all(where.startswith("templates/email/") for where, _ in entry.locations):
            # Email-only strings are not in the PDF: the edition does not show them.
            text = entry.id[0] if isinstance(entry.id, tuple) else entry.id
            fallbacks.append(Fallback(english_at, state, text, len(entry.locations) - 1))
    if problems:
        raise BookletError(
            f"{len(problems)} translation problem{'s' if len(problems) > 1 else ''} in "
            f"{path}:\n" + "\n".join(f"  {p}" for p in problems) +
            "\nFix each translation at that line (any PO editor, e.g. Poedit), or empty "
            f"its msgstr to show the {source_name(source)} until it is fixed.")
    if strict and fallbacks:
        where = path if catalog is not None else f"{path} (missing: run booklet i18n update)"
        raise BookletError(
            f"--strict: {len(fallbacks)} segment{'s' if len(fallbacks) > 1 else ''} of the "
            f"{language} edition {'are' if len(fallbacks) > 1 else 'is'} untranslated or "
            f"fuzzy in {where}:\n" + "\n".join(f"  {f}" for f in fallbacks) +
            "\nTranslate them (and clear the fuzzy flag) in the catalog, or build without "
            "--strict for a draft that shows them in the source language.")

    def lookup(text: str, wrap: bool, context: str | None = None) -> str:
        found = usable.get((context, text))
        if isinstance(found, str):
            return found
        if wrap:
            return fallback_html(text, source, language)
        return isolate_fallback(text, source, language)

    def translate_block(block: Block) -> str:
        text = lookup(block.text, block.kind != "title")
        if block.kind == "term" and (block.text in usable.get((None, block.text), "")
                                     or re.search(r"[(\uff08]", text)):
            return text  # the translator wrote the English term (or a gloss) already
        if block.kind == "term" and (None, block.text) in usable:
            # Readers hear the English word from their care team.
            return english_in_brackets(text, block.text, language)
        return text

    from booklet.language import collation_key

    translate_chapter = ChapterTranslation(lambda title: lookup(title, False),
                                           translate_block, collation_key(language))

    translate = TableTranslation(lambda text: lookup(text, True, TABLE_CONTEXT),
                                 lambda text: lookup(text, True, FORM_CONTEXT))

    texts: dict = {}
    for key, value in (("title", project.title), ("subtitle", project.subtitle),
                       ("disclaimer", project.disclaimer),
                       ("disclaimer_short", project.disclaimer_short)):
        if value:
            texts[key] = lookup(value, False)
    if project.sources:
        texts["sources"] = [lookup(s, False) for s in project.sources]
    from babel.messages.plurals import get_plural

    plural_forms = catalog.plural_forms if catalog is not None else \
        get_plural(babel_locale_name(language)).plural_forms
    translations = gnu_translations({msgid: string for (context, msgid), string
                                     in usable.items() if context is None}, plural_forms)
    translations.add_fallback(_IsolatingFallback(source, language))
    return Localization(language, translate_chapter, translate, translations, texts,
                        path, tuple(fallbacks), catalog is not None)


# ---------------------------------------------------------------------------
# Right-to-left editions: keep left-to-right runs in one piece
# ---------------------------------------------------------------------------

LRI, RLI, PDI, LRM, RLM = "\u2066", "\u2067", "\u2069", "\u200e", "\u200f"
_LATIN = "A-Za-z0-9\u00c0-\u024f"
# A left-to-right run: Latin words and numbers with what joins them inside a
# run (spaces, hyphens, %, /, +, dots and commas between digits or words). It
# never starts or ends with punctuation, and brackets stay outside, so they
# mirror with the right-to-left sentence around them.
LTR_RUN = re.compile(
    rf"\+?[{_LATIN}](?:[{_LATIN} \u00a0\-\u2010\u2013%/.,:+'@&_#]*[{_LATIN}%])?")
_TAG = re.compile(r"(<[^>]*>|&#?\w+;)")  # tags and character references stay whole
_SKIP = {"head", "style", "script", "title"}


HANGUL_WORD = re.compile(r"[^\s&]*[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3][^\s&]*")


def keep_words_whole(html: str) -> str:
    """Korean breaks lines at spaces, never inside a word ("약/자입니다").

    CSS says so with ``word-break: keep-all``, which WeasyPrint does not
    implement; each Hangul word is set in a ``nowrap`` span instead.
    """
    return _map_text(html, lambda text: HANGUL_WORD.sub(
        lambda m: f'<span class="keep-all">{m.group(0)}</span>', text))


def _map_text(html: str, change: Callable[[str], str]) -> str:
    """Apply change to the text between tags, outside head, style and script."""
    out: list[str] = []
    skipping: list[str] = []
    for part in _TAG.split(html):
        if part.startswith("&"):
            out.append(part)
        elif part.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", part)
            tag = name.group(1).lower() if name else ""
            if tag in _SKIP and not part.startswith("</"):
                skipping.append(tag)
            elif tag in _SKIP and skipping:
                skipping.pop()
            out.append(part)
        elif skipping or not part.strip():
            out.append(part)
        else:
            out.append(change(part))
    return "".join(out)


def isolate_ltr_runs(html: str) -> str:
    """Wrap Latin words and numbers of a right-to-left edition in Unicode isolates.

    WeasyPrint hands each text run to Pango, whose bidi algorithm then orders a
    phone number ("+1 555 0100"), a range ("30-40%") or an address digit by
    digit group from the right. Isolating each run (LRI … PDI, which Pango
    honours) prints it as one left-to-right unit inside the Arabic sentence,
    as browsers do for isolated text.
    """
    return _map_text(html, lambda text: LTR_RUN.sub(lambda m: f"{LRI}{m.group(0)}{PDI}",
                                                    text))
