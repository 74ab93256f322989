"""Help at the point of need: the clinic's numbers in every call box, and the triggers.

A reader who is worried looks at the box that says "Call your care team if",
so that box carries the numbers itself. The "When to call" panels (inside the
front cover and on the back cover) list the warning signs the chapters' call
boxes already give: the tool never writes a clinical threshold of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from booklet.content import Chapter
from booklet.project import Clinic

CALL_BOX = re.compile(r'<div class="admonition call"[^>]*>')
DIV_TAG = re.compile(r"<(/?)div\b[^>]*>")
LIST_ITEM = re.compile(r"<li>(.*?)</li>", re.S)


@dataclass(frozen=True)
class Number:
    """One help number with its (untranslated) label and a tel: target."""

    kind: str  # "phone", "after_hours" or "emergency"
    number: str

    @property
    def tel(self) -> str:
        """The number as a tel: URI (RFC 3966 keeps only digits and a leading +)."""
        digits = re.sub(r"[^0-9+]", "", self.number)
        return f"tel:{digits}"


def help_numbers(clinic: Clinic) -> list[Number]:
    """The clinic's numbers in the order a worried reader needs them: day, night, emergency."""
    return [Number(kind, getattr(clinic, kind)) for kind in ("phone", "after_hours", "emergency")
            if getattr(clinic, kind)]


def _call_boxes(fragment: str) -> list[tuple[int, int]]:
    """(start, end-of-content) offsets of every call box; end is where its </div> starts."""
    spans = []
    for match in CALL_BOX.finditer(fragment):
        depth = 0
        for tag in DIV_TAG.finditer(fragment, match.start()):
            depth += -1 if tag.group(1) else 1
            if depth == 0:
                spans.append((match.start(), tag.start()))
                break
    return spans


def call_triggers(chapters: list[Chapter]) -> list[str]:
    """Every list item of every call box (HTML, already in the edition's language), once."""
    triggers: list[str] = []
    for chapter in chapters:
        for start, end in _call_boxes(chapter.html):
            for item in LIST_ITEM.findall(chapter.html[start:end]):
                item = item.strip()
                if item and item not in triggers:
                    triggers.append(item)
    return triggers


def with_call_numbers(chapters: list[Chapter], numbers_html: str) -> list[Chapter]:
    """Put numbers_html at the end of every call box of every chapter."""
    out = []
    for chapter in chapters:
        fragment = chapter.html
        for _start, end in reversed(_call_boxes(fragment)):
            fragment = fragment[:end] + numbers_html + fragment[end:]
        out.append(replace(chapter, html=fragment) if fragment != chapter.html else chapter)
    return out


BOX_TITLE = re.compile(r'(<div class="admonition (\w+)"[^>]*>\s*<p class="admonition-title">)')


def with_box_icons(chapters: list[Chapter], icons: dict[str, str]) -> list[Chapter]:
    """Start each box title with its kind's icon (an <img> with alt text), so kinds differ
    at a glance and in grayscale, not by colour alone."""

    def add(match: re.Match) -> str:
        return match.group(1) + icons.get(match.group(2), "")

    return [replace(chapter, html=BOX_TITLE.sub(add, chapter.html)) for chapter in chapters]


def call_title(chapters: list[Chapter]) -> str:
    """The title of the first call box (the chapters' own words, already translated)."""
    for chapter in chapters:
        for start, end in _call_boxes(chapter.html):
            found = re.search(r'<p class="admonition-title">(.*?)</p>', chapter.html[start:end],
                              re.S)
            if found:
                return found.group(1).strip()
    return ""
