"""i18n stage: translatable segments of chapters, catalogs, applying translations.

A chapter is cut into blocks the way a translator thinks of it: the title,
each heading, paragraph, list item, box title, table cell, glossary term and
definition. Each block's inline Markdown is one catalog entry, and a
translated chapter is the English Markdown with every block's text swapped,
so structure (boxes, tables, record pages) can never drift between languages.
"""

from __future__ import annotations

import datetime as dt
import gettext
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from booklet.content import unchanged
from booklet.errors import BookletError
from booklet.files import write_atomic
from booklet.project import PACKAGE_DIR, Project, theme_dir
from booklet.review import catalog_path

HEADING = re.compile(r"^(#{1,6}\s+)(.*?)(\s+\{[^}]*\})?\s*$")
LIST_ITEM = re.compile(r"^([-*+]\s+|\d+[.)]\s+)(.*)$")
ADMONITION = re.compile(r'^(!!!\s+[\w-]+(?:\s+[\w-]+)*\s+")(.*)("\s*)$')
DEFINITION = re.compile(r"^(:\s+)(.*)$")
FOOTNOTE = re.compile(r"^(\[\^[^\]]+\]:\s+)(.*)$")
DIRECTIVE = re.compile(r"^:::\s")
ATTRIBUTES_ONLY = re.compile(r"^\{:?[^}]*\}\s*$")
TABLE_ROW = re.compile(r"^\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class Block:
    """One translatable unit of a Markdown file, with how to put it back."""

    kind: str  # title, heading, paragraph, item, box-title, cell, definition, footnote
    text: str
    line: int  # 1-based line in the file where the block starts


# A piece is either a verbatim line or a block with the text around it.
_Piece = tuple[str, str, Block | None, str]  # (indent + prefix, "", block, suffix) or (line,)


def _block_start(line: str) -> bool:
    return bool(HEADING.match(line) or LIST_ITEM.match(line) or ADMONITION.match(line)
                or DEFINITION.match(line) or FOOTNOTE.match(line) or DIRECTIVE.match(line)
                or TABLE_ROW.match(line) or ATTRIBUTES_ONLY.match(line))


def _pieces(lines: list[str], first: int, indent: str) -> Iterator[_Piece]:
    """Yield (prefix, block, suffix) for blocks and (line, None, "") for verbatim lines."""
    i = 0
    while i < len(lines):
        raw = lines[i]
        number = first + i
        if not raw.strip():
            yield raw, None, ""
            i += 1
            continue
        line = raw[len(indent):] if raw.startswith(indent) else raw.lstrip()
        if DIRECTIVE.match(line) or ATTRIBUTES_ONLY.match(line) or TABLE_RULE.match(line):
            yield raw, None, ""
            i += 1
            continue
        if match := ADMONITION.match(line):
            yield indent + match.group(1), Block("box-title", match.group(2), number), \
                match.group(3).rstrip()
            body_indent = indent + "    "
            j = i + 1
            while j < len(lines) and (lines[j].startswith(body_indent) or not lines[j].strip()):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1  # trailing blank lines belong to the outer level
            yield from _pieces(lines[i + 1:j], number + 1, body_indent)
            i = j
            continue
        if match := HEADING.match(line):
            yield indent + match.group(1), Block("heading", match.group(2), number), \
                match.group(3) or ""
            i += 1
            continue
        if TABLE_ROW.match(line):
            cells = line.strip().strip("|").split("|")
            parts = []
            for cell in cells:
                parts.append(Block("cell", cell.strip(), number) if cell.strip() else None)
            yield indent + "|", ("cells", parts), "|"
            i += 1
            continue
        for kind, pattern in (("item", LIST_ITEM), ("definition", DEFINITION),  # noqa: B007
                              ("footnote", FOOTNOTE)):
            if match := pattern.match(line):
                prefix, text = match.group(1), [match.group(2)]
                break
        else:
            kind, prefix, text = "paragraph", "", [line]
        j = i + 1
        # Continuation lines: not blank, not the start of another block.
        while j < len(lines) and lines[j].strip():
            nxt = lines[j][len(indent):] if lines[j].startswith(indent) else lines[j]
            if _block_start(nxt.lstrip() if kind != "paragraph" else nxt):
                break
            text.append(nxt.strip())
            j += 1
        if kind == "paragraph" and j < len(lines) and DEFINITION.match(
                lines[j][len(indent):] if lines[j].startswith(indent) else lines[j]):
            kind = "term"
        yield indent + prefix, Block(kind, " ".join(t.strip() for t in text), number), ""
        i = j


def _front_matter(lines: list[str]) -> tuple[int, Block | None]:
    """Return (index after front matter, title block) for a chapter file."""
    if not lines or lines[0].strip() != "---":
        return 0, None
    title = None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return index + 1, title
        key, _, value = lines[index].partition(":")
        if key.strip() == "title":
            title = Block("title", value.strip().strip('"').strip("'"), index + 1)
    return 0, None


def markdown_blocks(text: str) -> list[Block]:
    """List every translatable block of a chapter file, in reading order."""
    return [block for _, block in _walk(text) if block is not None]


def _walk(text: str) -> Iterator[tuple[str, Block | None]]:
    lines = text.split("\n")
    start, title = _front_matter(lines)
    if title:
        yield "title", title
    for prefix, block, _suffix in _pieces(lines[start:], start + 1, ""):
        if isinstance(block, tuple):
            for cell in block[1]:
                if cell is not None:
                    yield "cell", cell
        else:
            yield prefix, block


def translate_markdown(text: str, lookup: Callable[[Block], str]) -> str:
    """Return the chapter with every block's text replaced by ``lookup(block)``."""
    lines = text.split("\n")
    start, title = _front_matter(lines)
    out = list(lines[:start])
    if title:
        out = [line if line.partition(":")[0].strip() != "title"
               else f"title: {lookup(title)}" for line in out]
    for prefix, block, suffix in _pieces(lines[start:], start + 1, ""):
        if block is None:
            out.append(prefix)
        elif isinstance(block, tuple):
            cells = [f" {lookup(cell)} " if cell else " " for cell in block[1]]
            out.append(prefix + "|".join(cells) + suffix)
        else:
            out.append(prefix + lookup(block) + suffix)
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Catalogs: extract, update, status
# ---------------------------------------------------------------------------

TEMPLATE_NAME = "booklet.pot"
DOMAIN = "booklet"
# Data-table strings get their own msgctxt: a column label or a drug in a list
# may need a shorter form than the same English in the prose or the glossary.
TABLE_CONTEXT = "table"
BRACE_FIELD = re.compile(r"\{(\w*)\}")


@dataclass(frozen=True)
class Segment:
    """One translatable string and where it comes from (file relative to the project)."""

    msgid: str | tuple[str, str]  # a tuple for plural theme strings (singular, plural)
    file: str
    line: int
    kind: str  # a Markdown block kind, "table ...", "booklet.toml ..." or "theme"
    context: str | None = None  # msgctxt: TABLE_CONTEXT for data-table strings


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


def _chapter_segments(project: Project) -> Iterator[Segment]:
    from booklet.content import chapter_files

    for path in chapter_files(project):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BookletError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from None
        name = _relative(project, path)
        for block in markdown_blocks(text):
            if block.text.strip():
                yield Segment(block.text, name, block.line, block.kind)


def _table_segments(project: Project) -> Iterator[Segment]:
    from booklet.content import load_table, table_files

    for path in table_files(project):
        table = load_table(project, path.stem, str(path))
        lines = path.read_text(encoding="utf-8").split("\n")
        name = _relative(project, path)

        def at(text: str, kind: str, lines: list[str] = lines, name: str = name) -> Segment:
            return Segment(text, name, _line_of(lines, text), kind, TABLE_CONTEXT)

        if table.caption:
            yield at(table.caption, "table caption")
        for column in table.columns:
            yield at(column.label, "table column label")
        for row in table.rows:
            for column in table.columns:
                value = row.get(column.key, "")
                items = [i.strip() for i in value.split(",")] if column.is_list else [value]
                for item in items:
                    if item.strip():
                        yield at(item, f"table cell ({column.key})")
        if table.source:
            yield at(table.source, "table source")


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
            yield Segment(message, name, lineno, "theme")


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
        comments = [] if existing and segment.kind in existing.auto_comments \
            else [segment.kind]
        catalog.add(segment.msgid, locations=[(segment.file, segment.line)],
                    auto_comments=comments, flags=flags, context=segment.context)
    return catalog


def _po_bytes(catalog, *, template: bool = False) -> bytes:
    import io

    from babel.messages.pofile import write_po

    buffer = io.BytesIO()
    write_po(buffer, catalog, width=76, include_previous=not template,
             ignore_obsolete=False)
    return buffer.getvalue()


def template_path(project: Project) -> Path:
    return project.locales_dir / TEMPLATE_NAME


def extract(project: Project) -> Path:
    """Write locales/booklet.pot with every segment of the project; return its path."""
    return write_atomic(template_path(project),
                        _po_bytes(template_catalog(project), template=True))


def babel_locale_name(language: str) -> str:
    """Map a BCP 47 tag (pt-BR, zh-Hans) to the name Babel and gettext use (pt_BR, zh_Hans)."""
    from babel import Locale, UnknownLocaleError

    for candidate in (language.replace("-", "_"), language.split("-")[0]):
        try:
            Locale.parse(candidate)
            return candidate
        except (ValueError, UnknownLocaleError):
            continue
    raise BookletError(f"language {language!r}: Babel knows no locale for it, so its plural "
                       "rules and dates are unknown; use a tag like \"es\", \"pt-BR\", "
                       "\"zh-Hans\" or \"ar\"")


def read_catalog(path: Path, language: str):
    """Read a PO file with Babel; a broken file is a BookletError with file:line."""
    from babel.messages.pofile import PoFileError, read_po

    try:
        with path.open("rb") as fileobj:
            return read_po(fileobj, locale=babel_locale_name(language), abort_invalid=True,
                           charset="utf-8")
    except PoFileError as exc:
        raise BookletError(f"{path}:{exc.lineno + 1}: not a valid PO file: {exc.args[0]}; "
                           "open it in a PO editor (Poedit) or fix that line") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise BookletError(f"{path}: cannot read the catalog ({exc}); save it as UTF-8 "
                           "PO, for example with Poedit") from None


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
        catalog.update(template, no_fuzzy_matching=False, update_header_comment=False)
        # Babel keeps the old version; the handout's version is what the PO describes.
        catalog.project, catalog.version = project.slug, project.version
        written.append(write_atomic(path, _po_bytes(catalog)))
    return written


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
                "problems": list(self.problems)}


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
        problems = tuple(validate_catalog(template, catalog, path)) if catalog else ()
        if stale and not review:
            facts = {"approved_by": stale.approved_by, "approved_on": stale.approved_on}
            state = "draft (approval out of date)"
        result.append(LanguageStatus(language, path if catalog is not None else None, total,
                                     outdated=outdated, review=state, problems=problems,
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
MARKUP = re.compile(r"\]\([^)]*\)|\[\^[^\]]*\]|\]\[[^\]]*\]|<[^>]*>|\{\w*\}")
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


def parity_problems(source: str, translation: str) -> list[str]:
    """Say how a translation breaks the English markup or changes its numbers."""
    problems = []
    english, translated = _emphasis_counts(source), _emphasis_counts(translation)
    for marker, count in translated.items():
        if count % 2:
            problems.append(f"unbalanced emphasis: {count} {marker} markers (an odd count)")
        elif count != english[marker]:
            problems.append(f"emphasis differs from the English: {count} {marker} markers, "
                            f"the English has {english[marker]}")
    for pattern, what in ((LINK_TARGET, "link target"), (REFERENCE, "link reference"),
                          (FOOTNOTE_REF, "footnote reference")):
        want, have = pattern.findall(source), pattern.findall(translation)
        for item in sorted(set(want) - set(have)):
            problems.append(f"{what} {item!r} of the English is missing")
        for item in sorted(set(have) - set(want)):
            problems.append(f"{what} {item!r} is not in the English")
    new_tags = {t.lower() for t in HTML_TAG.findall(translation)} - \
        {t.lower() for t in HTML_TAG.findall(source)}
    for tag in sorted(new_tags):
        problems.append(f"raw HTML <{tag}> is not in the English; write Markdown instead")
    # Numbers of the reader's text only: not a link target or a footnote label.
    english_numbers = number_values(MARKUP.sub(" ", source))
    translated_numbers = number_values(MARKUP.sub(" ", translation))
    missing = sorted(english_numbers - translated_numbers, key=float)
    if missing:
        problems.append(f"number{'s' if len(missing) > 1 else ''} {', '.join(missing)} of "
                        "the English missing (a dose, a percent or a count must not change)")
    added = sorted(translated_numbers - english_numbers, key=float)
    if added:
        problems.append(f"number{'s' if len(added) > 1 else ''} {', '.join(added)} not in "
                        "the English (a dose, a percent or a count must not change)")
    return problems


def _placeholder_problems(source: tuple[str, ...], strings: tuple[str, ...]) -> list[str]:
    allowed = {name for text in source for name in BRACE_FIELD.findall(text)}
    problems = []
    for index, text in enumerate(strings):
        found = set(BRACE_FIELD.findall(text))
        for name in sorted(found - allowed):
            problems.append(f"placeholder {{{name}}} is not in the English (allowed: "
                            f"{', '.join('{' + n + '}' for n in sorted(allowed)) or 'none'})")
        if len(strings) == 1:
            for name in sorted(allowed - found):
                problems.append(f"placeholder {{{name}}} of the English is missing")
        elif index == len(strings) - 1 and "n" in allowed and "n" not in found:
            problems.append("placeholder {n} is missing from the last plural form")
    return problems


def validate_message(message, path: Path, english_at: str = "") -> list[str]:
    """Problems of one translated message, each as 'PO file:line: what (English at)'."""
    source = message.id if isinstance(message.id, tuple) else (message.id,)
    strings = tuple(message.string) if isinstance(message.string, (list, tuple)) else \
        (message.string,)
    problems = _placeholder_problems(source, strings)
    if len(source) == 1:
        problems += parity_problems(source[0], strings[0])
    where = english_at or ", ".join(f"{f}:{n}" for f, n in message.locations[:1])
    return [f"{path}:{message.lineno or 1}: {problem} (English at {where})"
            for problem in problems]


def validate_catalog(template, catalog, path: Path) -> list[str]:
    """Check every translated, non-fuzzy message that the current English still uses."""
    problems: list[str] = []
    for entry in template:
        if not entry.id:
            continue
        message = catalog.get(entry.id, entry.context)
        if _message_state(message) == "translated":
            english_at = ", ".join(f"{f}:{n}" for f, n in entry.locations[:1])
            problems += validate_message(message, path, english_at)
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
class Localization:
    """What the build needs to produce one language's edition."""

    language: str
    translate_chapter: Callable[[Path, str], str] | None
    translate: Callable[[str], str]
    translations: gettext.NullTranslations
    text: dict
    catalog: Path | None = None
    fallbacks: tuple[Fallback, ...] = ()
    catalog_exists: bool = False

    def finish(self, html: str) -> str:
        """Last touch on the rendered HTML: bidi isolation for right-to-left scripts."""
        from booklet.render import is_rtl

        return isolate_ltr_runs(html) if is_rtl(self.language) else html

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


def gnu_translations(messages: dict, language: str) -> gettext.GNUTranslations:
    """A standard gettext object (gettext, ngettext, plural rules) from checked messages."""
    import io

    from babel.messages.catalog import Catalog
    from babel.messages.mofile import write_mo

    catalog = Catalog(locale=babel_locale_name(language), charset="utf-8", fuzzy=False)
    for msgid, string in messages.items():
        catalog.add(msgid, string)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


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
            found = validate_message(message, path, english_at)
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
            "its msgstr to show the English until it is fixed.")
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

    def translate_chapter(_path: Path, text: str) -> str:
        return translate_markdown(text, lambda block: lookup(block.text,
                                                             block.kind != "title"))

    def translate(text: str) -> str:
        return lookup(text, True, TABLE_CONTEXT)

    texts: dict = {}
    for key, value in (("title", project.title), ("subtitle", project.subtitle),
                       ("disclaimer", project.disclaimer),
                       ("disclaimer_short", project.disclaimer_short)):
        if value:
            texts[key] = lookup(value, False)
    if project.sources:
        texts["sources"] = [lookup(s, False) for s in project.sources]
    translations = gnu_translations({msgid: string for (context, msgid), string
                                     in usable.items() if context is None}, language)
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


def isolate_ltr_runs(html: str) -> str:
    """Wrap Latin words and numbers of a right-to-left edition in Unicode isolates.

    WeasyPrint hands each text run to Pango, whose bidi algorithm then orders a
    phone number ("+1 555 0100"), a range ("30-40%") or an address digit by
    digit group from the right. Isolating each run (LRI … PDI, which Pango
    honours) prints it as one left-to-right unit inside the Arabic sentence,
    as browsers do for isolated text.
    """
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
            out.append(LTR_RUN.sub(lambda m: f"{LRI}{m.group(0)}{PDI}", part))
    return "".join(out)
