"""Reading and writing files safely: never a half-written output, never a raw decode error."""

from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path

from booklet.core import BookletError

_BOMS = {codecs.BOM_UTF8: "UTF-8", codecs.BOM_UTF16_LE: "UTF-16", codecs.BOM_UTF16_BE: "UTF-16"}


def decode_utf8(path: Path, data: bytes) -> str:
    """Decode a text file the user edits, naming a byte-order mark or a wrong encoding.

    Editors on Windows save "UTF-8 with BOM" or UTF-16; the BOM is invisible, so
    a message about the first line would puzzle the writer. Name it instead.
    """
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise BookletError(f"{path}:1: the file starts with a {name} byte-order mark "
                               "(BOM); save it as UTF-8 without BOM (in most editors: "
                               "Save with encoding > UTF-8)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise BookletError(f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
                           "save the file as UTF-8") from None


def read_text(path: Path) -> str:
    """Read a UTF-8 text file the user edits; any problem is a BookletError naming it."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BookletError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return decode_utf8(path, data)


def write_atomic(path: Path, data: bytes) -> Path:
    """Write data to path through a temporary file in the same folder and a rename.

    A crash or Ctrl-C mid-write leaves the old file (or none), never a broken one.
    """
    path = Path(path)
    if path.is_dir():
        raise BookletError(f"{path}: is a folder, so the file cannot be written there; "
                           "remove or rename the folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise BookletError(f"{path.parent}: cannot write there ({exc.strerror or exc}); "
                           "choose a folder you can write to") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def user_cache(kind: str) -> Path:
    """A folder for what booklet derives from files and keeps between runs (by content
    or by file identity): $XDG_CACHE_HOME/booklet/KIND, else ~/.cache/booklet/KIND.

    Only speed depends on it: a missing, stale-named or unwritable cache is rebuilt.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "booklet" / kind
