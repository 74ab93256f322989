"""Send log: the durable record of what booklet handed to the relay (or the outbox) for whom.

One SQLite row per batch x recipient x edition. A row is written (and
committed) before the SMTP transaction starts, marked ``sending`` just before
the message body goes out, and completed with the relay's reply after; so a
run stopped at any point (a crash, kill -9, Ctrl-C) and started again knows
what went out, what did not, and which message's outcome only the relay knows
(``unknown``: reported for a person to decide, never silently resent).

The file is the clinic's record of patient education, so it holds patient
addresses: it is readable by its owner only, and ``forget`` erases an address
while keeping a keyed hash, so a resend to it is still recognised.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import sqlite3
from pathlib import Path

LOG_NAME = "sendlog.sqlite3"

# pending: written, nothing handed over yet; sending: the body is on its way;
# sent / failed: the relay's answer recorded; unknown: stopped while sending.
STATUSES = ("pending", "sending", "sent", "failed", "unknown")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL,
    address_hash TEXT NOT NULL,
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL,
    format TEXT NOT NULL,
    file TEXT NOT NULL DEFAULT '',
    pdf_sha256 TEXT NOT NULL DEFAULT '',
    fingerprint TEXT NOT NULL DEFAULT '',
    version TEXT NOT NULL DEFAULT '',
    draft INTEGER NOT NULL DEFAULT 0,
    transport TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    temporary INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    message_id TEXT NOT NULL DEFAULT '',
    reply TEXT NOT NULL DEFAULT '',
    sent_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    sent_at TEXT NOT NULL DEFAULT '',
    UNIQUE (batch_id, address_hash, language, format)
);
CREATE INDEX IF NOT EXISTS sends_by_address ON sends (address_hash);
"""


def now() -> str:
    """UTC time to the second, ISO 8601: what the record shows."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def private_folder(folder: Path) -> Path:
    """Create the folder for patient data: owner only, and ignored by git wherever it is."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# Patient addresses: never commit this folder.\n*\n")
    return folder


def _create_private(path: Path) -> None:
    """Create the folder (0700) and the empty database file (0600) before SQLite opens it.

    SQLite gives its -wal and -shm files the database file's permissions.
    """
    private_folder(path.parent)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
    os.chmod(path, 0o600)


def open_log(path: Path, *, readonly: bool = False) -> sqlite3.Connection | None:
    """Open (creating it unless readonly) the send log; None when readonly and absent."""
    path = Path(path)
    if readonly:
        if not path.is_file():
            return None
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=30)
    else:
        _create_private(path)
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA secure_delete=ON")
        conn.executescript(SCHEMA)
        with conn:
            conn.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)",
                         (secrets.token_hex(16),))
    conn.row_factory = sqlite3.Row
    return conn


def address_hash(conn: sqlite3.Connection | None, email: str) -> str:
    """A keyed hash of an address: recognises a resend without storing the address."""
    salt = ""
    if conn is not None:
        row = conn.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
        salt = row[0] if row else ""
    return hmac.new(salt.encode(), email.casefold().encode(), hashlib.sha256).hexdigest()


def find(conn: sqlite3.Connection | None, batch_id: str, digest: str, language: str,
         fmt: str) -> sqlite3.Row | None:
    if conn is None:
        return None
    return conn.execute(
        "SELECT * FROM sends WHERE batch_id = ? AND address_hash = ? AND language = ? "
        "AND format = ?", (batch_id, digest, language, fmt)).fetchone()


def begin(conn: sqlite3.Connection, **fields) -> int:
    """Write the row before anything is handed over (committed at once); return its id."""
    stamp = now()
    fields = {"status": "pending", "created_at": stamp, "updated_at": stamp, **fields}
    names = ", ".join(fields)
    marks = ", ".join("?" for _ in fields)
    with conn:
        cursor = conn.execute(f"INSERT INTO sends ({names}) VALUES ({marks})",
                              tuple(fields.values()))
    return int(cursor.lastrowid)


def update(conn: sqlite3.Connection, row_id: int, **fields) -> None:
    """Record a step of a row's transaction, committed before the next step starts."""
    fields["updated_at"] = now()
    assignments = ", ".join(f"{name} = ?" for name in fields)
    with conn:
        conn.execute(f"UPDATE sends SET {assignments} WHERE id = ?",
                     (*fields.values(), row_id))


def rows(conn: sqlite3.Connection | None, since: dt.date | None = None) -> list[sqlite3.Row]:
    """Every row, newest first; from the start of ``since`` (UTC) when given."""
    if conn is None:
        return []
    if since is None:
        return conn.execute("SELECT * FROM sends ORDER BY updated_at DESC, id DESC").fetchall()
    return conn.execute("SELECT * FROM sends WHERE updated_at >= ? "
                        "ORDER BY updated_at DESC, id DESC", (since.isoformat(),)).fetchall()


def forget(conn: sqlite3.Connection, email: str) -> int:
    """Erase an address (and the name with it) from every row; keep the keyed hash."""
    digest = address_hash(conn, email)
    with conn:
        cursor = conn.execute("UPDATE sends SET email = '', name = '', updated_at = ? "
                              "WHERE address_hash = ? AND email != ''", (now(), digest))
    # Leave no copy of the erased text in the write-ahead log or free pages.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("VACUUM")
    return cursor.rowcount
