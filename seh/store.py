"""The SEH's SQLite store and the rules for applying a vehicle's messages.

``apply`` is the heart of exactly-once: one write transaction decides, records the
msg_id and applies, so a message is applied at most once even with several receiver
processes sharing this file. A patch whose predecessor has not been applied yet waits in
``seh_messages`` (outcome 'held') until it has, whichever process applies it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from edge.wire import dead_letter
from edge.wire.canonical import form_sha256
from edge.wire.contract import Envelope, receipt_topic
from edge.store.db import Migration, Store, is_disk_full
from edge.wire.contract import utc_now
from edge.wire.dead_letter import DeadLetter
from seh import feedback, retention, versions
from seh.fhir_push import migrate_fhir
from seh.canonical_cache import CanonicalCache
from seh.versions import Current, FormCache
from seh.staff import migrate_staff
from seh.status import migrate_status
from seh.messages import migrate_messages


def _m1_initial(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE seh_rits (
            rit_id TEXT PRIMARY KEY,
            vehicle_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            status TEXT NOT NULL,
            form_json TEXT NOT NULL,
            form_sha256 TEXT NOT NULL,
            awaiting_snapshot INTEGER NOT NULL DEFAULT 0,
            first_received_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE seh_messages (
            msg_id TEXT PRIMARY KEY,
            rit_id TEXT NOT NULL,
            vehicle_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT,
            reply_topic TEXT NOT NULL,
            envelope_json TEXT,
            received_at TEXT NOT NULL,
            applied_at TEXT
        )"""
    )
    db.execute("CREATE INDEX seh_messages_held ON seh_messages(rit_id, outcome, seq)")
    db.execute(
        """CREATE TABLE seh_versions (
            rit_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            msg_id TEXT NOT NULL,
            status TEXT NOT NULL,
            form_json TEXT NOT NULL,
            form_sha256 TEXT NOT NULL,
            applied_at TEXT NOT NULL,
            PRIMARY KEY (rit_id, seq)
        )"""
    )
    # When the SEH last asked a vehicle for a snapshot of a rit (so it does not ask in a loop).
    db.execute("CREATE TABLE seh_resyncs (rit_id TEXT PRIMARY KEY, requested_at TEXT NOT NULL)")


def _m3_dead_letters(db: sqlite_utils.Database) -> None:
    db.execute(dead_letter.TABLE_SQL)
    # A vehicle that refuses a feedback message says why; the SEH stops sending it again.
    db.execute("ALTER TABLE seh_feedback ADD COLUMN rejected_reason TEXT")


SEH_MIGRATIONS = [
    Migration(1, "rits, messages, versions", _m1_initial),
    Migration(2, "SEH-terugkoppeling outbox", feedback.migrate_feedback),
    Migration(3, "dead letters, refused feedback", _m3_dead_letters),
    Migration(4, "FHIR push outbox and access log", migrate_fhir),
    Migration(5, "versions as messages, form checkpoints, gap and retention indexes", versions.migrate_versions),
    Migration(6, "staff sign-in, sessions, access log", migrate_staff),
    Migration(7, "SEH-status (open, druk, SEH-stop) as last set", migrate_status),
    Migration(8, "short messages with the vehicles", migrate_messages),
]


@dataclass(frozen=True)
class ReceiptToSend:
    topic: str
    msg_id: str
    rit_id: str
    seq: int
    type: str
    reason: str | None = None
    poison: bool = False  # refused for its content (a dead letter), not for its place in the stream


class SehStore(Store):
    def __init__(self, path: Path | str, seh_id: str):
        super().__init__(path, SEH_MIGRATIONS)
        self.seh_id = seh_id
        self.forms = FormCache()

    def reply_topic(self, vehicle_id: str) -> str:
        return receipt_topic(vehicle_id, self.seh_id)

    # -- applying ---------------------------------------------------------------------
    def apply(self, env: Envelope) -> list[ReceiptToSend]:
        """Record and (if in order) apply one message; returns the receipts it causes."""
        return self.apply_batch([env])[0]

    def apply_batch(self, envs: list[Envelope]) -> list[list[ReceiptToSend] | Exception]:
        """The messages that arrived together, in one write transaction (one fsync); per
        message its receipts, or the exception that message alone raised (its changes are
        rolled back to a savepoint, the others stand). Receipts are to be sent after this
        returns, i.e. after the commit."""
        staged: dict[str, Current] = {}
        results: list[list[ReceiptToSend] | Exception] = []
        try:
            with self.write() as db:
                for env in envs:
                    db.execute("SAVEPOINT one_message")
                    mine: dict[str, Current] = {}
                    try:
                        results.append(self._apply_one(db, env, mine))
                        db.execute("RELEASE one_message")
                        staged.update(mine)
                    except Exception as exc:  # noqa: BLE001 (the receiver dead-letters it)
                        if is_disk_full(exc):
                            raise  # nothing of the batch is kept: the receiver tries again
                        db.execute("ROLLBACK TO one_message")
                        db.execute("RELEASE one_message")
                        results.append(exc)
                        self.forms.drop(str(env.rit_id))
                        staged.pop(str(env.rit_id), None)
        except BaseException:
            for rit_id in staged:
                self.forms.drop(rit_id)
            raise
        for rit_id, current in staged.items():
            self.forms.put(rit_id, current)
        return results

    def _apply_one(self, db, env: Envelope, staged: dict[str, Current]) -> list[ReceiptToSend]:
        msg_id, rit_id = str(env.msg_id), str(env.rit_id)
        topic = self.reply_topic(env.vehicle_id)
        if db.execute("SELECT 1 FROM seh_versions WHERE msg_id = ?", [msg_id]).fetchone():
            return [ReceiptToSend(topic, msg_id, rit_id, env.seq, "delivered")]  # a redelivery: applied once
        seen = db.execute("SELECT outcome, reason, seq FROM seh_messages WHERE msg_id = ?", [msg_id]).fetchone()
        if seen:
            # A redelivery or replay: never applied twice, answered as before.
            outcome, reason = seen[0], seen[1]
            if outcome == "applied":
                return [ReceiptToSend(topic, msg_id, rit_id, env.seq, "delivered")]
            if outcome == "rejected":
                return [ReceiptToSend(topic, msg_id, rit_id, env.seq, "rejected", reason)]
            return []  # still held; its receipt follows when it is applied
        rit = _rit(db, rit_id)
        if rit is not None and rit["vehicle_id"] != env.vehicle_id:
            return [self._reject(db, env, topic, "rit belongs to another vehicle")]
        if rit is not None and env.seq <= rit["seq"]:
            return [self._reject(db, env, topic, f"stale seq {env.seq} (have {rit['seq']})")]
        if env.kind == "snapshot":
            if form_sha256(env.body) != env.form_sha256:
                return [self._reject(db, env, topic, "form_sha256 does not match the snapshot")]
            staged[rit_id] = Current(env.seq, env.form_sha256, env.body, CanonicalCache())
            receipts = [self._apply_now(db, env, topic, rit, env.body)]
        elif rit is None or rit["awaiting_snapshot"] or env.seq > rit["seq"] + 1:
            self._record(db, env, topic, "held", envelope=env)
            return []
        else:
            receipt = self._apply_patch(db, env, topic, rit, staged)
            if receipt.type != "delivered":
                return [receipt]
            receipts = [receipt]
        receipts.extend(self._drain_held(db, rit_id, staged))
        return receipts

    def _current(self, db, rit: dict, staged: dict[str, Current]) -> Current:
        rit_id = rit["rit_id"]
        current = staged.get(rit_id)
        if current is not None and current.seq == rit["seq"]:
            return current
        current = self.forms.get(rit_id, rit["seq"], rit["form_sha256"])
        if current is None:
            current = Current(rit["seq"], rit["form_sha256"], versions.version_form(db, rit_id, rit["seq"]),
                              CanonicalCache())
        return current

    def _apply_patch(self, db, env: Envelope, topic: str, rit: dict, staged: dict[str, Current]) -> ReceiptToSend:
        """Apply an in-order patch; the check and the hash look at what the patch changed."""
        rit_id = rit["rit_id"]
        current = self._current(db, rit, staged)
        form, canonical = current.patched(env.body)
        if problem := versions.patched_form_problem(form, env.body):
            return self._reject(db, env, topic, f"form: {problem}", poison=True)
        sha = canonical.sha256(form)
        if sha != env.form_sha256:  # before asking for a resync: the full encoding decides
            sha, canonical = form_sha256(form), CanonicalCache()
        if sha != env.form_sha256:
            db.execute("UPDATE seh_rits SET awaiting_snapshot = 1 WHERE rit_id = ?", [rit_id])
            self._note_resync(db, rit_id)
            self._record(db, env, topic, "held", envelope=env)
            return ReceiptToSend(topic, str(env.msg_id), rit_id, env.seq, "resync", "form_sha256 mismatch")
        staged[rit_id] = Current(env.seq, sha, form, canonical)
        return self._apply_now(db, env, topic, rit, form)

    def _apply_now(self, db, env: Envelope, topic: str, rit: dict | None, form: dict) -> ReceiptToSend:
        msg_id, rit_id, now = str(env.msg_id), str(env.rit_id), utc_now()
        db.execute(
            "INSERT INTO seh_rits (rit_id, vehicle_id, seq, status, form_sha256, awaiting_snapshot,"
            " first_received_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
            " ON CONFLICT(rit_id) DO UPDATE SET seq = excluded.seq, status = excluded.status,"
            " form_sha256 = excluded.form_sha256, awaiting_snapshot = 0, updated_at = excluded.updated_at",
            [rit_id, env.vehicle_id, env.seq, env.status, env.form_sha256, now, now],
        )
        db.execute(
            "INSERT INTO seh_versions (rit_id, seq, msg_id, status, kind, body, form_sha256, applied_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [rit_id, env.seq, msg_id, env.status, env.kind, versions.pack(env.body), bytes.fromhex(env.form_sha256),
             now],
        )
        self._checkpoint_if_due(db, env, form)
        if env.kind == "snapshot":
            db.execute("DELETE FROM seh_resyncs WHERE rit_id = ?", [rit_id])
        if rit is None or rit["awaiting_snapshot"] or env.kind == "snapshot":
            # Held messages this snapshot made obsolete will never apply.
            db.execute(
                "UPDATE seh_messages SET outcome = 'superseded', envelope_json = NULL"
                " WHERE rit_id = ? AND outcome = 'held' AND seq <= ?",
                [rit_id, env.seq],
            )
        return ReceiptToSend(topic, msg_id, rit_id, env.seq, "delivered")

    @staticmethod
    def _checkpoint_if_due(db, env: Envelope, form: dict) -> None:
        """Store the whole current form now and then (see seh/versions.py), never per message."""
        rit_id = str(env.rit_id)
        if env.kind == "snapshot":
            packed = None  # the snapshot's own body is the checkpoint: no second copy
        else:
            stored = db.execute("SELECT seq FROM seh_forms WHERE rit_id = ?", [rit_id]).fetchone()
            due = stored is None or env.seq - stored[0] >= versions.CHECKPOINT_EVERY
            if not due and env.status not in versions.FINAL_STATUSES:
                return
            packed = versions.pack(form)
        db.execute("INSERT INTO seh_forms (rit_id, seq, form) VALUES (?, ?, ?) ON CONFLICT(rit_id) DO UPDATE"
                   " SET seq = excluded.seq, form = excluded.form", [rit_id, env.seq, packed])

    def _drain_held(self, db, rit_id: str, staged: dict[str, Current]) -> list[ReceiptToSend]:
        receipts = []
        while True:
            nxt = db.execute(  # one indexed lookup: the held successor of the rit's current seq
                "SELECT m.envelope_json, m.reply_topic FROM seh_rits r JOIN seh_messages m"
                " ON m.rit_id = r.rit_id AND m.outcome = 'held' AND m.seq = r.seq + 1"
                " WHERE r.rit_id = ? AND r.awaiting_snapshot = 0", [rit_id]).fetchone()
            if not nxt:
                return receipts
            rit = _rit(db, rit_id)
            held = Envelope.model_validate_json(nxt[0])
            db.execute("DELETE FROM seh_messages WHERE msg_id = ?", [str(held.msg_id)])
            receipt = self._apply_patch(db, held, nxt[1], rit, staged)
            receipts.append(receipt)
            if receipt.type == "resync":
                return receipts

    def _reject(self, db, env: Envelope, topic: str, reason: str, poison: bool = False) -> ReceiptToSend:
        self._record(db, env, topic, "rejected", reason=reason)
        return ReceiptToSend(topic, str(env.msg_id), str(env.rit_id), env.seq, "rejected", reason, poison)

    @staticmethod
    def _record(db, env: Envelope, topic: str, outcome: str, reason: str | None = None,
                envelope: Envelope | None = None, applied_at: str | None = None) -> None:
        db.execute(
            "INSERT INTO seh_messages (msg_id, rit_id, vehicle_id, seq, outcome, reason, reply_topic, envelope_json,"
            " received_at, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(msg_id) DO UPDATE SET outcome = excluded.outcome, reason = excluded.reason,"
            " envelope_json = excluded.envelope_json, applied_at = excluded.applied_at",
            [str(env.msg_id), str(env.rit_id), env.vehicle_id, env.seq, outcome, reason, topic,
             envelope.model_dump_json(by_alias=True) if envelope else None, utc_now(), applied_at],
        )

    # -- gaps ---------------------------------------------------------------------------
    def stalled_rits(self, older_than_s: float, ask_again_after_s: float = 30.0,
                     instance: str | None = None, caught_up_at: str | None = None) -> list[ReceiptToSend]:
        """Rits whose held messages have waited too long for a predecessor (or a snapshot
        that never came): ask the vehicle for a snapshot, at most once per ``ask_again_after_s``.

        Only a real gap counts: a held message is stalled when it has waited ``older_than_s``
        *and* every receiver process seen lately has emptied its queue since it arrived. A
        receiver that is merely behind still has the predecessor in hand (or in the broker's
        queue for it) and would only add load with a resync storm. The query reads the held
        messages through their partial index: its cost does not grow with the stored history."""
        with self.write() as db:
            if instance is not None and caught_up_at is not None:
                db.execute("INSERT INTO seh_receivers (instance, caught_up_at, seen_at) VALUES (?, ?, ?)"
                           " ON CONFLICT(instance) DO UPDATE SET caught_up_at = excluded.caught_up_at,"
                           " seen_at = excluded.seen_at", [instance, caught_up_at, utc_now()])
            rows = list(
                db.query(
                    "SELECT m.rit_id, m.vehicle_id, coalesce(r.seq, 0) AS seq, min(m.msg_id) AS msg_id"
                    " FROM seh_messages m INDEXED BY seh_messages_held_since"
                    " LEFT JOIN seh_rits r USING (rit_id)"
                    " LEFT JOIN seh_resyncs q USING (rit_id)"
                    " WHERE m.outcome = 'held'"
                    " AND m.received_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', :wait)"
                    " AND m.received_at < (SELECT coalesce(min(caught_up_at), '9999') FROM seh_receivers"
                    "   WHERE seen_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-10 seconds'))"
                    " AND (q.requested_at IS NULL OR q.requested_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', :again))"
                    " GROUP BY m.rit_id",
                    {"wait": f"-{older_than_s} seconds", "again": f"-{ask_again_after_s} seconds"},
                )
            )
            receipts = []
            for row in rows:
                db.execute("UPDATE seh_rits SET awaiting_snapshot = 1 WHERE rit_id = ?", [row["rit_id"]])
                self._note_resync(db, row["rit_id"])
                receipts.append(
                    ReceiptToSend(self.reply_topic(row["vehicle_id"]), row["msg_id"], row["rit_id"], row["seq"],
                                  "resync", f"gap after seq {row['seq']}")
                )
            return receipts

    @staticmethod
    def _note_resync(db, rit_id: str) -> None:
        db.execute(
            "INSERT INTO seh_resyncs (rit_id, requested_at) VALUES (?, ?)"
            " ON CONFLICT(rit_id) DO UPDATE SET requested_at = excluded.requested_at",
            [rit_id, utc_now()],
        )

    # -- reading ----------------------------------------------------------------------
    def rits(self) -> list[dict[str, Any]]:
        return self.query(
            "SELECT rit_id, vehicle_id, seq, status, form_sha256, first_received_at, updated_at FROM seh_rits"
            " ORDER BY updated_at DESC"
        )

    def rit(self, rit_id: str) -> dict[str, Any] | None:
        with self.lock:
            rows = list(self.db.query("SELECT * FROM seh_rits WHERE rit_id = ?", [rit_id]))
            if not rows:
                return None
            row = rows[0]
            cached = self.forms.get(rit_id, row["seq"], row["form_sha256"])
            # A copy for the reader (pages may change what they get; the cache must not change).
            row["form"] = json.loads(json.dumps(cached.form)) if cached else versions.version_form(
                self.db, rit_id, row["seq"])
        return row

    def versions(self, rit_id: str) -> list[dict[str, Any]]:
        rows = self.query("SELECT seq, msg_id, status, kind, applied_at, form_sha256 FROM seh_versions"
                          " WHERE rit_id = ? ORDER BY seq", [rit_id])
        for row in rows:
            row["form_sha256"] = row["form_sha256"].hex()
        return rows

    def version_form(self, rit_id: str, seq: int) -> dict | None:
        """The form as the SEH had it after message ``seq``, rebuilt from the messages."""
        with self.lock:
            return versions.version_form(self.db, rit_id, seq)

    def read_receipt(self, rit_id: str) -> ReceiptToSend | None:
        """A person opened the rit: the receipt says they saw it up to the applied seq."""
        rows = self.query("SELECT r.vehicle_id, r.seq, v.msg_id FROM seh_rits r JOIN seh_versions v"
                          " ON v.rit_id = r.rit_id AND v.seq = r.seq WHERE r.rit_id = ?", [rit_id])
        if not rows:
            return None
        row = rows[0]
        return ReceiptToSend(self.reply_topic(row["vehicle_id"]), row["msg_id"], rit_id, row["seq"], "read")

    # -- retention ----------------------------------------------------------------------
    def purge_finished(self, older_than_s: float = retention.DEFAULT_KEEP_S, batch: int = retention.BATCH_RITS,
                       pause_s: float = 0.0, max_batches: int | None = None) -> dict[str, int]:
        """Delete finished rits older than the period, a few per transaction (see seh/retention.py)."""
        return retention.purge(self, older_than_s, batch, pause_s, max_batches)

    def storage(self) -> dict[str, Any]:
        with self.lock:
            return retention.storage(self.db, self.path)

    # -- SEH-terugkoppeling ----------------------------------------------------------
    def add_feedback(self, rit_id: str, data: feedback.FeedbackIn, msg_id: str | None = None) -> dict | None:
        """Queue the SEH's diagnosis for the vehicle; None when the rit is unknown."""
        with self.write() as db:
            rit = _rit(db, rit_id)
            if rit is None:
                return None
            if rit["status"] != "overdracht":
                raise FeedbackTooEarly(rit["status"])
            return feedback.add_feedback(db, rit, self.seh_id, data, msg_id)

    def add_team_activation(self, rit_id: str, data: feedback.TeamActivationIn,
                            msg_id: str | None = None) -> dict | None:
        """Queue "team geactiveerd" for an announced rit; None when the rit is unknown."""
        with self.write() as db:
            rit = _rit(db, rit_id)
            if rit is None:
                return None
            if rit["status"] not in ("vooraankondiging", "update"):
                raise FeedbackTooEarly(rit["status"])
            return feedback.add_team_activation(db, rit, self.seh_id, data, msg_id)

    def due_feedback(self) -> list[dict]:
        with self.lock:
            return feedback.due_feedback(self.db)

    def feedback_sent(self, msg_id: str) -> None:
        with self.write() as db:
            db.execute("UPDATE seh_feedback SET last_sent_at = ? WHERE msg_id = ?", [utc_now(), msg_id])

    def feedback_of(self, msg_id: str) -> dict | None:
        rows = self.query("SELECT rit_id, vehicle_id FROM seh_feedback WHERE msg_id = ?", [msg_id])
        return rows[0] if rows else None

    def feedback_receipted(self, msg_id: str) -> bool:
        with self.write() as db:
            cursor = db.execute("UPDATE seh_feedback SET receipted_at = coalesce(receipted_at, ?) WHERE msg_id = ?",
                                [utc_now(), msg_id])
            return cursor.rowcount > 0

    def feedback_refused(self, msg_id: str, reason: str) -> None:
        with self.write() as db:
            db.execute("UPDATE seh_feedback SET rejected_reason = ? WHERE msg_id = ?", [reason[:200], msg_id])

    # -- dead letters -------------------------------------------------------------------
    def dead_letter(self, letter: DeadLetter) -> None:
        with self.write() as db:
            db.execute(dead_letter.INSERT_SQL, letter.row())

    def dead_letter_count(self) -> int:
        return self.query("SELECT count(*) AS n FROM dead_letters")[0]["n"]

    def feedback_for(self, rit_id: str) -> list[dict]:
        rows = self.query("SELECT body_json, created_at, receipted_at FROM seh_feedback WHERE rit_id = ?"
                          " ORDER BY created_at", [rit_id])
        return [{**json.loads(r["body_json"]), "receipted_at": r["receipted_at"]} for r in rows]

    def applied_count(self, msg_id: str) -> int:
        return self.query("SELECT count(*) AS n FROM seh_versions WHERE msg_id = ?", [msg_id])[0]["n"]


class FeedbackTooEarly(Exception):
    """SEH-terugkoppeling is for after the handover."""


def _rit(db, rit_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM seh_rits WHERE rit_id = ?", [rit_id]))
    return rows[0] if rows else None
