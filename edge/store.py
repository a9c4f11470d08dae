"""The tablet's SQLite store: rits, their entry log, the outbox streams.

All writes go through EdgeStore so that a form change and its outbox message always share
one transaction.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils

from edge import outbox
from edge.canonical import form_sha256
from edge.contract import new_id
from edge.db import Migration, Store, utc_now
from edge.form import LIFECYCLE_ANNOUNCED, LIFECYCLE_CONCEPT, apply_entry, build_form, new_form


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


EDGE_MIGRATIONS = [Migration(1, "rits, entries, outbox streams", _m1_initial)]


class RitNotFound(KeyError):
    pass


class EdgeStore(Store):
    def __init__(self, path: Path | str):
        super().__init__(path, EDGE_MIGRATIONS)

    # -- rits -------------------------------------------------------------------------
    def create_rit(self, vehicle_id: str, destination_seh: str, urgency: str) -> str:
        rit_id = new_id()
        now = utc_now()
        header = {
            "rit_id": rit_id,
            "vehicle_id": vehicle_id,
            "urgency": urgency,
            "destination_seh": destination_seh,
            "created_at": now,
        }
        form = new_form(header)
        with self.write() as db:
            db.execute(
                "INSERT INTO rits (rit_id, vehicle_id, urgency, destination_seh, lifecycle, created_at, updated_at,"
                " form_json, form_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [rit_id, vehicle_id, urgency, destination_seh, LIFECYCLE_CONCEPT, now, now,
                 json.dumps(form), form_sha256(form)],
            )
        return rit_id

    def rit(self, rit_id: str) -> dict[str, Any]:
        rows = self.query("SELECT * FROM rits WHERE rit_id = ?", [rit_id])
        if not rows:
            raise RitNotFound(rit_id)
        row = rows[0]
        row["form"] = json.loads(row.pop("form_json"))
        return row

    def rit_ids(self) -> list[str]:
        return [r["rit_id"] for r in self.query("SELECT rit_id FROM rits ORDER BY created_at DESC")]

    def add_entries(self, rit_id: str, entries: list[dict[str, Any]]) -> dict[str, Any]:
        """Append clinical entries and queue the change for every open stream, atomically."""
        with self.write() as db:
            row = self._rit_in_tx(db, rit_id)
            form = json.loads(row["form_json"])
            position = db.execute("SELECT coalesce(max(position), 0) FROM entries WHERE rit_id = ?", [rit_id]).fetchone()[0]
            for entry in entries:
                position += 1
                entry = {"entry_id": new_id(), "recorded_at": utc_now(), **entry}
                db.execute(
                    "INSERT INTO entries (entry_id, rit_id, position, kind, data_json, clinical_time, recorded_at,"
                    " author, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [entry["entry_id"], rit_id, position, entry["kind"], json.dumps(entry["data"]),
                     entry["clinical_time"], entry["recorded_at"], entry["author"], entry["source"]],
                )
                form = apply_entry(form, entry)
            self._save_form(db, rit_id, form)
            outbox.form_changed(db, rit_id, form)
        return form

    def announce(self, rit_id: str) -> str:
        """Open the stream to the rit's destination with a snapshot vooraankondiging."""
        with self.write() as db:
            row = self._rit_in_tx(db, rit_id)
            msg_id = outbox.open_stream(db, rit_id, row["destination_seh"], json.loads(row["form_json"]))
            db.execute("UPDATE rits SET lifecycle = ? WHERE rit_id = ?", [LIFECYCLE_ANNOUNCED, rit_id])
        return msg_id

    def rebuild_form(self, rit_id: str) -> dict[str, Any]:
        """The form recomputed from the entry log alone (for checks and repair)."""
        row = self.rit(rit_id)
        entries = []
        for e in self.query("SELECT * FROM entries WHERE rit_id = ? ORDER BY position", [rit_id]):
            e["data"] = json.loads(e.pop("data_json"))
            entries.append(e)
        header = {k: row[k] for k in ("rit_id", "vehicle_id", "urgency", "destination_seh", "created_at")}
        return build_form(header, entries)

    # -- outbox -----------------------------------------------------------------------
    def messages(self, rit_id: str) -> list[dict[str, Any]]:
        return self.query(
            "SELECT msg_id, seh_id, seq, kind, status, state, reason, created_at, published_at, sent_at,"
            " delivered_at, read_at FROM outbox WHERE rit_id = ? ORDER BY seh_id, seq",
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
        with self.write() as db:
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
            row = self._rit_in_tx(db, rit_id)
            return outbox.request_snapshot(db, rit_id, seh_id, json.loads(row["form_json"]))

    def outbox_depth(self) -> int:
        return self.query("SELECT count(*) AS n FROM outbox WHERE state = 'saved'")[0]["n"]

    # -- helpers ----------------------------------------------------------------------
    @staticmethod
    def _rit_in_tx(db: sqlite_utils.Database, rit_id: str) -> dict[str, Any]:
        rows = list(db.query("SELECT * FROM rits WHERE rit_id = ?", [rit_id]))
        if not rows:
            raise RitNotFound(rit_id)
        return rows[0]

    @staticmethod
    def _save_form(db: sqlite_utils.Database, rit_id: str, form: dict[str, Any]) -> None:
        db.execute(
            "UPDATE rits SET form_json = ?, form_sha256 = ?, updated_at = ? WHERE rit_id = ?",
            [json.dumps(form), form_sha256(form), utc_now(), rit_id],
        )
