"""The one exception type for user errors (kept here for older imports; see core.py)."""

from __future__ import annotations

from booklet.core import BookletError, Problem

__all__ = ["BookletError", "Problem"]
