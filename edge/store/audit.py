"""The access log (NEN 7513): who did what with which rit, when, from which client.

Append-only, enforced by SQLite triggers: no UPDATE or DELETE ever succeeds, not even
from a bug in ritlink. Rows carry ids and action names, never patient data, and are kept
when a rit itself is purged (retention), so the purge is itself on record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from edge.wire.contract import utc_now

DEFAULT_USER = "crew"
DEFAULT_ROLE = "ambulancezorgverlener"


@dataclass(frozen=True)
class Actor:
    user: str = DEFAULT_USER
    role: str = DEFAULT_ROLE
    client: str = "local"


SYSTEM = Actor(user="ritlink", role="systeem", client="local")


def create_schema(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE access_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            user TEXT NOT NULL,
            role TEXT NOT NULL,
            rit_id TEXT,
            action TEXT NOT NULL,
            client TEXT NOT NULL,
            detail TEXT
        )"""
    )
    db.execute("CREATE INDEX access_log_rit ON access_log(rit_id, id)")
    for operation in ("UPDATE", "DELETE"):
        db.execute(
            f"CREATE TRIGGER access_log_no_{operation.lower()} BEFORE {operation} ON access_log "
            "BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
        )


def append(db: sqlite_utils.Database, actor: Actor, rit_id: str | None, action: str,
           detail: dict[str, Any] | None = None) -> None:
    """Record one access; call inside the transaction of the change it describes."""
    db.execute(
        "INSERT INTO access_log (at, user, role, rit_id, action, client, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [utc_now(), actor.user, actor.role, rit_id, action, actor.client,
         json.dumps(detail, sort_keys=True, separators=(",", ":")) if detail else None],
    )


def entries(db: sqlite_utils.Database, rit_id: str) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT * FROM access_log WHERE rit_id = ? ORDER BY id", [rit_id]))
    for row in rows:
        row["detail"] = json.loads(row["detail"]) if row["detail"] else {}
    return rows


def format_line(row: dict[str, Any]) -> str:
    detail = " ".join(f"{k}={v}" for k, v in sorted(row["detail"].items())) if row["detail"] else ""
    return f"{row['at']}  {row['user']} ({row['role']})  {row['action']}  client={row['client']}  {detail}".rstrip()
