"""Scaffold: ``booklet new DIR`` writes a small project that builds at once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from booklet.errors import BookletError
from booklet.files import write_atomic

SCAFFOLD_DIR = Path(__file__).resolve().parent / "scaffold"


def create_project(directory: Path, *, title: str | None = None,
                   today: dt.date | None = None) -> Path:
    """Copy the scaffold into an empty or new folder, filling in title and dates."""
    root = Path(directory).resolve()
    if root.exists() and not root.is_dir():
        raise BookletError(f"{root}: is a file, not a folder; choose a new folder name")
    if root.exists() and any(root.iterdir()):
        raise BookletError(f"{root}: folder is not empty; choose a new folder name")
    today = today or dt.date.today()
    title = title or root.name.replace("-", " ").replace("_", " ").strip().capitalize()
    values = {"title": title.replace('"', "'"), "today": today.isoformat(),
              "next_year": today.replace(year=today.year + 1,
                                         day=min(today.day, 28)).isoformat()}
    for source in sorted(SCAFFOLD_DIR.rglob("*")):
        if source.is_dir() or "__pycache__" in source.parts:
            continue
        text = source.read_text(encoding="utf-8")
        if source.name == "booklet.toml":
            text = text.replace("{title}", values["title"]).replace(
                "{today}", values["today"]).replace("{next_year}", values["next_year"])
        write_atomic(root / source.relative_to(SCAFFOLD_DIR), text.encode())
    (root / "assets").mkdir(exist_ok=True)
    return root
