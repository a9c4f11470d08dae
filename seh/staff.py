"""Who may see what at the SEH: staff sign-in, display tokens for a wall screen, integration
tokens, the optional single sign-on header of a reverse proxy, and the NEN 7513 access log.

- Staff are local users in the SEH database (scrypt hashes; ``ritlink seh-users add``).
  Their sessions are server-side (web/sessions.py): they end after ``shift_hours`` and at
  sign-out. Wrong passwords back off per user name (web/pin_guard.py).
- ``api_tokens``: integrations (and test rigs) on /api/v1 and the pages, as ``Authorization:
  Bearer``; the token's name is who they are in the access log.
- ``display_tokens``: a board on a wall screen (``/?display=TOKEN`` sets a cookie); it
  shows the arrivals board and nothing else: no rit page, no API.
- ``proxy_user_header``: with a reverse proxy that does the hospital's sign-on, the user it
  names, trusted only on a request that comes from one of ``trusted_proxies``. Off by default.

The access log is append-only (SQLite triggers), like the tablet's (edge/store/audit.py).
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from typing import Any

import sqlite_utils
from fastapi import Request

from edge.store.db import SESSIONS_TABLE_SQL
from edge.wire.contract import utc_now
from web.passwords import hash_secret, verify
from web.pin_guard import SignInGuard
from web.sessions import Session, SessionBook

SESSION_COOKIE = "seh_sessie"
DISPLAY_COOKIE = "seh_scherm"
MIN_PASSWORD = 10
STAFF_ROLE = "seh-verpleegkundige"
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")


def migrate_staff(db: sqlite_utils.Database) -> None:
    """SEH migration: staff, their sessions and the access log of every view of a rit."""
    db.execute("""CREATE TABLE seh_users (
        name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL, created_at TEXT NOT NULL)""")
    db.execute(SESSIONS_TABLE_SQL)
    db.execute("""CREATE TABLE seh_access_log (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL,
        rit_id TEXT, action TEXT NOT NULL, client TEXT NOT NULL, detail TEXT)""")
    db.execute("CREATE INDEX seh_access_log_rit ON seh_access_log(rit_id, id)")
    for operation in ("UPDATE", "DELETE"):
        db.execute(f"CREATE TRIGGER seh_access_log_no_{operation.lower()} BEFORE {operation} ON seh_access_log "
                   "BEGIN SELECT RAISE(ABORT, 'seh_access_log is append-only'); END")


def add_user(store: Any, name: str, password: str, role: str = STAFF_ROLE) -> None:
    """Add a staff member, or give an existing one a new password."""
    if not NAME.match(name):
        raise ValueError("a name is 1-64 letters, digits, '.', '_', '@' or '-'")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must be at least {MIN_PASSWORD} characters")
    with store.write() as db:
        db.execute("INSERT INTO seh_users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?)"
                   " ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash, role = excluded.role",
                   [name, hash_secret(password), role[:64], utc_now()])


@dataclass(frozen=True)
class Viewer:
    """Who is looking: staff (or an integration) may see rits; a display only the board."""

    user: str
    role: str
    client: str
    session: Session | None = None
    display_only: bool = False

    @property
    def csrf(self) -> str:
        return self.session.csrf if self.session else ""


def _bearer(request: Request) -> str | None:
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    return presented.strip() if scheme.lower() == "bearer" and presented.strip() else None


def _match(tokens: list[tuple[str, str]], presented: str | None) -> str | None:
    found = None
    for name, token in tokens:  # constant time for each: no hint which one is close
        if presented is not None and hmac.compare_digest(token.encode(), presented.encode()):
            found = name
    return found


class SehAccess:
    def __init__(self, store: Any, shift_hours: float = 12.0, api_tokens=(), display_tokens=(),
                 proxy_user_header: str | None = None, trusted_proxies=(), guard: SignInGuard | None = None):
        self.store = store
        self.book = SessionBook(store, shift_hours)
        self.guard = guard or SignInGuard()
        self.api_tokens = [(t.name, t.token) for t in api_tokens]
        self.display_tokens = [(t.name, t.token) for t in display_tokens]
        self.proxy_header = proxy_user_header
        self.proxies = set(trusted_proxies)

    def viewer(self, request: Request) -> Viewer | None:
        client = request.client.host if request.client else "onbekend"
        if name := _match(self.api_tokens, _bearer(request)):
            return Viewer(name, "koppeling", client)
        if self.proxy_header and client in self.proxies:
            user = request.headers.get(self.proxy_header, "").strip()
            if NAME.match(user):
                return Viewer(user, STAFF_ROLE, client)
        if found := self.book.find(request.cookies.get(SESSION_COOKIE)):
            return Viewer(found.names[0], found.role, client, found)
        display = request.query_params.get("display") or request.cookies.get(DISPLAY_COOKIE)
        if name := _match(self.display_tokens, display):
            return Viewer(name, "scherm", client, display_only=True)
        return None

    def sign_in(self, name: str, password: str) -> tuple[Session | None, str]:
        key = name.lower()[:64]
        wait = self.guard.wait_s(key)
        if wait > 0:
            return None, f"Te veel onjuiste pogingen: probeer het over {int(wait) + 1} seconden opnieuw"
        rows = self.store.query("SELECT password_hash, role FROM seh_users WHERE name = ?", [name])
        if not rows or not verify(password, rows[0]["password_hash"]):
            wait = self.guard.failed(key)
            return None, f"Naam of wachtwoord onjuist (volgende poging over {int(wait + 0.999)} s)"
        self.guard.succeeded(key)
        return self.book.open([name], rows[0]["role"]), ""

    def log(self, viewer: Viewer, rit_id: str | None, action: str, detail: dict | None = None) -> None:
        with self.store.write() as db:
            db.execute("INSERT INTO seh_access_log (at, user, role, rit_id, action, client, detail)"
                       " VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [utc_now(), viewer.user, viewer.role, rit_id, action, viewer.client,
                        json.dumps(detail, sort_keys=True) if detail else None])

    def entries(self, rit_id: str, action: str | None = None) -> list[dict]:
        sql = "SELECT at, user, role, action, client, detail FROM seh_access_log WHERE rit_id = ?"
        return self.store.query(sql + (" AND action = ?" if action else "") + " ORDER BY id",
                                [rit_id, action] if action else [rit_id])
