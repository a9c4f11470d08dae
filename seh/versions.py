"""Versions as the messages that made them: the SEH stores each applied message's body (the
snapshot or the merge patch, compressed) instead of a full copy of the form per version, and
rebuilds any version on demand from the nearest snapshot before it.

The current form is kept as a checkpoint (``seh_forms``) written every ``CHECKPOINT_EVERY``
versions, at a snapshot and when the rit ends; the current form is that checkpoint plus the
few patches after it. Storage per rit grows with the size of the changes, not with
versions x form, and a message never rewrites the whole form.

The receiver keeps the current form of recently active rits in memory (``FormCache``) with
its canonical text per entry (edge/wire/form_hash.py), so applying a patch and hashing the
result cost in proportion to the patch, not to the form.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from edge.form.model import COLLECTIONS, HISTORY_KINDS, LATER_HISTORY_KINDS
from edge.form.shape import form_problem
from edge.wire.canonical import merge_patch_apply, merge_patch_create
from edge.wire.packed import pack, unpack
from seh.canonical_cache import CanonicalCache

CHECKPOINT_EVERY = 64  # versions between two stored copies of the current form
CACHE_RITS = 1024  # current forms kept in memory (the rits that are on their way in)
FINAL_STATUSES = ("overdracht", "geannuleerd")
_COLLECTION_PATHS = tuple(sorted(set(COLLECTIONS.values())
                                 | {("history", kind) for kind in (*HISTORY_KINDS, *LATER_HISTORY_KINDS)}))


def migrate_versions(db: sqlite_utils.Database) -> None:
    """Migration 5: full copies per version become the messages' bodies; the form moves out of
    the rit's header row (an UPDATE rewrites a whole row, overflow pages and all); indexes
    for the gap watch and retention; a heartbeat row per receiver process."""
    db.execute(
        """CREATE TABLE seh_rits_new (
            rit_id TEXT PRIMARY KEY,
            vehicle_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            form_sha256 TEXT NOT NULL,
            awaiting_snapshot INTEGER NOT NULL DEFAULT 0,
            first_received_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    # form NULL: the version at seq is a snapshot, whose body is the form (no second copy).
    db.execute("CREATE TABLE seh_forms (rit_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, form BLOB)")
    # Rows in arrival order (a rowid table fills its pages; a key of (rit_id, seq) would be
    # written all over the tree with 200 rits at once); the applied message's record, too:
    # seh_messages keeps only messages that are held, refused or superseded.
    db.execute(
        """CREATE TABLE seh_versions_new (
            id INTEGER PRIMARY KEY,
            rit_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            msg_id TEXT NOT NULL,
            status TEXT NOT NULL,
            kind TEXT NOT NULL,
            body BLOB NOT NULL,
            form_sha256 BLOB NOT NULL,
            applied_at TEXT NOT NULL
        )"""
    )
    db.execute("INSERT INTO seh_rits_new SELECT rit_id, vehicle_id, seq, status, form_sha256, awaiting_snapshot,"
               " first_received_at, updated_at FROM seh_rits")
    previous: dict[str, Any] = {}
    for row in db.execute("SELECT rit_id, seq, msg_id, status, form_json, form_sha256, applied_at"
                          " FROM seh_versions ORDER BY rit_id, seq").fetchall():
        rit_id, seq, msg_id, status, form_json, sha, applied_at = row
        form = json.loads(form_json)
        before = previous.get(rit_id)
        kind, body = ("snapshot", form) if before is None else ("patch", merge_patch_create(before, form))
        previous[rit_id] = form
        db.execute("INSERT INTO seh_versions_new (rit_id, seq, msg_id, status, kind, body, form_sha256, applied_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [rit_id, seq, msg_id, status, kind, pack(body),
                                                         bytes.fromhex(sha), applied_at])
    for rit_id, seq, form_json in db.execute("SELECT rit_id, seq, form_json FROM seh_rits").fetchall():
        db.execute("INSERT INTO seh_forms VALUES (?, ?, ?)", [rit_id, seq, pack(json.loads(form_json))])
    db.execute("DROP TABLE seh_rits")
    db.execute("DROP TABLE seh_versions")
    db.execute("ALTER TABLE seh_rits_new RENAME TO seh_rits")
    db.execute("ALTER TABLE seh_versions_new RENAME TO seh_versions")
    db.execute("CREATE UNIQUE INDEX seh_versions_rit ON seh_versions(rit_id, seq)")
    db.execute("CREATE UNIQUE INDEX seh_versions_msg ON seh_versions(msg_id)")
    db.execute("DELETE FROM seh_messages WHERE outcome = 'applied'")
    # The gap watch looks at held messages only: without this it scanned every stored message.
    db.execute("CREATE INDEX seh_messages_held_since ON seh_messages(received_at) WHERE outcome = 'held'")
    db.execute("CREATE INDEX seh_rits_finished ON seh_rits(updated_at) WHERE status IN ('overdracht', 'geannuleerd')")
    db.execute("CREATE INDEX seh_feedback_rit ON seh_feedback(rit_id)")
    # Each receiver process says when its queue was last empty: a held message is a real gap
    # only when every receiver has caught up since it arrived (design: resync only for a gap).
    db.execute("CREATE TABLE seh_receivers (instance TEXT PRIMARY KEY, caught_up_at TEXT NOT NULL,"
               " seen_at TEXT NOT NULL)")


# -- rebuilding -------------------------------------------------------------------------
def merge_in_place(target: dict, patch: dict) -> dict:
    """RFC 7396 applied to a form this function owns (a rebuild): no copies along the way."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge_in_place(target[key], value)
        elif isinstance(value, dict):
            target[key] = merge_in_place({}, value)
        else:
            target[key] = value
    return target


def version_form(db: sqlite_utils.Database, rit_id: str, seq: int) -> dict | None:
    """The form as it was after message ``seq`` of the rit: its last snapshot (or the stored
    checkpoint, when that is nearer) plus the patches up to ``seq``."""
    start = db.execute("SELECT max(seq) FROM seh_versions WHERE rit_id = ? AND seq <= ? AND kind = 'snapshot'",
                       [rit_id, seq]).fetchone()[0]
    checkpoint = db.execute("SELECT seq, form FROM seh_forms WHERE rit_id = ?", [rit_id]).fetchone()
    if checkpoint is not None and checkpoint[1] is not None and checkpoint[0] <= seq and (
            start is None or checkpoint[0] >= start):
        form, since = unpack(checkpoint[1]), checkpoint[0]
    elif start is not None:
        form = unpack(db.execute("SELECT body FROM seh_versions WHERE rit_id = ? AND seq = ?",
                                 [rit_id, start]).fetchone()[0])
        since = start
    else:
        return None
    for (body,) in db.execute("SELECT body FROM seh_versions WHERE rit_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                              [rit_id, since, seq]):
        patch = unpack(body)
        form = merge_in_place(form, patch) if isinstance(patch, dict) else patch
    return form


# -- checking and hashing in proportion to the patch ------------------------------------
def patched_form_problem(form: dict, patch: Any) -> str | None:
    """``form_problem`` of the patched form, looking only at what the patch touched (the form
    before it passed the same check): the untouched items of each collection are left out."""
    if not isinstance(patch, dict) or not isinstance(form, dict):
        return form_problem(form)
    view = dict(form)
    for parent in {path[0] for path in _COLLECTION_PATHS if len(path) == 2}:
        if isinstance(view.get(parent), dict):
            view[parent] = dict(view[parent])
    for path in _COLLECTION_PATHS:
        holder: Any = view
        for key in path[:-1]:
            holder = holder.get(key) if isinstance(holder, dict) else None
        if not isinstance(holder, dict) or not isinstance(holder.get(path[-1]), dict):
            continue
        items, changed = holder[path[-1]], patch
        for key in path:
            changed = changed.get(key) if isinstance(changed, dict) else None
        keep = changed if isinstance(changed, dict) else {}
        holder[path[-1]] = {k: items[k] for k in keep if k in items}
    return form_problem(view)


@dataclass
class Current:
    """The current form of one rit as this process last applied or read it."""
    seq: int
    sha: str
    form: dict
    canonical: CanonicalCache

    def patched(self, patch: Any) -> tuple[dict, CanonicalCache]:
        """The patched form (copy on write: readers may hold the old one) and its canonical
        cache, re-encoded where the patch touched it."""
        form = merge_patch_apply(self.form, patch)
        return form, self.canonical.patched(form, patch)


class FormCache:
    """Bounded LRU of ``Current`` by rit_id; an entry is trusted only when its seq and hash
    match the rit's row (another receiver process may have applied since)."""

    def __init__(self, size: int = CACHE_RITS):
        self.size = size
        self._items: OrderedDict[str, Current] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, rit_id: str, seq: int, sha: str) -> Current | None:
        with self._lock:
            current = self._items.get(rit_id)
            if current is None or current.seq != seq or current.sha != sha:
                return None
            self._items.move_to_end(rit_id)
            return current

    def put(self, rit_id: str, current: Current) -> None:
        with self._lock:
            self._items[rit_id] = current
            self._items.move_to_end(rit_id)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def drop(self, rit_id: str) -> None:
        with self._lock:
            self._items.pop(rit_id, None)
