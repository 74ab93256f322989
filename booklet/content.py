"""Content stage: chapters (front matter + Markdown) and data tables into safe HTML.

Markdown goes through Python-Markdown and then nh3, so raw HTML in a chapter or
a translation can never smuggle in a script. Images must live inside the
project: a remote or outside file is refused with the chapter and line.
Data tables (``chapters/NAME.toml``) are placed by a ``::: table NAME`` line.
The same parse names each translatable block for booklet.i18n (``chapter_blocks``)
and, for a translated edition, replaces each block's text before inline Markdown
is read (``Segmenting``): there is one Markdown reader, not two.
"""

from __future__ import annotations

import functools
import html
import re
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from booklet.core import WARNING, BookletError, Problem
from booklet.files import read_text
from booklet.project import Project

# Record-form column options (chapters/NAME.toml [[columns]] width and unit).
COLUMN_WIDTHS = ("narrow", "wide")
COLUMN_UNITS = ("temperature",)
CHAPTER_FILE = re.compile(r"^(\d+)-([a-z0-9-]+)\.md$")
DIRECTIVE = re.compile(r"^:::\s*(\w+)\s*(.*?)\s*$")
FRONT_MATTER_KEYS = {"title", "id"}

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "hr", "i", "img", "li", "ol", "p",
    "section", "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "lang", "dir", "title"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "scope", "data-label"},
    "th": {"colspan", "rowspan", "scope", "data-label"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    nowrap: bool = False
    is_list: bool = False
    width: str = ""  # record forms: "narrow" (a number) or "wide" (words); else shared
    unit: str = ""  # "temperature": the header names the project's unit, "Temperature (°C)"


@dataclass(frozen=True)
class Table:
    """A data table: the regimen table, or a record form with blank rows to fill in."""

    name: str
    path: Path
    columns: tuple[Column, ...]
    rows: tuple[dict[str, str], ...]
    caption: str = ""
    source: str = ""
    blank_rows: int = 0


@dataclass(frozen=True)
class Chapter:
    path: Path
    slug: str
    title: str
    html: str
    text: str  # the Markdown body actually rendered (after translation)


def chapter_files(project: Project) -> list[Path]:
    """List chapters/NN-slug.md in file-name order; refuse misnamed Markdown files."""
    folder = project.chapters_dir
    if not folder.is_dir():
        raise BookletError(f"{folder}: no chapters folder. Create it and add files named "
                           "like 01-introduction.md")
    files = sorted(folder.glob("*.md"))
    for path in files:
        if not CHAPTER_FILE.match(path.name):
            raise BookletError(f"{path}: chapter file names must look like "
                               "NN-slug.md (digits, hyphen, lowercase words), e.g. "
                               "01-what-is-ankl.md; rename the file")
    if not files:
        raise BookletError(f"{folder}: no chapters found; add a file like 01-introduction.md")
    return files


def split_front_matter(path: Path, text: str) -> tuple[dict[str, str], str, int]:
    """Return (front matter, body, line number where the body starts).

    Front matter is the YAML subset editors show: ``key: value`` lines between
    two ``---`` lines. Only plain strings, so no YAML library is needed.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise BookletError(f"{path}:1: a chapter starts with front matter: a line '---', "
                           "then 'title: ...', then '---'")
    closing = next((i for i, line in enumerate(lines[1:], start=1) if line.strip() == "---"),
                   None)
    if closing is None:
        raise BookletError(f"{path}:1: front matter is not closed; add a line '---' "
                           "after the title")
    meta: dict[str, str] = {}
    for number, line in enumerate(lines[1:closing], start=2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        key = key.strip()
        if not sep or not key:
            raise BookletError(f"{path}:{number}: front matter lines look like "
                               f"'title: Some title'; got {line!r}")
        if key not in FRONT_MATTER_KEYS:
            raise BookletError(f"{path}:{number}: unknown front matter key {key!r}; "
                               f"allowed: {', '.join(sorted(FRONT_MATTER_KEYS))}")
        meta[key] = value.strip().strip('"').strip("'")
    if not meta.get("title"):
        raise BookletError(f"{path}:1: front matter has no title; add 'title: ...'")
    return meta, "\n".join(lines[closing + 1:]), closing + 2


def load_table(project: Project, name: str, where: str) -> Table:
    """Read chapters/NAME.toml; ``where`` (chapter:line) names the marker that asked."""
    path = project.chapters_dir / f"{name}.toml"
    if not path.is_file():
        raise BookletError(f"{where}: '::: table {name}' but {path} does not exist; "
                           f"create it or fix the name")
    try:
        raw = tomllib.loads(read_text(path))
    except tomllib.TOMLDecodeError as exc:
        raise BookletError(f"{path}: not valid TOML: {exc}; fix that line") from None
    problems = []
    columns = []
    columns_raw = raw.get("columns", [])
    if not isinstance(columns_raw, list):
        problems.append(f"columns: got {columns_raw!r}; expected [[columns]] tables")
        columns_raw = []
    for index, col in enumerate(columns_raw):
        if not isinstance(col, dict) or not isinstance(col.get("key"), str) \
                or not isinstance(col.get("label"), str):
            problems.append(f"columns[{index}]: needs key = \"...\" and label = \"...\"")
            continue
        flags = [k for k in ("nowrap", "list") if not isinstance(col.get(k, False), bool)]
        if flags:
            problems.append(f"columns[{index}]: {', '.join(flags)} must be true or false")
        for key, allowed in (("width", COLUMN_WIDTHS), ("unit", COLUMN_UNITS)):
            if col.get(key, "") not in ("", *allowed):
                problems.append(f"columns[{index}]: {key} = {col[key]!r}; allowed: "
                                + ", ".join(f'"{a}"' for a in allowed))
        columns.append(Column(col["key"], col["label"], bool(col.get("nowrap")),
                              bool(col.get("list")), str(col.get("width", "")),
                              str(col.get("unit", ""))))
    if not columns:
        problems.append("columns: a table needs at least one [[columns]] entry with key "
                        "and label")
    keys = {c.key for c in columns}
    rows = []
    rows_raw = raw.get("rows", [])
    if not isinstance(rows_raw, list):
        problems.append(f"rows: got {rows_raw!r}; expected [[rows]] tables")
        rows_raw = []
    for index, row in enumerate(rows_raw):
        if not isinstance(row, dict):
            problems.append(f"rows[{index}]: got {row!r}; each row is a [[rows]] table with "
                            "one quoted string per column, like plan = \"...\"")
            continue
        unknown = set(row) - keys
        missing = keys - set(row)
        if unknown:
            problems.append(f"rows[{index}]: unknown column {sorted(unknown)}; columns are "
                            f"{sorted(keys)}")
        if missing:
            problems.append(f"rows[{index}]: missing {sorted(missing)}; write \"\" for an "
                            "empty cell")
        bad = [k for k, v in row.items() if not isinstance(v, str)]
        if bad:
            problems.append(f"rows[{index}]: {bad} must be quoted strings")
        rows.append({k: str(v) for k, v in row.items()})
    blank_rows = raw.get("blank_rows", 0)
    if isinstance(blank_rows, bool) or not isinstance(blank_rows, int) \
            or not 0 <= blank_rows <= 60:
        problems.append(f"blank_rows: got {blank_rows!r}; expected a whole number 0-60")
        blank_rows = 0
    for key in ("caption", "source"):
        if not isinstance(raw.get(key, ""), str):
            problems.append(f"{key}: got {raw[key]!r}; expected a quoted string")
    if problems:
        raise BookletError(f"{path}: " + f"\n{path}: ".join(problems))
    return Table(name, path, tuple(columns), tuple(rows), str(raw.get("caption", "")),
                 str(raw.get("source", "")), blank_rows)


def table_files(project: Project) -> list[Path]:
    return sorted(project.chapters_dir.glob("*.toml"))


Translate = Callable[[str], str]


def unchanged(text: str) -> str:
    """The translation of the source language: the text itself."""
    return text


def sanitize(fragment: str) -> str:
    """Strip anything that is not plain document markup (scripts, styles, handlers)."""
    import nh3

    return nh3.clean(fragment, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes=URL_SCHEMES, link_rel=None, strip_comments=True)


def _smarty_quotes(language: str) -> dict[str, str]:
    """Quote marks are a language fact (booklet.language), as the :lang() CSS is."""
    from booklet.language import language as language_of

    try:
        return language_of(language).smarty_quotes
    except BookletError:  # a tag Babel does not know: the project check names it
        return language_of("en").smarty_quotes


def _markdown(language: str, slug: str | Callable[[], str], *extra):
    """A Markdown with the theme's extensions; ``slug`` (or a function that gives the
    current one) prefixes heading ids, so chapters never share an id."""
    import markdown
    from markdown.extensions.toc import slugify_unicode

    prefix = slug if callable(slug) else (lambda: slug)
    quotes = _smarty_quotes(language)
    return markdown.Markdown(
        extensions=["tables", "attr_list", "def_list", "footnotes", "admonition",
                    "smarty", "toc", "sane_lists", *extra],
        extension_configs={
            "smarty": {"substitutions": quotes},
            "toc": {"slugify": lambda value, sep: f"{prefix()}-{slugify_unicode(value, sep)}",
                    "toc_depth": "2-3"},
            "footnotes": {"UNIQUE_IDS": True},
        },
        output_format="html",
    )


def _web_links_only():
    """Extension for table cells and captions: a link may only go to the web, mail or phone.

    The place it reports is ``md.booklet_where``, set before each conversion, so
    one Markdown instance serves every cell; an empty place checks nothing.
    """
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class WebLinks(Treeprocessor):
        def run(self, root) -> None:
            where = getattr(self.md, "booklet_where", "")
            if not where:
                return
            for element in root.iter("a"):
                href = (element.get("href") or "").strip()
                if not (href.startswith("#") or urlsplit(href).scheme.lower() in LINK_SCHEMES):
                    raise BookletError(f"{where}: link {href!r} in a table: only web addresses "
                                       "(https://...), mailto: and tel: links are allowed here")

    class WebLinksExtension(Extension):
        def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
            md.treeprocessors.register(WebLinks(md), "booklet-web-links", 1)

    return WebLinksExtension()


@functools.lru_cache(maxsize=32)
def _inline_markdown_instance(language: str, thread: int):
    """One Markdown per language and thread, reset between cells: building one costs
    about three times converting a cell. A cell or caption is one line of text, so it
    takes only what a line can use (emphasis, links, quotes, attributes); headings'
    ids, footnotes, boxes and lists would run on every cell for nothing."""
    import markdown

    return markdown.Markdown(extensions=["attr_list", "smarty", _web_links_only()],
                             extension_configs={"smarty": {
                                 "substitutions": _smarty_quotes(language)}},
                             output_format="html")


def inline_markdown(text: str, language: str, where: str = "") -> str:
    """Render one line of Markdown (a table cell, a caption) to sanitized inline HTML."""
    md = _inline_markdown_instance(language, threading.get_ident())
    md.booklet_where = where
    rendered = md.reset().convert(text).strip()
    rendered = re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.S)
    return sanitize(rendered)


def _head_words(label: str, language: str) -> str:
    """A column head in Chinese or Japanese as words that never break inside
    (``<span class="word">``): the line breaks between them, never in mid-word."""
    from booklet.language import CJK_SCRIPTS, unbreakable_words
    from booklet.language import language as language_of

    try:
        cjk = language_of(language).script in CJK_SCRIPTS
    except BookletError:
        return label
    if not cjk or "<" in label:
        return label
    # A zero-width space between the words is the line's only break opportunity.
    return "\u200b".join(f'<span class="word">{html.escape(word, quote=False)}</span>'
                          for word in unbreakable_words(html.unescape(label), language))


def unit_label(label: str, symbol: str, language: str) -> str:
    """"Temperature (°C)": the unit in brackets, full-width ones in Chinese and Japanese."""
    from booklet.language import language as language_of
    from booklet.language import primary

    if primary(language) in ("zh", "ja"):
        return f"{label}\uff08{symbol}\uff09"
    if language_of(language).rtl:  # isolated, or a right-to-left line shows "(F°)"
        symbol = f"\u2066{symbol}\u2069"
    return f"{label} ({symbol})"


def _table_html(table: Table, translate: Translate, language: str,
                temperature_unit: str = "C") -> str:
    from booklet.project import TEMPERATURE_UNITS

    kind = "record-form" if table.blank_rows else "data-table"
    if table.blank_rows:  # a form's words have their own msgctxt (booklet.i18n)
        translate = getattr(translate, "form", translate)
    where = str(table.path)
    out = [f'<figure class="table-figure {kind}" id="table-{table.name}">']
    out.append(f'<table class="{kind}">')
    if table.caption:
        caption = inline_markdown(translate(table.caption), language, where)
        out.append(f"<caption>{caption}</caption>")
    out.append("<thead><tr>")
    labels = {}
    for col in table.columns:
        label = inline_markdown(translate(col.label), language, where)
        if col.unit == "temperature":
            label = unit_label(label, TEMPERATURE_UNITS[temperature_unit], language)
        # Plain text of the header, for layouts that put it beside each cell
        # (large print stacks each row as "label: value" lines).
        labels[col.key] = html.escape(html.unescape(re.sub(r"<[^>]*>", "", label)))
        width = f" width-{col.width}" if col.width else ""
        out.append(f'<th scope="col" class="col-{col.key}{width}">'
                   f'{_head_words(label, language)}</th>')
    out.append("</tr></thead><tbody>")
    for row in table.rows:
        out.append("<tr>")
        for index, col in enumerate(table.columns):
            value = row.get(col.key, "")
            if col.is_list:
                items = [i.strip() for i in value.split(",") if i.strip()]
                from booklet.language import language as language_of

                separator = language_of(language).list_separator
                cell = separator.join(
                    f'<span class="nobreak">{inline_markdown(translate(i), language, where)}</span>'
                    for i in items)
            else:
                cell = inline_markdown(translate(value), language, where) if value else ""
            tag, scope = ("th", ' scope="row"') if index == 0 else ("td", "")
            nowrap = " nobreak" if col.nowrap else ""
            out.append(f'<{tag}{scope} class="col-{col.key}{nowrap}" '
                       f'data-label="{labels[col.key]}">{cell}</{tag}>')
        out.append("</tr>")
    for _ in range(table.blank_rows):
        out.append("<tr>" + "".join(f'<td class="col-{c.key}" data-label="{labels[c.key]}">'
                                    "&#160;</td>" for c in table.columns) + "</tr>")
    out.append("</tbody></table>")
    if table.source:
        out.append(f'<figcaption class="table-source">'
                   f"{inline_markdown(translate(table.source), language, where)}</figcaption>")
    out.append("</figure>")
    return "".join(out)


def _directive_html(project: Project, name: str, arg: str, where: str,
                    translate: Translate, language: str) -> str:
    if name == "table":
        if not re.fullmatch(r"[a-z0-9-]+", arg):
            raise BookletError(f"{where}: '::: table' needs a table name like "
                               "'::: table regimens' (chapters/regimens.toml)")
        return _table_html(load_table(project, arg, where), translate, language,
                           project.clinic.temperature_unit)
    if name == "lines":
        count = int(arg) if arg.isdigit() else 0
        if not 1 <= count <= 40:
            raise BookletError(f"{where}: '::: lines N' needs a number of writing lines "
                               f"from 1 to 40; got {arg!r}")
        return '<div class="writing-lines">' + '<div class="line"></div>' * count + "</div>"
    if name == "newpage":
        # Named (file stem and line), so the preflight can tell an author's page
        # break from one the layout made when it names the cause of a short page.
        source, _, line = where.rpartition(":")
        return f'<div class="page-break" id="newpage-{Path(source).stem}-{line}"></div>'
    raise BookletError(f"{where}: unknown directive '::: {name}'; allowed: "
                       "'::: table NAME', '::: lines N', '::: newpage'")


LINK_SCHEMES = {"http", "https", "mailto", "tel"}
# "- [ ] item": a box to tick by hand (GitHub's task-list syntax, so editors preview it).
TASK_MARKER = re.compile(r"^\[ \][ \t]+")
TICK_BOX = '<span class="tick-box"></span>'
# Scripts written without spaces between words (besides CJK): nothing to bind.
UNSPACED_SCRIPTS = {"Thai", "Laoo", "Khmr", "Mymr", "Tibt"}


def _line_of(source: str, needle: str, first_line: int) -> int:
    """The line of the Markdown source that holds needle, as written or entity-encoded."""
    for offset, line in enumerate(source.split("\n")):
        if needle in line or needle in html.unescape(line):
            return first_line + offset
    return first_line


MAX_NESTING = 12
_NESTED_LINE = re.compile(r"^((?:[ \t]*>)*)([ \t]*)(?:[-*+]|\d+[.)])?")


def _check_nesting(path: Path, body: str, first_line: int) -> None:
    """Refuse lists and quotes nested deeper than any reader follows.

    Markdown and WeasyPrint both recurse per level; hundreds of levels end in a
    RecursionError deep inside them, so stop here with the chapter and line.
    """
    for offset, line in enumerate(body.split("\n")):
        quotes, indent = _NESTED_LINE.match(line).group(1, 2)
        depth = quotes.count(">") + len(indent.expandtabs(4)) // 4
        if depth > MAX_NESTING:
            raise BookletError(f"{path}:{first_line + offset}: lists or quotes nested "
                               f"{depth} levels deep (at most {MAX_NESTING}); flatten the "
                               "list or split it into several")


def _anchor(meta: dict[str, str], path: Path) -> str:
    """The id a chapter's section gets: its front matter id, or the slug of its file name."""
    return meta.get("id") or CHAPTER_FILE.match(path.name).group(2)


def chapter_anchor(path: Path) -> str:
    meta, _, _ = split_front_matter(path, read_text(path))
    return _anchor(meta, path)


@dataclass
class _Context:
    """Where the Markdown being rendered comes from, for messages and relative paths."""

    project: Project
    path: Path
    body: str
    first_line: int
    translate: Translate
    language: str
    strict: bool
    warnings: list[str]
    directive_lines: list[int]
    own_stash: set[int]
    page_breaks: set[str] = field(default_factory=set)  # placeholders of ::: newpage

    def where(self, needle: str) -> str:
        return f"{self.path}:{_line_of(self.body, needle, self.first_line)}"


def _check_link(href: str, context: _Context, raw: bool = False) -> str:
    """Return the href a link keeps in the PDF, or refuse it with chapter:line.

    Writers link chapters as their Markdown editor previews them
    (``[records](10-my-records.md)``); in the handout that is a page of the
    same PDF. A link to any other local file would be dead once the PDF is
    emailed, and file:, javascript: or data: links must never reach a reader.
    """
    parts = urlsplit(href)
    if href.startswith("#") or parts.scheme.lower() in LINK_SCHEMES:
        return href
    where = context.where(href)
    if parts.scheme or href.startswith("//"):
        raise BookletError(f"{where}: link {href!r} uses '{parts.scheme or '//'}'; a handout "
                           "can link to web addresses (https://...), email (mailto:), phone "
                           "numbers (tel:) and its own chapters only")
    if raw:
        raise BookletError(f"{where}: raw HTML link {href!r}: write chapter links as "
                           "Markdown, [text](NN-slug.md)")
    target = (context.path.parent / unquote(parts.path)).resolve()
    if target.parent == context.path.parent.resolve() and CHAPTER_FILE.match(target.name) \
            and target.is_file():
        anchor = chapter_anchor(target)
        return f"#{anchor}-{parts.fragment}" if parts.fragment else f"#{anchor}"
    raise BookletError(f"{where}: link {href!r} is not a "
                       "chapter (NN-slug.md) of this handout; a handout can link to its "
                       "chapters or to web addresses (https://...), not to local files")


def _check_image(src: str, context: _Context) -> str | None:
    """Return the image's path relative to the project, or None (left out of a draft)."""
    where = context.where(src)
    parts = urlsplit(src)
    project = context.project
    if parts.scheme in ("http", "https", "ftp") or src.startswith("//"):
        raise BookletError(f"{where}: remote image {src!r} is not allowed (handouts "
                           "are built offline and must not track readers); download "
                           "it into assets/ and link it relatively")
    if parts.scheme == "file":
        target = Path(unquote(parts.path)).resolve()
    elif parts.scheme:
        raise BookletError(f"{where}: image {src!r} uses '{parts.scheme}:'; only files "
                           "inside the project are allowed")
    else:
        target = (context.path.parent / unquote(parts.path)).resolve()
    root = project.root.resolve()
    if not target.is_relative_to(root):
        raise BookletError(f"{where}: image {src!r} is outside the project folder "
                           f"{project.root}; copy it into assets/")
    if not target.is_file():
        message = f"{where}: image {src!r} not found ({target})"
        if context.strict:
            raise BookletError(message + "; add the file or fix the path")
        context.warnings.append(Problem("image-missing", WARNING, message,
                                        hint="left out of this draft build; add the file "
                                        "or fix the path"))
        return None
    # Relative to the project, which is the HTML's base URL.
    return quote(target.relative_to(root).as_posix())


def _raw_html_references(fragment: str) -> list[tuple[str, str]]:
    """(tag, URL) of every a href and img src in raw HTML, read by a real HTML parser."""
    from html.parser import HTMLParser

    found: list[tuple[str, str]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            for name, value in attrs:
                if value and (tag, name) in (("a", "href"), ("img", "src"), ("area", "href")):
                    found.append((tag, value.strip()))

    Collector(convert_charrefs=True).feed(fragment)
    return found


def _extension(context: _Context):
    """Python-Markdown extension: ::: directives as a block processor, links and
    images checked and rewritten by a tree processor. No placeholder can leak and
    no regular expression edits the HTML afterwards."""
    import xml.etree.ElementTree as etree

    from markdown.blockprocessors import BlockProcessor
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class DirectiveProcessor(BlockProcessor):
        """``::: table NAME``, ``::: lines N``, ``::: newpage`` on a line of their own."""

        RE = re.compile(r"^:::[ \t]*(\w+)[ \t]*(.*?)[ \t]*$", re.M)

        def test(self, parent, block) -> bool:
            return bool(self.RE.search(block))

        def run(self, parent, blocks) -> None:
            block = blocks.pop(0)
            match = self.RE.search(block)
            before, after = block[:match.start()], block[match.end():]
            if before.strip():
                self.parser.parseBlocks(parent, [before])
            line = context.directive_lines.pop(0) if context.directive_lines else \
                _line_of(context.body, match.group(0), context.first_line)
            fragment = _directive_html(context.project, match.group(1), match.group(2),
                                       f"{context.path}:{line}", context.translate,
                                       context.language)
            stash = self.parser.md.htmlStash
            context.own_stash.add(stash.html_counter)
            if 'class="table-figure record-form"' in fragment:
                parent = _form_page(parent)
            element = etree.SubElement(parent, "p")
            element.text = stash.store(fragment)
            if match.group(1) == "newpage":
                context.page_breaks.add(element.text)
            if after.strip("\n"):
                blocks.insert(0, after.lstrip("\n"))

    def _form_page(parent):
        """Gather a record form with its heading and instructions in one <section>.

        The form page is one unit: it keeps together on one page, and large
        print turns it sideways (a landscape named page) so the columns stay
        wide enough to write in at 18 pt. It starts at the ``::: newpage`` or
        heading before the form; the section is the element the form goes in.
        """
        children = list(parent)
        start = len(children)
        for index in range(len(children) - 1, -1, -1):
            child = children[index]
            if child.tag == "section" or (child.text or "") in context.page_breaks:
                start = index + (child.tag == "section")
                break
            if child.tag in ("h2", "h3"):
                start = index
                if index and (children[index - 1].text or "") in context.page_breaks:
                    start = index - 1
                break
        section = etree.SubElement(parent, "section", {"class": "form-page"})
        for child in children[start:]:
            parent.remove(child)
            section.append(child)
        return section

    class LinkProcessor(Treeprocessor):
        """Check every link and image; drop footnote back-arrows (useless on paper)."""

        def run(self, root) -> None:
            for parent in list(root.iter()):
                for child in list(parent):
                    if child.tag == "a" and "footnote-backref" in (child.get("class") or ""):
                        _remove(parent, child)
            for element in list(root.iter("a")):
                href = element.get("href")
                if href is not None:
                    element.set("href", _check_link(href.strip(), context))
            for parent in list(root.iter()):
                for child in list(parent):
                    if child.tag == "img":
                        src = _check_image((child.get("src") or "").strip(), context)
                        if src is None:
                            _remove(parent, child)
                        else:
                            child.set("src", src)
            stash = self.md.htmlStash
            for index, raw in enumerate(stash.rawHtmlBlocks):
                if index in context.own_stash:
                    continue
                for tag, url in _raw_html_references(str(raw)):
                    if tag == "img":
                        if urlsplit(url).scheme or url.startswith("//"):
                            _check_image(url, context)
                    else:
                        _check_link(url, context, raw=True)

    class LastWordsProcessor(Treeprocessor):
        """Bind a paragraph's last two words with a no-break space, so no body
        paragraph ends in a line of one word. Only in scripts written with spaces,
        only in the paragraph's own text (never in a link, or across a number
        and its unit), and only for two short words (a line still has room)."""

        LAST_TWO = re.compile(r"(?<!\S)([^\s\d]{1,12}) ([^\s\d]{1,12}\s*)$")

        def run(self, root) -> None:
            from booklet.language import CJK_SCRIPTS
            from booklet.language import language as language_of

            try:
                script = language_of(context.language).script
            except BookletError:
                return
            if script in CJK_SCRIPTS | UNSPACED_SCRIPTS:
                return
            for element in root.iter():
                if element.tag not in ("p", "dd") or element.get("class"):
                    continue
                # Into emphasis or a span that ends the paragraph, never into a link.
                while (len(element) and element[-1].tag in ("span", "em", "strong")
                       and not (element[-1].tail or "").strip()):
                    element = element[-1]
                children = list(element)
                if children:
                    last = children[-1]
                    if last.tail and last.tail.strip():
                        last.tail = self.LAST_TWO.sub("\\1\u00a0\\2", last.tail)
                elif element.text:
                    element.text = self.LAST_TWO.sub("\\1\u00a0\\2", element.text)

    def _remove(parent, child) -> None:
        """Remove an element, and the spaces that led up to it."""
        index = list(parent).index(child)
        if index:
            previous = parent[index - 1]
            previous.tail = (previous.tail or "").rstrip(" \u00a0\n")
        else:
            parent.text = (parent.text or "").rstrip(" \u00a0\n")
        if child.tail:
            if index:
                parent[index - 1].tail = (parent[index - 1].tail or "") + child.tail
            else:
                parent.text = (parent.text or "") + child.tail
        parent.remove(child)

    class TaskListProcessor(Treeprocessor):
        """``- [ ] item``: a list the reader ticks off with a pen gets an empty box per item.

        Runs on the block parse, before segments are named, so the ``[ ] `` is
        structure and never part of the text a translator sees.
        """

        def run(self, root) -> None:
            for parent in root.iter():
                if parent.tag not in ("ul", "ol"):
                    continue
                items = [li for li in parent if li.tag == "li"]
                ticked = [li for li in items if _strip_task_marker(li)]
                if ticked and len(ticked) == len(items):
                    parent.set("class", " ".join(filter(None, (parent.get("class"),
                                                               "task-list"))))

    class TickBoxProcessor(Treeprocessor):
        """Put the box in front of each task item's text, once inline Markdown is read.

        The box is a placeholder span here; the render stage draws it as the
        theme's checkbox image with translated alt text (tagged PDF: a Figure).
        """

        def run(self, root) -> None:
            for item in root.iter("li"):
                if "task" not in (item.get("class") or "").split():
                    continue
                holder = _text_holder(item)
                box = etree.Element("span", {"class": "tick-box"})
                box.tail, holder.text = holder.text, None
                holder.insert(0, box)

    def _text_holder(item):
        """The element whose text opens a list item: the item, or its first paragraph."""
        if len(item) and item[0].tag == "p" and not (item.text or "").strip():
            return item[0]
        return item

    def _strip_task_marker(item) -> bool:
        """Turn a list item opening with "[ ] " into a task item; say whether it was one."""
        holder = _text_holder(item)
        text = holder.text or ""
        match = TASK_MARKER.match(text.lstrip())
        if not match:
            return False
        holder.text = text.lstrip()[match.end():]
        item.set("class", " ".join(filter(None, (item.get("class"), "task"))))
        return True

    class BookletExtension(Extension):
        def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
            md.parser.blockprocessors.register(DirectiveProcessor(md.parser), "directive", 106)
            md.treeprocessors.register(LinkProcessor(md), "booklet-links", 1)
            md.treeprocessors.register(TaskListProcessor(md), "booklet-tasks", 35)
            md.treeprocessors.register(TickBoxProcessor(md), "booklet-tick-boxes", 2)
            md.treeprocessors.register(LastWordsProcessor(md), "booklet-last-words", 0.5)

    return BookletExtension()


def _directive_lines(body: str, first_line: int) -> list[int]:
    """Line numbers of the ::: directives in a body, in order, for messages."""
    return [first_line + index for index, line in enumerate(body.split("\n"))
            if DIRECTIVE.match(line)]


def render_markdown(project: Project, path: Path, body: str, first_line: int, *,
                    slug: str, language: str, translate: Translate = unchanged,
                    strict: bool = False, warnings: list[str] | None = None,
                    segmenting: Segmenting | None = None) -> str:
    """Turn a chapter body into sanitized HTML with tables and forms placed; with
    ``segmenting``, name (extraction) or translate each block of the same parse."""
    warnings = [] if warnings is None else warnings
    _check_nesting(path, body, first_line)
    context = _Context(project, path, body, first_line, translate, language, strict,
                       warnings, _directive_lines(body, first_line), set())
    if segmenting is not None:  # extraction or translation: its own extension, own instance
        md = _markdown(language, slug, _extension(context),
                       _segments_extension(context, segmenting))
        return sanitize(md.convert(body))
    md, current = _chapter_markdown_instance(language, threading.get_ident())
    current.context, current.slug = context, slug
    try:
        return sanitize(_fresh(md).convert(body))
    finally:
        current.context = None


class _Current:
    """The chapter a reused Markdown converts now: its extension reads the context here."""

    def __init__(self) -> None:
        self.context: _Context | None = None
        self.slug = ""

    def __getattr__(self, name: str):
        return getattr(self.__dict__["context"], name)


@functools.lru_cache(maxsize=32)
def _chapter_markdown_instance(language: str, thread: int):
    """One chapter Markdown per language and thread, reset between chapters: building
    one with all its extensions costs more than converting a chapter."""
    current = _Current()
    md = _markdown(language, lambda: current.slug, _extension(current))
    # Footnote ids carry a counter that each reset() raises: note where a new instance starts.
    md.booklet_counters = [(extension, extension.unique_prefix)
                           for extension in md.registeredExtensions
                           if hasattr(extension, "unique_prefix")]
    return md, current


def _fresh(md):
    """Reset md as a new instance would be: footnote ids count from the same number."""
    for extension, start in md.booklet_counters:
        extension.unique_prefix = start - 1
    return md.reset()


def load_chapters(project: Project, language: str | None = None, *,
                  translate_chapter: Callable[[Path, str], str] | None = None,
                  translate: Translate = unchanged, strict: bool = False,
                  warnings: list[str] | None = None) -> list[Chapter]:
    """Read and render every chapter; ``translate_chapter`` (a ChapterTranslation)
    translates its title and each block of its parse."""
    language = language or project.source_language
    chapters = []
    segmenting = None
    if isinstance(translate_chapter, ChapterTranslation):
        segmenting = Segmenting(replace=translate_chapter.block,
                                sort_key=translate_chapter.sort_key)
    for path in chapter_files(project):
        text = read_text(path)
        if translate_chapter:
            text = translate_chapter(path, text)
        meta, body, first_line = split_front_matter(path, text)
        slug = _anchor(meta, path)
        fragment = render_markdown(project, path, body, first_line, slug=slug,
                                   language=language, translate=translate, strict=strict,
                                   warnings=warnings, segmenting=segmenting)
        chapters.append(Chapter(path, slug, meta["title"], fragment, body))
    return chapters


# Elements whose text is never turned into a glossary link: links already,
# headings, the terms themselves, and table headers and captions.
_NO_LINK_TAGS = {"a", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "th", "caption", "figcaption"}


def _glossary_terms(fragment: str, used_ids: set[str]) -> tuple[str, list[tuple[str, str]]]:
    """Give each <dt> an id; return the fragment and (term HTML, id) pairs.

    "EBV (Epstein-Barr virus)" is looked up as "EBV" and as "Epstein-Barr virus".
    """
    terms: list[tuple[str, str]] = []

    def name(match: re.Match) -> str:
        term = match.group(1)
        plain = html.unescape(re.sub(r"<[^>]*>", "", term))
        # Without the invisible bidi marks that wrap text shown in another direction.
        plain = re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", plain).strip()
        base = re.sub(r"[^\w]+", "-", plain.lower()).strip("-") or "term"
        anchor, n = f"glossary-{base}", 2
        while anchor in used_ids:
            anchor, n = f"glossary-{base}-{n}", n + 1
        used_ids.add(anchor)
        head, _, rest = plain.partition(" (")
        for word in (head, rest.rstrip(")") if rest else ""):
            if len(word.strip()) > 1:
                terms.append((html.escape(word.strip(), quote=False), anchor))
        return f'<dt id="{anchor}">{term}</dt>'

    return re.sub(r"<dt>(.*?)</dt>", name, fragment, flags=re.S), terms


def _term_pattern(term: str) -> re.Pattern:
    """Whole words for alphabetic scripts; CJK has no spaces to stop at."""
    before = r"(?<![\w-])" if re.match(r"[A-Za-z0-9]", term) else ""
    after = r"(?![\w-])" if re.search(r"[A-Za-z0-9]$", term) else ""
    # A paragraph's last two words are bound by a no-break space (LastWordsProcessor).
    words = re.escape(term).replace("\\ ", "[ \u00a0]")
    return re.compile(before + words + after, re.IGNORECASE)


def link_glossary(chapters: list[Chapter]) -> list[Chapter]:
    """Link the first use of each glossary term in every other chapter to its definition.

    For the screen edition, where a reader can click. A glossary is any
    definition list (``Term`` / ``:   definition``) in a chapter.
    """
    used: set[str] = set()
    glossaries: dict[int, str] = {}
    terms: list[tuple[str, str]] = []
    for index, chapter in enumerate(chapters):
        if "<dt>" in chapter.html:
            glossaries[index], found = _glossary_terms(chapter.html, used)
            terms.extend(found)
    if not terms:
        return chapters
    patterns = [(_term_pattern(term), anchor)
                for term, anchor in sorted(terms, key=lambda t: -len(t[0]))]
    linked = []
    for index, chapter in enumerate(chapters):
        if index in glossaries:
            linked.append(Chapter(chapter.path, chapter.slug, chapter.title,
                                  glossaries[index], chapter.text))
            continue
        remaining = list(patterns)
        out, depth = [], 0
        for piece in re.split(r"(<[^>]+>)", chapter.html):
            tag = re.match(r"<(/?)([a-zA-Z0-9]+)", piece)
            if tag:
                if tag.group(2).lower() in _NO_LINK_TAGS and not piece.endswith("/>"):
                    depth += -1 if tag.group(1) else 1
                out.append(piece)
                continue
            if depth or not piece.strip():
                out.append(piece)
                continue
            out.append(_link_first_uses(piece, remaining))
        linked.append(Chapter(chapter.path, chapter.slug, chapter.title, "".join(out),
                              chapter.text))
    return linked


def _link_first_uses(text: str, remaining: list[tuple[re.Pattern, str]]) -> str:
    """Wrap the first match of each remaining term in text; drop linked terms from remaining."""
    out = []
    while True:
        best = None
        for entry in remaining:
            match = entry[0].search(text)
            if match and (best is None or match.start() < best[0].start()):
                best = (match, entry)
        if best is None:
            out.append(text)
            return "".join(out)
        match, entry = best
        # One link per definition: "EBV" and "Epstein-Barr virus" share one.
        remaining[:] = [e for e in remaining if e[1] != entry[1]]
        out.append(text[:match.start()])
        out.append(f'<a class="glossary-link" href="#{entry[1]}">{match.group(0)}</a>')
        text = text[match.end():]


def locate_image_warnings(warnings: tuple[str, ...] | list[str],
                          chapters: list[Chapter]) -> list[str]:
    """Name the chapter and line of an image WeasyPrint could not draw, where one shows it."""
    located = []
    for warning in warnings:
        match = re.search(r"Failed to load image at '([^']+)'", warning)
        if match:
            name = unquote(match.group(1)).rsplit("/", 1)[-1]
            for chapter in chapters:
                lines = chapter.path.read_text(encoding="utf-8").split("\n")
                number = next((i for i, line in enumerate(lines, 1) if name in line), 0)
                if number:
                    warning = (f"{chapter.path}:{number}: image {match.group(1)!r} cannot be "
                               "drawn (a damaged, too large or unsafe file); replace it "
                               f"[{warning.rstrip(': ')}]")
                    break
        located.append(warning)
    return located


# ---------------------------------------------------------------------------
# Translatable blocks, from the parse that renders
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One translatable unit of a chapter: its inline Markdown and where it sits."""

    kind: str  # title, heading, paragraph, item, box-title, cell, term, definition, footnote
    text: str
    line: int  # 1-based line in the file where the block starts
    note: str = ""  # for the translator: the box or list the block belongs to
    box: str = ""  # the box type ("call", "keypoints") the block is in


@dataclass(frozen=True)
class Segmenting:
    """What the parse does with each translatable block.

    Extraction collects them (and refuses a block it cannot name); a
    translation replaces each block's text in the tree before inline Markdown
    is read, as Sphinx replaces translated nodes, so a translated page has
    exactly the English page's structure.
    """

    replace: Callable[[Block], str] | None = None
    collect: list[Block] | None = None
    sort_key: Callable[[str], object] | None = None  # glossary terms, translated


@dataclass(frozen=True)
class ChapterTranslation:
    """A chapter's translation: the front matter's title and each block of its parse."""

    title: Callable[[str], str]
    block: Callable[[Block], str]
    sort_key: Callable[[str], object] | None = None

    def __call__(self, path: Path, text: str) -> str:
        """The chapter's Markdown with its front matter title translated (the body's
        blocks are translated while it is parsed)."""
        lines = text.split("\n")
        for index in range(1, len(lines)):
            if lines[index].strip() == "---":
                break
            key, _, value = lines[index].partition(":")
            if key.strip() == "title":
                title = value.strip().strip('"').strip("'")
                lines[index] = f"title: {self.title(title)}"
        return "\n".join(lines)


# The end of a block's text that is not the reader's: an attribute list
# ({#id}, {: .class}) and Python-Markdown's placeholders (a footnote's back link).
_TEXT_TAIL = re.compile(r"(?:[ \t]*\n?[ \t]*\{:?[ ]*[^}\n ][^}\n]*\}[ \t]*|\x02[^\x03]*\x03)+$")
_PLACEHOLDER = re.compile(r"^\x02wzxhzdk:(\d+)\x03$")
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Leading Markdown markers of a source line, to find where a block's text starts.
_MARKERS = re.compile(r"^(?:\s*(?:[#>|:*+-]+|\d+[.)]|!!!\s+[\w-]+(?:\s+[\w-]+)*\s+\")\s*)*")


def _inline_text(raw: str) -> tuple[str, str]:
    """(the block's text on one line, the tail to keep after it)."""
    tail = _TEXT_TAIL.search(raw)
    body, tail = (raw[:tail.start()], tail.group(0)) if tail else (raw, "")
    return " ".join(line.strip() for line in body.split("\n")).strip(), tail


def _last_sentence(text: str) -> str:
    """The sentence a list completes: the paragraph's last one, when it ends with a colon."""
    if not text.rstrip().endswith((":", "\uff1a")):
        return ""
    return re.split(r"(?<=[.!?\u3002])\s+", text)[-1]


class _Segmenter:
    """Walk a parsed chapter (before inline Markdown), naming each block's text."""

    def __init__(self, context: _Context, segmenting: Segmenting, stash) -> None:
        self.context, self.segmenting, self.stash = context, segmenting, stash
        self.lines = context.body.split("\n")
        self.cursor = 0

    def line_of(self, text: str) -> int:
        """The source line where text starts: blocks come in document order."""
        needle = text[:40]
        for start in (self.cursor, 0):
            for test in (lambda line: line.strip().startswith(needle)
                         or _MARKERS.sub("", line, count=1).startswith(needle),
                         lambda line: needle in line):
                for index in range(start, len(self.lines)):
                    if test(self.lines[index]):
                        self.cursor = index
                        return self.context.first_line + index
        return self.context.first_line + self.cursor

    def text(self, element, kind: str, note: str = "", box: str = "") -> str:
        """Name the element's own text as a block; replace it when translating."""
        raw = element.text or ""
        text, tail = _inline_text(raw)
        if not text or _PLACEHOLDER.match(text):
            return text
        block = Block(kind, text, self.line_of(raw.strip().split("\n")[0]), note, box)
        if self.segmenting.collect is not None:
            self.segmenting.collect.append(block)
        if self.segmenting.replace is not None:
            element.text = self.segmenting.replace(block) + tail
        return text

    def raw_html(self, index: int, note: str, box: str) -> None:
        """A raw HTML block (kept aside by Python-Markdown): one segment, sanitized
        when rendered like the English."""
        raw = str(self.stash.rawHtmlBlocks[index])
        text = " ".join(line.strip() for line in raw.strip().split("\n"))
        if not text:
            return
        block = Block("html", text, self.line_of(raw.strip().split("\n")[0]), note, box)
        if self.segmenting.collect is not None:
            self.segmenting.collect.append(block)
        if self.segmenting.replace is not None:
            self.stash.rawHtmlBlocks[index] = self.segmenting.replace(block)

    def unknown(self, element) -> None:
        if self.segmenting.collect is None:
            return  # a translation leaves what it cannot name in the English
        import xml.etree.ElementTree as etree

        sample = element.text or "".join(element.itertext()) or \
            etree.tostring(element, encoding="unicode")
        what = f"a <{element.tag}> block"
        first = sample.strip().split("\n")[0]
        line = self.line_of(first) if first else self.context.first_line + self.cursor
        raise BookletError(
            f"{self.context.path}:{line}: {what} is not a block booklet can translate "
            "(headings, paragraphs, lists, boxes, tables, definition lists, footnotes, "
            "images, raw HTML and ::: directives are); write it as one of those")

    def walk(self, parent, note: str = "", box: str = "", item: str = "") -> None:
        """Name every block under parent; ``item`` is how a paragraph in a list item reads."""
        lead = ""
        for child in list(parent):
            tag, classes = child.tag, (child.get("class") or "").split()
            if tag in _HEADINGS:
                self.text(child, "heading", note, box)
                lead = ""
            elif tag == "p" and "admonition-title" in classes:
                continue  # named with its box
            elif tag == "p":
                stash = _PLACEHOLDER.match((child.text or "").strip())
                if stash and int(stash.group(1)) not in self.context.own_stash:
                    self.raw_html(int(stash.group(1)), note, box)
                    continue
                kind = item or "paragraph"
                text = self.text(child, kind, note, box)
                lead = _last_sentence(text) if kind == "paragraph" else ""
                item = ""  # a list item's later paragraphs are paragraphs of it
            elif tag == "div" and "admonition" in classes:
                title = next((p for p in child if p.tag == "p"
                              and "admonition-title" in (p.get("class") or "")), None)
                kind = classes[1] if len(classes) > 1 else ""
                name = self.text(title, "box-title", note, kind) if title is not None else ""
                self.walk(child, f'in the box "{name}"' if name else note, kind)
                lead = ""
            elif tag == "div" and "footnote" in classes:
                for entry in child.iter("li"):
                    self.walk(entry, "a footnote", box, "footnote")
            elif tag in ("ul", "ol"):
                self.list(child, note, box, lead)
                lead = ""
            elif tag == "dl":
                self.glossary(child, note, box)
            elif tag == "table":
                for cell in child.iter():
                    if cell.tag in ("th", "td"):
                        self.text(cell, "cell", note, box)
            elif tag == "blockquote" or (tag == "section" and "form-page" in classes):
                self.walk(child, note, box)  # a form page: its heading and instructions
            elif tag == "hr":
                continue
            else:
                self.unknown(child)

    def list(self, element, note: str, box: str, lead: str) -> None:
        """List items: a call box's items complete the sentence its title begins."""
        title = re.match(r'in the box "(.*)"$', note)
        if title and box == "call":
            about = (f'item of the box "{title.group(1)}": each item completes the sentence '
                     "its title begins (write it to follow the title's words)")
        elif title:
            about = f'item of the box "{title.group(1)}"'
        elif lead:
            about = f'item of the list introduced by "{lead}"'
        else:
            about = note
        for entry in element:
            if entry.tag != "li":
                continue
            self.text(entry, "item", about, box)
            self.walk(entry, about, box, "" if (entry.text or "").strip() else "item")

    def glossary(self, element, note: str, box: str) -> None:
        """Terms and definitions; sorted by the translated term when translating."""
        entries: list[list] = []
        term = ""
        for child in list(element):
            if child.tag == "dt":
                term = self.text(child, "term", note or "a glossary term", box)
                entries.append([child])
            elif child.tag == "dd":
                about = f'definition of the glossary term "{term}"'
                if (child.text or "").strip():
                    self.text(child, "definition", about, box)
                self.walk(child, about, box, "definition")
                if entries:
                    entries[-1].append(child)
                else:
                    entries.append([child])
        key = self.segmenting.sort_key
        if key is not None and self.segmenting.replace is not None and len(entries) > 1 \
                and all(group[0].tag == "dt" for group in entries):
            entries.sort(key=lambda group: key(_visible_text(group[0].text or "")))
            for child in list(element):
                element.remove(child)
            for group in entries:
                element.extend(group)


def _visible_text(markdown: str) -> str:
    """The text a reader sees of inline Markdown/HTML: for sorting."""
    text = re.sub(r"<[^>]*>", "", markdown)
    text = re.sub(r"[*_`\[\]]", "", text)
    return re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text).strip()


def _segments_extension(context: _Context, segmenting: Segmenting):
    """Python-Markdown extension: name (and translate) each block after the block
    parse, before inline Markdown, footnotes already gathered."""
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class SegmentProcessor(Treeprocessor):
        def run(self, root) -> None:
            _Segmenter(context, segmenting, self.md.htmlStash).walk(root)

    class SegmentExtension(Extension):
        def extendMarkdown(self, md) -> None:  # noqa: N802 (Python-Markdown's name)
            md.treeprocessors.register(SegmentProcessor(md), "booklet-segments", 30)

    return SegmentExtension()


def chapter_blocks(project: Project, path: Path, text: str) -> list[Block]:
    """Every translatable block of a chapter file, in reading order, from the same
    Python-Markdown parse that renders it (the title from its front matter)."""
    meta, body, first_line = split_front_matter(path, text)
    found: list[Block] = []
    title_line = next((i for i, line in enumerate(text.split("\n"), 1)
                       if line.partition(":")[0].strip() == "title"), 1)
    found.append(Block("title", meta["title"], title_line))
    render_markdown(project, path, body, first_line, slug=_anchor(meta, path),
                    language=project.source_language, segmenting=Segmenting(collect=found))
    return found
