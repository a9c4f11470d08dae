"""The SEH's MQTT side: take the vehicles' form messages, apply them, send receipts.

The message is applied (committed) inside on_message, before paho acknowledges it to the
broker: a crash in between means the broker delivers it again, and the store answers the
duplicate without applying it twice. Several receiver processes may share one feed with a
shared subscription and one database (see seh/store.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time

from edge.wire.contract import ContractError, Receipt, live_topic, parse_envelope, rit_topic_filter
from edge.wire.contract import utc_now
from edge.sync.mqtt_client import connect_async, make_client, publish_properties
from seh.feedback import feedback_receipt_filter, feedback_receipt_topic, publish_topic
from seh.store import ReceiptToSend, SehStore

log = logging.getLogger("ritlink.seh")

GAP_WAIT_S = 3.0  # how long a patch may wait for its predecessor before the SEH asks for a snapshot


class SehReceiver:
    def __init__(self, store: SehStore, seh_id: str, host: str, port: int,
                 instance: str = "1", shared_group: str | None = None, tls=None):
        self.store = store
        self.tls = tls
        self.seh_id = seh_id
        self.host, self.port = host, port
        self.topic_filters = [rit_topic_filter(seh_id), feedback_receipt_filter(seh_id)]
        if shared_group:
            self.topic_filters = [f"$share/{shared_group}/{f}" for f in self.topic_filters]
        # Live vitals and position: every receiver process keeps its own latest copy (QoS 0).
        self.topic_filters.append(live_topic(seh_id, "+"))
        self._live: dict[str, dict] = {}
        self.client = make_client(f"ritlink-seh-{seh_id}-{instance}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._gap_thread = threading.Thread(target=self._watch_gaps, name="seh-gaps", daemon=True)
        self.counters: dict[str, int] = {}  # receipts sent by type, plus "held"

    def start(self) -> SehReceiver:
        connect_async(self.client, self.host, self.port, self.tls)
        self._gap_thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._gap_thread.join(3)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused connection: %s", reason_code)
            return
        client.subscribe([(topic_filter, 1) for topic_filter in self.topic_filters])
        self.connected.set()
        log.info("broker connected, subscribed for %s", self.seh_id)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        log.info("broker disconnected: %s", reason_code)

    def _on_message(self, client, userdata, message) -> None:
        if message.topic.endswith("/live"):
            self._on_live(message.topic, message.payload)
            return
        if message.topic.endswith("/feedback-receipt"):
            self._feedback_receipt(message.payload)
            return
        for receipt in self.handle(message.topic, message.payload, getattr(message, "properties", None)):
            self._send(receipt)

    def handle(self, topic: str, payload: bytes, properties=None) -> list[ReceiptToSend]:
        """Validate, apply and answer one message. Log lines carry ids only, never form data."""
        parts = topic.split("/")
        # ritlink/v1/seh/{seh}/from/{vehicle}/rit/{rit}
        if len(parts) != 8 or parts[2] != "seh" or parts[3] != self.seh_id or parts[6] != "rit":
            log.warning("ignored message on unexpected topic")
            return []
        vehicle_id, rit_id = parts[5], parts[7]
        reply = self.store.reply_topic(vehicle_id)
        correlation = _correlation(properties)
        try:
            env = parse_envelope(payload)
            if (env.vehicle_id, str(env.rit_id), env.seh_id) != (vehicle_id, rit_id, self.seh_id):
                raise ContractError("envelope does not match its topic")
        except ContractError as exc:
            self.counters["rejected"] = self.counters.get("rejected", 0) + 1
            log.warning("rejected msg %s for rit %s from %s: %s", correlation or "?", rit_id, vehicle_id, exc.reason)
            return [ReceiptToSend(reply, correlation or "", rit_id, 0, "rejected", exc.reason)]
        receipts = self.store.apply(env)
        for r in receipts:
            self.counters[r.type] = self.counters.get(r.type, 0) + 1
            log.info("msg %s rit %s seq %d -> %s%s", r.msg_id, r.rit_id, r.seq, r.type,
                     f" ({r.reason})" if r.reason else "")
        if not receipts:
            self.counters["held"] = self.counters.get("held", 0) + 1
            log.info("msg %s rit %s seq %d held: waiting for its predecessor", env.msg_id, rit_id, env.seq)
        return receipts

    def _on_live(self, topic: str, payload: bytes) -> None:
        vehicle_id = topic.split("/")[5]
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError):
            log.warning("ignored malformed live message from %s", vehicle_id)
            return
        if isinstance(data, dict):
            self._live[vehicle_id] = {"received_at": utc_now(), "received": time.monotonic(), "data": data}

    def live_for(self, vehicle_id: str, max_age_s: float = 30.0) -> dict | None:
        """The vehicle's latest live vitals/position if fresh enough to show, else None."""
        latest = self._live.get(vehicle_id)
        if latest is None or time.monotonic() - latest["received"] > max_age_s:
            return None
        return {"received_at": latest["received_at"], **latest["data"]}

    def mark_read(self, rit_id: str) -> bool:
        """Send the ``read`` receipt for what a person at the SEH has just opened."""
        receipt = self.store.read_receipt(rit_id)
        if receipt is None:
            return False
        log.info("rit %s read at seq %d", rit_id, receipt.seq)
        self._send(receipt)
        return True

    def _send(self, receipt: ReceiptToSend) -> None:
        body = Receipt(msg_id=receipt.msg_id, rit_id=receipt.rit_id, seq=receipt.seq, type=receipt.type,
                       at=utc_now(), reason=receipt.reason)
        props = publish_properties(correlation=receipt.msg_id or None)
        self.client.publish(receipt.topic, body.to_json(), qos=1, properties=props)

    def _watch_gaps(self) -> None:
        """Once a second: ask for snapshots where a gap has lasted, (re)send due feedback."""
        while not self._stop.wait(1.0):
            try:
                for receipt in self.store.stalled_rits(GAP_WAIT_S):
                    log.info("gap in rit %s after seq %d: asking for a snapshot", receipt.rit_id, receipt.seq)
                    self._send(receipt)
                if self.connected.is_set():
                    self._send_feedback()
            except Exception:
                log.exception("gap watch failed")

    def _send_feedback(self) -> None:
        for row in self.store.due_feedback():
            props = publish_properties(feedback_receipt_topic(self.seh_id, row["vehicle_id"]), row["msg_id"])
            self.client.publish(publish_topic(row, self.seh_id), row["body_json"].encode(), qos=1, properties=props)
            self.store.feedback_sent(row["msg_id"])
            log.info("feedback %s for rit %s sent to %s", row["msg_id"], row["rit_id"], row["vehicle_id"])

    def _feedback_receipt(self, payload: bytes) -> None:
        try:
            msg_id = Receipt.model_validate_json(payload).msg_id
        except ValueError:
            log.warning("ignored malformed feedback receipt")
            return
        if self.store.feedback_receipted(msg_id):
            log.info("feedback %s receipted by the vehicle", msg_id)


def _correlation(properties) -> str | None:
    data = getattr(properties, "CorrelationData", None) if properties is not None else None
    if not data:
        return None
    try:
        return bytes(data).decode("utf-8")[:64]
    except UnicodeDecodeError:
        return None

