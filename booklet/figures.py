"""Figures whose labels translate: the ``<text>`` of an SVG figure is catalog text.

A labelled diagram ("spleen", "liver") is only useful if its labels are in the
reader's language. Each label of a project's SVG files becomes a catalog
entry like any sentence (``booklet i18n extract`` lists it with file and
line); at build time an edition in another language gets the figure with its
labels replaced, inlined as a ``data:`` image so the renderer's sandbox still
reads nothing outside the project.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

from booklet.content import Chapter
from booklet.project import Project

SVG_NS = "http://www.w3.org/2000/svg"
LABEL_TAGS = {f"{{{SVG_NS}}}text", f"{{{SVG_NS}}}tspan", "text", "tspan"}
# Chapters point at images relative to the project (the HTML's base URL).
SVG_IMAGE = re.compile(r'(<img\b[^>]*?\ssrc=")([^":]+\.svg|file://[^"]+\.svg)(")')


def svg_files(project: Project) -> list[Path]:
    """The project's own SVG files (figures in assets/ and chapters/), in a stable order."""
    found: list[Path] = []
    for folder in (project.root / "assets", project.chapters_dir):
        if folder.is_dir():
            found += sorted(folder.rglob("*.svg"))
    return found


def _parse(data: bytes) -> ElementTree.Element | None:
    try:
        return ElementTree.fromstring(data)
    except ElementTree.ParseError:
        return None  # not our business here: the renderer reports an unreadable image


def svg_labels(data: bytes) -> list[str]:
    """Every label (text of a <text> or <tspan>) of an SVG, once, in document order."""
    root = _parse(data)
    labels: list[str] = []
    for element in root.iter() if root is not None else ():
        if element.tag in LABEL_TAGS:
            for text in (element.text, *(child.tail for child in element)):
                text = (text or "").strip()
                if text and text not in labels:
                    labels.append(text)
    return labels


def segments(project: Project) -> Iterator:
    """Catalog segments for every SVG label, with the file and line where it is written."""
    from booklet.i18n import Segment

    for path in svg_files(project):
        data = path.read_bytes()
        lines = data.decode("utf-8", "replace").split("\n")
        name = path.relative_to(project.root).as_posix()
        for label in svg_labels(data):
            line = next((n for n, text in enumerate(lines, 1) if label in text), 1)
            yield Segment(label, name, line, "figure label")


def translate_svg(data: bytes, gettext: Callable[[str], str]) -> bytes:
    """The SVG with every label replaced by its translation (untranslated ones unchanged)."""
    root = _parse(data)
    if root is None:
        return data
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", "http://www.w3.org/1999/xlink")

    def swap(text: str | None) -> str | None:
        stripped = (text or "").strip()
        if not stripped:
            return text
        return text.replace(stripped, gettext(stripped))

    for element in root.iter():
        if element.tag in LABEL_TAGS:
            element.text = swap(element.text)
            for child in element:
                child.tail = swap(child.tail)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def localize_figures(chapters: list[Chapter], project: Project,
                     gettext: Callable[[str], str]) -> list[Chapter]:
    """Point every project SVG with labels at its translated copy, inlined as data:."""
    cache: dict[str, str] = {}

    def inline(match: re.Match) -> str:
        url = match.group(2)
        if url not in cache:
            path = Path(unquote(urlsplit(url).path))
            path = path if path.is_absolute() else (project.root / path).resolve()
            cache[url] = url
            if path.is_relative_to(project.root) and path.is_file():
                data = path.read_bytes()
                if svg_labels(data):
                    encoded = base64.b64encode(translate_svg(data, gettext)).decode()
                    cache[url] = f"data:image/svg+xml;base64,{encoded}"
        return match.group(1) + cache[url] + match.group(3)

    return [replace(chapter, html=SVG_IMAGE.sub(inline, chapter.html)) for chapter in chapters]
