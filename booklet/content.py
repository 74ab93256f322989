"""Content stage: chapters (front matter + Markdown) and data tables into safe HTML.

Markdown goes through Python-Markdown and then nh3, so raw HTML in a chapter or
a translation can never smuggle in a script. Images must live inside the
project: a remote or outside file is refused with the chapter and line.
Data tables (``chapters/NAME.toml``) are placed by a ``::: table NAME`` line.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from booklet.errors import BookletError
from booklet.project import Project

CHAPTER_FILE = re.compile(r"^(\d+)-([a-z0-9-]+)\.md$")
DIRECTIVE = re.compile(r"^:::\s*(\w+)\s*(.*?)\s*$")
FRONT_MATTER_KEYS = {"title", "id"}

# Quotation marks per language for the smarty extension, as typesetters use them.
# Smarty's "right single quote" is also every apostrophe it sees ("body's",
# "qu'elle"), so it is always U+2019, never a language's secondary closing
# quote (which printed "body›s" in French and "body』s" in Japanese); a typed
# 'x' pair prints as ‘x’, and a translator types the language's own secondary
# quotes where they are wanted.
QUOTES = {
    "en": ("&lsquo;", "&rsquo;", "&ldquo;", "&rdquo;"),
    "es": ("&lsquo;", "&rsquo;", "&laquo;", "&raquo;"),
    "pt": ("&lsquo;", "&rsquo;", "&ldquo;", "&rdquo;"),
    "fr": ("&lsquo;", "&rsquo;", "&laquo;&#8239;", "&#8239;&raquo;"),
    "de": ("&lsquo;", "&rsquo;", "&bdquo;", "&ldquo;"),
    "zh": ("&lsquo;", "&rsquo;", "&ldquo;", "&rdquo;"),
    "ja": ("&lsquo;", "&rsquo;", "&#12300;", "&#12301;"),
    "ar": ("&lsquo;", "&rsquo;", "&laquo;", "&raquo;"),
    "he": ("&lsquo;", "&rsquo;", "&#8222;", "&#8221;"),
}

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
    "td": {"colspan", "rowspan", "scope"},
    "th": {"colspan", "rowspan", "scope"},
    "ol": {"start"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel", "file"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    nowrap: bool = False
    is_list: bool = False


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
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise BookletError(f"{path}: not valid TOML: {exc}") from None
    problems = []
    columns = []
    for index, col in enumerate(raw.get("columns", [])):
        if not isinstance(col, dict) or not isinstance(col.get("key"), str) \
                or not isinstance(col.get("label"), str):
            problems.append(f"columns[{index}]: needs key = \"...\" and label = \"...\"")
            continue
        columns.append(Column(col["key"], col["label"], bool(col.get("nowrap")),
                              bool(col.get("list"))))
    if not columns:
        problems.append("columns: a table needs at least one [[columns]] entry with key "
                        "and label")
    keys = {c.key for c in columns}
    rows = []
    for index, row in enumerate(raw.get("rows", [])):
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
    if not isinstance(blank_rows, int) or not 0 <= blank_rows <= 60:
        problems.append(f"blank_rows: got {blank_rows!r}; expected a whole number 0-60")
        blank_rows = 0
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


def _markdown(language: str, slug: str):
    import markdown
    from markdown.extensions.toc import slugify_unicode

    from booklet.language import primary

    quotes = QUOTES.get(primary(language), QUOTES["en"])
    return markdown.Markdown(
        extensions=["tables", "attr_list", "def_list", "footnotes", "admonition",
                    "smarty", "toc", "sane_lists"],
        extension_configs={
            "smarty": {"substitutions": dict(zip(
                ("left-single-quote", "right-single-quote", "left-double-quote",
                 "right-double-quote"), quotes, strict=True))},
            "toc": {"slugify": lambda value, sep: f"{slug}-{slugify_unicode(value, sep)}",
                    "toc_depth": "2-3"},
            "footnotes": {"UNIQUE_IDS": True},
        },
        output_format="html",
    )


def inline_markdown(text: str, language: str) -> str:
    """Render one line of Markdown (a table cell, a caption) to sanitized inline HTML."""
    rendered = _markdown(language, "x").convert(text).strip()
    rendered = re.sub(r"^<p>(.*)</p>$", r"\1", rendered, flags=re.S)
    return sanitize(rendered)


def _table_html(table: Table, translate: Translate, language: str) -> str:
    kind = "record-form" if table.blank_rows else "data-table"
    out = [f'<figure class="table-figure {kind}" id="table-{table.name}">']
    out.append(f'<table class="{kind}">')
    if table.caption:
        out.append(f"<caption>{inline_markdown(translate(table.caption), language)}</caption>")
    out.append("<thead><tr>")
    labels = {}
    for col in table.columns:
        label = inline_markdown(translate(col.label), language)
        # Plain text of the header, for layouts that put it beside each cell
        # (large print stacks each row as "label: value" lines).
        labels[col.key] = html.escape(html.unescape(re.sub(r"<[^>]*>", "", label)))
        out.append(f'<th scope="col" class="col-{col.key}">{label}</th>')
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
                    f'<span class="nobreak">{inline_markdown(translate(i), language)}</span>'
                    for i in items)
            else:
                cell = inline_markdown(translate(value), language) if value else ""
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
                   f"{inline_markdown(translate(table.source), language)}</figcaption>")
    out.append("</figure>")
    return "".join(out)


def _directive_html(project: Project, name: str, arg: str, where: str,
                    translate: Translate, language: str) -> str:
    if name == "table":
        if not re.fullmatch(r"[a-z0-9-]+", arg):
            raise BookletError(f"{where}: '::: table' needs a table name like "
                               "'::: table regimens' (chapters/regimens.toml)")
        return _table_html(load_table(project, arg, where), translate, language)
    if name == "lines":
        count = int(arg) if arg.isdigit() else 0
        if not 1 <= count <= 40:
            raise BookletError(f"{where}: '::: lines N' needs a number of writing lines "
                               f"from 1 to 40; got {arg!r}")
        return '<div class="writing-lines">' + '<div class="line"></div>' * count + "</div>"
    if name == "newpage":
        return '<div class="page-break"></div>'
    raise BookletError(f"{where}: unknown directive '::: {name}'; allowed: "
                       "'::: table NAME', '::: lines N', '::: newpage'")


def _line_of(source: str, needle: str, first_line: int) -> int:
    for offset, line in enumerate(source.split("\n")):
        if needle in line:
            return first_line + offset
    return first_line


def _resolve_images(fragment: str, project: Project, path: Path, body: str,
                    first_line: int, strict: bool, warnings: list[str]) -> str:
    """Point every image at a file inside the project, or refuse it with chapter:line."""

    def replace(match: re.Match) -> str:
        src = html.unescape(match.group(2))
        where = f"{path}:{_line_of(body, src, first_line)}"
        parts = urlsplit(src)
        if parts.scheme in ("http", "https", "ftp") or src.startswith("//"):
            raise BookletError(f"{where}: remote image {src!r} is not allowed (handouts "
                               "are built offline and must not track readers); download "
                               "it into assets/ and link it relatively")
        if parts.scheme == "file":
            target = Path(unquote(parts.path))
        elif parts.scheme:
            raise BookletError(f"{where}: image {src!r} uses '{parts.scheme}:'; only files "
                               "inside the project are allowed")
        else:
            target = path.parent / unquote(parts.path)
        target = target.resolve()
        if not target.is_relative_to(project.root):
            raise BookletError(f"{where}: image {src!r} is outside the project folder "
                               f"{project.root}; copy it into assets/")
        if not target.is_file():
            message = f"{where}: image {src!r} not found ({target})"
            if strict:
                raise BookletError(message + "; add the file or fix the path")
            warnings.append(message + "; left out of this draft build")
            return ""
        return f"{match.group(1)}{html.escape(target.as_uri())}{match.group(3)}"

    return re.sub(r'(<img[^>]*?\ssrc=")([^"]*)(")', replace, fragment)


def _anchor(meta: dict[str, str], path: Path) -> str:
    """The id a chapter's section gets: its front matter id, or the slug of its file name."""
    return meta.get("id") or CHAPTER_FILE.match(path.name).group(2)


def chapter_anchor(path: Path) -> str:
    meta, _, _ = split_front_matter(path, path.read_text(encoding="utf-8"))
    return _anchor(meta, path)


def _resolve_links(fragment: str, path: Path, body: str, first_line: int) -> str:
    """Turn links to other chapter files into links inside the PDF.

    Writers link chapters as their Markdown editor previews them
    (``[records](10-my-records.md)``); in the handout that is a page of the
    same PDF. A link to any other local file would be dead once the PDF is
    emailed, so it is refused.
    """

    def replace(match: re.Match) -> str:
        href = html.unescape(match.group(2))
        parts = urlsplit(href)
        if parts.scheme or href.startswith(("#", "//")):
            return match.group(0)
        target = (path.parent / unquote(parts.path)).resolve()
        if target.parent == path.parent.resolve() and CHAPTER_FILE.match(target.name) \
                and target.is_file():
            anchor = chapter_anchor(target)
            if parts.fragment:
                anchor = f"{anchor}-{parts.fragment}"
            return f"{match.group(1)}#{html.escape(anchor)}{match.group(3)}"
        raise BookletError(f"{path}:{_line_of(body, href, first_line)}: link {href!r} is not a "
                           "chapter (NN-slug.md) of this handout; a handout can link to its "
                           "chapters or to web addresses (https://...), not to local files")

    return re.sub(r'(<a[^>]*?\shref=")([^"]*)(")', replace, fragment)


def render_markdown(project: Project, path: Path, body: str, first_line: int, *,
                    slug: str, language: str, translate: Translate = unchanged,
                    strict: bool = False, warnings: list[str] | None = None) -> str:
    """Turn a chapter body into sanitized HTML with tables and forms placed."""
    warnings = [] if warnings is None else warnings
    blocks: dict[str, str] = {}
    lines = body.split("\n")
    for index, line in enumerate(lines):
        match = DIRECTIVE.match(line)
        if match:
            token = f"booklet-directive-{len(blocks)}"
            blocks[token] = _directive_html(project, match.group(1), match.group(2),
                                            f"{path}:{first_line + index}", translate,
                                            language)
            lines[index] = token
    fragment = sanitize(_markdown(language, slug).convert("\n".join(lines)))
    # A footnote's "back to text" arrow means nothing on paper, and its glyph (U+21A9)
    # is missing from most text fonts.
    fragment = re.sub(r'\s*<a[^>]*class="footnote-backref"[^>]*>.*?</a>', "", fragment)
    fragment = _resolve_images(fragment, project, path, body, first_line, strict, warnings)
    fragment = _resolve_links(fragment, path, body, first_line)
    for token, block in blocks.items():
        fragment = fragment.replace(f"<p>{token}</p>", block)
    return fragment


def load_chapters(project: Project, language: str | None = None, *,
                  translate_chapter: Callable[[Path, str], str] | None = None,
                  translate: Translate = unchanged, strict: bool = False,
                  warnings: list[str] | None = None) -> list[Chapter]:
    """Read and render every chapter; ``translate_chapter`` swaps in translated Markdown."""
    language = language or project.source_language
    chapters = []
    for path in chapter_files(project):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BookletError(f"{path}: not UTF-8 text ({exc}); save it as UTF-8") from None
        if translate_chapter:
            text = translate_chapter(path, text)
        meta, body, first_line = split_front_matter(path, text)
        slug = _anchor(meta, path)
        fragment = render_markdown(project, path, body, first_line, slug=slug,
                                   language=language, translate=translate, strict=strict,
                                   warnings=warnings)
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
    return re.compile(before + re.escape(term) + after, re.IGNORECASE)


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
