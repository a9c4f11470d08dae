"""The SEH's MQTT side: take the vehicles' form messages, apply them, send receipts.

A message is acknowledged to the broker only after it is applied (committed): paho runs with
manual acks, paho's network thread only queues the message, and one worker thread applies
whatever has queued up in one write transaction (one fsync for the lot), then sends the
receipts and the acks. A crash before the commit means the broker delivers the messages
again, and the store answers a duplicate without applying it twice. Several receiver
processes may share one feed with a shared subscription and one database (seh/store.py).

Every payload is hostile until parsed within limits (edge/wire/safe_json) and checked against
the contract and the form's shape. Each subscription has one guarded entry point: a refused
message is answered ``rejected`` where a sender can be answered, kept as a dead letter and
acknowledged; no exception may reach paho's network thread, because one that does ends the
thread, the message is never acknowledged, and the broker hands it back after every restart.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from edge.store.db import is_disk_full
from edge.wire import safe_json
from edge.wire.contract import (ContractError, Receipt, live_problem, live_topic, parse_envelope, parse_receipt,
                                rit_topic, rit_topic_filter)
from edge.wire.contract import utc_now
from edge.wire.dead_letter import DeadLetterBook
from edge.sync.mqtt_client import connect_async, loop_alive, make_client, publish_properties
from seh import retention
from seh.feedback import feedback_receipt_filter, feedback_receipt_topic, publish_topic
from seh.messages import SehMessages
from seh.store import ReceiptToSend, SehStore

log = logging.getLogger("ritlink.seh")

GAP_WAIT_S = 3.0  # how long a patch may wait for its predecessor before the SEH asks for a snapshot
BATCH_MAX = 200  # messages applied in one transaction at most (bounds the write lock's hold)


class SehReceiver:
    def __init__(self, store: SehStore, seh_id: str, host: str, port: int,
                 instance: str = "1", shared_group: str | None = None, tls=None,
                 max_message_bytes: int = safe_json.DEFAULT_MAX_BYTES,
                 keep_finished_s: float = retention.DEFAULT_KEEP_S, purge_every_s: float = retention.PURGE_EVERY_S,
                 messages: SehMessages | None = None):
        self.store = store
        self.instance = f"{seh_id}-{instance}"
        self.keep_finished_s, self.purge_every_s = keep_finished_s, purge_every_s
        self._inbox: queue.Queue = queue.Queue()
        self._caught_up_at = utc_now()  # when the inbox was last empty after applying (gap watch)
        self.max_message_bytes = max_message_bytes
        self.tls = tls
        self.seh_id = seh_id
        self.host, self.port = host, port
        self.messages = messages or SehMessages(store)
        self.messages.publish = lambda topic, payload: self.client.publish(topic, payload, qos=1)
        self.dead_letters = DeadLetterBook(store.dead_letter, store.dead_letter_count, log)
        self.messages.dead_letter = self.dead_letters.add
        self.topic_filters = [rit_topic_filter(seh_id), feedback_receipt_filter(seh_id), self.messages.topic_filter()]
        if shared_group:
            self.topic_filters = [f"$share/{shared_group}/{f}" for f in self.topic_filters]
        # Live vitals and position: every receiver process keeps its own latest copy (QoS 0).
        self.topic_filters.append(live_topic(seh_id, "+"))
        self._live: dict[str, dict] = {}
        self.client = make_client(f"ritlink-seh-{seh_id}-{instance}")
        self.client.manual_ack_set(True)  # acked after the commit (see the module docstring)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._gap_thread = threading.Thread(target=self._watch_gaps, name="seh-gaps", daemon=True)
        self._apply_thread = threading.Thread(target=self._apply_loop, name="seh-apply", daemon=True)
        self._purge_thread = threading.Thread(target=self._purge_loop, name="seh-purge", daemon=True)
        self.counters: dict[str, int] = {}  # receipts sent by type, plus "held"
        self.batches = {"count": 0, "messages": 0, "largest": 0}  # transactions of the apply worker

    def start(self) -> SehReceiver:
        self._apply_thread.start()
        connect_async(self.client, self.host, self.port, self.tls)
        self._gap_thread.start()
        self._purge_thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._inbox.put(None)
        self._apply_thread.join(5)
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

    # -- the one entry point of every subscription ----------------------------------
    def _on_message(self, client, userdata, message) -> None:
        """Runs on paho's network thread: form messages go to the apply worker (acked after
        its commit); live messages and feedback receipts are handled and acked here."""
        if not message.topic.endswith(("/live", "/feedback-receipt", "/message")):
            self._inbox.put(message)
            return
        try:
            if message.topic.endswith("/live"):
                self._on_live(message.topic, message.payload)
            elif message.topic.endswith("/message"):
                self.messages.on_message(message.topic, message.payload)
            else:
                self._feedback_receipt(message.topic, message.payload)
        except Exception as exc:  # the last guard: log the type only, the message may hold patient data
            log.error("handler failed on a %s message: %s", _topic_kind(message.topic), type(exc).__name__)
            self.dead_letters.add(message.topic, message.payload, f"internal: {type(exc).__name__}")
        self._ack(message)

    def _ack(self, message) -> None:
        if message.qos > 0:
            try:
                self.client.ack(message.mid, message.qos)
            except Exception as exc:  # a lost connection: the broker sends it again, applied once
                log.warning("ack failed: %s", type(exc).__name__)

    def _apply_loop(self) -> None:
        """Take what has queued up (at most BATCH_MAX), apply it in one transaction, then send
        the receipts and acks. Never ends on a bad message: each is guarded on its own."""
        while not self._stop.is_set():
            first = self._inbox.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < BATCH_MAX:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._stop.set()
                    break
                batch.append(more)
            self._apply_messages(batch)
            self.batches["count"] += 1
            self.batches["messages"] += len(batch)
            self.batches["largest"] = max(self.batches["largest"], len(batch))
            if self._inbox.empty():
                self._caught_up_at = utc_now()

    def _apply_messages(self, batch: list) -> None:
        try:
            answered = self.handle_batch([(m.topic, m.payload, getattr(m, "properties", None)) for m in batch])
        except Exception as exc:
            if is_disk_full(exc):
                self.counters["store_full"] = self.counters.get("store_full", 0) + len(batch)
                log.error("store full: %d messages not applied; they are not acked, the broker sends them again",
                          len(batch))
                time.sleep(1.0)
                for message in batch:  # not acked: back in the queue after the broker's redelivery
                    self._inbox.put(message)
                return
            log.error("batch of %d failed: %s; applying one by one", len(batch), type(exc).__name__)
            answered = []
            for m in batch:
                try:
                    answered += self.handle_batch([(m.topic, m.payload, getattr(m, "properties", None))])
                except Exception as one:
                    log.error("handler failed on a %s message: %s", _topic_kind(m.topic), type(one).__name__)
                    self.dead_letters.add(m.topic, m.payload, f"internal: {type(one).__name__}")
                    answered.append([])
        for message, receipts in zip(batch, answered):
            for receipt in receipts:
                self._send(receipt)
            self._ack(message)

    def mqtt_alive(self) -> bool:
        """paho's network thread is running (it is gone for good if a callback ever raised)."""
        return loop_alive(self.client)

    def health(self) -> dict:
        return {"broker": "connected" if self.connected.is_set() else "disconnected",
                "mqtt_thread": "alive" if self.mqtt_alive() else "dead",
                "dead_letters": self.dead_letter_count()}

    def dead_letter_count(self) -> int:
        return self.dead_letters.count()

    def status(self) -> dict:
        return {**self.health(), "receipts": dict(self.counters), "refused_by_reason": dict(self.dead_letters.refused),
                "live_vehicles": len(self._live), "batches": dict(self.batches), "inbox": self._inbox.qsize()}

    def handle(self, topic: str, payload: bytes, properties=None) -> list[ReceiptToSend]:
        """Validate, apply and answer one message (a batch of one)."""
        return self.handle_batch([(topic, payload, properties)])[0]

    def handle_batch(self, messages: list[tuple[str, bytes, object]]) -> list[list[ReceiptToSend]]:
        """Validate each message, apply the valid ones in one transaction, and return per
        message the receipts to send. Log lines carry ids only, never form data."""
        answers: list[list[ReceiptToSend]] = [[] for _ in messages]
        valid: list[tuple[int, object]] = []
        for index, (topic, payload, properties) in enumerate(messages):
            parsed = self._parse(topic, payload, properties)
            if isinstance(parsed, list):
                answers[index] = parsed
            else:
                valid.append((index, parsed))
        if not valid:
            return answers
        results = self.store.apply_batch([env for _, env in valid])
        for (index, env), result in zip(valid, results):
            topic, payload, _ = messages[index]
            if isinstance(result, Exception):
                log.error("handler failed on a rit message: %s", type(result).__name__)
                self.dead_letters.add(topic, payload, f"internal: {type(result).__name__}")
                continue
            answers[index] = self._account(topic, payload, env, result)
        return answers

    def _parse(self, topic: str, payload: bytes, properties):
        """The envelope, or the receipts that refuse the message."""
        parts = topic.split("/")
        # ritlink/v1/seh/{seh}/from/{vehicle}/rit/{rit}
        if len(parts) != 8 or parts[2] != "seh" or parts[3] != self.seh_id or parts[6] != "rit":
            log.warning("refused a message on an unexpected topic")
            self.dead_letters.add(topic, payload, "topic: not a rit topic of this SEH")
            return []
        vehicle_id, rit_id = parts[5], parts[7]
        reply = self.store.reply_topic(vehicle_id)
        correlation = _correlation(properties)
        try:
            env = parse_envelope(payload, self.max_message_bytes)
            if (env.vehicle_id, str(env.rit_id), env.seh_id) != (vehicle_id, rit_id, self.seh_id):
                raise ContractError("envelope does not match its topic")
        except ContractError as exc:
            self.counters["rejected"] = self.counters.get("rejected", 0) + 1
            log.warning("rejected msg %s for rit %s from %s: %s", correlation or "?", rit_id, vehicle_id, exc.reason)
            self.dead_letters.add(topic, payload, exc.reason)
            return [ReceiptToSend(reply, correlation or "", rit_id, 0, "rejected", exc.reason)]
        return env

    def _account(self, topic: str, payload: bytes, env, receipts: list[ReceiptToSend]) -> list[ReceiptToSend]:
        vehicle_id, rit_id = env.vehicle_id, str(env.rit_id)
        for r in receipts:
            if r.poison:  # the patched form would not be a form: a dead letter too
                # (a held patch refused later is traced by its msg_id: its payload is gone by now)
                own = r.msg_id == str(env.msg_id)
                self.dead_letters.add(topic if own else rit_topic(self.seh_id, vehicle_id, r.rit_id),
                                  payload if own else r.msg_id.encode(), r.reason or "form")
            self.counters[r.type] = self.counters.get(r.type, 0) + 1
            log.info("msg %s rit %s seq %d -> %s%s", r.msg_id, r.rit_id, r.seq, r.type,
                     f" ({r.reason})" if r.reason else "")
        if not receipts:
            self.counters["held"] = self.counters.get("held", 0) + 1
            log.info("msg %s rit %s seq %d held: waiting for its predecessor", env.msg_id, rit_id, env.seq)
        return receipts

    def _on_live(self, topic: str, payload: bytes) -> None:
        """Latest vitals for the board. A live message of the wrong shape is never shown (a
        dead letter, counted); the board keeps the last good one until it goes stale."""
        vehicle_id = topic.split("/")[5]
        try:
            data = safe_json.loads_object(payload, max_bytes=self.max_message_bytes)
            if problem := live_problem(data, vehicle_id):
                raise ContractError(f"live: {problem}")
        except (safe_json.PayloadError, ContractError) as exc:
            log.warning("ignored a live message from %s: %s", vehicle_id, exc.reason)
            self.dead_letters.add(topic, payload, exc.reason)
            return
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
                for receipt in self.store.stalled_rits(GAP_WAIT_S, instance=self.instance,
                                                       caught_up_at=self._caught_up_now()):
                    log.info("gap in rit %s after seq %d: asking for a snapshot", receipt.rit_id, receipt.seq)
                    self._send(receipt)
                if self.connected.is_set():
                    self._send_feedback()
                    self.messages.tick()
            except Exception:
                log.exception("gap watch failed")

    def _caught_up_now(self) -> str:
        """Now, when nothing waits to be applied; else when the inbox was last empty."""
        return utc_now() if self._inbox.empty() else self._caught_up_at

    def _purge_loop(self) -> None:
        """The periodic retention job: small batches with pauses, never blocking the apply."""
        while not self._stop.wait(self.purge_every_s):
            try:
                counts = self.store.purge_finished(self.keep_finished_s, pause_s=0.05)
                if any(counts.values()):
                    log.info("retention: purged %d finished rits, %d dead letters", counts["rits"],
                             counts["dead_letters"])
            except Exception as exc:
                log.error("retention pass failed: %s", type(exc).__name__)

    def _send_feedback(self) -> None:
        for row in self.store.due_feedback():
            props = publish_properties(feedback_receipt_topic(self.seh_id, row["vehicle_id"]), row["msg_id"])
            self.client.publish(publish_topic(row, self.seh_id), row["body_json"].encode(), qos=1, properties=props)
            self.store.feedback_sent(row["msg_id"])
            log.info("feedback %s for rit %s sent to %s", row["msg_id"], row["rit_id"], row["vehicle_id"])

    def _feedback_receipt(self, topic: str, payload: bytes) -> None:
        """The vehicle's answer to feedback: bound to the vehicle the feedback was sent to."""
        vehicle_id = topic.split("/")[5]
        try:
            receipt = parse_receipt(payload, self.max_message_bytes)
            sent = self.store.feedback_of(receipt.msg_id)
            if sent is not None and sent["vehicle_id"] != vehicle_id:
                raise ContractError("receipt: feedback was sent to another vehicle")
        except ContractError as exc:
            log.warning("ignored a feedback receipt from %s: %s", vehicle_id, exc.reason)
            self.dead_letters.add(topic, payload, exc.reason)
            return
        if sent is None:
            log.info("feedback receipt from %s for an unknown msg %s", vehicle_id, receipt.msg_id)
        elif receipt.type == "rejected":
            self.store.feedback_refused(receipt.msg_id, receipt.reason or "rejected")
            log.warning("feedback %s refused by %s: %s", receipt.msg_id, vehicle_id, receipt.reason)
        elif self.store.feedback_receipted(receipt.msg_id):
            log.info("feedback %s receipted by the vehicle", receipt.msg_id)


def _topic_kind(topic: str) -> str:
    """``rit``, ``live``, ``feedback-receipt``: what a log line may say about a topic."""
    parts = topic.split("/")
    return parts[6] if len(parts) > 6 else "unknown"


def _correlation(properties) -> str | None:
    data = getattr(properties, "CorrelationData", None) if properties is not None else None
    if not data:
        return None
    try:
        return bytes(data).decode("utf-8")[:64]
    except UnicodeDecodeError:
        return None

