"""Check stage: the quality gate a clinic's editor runs before printing.

Readability per chapter (Flesch-Kincaid grade and sentence length, for
English), figures in data tables that the prose must repeat, and the review
dates on the cover. Problems are plain data; the CLI decides what is fatal.
"""

from __future__ import annotations

import datetime as dt
import re
from array import array
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from booklet.core import ERROR, WARNING, BookletError, Problem
from booklet.language import DEFAULT_FONTS, primary
from booklet.project import Project

MAX_GRADE = 8.0
MAX_SENTENCE_WORDS = 20.0
PERCENT_OR_FIGURE = re.compile(r"\d+(?:[.,]\d+)?\s?%")


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
                    "readability-grade", ERROR, f"Flesch-Kincaid grade {score.grade:.1f} is "
                    f"above {MAX_GRADE:.0f}", str(chapter.path),
                    "use shorter sentences and everyday words"))
            if score.words_per_sentence > MAX_SENTENCE_WORDS:
                problems.append(Problem(
                    "sentence-length", ERROR, f"{score.words_per_sentence:.1f} words per "
                    f"sentence on average, above {MAX_SENTENCE_WORDS:.0f}", str(chapter.path),
                    "split long sentences"))
    prose = " ".join(plain_text(c.html) for c in chapters)
    for path in table_files(project):
        table = load_table(project, path.stem, str(path))
        for index, row in enumerate(table.rows):
            for key, value in row.items():
                for figure in PERCENT_OR_FIGURE.findall(value):
                    if figure.replace(" ", "") not in prose.replace(" ", ""):
                        problems.append(Problem(
                            "figure-not-in-prose", ERROR,
                            f"the figure {figure!r} is not mentioned in any chapter's text",
                            f"{path}: rows[{index}].{key}",
                            "explain it in the prose so readers and reviewers see it twice"))
    if project.published is None:
        problems.append(Problem("date-missing", ERROR, "missing",
                                f"{project.config_path}: key 'published'",
                                "add published = YYYY-MM-DD"))
    if project.next_review is None:
        problems.append(Problem("date-missing", ERROR, "missing",
                                f"{project.config_path}: key 'next_review'",
                                "add next_review = YYYY-MM-DD"))
    elif project.next_review < today:
        problems.append(Problem("review-overdue", WARNING, f"{project.next_review} has passed",
                                f"{project.config_path}: key 'next_review'",
                                "review the content and set a new date"))
    problems.extend(stylesheet_problems(project))
    if not project.sources:
        problems.append(Problem("sources-empty", WARNING, "empty",
                                f"{project.config_path}: key 'sources'",
                                "list what the content is based on"))
    return problems




def stylesheet_problems(project: Project) -> list[Problem]:
    """What WeasyPrint ignores in the project's own stylesheets, each with file and line.

    WeasyPrint logs an invalid declaration with a line and column but not the
    file, and goes on without it; parsing each file on its own tells which.
    """

    from booklet.project import theme_dir

    folder = project.root / "styles"
    paths = sorted(folder.glob("*.css")) if folder.is_dir() else []
    if folder.resolve() == (theme_dir() / "styles").resolve():
        # The theme's own files (this repository's handout): the tests check those.
        paths = [path for path in paths if path.name.startswith("custom")]
    if not paths:
        return []
    from booklet.pdf import _sandboxed_fetcher, stylesheet_rejections
    from booklet.render import stylesheet_roots

    fetcher = _sandboxed_fetcher(stylesheet_roots(project), [])
    return [Problem("css-ignored", WARNING, f"{message} (WeasyPrint skips it)", where,
                    "fix or remove the declaration")
            for where, message in stylesheet_rejections(paths, project.root, fetcher)]


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
        raise BookletError(f"cannot check fonts: fc-match (fontconfig) failed: {exc}; "
                           "install fontconfig (Debian: apt-get install fontconfig)") from None
    names, file, index = (out.split("\t") + ["", "", "0"])[:3]
    matched = names.split(",")
    return Font(family, file, int(index or 0),
                family if family in matched else matched[0])


class Coverage:
    """The code points a font has glyphs for, as sorted ranges (a CJK font has tens of
    thousands of them, in a few thousand ranges)."""

    def __init__(self, starts: array, ends: array):
        self.starts, self.ends = starts, ends

    def __contains__(self, code: int) -> bool:
        from bisect import bisect_right

        at = bisect_right(self.starts, code) - 1
        return at >= 0 and code <= self.ends[at]

    @classmethod
    def of(cls, codes) -> Coverage:
        starts, ends = array("I"), array("I")
        for code in sorted(codes):
            if ends and code == ends[-1] + 1:
                ends[-1] = code
            else:
                starts.append(code)
                ends.append(code)
        return cls(starts, ends)


def _cmap_cache(file: str, index: int) -> Path | None:
    """Where a font's coverage is kept between runs, named by the file, its size and time."""
    import hashlib
    import os

    try:
        stat = os.stat(file)
    except OSError:
        return None
    from booklet.files import user_cache

    key = (f"{os.path.abspath(file)}\0{index}\0{stat.st_size}\0{stat.st_mtime_ns}\0"
           f"{CMAP_CACHE_VERSION}")
    return user_cache("cmaps") / (hashlib.sha256(key.encode()).hexdigest() + ".bin")


CMAP_CACHE_VERSION = 1


@cache
def _cmap(file: str, index: int) -> Coverage:
    """Code points a font file has glyphs for: read once, then kept on disk.

    Parsing the cmap of a CJK font takes a large part of a second (the English
    edition has one for the language list on its back cover); the ranges are
    kept per font file (path, size, modification time) in the user's cache
    folder, and read again in microseconds by every later build and worker.
    """
    cached = _cmap_cache(file, index)
    if cached is not None:
        try:
            data = array("I", cached.read_bytes())
            half = len(data) // 2
            if len(data) % 2 == 0:
                return Coverage(data[:half], data[half:])
        except (OSError, ValueError):
            pass
    from fontTools.ttLib import TTFont

    font = TTFont(file, fontNumber=index, lazy=True)
    try:
        coverage = Coverage.of(font.getBestCmap() or {})
    finally:
        font.close()
    if cached is not None:
        from contextlib import suppress

        from booklet.files import write_atomic

        with suppress(OSError, BookletError):  # read-only home: only slower next time
            write_atomic(cached, (coverage.starts + coverage.ends).tobytes())
    return coverage


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


def font_problems(project: Project, language: str, html: str, *,
                  checked: set[tuple[str, str]] | None = None) -> list[Problem]:
    """Check every character of an edition against the fonts set for its language.

    A character none of them has is an error if no installed font has it (it
    would print as an empty box) and a warning if fontconfig would borrow it
    from another font (it prints, in a face the theme did not choose).
    ``checked`` holds the (lang, character) pairs an earlier edition of the
    same project and language found covered: a language's formats share one
    check, and each later format only checks the characters it adds.
    """
    problems = []
    extra = _project_fonts(project)
    for lang, chars in sorted(_text_by_language(html, language).items()):
        if checked is not None:
            chars = {ch: where for ch, where in chars.items() if (lang, ch) not in checked}
            if not chars:
                continue
        stack = font_stack(lang, project.languages)
        fonts = [find_font(family) for family in stack] + extra
        coverages = [_cmap(font.file, font.index) for font in fonts if font.file]
        missing = [ch for ch in chars if not any(ord(ch) in c for c in coverages)]
        if checked is not None:
            checked.update((lang, ch) for ch in chars if ch not in set(missing))
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
                "font-missing", ERROR, location=where, message=
                f"no font covers {len(tofu)} character{'s' if len(tofu) > 1 else ''}: "
                f"{listed}{more}; they would print as empty boxes. Fonts tried: {tried}. "
                "Install a font that has them (Debian: fonts-noto-core, fonts-noto-cjk), "
                "put one in assets/fonts/ with an @font-face rule in styles/custom.css, "
                "or remove the characters"))
        if lent:
            listed = ", ".join(f"{ch!r} U+{ord(ch):04X} from {borrowed[ch]}" for ch in lent)
            problems.append(Problem(
                "font-borrowed", WARNING, location=where, message=
                f"{listed}: not in the fonts for this language ({tried}); printed with a "
                "fallback font"))
    return problems


def require_font_coverage(project: Project, language: str, html: str, *,
                          checked: set[tuple[str, str]] | None = None) -> list[Problem]:
    """Raise BookletError when an edition would print empty boxes; return the warnings."""
    problems = font_problems(project, language, html, checked=checked)
    errors = [p for p in problems if p.level == ERROR]
    if errors:
        raise BookletError.from_problems(errors)
    return problems
