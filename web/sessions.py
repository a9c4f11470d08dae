"""Server-side sign-in sessions (the tablet's shift, an SEH staff member), kept in the
service's own SQLite file so that a restart keeps them and a sign-out revokes them for good.

The cookie holds a random token; the table holds only its SHA-256, who signed in, and when
the session ends (the end of the shift). The CSRF token is derived from the cookie's token:
a page of this session carries it, another site cannot read it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["Session", "SessionBook"]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Session:
    token: str
    names: tuple[str, ...]
    role: str
    expires_at: str

    @property
    def csrf(self) -> str:
        return hashlib.sha256(f"csrf:{self.token}".encode()).hexdigest()


class SessionBook:
    """``store``: any ritlink Store (``write()``, ``query()``) whose schema has the sessions
    table (edge/store/db.SESSIONS_TABLE_SQL, in both sides' migrations)."""

    def __init__(self, store: Any, hours: float, now: Callable[[], datetime] = lambda: datetime.now(UTC)):
        self.store = store
        self.hours = hours
        self.now = now

    def open(self, names: list[str], role: str) -> Session:
        token = secrets.token_urlsafe(32)
        now = self.now()
        ends = _iso(now + timedelta(hours=self.hours))
        with self.store.write() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", [_iso(now - timedelta(days=7))])
            db.execute("INSERT INTO sessions (token_sha256, names_json, role, created_at, expires_at)"
                       " VALUES (?, ?, ?, ?, ?)", [_digest(token), json.dumps(names), role, _iso(now), ends])
        return Session(token, tuple(names), role, ends)

    def find(self, token: str | None) -> Session | None:
        if not token or len(token) > 200:
            return None
        rows = self.store.query("SELECT names_json, role, expires_at FROM sessions WHERE token_sha256 = ?"
                                " AND revoked_at IS NULL AND expires_at > ?", [_digest(token), _iso(self.now())])
        if not rows:
            return None
        return Session(token, tuple(json.loads(rows[0]["names_json"])), rows[0]["role"], rows[0]["expires_at"])

    def revoke(self, token: str | None) -> None:
        if not token:
            return
        with self.store.write() as db:
            db.execute("UPDATE sessions SET revoked_at = ? WHERE token_sha256 = ? AND revoked_at IS NULL",
                       [_iso(self.now()), _digest(token)])
