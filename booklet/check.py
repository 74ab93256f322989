"""Check stage: the quality gate a clinic's editor runs before printing.

Readability per chapter (Flesch-Kincaid grade and sentence length, for
English), figures in data tables that the prose must repeat, and the review
dates on the cover. Problems are plain data; the CLI decides what is fatal.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

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
    if project.source_language.split("-")[0] == "en":
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
