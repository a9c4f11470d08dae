"""Short messages over MQTT on the tablet: publish the crew's until the SEH's ``delivered``,
keep the SEH's once per msg_id and answer them, announce what the crew has read.

Runs inside edge/sync/sender.MqttSync: ``on_message`` from paho's network thread (guarded
there), ``tick`` from the sender thread. The contract is edge/wire/messages.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from edge.wire import messages as wire
from edge.wire.contract import utc_now

log = logging.getLogger("ritlink.messages")


class MessageChannel:
    def __init__(self, store: Any, vehicle_id: str, publish: Callable[[str, bytes], None],
                 dead_letter: Callable[[str, bytes, str], None]):
        self.store = store
        self.vehicle_id = vehicle_id
        self.publish = publish  # (topic, payload) at QoS 1
        self.dead_letter = dead_letter

    def topic_filter(self) -> str:
        return wire.vehicle_filter(self.vehicle_id)

    # -- incoming (paho's network thread) -------------------------------------------------
    def on_message(self, topic: str, payload: bytes) -> None:
        try:
            incoming = wire.parse(payload, topic)
            ids = wire.topic_ids(topic)
            if ids[1] != self.vehicle_id:
                raise wire.MessageError("topic: another vehicle")
        except wire.MessageError as exc:
            log.warning("refused a message payload: %s", exc.reason)
            self.dead_letter(topic, payload, exc.reason)
            self._answer_refused(topic, payload, exc.reason)
            return
        if incoming.kind == "receipt":
            self._receipt(topic, payload, incoming.data)
        else:
            self._message(topic, payload, incoming.data)

    def _message(self, topic: str, payload: bytes, data: dict[str, Any]) -> None:
        with self.store.write() as db:
            db.execute(wire.INSERT_INCOMING_SQL, [*(data[k] for k in wire.COLUMNS), utc_now()])
            stored = next(iter(db.query(wire.BY_ID_SQL, [data["msg_id"]])), None)
        problem = wire.incoming_problem(stored, data)
        if problem:
            log.warning("refused message %s seq %d: %s", data["msg_id"], data["seq"], problem)
            self.dead_letter(topic, payload, problem)
            self._send_receipt(data, "rejected", problem)
            return
        log.info("message %s seq %d for rit %s from %s", data["msg_id"], data["seq"], data["rit_id"], data["seh_id"])
        self._send_receipt(data, "delivered")
        if stored["read_at"]:
            self._send_receipt(data, "read")

    def _receipt(self, topic: str, payload: bytes, data: dict[str, Any]) -> None:
        sent = next(iter(self.store.query(wire.BY_ID_SQL, [data["msg_id"]])), None)
        if problem := wire.receipt_problem(sent, data, wire.TO_SEH):
            log.warning("ignored a message receipt: %s", problem)
            self.dead_letter(topic, payload, problem)
            return
        with self.store.write(durable=data["receipt"] != "delivered") as db:
            db.execute(wire.RECEIPT_SQL[data["receipt"]],
                       wire.receipt_params(data["receipt"], data["msg_id"], utc_now(), data["reason"]))
        log.info("message %s seq %d: %s", data["msg_id"], data["seq"], data["receipt"])

    def _answer_refused(self, topic: str, payload: bytes, reason: str) -> None:
        """Refused messages from the SEH are answered ``rejected`` (it stops resending)."""
        ids = wire.topic_ids(topic)
        msg_id = wire.msg_id_of(payload)
        if ids is None or msg_id is None or ids[1] != self.vehicle_id:
            return
        row = {"msg_id": msg_id, "rit_id": "?", "seh_id": ids[0], "vehicle_id": self.vehicle_id, "seq": 1}
        self._send_receipt(row, "rejected", reason)

    def _send_receipt(self, row: dict[str, Any], kind: str, reason: str | None = None) -> None:
        self.publish(wire.to_seh_topic(row["seh_id"], self.vehicle_id),
                     wire.receipt_payload(row, kind, utc_now(), reason))

    # -- outgoing (sender thread, while connected) ------------------------------------------
    def tick(self) -> None:
        due = self.store.query(wire.DUE_SQL, [wire.TO_SEH, f"-{wire.RESEND_S} seconds"])
        due += self.store.query(wire.UNREAD_POLL_SQL, [wire.TO_SEH, f"-{wire.READ_POLL_S} seconds"])
        for row in due:
            self.publish(wire.to_seh_topic(row["seh_id"], self.vehicle_id), wire.message_payload(row))
            with self.store.write(durable=False) as db:
                db.execute(wire.PUBLISHED_SQL, [utc_now(), row["msg_id"]])
        for row in self.store.query(wire.TO_ANNOUNCE_SQL, [wire.TO_VEHICLE]):
            self._send_receipt(row, "read")
            with self.store.write(durable=False) as db:
                db.execute(wire.ANNOUNCED_SQL, [row["msg_id"]])
