"""The steps of the short-message exchange that both sides run on their own store: store an
incoming message once and answer it, note a receipt, publish again what has no receipt yet.

The tablet (edge/sync/messages_channel.py) and the SEH (seh/messages.py) pass in their own
store (anything with ``write()`` and ``query()`` over the table of edge/wire/messages.py) and
their own publish functions; this module imports no store and no MQTT client. The contract
itself (topics, payloads, rules) stays pure in edge/wire/messages.py.
"""

from __future__ import annotations

import logging
from typing import Any

from edge.wire.messages import (ANNOUNCED_SQL, BY_ID_SQL, COLUMNS, DUE_SQL, INSERT_INCOMING_SQL, PUBLISHED_SQL,
                                READ_POLL_S, RECEIPT_SQL, RESEND_S, TO_ANNOUNCE_SQL, UNREAD_POLL_SQL, Incoming,
                                incoming_problem, receipt_params, receipt_problem)

log = logging.getLogger(__name__)


def record_incoming(store: Any, data: dict[str, Any], now: str) -> tuple[dict[str, Any] | None, str | None]:
    """Store an incoming message once (a replay is the same row); (the stored row, why refused).
    ``store`` is either side's store (its ``write()`` transaction); the table is the same."""
    with store.write() as db:
        db.execute(INSERT_INCOMING_SQL, [*(data[k] for k in COLUMNS), now])
        stored = next(iter(db.query(BY_ID_SQL, [data["msg_id"]])), None)
    return stored, incoming_problem(stored, data)


def record_receipt(store: Any, data: dict[str, Any], own_direction: str, now: str) -> str | None:
    """Note a receipt for a message this side sent; why it is ignored, or None. A ``delivered``
    mark is not fsynced on its own (the sender publishes again until it is kept)."""
    sent = next(iter(store.query(BY_ID_SQL, [data["msg_id"]])), None)
    if problem := receipt_problem(sent, data, own_direction):
        return problem
    with store.write(durable=data["receipt"] != "delivered") as db:
        db.execute(RECEIPT_SQL[data["receipt"]], receipt_params(data["receipt"], data["msg_id"], now, data["reason"]))
    return None


def resend_and_announce(store: Any, own: str, other: str, publish: Any, announce_read: Any, now: Any,
                        keep: Any = lambda row: True) -> None:
    """One tick of either side: publish again what this side sent (direction ``own``) and has no
    receipt for, or was delivered but not yet read; then send the ``read`` receipts not yet sent
    for messages of direction ``other``. ``keep`` filters the due rows (an SEH's own only)."""
    due = store.query(DUE_SQL, [own, f"-{RESEND_S} seconds"])
    due += store.query(UNREAD_POLL_SQL, [own, f"-{READ_POLL_S} seconds"])
    for row in due:
        if not keep(row):
            continue
        publish(row)
        with store.write(durable=False) as db:
            db.execute(PUBLISHED_SQL, [now(), row["msg_id"]])
    for row in store.query(TO_ANNOUNCE_SQL, [other]):
        announce_read(row)
        with store.write(durable=False) as db:
            db.execute(ANNOUNCED_SQL, [row["msg_id"]])


def take_incoming(store: Any, incoming: Incoming, own_direction: str, topic: str, payload: bytes,
                  dead_letter: Any, send_receipt: Any, now: str) -> None:
    """Either side, after ``parse``: a receipt for a message this side sent is noted; a message
    for this side is stored once and answered ``delivered`` (and ``read`` when a person has
    read it already: a replay after a lost receipt); a refused one is a dead letter and, for a
    message, answered ``rejected``. Log lines carry ids only."""
    data = incoming.data
    if incoming.kind == "receipt":
        if problem := record_receipt(store, data, own_direction, now):
            log.warning("ignored a message receipt: %s", problem)
            dead_letter(topic, payload, problem)
            return
        log.info("message %s seq %d: %s", data["msg_id"], data["seq"], data["receipt"])
        return
    stored, problem = record_incoming(store, data, now)
    if problem:
        log.warning("refused message %s seq %d: %s", data["msg_id"], data["seq"], problem)
        dead_letter(topic, payload, problem)
        send_receipt(data, "rejected", problem)
        return
    log.info("message %s seq %d for rit %s", data["msg_id"], data["seq"], data["rit_id"])
    send_receipt(data, "delivered")
    if stored["read_at"]:
        send_receipt(data, "read")
