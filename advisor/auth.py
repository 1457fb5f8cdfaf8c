"""Who may do what: optional login (a users file, or a header from a trusted reverse proxy) and API keys.

Nothing is configured by default, and then nothing changes: no login, every upload removable by anyone, an
API without keys (the server binds 127.0.0.1). Passwords are stored as scrypt hashes (stdlib, memory-hard);
every secret is compared in constant time, and none is ever logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Settings

USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_N, _R, _P, _LEN = 2**14, 8, 1, 32  # scrypt cost: ~16 MB and ~50 ms per check on one core
LOGIN_FAILURES, LOGIN_WINDOW_S = 5, 300.0  # wrong passwords per user name, then that name waits
log = logging.getLogger("advisor.auth")


class AuthError(ValueError):
    """A users file or a user name that cannot be used; the message says what to fix."""


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """The stored form of a password: 'scrypt$n$r$p$salt$hash' (base64 parts)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_LEN)
    encode = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${encode(salt).decode()}${encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches a stored hash (constant-time comparison; a malformed hash never matches)."""
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(expected),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


@dataclass(frozen=True)
class UserRecord:
    """One account of the users file."""

    password: str  # the scrypt hash, never the password
    admin: bool = False


def read_users(path: Path) -> dict[str, UserRecord]:
    """The users file: {"name": {"password": "scrypt$…", "admin": false}, …}; AuthError when it is wrong."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError) as exc:
        raise AuthError(f"{path}: not a readable users file ({exc})") from None
    if not isinstance(raw, dict):
        raise AuthError(f"{path}: expected an object of users")
    users = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not str(entry.get("password", "")).startswith("scrypt$"):
            raise AuthError(f"{path}: user {name!r} has no scrypt password hash (use `advisor users add`)")
        users[str(name)] = UserRecord(str(entry["password"]), bool(entry.get("admin", False)))
    return users


def write_users(path: Path, users: Mapping[str, UserRecord]) -> None:
    """Write the users file readable by its owner only (0600), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)  # a stale one could have other permissions: always a fresh 0600 file
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    body = {name: {"password": u.password, "admin": u.admin} for name, u in sorted(users.items())}
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(body, handle, indent=1)
    os.replace(tmp, path)


def check_name(name: str) -> str:
    if not USER_NAME.match(name):
        raise AuthError(f"user names are 1–64 letters, digits and . _ @ -, not {name!r}")
    return name


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class LoginThrottle:
    """At most `failures` wrong passwords for one user name within `window_s`; then sign-ins under that name
    are refused, right password or not, until the oldest failure leaves the window. Guessing a password
    costs an attacker days instead of hours; the real user waits at most `window_s` after a typo spree."""

    def __init__(
        self,
        failures: int = LOGIN_FAILURES,
        window_s: float = LOGIN_WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
        names: int = 10_000,
    ) -> None:
        self.failures, self.window_s, self.clock, self.names = failures, window_s, clock, names
        self._lock = threading.Lock()
        self._failed: dict[str, list[float]] = {}

    def _recent(self, name: str, now: float) -> list[float]:
        times = [t for t in self._failed.get(name, ()) if now - t < self.window_s]
        if times:
            self._failed[name] = times
        else:
            self._failed.pop(name, None)
        return times

    def wait_s(self, name: str) -> float:
        """Seconds until `name` may try again (0: now)."""
        with self._lock:
            now = self.clock()
            times = self._recent(name, now)
            return self.window_s - (now - times[0]) if len(times) >= self.failures else 0.0

    def failed(self, name: str) -> None:
        with self._lock:
            now = self.clock()
            if name not in self._failed and len(self._failed) >= self.names:  # many names at once: forget old
                for old in [n for n in list(self._failed) if not self._recent(n, now)][: self.names // 2]:
                    self._failed.pop(old, None)
                if len(self._failed) >= self.names:
                    self._failed.pop(next(iter(self._failed)))
            self._failed.setdefault(name, []).append(now)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._failed.pop(name, None)


class Access:
    """Who is signed in, who is an admin, which API keys hold: everything the surfaces ask about access."""

    def __init__(self, settings: Settings) -> None:
        self.users_file = settings.users_file
        self.header = settings.auth_header.strip().lower()
        self.trusted = set(_split(settings.trusted_proxies))
        self.admins = set(_split(settings.admins))
        keys = settings.api_keys.get_secret_value() if settings.api_keys is not None else ""
        self._keys = [k.encode("utf-8") for k in _split(keys)]
        self._users = read_users(self.users_file) if self.users_file is not None else {}
        self._dummy = hash_password(secrets.token_hex(8))
        self.throttle = LoginThrottle()

    @property
    def mode(self) -> str:
        """'password' (users file), 'header' (reverse proxy) or 'open' (no login: as before)."""
        if self.users_file is not None:
            return "password"
        return "header" if self.header else "open"

    def check_password(self, username: str, password: str) -> bool:
        """Gradio's login check: a known user with the right password (an unknown one costs the same time),
        unless that name has had too many wrong passwords lately (LoginThrottle)."""
        user = self._users.get(username)
        matched = verify_password(password, user.password if user else self._dummy)
        wait = self.throttle.wait_s(username)
        if wait > 0:
            log.warning("sign-in as %r refused: too many wrong passwords; next try in %.0f s", username, wait)
            return False
        if matched and user is not None:
            self.throttle.succeeded(username)
            return True
        self.throttle.failed(username)
        return False

    def user_from_request(self, peer: str | None, headers: Mapping[str, str]) -> str | None:
        """The user a trusted proxy names in its header; None when the peer is not trusted or names nobody."""
        if not self.header or peer not in self.trusted:
            return None
        name = (headers.get(self.header) or "").strip()
        return name if USER_NAME.match(name) else None

    def is_admin(self, username: str | None) -> bool:
        if not username:
            return False
        user = self._users.get(username)
        return username in self.admins or (user is not None and user.admin)

    @property
    def has_keys(self) -> bool:
        return bool(self._keys)

    @property
    def api_open(self) -> bool:
        """The API needs no key: none is configured and nobody has to sign in to the page either."""
        return not self._keys and self.mode == "open"

    def api_key_ok(self, authorization: str | None) -> bool:
        """A 'Bearer <key>' header holding one of the keys (each compared in constant time)."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        given = token.strip().encode("utf-8")
        found = False
        for key in self._keys:
            found |= hmac.compare_digest(given, key)
        return found

    def may_remove(self, username: str | None, owner: str | None) -> bool:
        """Uploads belong to their uploader: they or an admin remove them; without login, anyone."""
        if self.mode == "open":
            return True
        return username is not None and (username == owner or self.is_admin(username))


def owner_key(username: str | None, browser_id: str | None) -> str | None:
    """Whose conversations these are: the signed-in user, else this browser; None when neither is known."""
    if username:
        return f"user:{username}"
    return f"browser:{browser_id}" if browser_id else None
