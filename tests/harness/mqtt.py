"""A plain paho client for tests that play the vehicle (or a stranger) by hand."""

from __future__ import annotations

import json
import queue
import threading

import paho.mqtt.client as mqtt

from edge.form.model import new_form
from edge.wire.canonical import form_sha256
from edge.wire.contract import SCHEMA, new_id, receipt_topic, rit_topic
from edge.wire.contract import utc_now
from edge.sync.mqtt_client import make_client, publish_properties
from tests.harness.waiting import wait_until


class TestClient:
    __test__ = False  # not a pytest class

    def __init__(self, port: int, client_id: str | None = None, host: str = "127.0.0.1", **tls):
        self.client = make_client(client_id or f"test-{new_id()[:8]}")
        self.messages: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: (not rc.is_failure) and self.connected.set()
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        if tls:
            self.client.tls_set(**tls)
        self.client.connect(host, port, keepalive=10, clean_start=True)
        self.client.loop_start()
        wait_until(self.connected.is_set, 5, what="test client connected")

    def subscribe(self, topic: str, qos: int = 1) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda c, u, mid, codes, p: done.set()
        self.client.subscribe(topic, qos)
        wait_until(done.is_set, 5, what="SUBACK")

    def publish(self, topic: str, payload: bytes, response_topic: str | None = None, correlation: str | None = None):
        info = self.client.publish(topic, payload, qos=1, properties=publish_properties(response_topic, correlation))
        info.wait_for_publish(5)
        return info

    def next_json(self, timeout: float = 5.0) -> tuple[str, dict]:
        topic, payload = self.messages.get(timeout=timeout)
        return topic, json.loads(payload)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def form_of(rit_id: str, vehicle_id: str = "ambu-99", **changes) -> dict:
    """A well-shaped ritformulier (edge/form/shape) for a hand-made message, with ``changes``."""
    form = new_form({"rit_id": rit_id, "vehicle_id": vehicle_id, "created_at": "2026-01-01T08:00:00.000Z"})
    return {**form, "status": "vooraankondiging", **changes}


def envelope(rit_id: str, seq: int, body: dict, kind: str = "snapshot", status: str = "vooraankondiging",
             vehicle_id: str = "ambu-99", seh_id: str = "seh-umcu", form: dict | None = None, **override) -> dict:
    """A well-formed message; ``form`` is the whole form after it (defaults to ``body``)."""
    data = {
        "schema": SCHEMA, "msg_id": new_id(), "rit_id": rit_id, "vehicle_id": vehicle_id, "seh_id": seh_id,
        "seq": seq, "kind": kind, "status": status, "body": body,
        "form_sha256": form_sha256(form if form is not None else body), "sent_at": utc_now(),
    }
    data.update(override)
    return data


def send(client: TestClient, data: dict, raw: bytes | None = None) -> None:
    topic = rit_topic(data["seh_id"], data["vehicle_id"], data["rit_id"])
    client.publish(topic, raw if raw is not None else json.dumps(data).encode(),
                   receipt_topic(data["vehicle_id"], data["seh_id"]), str(data["msg_id"]))
