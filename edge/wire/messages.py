"""Short messages between a vehicle and an SEH, tied to one rit: the one contract both sides use.

Topics (design.md): the SEH writes ``ritlink/v1/vehicle/{vehicle}/message/{seh}``, the vehicle
writes ``ritlink/v1/seh/{seh}/from/{vehicle}/message``. Each side's receipts for the other's
messages travel on the topic that side writes, as a payload with ``type`` ``receipt``: the
broker ACL needs no topic beyond those two.

A message: ``schema`` ``ritlink.bericht/1``, ``type`` ``message``, ``msg_id``, ``rit_id``,
``seh_id``, ``vehicle_id``, ``direction`` (``to_seh`` | ``to_vehicle``), ``seq`` (1, 2, 3 … per
rit, SEH and direction), ``text`` (1..MAX_TEXT characters), ``author``, ``sent_at``.
A receipt: ``schema``, ``type`` ``receipt``, ``msg_id``, ``rit_id``, ``seh_id``, ``vehicle_id``,
``seq``, ``receipt`` (``delivered`` | ``read`` | ``rejected``), ``at``, optional ``reason``.

Also here: the table both sides keep (their own database, their own migration), the text
rules, and the ordering rule (a message is shown only when every earlier seq is there).
Pure: no I/O.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge.wire import safe_json
from edge.wire.contract import TOPIC_ROOT

SCHEMA = "ritlink.bericht/1"
TO_SEH, TO_VEHICLE = "to_seh", "to_vehicle"
DIRECTIONS = (TO_SEH, TO_VEHICLE)
RECEIPTS = ("delivered", "read", "rejected")
MAX_TEXT = 280  # characters: a short message, not a letter
MAX_ID, MAX_AUTHOR, MAX_TIME, MAX_REASON = 64, 80, 40, 200
MAX_SEQ = 1_000_000
MAX_PAYLOAD = 4096  # bytes: a message with its envelope is well under 2 KiB
QUICK_REPLIES = ("begrepen", "akkoord")
RESEND_S = 5.0  # an unreceipted message is published again this often
READ_POLL_S = 30.0  # a delivered, unread message is published again this often (the answer says "read")

TABLE_SQL = """CREATE TABLE short_messages (
    msg_id TEXT PRIMARY KEY,
    rit_id TEXT NOT NULL,
    seh_id TEXT NOT NULL,
    vehicle_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    author TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    received_at TEXT,
    published_at TEXT,
    delivered_at TEXT,
    read_at TEXT,
    read_by TEXT,
    read_announced INTEGER NOT NULL DEFAULT 0,
    rejected_reason TEXT,
    UNIQUE (rit_id, seh_id, direction, seq)
)"""
INDEX_SQL = "CREATE INDEX short_messages_open ON short_messages(direction, delivered_at, read_at)"
COLUMNS = ("msg_id", "rit_id", "seh_id", "vehicle_id", "direction", "seq", "text", "author", "sent_at")


class MessageError(ValueError):
    """A refused message or text; ``reason`` is safe to log and to send back (no content)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# -- topics -------------------------------------------------------------------------------
def to_vehicle_topic(vehicle_id: str, seh_id: str) -> str:
    return f"{TOPIC_ROOT}/vehicle/{vehicle_id}/message/{seh_id}"


def to_seh_topic(seh_id: str, vehicle_id: str) -> str:
    return f"{TOPIC_ROOT}/seh/{seh_id}/from/{vehicle_id}/message"


def vehicle_filter(vehicle_id: str) -> str:
    return to_vehicle_topic(vehicle_id, "+")


def seh_filter(seh_id: str) -> str:
    return to_seh_topic(seh_id, "+")


def topic_ids(topic: str) -> tuple[str, str, str] | None:
    """(seh_id, vehicle_id, direction the topic carries messages in), or None for another topic."""
    parts = topic.split("/")
    if len(parts) == 6 and parts[:3] == ["ritlink", "v1", "vehicle"] and parts[4] == "message":
        return parts[5], parts[3], TO_VEHICLE
    if len(parts) == 7 and parts[:3] == ["ritlink", "v1", "seh"] and parts[4] == "from" and parts[6] == "message":
        return parts[3], parts[5], TO_SEH
    return None


# -- text ---------------------------------------------------------------------------------
def clean_text(text: Any, max_length: int = MAX_TEXT) -> str:
    """The text as it is sent: trimmed, one line of printable characters, 1..max_length long."""
    if not isinstance(text, str):
        raise MessageError("tekst: geen tekst")
    text = " ".join(text.split())
    if not text:
        raise MessageError("tekst: leeg bericht")
    if len(text) > max_length:
        raise MessageError(f"tekst: langer dan {max_length} tekens")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise MessageError("tekst: tekens die niet getoond kunnen worden")
    return text


def refusal_words(reason: str, max_length: int) -> str:
    """What the person typing is told when ``clean_text`` refuses (same words at both ends)."""
    if "leeg" in reason:
        return "Leeg bericht: typ een tekst of kies een standaardbericht."
    if "langer" in reason:
        return f"Bericht te lang: ten hoogste {max_length} tekens."
    return "Dit bericht bevat tekens die niet verstuurd kunnen worden."


# -- payloads -----------------------------------------------------------------------------
def message_payload(row: dict[str, Any]) -> bytes:
    body = {"schema": SCHEMA, "type": "message", **{k: row[k] for k in COLUMNS}}
    return _dump(body)


def receipt_payload(row: dict[str, Any], receipt: str, at: str, reason: str | None = None) -> bytes:
    body = {"schema": SCHEMA, "type": "receipt", "receipt": receipt, "at": at,
            **{k: row[k] for k in ("msg_id", "rit_id", "seh_id", "vehicle_id", "seq")}}
    if reason:
        body["reason"] = reason[:MAX_REASON]
    return _dump(body)


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


@dataclass(frozen=True)
class Incoming:
    """A parsed payload: ``kind`` is ``message`` or ``receipt``; ``data`` has the checked fields."""
    kind: str
    data: dict[str, Any]


def parse(payload: bytes, topic: str, max_bytes: int = MAX_PAYLOAD) -> Incoming:
    """A message or receipt from ``topic``, checked against the contract and the topic (the
    seh_id and vehicle_id in the body must be those of the topic; a message must travel in
    the topic's direction). Raises MessageError with a reason code."""
    ids = topic_ids(topic)
    if ids is None:
        raise MessageError("topic: not a message topic")
    seh_id, vehicle_id, direction = ids
    try:
        body = safe_json.loads_object(payload, max_bytes=max_bytes)
    except safe_json.PayloadError as exc:
        raise MessageError(exc.reason) from None
    if body.get("schema") != SCHEMA:
        raise MessageError("unknown schema")
    kind = body.get("type")
    if kind not in ("message", "receipt"):
        raise MessageError("malformed: unknown type")
    for key, limit in (("msg_id", MAX_ID), ("rit_id", MAX_ID), ("seh_id", MAX_ID), ("vehicle_id", MAX_ID)):
        if not isinstance(body.get(key), str) or not 0 < len(body[key]) <= limit:
            raise MessageError(f"malformed: {key}")
    if (body["seh_id"], body["vehicle_id"]) != (seh_id, vehicle_id):
        raise MessageError("topic: ids do not match the topic")
    seq = body.get("seq")
    if type(seq) is not int or not 1 <= seq <= MAX_SEQ:
        raise MessageError("malformed: seq")
    if kind == "receipt":
        if body.get("receipt") not in RECEIPTS:
            raise MessageError("malformed: receipt type")
        _time(body.get("at"))
        reason = body.get("reason")
        if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON):
            raise MessageError("malformed: reason")
        data = {k: body[k] for k in ("msg_id", "rit_id", "seh_id", "vehicle_id", "seq", "receipt", "at")}
        data["reason"] = reason
        return Incoming("receipt", data)
    if body.get("direction") != direction:
        raise MessageError("topic: direction does not match the topic")
    author = body.get("author")
    if not isinstance(author, str) or not 0 < len(author) <= MAX_AUTHOR:
        raise MessageError("malformed: author")
    _time(body.get("sent_at"))
    text = clean_text(body.get("text"))
    if text != body["text"]:
        raise MessageError("tekst: not as sent")
    return Incoming("message", {k: body[k] for k in COLUMNS})


def _time(value: Any) -> None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_TIME:
        raise MessageError("malformed: time")
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MessageError("malformed: time") from None


def msg_id_of(payload: bytes) -> str | None:
    """The msg_id of a refused payload, when it can be read at all (to answer ``rejected``)."""
    try:
        msg_id = safe_json.loads_object(payload, max_bytes=MAX_PAYLOAD).get("msg_id")
    except safe_json.PayloadError:
        return None
    return msg_id if isinstance(msg_id, str) and 0 < len(msg_id) <= MAX_ID else None


# -- ordering -----------------------------------------------------------------------------
def in_order(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Received messages of one stream (one rit, SEH and direction): (shown, held). A message
    is shown only when every seq before it is there; a later one waits until the gap fills."""
    shown, held, expected = [], [], 1
    for row in sorted(rows, key=lambda r: r["seq"]):
        if row["seq"] == expected:
            shown.append(row)
            expected += 1
        else:
            held.append(row)
    return shown, held


def shown_messages(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """All messages of a rit as a side shows them: its own in full, the other side's in
    order per stream with gaps held back; oldest first."""
    streams: dict[tuple, list[dict[str, Any]]] = {}
    for row in rows:
        streams.setdefault((row["seh_id"], row["direction"], row["received_at"] is None), []).append(row)
    out: list[tuple[str, int, dict[str, Any]]] = []
    for (_, _, own), stream in streams.items():
        shown = sorted(stream, key=lambda r: r["seq"]) if own else in_order(stream)[0]
        latest = ""
        for row in shown:  # by time across streams, but never out of seq order within one
            latest = max(latest, row["sent_at"])
            out.append((latest, row["seq"], row))
    return [row for _, _, row in sorted(out, key=lambda item: (item[0], item[1]))]


def state_of(row: dict[str, Any]) -> str:
    """``opgeslagen`` → ``ontvangen`` → ``gelezen`` (or ``geweigerd``) for a message sent."""
    if row.get("rejected_reason"):
        return "rejected"
    if row.get("read_at"):
        return "read"
    if row.get("delivered_at"):
        return "delivered"
    return "sent" if row.get("published_at") else "saved"


def unread_too_long(rows: list[dict[str, Any]], warn_after_s: float, now: datetime) -> list[dict[str, Any]]:
    """Own messages that are not read ``warn_after_s`` after they were written."""
    late = []
    for row in rows:
        if row["received_at"] is not None or row.get("read_at") or row.get("rejected_reason"):
            continue
        sent = datetime.fromisoformat(row["sent_at"].replace("Z", "+00:00"))
        if (now - sent).total_seconds() >= warn_after_s:
            late.append(row)
    return late


def next_seq(last: int | None) -> int:
    return (last or 0) + 1


# -- the statements both sides run on their own table (text only: each side executes them) --
DUE_SQL = ("SELECT * FROM short_messages WHERE direction = ? AND delivered_at IS NULL AND rejected_reason IS NULL"
           " AND (published_at IS NULL OR published_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?))"
           " ORDER BY rit_id, seh_id, seq LIMIT 500")
UNREAD_POLL_SQL = ("SELECT * FROM short_messages WHERE direction = ? AND delivered_at IS NOT NULL AND read_at IS NULL"
                   " AND rejected_reason IS NULL AND published_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)"
                   " ORDER BY rit_id, seh_id, seq LIMIT 100")
PUBLISHED_SQL = "UPDATE short_messages SET published_at = ? WHERE msg_id = ?"
TO_ANNOUNCE_SQL = ("SELECT * FROM short_messages WHERE direction = ? AND read_at IS NOT NULL AND read_announced = 0"
                   " LIMIT 500")
ANNOUNCED_SQL = "UPDATE short_messages SET read_announced = 1 WHERE msg_id = ?"
INSERT_INCOMING_SQL = (f"INSERT OR IGNORE INTO short_messages ({', '.join(COLUMNS)}, received_at)"
                       f" VALUES ({', '.join('?' * (len(COLUMNS) + 1))})")
BY_ID_SQL = "SELECT * FROM short_messages WHERE msg_id = ?"
RECEIPT_SQL = {
    "delivered": "UPDATE short_messages SET delivered_at = coalesce(delivered_at, ?) WHERE msg_id = ?",
    "read": ("UPDATE short_messages SET delivered_at = coalesce(delivered_at, ?), read_at = coalesce(read_at, ?)"
             " WHERE msg_id = ?"),
    "rejected": "UPDATE short_messages SET rejected_reason = coalesce(rejected_reason, ?) WHERE msg_id = ?",
}


def receipt_params(kind: str, msg_id: str, at: str, reason: str | None) -> list[Any]:
    if kind == "read":
        return [at, at, msg_id]
    if kind == "rejected":
        return [(reason or "rejected")[:MAX_REASON], msg_id]
    return [at, msg_id]


def incoming_problem(stored: dict[str, Any] | None, data: dict[str, Any]) -> str | None:
    """After INSERT OR IGNORE: None when ``data`` is the stored message (new or replayed), else
    why it is refused (another message already holds its seq, or its msg_id with other content)."""
    if stored is None:
        return "seq: another message already has this seq"
    if any(stored[k] != data[k] for k in COLUMNS):
        return "replay: msg_id known with other content"
    return None


def receipt_problem(sent: dict[str, Any] | None, data: dict[str, Any], own_direction: str) -> str | None:
    """A receipt counts only for a message this side sent, to the sender of the receipt."""
    if sent is None:
        return "receipt: unknown message"
    if sent["direction"] != own_direction or any(sent[k] != data[k] for k in ("rit_id", "seh_id", "vehicle_id", "seq")):
        return "receipt: does not match the message"
    return None
