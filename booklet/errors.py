"""The one exception type for user errors, printed by the CLI without a traceback."""

from __future__ import annotations

import click


class BookletError(click.ClickException):
    """A problem the user can fix: says what, where (file:line or key) and how."""

    exit_code = 1

    def format_message(self) -> str:
        return self.message
