"""Shared fixtures: real projects on disk, real builds, PDFs read back."""

from __future__ import annotations

from pathlib import Path

import pytest
from handout_copy import HANDOUT_PARTS, REPO, copy_handout  # noqa: F401 (tests import them)

PROJECTS = Path(__file__).resolve().parent / "projects"


@pytest.fixture
def handout(tmp_path: Path) -> Path:
    """A private copy of the ANKL handout that a test may change."""
    return copy_handout(tmp_path / "handout")


@pytest.fixture(scope="session")
def english_a4(tmp_path_factory):
    """The English A4 edition of the shipped handout, built once per test session."""
    from booklet.build import build_edition
    from booklet.render import Edition

    out = tmp_path_factory.mktemp("english-a4")
    return build_edition(REPO, Edition("en", "a4"), out)


def page_texts(path: Path) -> list[str]:
    """Text of every page, as a reader's PDF viewer would extract it."""
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(path).pages]


def normalize(text: str) -> str:
    return " ".join(text.split())


# ---------------------------------------------------------------------------
# A real SMTP server (aiosmtpd) on 127.0.0.1, port 0, for the mail and desk tests
# ---------------------------------------------------------------------------


class Mailbox:
    """The server's side: every message it accepted, and scripted replies per recipient."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []  # (from, recipients, bytes)
        self.rcpt_replies: dict[str, list[str]] = {}  # address -> replies before accepting
        self.on_data = None
        self.port = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        replies = self.rcpt_replies.get(address)
        if replies:
            return replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        if self.on_data:
            self.on_data(envelope)
        return "250 2.0.0 Message accepted"

    def to(self, address: str) -> list:
        """The messages delivered to an envelope recipient, parsed."""
        import email
        from email import policy

        return [email.message_from_bytes(content, policy=policy.default)
                for _, rcpts, content in self.messages if address in rcpts]


class SmtpServer:
    """aiosmtpd in its own event-loop thread: plain, STARTTLS, or TLS from the first byte.

    `cert` is a trustme certificate (STARTTLS required with it unless
    `implicit_tls`); `authenticator` makes AUTH required.
    """

    def __init__(self, mailbox: Mailbox, *, cert=None, implicit_tls: bool = False,
                 authenticator=None):
        import asyncio
        import ssl
        import threading

        from aiosmtpd.smtp import SMTP

        context = None
        if cert is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            cert.configure_cert(context)
        options: dict = {"hostname": "relay.test", "enable_SMTPUTF8": True}
        if authenticator is not None:
            options.update(authenticator=authenticator, auth_required=True)
        if context is not None and not implicit_tls:
            options.update(tls_context=context, require_starttls=True)
        elif authenticator is not None:
            options["auth_require_tls"] = False  # aiosmtpd does not see TLS it did not start
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        async def start():
            return await self.loop.create_server(lambda: SMTP(mailbox, **options),
                                                 "127.0.0.1", 0,
                                                 ssl=context if implicit_tls else None)

        self.server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(10)
        self.port = mailbox.port = self.server.sockets[0].getsockname()[1]
        self.mailbox = mailbox

    def close(self) -> None:
        import asyncio

        if self.loop.is_closed():
            return

        async def stop():
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.server.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def smtp_server():
    """Start real SMTP servers on 127.0.0.1 (port 0): smtp_server(**options) -> Mailbox.

    Options as for SmtpServer; every server started is closed when the module ends
    (or earlier, with mailbox.server.close()).
    """
    started: list[SmtpServer] = []

    def start(mailbox: Mailbox | None = None, **options) -> Mailbox:
        server = SmtpServer(mailbox or Mailbox(), **options)
        started.append(server)
        server.mailbox.server = server
        return server.mailbox

    yield start
    for server in started:
        server.close()
