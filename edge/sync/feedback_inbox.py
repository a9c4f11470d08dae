"""SEH-terugkoppeling on the tablet: the SEH's diagnosis and disposition for a rit, kept once
per msg_id (the SEH resends until the tablet confirms), shown beside the crew's werkdiagnose."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from edge.wire import safe_json
from edge.wire.contract import utc_now

FEEDBACK_SCHEMA = "ritlink.seh-terugkoppeling/1"
FIELDS = ("diagnosis", "disposition", "remarks", "author", "at")
TEAM_FIELDS = ("room", "author", "at")  # kind "team": "team geactiveerd" before arrival


MAX_ID, MAX_TEXT = 64, 4000


class FeedbackError(ValueError):
    """Refused feedback; ``reason`` is safe to log and to send back (no content)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


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


def parse_feedback(payload: bytes, seh_id: str, vehicle_id: str,
                   max_bytes: int = safe_json.DEFAULT_MAX_BYTES) -> dict[str, Any]:
    try:
        body = safe_json.loads_object(payload, max_bytes=max_bytes)
    except safe_json.PayloadError as exc:
        raise FeedbackError(exc.reason) from None
    if body.get("schema") != FEEDBACK_SCHEMA:
        raise FeedbackError("unknown schema")
    if body.get("seh_id") != seh_id or body.get("vehicle_id") != vehicle_id:
        raise FeedbackError("topic: feedback does not match its topic")
    kind = body.get("kind", "terugkoppeling")
    if kind not in ("terugkoppeling", "team"):
        raise FeedbackError("malformed: unknown kind")
    fields = TEAM_FIELDS if kind == "team" else FIELDS
    if not all(isinstance(body.get(k), str) for k in ("msg_id", "rit_id", *fields)):
        raise FeedbackError("malformed: missing fields")
    if len(body["msg_id"]) > MAX_ID or len(body["rit_id"]) > MAX_ID or any(len(body[k]) > MAX_TEXT for k in fields):
        raise FeedbackError("malformed: a field is too long")
    return body


def feedback_msg_id(payload: bytes) -> str | None:
    """The msg_id of refused feedback, when it can be read at all (to answer ``rejected``)."""
    try:
        msg_id = safe_json.loads_object(payload).get("msg_id")
    except safe_json.PayloadError:
        return None
    return msg_id if isinstance(msg_id, str) and len(msg_id) <= MAX_ID else None


def store_feedback(db: sqlite_utils.Database, body: dict[str, Any]) -> bool:
    """Keep it once; returns False for a repeat. Unknown rits are kept too (purged tablet)."""
    cursor = db.execute(
        "INSERT OR IGNORE INTO feedback (msg_id, rit_id, seh_id, body_json, received_at) VALUES (?, ?, ?, ?, ?)",
        [body["msg_id"], body["rit_id"], body["seh_id"], json.dumps(body), utc_now()],
    )
    return cursor.rowcount == 1


def feedback_for(db: sqlite_utils.Database, rit_id: str) -> list[dict[str, Any]]:
    rows = db.query("SELECT body_json, received_at FROM feedback WHERE rit_id = ? ORDER BY received_at", [rit_id])
    out = []
    for r in rows:
        body = json.loads(r["body_json"])
        kind = body.get("kind", "terugkoppeling")
        fields = TEAM_FIELDS if kind == "team" else FIELDS
        out.append({**{k: body[k] for k in ("seh_id", *fields)}, "kind": kind, "received_at": r["received_at"]})
    return out
