"""Review packet: what the reviewing clinician reads before ``booklet approve``.

The patient editions speak to patients; everything meant for the reviewer
(``review_notes`` in booklet.toml, every figure in the tables with its stated
source, numbers a translation moved, what changed since the last approval)
goes into one PDF of its own, ending in a sign-off block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from booklet.core import BookletError
from booklet.project import Project


@dataclass(frozen=True)
class Figure:
    """One cell of a data table that holds a number, with where it is said to come from."""

    table: str  # chapters/NAME.toml
    row: str  # the row's first cell (the regimen)
    column: str
    value: str
    source: str


@dataclass(frozen=True)
class NumberChange:
    """A translated entry whose numbers appear in another order than in the English."""

    where: str  # file:line of the English
    english: str
    translation: str
    english_numbers: tuple[str, ...]
    translated_numbers: tuple[str, ...]


def packet_filename(project: Project, language: str) -> str:
    return f"{project.slug}_{language}_review-packet.pdf"


def table_figures(project: Project) -> list[Figure]:
    """Every cell with a digit in every data table (record forms hold none), in file order."""
    from booklet.content import load_table, table_files

    figures = []
    for path in table_files(project):
        table = load_table(project, path.stem, str(path))
        if table.blank_rows:
            continue
        name = path.relative_to(project.root).as_posix()
        for row in table.rows:
            first = row.get(table.columns[0].key, "") if table.columns else ""
            for column in table.columns:
                value = row.get(column.key, "")
                if re.search(r"\d", value):
                    figures.append(Figure(name, first, column.label, value, table.source))
    return figures


def _numbers_in_order(text: str) -> tuple[str, ...]:
    from booklet import i18n

    plain = i18n.MARKUP.sub(" ", text)
    # One value per number written; "1,000" read both ways is still one number.
    return tuple("/".join(sorted(i18n.number_values(token)))
                 for token in i18n.NUMBER.findall(i18n._ascii_digits(plain)))


def number_order_changes(project: Project, language: str) -> list[NumberChange]:
    """Hook: translated entries whose numbers changed order (the same numbers, moved).

    A number missing or added already stops the build (booklet.i18n); a moved
    number is legitimate grammar most of the time, but "5 of 7" becoming "7 of 5"
    is not, so a person looks at each one. Replace with the translation checks'
    own list when they expose one.
    """
    from booklet import i18n
    from booklet.review import catalog_path

    if language == project.source_language:
        return []
    path = catalog_path(project, language)
    if not path.is_file():
        return []
    catalog = i18n.read_catalog(path, language)
    changes = []
    for message in catalog:
        if not message.id or not message.string or message.fuzzy:
            continue
        pairs = zip(message.id, message.string, strict=False) if isinstance(message.id, tuple) \
            else [(message.id, message.string)]
        for english, translation in pairs:
            if not isinstance(translation, str) or not translation:
                continue
            want, have = _numbers_in_order(english), _numbers_in_order(translation)
            if len(want) > 1 and sorted(want) == sorted(have) and want != have:
                where = ":".join(str(p) for p in message.locations[0]) \
                    if message.locations else str(path)
                changes.append(NumberChange(where, english, translation, want, have))
    return changes


@dataclass(frozen=True)
class NumberAsWord:
    """A translated entry that writes an English number as a word (a dual form), by
    its translator comment '# booklet: number-as-word N'."""

    where: str  # file:line of the English
    english: str
    translation: str
    values: tuple[str, ...]


def numbers_as_words(project: Project, language: str) -> list[NumberAsWord]:
    """Every entry whose translator excused a number from the digit check: read each."""
    from booklet import i18n
    from booklet.quantities import numbers_as_words as excused
    from booklet.review import catalog_path

    path = catalog_path(project, language)
    if language == project.source_language or not path.is_file():
        return []
    found = []
    for message in i18n.read_catalog(path, language):
        values = excused(message.user_comments)
        if message.id and values and isinstance(message.string, str) and message.string:
            where = ":".join(str(p) for p in message.locations[0]) \
                if message.locations else str(path)
            found.append(NumberAsWord(where, str(message.id), message.string,
                                      tuple(dict.fromkeys(values))))
    return found


def changes_since_approval(project: Project, language: str) -> list[str] | None:
    """What changed since the last approval (chapter 05, an image, the CSS), or None
    when the language was never approved. The same list `booklet review status` prints."""
    from booklet.review import review_status

    state = next(s for s in review_status(project) if s.language == language)
    if state.review is None:
        return None
    return list(state.changes)


def packet_html(project: Project, language: str) -> str:
    """The packet as HTML: header, notes, figures, translation checks, content, sign-off."""
    from booklet import content, i18n, render, review
    from booklet.project import theme_dir

    localized = i18n.localize(project, language)
    chapters = content.load_chapters(project, language,
                                     translate_chapter=localized.translate_chapter,
                                     translate=localized.translate)
    previous = review.load_reviews(project).get(language)
    env = render._environment(project, localized.translations)  # the theme's loader and i18n
    template = env.get_template("review-packet.html")
    html = template.render(
        project=project, language=language, lang=language,
        direction="rtl" if render.is_rtl(language) else "ltr",
        language_name=render.language_name(language),
        title=localized.text.get("title") or project.title,
        fingerprint=review.fingerprint(project, language),
        approved=review.approval(project, language), previous=previous,
        figures=[(figure, localized.translate(figure.value) if language !=
                  project.source_language else "") for figure in table_figures(project)],
        number_changes=number_order_changes(project, language),
        numbers_as_words=numbers_as_words(project, language),
        changes=changes_since_approval(project, language),
        chapters=chapters,
        translation=language != project.source_language,
        stylesheet=(theme_dir() / "styles" / "review-packet.css").as_uri(),
        handout_css=(theme_dir() / "styles" / "handout.css").as_uri(),
    )
    return localized.finish(html)


def write_packet(project: Project, language: str | None = None,
                 out_dir: Path | str = "dist") -> Path:
    """Write the review packet PDF for one language and return its path."""
    from booklet import pdf, render

    language = language or project.source_language
    if language not in project.languages:
        raise BookletError(f"--lang {language!r}: not in {project.config_path} key "
                           f"'languages' {list(project.languages)}")
    layout = pdf.layout_pdf(packet_html(project, language), base_url=project.root,
                            allowed_roots=render.stylesheet_roots(project), variant=None)
    out = Path(out_dir)
    if not out.is_absolute():
        out = project.root / out
    return pdf.write_pdf(pdf.write_layout(layout), out / packet_filename(project, language))

