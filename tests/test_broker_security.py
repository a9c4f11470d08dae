"""TLS with one certificate per vehicle and per SEH, and ACLs from the MQTT contract, on a
real mosquitto: each client reaches exactly its own topics."""

from __future__ import annotations

import json
import queue
import ssl

import paho.mqtt.client as mqtt
import pytest

from edge.ops.certs import broker_tls_config, make_all
from edge.wire.contract import new_id, receipt_topic, receipt_topic_filter, rit_topic, rit_topic_filter
from edge.sync.mqtt_client import make_client
from simulators.mosquitto import Mosquitto, free_port
from tests.harness.procs import RitlinkProcess, run_ritlink, write_toml
from tests.harness.waiting import wait_until

VEHICLES, SEHS = ["ambu-01", "ambu-02"], ["seh-umcu", "seh-antonius"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki")
    make_all(folder, VEHICLES, SEHS)
    return folder


@pytest.fixture
def tls_broker(tmp_path, pki):
    port = free_port()
    broker = Mosquitto(tmp_path / "broker", port=port, listener_config=broker_tls_config(pki, port)).start()
    yield broker
    broker.stop()


class Client:
    def __init__(self, broker, pki, name: str | None):
        self.inbox: queue.Queue = queue.Queue()
        self.result: queue.Queue = queue.Queue()
        self.client = make_client(f"{name or 'anonymous'}-{new_id()[:6]}")
        ca = str(pki / "ca.crt")
        if name:
            self.client.tls_set(ca_certs=ca, certfile=str(pki / f"{name}.crt"), keyfile=str(pki / f"{name}.key"))
        else:
            self.client.tls_set(ca_certs=ca)
        self.client.on_connect = lambda c, u, f, rc, p: self.result.put(rc)
        self.client.on_message = lambda c, u, m: self.inbox.put((m.topic, m.payload))
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.result.put(codes)

    def connect(self, port: int):
        try:
            self.client.connect("127.0.0.1", port, keepalive=5)
        except (ssl.SSLError, OSError) as exc:
            return exc
        self.client.loop_start()
        try:
            return self.result.get(timeout=5)
        except queue.Empty:
            return "no CONNACK"

    def subscribe(self, topic: str):
        self.client.subscribe(topic, qos=1)
        return self.result.get(timeout=5)

    def publish(self, topic: str, payload: bytes = b"{}"):
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(5)
        return info

    def got_within(self, seconds: float) -> list:
        try:
            return [self.inbox.get(timeout=seconds)]
        except queue.Empty:
            return []

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def connect(tls_broker, pki):
    clients = []

    def make(name: str | None):
        client = Client(tls_broker, pki, name)
        clients.append(client)
        return client, client.connect(tls_broker.port)

    yield make
    for client in clients:
        client.close()


def test_acl_file_gives_each_client_only_its_topics():
    from edge.ops.certs import acl_text

    text = acl_text(["ambu-01"], ["seh-umcu"])
    assert "user ambu-01\ntopic write ritlink/v1/seh/+/from/ambu-01/#" in text
    assert "topic read ritlink/v1/seh/seh-umcu/from/#" in text
    assert "pattern" not in text  # no rule applies to every user


def test_client_without_certificate_is_refused(connect):
    _, outcome = connect(None)
    assert not (isinstance(outcome, mqtt.ReasonCode) and not outcome.is_failure), outcome


def test_vehicle_reaches_its_seh_and_gets_its_receipts(connect):
    seh, rc = connect("seh-umcu")
    assert not rc.is_failure
    seh.subscribe(rit_topic_filter("seh-umcu"))
    vehicle, rc = connect("ambu-01")
    vehicle.subscribe(receipt_topic_filter("ambu-01"))
    vehicle.publish(rit_topic("seh-umcu", "ambu-01", new_id()))
    assert seh.got_within(3)
    seh.publish(receipt_topic("ambu-01", "seh-umcu"))
    assert vehicle.got_within(3)


def test_vehicle_cannot_read_another_vehicles_receipts(connect):
    seh, _ = connect("seh-umcu")
    spy, _ = connect("ambu-02")
    spy.subscribe(receipt_topic_filter("ambu-01"))
    spy.subscribe("ritlink/v1/#")
    seh.publish(receipt_topic("ambu-01", "seh-umcu"), json.dumps({"type": "delivered"}).encode())
    assert spy.got_within(2) == []


def test_seh_cannot_read_another_sehs_feed(connect):
    other, _ = connect("seh-antonius")
    other.subscribe(rit_topic_filter("seh-umcu"))
    other.subscribe("ritlink/v1/seh/#")
    vehicle, _ = connect("ambu-01")
    vehicle.publish(rit_topic("seh-umcu", "ambu-01", new_id()))
    assert other.got_within(2) == []


def test_vehicle_cannot_write_as_another_vehicle_or_as_an_seh(connect):
    seh, _ = connect("seh-umcu")
    seh.subscribe(rit_topic_filter("seh-umcu"))
    vehicle_two, _ = connect("ambu-02")
    vehicle_two.subscribe(receipt_topic_filter("ambu-02"))
    forger, _ = connect("ambu-01")
    forger.publish(rit_topic("seh-umcu", "ambu-02", new_id()))  # pretends to be ambu-02
    forger.publish(receipt_topic("ambu-02", "seh-umcu"))  # pretends to be the SEH
    assert seh.got_within(2) == [] and vehicle_two.got_within(0.5) == []


def test_edge_and_seh_services_deliver_over_tls(tmp_path, pki, tls_broker, monitor):
    url = f"mqtts://127.0.0.1:{tls_broker.port}"

    def tls(name):
        return {"tls_ca_file": str(pki / "ca.crt"), "tls_cert_file": str(pki / f"{name}.crt"),
                "tls_key_file": str(pki / f"{name}.key")}

    seh_conf = write_toml(tmp_path / "seh.toml", {"seh_id": "seh-umcu", "broker_url": url,
                                                  "database": str(tmp_path / "seh.db"), **tls("seh-umcu")})
    edge_conf = write_toml(tmp_path / "edge.toml", {"vehicle_id": "ambu-01", "broker_url": url,
                                                    "database": str(tmp_path / "edge.db"),
                                                    "monitor_url": str(monitor.link), **tls("ambu-01")})
    seh = RitlinkProcess("seh", seh_conf, tmp_path / "seh.log").start()
    edge = RitlinkProcess("serve", edge_conf, tmp_path / "edge.log").start()
    try:
        rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A2"}).json()["rit_id"]
        wait_until(lambda: edge.get("/api/v1/vitals/live").json()["values"], 10, what="vitals")
        edge.post(f"/api/v1/rits/{rit_id}/vitals/accept")
        edge.post(f"/api/v1/rits/{rit_id}/announce")
        wait_until(lambda: edge.get(f"/api/v1/rits/{rit_id}").json()["messages"][0]["state"] == "delivered", 10,
                   what="delivered over TLS")
    finally:
        edge.stop()
        seh.stop()


def test_certs_command_writes_everything_and_refuses_bad_ids(tmp_path):
    result = run_ritlink("certs", "--dir", str(tmp_path / "pki"), "--vehicle", "ambu-09", "--seh", "seh-x")
    assert result.returncode == 0, result.stderr
    for name in ("ca.crt", "broker.crt", "ambu-09.crt", "seh-x.key", "ritlink.acl", "mosquitto-tls.conf"):
        assert (tmp_path / "pki" / name).is_file()
    bad = run_ritlink("certs", "--dir", str(tmp_path / "other"), "--vehicle", "Ambu 9", "--seh", "seh-x")
    assert bad.returncode == 2 and "Ambu 9" in bad.stderr


def test_shipped_production_config_starts_and_enforces_the_acl(tmp_path, pki, monitor):
    from pathlib import Path

    from tests.harness.procs import REPO_ROOT

    port = free_port()
    shipped = (Path(REPO_ROOT) / "systemd" / "mosquitto" / "ritlink.conf").read_text()
    text = (shipped.replace("/etc/mosquitto/ritlink/", f"{pki}/").replace("listener 8883", f"listener {port} 127.0.0.1")
            .replace("persistence_location /var/lib/mosquitto/\n", "").replace("persistence true\n", ""))
    # (the runner adds its own persistence folder)
    broker = Mosquitto(tmp_path / "b", port=port, listener_config=text).start()
    try:
        spy = Client(broker, pki, "ambu-02")
        assert not spy.connect(port).is_failure
        spy.subscribe(receipt_topic_filter("ambu-01"))
        seh = Client(broker, pki, "seh-umcu")
        seh.connect(port)
        seh.publish(receipt_topic("ambu-01", "seh-umcu"))
        assert spy.got_within(2) == []
        spy.close()
        seh.close()
    finally:
        broker.stop()
