"""Short messages at the SEH: staff's to the vehicle (stored first in the SEH's own table,
published until the vehicle's ``delivered``) and the vehicle's to the SEH (kept once per
msg_id, shown in seq order, answered). The contract, the text rules and the ordering are
edge/wire/messages.py, the same module the tablet uses; the table is migration 8.

``SehMessages`` is both the pages' desk (send, view, acknowledge) and the receiver's channel
(``on_message`` from paho's network thread, guarded by the receiver; ``tick`` once a second).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from edge.wire import messages as wire
from edge.wire import messages_exchange as exchange
from edge.wire.contract import id_for_form, utc_now

log = logging.getLogger("ritlink.seh.messages")


def migrate_messages(db: sqlite_utils.Database) -> None:
    db.execute(wire.TABLE_SQL)
    db.execute(wire.INDEX_SQL)


class MessageRefused(ValueError):
    """Text the SEH cannot send; the message is Dutch and shown on the page."""


class SehMessages:
    def __init__(self, store: Any, presets: list[str] = (), unread_warn_s: float = 120.0,
                 max_length: int = wire.MAX_TEXT):
        self.store = store
        self.seh_id = store.seh_id
        self.presets = list(presets)
        self.unread_warn_s = unread_warn_s
        self.max_length = max_length
        self.publish: Callable[[str, bytes], None] = lambda topic, payload: None  # set by the receiver
        self.dead_letter: Callable[[str, bytes, str], None] = lambda topic, payload, reason: None
        self.on_write: Callable[[], None] = lambda: None

    # -- the pages ------------------------------------------------------------------------
    def send(self, rit_id: str, text: str, author: str, log_access: Callable[[str, dict], None],
             form_key: str | None = None) -> dict[str, Any]:
        """``form_key``: the sending form's one-time key; the same form again returns its message."""
        try:
            text = wire.clean_text(text, self.max_length)
        except wire.MessageError as exc:
            raise MessageRefused(wire.refusal_words(exc.reason, self.max_length)) from None
        rit = self.store.rit(rit_id)
        if rit is None:
            raise KeyError(rit_id)
        msg_id = id_for_form(rit_id, form_key)
        with self.store.write() as db:
            earlier = next(iter(db.query(wire.BY_ID_SQL, [msg_id])), None)
            if earlier is not None:
                return earlier
            last = db.execute("SELECT max(seq) FROM short_messages WHERE rit_id = ? AND seh_id = ? AND direction = ?",
                              [rit_id, self.seh_id, wire.TO_VEHICLE]).fetchone()[0]
            row = {"msg_id": msg_id, "rit_id": rit_id, "seh_id": self.seh_id, "vehicle_id": rit["vehicle_id"],
                   "direction": wire.TO_VEHICLE, "seq": wire.next_seq(last), "text": text,
                   "author": (author or "seh")[:wire.MAX_AUTHOR], "sent_at": utc_now()}
            db.execute(f"INSERT INTO short_messages ({', '.join(wire.COLUMNS)}) VALUES"
                       f" ({', '.join('?' * len(wire.COLUMNS))})", [row[k] for k in wire.COLUMNS])
        log_access("bericht.send", {"msg_id": row["msg_id"], "seq": row["seq"]})
        log.info("message %s seq %d for rit %s to %s stored", row["msg_id"], row["seq"], rit_id, row["vehicle_id"])
        self.on_write()
        return row

    def view(self, rit_id: str) -> dict[str, Any]:
        rows = self.store.query("SELECT * FROM short_messages WHERE rit_id = ? AND seh_id = ?", [rit_id, self.seh_id])
        shown = wire.shown_messages(rows)
        for row in shown:
            row["own"] = row["direction"] == wire.TO_VEHICLE
            row["state"] = wire.state_of(row) if row["own"] else ("read" if row["read_at"] else "new")
        late = wire.unread_too_long(rows, self.unread_warn_s, datetime.now(UTC))
        return {"rit_id": rit_id, "messages": shown, "unread": [r for r in shown if not r["own"] and not r["read_at"]],
                "late": late, "held": len(rows) - len(shown), "presets": self.presets,
                "quick": list(wire.QUICK_REPLIES)}

    def acknowledge(self, rit_id: str, user: str) -> list[int]:
        """A person at the SEH read the vehicle's messages shown on the page: each gets ``read``."""
        unread = self.view(rit_id)["unread"]
        with self.store.write() as db:
            for row in unread:
                db.execute("UPDATE short_messages SET read_at = ?, read_by = ? WHERE msg_id = ? AND read_at IS NULL",
                           [utc_now(), user[:wire.MAX_AUTHOR], row["msg_id"]])
        if unread:
            self.on_write()
        return [r["seq"] for r in unread]

    def unread_counts(self) -> dict[str, int]:
        """Per rit: the vehicle's messages nobody at the SEH has read yet (the board's marker)."""
        rows = self.store.query("SELECT rit_id, count(*) AS n FROM short_messages WHERE seh_id = ? AND direction = ?"
                                " AND read_at IS NULL GROUP BY rit_id", [self.seh_id, wire.TO_SEH])
        return {r["rit_id"]: r["n"] for r in rows}

    # -- the receiver ---------------------------------------------------------------------
    def topic_filter(self) -> str:
        return wire.seh_filter(self.seh_id)

    def on_message(self, topic: str, payload: bytes) -> None:
        try:
            incoming = wire.parse(payload, topic)
            if wire.topic_ids(topic)[0] != self.seh_id:
                raise wire.MessageError("topic: another SEH")
        except wire.MessageError as exc:
            log.warning("refused a message payload: %s", exc.reason)
            self.dead_letter(topic, payload, exc.reason)
            ids, msg_id = wire.topic_ids(topic), wire.msg_id_of(payload)
            if ids is not None and msg_id is not None and ids[0] == self.seh_id:
                row = {"msg_id": msg_id, "rit_id": "?", "seh_id": self.seh_id, "vehicle_id": ids[1], "seq": 1}
                self._send_receipt(row, "rejected", exc.reason)
            return
        exchange.take_incoming(self.store, incoming, wire.TO_VEHICLE, topic, payload, self.dead_letter,
                           self._send_receipt, utc_now())

    def _send_receipt(self, row: dict[str, Any], kind: str, reason: str | None = None) -> None:
        self.publish(wire.to_vehicle_topic(row["vehicle_id"], self.seh_id),
                     wire.receipt_payload(row, kind, utc_now(), reason))

    def tick(self) -> None:
        exchange.resend_and_announce(
            self.store, wire.TO_VEHICLE, wire.TO_SEH,
            lambda row: self.publish(wire.to_vehicle_topic(row["vehicle_id"], self.seh_id), wire.message_payload(row)),
            lambda row: self._send_receipt(row, "read"), utc_now, keep=lambda row: row["seh_id"] == self.seh_id)
