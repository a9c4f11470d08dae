"""SEH-status on the tablet: the last known status of each SEH, kept in SQLite so it survives
offline periods and restarts, and the destination choice built from it (status in words, its
age, the driving ETA when the position is known). The wire format is edge/wire/seh_status.py."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from edge.store.db import Store
from edge.wire import seh_status as ws
from edge.wire.contract import utc_now


def migrate_seh_status(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE seh_status (
            seh_id TEXT PRIMARY KEY,
            body_json TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            received_at TEXT NOT NULL
        )"""
    )


def keep(store: Store, status: ws.SehStatus) -> bool:
    """Keep the status unless an equally new or newer one is kept already (a retained status
    comes again on every reconnect). Returns whether it changed what the tablet knows."""
    with store.write(durable=False) as db:  # the broker holds it retained: it comes again
        row = db.execute("SELECT updated_at, body_json FROM seh_status WHERE seh_id = ?", [status.seh_id]).fetchone()
        body = json.dumps(status.to_dict(), sort_keys=True)
        if row is not None and (ws.parse_time(row[0], "updated_at") > ws.parse_time(status.updated_at, "updated_at")
                                or row[1] == body):
            return False
        db.execute("INSERT OR REPLACE INTO seh_status (seh_id, body_json, updated_at, received_at) VALUES (?, ?, ?, ?)",
                   [status.seh_id, body, status.updated_at, utc_now()])
        return True


def known(store: Store) -> dict[str, ws.SehStatus]:
    out = {}
    for row in store.query("SELECT seh_id, body_json FROM seh_status"):
        try:
            out[row["seh_id"]] = ws.check(json.loads(row["body_json"]), row["seh_id"])
        except (ValueError, ws.StatusError):
            continue  # checked before it was kept; a damaged row is "onbekend"
    return out


def choices(sehs: list[dict[str, Any]], statuses: dict[str, ws.SehStatus], etas: dict[str, Any],
            stale_s: float, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each configured SEH as the crew chooses it: status in words, its age, counts, ETA."""
    now = now or datetime.now(UTC)
    out = []
    for seh in sehs:
        status = statuses.get(seh["id"])
        state = ws.shown_state(status, now, stale_s)
        age = ws.age_s(status, now) if status is not None else None
        eta = etas.get(seh["id"]) or {}
        out.append({
            "id": seh["id"], "name": seh["name"], "phone": seh.get("phone", ""),
            "state": state, "state_words": ws.STATE_WORDS[state],
            "stale": status is not None and state == ws.UNKNOWN,
            "age_s": None if age is None else round(age), "age_words": ws.age_words(age),
            "reason": status.reason if status is not None and state != ws.UNKNOWN else "",
            "until": status.until if status is not None and state == "seh-stop" else None,
            "counts": ws.counts_words(status.counts) if status is not None and state != ws.UNKNOWN else "",
            "updated_at": status.updated_at if status is not None else None,
            "eta_arrival": eta.get("arrival_at"), "eta_seconds": eta.get("seconds"),
        })
    return out
