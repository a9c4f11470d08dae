"""Retention at the SEH: a finished rit (handed over or cancelled) is deleted with its
messages, versions, form checkpoint, resync note, feedback and FHIR outbox rows once it has
been finished for the retention period (default 7 days: the hospital's EPD holds the record,
see docs/fhir.md). Dead letters go by their own age. The access log (``seh_fhir_access`` and
the sign-in/access tables) is not touched: it has its own legal period.

Deletes run a few rits per write transaction with a pause between batches, so the receiver
(which shares the write lock and the file) never waits long behind a purge. SQLite reuses the
freed pages for new rows; ``storage`` reports the file's size, its free pages and the oldest
row, for ``/-/status``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlite_utils

from edge.wire.contract import utc_now

if TYPE_CHECKING:
    from seh.store import SehStore

DEFAULT_KEEP_S = 7 * 24 * 3600
BATCH_RITS = 20  # rits per transaction: a few milliseconds of write lock
BATCH_DEAD_LETTERS = 500
PURGE_EVERY_S = 3600.0  # the receiver's periodic job

# Every table that holds a rit's rows, by rit_id (the access log is deliberately absent).
RIT_TABLES = ("short_messages", "seh_versions", "seh_messages", "seh_forms", "seh_resyncs", "seh_feedback", "seh_fhir_outbox",
              "seh_rits")


def _cutoff(older_than_s: float) -> str:
    return _iso(time.time() - older_than_s)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch)) + f".{int(epoch % 1 * 1000):03d}Z"


def purge(store: SehStore, older_than_s: float, batch: int = BATCH_RITS, pause_s: float = 0.0,
          max_batches: int | None = None) -> dict[str, int]:
    """Delete finished rits last changed before now - ``older_than_s``; returns counts."""
    cutoff = _cutoff(older_than_s)
    counts = {"rits": 0, "dead_letters": 0}
    batches = 0
    while max_batches is None or batches < max_batches:
        with store.write() as db:
            rit_ids = [r[0] for r in db.execute(
                "SELECT rit_id FROM seh_rits INDEXED BY seh_rits_finished"
                " WHERE status IN ('overdracht', 'geannuleerd') AND updated_at < ? ORDER BY updated_at LIMIT ?",
                [cutoff, batch]).fetchall()]
            tables = set(db.table_names())
            for rit_id in rit_ids:
                for table in RIT_TABLES:
                    if table in tables:
                        db.execute(f"DELETE FROM {table} WHERE rit_id = ?", [rit_id])  # noqa: S608 (fixed names)
                store.forms.drop(rit_id)
        counts["rits"] += len(rit_ids)
        batches += 1
        if len(rit_ids) < batch:
            break
        time.sleep(pause_s)
    while max_batches is None or batches < max_batches:
        with store.write() as db:
            deleted = db.execute(
                "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters WHERE received_at < ?"
                " ORDER BY id LIMIT ?)", [cutoff, BATCH_DEAD_LETTERS]).rowcount
        counts["dead_letters"] += deleted
        batches += 1
        if deleted < BATCH_DEAD_LETTERS:
            break
        time.sleep(pause_s)
    return counts


def storage(db: sqlite_utils.Database, path: Path) -> dict[str, Any]:
    """The database's size on disk, its free pages and the oldest rit and message it holds."""
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    wal = path.with_name(path.name + "-wal")
    return {
        "database_bytes": pages * page_size,
        "free_bytes": free * page_size,
        "wal_bytes": wal.stat().st_size if wal.exists() else 0,
        # rowid order is arrival order: the first row is the oldest, found without a scan
        "oldest_rit_at": _first(db, "SELECT first_received_at FROM seh_rits ORDER BY rowid LIMIT 1"),
        "oldest_message_at": _first(db, "SELECT applied_at FROM seh_versions ORDER BY id LIMIT 1"),
        "checked_at": utc_now(),
    }


def _first(db: sqlite_utils.Database, sql: str) -> Any:
    row = db.execute(sql).fetchone()
    return row[0] if row else None
