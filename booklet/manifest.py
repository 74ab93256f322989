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
import os
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


# ---------------------------------------------------------------------------
# Inputs: what decides an edition's bytes, hashed without importing WeasyPrint
# ---------------------------------------------------------------------------

# Installed distributions whose versions decide the bytes of a PDF.
RENDERING_DISTRIBUTIONS = ("weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5",
                           "html5lib", "pyphen", "fonttools", "pillow", "jinja2", "markdown",
                           "babel", "nh3", "pikepdf", "pypdf")


def _hash_files(digest, label: str, folder: Path) -> None:
    """Add every file under folder (names relative to it, then bytes) to digest."""
    if not folder.is_dir():
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if any(part.startswith(".") or part == "__pycache__" for part in relative.split("/")):
            continue
        data = path.read_bytes()
        digest.update(f"{label}/{relative}\0{len(data)}\0".encode() + data)


def _installed_versions(names: tuple[str, ...]) -> list[str]:
    """Name-version of each installed distribution named, from its .dist-info folder name.

    One listing per sys.path folder: much faster than importlib.metadata per name.
    """
    import re
    import sys

    wanted = {re.sub(r"[-_.]+", "_", name).lower() for name in names}
    found: dict[str, str] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith(".dist-info"):
                continue
            name, _, version = entry[:-len(".dist-info")].partition("-")
            key = re.sub(r"[-_.]+", "_", name).lower()
            if key in wanted and key not in found:
                found[key] = version
    return [f"{key}=={found.get(key, '-')}" for key in sorted(wanted)]


def tool_inputs() -> str:
    """Hash the tool itself: version, source, theme, locked and installed dependencies.

    A new release, an edited theme or a different WeasyPrint can change every
    PDF, so any of them makes every edition out of date.
    """
    from booklet import __version__
    from booklet.project import PACKAGE_DIR, theme_dir

    digest = hashlib.sha256(f"booklet {__version__}\0".encode())
    for path in sorted(PACKAGE_DIR.glob("*.py")):
        digest.update(f"booklet/{path.name}\0".encode() + path.read_bytes())
    theme = theme_dir()
    _hash_files(digest, "theme/templates", theme / "templates")
    _hash_files(digest, "theme/styles", theme / "styles")
    lock = PACKAGE_DIR.parent / "requirements.lock"
    if lock.is_file():
        digest.update(b"requirements.lock\0" + lock.read_bytes())
    for line in _installed_versions(RENDERING_DISTRIBUTIONS):
        digest.update(line.encode() + b"\0")
    return digest.hexdigest()


def project_inputs(project) -> str:
    """Hash what every edition of a project prints besides its language's content.

    booklet.toml in full (clinic details, dates), the project's own templates,
    styles and assets (images, fonts), and SOURCE_DATE_EPOCH.
    """
    digest = hashlib.sha256()
    digest.update(b"booklet.toml\0" + project.config_path.read_bytes())
    for name in ("templates", "styles", "assets"):
        _hash_files(digest, name, project.root / name)
    digest.update(f"SOURCE_DATE_EPOCH={os.environ.get('SOURCE_DATE_EPOCH', '')}".encode())
    return digest.hexdigest()


def language_inputs(project, language: str) -> str:
    """Hash one language's content (the review fingerprint) and its approval state."""
    from booklet import review

    approval = review.approval(project, language)
    state = (f"approved by {approval.approved_by} on {approval.approved_on}"
             if approval else "draft")
    return f"{review.fingerprint(project, language)}\0{state}"


def edition_inputs(tool: str, project: str, language: str, fmt) -> str:
    """Combine the parts into one edition's inputs hash (fmt: a core.Format)."""
    digest = hashlib.sha256()
    for part in (tool, project, language, repr(fmt)):
        digest.update(part.encode() + b"\0")
    return "sha256:" + digest.hexdigest()


def is_current(out_dir: Path, entry: dict | None, inputs: str) -> bool:
    """True when entry was built from inputs and its files on disk are the ones it built."""
    if not entry or entry.get("inputs") != inputs:
        return False
    files = [(entry.get("file"), entry.get("sha256"))]
    if isinstance(entry.get("sheets"), dict):
        files.append((entry["sheets"].get("file"), entry["sheets"].get("sha256")))
    for name, sha in files:
        path = Path(out_dir) / str(name)
        if not name or not path.is_file() or file_sha256(path) != sha:
            return False
    return True


# ---------------------------------------------------------------------------
# Size: what an edition's bytes are
# ---------------------------------------------------------------------------

def size_breakdown(path: Path) -> dict[str, int]:
    """Split a PDF's file size into fonts, images, content and structure (bytes as stored).

    fonts: embedded font programs with their ToUnicode and CID maps; images:
    image XObjects; content: page and form content streams (the drawing);
    structure: everything else (tags, links, outlines, metadata, object
    dictionaries, cross-reference). The preflight checks these against the
    size budget in booklet.toml; the manifest records them per edition.
    """
    import pikepdf

    path = Path(path)
    sizes = {"fonts": 0, "images": 0, "content": 0}
    seen: set[tuple[int, int]] = set()

    def stored(obj) -> int:
        if not isinstance(obj, pikepdf.Stream):
            return 0
        key = obj.objgen
        if key != (0, 0) and key in seen:
            return 0
        seen.add(key)
        return len(obj.read_raw_bytes())

    def font(obj) -> int:
        size = stored(obj.get("/ToUnicode")) + stored(obj.get("/CIDToGIDMap"))
        descriptor = obj.get("/FontDescriptor")
        if isinstance(descriptor, pikepdf.Dictionary):
            for key in ("/FontFile", "/FontFile2", "/FontFile3", "/CIDSet"):
                size += stored(descriptor.get(key))
        for descendant in obj.get("/DescendantFonts", ()):
            size += font(descendant)
        return size

    def resources(res, depth: int = 0) -> None:
        if not isinstance(res, pikepdf.Dictionary) or depth > 8:
            return
        for item in (res.get("/Font") or {}).values():
            sizes["fonts"] += font(item)
        for item in (res.get("/XObject") or {}).values():
            if item.get("/Subtype") == pikepdf.Name.Image:
                sizes["images"] += stored(item) + stored(item.get("/SMask"))
            elif item.get("/Subtype") == pikepdf.Name.Form:
                sizes["content"] += stored(item)
                resources(item.get("/Resources"), depth + 1)

    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            contents = page.obj.get("/Contents")
            for stream in (contents if isinstance(contents, pikepdf.Array) else [contents]):
                sizes["content"] += stored(stream)
            resources(page.obj.get("/Resources"))
    total = path.stat().st_size
    return {"total": total, **sizes,
            "structure": max(0, total - sum(sizes.values()))}


def size_problems(path: Path, budget_bytes: int, where: str = "") -> list:
    """A problem when a PDF is over its size budget, naming where its bytes go.

    For the preflight: the budget per format comes from booklet.toml.
    """
    from booklet.core import WARNING, Problem

    sizes = size_breakdown(path)
    if sizes["total"] <= budget_bytes:
        return []
    parts = ", ".join(f"{name} {sizes[name] / 1024:.0f} KiB"
                      for name in ("fonts", "images", "content", "structure"))
    return [Problem("size-over-budget", WARNING,
                    f"{Path(path).name} is {sizes['total'] / 1024:.0f} KiB, over its budget of "
                    f"{budget_bytes / 1024:.0f} KiB ({parts})", where or str(path),
                    "use fewer or smaller images, or fewer fonts and scripts; or raise the "
                    "budget in booklet.toml")]
