"""Preflight stage: read a written PDF back and check what a reader and a printer get.

The checks read the file, not the HTML: the tags (PDF/UA structure tree), the
fonts and every text-showing operator with its size and place, the page boxes,
the links and the named destinations. So they catch what layout did, which
no check of the sources can (a table that pushed a page two thirds empty, a
footer that wrapped, a stylesheet that set a note in 9 pt).

Each check is registered (``@check``) with its group and the stable codes it
reports; each returns ``core.Problem`` values whose location names the
edition and the page.
``booklet build`` runs them on every edition it writes; ``booklet check``
runs them over ``dist/``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import struct
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from booklet.core import ERROR, FORMATS, WARNING, BookletError, Edition, Problem

PT_PER_MM = 72 / 25.4
MIN_BODY_PT = 12.0  # plain-language body text (DESIGN.md)
MIN_LARGE_PRINT_PT = 18.0  # large print: every piece of text
MIN_FURNITURE_PT = 9.0  # running header, footer line, page number
MIN_TABLE_CELL_PT = 11.0  # DESIGN.md: the regimen table at >= 11 pt in cells
SAFE_MARGIN_MM = 3.0  # text closer than this to the trimmed edge may be cut off
FURNITURE_ZONE = 0.09  # header/footer: the top and bottom 9 % of the page
DISPLAY_PT = 48.0  # larger text is display type (the DRAFT mark), not body
MIN_FULL = 1 / 3  # a body page less full than this is a hole
SIZE_TOLERANCE = 0.05
CONTRAST_TARGET = 7.0  # the theme's aim for all text (DESIGN.md; WCAG 2 AAA)
CONTRAST_FLOOR = 4.5  # below this, text is hard to read for many (WCAG 2 AA)
PAPER: tuple[float, float, float] = (1.0, 1.0, 1.0)

# ---------------------------------------------------------------------------
# Reading the PDF: text runs with their size, place and font
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One text-showing operator as drawn: its text, box (PDF points, y up) and size."""

    page: int  # 1-based
    text: str
    x0: float
    x1: float
    y: float  # baseline
    size: float  # type size in points, as printed
    font: str
    mcid: int | None
    glyph0: bool = False  # draws glyph 0 (.notdef): an empty box on paper
    scale: float = 1.0  # the CTM's scale: text inside a scaled drawing (an SVG) differs
    colour: RGB | None = None  # its fill colour; None when invisible or not a plain colour
    alpha: float = 1.0
    layer: int = 0  # how many fills of its page were painted before it (what lies under it)
    decoration: bool = False  # the DRAFT mark's letters: meant to be faint


RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Fill:
    """A filled shape or an image as painted: what text drawn later may sit on."""

    box: tuple[float, float, float, float]  # its extent, clipped: x0, y0, x1, y1
    outlines: tuple[tuple[tuple[float, float], ...], ...]  # subpaths (curves by their points)
    even_odd: bool
    colour: RGB | None  # None: an image (its colours are read from pixels)
    alpha: float = 1.0

    def covers(self, x: float, y: float) -> bool:
        x0, y0, x1, y1 = self.box
        if not (x0 <= x <= x1 and y0 <= y <= y1):
            return False
        if self.colour is None:
            return True  # an image covers its box
        winding = crossings = 0
        for outline in self.outlines:
            for (ax, ay), (bx, by) in zip(outline, outline[1:] + outline[:1], strict=False):
                if (ay <= y) != (by <= y) and x < ax + (y - ay) * (bx - ax) / (by - ay):
                    crossings += 1
                    winding += 1 if by > ay else -1
        return bool(crossings % 2) if self.even_odd else winding != 0


@dataclass
class _Font:
    name: str
    two_byte: bool
    widths: dict[int, float]
    default_width: float
    to_unicode: dict[int, str]
    identity_gid: bool  # CID == GID, so code 0 is glyph 0
    embedded: bool
    scale: float = 0.001  # glyph space to text space (Type 3 fonts have their own)


_HEX = re.compile(rb"<([0-9a-fA-F]+)>")


def _parse_cmap(data: bytes) -> dict[int, str]:
    """A ToUnicode CMap's bfchar and bfrange entries (what WeasyPrint and most tools write)."""
    mapping: dict[int, str] = {}

    def text(hexes: bytes) -> str:
        raw = bytes.fromhex(hexes.decode())
        try:
            return raw.decode("utf-16-be")
        except UnicodeDecodeError:
            return ""

    for block in re.findall(rb"beginbfchar(.*?)endbfchar", data, re.S):
        codes = _HEX.findall(block)
        for src, dst in zip(codes[::2], codes[1::2], strict=False):
            mapping[int(src, 16)] = text(dst)
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", data, re.S):
        for line in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[.*?\]|<[0-9a-fA-F]+>)",
                               block, re.S):
            lo, hi, dst = int(line[0], 16), int(line[1], 16), line[2]
            if dst.startswith(b"["):
                for offset, item in enumerate(_HEX.findall(dst)):
                    mapping[lo + offset] = text(item)
            else:
                start = bytes.fromhex(dst[1:-1].decode())
                for offset in range(min(hi - lo + 1, 65536)):
                    value = int.from_bytes(start, "big") + offset
                    mapping[lo + offset] = text(value.to_bytes(len(start), "big").hex().encode())
    return mapping


def _load_font(font: Any) -> _Font:
    import pikepdf

    subtype = str(font.get("/Subtype", ""))
    name = str(font.get("/BaseFont", "/?"))[1:]
    to_unicode = {}
    if isinstance(font.get("/ToUnicode"), pikepdf.Stream):
        try:
            to_unicode = _parse_cmap(font.ToUnicode.read_bytes())
        except (pikepdf.PdfError, ValueError):
            to_unicode = {}
    if subtype == "/Type0":
        descendant = font.DescendantFonts[0]
        widths: dict[int, float] = {}
        w = list(descendant.get("/W", []))
        i = 0
        while i + 1 < len(w):
            first = int(w[i])
            if isinstance(w[i + 1], pikepdf.Array):
                for offset, width in enumerate(w[i + 1]):
                    widths[first + offset] = float(width)
                i += 2
            elif i + 2 < len(w):
                for code in range(first, int(w[i + 1]) + 1):
                    widths[code] = float(w[i + 2])
                i += 3
            else:
                break
        descriptor = descendant.get("/FontDescriptor", {})
        gid_map = descendant.get("/CIDToGIDMap")
        identity = gid_map is None or str(gid_map) == "/Identity"
        return _Font(name, str(font.get("/Encoding", "")) in ("/Identity-H", "/Identity-V"),
                     widths, float(descendant.get("/DW", 1000)), to_unicode, identity,
                     _has_font_file(descriptor))
    first = int(font.get("/FirstChar", 0))
    widths = {first + i: float(w) for i, w in enumerate(font.get("/Widths", []))}
    scale = 0.001
    embedded = _has_font_file(font.get("/FontDescriptor", {}))
    if subtype == "/Type3":
        scale = float(font.FontMatrix[0]) if "/FontMatrix" in font else 0.001
        embedded = True  # its glyphs are drawn in the file
    return _Font(name, False, widths, 0.0, to_unicode, False, embedded, scale)


def _has_font_file(descriptor: Any) -> bool:
    return any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))


def _multiply(m: tuple, n: tuple) -> tuple:
    a, b, c, d, e, f = m
    A, B, C, D, E, F = n  # noqa: N806
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D,
            e * A + f * C + E, e * B + f * D + F)


def _apply(m: tuple, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = m
    return x * a + y * c + e, x * b + y * d + f


IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
DRAFT_FORM_KEY = "/BookletDraft"  # marks the DRAFT stamp's form (booklet/pdf.py)
_COLOUR_OPERATORS = frozenset(("g", "rg", "k", "cs", "sc", "scn"))


def _extent(points: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _intersect(a: tuple | None, b: tuple | None) -> tuple | None:
    """The overlap of two boxes (None stands for no limit); None again when empty."""
    if a is None or b is None:
        return b if a is None else a
    box = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    return box if box[0] <= box[2] and box[1] <= box[3] else (box[0], box[1], box[0], box[1])


def _components(name: str, resources: Any) -> int:
    """Colour components of a colour space, 0 for one not measured (Pattern, Separation)."""
    device = {"/DeviceGray": 1, "/DeviceRGB": 3, "/DeviceCMYK": 4, "/CalGray": 1,
              "/CalRGB": 3}
    if name in device:
        return device[name]
    space = resources.get("/ColorSpace", {}).get(name) if resources is not None else None
    try:
        if space is not None and str(space[0]) == "/ICCBased":
            return int(space[1].get("/N", 0)) if int(space[1].get("/N", 0)) in (1, 3, 4) else 0
        if space is not None and str(space[0]) in device:
            return device[str(space[0])]
    except (TypeError, IndexError, KeyError, ValueError):
        pass
    return 0


def _device_rgb(values: list[float]) -> RGB | None:
    """Gray, RGB or CMYK values as the RGB a viewer shows (CMYK naively, as on screen)."""
    values = [min(max(v, 0.0), 1.0) for v in values]
    if len(values) == 1:
        return values[0], values[0], values[0]
    if len(values) == 3:
        return values[0], values[1], values[2]
    if len(values) == 4:
        c, m, y, k = values
        return (1 - c) * (1 - k), (1 - m) * (1 - k), (1 - y) * (1 - k)
    return None


# ---------------------------------------------------------------------------
# Content streams as plain Python values, tokenized here
# ---------------------------------------------------------------------------
# pikepdf turns every operand into a Python object through its C++ binding,
# and the text of a page is thousands of one-glyph strings: reading a 30-page
# handout that way took most of a second. The streams WeasyPrint writes are
# tokenized here with one regular expression instead (numbers as floats, names
# as "/Name", strings as bytes, arrays as lists, dictionaries as dicts); a
# stream with what this does not read (an inline image, a string with nested
# brackets) is read by pikepdf and converted to the same values.

_NUMBER = rb"[+-]?(?:\d+\.?\d*|\.\d+)"
_TOKEN = re.compile(rb"""
    (?:\s+|%[^\r\n]*)
  | \[(?P<text>(?:\s*(?:<[0-9A-Fa-f]*>|""" + _NUMBER + rb"""))*)\s*\]
  | (?P<num>(?:""" + _NUMBER + rb"""(?:\s+|(?=[()<>\[\]{}/%])|$))+)
  | (?P<name>/[^\s()<>\[\]{}/%]*)
  | <(?P<hex>[0-9A-Fa-f\s]*)>
  | (?P<lit>\((?:[^()\\]|\\.)*\))
  | (?P<open><<|\[)
  | (?P<close>>>|\])
  | (?P<op>[^\s()<>\[\]{}/%]+)
  | (?P<other>.)
""", re.X | re.S)
_LITERAL_ESCAPE = re.compile(rb"\\([0-7]{1,3}|\r\n|[\s\S])")
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


_TEXT_ITEM = re.compile(rb"<([0-9A-Fa-f]*)>|(" + _NUMBER + rb")")
_HEX_STRING = re.compile(rb"<([0-9A-Fa-f]*)>")
_WHOLE_CODES = {True: re.compile(rb"<(?:[0-9A-Fa-f]{4})*>"),
                False: re.compile(rb"<(?:[0-9A-Fa-f]{2})*>")}


class _TextArray(bytes):
    """An array of hex strings and numbers (a TJ operand), kept as its bytes: its
    glyphs are read in one go when it is shown."""

    def values(self) -> list:
        """Each string and number, as the array holds them."""
        return [float(n) if n else bytes.fromhex((h + b"0" * (len(h) % 2)).decode())
                for h, n in _TEXT_ITEM.findall(self)]

    def items(self, two_byte: bool) -> tuple[list, float]:
        """(the strings joined into one when that reads the same, else each; the sum of
        the numbers)."""
        hexes = _HEX_STRING.findall(self)
        adjust = sum(map(float, _HEX_STRING.sub(b" ", self).split()))
        whole = _WHOLE_CODES[two_byte]  # strings of whole codes join without a shift
        if len(whole.findall(self)) == len(hexes):
            return [bytes.fromhex(b"".join(hexes).decode())], adjust
        return [bytes.fromhex((h + b"0" * (len(h) % 2)).decode()) for h in hexes], adjust


class _Unreadable(Exception):
    """A content stream the tokenizer leaves to pikepdf."""


def _literal(raw: bytes) -> bytes:
    def escape(match: re.Match) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        if code in (b"\r\n", b"\n", b"\r"):
            return b""  # a line continuation
        return _ESCAPES.get(code, code)

    return _LITERAL_ESCAPE.sub(escape, raw[1:-1])


def _instructions(data: bytes) -> list[tuple[list, str]]:
    """(operands, operator) of a content stream, operands as plain Python values."""
    found: list[tuple[list, str]] = []
    stack: list[list] = [[]]  # the operands, then each open array or dictionary
    kinds: list[bytes] = []
    for match in _TOKEN.finditer(data):
        kind = match.lastgroup
        if kind is None:
            continue
        if kind == "text":
            stack[-1].append(_TextArray(match.group(kind)))
        elif kind == "num":  # a run of numbers: most operands are
            stack[-1].extend(map(float, match.group(kind).split()))
        elif kind == "name":
            stack[-1].append(match.group(kind).decode("latin-1"))
        elif kind == "hex":
            digits = re.sub(rb"\s", b"", match.group(kind))
            stack[-1].append(bytes.fromhex((digits + b"0" * (len(digits) % 2)).decode()))
        elif kind == "op":
            word = match.group(kind)
            if len(stack) > 1:  # true, false, null inside an array or dictionary
                if word not in (b"true", b"false", b"null"):
                    raise _Unreadable(word)
                stack[-1].append({b"true": True, b"false": False, b"null": None}[word])
                continue
            if word in (b"BI", b"ID", b"EI"):
                raise _Unreadable(word)
            if word in (b"true", b"false", b"null"):
                stack[-1].append({b"true": True, b"false": False, b"null": None}[word])
                continue
            found.append((stack[0], word.decode("latin-1")))
            stack[0] = []
        elif kind == "lit":
            stack[-1].append(_literal(match.group(kind)))
        elif kind == "open":
            kinds.append(match.group(kind))
            stack.append([])
        elif kind == "close":
            if not kinds or (kinds.pop() == b"[") != (match.group(kind) == b"]"):
                raise _Unreadable(match.group(kind))
            items = stack.pop()
            if match.group(kind) == b"]":
                stack[-1].append(items)
            else:
                stack[-1].append(dict(zip(items[::2], items[1::2], strict=False)))
        else:
            raise _Unreadable(match.group(kind))
    return found


def _plain(value: Any) -> Any:
    """A pikepdf operand as the tokenizer's plain value."""
    import pikepdf

    if isinstance(value, pikepdf.Name):
        return str(value)
    if isinstance(value, pikepdf.String):
        return bytes(value)
    if isinstance(value, pikepdf.Array):
        return [_plain(v) for v in value]
    if isinstance(value, pikepdf.Dictionary):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _content_instructions(content: Any) -> list[tuple[list, str]]:
    """The instructions of a page (its streams joined) or of a form XObject."""
    import pikepdf

    if isinstance(content, pikepdf.Page):
        streams = content.obj.get("/Contents")
        streams = list(streams) if isinstance(streams, pikepdf.Array) else [streams]
        data = b"\n".join(s.read_bytes() for s in streams if isinstance(s, pikepdf.Stream))
    else:
        data = content.read_bytes()
    try:
        return _instructions(data)
    except (_Unreadable, ValueError):
        return [([_plain(v) for v in operands], str(operator))
                for operands, operator in pikepdf.parse_content_stream(content)]



class _PageReader:
    """Interpret one page's content stream (and its forms) far enough to place the text.

    Tracks the graphics and text state (cm, q/Q, BT, Tm, Td, TD, T*, TL, Tf,
    Tz, Tc, Tw, Ts) and the marked-content ids, and turns every Tj, TJ, ' and "
    into a Run. Also notes where paths and images are drawn, for page fullness.
    """

    def __init__(self, number: int, fonts: dict):
        self.number = number
        self.fonts = fonts  # objgen -> _Font, shared across pages
        self.runs: list[Run] = []
        self.marks: list[tuple[float, float, float, float]] = []  # boxes of paths, images
        self.font_names: set[str] = set()
        self.unembedded: set[str] = set()
        self.fills: list[Fill] = []

    def read(self, content: Any, resources: Any, ctm: tuple = IDENTITY, depth: int = 0,
             inherited: dict | None = None) -> None:

        if depth > 8:
            return
        stack: list[tuple] = []
        mcids: list[int | None] = []
        state = {"ctm": ctm, "font": None, "size": 0.0, "tc": 0.0, "tw": 0.0, "th": 1.0,
                 "tl": 0.0, "rise": 0.0, "tr": 0, "fill": (0.0, 0.0, 0.0), "space": 3,
                 "ca": 1.0, "clip": None, "decoration": False}
        if inherited:
            state.update({k: inherited[k] for k in ("fill", "space", "ca", "clip", "tr",
                                                    "decoration")})
        tm = lm = IDENTITY
        path_points: list[tuple[float, float]] = []
        outlines: list[list[tuple[float, float]]] = []
        clip_next = False
        for operands, op in _content_instructions(content):
            if op in _COLOUR_OPERATORS:
                self._colour(op, operands, state, resources)
            elif op == "gs":
                ext = resources.get("/ExtGState", {}).get(str(operands[0])) \
                    if resources is not None else None
                if ext is not None and "/ca" in ext:
                    state["ca"] = float(ext.ca)
            elif op == "Tr":
                state["tr"] = int(operands[0])
            elif op == "q":
                stack.append(dict(state))
            elif op == "Q" and stack:
                state = stack.pop()
            elif op == "cm":
                state["ctm"] = _multiply(tuple(float(v) for v in operands), state["ctm"])
            elif op in ("BDC", "BMC"):
                mcid = None
                if op == "BDC" and len(operands) > 1 and isinstance(operands[1], dict):
                    mcid = operands[1].get("/MCID")
                    mcid = int(mcid) if mcid is not None else None
                mcids.append(mcid if mcid is not None else (mcids[-1] if mcids else None))
            elif op == "EMC" and mcids:
                mcids.pop()
            elif op == "BT":
                tm = lm = IDENTITY
            elif op == "Tm":
                tm = lm = tuple(float(v) for v in operands)
            elif op in ("Td", "TD"):
                tx, ty = float(operands[0]), float(operands[1])
                if op == "TD":
                    state["tl"] = -ty
                tm = lm = _multiply((1, 0, 0, 1, tx, ty), lm)
            elif op == "T*":
                tm = lm = _multiply((1, 0, 0, 1, 0, -state["tl"]), lm)
            elif op == "TL":
                state["tl"] = float(operands[0])
            elif op == "Tc":
                state["tc"] = float(operands[0])
            elif op == "Tw":
                state["tw"] = float(operands[0])
            elif op == "Tz":
                state["th"] = float(operands[0]) / 100
            elif op == "Ts":
                state["rise"] = float(operands[0])
            elif op == "Tf":
                font = resources.get("/Font", {}).get(operands[0]) if resources else None
                state["font"] = self._font(font) if font is not None else None
                state["size"] = float(operands[1])
            elif op in ("Tj", "TJ", "'", '"'):
                if op in ("'", '"'):
                    tm = lm = _multiply((1, 0, 0, 1, 0, -state["tl"]), lm)
                    if op == '"':
                        state["tw"], state["tc"] = float(operands[0]), float(operands[1])
                items = operands[-1] if op == "TJ" else [operands[-1]]
                tm = self._show(items, tm, state, mcids[-1] if mcids else None)
            elif op in ("m", "l", "c", "v", "y", "re"):
                values = [float(v) for v in operands]
                if op == "re":
                    x, y, w, h = values
                    path_points += [(x, y), (x + w, y + h)]
                    outlines.append([(x, y), (x + w, y), (x + w, y + h), (x, y + h)])
                else:
                    points = list(zip(values[::2], values[1::2], strict=False))
                    path_points += points
                    if op == "m" or not outlines:
                        outlines.append([])
                    outlines[-1] += points
            elif op in ("W", "W*"):
                clip_next = True
            elif op in ("S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "n"):
                ctm_now = state["ctm"]
                if op != "n":
                    self._mark([_apply(ctm_now, x, y) for x, y in path_points])
                if op[0] in "fFBb" and path_points:
                    self._fill([[_apply(ctm_now, x, y) for x, y in o] for o in outlines if o],
                               op.endswith("*"), state)
                if clip_next and path_points:
                    state["clip"] = _intersect(state["clip"],
                                               _extent([_apply(ctm_now, x, y)
                                                        for x, y in path_points]))
                path_points, outlines, clip_next = [], [], False
            elif op == "INLINE IMAGE":
                self._image(state)
            elif op == "sh":  # a gradient over the clipped area: read from pixels
                self._picture(state["clip"] or (-1e6, -1e6, 1e6, 1e6))
            elif op == "Do" and resources is not None:
                xobject = resources.get("/XObject", {}).get(operands[0])
                if xobject is None:
                    continue
                if xobject.get("/Subtype") == "/Image":
                    self._image(state)
                elif xobject.get("/Subtype") == "/Form":
                    matrix = tuple(float(v) for v in xobject.get("/Matrix", IDENTITY))
                    inner = dict(state, decoration=state["decoration"]
                                 or bool(xobject.get(DRAFT_FORM_KEY)))
                    self.read(xobject, xobject.get("/Resources", resources),
                              _multiply(matrix, state["ctm"]), depth + 1, inner)

    def _mark(self, points: list[tuple[float, float]]) -> None:
        if points:
            self.marks.append(_extent(points))

    def _image(self, state: dict) -> None:
        corners = [_apply(state["ctm"], x, y) for x in (0, 1) for y in (0, 1)]
        self._mark(corners)
        box = _intersect(state["clip"], _extent(corners))
        if box is not None:
            self._picture(box)

    def _picture(self, box: tuple[float, float, float, float]) -> None:
        """An image, gradient or pattern: its colours are read from pixels when text is on it."""
        if box[2] - box[0] >= 1 and box[3] - box[1] >= 1:
            self.fills.append(Fill(box, (), False, None))

    def _fill(self, outlines: list[list[tuple[float, float]]], even_odd: bool,
              state: dict) -> None:
        if state["ca"] <= 0.0 or not outlines:
            return
        box = _intersect(state["clip"], _extent([p for o in outlines for p in o]))
        if box is None or box[2] - box[0] < 1 or box[3] - box[1] < 1:
            return  # a rule or a hairline: nothing text sits on
        if state["fill"] is None:
            self._picture(box)  # a pattern or a colour space not measured: read its pixels
            return
        self.fills.append(Fill(box, tuple(tuple(o) for o in outlines), even_odd,
                               state["fill"], state["ca"]))

    def _colour(self, op: str, operands: Any, state: dict, resources: Any) -> None:
        """Follow the fill colour (the stroke colour does not colour text)."""
        values = [float(v) for v in operands if isinstance(v, int | float)]  # not a name
        if op == "cs":
            state["space"] = _components(str(operands[0]), resources)
            state["fill"] = (0.0, 0.0, 0.0) if state["space"] else None  # black at first
        elif op == "g":
            state["fill"], state["space"] = _device_rgb(values), 1
        elif op == "rg":
            state["fill"], state["space"] = _device_rgb(values), 3
        elif op == "k":
            state["fill"], state["space"] = _device_rgb(values), 4
        elif op in ("sc", "scn"):
            ok = state["space"] and len(values) == state["space"] == len(operands)
            state["fill"] = _device_rgb(values) if ok else None

    def _font(self, font: Any) -> _Font:
        key = font.objgen if font.objgen != (0, 0) else id(font)
        if key not in self.fonts:
            self.fonts[key] = _load_font(font)
        loaded = self.fonts[key]
        self.font_names.add(loaded.name)
        if not loaded.embedded:
            self.unembedded.add(loaded.name)
        return loaded

    def _show(self, items: Any, tm: tuple, state: dict, mcid: int | None) -> tuple:

        font: _Font | None = state["font"]
        size, th = state["size"], state["th"]
        start = tm
        advance = 0.0
        text: list[str] = []
        glyph0 = False
        if isinstance(items, _TextArray):
            items, adjust = items.items(bool(font and font.two_byte))
            advance -= adjust / 1000 * size * th
        for item in items:
            if not isinstance(item, bytes):
                advance -= item / 1000 * size * th
                continue
            if font is None:
                continue
            data = item
            if font.two_byte:
                codes = struct.unpack(f">{len(data) // 2}H", data[:len(data) // 2 * 2])
                glyph0 = glyph0 or (font.identity_gid and 0 in codes)
                spacing = state["tc"] * len(codes)
            else:
                codes = tuple(data)
                spacing = state["tc"] * len(codes) + state["tw"] * codes.count(32)
            widths, default = font.widths, font.default_width
            advance += (sum(widths.get(c, default) for c in codes) * font.scale * size
                        + spacing) * th
            for chars in map(font.to_unicode.get, codes):
                if chars and len(chars) > 1 and _RTL.search(chars):
                    chars = chars[::-1]  # a ligature's letters stay in order when reversed
                text.append(chars or "")
        end = _multiply((1, 0, 0, 1, advance, 0), start)
        render = _multiply(start, state["ctm"])
        visible = state["tr"] not in (3, 7)  # 3: invisible (an OCR layer), 7: clip only
        x0, y = _apply(render, 0, state["rise"])
        x1, _ = _apply(_multiply(end, state["ctm"]), 0, state["rise"])
        # The type size as printed: the text matrix times the CTM, vertical scale.
        printed = size * math.hypot(render[2], render[3])
        if font is not None:
            self.runs.append(Run(self.number, "".join(text), min(x0, x1), max(x0, x1), y,
                                 round(printed, 2), font.name, mcid, glyph0,
                                 round(math.hypot(state["ctm"][0], state["ctm"][1]), 4),
                                 state["fill"] if visible else None, state["ca"],
                                 len(self.fills), state["decoration"]))
        return end


@dataclass(frozen=True)
class Element:
    """A structure element: its tag, page, place in the tree and its marked content."""

    tag: str
    page: int  # 1-based; 0 when unknown
    index: int  # position in reading order
    depth: int
    parent: int  # index of the parent element, -1 for top level
    alt: str
    mcids: tuple[tuple[int, int], ...]  # (page, mcid) of its own marked content


class Document:
    """What the checks read of one PDF, each part read once when first asked for."""

    def __init__(self, path: Path, edition: Edition, project: Any = None,
                 entry: dict | None = None, *, for_sending: bool = False,
                 today: dt.date | None = None):
        self.path = Path(path)
        self.edition = edition
        self.format = FORMATS.get(edition.format)
        self.project = project
        self.entry = entry or {}  # its dist/manifest.json entry: approval, fingerprint
        self.for_sending = for_sending
        self.today = today or dt.date.today()

    def where(self, page: int | None = None) -> str:
        place = f"{self.path.name} ({self.edition.language} {self.edition.format})"
        return f"{place}, page {page}" if page else place

    @cached_property
    def pdf(self):
        import pikepdf

        try:
            return pikepdf.open(self.path)
        except (pikepdf.PdfError, OSError) as exc:
            raise BookletError(f"{self.path}: not a readable PDF ({exc}); build it again") \
                from None

    def close(self) -> None:
        if "pdf" in self.__dict__:
            self.pdf.close()

    @cached_property
    def chapters(self) -> list[tuple[str, str]]:
        """(anchor, file name) of the project's chapters: each must be in the file."""
        if self.project is None:
            return []
        from booklet.content import chapter_anchor, chapter_files

        return [(chapter_anchor(path), path.name) for path in chapter_files(self.project)]

    @cached_property
    def page_numbers(self) -> dict[tuple[int, int], int]:
        return {page.objgen: number for number, page in enumerate(self.pdf.pages, 1)}

    @cached_property
    def pages(self) -> list[_PageReader]:
        fonts: dict = {}
        readers = []
        for number, page in enumerate(self.pdf.pages, 1):
            reader = _PageReader(number, fonts)
            reader.read(page, page.get("/Resources"))
            readers.append(reader)
        return readers

    def box(self, number: int) -> tuple[float, float, float, float]:
        """The page's trimmed area (TrimBox, else MediaBox): x0, y0, x1, y1."""
        return self._boxes[number - 1]

    @cached_property
    def _boxes(self) -> list[tuple[float, float, float, float]]:
        boxes = []
        for page in self.pdf.pages:
            x0, y0, x1, y1 = (float(v) for v in page.trimbox)  # else CropBox, MediaBox
            boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
        return boxes

    def furniture(self, run: Run) -> bool:
        """Running header, footer line or page number.

        A tagged file leaves the page-margin boxes out of its structure tree
        (WeasyPrint does); an untagged one (PDF/X) has only the place to go by:
        the top or bottom 9 % of the page.
        """
        x0, y0, x1, y1 = self.box(run.page)
        if self.tagged:
            edge = (y1 - y0) / 4  # a wrapped large-print footer reaches well up
            return (run.y < y0 + edge or run.y > y1 - edge) and run.size < DISPLAY_PT \
                and (run.page, run.mcid) not in self._mcid_owner
        zone = (y1 - y0) * FURNITURE_ZONE
        return run.y < y0 + zone or run.y > y1 - zone

    def body_runs(self, number: int) -> list[Run]:
        """The page's own text: not its furniture, not the DRAFT mark, not a logo's letters."""
        return [r for r in self.pages[number - 1].runs if r.text.strip()
                and r.size < DISPLAY_PT and not self.furniture(r) and not self.artwork(r)]

    def footer_runs(self, number: int) -> list[Run]:
        """The furniture at the foot of a page: the footer line and the page number."""
        x0, y0, x1, y1 = self.box(number)
        middle = (y0 + y1) / 2
        return [r for r in self.pages[number - 1].runs
                if r.y < middle and r.text.strip() and self.furniture(r)]

    @cached_property
    def elements(self) -> list[Element]:
        """The structure tree in reading order ([] for an untagged file, like PDF/X)."""
        import pikepdf

        root = self.pdf.Root.get("/StructTreeRoot")
        if root is None:
            return []
        found: list[Element] = []

        def walk(node: Any, depth: int, parent: int, page: int) -> None:
            if depth > 200 or not isinstance(node, pikepdf.Dictionary):
                return
            kids = node.get("/K")
            pg = node.get("/Pg")
            if pg is not None:
                page = self.page_numbers.get(pg.objgen, page)
            index = parent
            if "/S" in node:
                index = len(found)
                alt = node.get("/Alt")
                found.append(Element(str(node.S)[1:], page, index, depth, parent,
                                     str(alt) if alt is not None else "", ()))
            mcids: list[tuple[int, int]] = []
            children = kids if isinstance(kids, pikepdf.Array) else [kids]
            for kid in children:
                if isinstance(kid, int):
                    mcids.append((page, int(kid)))
                elif isinstance(kid, pikepdf.Dictionary):
                    if kid.get("/Type") == "/MCR":
                        kid_page = self.page_numbers.get(kid.Pg.objgen, page) \
                            if "/Pg" in kid else page
                        mcids.append((kid_page, int(kid.MCID)))
                    else:
                        walk(kid, depth + 1, index, page)
            if index != parent and mcids:
                element = found[index]
                found[index] = Element(element.tag, element.page, element.index, element.depth,
                                       element.parent, element.alt, tuple(mcids))

        walk(root, 0, -1, 0)
        return found

    def descendants(self, element: Element) -> list[Element]:
        out = []
        for candidate in self.elements[element.index + 1:]:
            if candidate.depth <= element.depth:
                break
            out.append(candidate)
        return out

    @cached_property
    def runs_by_mcid(self) -> dict[tuple[int, int], list[Run]]:
        found: dict[tuple[int, int], list[Run]] = {}
        for page in self.pages:
            for run in page.runs:
                if run.mcid is not None:
                    found.setdefault((run.page, run.mcid), []).append(run)
        return found

    def text_of(self, element: Element) -> str:
        parts = []
        for el in [element, *self.descendants(element)]:
            for key in el.mcids:
                parts.extend(r.text for r in self.runs_by_mcid.get(key, []))
        return " ".join("".join(parts).split())

    def tags_of(self, run: Run) -> set[str]:
        """Tags of the element holding a run and of all its ancestors."""
        owner = self._mcid_owner.get((run.page, run.mcid)) if run.mcid is not None else None
        tags = set()
        while owner is not None and owner >= 0:
            tags.add(self.elements[owner].tag)
            owner = self.elements[owner].parent
        return tags

    @cached_property
    def _mcid_owner(self) -> dict[tuple[int, int], int]:
        return {key: el.index for el in self.elements for key in el.mcids}

    @cached_property
    def destinations(self) -> dict[str, int]:
        """Named destinations and the page (1-based) each points to."""
        import pikepdf

        found: dict[str, int] = {}
        names = self.pdf.Root.get("/Names", {}).get("/Dests")
        if names is not None:
            for name, dest in pikepdf.NameTree(names).items():
                array = dest.get("/D") if isinstance(dest, pikepdf.Dictionary) else dest
                try:
                    found[name] = self.page_numbers.get(array[0].objgen, 0)
                except (TypeError, IndexError, AttributeError):
                    found[name] = 0
        old = self.pdf.Root.get("/Dests")
        if isinstance(old, pikepdf.Dictionary):
            for key, dest in old.items():
                found.setdefault(key[1:], self.page_numbers.get(dest[0].objgen, 0))
        return found

    def page_text(self, number: int) -> str:
        return "".join(r.text for r in self.pages[number - 1].runs)

    def lines(self, number: int, *, body_only: bool = False) -> list[str]:
        """The page's text line by line, top to bottom, each read in its direction.

        Runs whose baselines lie within a third of their size are one line (marks
        above Arabic letters sit a little higher).
        """
        rows: list[list[Run]] = []
        for run in sorted(self.pages[number - 1].runs, key=lambda r: -r.y):
            if body_only and (self.furniture(run) or run.size >= DISPLAY_PT):
                continue
            if rows and rows[-1][0].y - run.y <= rows[-1][0].size / 3:
                rows[-1].append(run)
            else:
                rows.append([run])
        return [_logical("".join(r.text for r in sorted(row, key=lambda r: r.x0)))
                for row in rows]

    def shows(self, number: int, text: str) -> bool:
        """Whether the page shows text (across line breaks, hyphens and directions)."""
        want = _squash(text)
        return want in _squash("".join(r.text for r in self.pages[number - 1].runs)) or \
            want in _squash("".join(self.lines(number)))

    @cached_property
    def tagged(self) -> bool:
        return bool(self.elements)

    def artwork(self, run: Run) -> bool:
        """Text drawn inside an image (an SVG logo): part of the picture, not of the text.

        Tagged files say so (a Figure); in untagged ones (PDF/X) it is text drawn at
        another scale than the page's own text.
        """
        if self.tagged:
            return "Figure" in self.tags_of(run)
        return abs(run.scale - self._text_scale) > 0.001

    @cached_property
    def _text_scale(self) -> float:
        """The scale most text is drawn at (the page's own, not an image's)."""
        from collections import Counter

        scales = Counter(r.scale for page in self.pages for r in page.runs)
        return scales.most_common(1)[0][0] if scales else 1.0


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

Check = Callable[[Document], Iterable[Problem]]


@dataclass(frozen=True)
class Registered:
    name: str
    group: str  # structure, print, layout, review
    function: Check
    codes: tuple[str, ...] = field(default=())


CHECKS: list[Registered] = []


def check(name: str, group: str, codes: tuple[str, ...] = ()) -> Callable[[Check], Check]:
    """Register a preflight check: a function from a Document to Problems."""

    def register(function: Check) -> Check:
        CHECKS.append(Registered(name, group, function, codes))
        return function

    return register


def _problem(doc: Document, code: str, level: str, message: str, page: int | None = None,
             hint: str = "") -> Problem:
    return Problem(code, level, message, doc.where(page), hint)


_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_LTR_RUN = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z .,:%/+\-]*[0-9A-Za-z])?")


def _logical(text: str) -> str:
    """Right-to-left text as it reads: a PDF stores the glyphs of a line left to right."""
    if not _RTL.search(text):
        return text
    return _LTR_RUN.sub(lambda m: m.group(0)[::-1], text[::-1])


def _short(text: str, limit: int = 50) -> str:
    text = " ".join(_logical(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _squash(text: str) -> str:
    """Letters and digits only: line breaks, hyphens and mirrored brackets do not count."""
    return re.sub(r"[\W_]+", "", text)


# --- structure ----------------------------------------------------------------


def _chapter_ids(doc: Document) -> list[tuple[str, str]]:
    """(anchor, source file name) of every chapter the project has."""
    return doc.chapters


@check("parts", "structure", ("missing-cover", "missing-contents", "missing-chapter",
                              "missing-table", "missing-disclaimer", "missing-footer",
                              "missing-back-cover"))
def check_parts(doc: Document) -> Iterator[Problem]:
    """Every part of the handout is in the file: cover to back cover."""
    pages = len(doc.pages)
    title = str(doc.pdf.docinfo.get("/Title", "")) or (doc.project.title if doc.project else "")
    clinic = doc.project.clinic.name if doc.project else ""
    if not pages or not doc.shows(1, title) or not doc.shows(1, clinic):
        yield _problem(doc, "missing-cover", ERROR, "no cover: page 1 does not show the "
                       f"title {title!r} and the clinic {clinic!r}", 1)
    dests = doc.destinations
    if "contents-title" not in dests:
        yield _problem(doc, "missing-contents", ERROR, "no contents page (no 'contents-title' "
                       "anchor)", hint="keep the theme's contents.html or its id")
    for anchor, name in _chapter_ids(doc):
        if anchor not in dests:
            yield _problem(doc, "missing-chapter", ERROR, f"the chapter {name} (#{anchor}) "
                           "is not in the file")
    if doc.project is not None:
        from booklet.content import table_files

        for path in table_files(doc.project):
            if f"table-{path.stem}" not in dests:
                yield _problem(doc, "missing-table", ERROR, f"the table {path.name} is not in "
                               "the file", hint=f"place it with '::: table {path.stem}' in a "
                               "chapter")
    if "disclaimer" not in dests:
        yield _problem(doc, "missing-disclaimer", ERROR, "no disclaimer box (no 'disclaimer' "
                       "anchor)")
    version = doc.project.version if doc.project else ""
    unfooted = [n for n in range(2, pages + 1)
                if not version or version not in "".join(r.text for r in doc.footer_runs(n))]
    if version and unfooted:
        yield _problem(doc, "missing-footer", ERROR, f"no footer line with the version "
                       f"{version!r} on page(s) {_pages(unfooted)}", unfooted[0])
    # The back cover names the clinic after the disclaimer (it may run over two pages).
    back = [n for n in (pages - 1, pages) if n > max(dests.get("disclaimer", 0), 1)]
    if pages and clinic and not any(doc.shows(n, clinic) for n in back):
        yield _problem(doc, "missing-back-cover", ERROR, "no back cover: no page after the "
                       f"disclaimer names the clinic {clinic!r}", pages)


def _pages(numbers: list[int]) -> str:
    listed = ", ".join(str(n) for n in numbers[:8])
    return listed + (f" and {len(numbers) - 8} more" if len(numbers) > 8 else "")


@check("tags", "structure", ("heading-skip", "image-alt", "empty-chapter"))
def check_tags(doc: Document) -> Iterator[Problem]:
    """Headings in order, images described, chapters not empty (from the structure tree)."""
    previous = 0
    for el in doc.elements:
        match = re.fullmatch(r"H([1-6])", el.tag)
        if match:
            level = int(match.group(1))
            if level > previous + 1:
                yield _problem(doc, "heading-skip", ERROR,
                               f"heading level {level} {_short(doc.text_of(el))!r} follows "
                               f"level {previous or 'none'}: a level is skipped", el.page,
                               hint=f"use {'#' * (previous + 1)} for this heading")
            previous = level
        elif el.tag == "Figure" and not el.alt.strip():
            heading = next((doc.text_of(h) for h in reversed(doc.elements[:el.index])
                            if re.fullmatch(r"H[1-6]", h.tag)), "")
            yield _problem(doc, "image-alt", ERROR, "an image has no alt text"
                           + (f" (under {_short(heading)!r})" if heading else ""), el.page,
                           hint="describe it: ![what the image shows](file)")
    for el in doc.elements:
        if el.tag != "Sect":
            continue
        kids = [k for k in doc.elements[el.index + 1:] if k.parent == el.index]
        headings = [k for k in kids if k.tag == "H1"]
        if headings and all(k.tag == "H1" for k in kids):
            yield _problem(doc, "empty-chapter", ERROR,
                           f"the chapter {_short(doc.text_of(headings[0]))!r} has a title "
                           "and nothing else", el.page, hint="write its text or remove it")


@check("links", "structure", ("link-broken",))
def check_links(doc: Document) -> Iterator[Problem]:
    """Every internal link lands on a destination that exists."""
    import pikepdf

    dests = doc.destinations
    for number, page in enumerate(doc.pdf.pages, 1):
        for annot in page.get("/Annots", []) or []:
            if annot.get("/Subtype") != "/Link":
                continue
            target = annot.get("/Dest")
            action = annot.get("/A")
            if target is None and action is not None and action.get("/S") == "/GoTo":
                target = action.get("/D")
            if target is None:
                continue
            if isinstance(target, pikepdf.Array):
                if len(target) == 0 or getattr(target[0], "objgen", None) \
                        not in doc.page_numbers:
                    yield _problem(doc, "link-broken", ERROR, "a link points to a page "
                                   "that is not in the file", number)
                continue
            name = str(target)
            name = name[1:] if name.startswith("/") else name
            if name not in dests:
                yield _problem(doc, "link-broken", ERROR, f"a link to #{name} goes nowhere: "
                               "no such anchor", number, hint="fix the link's target")


# --- print --------------------------------------------------------------------


def _minimum_for(doc: Document, run: Run) -> tuple[float, str]:
    """The smallest size allowed for this run, and what it is."""
    if doc.format and doc.format.name == "large-print":
        return MIN_LARGE_PRINT_PT, "large print"
    if doc.furniture(run):
        return MIN_FURNITURE_PT, "the header and footer line"
    if not doc.tagged:
        # Without tags (PDF/X) table cells cannot be told from body text.
        return MIN_TABLE_CELL_PT, "body text and table cells"
    tags = doc.tags_of(run)
    if tags & {"TD", "TH"} or {"Table", "Caption"} <= tags:
        return MIN_TABLE_CELL_PT, "table cells"
    return MIN_BODY_PT, "body text"


@check("type-size", "print", ("text-too-small",))
def check_type_size(doc: Document) -> Iterator[Problem]:
    """No text smaller than the format allows (body, table cells, header and footer)."""
    small: dict[str, tuple[float, list[Run]]] = {}
    for page in doc.pages:
        for run in page.runs:
            if not run.text.strip() or doc.artwork(run):
                continue  # text drawn inside an image (a logo) is part of the picture
            minimum, what = _minimum_for(doc, run)
            if run.size < minimum - SIZE_TOLERANCE:
                small.setdefault(what, (minimum, []))[1].append(run)
    for what, (minimum, runs) in sorted(small.items()):
        run = min(runs, key=lambda r: (r.size, r.page))
        pages = sorted({r.page for r in runs})
        yield _problem(doc, "text-too-small", ERROR,
                       f"{run.size:g} pt text {_short(run.text)!r} is below the {minimum:g} pt "
                       f"minimum for {what} ({len(runs)} line(s) under it, on page(s) "
                       f"{_pages(pages)})", run.page,
                       hint="raise its font-size in the theme or styles/custom.css")


@check("fonts", "print", ("font-not-embedded", "glyph-0"))
def check_fonts(doc: Document) -> Iterator[Problem]:
    """Every font embedded, and no glyph 0 (.notdef), which prints as an empty box."""
    reported: set[str] = set()
    for page in doc.pages:
        for name in sorted(page.unembedded - reported):
            reported.add(name)
            yield _problem(doc, "font-not-embedded", ERROR, f"the font {name} is not "
                           "embedded: the printer substitutes another", page.number)
        for run in page.runs:
            if run.glyph0:
                yield _problem(doc, "glyph-0", ERROR, f"{run.font} draws glyph 0 (an empty "
                               f"box) in {_short(run.text) or 'a run of text'!r}", run.page,
                               hint="install a font with these characters")
                break


@check("pages", "print", ("page-count", "page-budget", "file-budget"))
def check_page_count(doc: Document) -> Iterator[Problem]:
    """Booklets fold from sheets of 4 pages; budgets from booklet.toml's [budgets]."""
    pages = len(doc.pages)
    if doc.format and doc.format.pad_to > 1 and pages % doc.format.pad_to:
        yield _problem(doc, "page-count", ERROR, f"{pages} pages, not a multiple of "
                       f"{doc.format.pad_to}: the booklet cannot be folded from sheets")
    budget = _budget(doc)
    if budget.get("pages") and pages > budget["pages"]:
        yield _problem(doc, "page-budget", ERROR, f"{pages} pages, over the budget of "
                       f"{budget['pages']}", hint="shorten the content or raise "
                       f"[budgets] pages in {doc.project.config_path}")
    size = doc.path.stat().st_size
    if budget.get("file_kb") and size > budget["file_kb"] * 1024:
        yield _problem(doc, "file-budget", ERROR, f"{size / 1024:.0f} KB, over the budget "
                       f"of {budget['file_kb']} KB", hint="use smaller images or raise "
                       f"[budgets] file_kb in {doc.project.config_path}")


def _budget(doc: Document) -> dict[str, int]:
    if doc.project is None:
        return {}
    budgets = getattr(doc.project, "budgets", ())
    merged = {key: value for scope, key, value in budgets if scope == ""}
    merged.update({key: value for scope, key, value in budgets
                   if scope == doc.edition.format})
    return merged


@check("boxes", "print", ("text-outside",))
def check_boxes(doc: Document) -> Iterator[Problem]:
    """No text outside the trimmed page less a safe margin (it would be cut off)."""
    margin = SAFE_MARGIN_MM * PT_PER_MM
    for page in doc.pages:
        x0, y0, x1, y1 = doc.box(page.number)
        for run in page.runs:
            if not run.text.strip() or run.size >= DISPLAY_PT:
                continue  # the DRAFT mark runs edge to edge on purpose
            if (run.x0 < x0 + margin - 0.5 or run.x1 > x1 - margin + 0.5
                    or run.y < y0 + margin or run.y + run.size * 0.75 > y1 - margin):
                yield _problem(doc, "text-outside", ERROR,
                               f"text {_short(run.text)!r} runs outside the page's content "
                               f"box (within {SAFE_MARGIN_MM:g} mm of the trimmed edge or "
                               "beyond)", page.number, hint="shorten it or allow it to wrap")
                break


# --- contrast -----------------------------------------------------------------


def luminance(rgb: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour (components 0-1)."""
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio of two colours, from 1 (none) to 21 (black on white)."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def grey(rgb: RGB) -> RGB:
    """What an office laser printer makes of a colour: its luma (Rec. 601), as grey."""
    value = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]
    return value, value, value


def _hex(rgb: RGB) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in rgb)


def _blend(top: RGB, alpha: float, under: RGB) -> RGB:
    if alpha >= 1:
        return top
    return tuple(alpha * t + (1 - alpha) * u for t, u in zip(top, under, strict=True))


class _Grounds:
    """The colour under a point of a page at a moment of its painting.

    The page's fills are indexed by bands of height so a point is tested
    against the few shapes near it; an image under the text is read from
    pixels (the page rendered once, at 72 dpi).
    """

    BAND = 24.0

    def __init__(self, doc: Document, number: int):
        self.doc, self.number = doc, number
        self.fills = doc.pages[number - 1].fills
        self.bands: dict[int, list[int]] = {}
        for index, fill in enumerate(self.fills):
            for band in range(int(fill.box[1] // self.BAND), int(fill.box[3] // self.BAND) + 1):
                self.bands.setdefault(band, []).append(index)
        self._pixels = None

    def at(self, x: float, y: float, layer: int, run: Run) -> RGB:
        colour = PAPER
        for index in self.bands.get(int(y // self.BAND), ()):
            if index >= layer:
                break
            fill = self.fills[index]
            if fill.covers(x, y):
                colour = self._picture(run) if fill.colour is None else \
                    _blend(fill.colour, fill.alpha, colour)
        return colour

    def _picture(self, run: Run) -> RGB:
        """The picture's colour just above and below a line of text, where no letter is."""
        if self._pixels is None:
            import pypdfium2

            document = pypdfium2.PdfDocument(str(self.doc.path))
            try:
                page = document[self.number - 1]
                left, _bottom, _right, top = page.get_cropbox()
                self._pixels = (page.render(scale=1).to_pil().convert("RGB"), left, top)
            finally:
                document.close()
        image, left, top = self._pixels
        samples = []
        for y in (run.y + run.size * 0.95, run.y - run.size * 0.35):
            for step in range(9):
                x = run.x0 + (run.x1 - run.x0) * step / 8
                px, py = round(x - left), round(top - y)
                if 0 <= px < image.width and 0 <= py < image.height:
                    samples.append(image.getpixel((px, py)))
        if not samples:
            return PAPER
        middle = len(samples) // 2
        return tuple(sorted(s[i] for s in samples)[middle] / 255 for i in range(3))


@functools.lru_cache(maxsize=256)
def _rounded(rgb: RGB) -> RGB:
    return round(rgb[0], 3), round(rgb[1], 3), round(rgb[2], 3)


@functools.lru_cache(maxsize=256)
def _pair_contrast(pair: tuple[RGB, RGB]) -> float:
    return contrast_ratio(*pair)


def _contrast_level(ratio: float) -> str | None:
    if ratio < CONTRAST_FLOOR - 0.005:
        return ERROR
    if ratio < CONTRAST_TARGET - 0.005:
        return WARNING
    return None


@check("contrast", "print", ("contrast-low", "contrast-low-grey"))
def check_contrast(doc: Document) -> Iterator[Problem]:
    """Text against what is painted under it: 7:1 wanted, 4.5:1 at least, in colour and grey.

    The text's fill colour is set against the colour actually under it (the
    page's filled shapes painted before it, their transparency, or the pixels
    of an image), measured at three points along each run. Below 4.5:1 (WCAG
    AA) is an error; below the theme's 7:1 target (WCAG AAA) a warning. The
    same again for the greys an office laser printer makes of both colours.
    Each distinct pair of colours is reported once, with its first page.
    The DRAFT mark and lettering inside pictures are not text to read.
    """
    pairs: dict[tuple[RGB, RGB], list[Run]] = {}
    for page in doc.pages:
        grounds = None
        for run in page.runs:
            if run.colour is None or run.decoration or not run.text.strip() \
                    or run.size >= DISPLAY_PT or doc.artwork(run):
                continue
            grounds = grounds or _Grounds(doc, page.number)
            y = run.y + run.size * 0.3
            under = {grounds.at(run.x0 + (run.x1 - run.x0) * f, y, run.layer, run)
                     for f in (0.1, 0.5, 0.9)}
            keys = {(_rounded(_blend(run.colour, run.alpha, ground)), _rounded(ground))
                    for ground in under}
            worst = min(keys, key=_pair_contrast) if len(keys) > 1 else keys.pop()
            pairs.setdefault(worst, []).append(run)
    for (ink, ground), runs in sorted(pairs.items(), key=lambda item: item[1][0].page):
        ratio = contrast_ratio(ink, ground)
        grey_ratio = contrast_ratio(grey(ink), grey(ground))
        level, grey_level = _contrast_level(ratio), _contrast_level(grey_ratio)
        first = runs[0]
        pages = _pages(sorted({r.page for r in runs}))
        count = f"{len(runs)} run(s) of text in these colours, on page(s) {pages}"
        hint = ("darken the text or lighten what is under it in the theme or "
                "styles/custom.css")
        if level:
            yield _problem(doc, "contrast-low", level,
                           f"text {_short(first.text)!r} in {_hex(ink)} on {_hex(ground)} has "
                           f"a contrast of {ratio:.1f}:1, under the "
                           f"{CONTRAST_FLOOR if level == ERROR else CONTRAST_TARGET:g}:1 "
                           f"{'minimum' if level == ERROR else 'target'} ({count})",
                           first.page, hint=hint)
        if grey_level and (not level or (grey_level == ERROR and level == WARNING)):
            yield _problem(doc, "contrast-low-grey", grey_level,
                           f"printed in grey, text {_short(first.text)!r} in "
                           f"{_hex(grey(ink))} on {_hex(grey(ground))} (from {_hex(ink)} on "
                           f"{_hex(ground)}) has a contrast of {grey_ratio:.1f}:1, under the "
                           f"{CONTRAST_FLOOR if grey_level == ERROR else CONTRAST_TARGET:g}:1 "
                           f"{'minimum' if grey_level == ERROR else 'target'} ({count})",
                           first.page, hint="choose colours whose greys differ as well: "
                           + hint)


# --- layout (issue 12) ------------------------------------------------------------


def _section_starts(doc: Document) -> set[int]:
    """Pages where a chapter, the disclaimer, a notes page or the back cover begins."""
    dests = doc.destinations
    # The back cover opens with its "When to call" panel (templates/back-cover.html):
    # an untagged file (PDF/X) knows where it starts only by that anchor.
    anchors = [anchor for anchor, _name in _chapter_ids(doc)] + ["disclaimer",
                                                                 "when-to-call-back"]
    starts = {dests[a] for a in anchors if dests.get(a)}
    starts.add(len(doc.pages))  # the back cover
    starts.update(el.page for el in doc.elements if el.tag == "H1")
    return starts


def _form_pages(doc: Document) -> set[int]:
    """Pages of a form: a table with blank cells to write in.

    A tagged file says so (empty TD elements); in an untagged one, a blank row
    is a band between cell borders (three or more vertical rules of the same
    height) with no text in it.
    """
    if doc.tagged:
        return {el.page for el in doc.elements if el.tag == "TD" and not doc.text_of(el)}
    from collections import Counter

    forms = set()
    for page in doc.pages:
        bands = Counter((round(low), round(high)) for left, low, right, high in page.marks
                        if right - left < 1 and high - low >= 20)
        baselines = [r.y for r in page.runs if r.text.strip() and r.size < DISPLAY_PT]
        if any(count >= 3 and not any(low < y < high for y in baselines)
               for (low, high), count in bands.items()):
            forms.add(page.number)
    return forms


def _shape(doc: Document, number: int) -> tuple[int, int]:
    """A page's width and height in whole points: a change of shape forces a break."""
    x0, y0, x1, y1 = doc.box(number)
    return round(x1 - x0), round(y1 - y0)


@check("fullness", "layout", ("page-hole",))
def check_fullness(doc: Document) -> Iterator[Problem]:
    """No body page less than a third full, unless it ends a chapter, is a form or
    comes before a page of another shape."""
    pages = len(doc.pages)
    if pages < 4:
        return
    starts = _section_starts(doc)
    forms = _form_pages(doc)
    # The text area: as high and as low as body text reaches on any page.
    everything = [r for number in range(2, pages + 1) for r in doc.body_runs(number)]
    if not everything:
        return
    top = max(r.y + r.size for r in everything)
    bottom = min(r.y for r in everything)
    for page in doc.pages[2:-1]:  # after the cover and contents, before the back cover
        if page.number + 1 in starts or page.number in forms:
            continue  # a chapter's last page may be short; a form is as long as it is
        if _shape(doc, page.number + 1) != _shape(doc, page.number):
            continue  # what follows needs a page of another shape (a landscape form)
        body = doc.body_runs(page.number)
        x0, _y0, x1, _y1 = doc.box(page.number)  # printer's marks lie outside the trim
        if not body:
            if not any(low < top and high > bottom and left < x1 and right > x0
                       for left, low, right, high in page.marks):  # an image, a drawing
                yield _problem(doc, "page-hole", WARNING, "the page is empty: nothing is set "
                               "between its running head and its footer", page.number,
                               hint="look for a page break that leaves nothing before it")
            continue
        lows = [r.y for r in body] + [low for left, low, right, high in page.marks
                                      if bottom - 1 < low and high < top + 1
                                      and x0 - 1 < left and right < x1 + 1]
        used = (top - min(lows)) / (top - bottom)
        if used < MIN_FULL:
            authored = [name for name, number in doc.destinations.items()
                        if number == page.number + 1 and name.startswith("newpage-")]
            if authored:  # content.py names each ::: newpage by file stem and line
                stem, _, line = authored[0].removeprefix("newpage-").rpartition("-")
                yield _problem(doc, "page-hole", WARNING,
                               f"the page is {used:.0%} full: an author's page break "
                               f"(::: newpage in chapters/{stem}.md, line {line}) ends it",
                               page.number, hint="remove that ::: newpage, or keep more "
                               "before it")
                continue
            cause = next((line for line in doc.lines(page.number + 1, body_only=True)
                          if line.strip()), "")
            cause = _short(cause, 40)
            yield _problem(doc, "page-hole", WARNING,
                           f"the page is {used:.0%} full: what follows"
                           + (f" ({cause!r})" if cause else " (an image or a drawing)")
                           + " did not fit below and moved to the next page", page.number,
                           hint="let the box or table break, or keep it with less")


@check("back-cover", "layout", ("back-cover-spills",))
def check_back_cover(doc: Document) -> Iterator[Problem]:
    """The back cover is one page: its last lines alone on another page look lost,
    and a folded booklet has one outside back."""
    start = doc.destinations.get("when-to-call-back")
    pages = len(doc.pages)
    if start and start < pages:
        spilled = next((line for line in doc.lines(pages, body_only=True) if line.strip()), "")
        yield _problem(doc, "back-cover-spills", WARNING,
                       f"the back cover runs over {pages - start + 1} pages"
                       + (", so the folded booklet's outside back is not the whole back cover"
                          if doc.edition.format.endswith("-booklet") else "")
                       + (f" ({_short(spilled, 40)!r} is alone on page {pages})"
                          if spilled else ""), pages,
                       hint="shorten the clinic's details or sources in booklet.toml, or "
                       "tighten the back cover in the project's CSS")


@check("footer", "layout", ("footer-wraps",))
def check_footer(doc: Document) -> Iterator[Problem]:
    """The footer line is one line: one baseline at the foot of each page."""
    wrapped = []
    for number in range(2, len(doc.pages) + 1):
        baselines = sorted({round(r.y) for r in doc.footer_runs(number)})
        lines = [b for i, b in enumerate(baselines) if i == 0 or b - baselines[i - 1] > 2]
        if len(lines) > 1:
            wrapped.append((number, len(lines)))
    if wrapped:
        number, lines = wrapped[0]
        yield _problem(doc, "footer-wraps", WARNING,
                       f"the footer runs to {lines} lines on page {number}"
                       + (f" (and {len(wrapped) - 1} other pages)" if len(wrapped) > 1 else ""),
                       number, hint="shorten [disclaimer] short in booklet.toml, or give the "
                       "footer a smaller (>= 9 pt) size for this format")


# --- review -----------------------------------------------------------------------

@check("review", "review", ("review-draft", "review-overdue", "review-missing",
                            "review-outdated"))
def check_review(doc: Document) -> list[Problem]:
    """Approved or draft, by whom and when, and whether the next review date has passed.

    A draft, an overdue review or an outdated PDF is a warning while building
    and an error for sending (``for_sending``).
    """
    problems = []
    for_sending, today = doc.for_sending, doc.today
    approved = doc.entry.get("approved")
    by = doc.entry.get("approved_by", "")
    if doc.project is not None and approved is None:
        from booklet.review import approval

        review = approval(doc.project, doc.edition.language)
        approved, by = review is not None, review.approved_by if review else ""
    if not approved:
        problems.append(_problem(doc, "review-draft", ERROR if for_sending else WARNING,
                                 "a draft: not clinically reviewed for its current content",
                                 hint=f"booklet approve --lang {doc.edition.language} "
                                 "--by NAME, after the review"))
    elif not str(by).strip():
        problems.append(_problem(doc, "review-missing", ERROR, "approved, but the approver's "
                                 "name is missing", hint="approve it again with --by NAME"))
    elif len(doc.pages) and not doc.shows(1, str(by)):
        problems.append(_problem(doc, "review-missing", ERROR, f"approved by {by}, but the "
                                 "cover does not say so", 1, hint="keep the review notice "
                                 "in templates/cover.html"))
    built_from = doc.entry.get("fingerprint")
    if doc.project is not None and built_from:
        from booklet.review import fingerprint

        if built_from != fingerprint(doc.project, doc.edition.language):
            problems.append(_problem(doc, "review-outdated", ERROR if for_sending else WARNING,
                                     "the content changed after this PDF was built",
                                     hint="build it again (and have it approved again)"))
    if doc.project is not None:
        due = doc.project.next_review
        if due is None:
            problems.append(_problem(doc, "review-missing", ERROR, "no next review date",
                                     hint=f"add next_review = YYYY-MM-DD to "
                                     f"{doc.project.config_path}"))
        elif due < today:
            problems.append(_problem(doc, "review-overdue", ERROR if for_sending else WARNING,
                                     f"the next review was due on {due.isoformat()}",
                                     hint="review the content, approve it again and set a "
                                     f"new next_review in {doc.project.config_path}"))
    return problems


# ---------------------------------------------------------------------------
# Running the checks
# ---------------------------------------------------------------------------


def preflight(path: Path | str, edition: Edition, project: Any = None, *,
              entry: dict | None = None, for_sending: bool = False,
              today: dt.date | None = None, groups: tuple[str, ...] | None = None
              ) -> list[Problem]:
    """Run the registered checks (all, or those of `groups`) on one written PDF."""
    import pikepdf

    doc = Document(Path(path), edition, project, entry, for_sending=for_sending, today=today)
    problems: list[Problem] = []
    try:
        for registered in CHECKS:
            if groups is None or registered.group in groups:
                try:
                    problems.extend(registered.function(doc))
                except BookletError:
                    raise
                except (pikepdf.PdfError, ValueError, KeyError, IndexError) as exc:
                    problems.append(_problem(doc, "preflight-unreadable", ERROR,
                                             f"the {registered.name} check could not read "
                                             f"the file: {exc}", hint="build it again"))
    finally:
        doc.close()
    return problems


def build_warnings(path: Path, edition: Edition, project: Any, *, approval: Any = None
                   ) -> list[str]:
    """The preflight of a freshly built edition, as lines for the build's warnings.

    A draft is left out (the build reports drafts itself); an error here does
    not stop the build, but ``booklet check`` fails on it.
    """
    return [f"{p} [{p.code}{'; booklet check fails on this' if p.level == ERROR else ''}]"
            for p in preflight_after_build(path, edition, project, approval=approval)]


def preflight_after_build(path: Path, edition: Edition, project: Any, *,
                          approval: Any = None) -> list[Problem]:
    """The preflight of a freshly built edition as problems, drafts left out."""
    entry = {"approved": approval is not None,
             "approved_by": approval.approved_by if approval is not None else ""}
    return [p for p in preflight(path, edition, project, entry=entry)
            if p.code != "review-draft"]


def preflight_dist(project: Any, out_dir: Path | str | None = None, *,
                   for_sending: bool = False, today: dt.date | None = None) -> list[Problem]:
    """Preflight every edition dist/manifest.json lists (the reading-order PDFs)."""
    from booklet.manifest import load_manifest, manifest_path

    out = Path(out_dir) if out_dir else project.root / "dist"
    entries = load_manifest(out)
    if not entries:
        return [Problem("preflight-nothing", WARNING, f"no built editions in {out} "
                        f"({manifest_path(out).name} lists none)", str(out),
                        "run booklet build first")]
    problems = []
    for name, entry in sorted(entries.items()):
        path = out / name
        if not path.is_file():
            problems.append(Problem("preflight-missing-file", ERROR, "listed in the manifest "
                                    "but not on disk", str(path), "build it again"))
            continue
        edition = Edition(str(entry.get("language", "")), str(entry.get("format", "")))
        problems.extend(preflight(path, edition, project, entry=entry,
                                  for_sending=for_sending, today=today))
    return problems
