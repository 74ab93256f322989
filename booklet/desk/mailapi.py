"""The desk's thin adapter over booklet.mail: one place that knows whether mail is installed.

The mail stage may be missing from an installation (or not yet merged); the
desk then still serves the library, previews and printing, and says why email
is unavailable instead of failing.
"""

from __future__ import annotations


class MailUnavailable(Exception):
    """booklet.mail cannot be imported; the message says so in plain words."""


NEEDED = ("Recipient", "read_recipients_csv", "check_sendable", "send_batch", "send_report")


def mail():
    """Return the booklet.mail module, or raise MailUnavailable."""
    try:
        from booklet import mail as module
    except ImportError as exc:
        raise MailUnavailable(f"this installation of booklet has no email stage ({exc})") \
            from None
    missing = [name for name in NEEDED if not hasattr(module, name)]
    if missing:
        raise MailUnavailable(f"booklet.mail lacks {', '.join(missing)}")
    return module
