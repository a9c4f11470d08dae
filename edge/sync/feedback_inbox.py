"""SEH-terugkoppeling on the tablet: the SEH's diagnosis and disposition for a rit, kept once
per msg_id (the SEH resends until the tablet confirms), shown beside the crew's werkdiagnose."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from edge.wire.contract import utc_now

FEEDBACK_SCHEMA = "ritlink.seh-terugkoppeling/1"
FIELDS = ("diagnosis", "disposition", "remarks", "author", "at")


class FeedbackError(ValueError):
    pass


def migrate_feedback_inbox(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE feedback (
            msg_id TEXT PRIMARY KEY,
            rit_id TEXT NOT NULL,
            seh_id TEXT NOT NULL,
            body_json TEXT NOT NULL,
            received_at TEXT NOT NULL
        )"""
    )


def parse_feedback(payload: bytes, seh_id: str, vehicle_id: str) -> dict[str, Any]:
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise FeedbackError("not JSON") from None
    if not isinstance(body, dict) or body.get("schema") != FEEDBACK_SCHEMA:
        raise FeedbackError("unknown schema")
    if body.get("seh_id") != seh_id or body.get("vehicle_id") != vehicle_id:
        raise FeedbackError("feedback does not match its topic")
    if not all(isinstance(body.get(k), str) for k in ("msg_id", "rit_id", *FIELDS)):
        raise FeedbackError("missing fields")
    return body


def store_feedback(db: sqlite_utils.Database, body: dict[str, Any]) -> bool:
    """Keep it once; returns False for a repeat. Unknown rits are kept too (purged tablet)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO feedback (msg_id, rit_id, seh_id, body_json, received_at) VALUES (?, ?, ?, ?, ?)",
        [body["msg_id"], body["rit_id"], body["seh_id"], json.dumps(body), utc_now()],
    )
    return cursor.rowcount == 1


def feedback_for(db: sqlite_utils.Database, rit_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT body_json, received_at FROM feedback WHERE rit_id = ? ORDER BY received_at", [rit_id])
    return [{**{k: json.loads(r["body_json"])[k] for k in ("seh_id", *FIELDS)}, "received_at": r["received_at"]}
            for r in rows]
