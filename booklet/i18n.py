"""i18n stage: translatable segments of chapters, catalogs, applying translations.

A chapter is cut into blocks the way a translator thinks of it: the title,
each heading, paragraph, list item, box title, table cell, glossary term and
definition. Each block's inline Markdown is one catalog entry, and a
translated chapter is the English Markdown with every block's text swapped,
so structure (boxes, tables, record pages) can never drift between languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

HEADING = re.compile(r"^(#{1,6}\s+)(.*?)(\s+\{[^}]*\})?\s*$")
LIST_ITEM = re.compile(r"^([-*+]\s+|\d+[.)]\s+)(.*)$")
ADMONITION = re.compile(r'^(!!!\s+[\w-]+(?:\s+[\w-]+)*\s+")(.*)("\s*)$')
DEFINITION = re.compile(r"^(:\s+)(.*)$")
FOOTNOTE = re.compile(r"^(\[\^[^\]]+\]:\s+)(.*)$")
DIRECTIVE = re.compile(r"^:::\s")
ATTRIBUTES_ONLY = re.compile(r"^\{:?[^}]*\}\s*$")
TABLE_ROW = re.compile(r"^\|.*\|\s*$")
TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


@dataclass(frozen=True)
class Block:
    """One translatable unit of a Markdown file, with how to put it back."""

    kind: str  # title, heading, paragraph, item, box-title, cell, definition, footnote
    text: str
    line: int  # 1-based line in the file where the block starts


# A piece is either a verbatim line or a block with the text around it.
_Piece = tuple[str, str, Block | None, str]  # (indent + prefix, "", block, suffix) or (line,)


def _block_start(line: str) -> bool:
    return bool(HEADING.match(line) or LIST_ITEM.match(line) or ADMONITION.match(line)
                or DEFINITION.match(line) or FOOTNOTE.match(line) or DIRECTIVE.match(line)
                or TABLE_ROW.match(line) or ATTRIBUTES_ONLY.match(line))


def _pieces(lines: list[str], first: int, indent: str) -> Iterator[_Piece]:
    """Yield (prefix, block, suffix) for blocks and (line, None, "") for verbatim lines."""
    i = 0
    while i < len(lines):
        raw = lines[i]
        number = first + i
        if not raw.strip():
            yield raw, None, ""
            i += 1
            continue
        line = raw[len(indent):] if raw.startswith(indent) else raw.lstrip()
        if DIRECTIVE.match(line) or ATTRIBUTES_ONLY.match(line) or TABLE_RULE.match(line):
            yield raw, None, ""
            i += 1
            continue
        if match := ADMONITION.match(line):
            yield indent + match.group(1), Block("box-title", match.group(2), number), \
                match.group(3).rstrip()
            body_indent = indent + "    "
            j = i + 1
            while j < len(lines) and (lines[j].startswith(body_indent) or not lines[j].strip()):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1  # trailing blank lines belong to the outer level
            yield from _pieces(lines[i + 1:j], number + 1, body_indent)
            i = j
            continue
        if match := HEADING.match(line):
            yield indent + match.group(1), Block("heading", match.group(2), number), \
                match.group(3) or ""
            i += 1
            continue
        if TABLE_ROW.match(line):
            cells = line.strip().strip("|").split("|")
            parts = []
            for cell in cells:
                parts.append(Block("cell", cell.strip(), number) if cell.strip() else None)
            yield indent + "|", ("cells", parts), "|"
            i += 1
            continue
        for kind, pattern in (("item", LIST_ITEM), ("definition", DEFINITION),
                              ("footnote", FOOTNOTE)):
            if match := pattern.match(line):
                prefix, text = match.group(1), [match.group(2)]
                break
        else:
            kind, prefix, text = "paragraph", "", [line]
        j = i + 1
        # Continuation lines: not blank, not the start of another block.
        while j < len(lines) and lines[j].strip():
            nxt = lines[j][len(indent):] if lines[j].startswith(indent) else lines[j]
            if _block_start(nxt.lstrip() if kind != "paragraph" else nxt):
                break
            text.append(nxt.strip())
            j += 1
        if kind == "paragraph" and j < len(lines) and DEFINITION.match(
                lines[j][len(indent):] if lines[j].startswith(indent) else lines[j]):
            kind = "term"
        yield indent + prefix, Block(kind, " ".join(t.strip() for t in text), number), ""
        i = j


def _front_matter(lines: list[str]) -> tuple[int, Block | None]:
    """Return (index after front matter, title block) for a chapter file."""
    if not lines or lines[0].strip() != "---":
        return 0, None
    title = None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return index + 1, title
        key, _, value = lines[index].partition(":")
        if key.strip() == "title":
            title = Block("title", value.strip().strip('"').strip("'"), index + 1)
    return 0, None


def markdown_blocks(text: str) -> list[Block]:
    """List every translatable block of a chapter file, in reading order."""
    return [block for _, block in _walk(text) if block is not None]


def _walk(text: str) -> Iterator[tuple[str, Block | None]]:
    lines = text.split("\n")
    start, title = _front_matter(lines)
    if title:
        yield "title", title
    for prefix, block, _suffix in _pieces(lines[start:], start + 1, ""):
        if isinstance(block, tuple):
            for cell in block[1]:
                if cell is not None:
                    yield "cell", cell
        else:
            yield prefix, block


def translate_markdown(text: str, lookup: Callable[[Block], str]) -> str:
    """Return the chapter with every block's text replaced by ``lookup(block)``."""
    lines = text.split("\n")
    start, title = _front_matter(lines)
    out = list(lines[:start])
    if title:
        out = [line if not line.partition(":")[0].strip() == "title"
               else f"title: {lookup(title)}" for line in out]
    for prefix, block, suffix in _pieces(lines[start:], start + 1, ""):
        if block is None:
            out.append(prefix)
        elif isinstance(block, tuple):
            cells = [f" {lookup(cell)} " if cell else " " for cell in block[1]]
            out.append(prefix + "|".join(cells) + suffix)
        else:
            out.append(prefix + lookup(block) + suffix)
    return "\n".join(out)
