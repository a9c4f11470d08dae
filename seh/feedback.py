"""SEH-terugkoppeling: the SEH's diagnosis and disposition, sent back to the vehicle after the
handover through a durable outbox of its own (the tablet may be off for days).

A feedback message is stored first, then published (QoS 1) and published again every
RESEND_S until the vehicle's receipt arrives; the vehicle keeps each msg_id once.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import sqlite_utils
from pydantic import BaseModel, ConfigDict, Field, field_validator

from edge.wire.contract import TOPIC_ROOT, feedback_topic, new_id
from edge.wire.contract import utc_now
from edge.wire.safe_text import text_problem

FEEDBACK_SCHEMA = "ritlink.seh-terugkoppeling/1"
RESEND_S = 10.0

Disposition = Literal["ontslagen naar huis", "opgenomen verpleegafdeling", "opgenomen IC/CCU", "overgeplaatst",
                      "operatie", "overleden", "anders"]


class _TypedText(BaseModel):
    """A form or API body of text a person typed: refused when it holds what the vehicle's
    side refuses (edge/wire/safe_text.py), before it is stored and sent."""
    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if isinstance(value, str) and (words := text_problem(value)):
            raise ValueError(words)
        return value


class FeedbackIn(_TypedText):
    diagnosis: str = Field(min_length=1, max_length=500, description="SEH-diagnose")
    disposition: Disposition = Field(description="bestemming na de SEH")
    remarks: str = Field(default="", max_length=2000)
    author: str = Field(default="seh", min_length=1, max_length=80)


class TeamActivationIn(_TypedText):
    """"Team geactiveerd": the SEH tells the crew where the team waits, before arrival."""
    room: str = Field(min_length=1, max_length=100, description="kamer of bay, bijv. traumakamer 2")
    author: str = Field(default="seh", min_length=1, max_length=80)


def feedback_receipt_topic(seh_id: str, vehicle_id: str) -> str:
    """Where the vehicle confirms feedback: under its own write subtree of this SEH's feed."""
    return f"{TOPIC_ROOT}/seh/{seh_id}/from/{vehicle_id}/feedback-receipt"


def feedback_receipt_filter(seh_id: str) -> str:
    return f"{TOPIC_ROOT}/seh/{seh_id}/from/+/feedback-receipt"


def migrate_feedback(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE seh_feedback (
            msg_id TEXT PRIMARY KEY,
            rit_id TEXT NOT NULL,
            vehicle_id TEXT NOT NULL,
            body_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            last_sent_at TEXT,
            receipted_at TEXT
        )"""
    )


def add_feedback(db: sqlite_utils.Database, rit: dict[str, Any], seh_id: str, feedback: FeedbackIn,
                 msg_id: str | None = None) -> dict:
    """Store one feedback message for the rit's vehicle (inside the caller's transaction)."""
    return _queue(db, rit, msg_id, {
        "schema": FEEDBACK_SCHEMA, "seh_id": seh_id, "diagnosis": feedback.diagnosis,
        "disposition": feedback.disposition, "remarks": feedback.remarks, "author": feedback.author})


def add_team_activation(db: sqlite_utils.Database, rit: dict[str, Any], seh_id: str,
                        activation: TeamActivationIn, msg_id: str | None = None) -> dict:
    """Queue "team geactiveerd" for the vehicle on the same durable, receipted channel."""
    return _queue(db, rit, msg_id, {"schema": FEEDBACK_SCHEMA, "kind": "team", "seh_id": seh_id,
                                    "room": activation.room, "author": activation.author})


def _queue(db: sqlite_utils.Database, rit: dict[str, Any], msg_id: str | None, fields: dict[str, Any]) -> dict:
    """``msg_id`` from the sending form (id_for_form): the same form again returns what it queued."""
    if msg_id is not None:
        earlier = list(db.query("SELECT body_json FROM seh_feedback WHERE msg_id = ?", [msg_id]))
        if earlier:
            return json.loads(earlier[0]["body_json"])
    msg_id, now = msg_id or new_id(), utc_now()
    body = {**fields, "msg_id": msg_id, "rit_id": rit["rit_id"], "vehicle_id": rit["vehicle_id"], "at": now}
    db.execute(
        "INSERT INTO seh_feedback (msg_id, rit_id, vehicle_id, body_json, created_at) VALUES (?, ?, ?, ?, ?)",
        [msg_id, rit["rit_id"], rit["vehicle_id"], json.dumps(body), now],
    )
    return body


def due_feedback(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query(
        "SELECT * FROM seh_feedback WHERE receipted_at IS NULL AND rejected_reason IS NULL"
        " AND (last_sent_at IS NULL OR"
        " last_sent_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)) ORDER BY created_at",
        [f"-{RESEND_S} seconds"],
    ))


def publish_topic(row: dict, seh_id: str) -> str:
    return feedback_topic(row["vehicle_id"], seh_id)
