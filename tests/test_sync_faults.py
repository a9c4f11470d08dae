"""Store-and-forward through faults: a lost message, a cut link, shared SEH receivers."""

from __future__ import annotations

import sqlite3

import pytest

from simulators.link import LinkCutter, publish_packet_id, puback, split_mqtt_packets
from simulators.mosquitto import free_port
from tests.harness.waiting import wait_until


@pytest.fixture
def cutter(broker):
    link = LinkCutter(free_port(), "127.0.0.1", broker.port).start()
    yield link
    link.stop()


def new_announced_rit(edge) -> str:
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
    wait_until(lambda: edge.get("/api/v1/vitals/live").json()["values"], 10, what="live values")
    assert edge.post(f"/api/v1/rits/{rit_id}/vitals/accept").status_code == 200
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    return rit_id


def states(edge, rit_id):
    return [(m["seq"], m["state"]) for m in edge.get(f"/api/v1/rits/{rit_id}").json()["messages"]]


def hashes_equal(edge, seh, rit_id) -> bool:
    at_seh = seh.get(f"/api/v1/rits/{rit_id}")
    return at_seh.status_code == 200 and at_seh.json()["form_sha256"] == edge.get(f"/api/v1/rits/{rit_id}").json()["form_sha256"]


def test_mqtt_packet_helpers():
    # PUBLISH QoS 1, topic "a/b", packet id 0x1234, v5 properties length 0, payload "hi"
    publish = bytes([0x32, 10, 0, 3]) + b"a/b" + bytes([0x12, 0x34, 0]) + b"hi"
    buffer = bytearray(publish + publish[:4])
    assert split_mqtt_packets(buffer) == [publish] and bytes(buffer) == publish[:4]
    assert publish_packet_id(publish) == 0x1234
    assert publish_packet_id(bytes([0x30, 5, 0, 3]) + b"a/b") is None  # QoS 0 has no id
    assert puback(0x1234) == b"\x40\x02\x12\x34"


def test_lost_patch_leads_to_resync_and_equal_hashes(monitor, cutter, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link), broker_url=f"mqtt://127.0.0.1:{cutter.listen[1]}")
    rit_id = new_announced_rit(edge)
    wait_until(lambda: states(edge, rit_id) == [(1, "delivered")], 10, what="vooraankondiging delivered")

    cutter.drop_publishes(1)  # the next patch is acknowledged by "the broker" and lost
    assert edge.post(f"/api/v1/rits/{rit_id}/vitals/accept").status_code == 200
    wait_until(lambda: cutter.stats.dropped_publishes == 1, 5, what="patch dropped")
    assert edge.post(f"/api/v1/rits/{rit_id}/vitals/accept").status_code == 200

    # seq 3 arrives without seq 2: held, resync asked, snapshot seq 4 sent and applied.
    wait_until(lambda: hashes_equal(edge, seh, rit_id), 15, what="SEH caught up by snapshot")
    wait_until(lambda: states(edge, rit_id)[-1][1] == "delivered", 5, what="snapshot delivered")
    messages = edge.get(f"/api/v1/rits/{rit_id}").json()["messages"]
    assert [m["kind"] for m in messages] == ["snapshot", "patch", "patch", "snapshot"]
    assert "asking for a snapshot" in seh.log_text()


def test_cut_link_queues_and_coalesces_then_resumes_in_order(monitor, cutter, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link), broker_url=f"mqtt://127.0.0.1:{cutter.listen[1]}")
    rit_id = new_announced_rit(edge)
    wait_until(lambda: states(edge, rit_id) == [(1, "delivered")], 10, what="vooraankondiging delivered")

    cutter.cut()
    wait_until(lambda: edge.get("/-/health").json()["broker"] == "disconnected", 10, what="edge offline")
    for _ in range(5):
        assert edge.post(f"/api/v1/rits/{rit_id}/vitals/accept").status_code == 200
    assert states(edge, rit_id) == [(1, "delivered"), (2, "queued")]  # five saves, one coalesced patch

    cutter.restore()
    wait_until(lambda: states(edge, rit_id) == [(1, "delivered"), (2, "delivered")], 15, what="patch delivered")
    assert hashes_equal(edge, seh, rit_id)
    assert len(seh.get(f"/api/v1/rits/{rit_id}").json()["form"]["vitals"]) == 12


def test_two_receivers_share_the_feed_and_apply_each_message_once(tmp_path, monitor, edge_process, seh_process):
    shared = {"shared_group": "umcu", "database": str(tmp_path / "seh-shared.db")}
    seh_a = seh_process("seh-a", instance="a", **shared)
    seh_b = seh_process("seh-b", instance="b", **shared)
    edge = edge_process(monitor_url=str(monitor.link))
    rit_ids = [new_announced_rit(edge) for _ in range(3)]
    for i in range(10):  # manual sets: monitor values go to the active rit only, these to any open rit
        for rit_id in rit_ids:
            assert edge.post(f"/api/v1/rits/{rit_id}/vitals", {"heart_rate": 80 + i, "spo2": 97}).status_code == 201
    for rit_id in rit_ids:
        wait_until(lambda: hashes_equal(edge, seh_a, rit_id) and states(edge, rit_id)[-1][1] == "delivered", 20,
                   what="all delivered")
    with sqlite3.connect(tmp_path / "seh-shared.db") as conn:
        per_msg = conn.execute("SELECT msg_id, count(*) FROM seh_versions GROUP BY msg_id").fetchall()
        applied = conn.execute("SELECT count(*) FROM seh_versions").fetchone()[0]
    sent = sum(len(states(edge, r)) for r in rit_ids)
    assert all(count == 1 for _, count in per_msg) and len(per_msg) == sent == applied
    log_a, log_b = seh_a.log_text(), seh_b.log_text()
    assert "-> delivered" in log_a and "-> delivered" in log_b, "both receivers took part"
