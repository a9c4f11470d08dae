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

from edge.form.shape import form_problem
from edge.wire import dead_letter
from edge.wire.canonical import form_sha256, merge_patch_apply
from edge.wire.contract import Envelope, receipt_topic
from edge.store.db import Migration, Store
from edge.wire.contract import utc_now
from edge.wire.dead_letter import DeadLetter
from seh import feedback
from seh.fhir_push import migrate_fhir
from seh.staff import migrate_staff


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
    Migration(5, "staff sign-in, sessions, access log", migrate_staff),
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

    def reply_topic(self, vehicle_id: str) -> str:
        return receipt_topic(vehicle_id, self.seh_id)

    # -- applying ---------------------------------------------------------------------
    def apply(self, env: Envelope) -> list[ReceiptToSend]:
        """Record and (if in order) apply one message; returns the receipts it causes."""
        msg_id, rit_id = str(env.msg_id), str(env.rit_id)
        topic = self.reply_topic(env.vehicle_id)
        with self.write() as db:
            seen = list(db.query("SELECT outcome, reason, seq FROM seh_messages WHERE msg_id = ?", [msg_id]))
            if seen:
                # A redelivery or replay: never applied twice, answered as before.
                outcome = seen[0]["outcome"]
                if outcome == "applied":
                    return [ReceiptToSend(topic, msg_id, rit_id, env.seq, "delivered")]
                if outcome == "rejected":
                    return [ReceiptToSend(topic, msg_id, rit_id, env.seq, "rejected", seen[0]["reason"])]
                return []  # still held; its receipt follows when it is applied
            rit = _rit(db, rit_id)
            if rit is not None and rit["vehicle_id"] != env.vehicle_id:
                return [self._reject(db, env, topic, "rit belongs to another vehicle")]
            if rit is not None and env.seq <= rit["seq"]:
                return [self._reject(db, env, topic, f"stale seq {env.seq} (have {rit['seq']})")]
            if env.kind == "snapshot":
                if form_sha256(env.body) != env.form_sha256:
                    return [self._reject(db, env, topic, "form_sha256 does not match the snapshot")]
                receipts = [self._apply_now(db, env, topic, env.body)]
            elif rit is None or rit["awaiting_snapshot"] or env.seq > rit["seq"] + 1:
                self._record(db, env, topic, "held", envelope=env)
                return []
            else:
                form = merge_patch_apply(json.loads(rit["form_json"]), env.body)
                if problem := form_problem(form):
                    return [self._reject(db, env, topic, f"form: {problem}", poison=True)]
                if form_sha256(form) != env.form_sha256:
                    db.execute("UPDATE seh_rits SET awaiting_snapshot = 1 WHERE rit_id = ?", [rit_id])
                    self._note_resync(db, rit_id)
                    self._record(db, env, topic, "held", envelope=env)
                    return [ReceiptToSend(topic, msg_id, rit_id, env.seq, "resync", "form_sha256 mismatch")]
                receipts = [self._apply_now(db, env, topic, form)]
            receipts.extend(self._drain_held(db, rit_id))
            return receipts

    def _apply_now(self, db, env: Envelope, topic: str, form: dict) -> ReceiptToSend:
        msg_id, rit_id, now = str(env.msg_id), str(env.rit_id), utc_now()
        form_json, sha = json.dumps(form), form_sha256(form)
        db.execute(
            "INSERT INTO seh_rits (rit_id, vehicle_id, seq, status, form_json, form_sha256, awaiting_snapshot,"
            " first_received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)"
            " ON CONFLICT(rit_id) DO UPDATE SET seq = excluded.seq, status = excluded.status,"
            " form_json = excluded.form_json, form_sha256 = excluded.form_sha256, awaiting_snapshot = 0,"
            " updated_at = excluded.updated_at",
            [rit_id, env.vehicle_id, env.seq, env.status, form_json, sha, now, now],
        )
        db.execute(
            "INSERT INTO seh_versions (rit_id, seq, msg_id, status, form_json, form_sha256, applied_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [rit_id, env.seq, msg_id, env.status, form_json, sha, now],
        )
        self._record(db, env, topic, "applied", applied_at=now)
        if env.kind == "snapshot":
            db.execute("DELETE FROM seh_resyncs WHERE rit_id = ?", [rit_id])
        # Held messages this snapshot or patch made obsolete will never apply.
        db.execute(
            "UPDATE seh_messages SET outcome = 'superseded', envelope_json = NULL"
            " WHERE rit_id = ? AND outcome = 'held' AND seq <= ?",
            [rit_id, env.seq],
        )
        return ReceiptToSend(topic, msg_id, rit_id, env.seq, "delivered")

    def _drain_held(self, db, rit_id: str) -> list[ReceiptToSend]:
        receipts = []
        while True:
            rit = _rit(db, rit_id)
            nxt = list(
                db.query(
                    "SELECT * FROM seh_messages WHERE rit_id = ? AND outcome = 'held' AND seq = ?",
                    [rit_id, rit["seq"] + 1],
                )
            )
            if not nxt or rit["awaiting_snapshot"]:
                return receipts
            held = Envelope.model_validate_json(nxt[0]["envelope_json"])
            db.execute("DELETE FROM seh_messages WHERE msg_id = ?", [str(held.msg_id)])
            form = merge_patch_apply(json.loads(rit["form_json"]), held.body)
            if problem := form_problem(form):
                receipts.append(self._reject(db, held, nxt[0]["reply_topic"], f"form: {problem}", poison=True))
                continue
            if form_sha256(form) != held.form_sha256:
                db.execute("UPDATE seh_rits SET awaiting_snapshot = 1 WHERE rit_id = ?", [rit_id])
                self._note_resync(db, rit_id)
                self._record(db, held, nxt[0]["reply_topic"], "held", envelope=held)
                receipts.append(
                    ReceiptToSend(nxt[0]["reply_topic"], str(held.msg_id), rit_id, held.seq, "resync", "form_sha256 mismatch")
                )
                return receipts
            receipts.append(self._apply_now(db, held, nxt[0]["reply_topic"], form))

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
    def stalled_rits(self, older_than_s: float, ask_again_after_s: float = 30.0) -> list[ReceiptToSend]:
        """Rits whose held messages have waited too long for a predecessor (or a snapshot
        that never came): ask the vehicle for a snapshot, at most once per ``ask_again_after_s``."""
        with self.write() as db:
            rows = list(
                db.query(
                    "SELECT m.rit_id, m.vehicle_id, coalesce(r.seq, 0) AS seq, min(m.msg_id) AS msg_id"
                    " FROM seh_messages m LEFT JOIN seh_rits r USING (rit_id)"
                    " LEFT JOIN seh_resyncs q USING (rit_id)"
                    " WHERE m.outcome = 'held'"
                    " AND m.received_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', :wait)"
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
        rows = self.query("SELECT * FROM seh_rits WHERE rit_id = ?", [rit_id])
        if not rows:
            return None
        row = rows[0]
        row["form"] = json.loads(row.pop("form_json"))
        return row

    def read_receipt(self, rit_id: str) -> ReceiptToSend | None:
        """A person opened the rit: the receipt says they saw it up to the applied seq."""
        row = self.rit(rit_id)
        if row is None:
            return None
        version = self.query("SELECT msg_id FROM seh_versions WHERE rit_id = ? AND seq = ?", [rit_id, row["seq"]])
        return ReceiptToSend(self.reply_topic(row["vehicle_id"]), version[0]["msg_id"], rit_id, row["seq"], "read")

    # -- SEH-terugkoppeling ----------------------------------------------------------
    def add_feedback(self, rit_id: str, data: feedback.FeedbackIn) -> dict | None:
        """Queue the SEH's diagnosis for the vehicle; None when the rit is unknown."""
        with self.write() as db:
            rit = _rit(db, rit_id)
            if rit is None:
                return None
            if rit["status"] != "overdracht":
                raise FeedbackTooEarly(rit["status"])
            return feedback.add_feedback(db, rit, self.seh_id, data)

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
