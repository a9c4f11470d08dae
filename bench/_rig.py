"""Shared set-up for the sync benchmarks: a broker, an SEH receiver process, in-process edges
built as the tablet service builds itself (EdgeService over EdgeStore, MqttSync woken by it),
and the raw paho baseline through the same broker."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from edge.config import SehDestination, load_edge_settings
from edge.live.vitals import LiveVitals
from edge.service import EdgeService
from edge.store.audit import Actor
from edge.store.rit_store import EdgeStore
from edge.sync.mqtt_client import make_client, publish_properties
from edge.sync.sender import MqttSync
from simulators.mosquitto import Mosquitto
from simulators.processes import RitlinkProcess, write_toml

SEH = SehDestination(id="seh-umcu", name="SEH UMC Utrecht", phone="088-755 5555")
CREW = Actor("bench", "ambulancezorgverlener", "127.0.0.1")


def start_broker_and_seh(work: Path) -> tuple[Mosquitto, RitlinkProcess]:
    broker = Mosquitto(work / "broker").start()
    conf = write_toml(work / "seh.toml", {"seh_id": SEH.id, "broker_url": broker.url,
                                          "database": str(work / "seh.db"), "log_level": "warning"})
    return broker, RitlinkProcess("seh", conf, work / "seh.log").start()


@dataclass
class Vehicle:
    """One tablet in this process: the service the pages call and the sync that sends its outbox."""

    service: EdgeService
    store: EdgeStore
    sync: MqttSync

    def online(self) -> Vehicle:
        self.service.on_outbox_write = self.sync.wake
        self.service.broker_connected = self.sync.connected.is_set  # as edge/runtime.py wires it
        self.sync.start()
        self.sync.connected.wait(10)
        return self

    def offline(self) -> None:
        self.sync.stop()
        self.service.on_outbox_write = lambda: None
        self.service.broker_connected = lambda: False

    def new_rit(self, urgency: str = "A1") -> str:
        return self.service.create_rit(SEH.id, urgency, actor=CREW)["rit_id"]

    def announce(self, rit_id: str) -> str:
        return self.service.announce(rit_id, actor=CREW)["msg_id"]

    def save_vital(self, rit_id: str, value: float) -> None:
        self.service.add_vitals(rit_id, {"spo2": value}, actor=CREW)

    def fill(self, rit_id: str, entries: int) -> None:
        """A long run's form: sets of five vital signs until the rit holds about ``entries``."""
        for i in range(max(0, entries // 5)):
            self.service.add_vitals(rit_id, {"heart_rate": 80 + i % 20, "spo2": 95 + i % 4, "resp_rate": 14 + i % 6,
                                             "bp_systolic": 120 + i % 15, "bp_diastolic": 70 + i % 10}, actor=CREW)

    def newest_msg_id(self, rit_id: str) -> str:
        return self.store.query("SELECT msg_id FROM outbox WHERE rit_id = ? ORDER BY seq DESC LIMIT 1",
                                [rit_id])[0]["msg_id"]


def vehicle(work: Path, broker: Mosquitto, vehicle_id: str) -> Vehicle:
    settings = load_edge_settings(None, vehicle_id=vehicle_id, broker_url=broker.url,
                                  database=work / f"{vehicle_id}.db", sehs=[SEH])
    store = EdgeStore(settings.database)
    return Vehicle(EdgeService(settings, store, LiveVitals()), store, MqttSync(store, settings))


def wait_delivered(store: EdgeStore, msg_id: str, timeout_s: float = 10.0) -> float | None:
    """Seconds until the message's state is delivered (polled every 0.5 ms), None on timeout."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        state = store.query("SELECT state FROM outbox WHERE msg_id = ?", [msg_id])[0]["state"]
        if state in ("delivered", "read"):
            return time.perf_counter() - started
        time.sleep(0.0005)
    return None


class RawPair:
    """The baseline: a plain paho requester and responder (both TCP_NODELAY) on the same broker,
    QoS 1 there and back; what any MQTT request/response costs before ritlink does anything."""

    def __init__(self, port: int, name: str = "bench"):
        self.got = threading.Event()
        self.responder, self.requester = make_client(f"{name}-responder"), make_client(f"{name}-requester")
        self.responder.on_message = lambda c, u, m: c.publish(m.properties.ResponseTopic, m.payload, qos=1)
        self.requester.on_message = lambda c, u, m: self.got.set()
        self.topic = f"{name}/request"
        subscribed = threading.Event()
        self.requester.on_subscribe = lambda *a: subscribed.set()
        for client, topic in ((self.responder, self.topic), (self.requester, f"{name}/response")):
            client.connect("127.0.0.1", port)
            client.subscribe(topic, qos=1)
            client.loop_start()
        subscribed.wait(5)
        time.sleep(0.2)  # the responder's subscription too

    def round_trips(self, rounds: int, payload: bytes = b"x" * 1000) -> list[float]:
        samples = []
        props = publish_properties(self.topic.replace("request", "response"))
        for _ in range(rounds):
            self.got.clear()
            started = time.perf_counter()
            self.requester.publish(self.topic, payload, qos=1, properties=props)
            if self.got.wait(5):
                samples.append((time.perf_counter() - started) * 1000)
        return samples

    def close(self) -> None:
        for client in (self.responder, self.requester):
            client.disconnect()
            client.loop_stop()
