"""Retention: finished rits leave the tablet a configured time after the SEH has read them.

A rit is *finished* when it is handed over or cancelled and no stream is open. Its clock
starts when every destination has it: the SEH's read receipt of the overdracht (design.md),
or for a cancelled stream the SEH's delivered or read receipt, and never before the rit's
last change. A cancelled rit that was never announced has no SEH copy to wait for: its
clock starts at its last change. A rit the SEH never confirmed stays on the tablet.

The purge deletes the rit, its entries, outbox and idempotency keys in one transaction;
the access log keeps every row, plus one for the purge itself (edge/store/audit.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlite_utils

from edge.form.model import CANCELLED, HANDED_OVER


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def expired_rits(db: sqlite_utils.Database, retention_hours: float, now: datetime | None = None) -> list[str]:
    cutoff = _iso((now or datetime.now(UTC)) - timedelta(hours=retention_hours))
    expired = []
    for rit in db.query("SELECT rit_id FROM rits WHERE lifecycle IN (?, ?) AND updated_at <= ?",
                        [HANDED_OVER, CANCELLED, cutoff]):
        if _seh_has_it_since(db, rit["rit_id"], cutoff):
            expired.append(rit["rit_id"])
    return expired


def _seh_has_it_since(db: sqlite_utils.Database, rit_id: str, cutoff: str) -> bool:
    for stream in db.query("SELECT seh_id, status, open FROM streams WHERE rit_id = ?", [rit_id]):
        if stream["open"]:
            return False
        last = list(db.query("SELECT delivered_at, read_at FROM outbox WHERE rit_id = ? AND seh_id = ?"
                             " ORDER BY seq DESC LIMIT 1", [rit_id, stream["seh_id"]]))
        if not last:
            return False
        since = last[0]["read_at"] if stream["status"] == HANDED_OVER else (last[0]["read_at"] or last[0]["delivered_at"])
        if since is None or since > cutoff:
            return False
    return True


def purge(db: sqlite_utils.Database, rit_id: str) -> dict[str, int]:
    """Delete one rit's data (not its access log); returns counts for the log (no patient data)."""
    counts = {
        "entries": db.execute("SELECT count(*) FROM entries WHERE rit_id = ?", [rit_id]).fetchone()[0],
        "messages": db.execute("SELECT count(*) FROM outbox WHERE rit_id = ?", [rit_id]).fetchone()[0],
    }
    for table in ("outbox", "streams", "entries", "idempotency", "rit_heads", "rits"):
        db.execute(f"DELETE FROM {table} WHERE rit_id = ?", [rit_id])
    db.execute("DELETE FROM short_messages WHERE rit_id = ?", [rit_id])  # migration 10
    return counts
