"""The clinic desk: a local web page where staff find, preview, print and email handouts.

``create_app`` builds the Flask application; ``booklet desk`` serves it with
waitress on 127.0.0.1. Flask, waitress and argon2-cffi come with the ``desk``
extra (``pip install booklet[desk]``), so the rest of booklet never needs them;
this module imports Flask only when ``create_app`` is asked for.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str):
    if name == "create_app":
        from booklet.desk.app import create_app

        return create_app
    raise AttributeError(name)
