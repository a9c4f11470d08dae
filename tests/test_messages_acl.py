"""The broker ACL for short messages and SEH status, with the certificates and ACL that
``ritlink certs`` writes, on a real mosquitto with TLS (issue 19, "ACL test"): a vehicle reads
every SEH's status but cannot write one, reads only its own messages and writes messages
only as itself; an SEH writes only its own status and messages as itself."""

from __future__ import annotations

import pytest

from edge.ops.certs import broker_tls_config
from edge.wire.contract import new_id
from edge.wire.messages import to_seh_topic, to_vehicle_topic, vehicle_filter
from simulators.mosquitto import Mosquitto, free_port
from tests.harness.procs import run_ritlink
from tests.test_broker_security import Client

VEHICLES, SEHS = ["ambu-01", "ambu-02"], ["seh-umcu", "seh-antonius"]


def status_topic(seh_id: str) -> str:
    return f"ritlink/v1/seh/{seh_id}/status"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pki") / "certs"
    args = [a for v in VEHICLES for a in ("--vehicle", v)] + [a for s in SEHS for a in ("--seh", s)]
    result = run_ritlink("certs", "--dir", str(folder), *args)
    assert result.returncode == 0, result.stderr
    return folder


@pytest.fixture
def connect(tmp_path, pki):
    port = free_port()
    broker = Mosquitto(tmp_path / "broker", port=port, listener_config=broker_tls_config(pki, port)).start()
    clients = []

    def make(name: str) -> Client:
        client = Client(broker, pki, name)
        clients.append(client)
        rc = client.connect(port)
        assert not rc.is_failure, rc
        return client

    yield make
    for client in clients:
        client.close()
    broker.stop()


def test_acl_lines_for_messages_and_status(pki):
    text = (pki / "ritlink.acl").read_text()
    assert "topic read ritlink/v1/vehicle/ambu-01/message/+" in text
    assert "topic read ritlink/v1/seh/+/status" in text
    assert "topic write ritlink/v1/vehicle/+/message/seh-umcu" in text
    assert "topic readwrite ritlink/v1/seh/seh-umcu/status" in text


def test_a_vehicle_reads_status_but_cannot_write_one(connect):
    vehicle = connect("ambu-01")
    vehicle.subscribe("ritlink/v1/seh/+/status")
    forger = connect("ambu-02")
    forger.publish(status_topic("seh-umcu"), b'{"state": "open"}')  # a vehicle pretends the SEH is open
    seh = connect("seh-umcu")
    seh.subscribe(status_topic("seh-umcu"))
    assert vehicle.got_within(1.5) == [] and seh.got_within(0.5) == []
    seh.publish(status_topic("seh-umcu"), b'{"state": "seh-stop"}')
    assert vehicle.got_within(3) == [(status_topic("seh-umcu"), b'{"state": "seh-stop"}')]
    other = connect("seh-antonius")  # an SEH cannot write another SEH's status either
    other.publish(status_topic("seh-umcu"), b'{"state": "open"}')
    assert vehicle.got_within(1.5) == []


def test_a_vehicle_cannot_read_another_vehicles_messages(connect):
    owner, spy = connect("ambu-01"), connect("ambu-02")
    owner.subscribe(vehicle_filter("ambu-01"))
    spy.subscribe(vehicle_filter("ambu-01"))
    spy.subscribe("ritlink/v1/#")
    seh = connect("seh-umcu")
    seh.publish(to_vehicle_topic("ambu-01", "seh-umcu"), b'{"text": "traumakamer 2"}')
    assert owner.got_within(3)
    assert spy.got_within(1.5) == []


def test_messages_are_written_only_as_oneself(connect):
    seh, other_seh = connect("seh-umcu"), connect("seh-antonius")
    seh.subscribe(to_seh_topic("seh-umcu", "+"))
    other_seh.subscribe("ritlink/v1/seh/#")
    vehicle = connect("ambu-01")
    vehicle.subscribe(vehicle_filter("ambu-01"))
    forger = connect("ambu-02")
    forger.publish(to_seh_topic("seh-umcu", "ambu-01"), new_id().encode())  # as another vehicle
    forger.publish(to_vehicle_topic("ambu-01", "seh-umcu"), b"{}")  # as the SEH
    other_seh.publish(to_vehicle_topic("ambu-01", "seh-umcu"), b"{}")  # as another SEH
    assert seh.got_within(1.5) == [] and vehicle.got_within(0.5) == []
    vehicle.publish(to_seh_topic("seh-umcu", "ambu-01"), b"{}")
    assert seh.got_within(3) and other_seh.got_within(1) == []
