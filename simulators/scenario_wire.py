"""What a scenario sees on the wire: every form message and receipt through the broker.

A plain MQTT v5 subscriber on the broker itself (not behind the link cutter), so the
timeline shows when each message of a stream really got through, which were sent again
after a cut (same msg_id: allowed, the SEH applies it once) and which receipts came back.
Only ids, sequence numbers and statuses are noted, never form content.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable

import paho.mqtt.client as mqtt

from edge.wire.contract import TOPIC_ROOT, new_id


class WireWatch:
    def __init__(self, host: str, port: int, note: Callable[[str, str], None]):
        self.host, self.port, self.note = host, port, note
        self.published: Counter = Counter()  # msg_id -> times seen on the wire
        self.receipts: Counter = Counter()  # receipt type -> count
        self.connected = threading.Event()
        self.client = mqtt.Client(callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=f"ritlink-scenario-{new_id()[:8]}", protocol=mqtt.MQTTv5)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self._lock = threading.Lock()

    def start(self) -> WireWatch:
        try:
            self.client.connect(self.host, self.port, keepalive=10)
        except OSError as exc:
            self.note("mqtt", f"meeluisteren niet mogelijk: {exc}")
            return self
        self.client.loop_start()
        self.connected.wait(5)
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe([(f"{TOPIC_ROOT}/seh/+/from/+/rit/+", 1), (f"{TOPIC_ROOT}/vehicle/+/receipt/+", 1)])
            self.connected.set()

    def _on_message(self, client, userdata, message) -> None:
        try:
            data = json.loads(message.payload)
        except (UnicodeDecodeError, json.JSONDecodeError):
            self.note("mqtt", "onleesbaar bericht")
            return
        if not isinstance(data, dict):
            return
        with self._lock:
            if "/receipt/" in message.topic:
                self.receipts[str(data.get("type"))] += 1
                self.note("mqtt", f"SEH → tablet: {data.get('type')} seq {data.get('seq')}")
                return
            msg_id = str(data.get("msg_id"))
            self.published[msg_id] += 1
            again = " (opnieuw, zelfde msg_id)" if self.published[msg_id] > 1 else ""
            self.note("mqtt", f"tablet → SEH: seq {data.get('seq')} {data.get('status')} "
                              f"{data.get('kind')} {msg_id[:8]}{again}")

    def summary(self) -> str:
        with self._lock:
            resent = sum(n - 1 for n in self.published.values() if n > 1)
            receipts = ", ".join(f"{n} {t}" for t, n in sorted(self.receipts.items())) or "geen"
            return (f"{len(self.published)} formulierberichten over de broker ({resent} keer opnieuw verzonden), "
                    f"ontvangstbewijzen: {receipts}")
