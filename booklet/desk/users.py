"""Desk accounts: staff names and argon2 password hashes in a file only its owner can read.

The file is JSON (``{"users": {name: {"hash": ..., "created": ...}}}``), written
atomically with mode 0600 from the first byte, so no other account on the
machine ever sees a hash. ``BOOKLET_DESK_USERS`` names it; otherwise it lives
in the user's configuration folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import tempfile
from pathlib import Path

from booklet.core import BookletError

USERS_ENV = "BOOKLET_DESK_USERS"
NAME = re.compile(r"^[\w][\w .'-]{0,63}$")
MIN_PASSWORD = 10


def default_users_file() -> Path:
    """The users file: $BOOKLET_DESK_USERS, else ~/.config/booklet/desk-users.json."""
    named = os.environ.get(USERS_ENV)
    if named:
        return Path(named)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "booklet" / "desk-users.json"


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def load_users(path: Path) -> dict[str, dict]:
    """Read the users file; refuse one that others can read (a leaked hash can be cracked)."""
    path = Path(path)
    if not path.is_file():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BookletError(f"{path}: other accounts can read this users file (mode "
                           f"{stat.S_IMODE(mode):o}); make it private: chmod 600 {path}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        users = data["users"]
        if not isinstance(users, dict):
            raise TypeError("'users' is not a table")
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BookletError(f"{path}: not a desk users file ({exc}); move it away and "
                           "add the users again with: booklet desk user add NAME") from None
    return users


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_user(path: Path, name: str, password: str) -> None:
    """Create or replace the account NAME with an argon2 hash of password."""
    name = name.strip()
    if not NAME.match(name):
        raise BookletError(f"user name {name!r}: use 1-64 letters, digits, spaces, dots, "
                           "hyphens or apostrophes, starting with a letter or digit")
    if len(password) < MIN_PASSWORD:
        raise BookletError(f"password for {name!r}: use at least {MIN_PASSWORD} characters")
    path = Path(path)
    users = load_users(path)
    users[name] = {"hash": _hasher().hash(password),
                   "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    text = json.dumps({"users": users}, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    _write_private(path, text.encode("utf-8"))


# Verifying against this when the name is unknown takes as long as a real check,
# so response times do not tell which staff names exist.
_DUMMY_HASH: list[str] = []


def verify_user(path: Path, name: str, password: str) -> bool:
    """True when NAME exists and password matches its hash."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    entry = load_users(path).get(name.strip())
    if entry is None:
        if not _DUMMY_HASH:
            _DUMMY_HASH.append(hasher.hash("not a password of anyone"))
        target, known = _DUMMY_HASH[0], False
    else:
        target, known = str(entry.get("hash", "")), True
    try:
        return hasher.verify(target, password) and known
    except (VerificationError, InvalidHashError):
        return False
