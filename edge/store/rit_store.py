"""The tablet's SQLite store: rits, their entry log, the outbox streams, the access log.

Every change runs in ONE write transaction (``EdgeStore.transact``) together with its
outbox message, its access-log row and its idempotency key: either all of it is on disk
or none of it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from edge.store import audit, outbox, track_store, trend_store
from edge.store.messages_store import migrate_messages
from edge.sync import feedback_inbox, seh_status_inbox
from edge.wire import dead_letter
from edge.wire.dead_letter import DeadLetter
from edge.store.audit import Actor
from edge.wire.canonical import canonical_json
from edge.wire.contract import new_id
from edge.store.db import SESSIONS_TABLE_SQL, Migration, Store, write_transaction
from edge.wire.contract import utc_now
from edge.errors import DomainError, raise_all
from edge.wire.safe_text import problems as text_problems
from edge.form.model import COLLECTIONS, HISTORY_KINDS, LATER_HISTORY_KINDS, apply_entry_in_place, build_form, new_form
from edge.wire.form_hash import CanonicalForm


def _m1_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE rits (
            rit_id TEXT PRIMARY KEY,
            vehicle_id TEXT NOT NULL,
            urgency TEXT NOT NULL,
            destination_seh TEXT NOT NULL,
            lifecycle TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            form_json TEXT NOT NULL,
            form_sha256 TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE entries (
            entry_id TEXT PRIMARY KEY,
            rit_id TEXT NOT NULL REFERENCES rits(rit_id),
            position INTEGER NOT NULL,
            kind TEXT NOT NULL,
            data_json TEXT NOT NULL,
            clinical_time TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            author TEXT NOT NULL,
            source TEXT NOT NULL,
            UNIQUE (rit_id, position)
        )"""
    )
    db.execute(
        """CREATE TABLE streams (
            rit_id TEXT NOT NULL REFERENCES rits(rit_id),
            seh_id TEXT NOT NULL,
            next_seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            open INTEGER NOT NULL,
            opened_at TEXT NOT NULL,
            base_form_json TEXT,
            PRIMARY KEY (rit_id, seh_id)
        )"""
    )
    db.execute(
        """CREATE TABLE outbox (
            msg_id TEXT PRIMARY KEY,
            rit_id TEXT NOT NULL,
            seh_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            body_json TEXT NOT NULL,
            form_sha256 TEXT NOT NULL,
            state TEXT NOT NULL,
            reason TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            published_at TEXT,
            sent_at TEXT,
            delivered_at TEXT,
            read_at TEXT,
            UNIQUE (rit_id, seh_id, seq),
            FOREIGN KEY (rit_id, seh_id) REFERENCES streams(rit_id, seh_id)
        )"""
    )
    db.execute("CREATE INDEX outbox_state ON outbox(state, rit_id, seh_id, seq)")


def _m2_clinical_record(db: sqlite_utils.Database) -> None:
    db.execute("ALTER TABLE entries ADD COLUMN replaces TEXT")
    db.execute("ALTER TABLE entries ADD COLUMN meta_json TEXT NOT NULL DEFAULT '{}'")
    # An entry is corrected at most once; a second correction must correct the correction.
    db.execute("CREATE UNIQUE INDEX entries_replaces ON entries(replaces) WHERE replaces IS NOT NULL")
    db.execute(
        """CREATE TABLE idempotency (
            key TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL,
            rit_id TEXT,
            response_json TEXT NOT NULL,
            created_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX idempotency_rit ON idempotency(rit_id)")
    audit.create_schema(db)
    # Rits of the walking skeleton kept urgency, destination and lifecycle in the header;
    # they become entries so that every form is a function of its log.
    for rit in list(db.query("SELECT * FROM rits")):
        position = db.execute("SELECT coalesce(max(position), 0) FROM entries WHERE rit_id = ?",
                              [rit["rit_id"]]).fetchone()[0]
        extra = [("melding", {"urgency": rit["urgency"]}), ("destination", {"seh_id": rit["destination_seh"]})]
        if rit["lifecycle"] != "concept":
            extra.append(("lifecycle", {"event": "announce", "seh_id": rit["destination_seh"]}))
        for kind, data in extra:
            position += 1
            db.execute(
                "INSERT INTO entries (entry_id, rit_id, position, kind, data_json, clinical_time, recorded_at,"
                " author, source) VALUES (?, ?, ?, ?, ?, ?, ?, 'ritlink', 'manual')",
                [new_id(), rit["rit_id"], position, kind, json.dumps(data), rit["created_at"], utc_now()],
            )
        form = build_form(_header(rit), _entries(db, rit["rit_id"]))
        _write_form(db, rit["rit_id"], form)


def _m6_dead_letters(db: sqlite_utils.Database) -> None:
    db.execute(dead_letter.TABLE_SQL)


def _m7_form_checkpoints(db: sqlite_utils.Database) -> None:
    # rits.form_json becomes a checkpoint: the form as of entry ``form_position``; the entries
    # after it complete it. ``head_json`` is the small part of the current form (status,
    # current views, scores), written on every save. A rit without a row here (written
    # before) has its whole current form in rits.form_json.
    db.execute(
        """CREATE TABLE rit_heads (
            rit_id TEXT PRIMARY KEY REFERENCES rits(rit_id),
            form_position INTEGER NOT NULL,
            head_json TEXT NOT NULL
        )"""
    )
    # A save looks for its stream's pending message: found in the index, not among every
    # message the stream ever sent.
    db.execute("CREATE INDEX outbox_pending ON outbox(rit_id, seh_id) WHERE published_at IS NULL")


def _m8_sessions(db: sqlite_utils.Database) -> None:
    db.execute(SESSIONS_TABLE_SQL)


EDGE_MIGRATIONS = [
    Migration(1, "rits, entries, outbox streams", _m1_initial),
    Migration(2, "entry corrections, idempotency keys, access log", _m2_clinical_record),
    Migration(3, "SEH-terugkoppeling inbox", feedback_inbox.migrate_feedback_inbox),
    Migration(4, "rit track (GPS)", track_store.migrate_track),
    Migration(5, "monitor trend", trend_store.migrate_trend),
    Migration(6, "dead letters (refused MQTT messages)", _m6_dead_letters),
    Migration(7, "form checkpoints: the form is written whole every few saves, its small part every save",
              _m7_form_checkpoints),
    Migration(8, "shift sign-in sessions", _m8_sessions),
    Migration(9, "last known SEH-status per SEH", seh_status_inbox.migrate_seh_status),
    Migration(10, "short messages with the SEH", migrate_messages),
]

# The whole form is written again (a new checkpoint) once this many entries came after the
# last one: a save writes the change and the small part, not a form that grows with the rit.
CHECKPOINT_EVERY = 64


HEADER_COLUMNS = "rit_id, vehicle_id, urgency, destination_seh, lifecycle, created_at, updated_at, form_sha256"


class RitNotFound(KeyError):
    pass


@dataclass
class Cached:
    """A rit's committed form with its hash and item serialisations."""

    sha: str
    form: dict[str, Any]
    canonical: CanonicalForm
    checkpoint: int | None = None  # the entry position rits.form_json holds the form of (None: none yet)


@dataclass(frozen=True)
class IdempotencyKey:
    key: str
    fingerprint: str  # hash of method, path and body: the same key for another request is refused


def _header(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("rit_id", "vehicle_id", "created_at")}


def _entry_from_row(row: dict[str, Any]) -> dict[str, Any]:
    entry = {k: row[k] for k in ("entry_id", "kind", "clinical_time", "recorded_at", "author", "source", "position")}
    entry["data"] = json.loads(row["data_json"])
    if row.get("replaces"):
        entry["replaces"] = row["replaces"]
    entry.update(json.loads(row.get("meta_json") or "{}"))
    return entry


def _entries(db: sqlite_utils.Database, rit_id: str) -> list[dict[str, Any]]:
    return [_entry_from_row(r) for r in db.query("SELECT * FROM entries WHERE rit_id = ? ORDER BY position", [rit_id])]


# A whole form travels as one message (the vooraankondiging, a resync snapshot) and the SEH
# refuses messages over safe_json.DEFAULT_MAX_BYTES (256 KiB): a form that would not fit is
# refused at the save, loudly, instead of every later message of the rit being "rejected".
FORM_MAX_BYTES = 192 * 1024


def _write_form(db: sqlite_utils.Database, rit_id: str, form: dict[str, Any],
                canonical: CanonicalForm | None = None, whole: bool = True) -> str:
    """The form's hash and header columns; with ``whole`` the form itself too (a checkpoint)."""
    # The stored JSON is the canonical JSON: one serialisation serves storage and hash.
    if canonical is None:
        blob = canonical_json(form)
        sha = hashlib.sha256(blob).hexdigest()
    else:
        blob, sha = canonical.sha256(form)
    if len(blob) > FORM_MAX_BYTES:  # the transaction rolls back: nothing of this save is kept
        raise DomainError(f"formulier te groot ({len(blob) // 1024} KB, ten hoogste {FORM_MAX_BYTES // 1024} KB): "
                          "deze invoer is NIET opgeslagen; zet lange tekst niet in het formulier",
                          type="form.too_large")
    db.execute(
        "UPDATE rits SET form_sha256 = ?, updated_at = ?, lifecycle = ?, urgency = coalesce(?, urgency),"
        " destination_seh = coalesce(?, destination_seh) WHERE rit_id = ?",
        [sha, utc_now(), form["status"], form["melding"].get("urgency"), form.get("destination_seh"), rit_id],
    )
    if whole:
        db.execute("UPDATE rits SET form_json = ? WHERE rit_id = ?", [blob.decode("utf-8"), rit_id])
    return sha


def _write_head(db: sqlite_utils.Database, rit_id: str, form: dict[str, Any], checkpoint: int) -> None:
    db.execute("INSERT INTO rit_heads (rit_id, form_position, head_json) VALUES (?, ?, ?)"
               " ON CONFLICT(rit_id) DO UPDATE SET form_position = excluded.form_position,"
               " head_json = excluded.head_json",
               [rit_id, checkpoint, json.dumps(outbox.small_part(form), ensure_ascii=False)])


def load_form(db: sqlite_utils.Database, row: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
    """The current form of a rits row: its checkpoint and the entries after it."""
    text = row.get("form_json")
    if text is None:  # a header row (Tx.row): the checkpoint is read only when needed
        text = db.execute("SELECT form_json FROM rits WHERE rit_id = ?", [row["rit_id"]]).fetchone()[0]
    form = json.loads(text)
    head = db.execute("SELECT form_position FROM rit_heads WHERE rit_id = ?", [row["rit_id"]]).fetchone()
    if head is None:
        return form, None
    for entry in db.query("SELECT * FROM entries WHERE rit_id = ? AND position > ? ORDER BY position",
                          [row["rit_id"], head[0]]):
        apply_entry_in_place(form, _entry_from_row(entry))
    return form, head[0]


def collection_path(kind: str) -> tuple[str, ...]:
    """Where an entry kind's items live in the form."""
    if kind in HISTORY_KINDS or kind in LATER_HISTORY_KINDS:
        return ("history", kind)
    return COLLECTIONS[kind]


class Tx:
    """One write transaction: the operations a service call composes atomically."""

    def __init__(self, store: EdgeStore, db: sqlite_utils.Database, online: bool = False):
        self.store = store
        self.db = db
        self.touched: dict[str, Cached] = {}
        self.audit_detail: dict[str, Any] = {}
        self.online = online  # the broker is connected: a message that can go now is frozen now
        # Per rit, the collection items this transaction added or marked: the outbox patch.
        self.items: dict[str, set[tuple[tuple[str, ...], str]]] = {}

    def changed_items(self, rit_id: str) -> set[tuple[tuple[str, ...], str]]:
        return self.items.get(rit_id, set())

    def row(self, rit_id: str) -> dict[str, Any]:
        """The rit's header columns (not the stored form, which a save does not need)."""
        rows = list(self.db.query(f"SELECT {HEADER_COLUMNS} FROM rits WHERE rit_id = ?", [rit_id]))
        if not rows:
            raise RitNotFound(rit_id)
        return rows[0]

    def form(self, rit_id: str) -> dict[str, Any]:
        """The current form as a private, mutable copy for this transaction."""
        if rit_id in self.touched:
            return self.touched[rit_id].form
        row = self.row(rit_id)
        cached = self.store._forms.pop(rit_id, None)  # popped: a rollback must not leave it half-changed
        if cached is None or cached.sha != row["form_sha256"]:
            form, checkpoint = load_form(self.db, row)
            cached = Cached(row["form_sha256"], form, CanonicalForm(), checkpoint)
        self.touched[rit_id] = cached
        return cached.form

    def form_copy(self, rit_id: str) -> tuple[dict[str, Any], str]:
        """A read-only view: a fresh copy, safe to hand to other threads."""
        row = self.row(rit_id)
        cached = self.touched.get(rit_id) or self.store._forms.get(rit_id)
        if cached is not None and cached.sha == row["form_sha256"]:
            return json.loads(canonical_json(cached.form)), cached.sha
        return load_form(self.db, row)[0], row["form_sha256"]

    def create_rit(self, vehicle_id: str, entries: list[dict[str, Any]]) -> str:
        rit_id = new_id()
        now = utc_now()
        header = {"rit_id": rit_id, "vehicle_id": vehicle_id, "created_at": now}
        form = new_form(header)
        self.db.execute(
            "INSERT INTO rits (rit_id, vehicle_id, urgency, destination_seh, lifecycle, created_at, updated_at,"
            " form_json, form_sha256) VALUES (?, ?, '', '', ?, ?, ?, '{}', '')",
            [rit_id, vehicle_id, form["status"], now, now],
        )
        self.touched[rit_id] = Cached("", form, CanonicalForm())
        self.append(rit_id, entries, notify=False)
        return rit_id

    def entry(self, rit_id: str, entry_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM entries WHERE rit_id = ? AND entry_id = ?", [rit_id, entry_id]))
        return _entry_from_row(rows[0]) if rows else None

    def append(self, rit_id: str, entries: list[dict[str, Any]], notify: bool = True) -> dict[str, Any]:
        """Append entries to the log, update the form and (``notify``) queue it on open streams."""
        form = self.form(rit_id)
        position = self.db.execute("SELECT coalesce(max(position), 0) FROM entries WHERE rit_id = ?",
                                   [rit_id]).fetchone()[0]
        items = self.items.setdefault(rit_id, set())
        # The last line of defence for what the wire refuses (every route checks before this).
        raise_all([DomainError(words, path) for raw in entries for path, words in text_problems(raw)])
        for raw in entries:
            position += 1
            entry = {"entry_id": new_id(), "recorded_at": utc_now(), **raw, "position": position}
            path = collection_path(entry["kind"])
            items.add((path, entry["entry_id"]))
            if entry.get("replaces"):
                items.add((path, entry["replaces"]))
                self._check_replaceable(rit_id, entry)
                self.touched[rit_id].canonical.invalidate(entry["replaces"])  # gains corrected_by
            meta = {k: entry[k] for k in ("reason", "nagekomen", "withdrawn", "confirmed_unusual") if entry.get(k)}
            self.db.execute(
                "INSERT INTO entries (entry_id, rit_id, position, kind, data_json, clinical_time, recorded_at,"
                " author, source, replaces, meta_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [entry["entry_id"], rit_id, position, entry["kind"], json.dumps(entry.get("data", {})),
                 entry["clinical_time"], entry["recorded_at"], entry["author"], entry["source"],
                 entry.get("replaces"), json.dumps(meta)],
            )
            apply_entry_in_place(form, entry)
            raw["entry_id"] = entry["entry_id"]  # the caller reports the ids it made
        sha = self.save(rit_id, form, position)
        if notify:
            outbox.form_changed(self.db, rit_id, form, sha=sha, touched=items, freeze=self.online)
        return form

    def _check_replaceable(self, rit_id: str, entry: dict[str, Any]) -> None:
        old = self.entry(rit_id, entry["replaces"])
        if old is None:
            raise DomainError("te corrigeren invoer bestaat niet in deze rit", status=404)
        if old["kind"] != entry["kind"]:
            raise DomainError("een correctie heeft hetzelfde soort invoer als het origineel", "kind")
        if self.db.execute("SELECT 1 FROM entries WHERE replaces = ?", [entry["replaces"]]).fetchone():
            raise DomainError("deze invoer is al gecorrigeerd; corrigeer de nieuwste versie", status=409,
                              type="already_corrected")

    def save(self, rit_id: str, form: dict[str, Any], position: int) -> str:
        """The form after the entries up to ``position``: its hash and small part always, the
        whole form only as a new checkpoint every ``CHECKPOINT_EVERY`` entries."""
        cached = self.touched[rit_id]
        whole = cached.checkpoint is None or position - cached.checkpoint >= CHECKPOINT_EVERY
        cached.sha = _write_form(self.db, rit_id, form, cached.canonical, whole)
        if whole:
            cached.checkpoint = position
        _write_head(self.db, rit_id, form, cached.checkpoint)
        return cached.sha

    def sha(self, rit_id: str) -> str:
        return self.touched[rit_id].sha if rit_id in self.touched else self.row(rit_id)["form_sha256"]


class EdgeStore(Store):
    def __init__(self, path: Path | str, max_bytes: int | None = None):
        super().__init__(path, EDGE_MIGRATIONS, max_bytes)
        # Committed forms by rit_id: spares re-parsing and re-serialising a large form on every write.
        self._forms: dict[str, Cached] = {}
        # Whether the broker is connected (the service sets it): lets a save freeze its message.
        self.link_up: Callable[[], bool] = lambda: False

    def transact(self, fn: Callable[[Tx], dict[str, Any]], actor: Actor, action: str,
                 rit_id: str | None = None, idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        """Run ``fn`` in one write transaction with its access-log row and idempotency key.

        A repeated idempotency key returns the first result and records nothing but the
        access; the same key for a different request is refused.
        """
        with self.lock:
            tx = Tx(self, self.db, self.link_up())
            try:
                with write_transaction(self.db) as db:
                    if idempotency is not None and (prior := self._prior(db, idempotency)) is not None:
                        audit.append(db, actor, prior.get("rit_id", rit_id), action, {"replay": True})
                        return prior
                    result = fn(tx)
                    rit = rit_id or result.get("rit_id")
                    audit.append(db, actor, rit, action, tx.audit_detail or None)
                    if idempotency is not None:
                        db.execute(
                            "INSERT INTO idempotency (key, fingerprint, rit_id, response_json, created_at)"
                            " VALUES (?, ?, ?, ?, ?)",
                            [idempotency.key, idempotency.fingerprint, rit, json.dumps(result), utc_now()],
                        )
            except BaseException:
                tx.touched.clear()
                raise
            self._forms.update(tx.touched)
            return result

    @staticmethod
    def _prior(db: sqlite_utils.Database, key: IdempotencyKey) -> dict[str, Any] | None:
        rows = list(db.query("SELECT fingerprint, response_json FROM idempotency WHERE key = ?", [key.key]))
        if not rows:
            return None
        if rows[0]["fingerprint"] != key.fingerprint:
            raise DomainError("Idempotency-Key is al gebruikt voor een ander verzoek", type="idempotency",
                              loc=["header", "Idempotency-Key"])
        return json.loads(rows[0]["response_json"])

    # -- reading ----------------------------------------------------------------------------
    def read_unlogged(self, fn: Callable[[Tx], dict[str, Any]]) -> dict[str, Any]:
        """Run a read without an access-log row: when the log cannot be written (store full: the
        crew must still see the form; the caller logs that the access went unrecorded), or for
        a refresh of a view whose opening is on the log."""
        with self.lock:
            return fn(Tx(self, self.db))

    def rit(self, rit_id: str) -> dict[str, Any]:
        with self.lock:
            rows = self.query("SELECT * FROM rits WHERE rit_id = ?", [rit_id])
            if not rows:
                raise RitNotFound(rit_id)
            row = rows[0]
            row["form"] = load_form(self.db, row)[0]
            del row["form_json"]
            return row

    def rit_ids(self) -> list[str]:
        return [r["rit_id"] for r in self.query("SELECT rit_id FROM rits ORDER BY created_at DESC")]

    def entries(self, rit_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return _entries(self.db, rit_id)

    def rebuild_form(self, rit_id: str) -> dict[str, Any]:
        """The form recomputed from the entry log alone (for checks and repair)."""
        with self.lock:
            return build_form(_header(self.rit(rit_id)), _entries(self.db, rit_id))

    def access_log(self, rit_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return audit.entries(self.db, rit_id)

    def forget_cached(self, rit_id: str) -> None:
        with self.lock:
            self._forms.pop(rit_id, None)

    # -- outbox (used by the MQTT sync) -------------------------------------------------------
    def messages(self, rit_id: str) -> list[dict[str, Any]]:
        return self.query(
            "SELECT msg_id, seh_id, seq, kind, status, state, reason, created_at, published_at, sent_at,"
            " delivered_at, read_at FROM outbox WHERE rit_id = ? ORDER BY created_at, rowid",
            [rit_id],
        )

    def messages_to_send(self) -> list[dict[str, Any]]:
        with self.lock:
            return outbox.messages_to_send(self.db)

    def sent_not_delivered(self, older_than_s: float) -> list[dict[str, Any]]:
        with self.lock:
            return outbox.sent_not_delivered(self.db, older_than_s)

    def freeze(self, msg_id: str) -> dict[str, Any]:
        with self.write() as db:
            return outbox.freeze(db, msg_id)

    def advance(self, msg_id: str, state: str, reason: str | None = None) -> dict | None:
        # "sent" and "delivered" are not fsynced on their own: lost in a power cut, the message
        # is published again (same msg_id) and the SEH answers "delivered" again (sender.py).
        with self.write(durable=state not in outbox.RECOVERABLE_STATES) as db:
            return outbox.advance_state(db, msg_id, state, reason)

    def mark_read_up_to(self, rit_id: str, seh_id: str, seq: int) -> None:
        with self.write() as db:
            for row in db.query(
                "SELECT msg_id FROM outbox WHERE rit_id = ? AND seh_id = ? AND seq <= ? AND state != 'rejected'",
                [rit_id, seh_id, seq],
            ):
                outbox.advance_state(db, row["msg_id"], "read")

    def request_snapshot(self, rit_id: str, seh_id: str) -> str | None:
        with self.write() as db:
            rows = list(db.query("SELECT * FROM rits WHERE rit_id = ?", [rit_id]))
            if not rows:
                return None  # purged after the SEH read it: nothing left to resend
            return outbox.request_snapshot(db, rit_id, seh_id, load_form(db, rows[0])[0])

    def destination_of(self, msg_id: str) -> dict[str, Any] | None:
        """The rit and SEH an outbox message was sent to (a receipt must come from that SEH)."""
        rows = self.query("SELECT rit_id, seh_id FROM outbox WHERE msg_id = ?", [msg_id])
        return rows[0] if rows else None

    def dead_letter(self, letter: DeadLetter) -> None:
        with self.write() as db:
            db.execute(dead_letter.INSERT_SQL, letter.row())

    def dead_letter_count(self) -> int:
        return self.query("SELECT count(*) AS n FROM dead_letters")[0]["n"]

    def outbox_depth(self) -> int:
        return self.query("SELECT count(*) AS n FROM outbox WHERE state = 'saved'")[0]["n"]

    # -- SEH-terugkoppeling -------------------------------------------------------------
    def store_feedback(self, body: dict[str, Any]) -> bool:
        with self.write() as db:
            return feedback_inbox.store_feedback(db, body)

    def feedback_for(self, rit_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return feedback_inbox.feedback_for(self.db, rit_id)

    # -- monitor trend --------------------------------------------------------------------
    def add_trend_point(self, device_id: str, code: int, at: str, value: float | None, status: str) -> None:
        with self.write() as db:
            trend_store.add_point(db, device_id, code, at, value, status)

    def trend(self, hours: float) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            return trend_store.recent(self.db, hours)

    def purge_trend(self, hours: float) -> int:
        with self.write() as db:
            return trend_store.purge_older(db, hours)
