"""Core types at the bottom of the import graph: editions, formats, problems, the error.

Every stage imports from here and nothing here imports a stage, so the
stages can depend on one another without cycles. Nothing here imports
click, WeasyPrint or Babel.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Edition:
    """One PDF: a language in a format."""

    language: str
    format: str


@dataclass(frozen=True)
class Format:
    """A print profile: page geometry and what happens to the PDF afterwards."""

    name: str
    page_size: str  # CSS @page size
    stylesheet: str  # theme file under styles/, layered on handout.css
    pdf_variant: str = "pdf/ua-1"
    impose_on: str | None = None  # sheet size for saddle-stitch imposition
    bleed_mm: float = 0.0
    pad_to: int = 1  # page count multiple (4 for booklets)
    description: str = ""
    marks: str = ""  # CSS printer's marks, e.g. "crop cross"
    mirrored: bool = False  # facing pages: inner/outer margins, page numbers outside
    image_dpi: int | None = None  # downsample images above this resolution
    link_glossary: bool = False  # glossary words in the text link to their definitions


FORMATS: dict[str, Format] = {
    f.name: f
    for f in (
        Format("a4", "A4", "format-a4.css", description="A4 pages for office printers"),
        Format("letter", "letter", "format-letter.css", description="US Letter pages"),
        Format("a5-booklet", "A5", "format-a5-booklet.css", impose_on="a4", pad_to=4,
               mirrored=True, description="A5 booklet, also imposed two-up on A4 sheets "
               "for duplex printing (flip on short edge), folding and stapling"),
        Format("half-letter-booklet", "5.5in 8.5in", "format-half-letter-booklet.css",
               impose_on="letter", pad_to=4, mirrored=True,
               description="Half-letter booklet, also imposed two-up on Letter sheets"),
        Format("large-print", "A4", "format-large-print.css",
               description="A4 large print: 18 pt body, stacked table"),
        Format("press", "A4", "format-press.css", pdf_variant="pdf/x-4", bleed_mm=3,
               marks="crop cross", description="A4 for a print shop: PDF/X-4, 3 mm bleed, "
               "crop and registration marks"),
        Format("press-x1a", "A4", "format-press-x1a.css", pdf_variant="pdf/x-1a", bleed_mm=3,
               marks="crop cross", description="As press, but PDF/X-1a for print shops "
               "that ask for it (no transparency)"),
        Format("screen", "A4", "format-screen.css", image_dpi=150, link_glossary=True,
               description="For email and the web: compact, linked, smallest file"),
    )
}

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """Something a stage found: a value, so the caller decides what is fatal.

    ``code`` is stable (``image-unreadable``) for scripts and tests; ``location``
    says where (``chapters/01-x.md:12``, ``booklet.toml: key 'clinic.phone'``,
    ``ar a4 edition, page 3``); ``hint`` says how to fix it.
    """

    code: str
    level: str  # ERROR or WARNING
    message: str
    location: str = ""
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: {self.message}" if self.location else self.message
        return f"{text}; {self.hint}" if self.hint else text

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "level": self.level, "message": self.message,
                "location": self.location, "hint": self.hint}

    def as_error(self) -> Problem:
        """The same problem raised to an error (``--strict``)."""
        return Problem(self.code, ERROR, self.message, self.location, self.hint)


def as_problems(items, code: str = "warning", level: str = WARNING) -> tuple[Problem, ...]:
    """Problems from a mix of Problems and plain strings (stages not yet converted).

    A string that starts with ``file:line: `` keeps that as its location.
    """
    import re

    problems = []
    for item in items:
        if not isinstance(item, Problem):
            found = re.match(r"(\S[^:\n]*:\d+): (.*)", str(item), re.S)
            item = (Problem(code, level, found.group(2), found.group(1)) if found
                    else Problem(code, level, str(item)))
        problems.append(item)
    return tuple(problems)


class BookletError(Exception):
    """A problem the user can fix: says what, where (file:line or key) and how.

    The library raises it; only the command line turns it into a message and an
    exit code. ``problems`` carries the individual problems when there are
    several (``--json`` prints them).
    """

    exit_code = 1

    def __init__(self, message: str = "", problems: tuple[Problem, ...] | list[Problem] = ()):
        problems = tuple(problems)
        if not message and problems:
            message = "\n".join(str(p) for p in problems)
        super().__init__(message)
        self.message = message
        self.problems = problems or (Problem("error", ERROR, message),)

    def __str__(self) -> str:
        return self.message

    @classmethod
    def from_problems(cls, problems: list[Problem], heading: str = "") -> BookletError:
        """One error for several problems, each on its own line under an optional heading."""
        lines = [heading] if heading else []
        lines += [("  " if heading else "") + str(p) for p in problems]
        return cls("\n".join(lines), problems)


@dataclass(frozen=True)
class Outcome:
    """What happened to one edition in a build of many: its problems, or its error."""

    edition: Edition
    problems: tuple[Problem, ...] = field(default=())
    error: str = ""
