"""Short messages on the tablet: the crew's to the SEH (stored first, sent until receipted) and
the SEH's to the crew (kept once per msg_id, shown in order). The contract, the text rules
and the ordering are edge/wire/messages.py; this is the tablet's table (migration 10).

Web pages reach this through ``EdgeService.messages`` (a ``MessageDesk``); the MQTT side
(edge/sync/messages_channel.py) uses the ``due``/``mark`` functions below.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from edge.errors import DomainError
from edge.store import audit
from edge.store.audit import Actor
from edge.store.db import StoreFullError
from edge.wire import messages as wire
from edge.wire.contract import id_for_form, utc_now

log = logging.getLogger("ritlink.messages")


def migrate_messages(db: sqlite_utils.Database) -> None:
    db.execute(wire.TABLE_SQL)
    db.execute(wire.INDEX_SQL)


class MessageRefused(DomainError):
    """A message the crew cannot send (empty, too long, no destination): said on the page."""

    def __init__(self, message: str):
        super().__init__(message, "text", type="bericht")


class MessageDesk:
    """What the tablet's pages do with messages, in one store transaction each."""

    def __init__(self, store: Any, settings: Any):
        self.store = store
        self.settings = settings
        self.vehicle_id = settings.vehicle_id
        self.on_write: Callable[[], None] = lambda: None  # wakes the MQTT side (set by the runtime)

    def presets(self) -> list[str]:
        return list(self.settings.message_presets)

    def send(self, rit_id: str, text: str, actor: Actor, form_key: str | None = None) -> dict[str, Any]:
        """Store one message to the rit's SEH (the outbox is the only copy that matters).
        ``form_key``: the sending form's one-time key; the same key again (a double tap, a
        replayed post) returns the message already stored instead of sending it twice."""
        try:
            text = wire.clean_text(text, self.settings.message_max_length)
        except wire.MessageError as exc:
            raise MessageRefused(wire.refusal_words(exc.reason, self.settings.message_max_length)) from None
        if self.store.space_left() < self.settings.store_reserve_mb * 2**20:
            raise StoreFullError("Opslag vol: dit bericht is NIET opgeslagen.")
        seh_id = self.store.rit(rit_id)["destination_seh"]
        if not seh_id:
            raise MessageRefused("kies eerst een bestemming (SEH)")
        msg_id = id_for_form(rit_id, form_key)
        with self.store.lock, self.store.write() as db:
            earlier = next(iter(db.query(wire.BY_ID_SQL, [msg_id])), None)
            if earlier is not None:
                if earlier["text"] != text:
                    raise MessageRefused("dit formulier is al verstuurd met een andere tekst: open de berichten opnieuw")
                return earlier
            last = db.execute("SELECT max(seq) FROM short_messages WHERE rit_id = ? AND seh_id = ? AND direction = ?",
                              [rit_id, seh_id, wire.TO_SEH]).fetchone()[0]
            row = {"msg_id": msg_id, "rit_id": rit_id, "seh_id": seh_id, "vehicle_id": self.vehicle_id,
                   "direction": wire.TO_SEH, "seq": wire.next_seq(last), "text": text,
                   "author": actor.user[:wire.MAX_AUTHOR] or "ambulance", "sent_at": utc_now()}
            db.execute(f"INSERT INTO short_messages ({', '.join(wire.COLUMNS)}) VALUES"
                       f" ({', '.join('?' * len(wire.COLUMNS))})", [row[k] for k in wire.COLUMNS])
            audit.append(db, actor, rit_id, "bericht.send", {"msg_id": row["msg_id"], "seq": row["seq"]})
        log.info("message %s seq %d for rit %s to %s stored", row["msg_id"], row["seq"], rit_id, seh_id)
        self.on_write()
        return row

    def view(self, rit_id: str, actor: Actor | None = None, action: str = "berichten.view") -> dict[str, Any]:
        """The rit's messages as the crew sees them. With ``actor``: a person opened the view
        (one access-log row); without: a refresh of what is on screen (no row)."""
        self.store.rit(rit_id)  # RitNotFound for an unknown rit
        if actor is not None:
            with self.store.lock, self.store.write() as db:
                audit.append(db, actor, rit_id, action)
        rows = self.store.query("SELECT * FROM short_messages WHERE rit_id = ?", [rit_id])
        shown = wire.shown_messages(rows)
        for row in shown:
            row["own"] = row["direction"] == wire.TO_SEH
            row["state"] = wire.state_of(row) if row["own"] else ("read" if row["read_at"] else "new")
        late = wire.unread_too_long(rows, self.settings.message_unread_warn_s, datetime.now(UTC))
        unread = [r for r in shown if not r["own"] and not r["read_at"]]
        return {"rit_id": rit_id, "messages": shown, "unread": unread, "late": late,
                "held": len(rows) - len(shown), "presets": self.presets(), "quick": list(wire.QUICK_REPLIES)}

    def acknowledge(self, rit_id: str, actor: Actor) -> int:
        """The crew saw the SEH's messages: each shown, unread one is read (a receipt follows)."""
        shown = self.view(rit_id)["unread"]
        if not shown:
            return 0
        with self.store.lock, self.store.write() as db:
            for row in shown:
                db.execute("UPDATE short_messages SET read_at = ?, read_by = ? WHERE msg_id = ? AND read_at IS NULL",
                           [utc_now(), actor.user[:wire.MAX_AUTHOR], row["msg_id"]])
            audit.append(db, actor, rit_id, "bericht.read", {"seqs": [r["seq"] for r in shown]})
        self.on_write()
        return len(shown)
