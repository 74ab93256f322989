"""Render stage: Jinja2 templates turn the project and its chapters into one HTML document.

The loader looks in the project's ``templates/`` before the theme's, so a
clinic overrides one partial (say, the cover) without copying the rest.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext as gettext_module
import re
from dataclasses import replace
from pathlib import Path

from booklet.content import TICK_BOX, Chapter
from booklet.core import BookletError, Edition  # noqa: F401 (Edition re-exported)
from booklet.project import FORMATS, Project, theme_dir, theme_file
from booklet.review import Review


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a string for ``booklet i18n extract``; it is translated where it is used."""
    return message


DEFAULT_DISCLAIMER = N_(
    "This handout gives general information only. It is not medical advice and does "
    "not replace talking with your care team. Always ask your doctor or nurse before "
    "you start, stop or change any treatment.")
DEFAULT_DISCLAIMER_SHORT = N_(
    "General information only, not medical advice. Ask your care team.")
# The footer's disclaimer where the project's short one does not fit on one line.
FOOTER_DISCLAIMER = N_("Not medical advice: ask your care team.")
# Room for the footer text on one line, in mm, and its size in pt: the text
# area less the page number beside it (booklets: the 78 % box of
# styles/format-a5-booklet.css; large print: the full width at 18 pt, the page
# number being at the top). The text is measured with the edition's fonts.
FOOTER_ROOM_MM = {"a5-booklet": 0.78 * 119, "half-letter-booklet": 0.78 * 110.7,
                  "large-print": 174, "screen": 126 - 30, "letter": 175.9 - 30}
FOOTER_ROOM_DEFAULT_MM = 170 - 30
FOOTER_PT = {"large-print": 18}
# Alt text of the theme's box icons (styles/icons/KIND.svg).
BOX_ICONS = {"keypoints": N_("Information"), "todo": N_("Checklist"), "call": N_("Telephone")}
# Alt text of the empty box printed before each item of a "- [ ] " list: a screen
# reader says what the sighted reader sees, a box to tick.
TICK_BOX_ALT = N_("Box to tick")
# The one line on a booklet's imposed sheets for whoever prints them (booklet.impose).
PRINTING_NOTE = N_("Print double-sided, flip on short edge, fold in half.")


def is_rtl(language: str) -> bool:
    """Right to left as CLDR says (so ckb and dv work too); False for a tag Babel lacks."""
    from booklet.core import BookletError
    from booklet.language import language as language_of

    try:
        return language_of(language).rtl
    except BookletError:
        return False


def edition_language(project: Project, tag: str):
    """The booklet.language.Language of one edition, with the project's digit choice."""
    from booklet.language import language as language_of

    return language_of(tag, dict(project.numbering).get(tag))


def css_string(text: str) -> str:
    """Quote text for a CSS content: value."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


@functools.cache
def _font_metrics(family: str):
    """(code point -> advance in em) for the file fontconfig gives a family, or None."""
    from booklet.check import find_font

    font = find_font(family)
    if not font.file or font.matched != family:
        return None
    from fontTools.ttLib import TTFont

    ttf = TTFont(font.file, fontNumber=font.index, lazy=True)
    try:
        upem = ttf["head"].unitsPerEm
        hmtx = ttf["hmtx"]
        return {cp: hmtx[name][0] / upem for cp, name in (ttf.getBestCmap() or {}).items()}
    finally:
        ttf.close()


def text_advance(text: str, language: str, size_pt: float) -> float:
    """Width of one line of text in pt, set in the edition's fonts (no kerning).

    Each character is measured in the first font of the language's stack that
    has it, as fontconfig and Pango pick it; shaping (Arabic joining) makes
    the real line a little narrower, never much wider.
    """
    from booklet.check import font_stack

    fonts = [m for m in (_font_metrics(f) for f in font_stack(language)) if m]
    total = 0.0
    for ch in text:
        advance = next((m[ord(ch)] for m in fonts if ord(ch) in m), None)
        total += 1.0 if advance is None else advance  # unknown: as wide as an ideograph
    return total * size_pt


def footer_text(disclaimer_short: str, fallback: str, format_name: str,
                version: str = "", language: str = "en", version_number: str = "") -> str:
    """The footer line: the short disclaimer and the version, on one line.

    The project's short disclaimer where it fits, else the theme's shorter one,
    else that one with the bare version number (every format, every language:
    a footer never wraps). Widths are measured in the edition's fonts.
    """
    room = FOOTER_ROOM_MM.get(format_name, FOOTER_ROOM_DEFAULT_MM) * 72 / 25.4 * 0.96
    size = FOOTER_PT.get(format_name, 9)
    own = f"{disclaimer_short} · {version}" if version else disclaimer_short
    if text_advance(own, language, 9) > 1.5 * FOOTER_ROOM_DEFAULT_MM * 72 / 25.4:
        return own  # not short at all: the author's to shorten (preflight: footer-wraps)
    candidates = [f"{text} · {version}" if version else text
                  for text in (disclaimer_short, fallback)]
    if version_number:
        candidates.append(f"{fallback} · {version_number}")
    for line in candidates:
        if text_advance(line, language, size) <= room:
            return line
    return candidates[-1]


# Large print sets the chapter and the page number side by side at 18 pt in
# the 174 mm text width (styles/format-large-print.css, templates/page.css).
HEAD_ROOM_MM = {"large-print": 174 - 8}
HEAD_PT = {"large-print": 18}


def head_page_pattern(titles: list[str], pattern: str, language: str,
                      format_name: str) -> str:
    """The page number beside the running head: "Page {page} of {pages}" where the
    longest running head fits beside it on one line, else the compact "{page} / {pages}"."""
    room = HEAD_ROOM_MM.get(format_name)
    if room is None:
        return pattern
    size = HEAD_PT[format_name]
    widest = max((text_advance(t, language, size) for t in titles), default=0.0)
    number = text_advance(pattern.format(page="88", pages="88"), language, size)
    return pattern if widest + number <= room * 72 / 25.4 * 0.96 else "{page} / {pages}"


def page_of_css(template: str, counter_style: str = "decimal") -> str:
    """Turn 'Page {page} of {pages}' (translated) into a CSS content value with counters.

    ``counter_style`` writes the numbers in the edition's digits ("persian": ۱۵).
    """
    style = "" if counter_style == "decimal" else f", {counter_style}"
    parts = []
    rest = template
    while rest:
        head, brace, tail = rest.partition("{")
        if head:
            parts.append(css_string(head))
        if not brace:
            break
        name, _, rest = tail.partition("}")
        parts.append({"page": f"counter(page{style})",
                      "pages": f"counter(pages{style})"}.get(
            name, css_string("{" + name + "}")))
    return " ".join(parts) or '""'


def babel_locale(language: str):
    """The Babel locale for a BCP 47 tag, found the same way the catalogs find it."""
    from babel import Locale

    from booklet.language import locale_name

    return Locale.parse(locale_name(language))


def format_date(date: dt.date | None, language: str, numbering: str | None = None) -> str:
    """A long date in the language, its digits in the edition's numbering system."""
    if date is None:
        return ""
    from babel.dates import format_date as babel_format_date

    from booklet.language import language as language_of

    text = babel_format_date(date, format="long", locale=babel_locale(language))
    return language_of(language, numbering).number(text)


def language_name(language: str) -> str:
    """The language's name in itself ("Español", "العربية"), for readers of that language."""
    locale = babel_locale(language)
    name = locale.get_display_name(locale) or language
    return name[:1].upper() + name[1:]


PLACEHOLDER = re.compile(r"\{(\w+)\}")


def format_problems(text: str, allowed: set[str] | frozenset[str]) -> list[str]:
    """What in a template string is not a plain {name} placeholder the template passes."""
    problems = [f"placeholder {{{name}}} is unknown here (allowed: "
                f"{', '.join('{' + n + '}' for n in sorted(allowed)) or 'none'})"
                for name in PLACEHOLDER.findall(text) if name not in allowed]
    rest = PLACEHOLDER.sub("", text)
    if "{" in rest or "}" in rest:
        problems.append("only plain placeholders like {n} may stand in braces; a format "
                        "spec, index or attribute ({n:>9}, {n[0]}, {n.x}) is not allowed")
    return problems


def safe_format(text: str, values: dict) -> str:
    """Put values into {name} placeholders and do nothing else.

    str.format on a translated string would run whatever the translator wrote
    ({n:>300000} hangs the build, {n[0]} raises); this knows only {name}.
    """
    problems = format_problems(text, set(values))
    if problems:
        raise BookletError(f"template string {text!r}: " + "; ".join(problems)
                           + "; fix it in the catalog or template that holds it")
    return PLACEHOLDER.sub(lambda match: str(values[match.group(1)]), text)


def _environment(project: Project, translations: gettext_module.NullTranslations):
    """The handout's templates: the project's own first, then the theme's."""
    return sandboxed_environment([project.root / "templates", theme_dir() / "templates"],
                                 translations)


def sandboxed_environment(search_path: list[Path],
                          translations: gettext_module.NullTranslations, *,
                          escape_strings: bool = True):
    """A sandboxed Jinja environment: the one way booklet fills a template.

    Templates come from the project (a clinic's override) and translated
    strings from its catalogs: neither may run code, read files or format
    with anything but {name} placeholders (``.format`` goes to safe_format).
    The handout and the email templates both use it; `.html` templates are
    escaped, and templates made from strings too unless `escape_strings` is off.
    """
    import jinja2
    import jinja2.sandbox
    from markupsafe import Markup, escape

    class HandoutEnvironment(jinja2.sandbox.SandboxedEnvironment):
        def wrap_str_format(self, value):
            if not isinstance(getattr(value, "__self__", None), str) or \
                    getattr(value, "__name__", "") not in ("format", "format_map"):
                return None
            text = value.__self__

            def wrapper(*args, **kwargs):
                if args:
                    raise BookletError(f"template string {text!r}: .format() takes names "
                                       "only, like .format(n=3)")
                if isinstance(text, Markup):
                    return Markup(safe_format(str(text), {k: escape(v)
                                                          for k, v in kwargs.items()}))
                return safe_format(text, kwargs)

            return wrapper

    loader = jinja2.FileSystemLoader([str(path) for path in search_path])
    env = HandoutEnvironment(loader=loader, autoescape=jinja2.select_autoescape(
        enabled_extensions=("html",), default_for_string=escape_strings),
        extensions=["jinja2.ext.i18n"], undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations, newstyle=False)
    return env


def _template_error(exc: Exception) -> BookletError:
    """Name the template and line a sandbox refusal or template error came from."""
    import traceback

    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith((".html", ".css", ".txt")):
            where = f"{frame.filename}:{frame.lineno}: "
            break
    name = getattr(exc, "filename", None) or getattr(exc, "name", None) or "template"
    where = where or f"{name}:{getattr(exc, 'lineno', '?')}: "
    return BookletError(f"{where}{type(exc).__name__}: {exc}; templates may only show "
                        "the values booklet passes them (no Python attributes or calls)")


def render_html(project: Project, edition: Edition, chapters: list[Chapter], *,
                review: Review | None,
                translations: gettext_module.NullTranslations | None = None,
                text: dict[str, str] | None = None, modified: str | None = None,
                notes_pages: int = 0) -> str:
    """Return the full HTML of one edition.

    ``text`` carries the handout's own strings (title, subtitle, disclaimer,
    sources) already translated; theme strings go through ``translations``.
    ``notes_pages`` ruled pages go before the back cover, to pad a booklet.
    """
    from booklet import __version__
    from booklet.language import language_css

    translations = translations or gettext_module.NullTranslations()
    _ = translations.gettext
    text = text or {}
    language = edition.language
    fmt = FORMATS[edition.format]
    if fmt.link_glossary:
        from booklet.content import link_glossary

        chapters = link_glossary(chapters)
    lang = edition_language(project, language)
    rtl = lang.rtl
    from html import escape

    from booklet import helpline

    icons = {kind: theme_file(project, "styles", f"icons/{kind}.svg").as_uri()
             for kind in BOX_ICONS}
    if language != project.source_language:  # SVG figure labels in the reader's language
        from booklet.figures import localize_figures

        chapters = localize_figures(chapters, project, _)
    call_title = helpline.call_title(chapters)
    call_triggers = helpline.call_triggers(chapters)
    chapters = helpline.with_box_icons(chapters, {
        kind: f'<img class="box-icon" src="{icons[kind]}" alt="{escape(_(alt), quote=True)}">'
        for kind, alt in BOX_ICONS.items()})
    checkbox = theme_file(project, "styles", "icons/checkbox.svg").as_uri()
    alt = escape(_(TICK_BOX_ALT), quote=True)
    tick_box = f'<img class="tick-box" src="{checkbox}" alt="{alt}">'
    chapters = [replace(chapter, html=chapter.html.replace(TICK_BOX, tick_box))
                if TICK_BOX in chapter.html else chapter for chapter in chapters]
    stylesheets = [theme_file(project, "styles", "handout.css").as_uri(),
                   theme_file(project, "styles", fmt.stylesheet).as_uri()]
    # The project's own touches: for every format, then for this format only
    # (say, styles/custom-press.css declaring the print shop's colour profile).
    for name in ("custom.css", f"custom-{fmt.name}.css"):
        custom = project.root / "styles" / name
        if custom.is_file():
            stylesheets.append(custom.as_uri())
    disclaimer = text.get("disclaimer") or project.disclaimer or _(DEFAULT_DISCLAIMER)
    disclaimer_short = (text.get("disclaimer_short") or project.disclaimer_short
                        or _(DEFAULT_DISCLAIMER_SHORT))
    footer = footer_text(disclaimer_short, _(FOOTER_DISCLAIMER), fmt.name,
                         f"{_('Version')} {project.version}", language, project.version)
    created = project.published.isoformat() if project.published else ""
    env = _environment(project, translations)
    import jinja2
    import jinja2.sandbox

    try:
        help_context = {"help_numbers": helpline.help_numbers(project.clinic), "format": fmt,
                        "icons": icons}
        chapters = helpline.with_call_numbers(
            chapters, env.get_template("call-numbers.html").render(**help_context))
        template = env.get_template("handout.html")
        return template.render(
            **help_context,
            call_title=call_title or _("Call your care team if"),
            call_triggers=call_triggers,
            project=project,
            lang=language,
            direction="rtl" if rtl else "ltr",
            start="right" if rtl else "left",
            end="left" if rtl else "right",
            title=text.get("title") or project.title,
            subtitle=text.get("subtitle", project.subtitle),
            sources=text.get("sources") or list(project.sources),
            keywords=", ".join(chapter.title for chapter in chapters),
            chapters=chapters,
            draft=review is None,
            review=review,
            review_date=format_date(review.approved_on, language, lang.numbering)
            if review else "",
            published=format_date(project.published, language, lang.numbering),
            next_review=format_date(project.next_review, language, lang.numbering),
            language_name=language_name(language),
            language_names=[language_name(code) for code in project.languages],
            language_dirs=["rtl" if is_rtl(code) else "ltr" for code in project.languages],
            list_separator=lang.list_separator,
            digits=lambda number: lang.number(str(number)),  # in the edition's numbering
            language_css=language_css(project.languages, lang, project.source_language),
            disclaimer=disclaimer,
            disclaimer_short=disclaimer_short,
            footer_css=css_string(footer),
            css_string=css_string,
            page_of_css=page_of_css(_("Page {page} of {pages}"), lang.counter_style),
            head_page_css=page_of_css(head_page_pattern(
                [c.title for c in chapters] + [_("Important: about this handout"),
                                               _("When to call"), _("Notes")],
                _("Page {page} of {pages}"), language, fmt.name), lang.counter_style),
            logo=project.clinic.logo.as_uri() if project.clinic.logo else "",
            stylesheets=stylesheets,
            created=created,
            modified=modified or created,
            booklet_version=__version__,
            notes_pages=notes_pages,
        )
    except (jinja2.TemplateError, jinja2.sandbox.SecurityError) as exc:
        raise _template_error(exc) from None


def stylesheet_roots(project: Project) -> list[Path]:
    """Folders the renderer may read from: the project and the installed theme."""
    return [project.root, theme_dir()]
