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
from edge.wire import messages_exchange as exchange
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
        exchange.take_incoming(self.store, incoming, wire.TO_SEH, topic, payload, self.dead_letter, self._send_receipt,
                           utc_now())

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
        exchange.resend_and_announce(
            self.store, wire.TO_SEH, wire.TO_VEHICLE,
            lambda row: self.publish(wire.to_seh_topic(row["seh_id"], self.vehicle_id), wire.message_payload(row)),
            lambda row: self._send_receipt(row, "read"), utc_now)
