"""Check stage: the quality gate a clinic's editor runs before printing.

Readability per chapter (Flesch-Kincaid grade and sentence length, for
English), figures in data tables that the prose must repeat, and the review
dates on the cover. Problems are plain data; the CLI decides what is fatal.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from booklet.language import DEFAULT_FONTS, primary
from booklet.project import Project

MAX_GRADE = 8.0
MAX_SENTENCE_WORDS = 20.0
PERCENT_OR_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s?%")


@dataclass(frozen=True)
class Problem:
    level: str  # "error" or "warning"
    where: str
    message: str


@dataclass(frozen=True)
class Readability:
    grade: float
    words_per_sentence: float


def plain_text(fragment: str) -> str:
    """Return the reader's text of an HTML fragment, each block ending a sentence.

    Headings, list items and table cells carry no full stop of their own, but a
    reader takes each as a unit; counting them as sentences is what makes the
    grade fair to lists, the form patient materials should use.
    """
    import html

    text = re.sub(r"<(table|figure)\b.*?</\1>", " ", fragment, flags=re.S)
    text = re.sub(r"</(p|li|h\d|dt|dd|caption|th|td)>", ".\n", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text)
    text = re.sub(r"([.?!:])\s*\.", r"\1", text)
    return re.sub(r"\s+", " ", text).strip()


def readability(text: str) -> Readability:
    import textstat

    sentences = max(1, textstat.sentence_count(text))
    return Readability(float(textstat.flesch_kincaid_grade(text)),
                       textstat.lexicon_count(text) / sentences)


def check_project(project: Project, today: dt.date | None = None) -> list[Problem]:
    """Run every content check on the source language and return what it found."""
    from booklet.content import load_chapters, load_table, table_files

    today = today or dt.date.today()
    problems: list[Problem] = []
    chapters = load_chapters(project)
    if primary(project.source_language) == "en":
        for chapter in chapters:
            score = readability(plain_text(chapter.html))
            if score.grade > MAX_GRADE:
                problems.append(Problem(
                    "error", str(chapter.path), f"Flesch-Kincaid grade {score.grade:.1f} is "
                    f"above {MAX_GRADE:.0f}; use shorter sentences and everyday words"))
            if score.words_per_sentence > MAX_SENTENCE_WORDS:
                problems.append(Problem(
                    "error", str(chapter.path), f"{score.words_per_sentence:.1f} words per "
                    f"sentence on average, above {MAX_SENTENCE_WORDS:.0f}; split long "
                    "sentences"))
    prose = " ".join(plain_text(c.html) for c in chapters)
    for path in table_files(project):
        table = load_table(project, path.stem, str(path))
        for index, row in enumerate(table.rows):
            for key, value in row.items():
                for figure in PERCENT_OR_FIGURE.findall(value):
                    if figure.replace(" ", "") not in prose.replace(" ", ""):
                        problems.append(Problem(
                            "error", f"{path}: rows[{index}].{key}",
                            f"the figure {figure!r} is not mentioned in any chapter's text; "
                            "explain it in the prose so readers and reviewers see it twice"))
    if project.published is None:
        problems.append(Problem("error", f"{project.config_path}: key 'published'",
                                "missing; add published = YYYY-MM-DD"))
    if project.next_review is None:
        problems.append(Problem("error", f"{project.config_path}: key 'next_review'",
                                "missing; add next_review = YYYY-MM-DD"))
    elif project.next_review < today:
        problems.append(Problem("warning", f"{project.config_path}: key 'next_review'",
                                f"{project.next_review} has passed; review the content and "
                                "set a new date"))
    if not project.sources:
        problems.append(Problem("warning", f"{project.config_path}: key 'sources'",
                                "empty; list what the content is based on"))
    return problems


# ---------------------------------------------------------------------------
# Font coverage: fail the build rather than print empty boxes ("tofu")
# ---------------------------------------------------------------------------

PROJECT_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc", ".woff", ".woff2")
VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                 "source", "track", "wbr"}
CSS_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


@dataclass(frozen=True)
class Font:
    family: str  # the family asked for
    file: str  # what fontconfig gave for it
    index: int
    matched: str  # the family fontconfig matched (differs when the font is missing)


def font_stack(language: str, tags: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The font families the page sets for a language, most specific tag first.

    The same table (booklet.language.font_stacks) writes the stylesheet's
    :lang() rules, so a character passed here is one WeasyPrint can draw.
    """
    from booklet.language import font_stacks

    stacks = font_stacks(tuple(tags))
    parts = language.split("-")
    for size in range(len(parts), 0, -1):
        stack = stacks.get("-".join(parts[:size]))
        if stack:
            return stack
    return stacks[""]


@cache
def find_font(family: str) -> Font:
    """Ask fontconfig which file it uses for a family (what Pango, and so WeasyPrint, gets)."""
    import subprocess

    try:
        out = subprocess.run(["fc-match", "-f", "%{family}\t%{file}\t%{index}", family],
                             capture_output=True, text=True, check=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        from booklet.errors import BookletError

        raise BookletError(f"cannot check fonts: fc-match (fontconfig) failed: {exc}; "
                           "install fontconfig (Debian: apt-get install fontconfig)") from None
    names, file, index = (out.split("\t") + ["", "", "0"])[:3]
    matched = names.split(",")
    return Font(family, file, int(index or 0),
                family if family in matched else matched[0])


@cache
def _cmap(file: str, index: int) -> frozenset[int]:
    """Code points a font file has glyphs for (read once per process; CJK fonts are big)."""
    from fontTools.ttLib import TTFont

    font = TTFont(file, fontNumber=index, lazy=True)
    try:
        return frozenset(font.getBestCmap() or {})
    finally:
        font.close()


def _project_fonts(project: Project) -> list[Font]:
    folder = project.root / "assets" / "fonts"
    if not folder.is_dir():
        return []
    return [Font(path.stem, str(path), 0, path.stem) for path in sorted(folder.iterdir())
            if path.suffix.lower() in PROJECT_FONT_SUFFIXES[:4]]


def _text_by_language(html: str, language: str) -> dict[str, dict[str, str]]:
    """Characters of the document per font language, each with some context.

    An element's lang picks its own fonts only where the theme has a rule for
    that language; otherwise it keeps its parent's, as the CSS cascade does
    (English left untranslated in a Japanese edition is set in the Japanese font).

    Text in <style> counts too (running headers and page numbers are CSS strings).
    """
    import unicodedata
    from html.parser import HTMLParser

    found: dict[str, dict[str, str]] = {}

    def add(text: str, lang: str) -> None:
        chars = found.setdefault(lang, {})
        for index, ch in enumerate(text):
            # Controls, format marks (bidi isolates, soft hyphens) and spaces draw nothing.
            if ch in chars or unicodedata.category(ch) in ("Cc", "Cf") or ch.isspace() \
                    or unicodedata.category(ch)[0] == "Z":
                continue
            chars[ch] = " ".join(text[max(0, index - 25):index + 25].split())

    class Walker(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.stack: list[tuple[str, str]] = []

        def lang(self) -> str:
            return self.stack[-1][1] if self.stack else language

        def handle_starttag(self, tag, attrs):
            if tag in VOID_ELEMENTS:
                return
            lang = dict(attrs).get("lang") or ""
            if tag != "html" and font_stack(lang) == DEFAULT_FONTS:
                lang = self.lang()
            self.stack.append((tag, lang or self.lang()))

        def handle_endtag(self, tag):
            for depth in range(len(self.stack) - 1, -1, -1):
                if self.stack[depth][0] == tag:
                    del self.stack[depth:]
                    break

        def handle_data(self, data):
            tags = [t for t, _ in self.stack]
            if "style" in tags:
                for match in CSS_STRING.finditer(data):
                    add(re.sub(r"\\(.)", r"\1", match.group(1)), self.lang())
            elif "head" not in tags and "script" not in tags:
                add(data, self.lang())

    walker = Walker()
    walker.feed(html)
    walker.close()
    return found


@cache
def fallback_font(ch: str) -> str:
    """An installed font that has ch (fontconfig's answer), or "" when none has it."""
    import subprocess

    try:
        out = subprocess.run(["fc-list", f":charset={ord(ch):x}", "family"],
                             capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ""
    families = sorted({line.split(",")[0].strip() for line in out.splitlines() if line.strip()})
    return families[0] if families else ""


def font_problems(project: Project, language: str, html: str) -> list[Problem]:
    """Check every character of an edition against the fonts set for its language.

    A character none of them has is an error if no installed font has it (it
    would print as an empty box) and a warning if fontconfig would borrow it
    from another font (it prints, in a face the theme did not choose).
    """
    problems = []
    extra = _project_fonts(project)
    for lang, chars in sorted(_text_by_language(html, language).items()):
        stack = font_stack(lang, project.languages)
        fonts = [find_font(family) for family in stack] + extra
        covered: set[int] = set()
        for font in fonts:
            if font.file:
                covered |= _cmap(font.file, font.index)
        missing = [ch for ch in chars if ord(ch) not in covered]
        if not missing:
            continue
        tried = "; ".join(
            f"{f.family} ({f.file})" if f.matched == f.family else
            f"{f.family} (not installed; fontconfig gave {f.matched}, {f.file})"
            for f in fonts)
        borrowed = {ch: fallback_font(ch) for ch in missing}
        tofu = [ch for ch in missing if not borrowed[ch]]
        lent = [ch for ch in missing if borrowed[ch]]
        where = f"{language} edition, text in lang={lang}"
        if tofu:
            listed = ", ".join(f"{ch!r} U+{ord(ch):04X} in \"{chars[ch]}\"" for ch in tofu[:8])
            more = f" and {len(tofu) - 8} more" if len(tofu) > 8 else ""
            problems.append(Problem(
                "error", where,
                f"no font covers {len(tofu)} character{'s' if len(tofu) > 1 else ''}: "
                f"{listed}{more}; they would print as empty boxes. Fonts tried: {tried}. "
                "Install a font that has them (Debian: fonts-noto-core, fonts-noto-cjk), "
                "put one in assets/fonts/ with an @font-face rule in styles/custom.css, "
                "or remove the characters"))
        if lent:
            listed = ", ".join(f"{ch!r} U+{ord(ch):04X} from {borrowed[ch]}" for ch in lent)
            problems.append(Problem(
                "warning", where,
                f"{listed}: not in the fonts for this language ({tried}); printed with a "
                "fallback font"))
    return problems


def require_font_coverage(project: Project, language: str, html: str) -> list[str]:
    """Raise BookletError when an edition would print empty boxes; return the warnings."""
    from booklet.errors import BookletError

    problems = font_problems(project, language, html)
    errors = [f"{p.where}: {p.message}" for p in problems if p.level == "error"]
    if errors:
        raise BookletError("\n".join(errors))
    return [f"{p.where}: {p.message}" for p in problems]
