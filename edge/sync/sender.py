"""Forward the outbox to the broker and take the SEH's receipts back.

The outbox in SQLite is the only copy that matters; paho's in-memory queue is a
convenience. Per stream only the oldest unacknowledged message is on the wire, so order
holds across reconnects and restarts; everything saved meanwhile folds into one pending
patch (edge/store/outbox.py). A message published by an earlier process and never acknowledged
is published again with the same msg_id: the SEH drops the duplicate.

What comes back (receipts, SEH-terugkoppeling) is hostile until parsed within limits: each
subscription has one guarded entry point, a refused message is kept as a dead letter and
acknowledged, and no exception reaches paho's network thread (one that does ends it for good).
A receipt counts only from the SEH its message was sent to. A receipt that arrives while the
store is full is kept in memory and applied once there is room again.
"""

from __future__ import annotations

import json
import logging
import threading
import time

import paho.mqtt.client as mqtt

from edge.config import EdgeSettings
from edge.store.db import is_disk_full
from edge.wire.contract import (SCHEMA, ContractError, Receipt, feedback_topic, live_topic, parse_receipt,
                                receipt_topic, receipt_topic_filter, rit_topic)
from edge.sync.feedback_inbox import FeedbackError, feedback_msg_id, parse_feedback
from edge.sync import seh_status_inbox
from edge.wire import seh_status
from edge.sync.messages_channel import MessageChannel
from edge.wire.contract import utc_now
from edge.wire.dead_letter import DeadLetterBook
from edge.sync.mqtt_client import connect_async, loop_alive, make_client, publish_properties
from edge.store.rit_store import EdgeStore

log = logging.getLogger("ritlink.sync")

# A message on the wire this long without PUBACK is published again (same msg_id).
RESEND_AFTER_S = 15.0
# A message with a PUBACK but no "delivered" receipt this long is published again: a broker
# can acknowledge and then lose a message (killed before its autosave), and the SEH cannot
# ask for what it never heard of when no later message of the stream shows the gap.
REDELIVER_AFTER_S = 10.0
# Receipts kept in memory while the store is full; beyond this the oldest go (the SEH answers
# a redelivered message again, so a lost "delivered" comes back by itself).
MAX_PENDING_RECEIPTS = 10_000
# Acks of mids this sender never mapped (live values, receipts): pruned past this count to
# those younger than EARLY_ACK_KEEP_S (a real early ack is used within milliseconds).
MAX_EARLY_ACKS = 1_000
EARLY_ACK_KEEP_S = 30.0


class MqttSync:
    def __init__(self, store: EdgeStore, settings: EdgeSettings):
        self.store = store
        self.settings = settings
        self.vehicle_id = settings.vehicle_id
        self.client = make_client(f"ritlink-edge-{self.vehicle_id}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._mid_to_msg: dict[int, str] = {}
        # mid -> (reason code, when): a PUBACK that came before publish() returned. The live
        # topic and receipts publish on this client too; their acks land here and are pruned,
        # and only an ack newer than the publish call counts (mids wrap at 65,535).
        self._early_acks: dict[int, tuple[int, float]] = {}
        self._on_wire: dict[str, float] = {}  # msg_id -> monotonic time handed to paho
        self._redelivered: dict[str, float] = {}  # msg_id -> monotonic time of the last redelivery
        self._pending_receipts: dict[tuple[str, str, str], Receipt] = {}  # (seh, msg_id, type) -> receipt
        self.dead_letters = DeadLetterBook(store.dead_letter, store.dead_letter_count, log)
        self._thread = threading.Thread(target=self._run, name="outbox-sender", daemon=True)
        self.messages = MessageChannel(store, self.vehicle_id, lambda t, p: self.client.publish(t, p, qos=1),
                                       self.dead_letters.add)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> MqttSync:
        broker = self.settings.broker
        connect_async(self.client, broker.host, broker.port, self.settings.tls)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(3)
        self.client.disconnect()
        self.client.loop_stop()

    def wake(self) -> None:
        """Called after every outbox write: send without waiting for the next tick."""
        self._wake.set()

    # -- paho callbacks (network thread) ----------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused connection: %s", reason_code)
            return
        client.subscribe([(receipt_topic_filter(self.vehicle_id), 1), (feedback_topic(self.vehicle_id, "+"), 1),
                          (seh_status.status_topic_filter(), 1), (self.messages.topic_filter(), 1)])
        self.connected.set()
        log.info("broker connected (session present: %s)", flags.session_present)
        self._wake.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        if self.connected.is_set():
            log.info("broker disconnected: %s", reason_code)
        self.connected.clear()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._lock:
            msg_id = self._mid_to_msg.pop(mid, None)
            if msg_id is None:
                now = time.monotonic()
                self._early_acks[mid] = (reason_code.value, now)
                if len(self._early_acks) > MAX_EARLY_ACKS:
                    self._early_acks = {m: a for m, a in self._early_acks.items() if now - a[1] < EARLY_ACK_KEEP_S}
                return
        self._acknowledged(msg_id, reason_code.value)

    def _on_message(self, client, userdata, message) -> None:
        """The one entry point of every subscription: returns normally whatever arrives."""
        try:
            if message.topic.endswith("/status"):
                self._on_seh_status(message)
            elif "/feedback/" in message.topic:
                self._on_feedback(message)
            elif "/message/" in message.topic:
                self.messages.on_message(message.topic, message.payload)
            else:
                self._on_receipt(message.topic, message.payload)
        except Exception as exc:  # the last guard: the exception type only, never content
            kind = "status" if message.topic.endswith("/status") else next(
                (k for k in ("feedback", "message") if f"/{k}/" in message.topic), "receipt")
            log.error("handler failed on a %s message: %s", kind, type(exc).__name__)
            self.dead_letters.add(message.topic, message.payload, f"internal: {type(exc).__name__}")

    def _on_receipt(self, topic: str, payload: bytes) -> None:
        seh_id = topic.rsplit("/", 1)[-1]
        try:
            receipt = parse_receipt(payload, self.settings.max_message_bytes)
            sent = self.store.destination_of(receipt.msg_id) if receipt.msg_id else None
            if sent is not None and (sent["seh_id"], sent["rit_id"]) != (seh_id, receipt.rit_id):
                raise ContractError("receipt: message was sent to another SEH or rit")
        except ContractError as exc:
            log.warning("refused a receipt from %s: %s", seh_id, exc.reason)
            self.dead_letters.add(topic, payload, exc.reason)
            return
        if sent is None and receipt.type != "read":
            # e.g. "rejected" for a message the SEH could not read, or a rit purged since.
            log.info("receipt %s from %s for unknown msg %s", receipt.type, seh_id, receipt.msg_id or "?")
            return
        self._apply_or_keep(seh_id, receipt)

    def _apply_or_keep(self, seh_id: str, receipt: Receipt) -> bool:
        try:
            self.apply_receipt(seh_id, receipt)
            return True
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            key = (seh_id, receipt.msg_id, receipt.type)
            if key not in self._pending_receipts:
                log.warning("store full: receipt %s for msg %s kept until there is room", receipt.type,
                            receipt.msg_id)
            with self._lock:
                self._pending_receipts[key] = receipt
                while len(self._pending_receipts) > MAX_PENDING_RECEIPTS:
                    self._pending_receipts.pop(next(iter(self._pending_receipts)))
            return False

    def _retry_receipts(self) -> None:
        """Sender thread: apply receipts kept while the store was full, oldest first."""
        with self._lock:
            pending = list(self._pending_receipts.items())
        for key, receipt in pending:
            if not self._apply_or_keep(key[0], receipt):
                return  # still full: try again on the next tick
            with self._lock:
                if self._pending_receipts.get(key) is receipt:
                    del self._pending_receipts[key]

    def _on_seh_status(self, message) -> None:
        """SEH-status (retained): keep the last good one per SEH; a refused one leaves it as it was."""
        seh_id = seh_status.seh_of_topic(message.topic)
        if not message.payload:
            return  # a retained status cleared on the broker: the last known one stays, and ages
        try:
            if seh_id is None:
                raise seh_status.StatusError("topic: not a status topic")
            status = seh_status.parse_status(message.payload, seh_id)
        except seh_status.StatusError as exc:
            log.warning("refused a status from %s: %s", (seh_id or "?")[:64], exc.reason)
            self.dead_letters.add(message.topic, message.payload, exc.reason)
            return
        try:
            changed = seh_status_inbox.keep(self.store, status)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            log.warning("store full: status of %s not kept; the broker holds it retained", seh_id)
            return
        if changed:
            log.info("SEH-status of %s: %s (updated %s)", seh_id, status.state, status.updated_at)

    def _on_feedback(self, message) -> None:
        """SEH-terugkoppeling: keep it once, then confirm it on the SEH's Response Topic."""
        seh_id = message.topic.rsplit("/", 1)[-1]
        expected = f"ritlink/v1/seh/{seh_id}/from/{self.vehicle_id}/feedback-receipt"
        try:
            body = parse_feedback(message.payload, seh_id, self.vehicle_id, self.settings.max_message_bytes)
        except FeedbackError as exc:
            log.warning("refused feedback from %s: %s", seh_id, exc.reason)
            self.dead_letters.add(message.topic, message.payload, exc.reason)
            msg_id = feedback_msg_id(message.payload) or _correlation(message)
            if msg_id:  # the SEH stops resending what this tablet will never accept
                refusal = Receipt(msg_id=msg_id, rit_id="", seq=0, type="rejected", at=utc_now(),
                                  reason=exc.reason[:200])
                self.client.publish(expected, refusal.to_json(), qos=1)
            return
        try:
            fresh = self.store.store_feedback(body)
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            log.warning("store full: feedback %s not kept yet; the SEH sends it again", body["msg_id"])
            return
        log.info("feedback %s for rit %s from %s%s", body["msg_id"], body["rit_id"], seh_id,
                 "" if fresh else " (again)")
        reply = getattr(message.properties, "ResponseTopic", None)
        receipt = Receipt(msg_id=body["msg_id"], rit_id=body["rit_id"], seq=0, type="delivered", at=utc_now())
        self.client.publish(reply if reply == expected else expected, receipt.to_json(), qos=1)

    # -- health -------------------------------------------------------------------------
    def alive(self) -> bool:
        """paho's network thread and the sender thread both run (health and the watchdog)."""
        return loop_alive(self.client) and self._thread.is_alive()

    def health(self) -> dict:
        return {"mqtt_thread": "alive" if loop_alive(self.client) else "dead",
                "sender_thread": "alive" if self._thread.is_alive() else "dead",
                "dead_letters": self.dead_letters.count(),
                "pending_receipts": len(self._pending_receipts),
                "refused_by_reason": dict(self.dead_letters.refused)}

    def publish_live(self, seh_id: str, payload: dict) -> bool:
        """Latest vitals and position for the SEH's board: QoS 0, never queued, never stored
        (design.md: <= 1 per 5 s). False while offline: the next one will be fresher anyway."""
        if not self.connected.is_set():
            return False
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        return self.client.publish(live_topic(seh_id, self.vehicle_id), data, qos=0).rc == mqtt.MQTT_ERR_SUCCESS

    # -- receipts ---------------------------------------------------------------------
    def apply_receipt(self, seh_id: str, receipt: Receipt) -> None:
        log.info("receipt %s for msg %s seq %d from %s", receipt.type, receipt.msg_id, receipt.seq, seh_id)
        if receipt.type == "delivered":
            self.store.advance(receipt.msg_id, "delivered")
        elif receipt.type == "read":
            self.store.mark_read_up_to(receipt.rit_id, seh_id, receipt.seq)
        elif receipt.type == "rejected":
            self.store.advance(receipt.msg_id, "rejected", receipt.reason)
        elif receipt.type == "resync":
            self.store.request_snapshot(receipt.rit_id, seh_id)
            self._wake.set()

    # -- sending (sender thread) ------------------------------------------------------
    def _acknowledged(self, msg_id: str, reason_code: int) -> None:
        """Runs on paho's network thread, which must never die: a store that cannot write
        (full) leaves the message "saved"; it goes again and the SEH keeps it once."""
        try:
            if reason_code >= 0x80:
                # The broker refused it (e.g. not authorised). Leave it queued and say so.
                log.error("broker refused msg %s (reason code %#x)", msg_id, reason_code)
                return
            self.store.advance(msg_id, "sent")
        except Exception as exc:
            log.error("could not mark msg %s sent (%s): it goes again", msg_id, type(exc).__name__)
        finally:
            with self._lock:  # after the state is saved: the sender must not see it as unsent
                self._on_wire.pop(msg_id, None)
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            try:
                if self._pending_receipts:
                    self._retry_receipts()
                if not self.connected.is_set():
                    continue
                self._send_ready()
                self.messages.tick()
            except Exception:  # keep the sender alive whatever one message does
                log.exception("outbox sender error")
                self._stop.wait(1.0)

    def _send_ready(self) -> None:
        now = time.monotonic()
        for row in self.store.messages_to_send():
            with self._lock:
                handed_at = self._on_wire.get(row["msg_id"])
            if handed_at is not None and now - handed_at < RESEND_AFTER_S:
                continue  # on the wire; paho resends it on reconnect, PUBACK will follow
            if row["published_at"] is None:
                row = self.store.freeze(row["msg_id"])
            self._publish(row)
        overdue = self.store.sent_not_delivered(REDELIVER_AFTER_S)
        # Forget messages that got their receipt, so a long shift does not grow this map.
        self._redelivered = {r["msg_id"]: self._redelivered[r["msg_id"]] for r in overdue
                             if r["msg_id"] in self._redelivered}
        for row in overdue:
            last = self._redelivered.get(row["msg_id"])
            if last is None or now - last >= REDELIVER_AFTER_S:
                self._redelivered[row["msg_id"]] = now
                log.info("no receipt for msg %s seq %d: sending it again", row["msg_id"], row["seq"])
                self._publish(row)

    def _publish(self, row: dict) -> None:
        envelope = {
            "schema": SCHEMA,
            "msg_id": row["msg_id"],
            "rit_id": row["rit_id"],
            "vehicle_id": self.vehicle_id,
            "seh_id": row["seh_id"],
            "seq": row["seq"],
            "kind": row["kind"],
            "status": row["status"],
            "body": json.loads(row["body_json"]),
            "form_sha256": row["form_sha256"],
            "sent_at": utc_now(),
        }
        payload = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        props = publish_properties(receipt_topic(self.vehicle_id, row["seh_id"]), row["msg_id"])
        with self._lock:
            self._on_wire[row["msg_id"]] = publish_called = time.monotonic()
        info = self.client.publish(rit_topic(row["seh_id"], self.vehicle_id, row["rit_id"]), payload, 1, False, props)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            log.warning("publish of msg %s failed: %s", row["msg_id"], mqtt.error_string(info.rc))
            with self._lock:
                self._on_wire.pop(row["msg_id"], None)
            return
        with self._lock:
            early = self._early_acks.pop(info.mid, None)
            if early is None or early[1] < publish_called:  # none, or a stale one of an earlier mid
                early = None
                self._mid_to_msg[info.mid] = row["msg_id"]
        if early is not None:
            self._acknowledged(row["msg_id"], early[0])
        log.debug("published msg %s seq %d to %s", row["msg_id"], row["seq"], row["seh_id"])


def _correlation(message) -> str | None:
    data = getattr(getattr(message, "properties", None), "CorrelationData", None)
    try:
        text = bytes(data).decode("utf-8") if data else None
    except UnicodeDecodeError:
        return None
    return text if text and len(text) <= 64 else None
