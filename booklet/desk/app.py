"""The desk's Flask application: configuration, sign-in, sessions, CSRF and security headers.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Strict, Secure over
HTTPS) with an idle limit; every POST carries the session's CSRF token; every
response carries a strict Content-Security-Policy (no inline script or style,
nothing from elsewhere). Errors are pages that say what happened, never a
traceback.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from booklet.desk.jobs import JobBoard
from booklet.desk.library import discover

PACKAGE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
# A PDF opened for printing shows in the browser's own viewer: Chromium treats it as
# a plugin document that object-src (and so default-src) 'none' would refuse.
PDF_CSP = "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
OPEN_ENDPOINTS = {"signin", "static", "set_language"}


@dataclass
class Desk:
    """What the views share: the handouts served, the accounts, the background jobs."""

    roots: dict[str, Path]
    users_file: Path
    out_dir: str | Path
    cache_dir: Path
    board: JobBoard
    session_minutes: int
    today: object = None  # a callable returning the date, for tests of overdue reviews
    translations: dict = field(default_factory=dict)
    pending: dict = field(default_factory=dict)  # uploaded CSV batches awaiting "send"
    render_lock: threading.Lock = field(default_factory=threading.Lock)
    failures: dict = field(default_factory=dict)  # sign-in failures by name

    def date(self) -> dt.date:
        return self.today() if self.today else dt.date.today()


def create_app(projects: list[Path] | list[str], users_file: Path | str, *,
               out_dir: str | Path = "dist", secret_key: bytes | None = None,
               cache_dir: Path | None = None, session_minutes: int = 8 * 60,
               secure_cookies: bool = False, today=None, send_workers: int = 2):
    """Build the desk for the handouts in projects (project folders or folders of them)."""
    from flask import Flask

    from booklet.desk import views
    from booklet.desk.translations import load_translations

    app = Flask(__name__, template_folder=str(PACKAGE / "templates"),
                static_folder=str(PACKAGE / "static"))
    app.config.update(
        SECRET_KEY=secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_NAME="booklet_desk",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(minutes=session_minutes),
        MAX_CONTENT_LENGTH=views.MAX_UPLOAD + 16 * 1024,
        TEMPLATES_AUTO_RELOAD=False,
    )
    from booklet.desk.jobs import JOBS_NAME
    from booklet.mail import MAIL_DIR

    roots = discover([Path(p) for p in projects])
    # Jobs outlive a restart: kept beside each handout's send log.
    board = JobBoard(send_workers, {slug: root / MAIL_DIR / JOBS_NAME
                                    for slug, root in roots.items()})
    desk = Desk(roots, Path(users_file), out_dir,
                Path(cache_dir or tempfile.mkdtemp(prefix="booklet-desk-")),
                board, session_minutes, today, load_translations())
    app.extensions["booklet_desk"] = desk
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(
        lambda message: views.translations().gettext(message),
        lambda singular, plural, n: views.translations().ngettext(singular, plural, n),
        newstyle=True)
    _install_security(app, desk)
    views.register(app, desk)
    return app


def _install_security(app, desk: Desk) -> None:
    from flask import abort, g, redirect, request, session, url_for

    @app.before_request
    def guard():
        g.language = views_language()
        now = int(time.time())
        user = session.get("user")
        if user:
            seen = int(session.get("seen", 0))
            if now - seen > desk.session_minutes * 60:
                session.clear()
                if request.endpoint not in OPEN_ENDPOINTS:
                    abort(401, "expired")
            else:
                session["seen"] = now
        if request.method == "POST":
            sent = request.form.get("csrf_token", "")
            expected = session.get("csrf", "")
            if not expected or not sent or not hmac.compare_digest(sent, expected):
                abort(400, "csrf")
        if request.endpoint not in OPEN_ENDPOINTS and not session.get("user"):
            if request.method == "GET" and request.endpoint == "library":
                return redirect(url_for("signin"), code=303)
            abort(401, "signin")
        g.user = session.get("user", "")

    @app.after_request
    def headers(response):
        pdf = response.mimetype == "application/pdf"
        response.headers["Content-Security-Policy"] = PDF_CSP if pdf else CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        if not pdf:
            response.headers["X-Frame-Options"] = "DENY"
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        return response

    def views_language() -> str:
        chosen = session.get("language")
        if chosen in desk.translations:
            return chosen
        return request.accept_languages.best_match(sorted(desk.translations)) or "en"


def csrf_token() -> str:
    """The session's CSRF token, made on first use (also before sign-in, for that form)."""
    from flask import session

    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token
