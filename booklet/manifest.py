"""Manifest: ``dist/manifest.json``, what each built edition is and what it was built from.

One entry per edition PDF: its language, format, pages, the sha256 of the
bytes on disk, the content fingerprint and the approval it was built with,
and the tool version. Mail sends only a PDF whose sha256 and fingerprint
match it and the current approval; incremental builds skip what is current.
Written atomically, merged entry by entry, so building one edition keeps
the others' entries.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from booklet.core import BookletError
from booklet.files import write_atomic

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1


def manifest_path(out_dir: Path) -> Path:
    return Path(out_dir) / MANIFEST_NAME


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_manifest(out_dir: Path) -> dict[str, dict]:
    """Return the entries of out_dir/manifest.json by PDF file name ({} when there is none)."""
    path = manifest_path(out_dir)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BookletError(f"{path}: not a manifest written by booklet ({exc}); delete it "
                           "and build again") from None
    if not isinstance(data, dict) or not isinstance(data.get("editions"), dict):
        raise BookletError(f"{path}: not a manifest written by booklet (no 'editions'); "
                           "delete it and build again")
    return data["editions"]


def record_editions(out_dir: Path, entries: list[dict]) -> Path:
    """Merge entries (each with a 'file' key) into the manifest and write it atomically."""
    editions = load_manifest(out_dir)
    for entry in entries:
        editions[entry["file"]] = entry
    data = {"manifest_version": MANIFEST_VERSION,
            "editions": {name: editions[name] for name in sorted(editions)}}
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    return write_atomic(manifest_path(out_dir), text.encode("utf-8"))
