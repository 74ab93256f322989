"""booklet: Markdown chapters into print-ready, multilingual patient handouts.

The public API is ``build(project, edition)``; everything heavy (WeasyPrint,
Babel) is imported lazily, so ``booklet --help`` starts fast.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["BookletError", "Edition", "__version__", "build", "load_project"]


def __getattr__(name: str):
    if name == "build":
        from booklet.build import build

        return build
    if name == "load_project":
        from booklet.project import load_project

        return load_project
    if name == "Edition":
        from booklet.core import Edition

        return Edition
    if name == "BookletError":
        from booklet.core import BookletError

        return BookletError
    raise AttributeError(name)
