"""The SEH receiver against hand-made messages: applied once, bad ones rejected with a receipt."""

from __future__ import annotations

import json
import sqlite3

import pytest

from edge.wire.canonical import merge_patch_apply
from edge.wire.contract import new_id, receipt_topic_filter
from tests.harness.mqtt import TestClient, envelope, form_of, send
from tests.harness.waiting import wait_until

VEHICLE = "ambu-99"


@pytest.fixture
def seh(seh_process):
    return seh_process()


@pytest.fixture
def vehicle(broker, seh):
    client = TestClient(broker.port, client_id=f"ritlink-edge-{VEHICLE}")
    client.subscribe(receipt_topic_filter(VEHICLE))
    wait_until(lambda: seh.get("/-/health").json()["broker"] == "connected", 10, what="SEH connected")
    yield client
    client.close()


def receipt(vehicle, timeout: float = 5.0) -> dict:
    return vehicle.next_json(timeout)[1]


def versions(tmp_path, rit_id: str) -> list[tuple[int, str]]:
    with sqlite3.connect(f"file:{tmp_path / 'seh.db'}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT seq, msg_id FROM seh_versions WHERE rit_id = ? ORDER BY seq", [rit_id]).fetchall()


def form1(rit_id: str, vehicle_id: str = VEHICLE) -> dict:
    return form_of(rit_id, vehicle_id, patient={"sex": "F", "identified": False})


def form2(rit_id: str, vehicle_id: str = VEHICLE) -> dict:
    return {**form1(rit_id, vehicle_id), "vitals": {"e1": {"code": 150456, "value": 94.0, "position": 1}}}


def announce(vehicle, rit_id: str) -> dict:
    first = envelope(rit_id, 1, form1(rit_id), vehicle_id=VEHICLE)
    send(vehicle, first)
    assert receipt(vehicle)["type"] == "delivered"
    return first


def test_snapshot_then_patch_applied_in_order(tmp_path, seh, vehicle):
    rit_id = new_id()
    announce(vehicle, rit_id)
    patch = {"vitals": {"e1": {"code": 150456, "value": 94.0, "position": 1}}}
    send(vehicle, envelope(rit_id, 2, patch, kind="patch", status="update", vehicle_id=VEHICLE, form=form2(rit_id)))
    got = receipt(vehicle)
    assert (got["type"], got["seq"]) == ("delivered", 2)
    at_seh = seh.get(f"/api/v1/rits/{rit_id}").json()
    assert at_seh["form"] == merge_patch_apply(form1(rit_id), patch) == form2(rit_id)
    assert (at_seh["seq"], at_seh["status"]) == (2, "update")


def test_replayed_msg_id_is_answered_but_never_applied_twice(tmp_path, seh, vehicle):
    rit_id = new_id()
    first = announce(vehicle, rit_id)
    for _ in range(3):
        send(vehicle, first)
        assert receipt(vehicle)["type"] == "delivered"
    assert versions(tmp_path, rit_id) == [(1, first["msg_id"])]


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda rit: (envelope(rit, 1, form1(rit), vehicle_id=VEHICLE), b"{not json"), "malformed"),
        (lambda rit: (envelope(rit, 1, form1(rit), vehicle_id=VEHICLE, schema="ritlink.ritformulier/9"), None), "schema"),
        (lambda rit: (envelope(rit, 1, form1(rit), vehicle_id=VEHICLE, form_sha256="0" * 64), None), "form_sha256"),
        (lambda rit: (envelope(rit, 0, form1(rit), vehicle_id=VEHICLE), None), "seq"),
        (lambda rit: (envelope(rit, 1, form1(rit), vehicle_id=VEHICLE, kind="diff"), None), "kind"),
        (lambda rit: (envelope(rit, 1, form1(rit), vehicle_id=VEHICLE, extra="x"), None), "extra"),
        (lambda rit: (envelope(rit, 1, form1(rit), vehicle_id=VEHICLE, seh_id="seh-other"), None), "topic"),
    ],
    ids=["malformed-json", "unknown-schema", "wrong-hash", "seq-zero", "bad-kind", "unknown-field", "wrong-seh"],
)
def test_bad_messages_are_rejected_with_reason_and_not_applied(tmp_path, seh, vehicle, make, reason):
    rit_id = new_id()
    data, raw = make(rit_id)
    if data["seh_id"] != "seh-umcu":
        # Published on our SEH's topic but claiming another SEH inside.
        raw = json.dumps(data).encode()
        data = {**data, "seh_id": "seh-umcu"}
    send(vehicle, data, raw)
    got = receipt(vehicle)
    assert got["type"] == "rejected"
    assert reason in got["reason"]
    assert got["msg_id"] == data["msg_id"]  # from Correlation Data when the body is unreadable
    assert seh.get(f"/api/v1/rits/{rit_id}").status_code == 404
    assert "patient" not in seh.log_text() and "150456" not in seh.log_text()  # no form content in logs


def test_stale_seq_with_new_msg_id_is_rejected(tmp_path, seh, vehicle):
    rit_id = new_id()
    announce(vehicle, rit_id)
    send(vehicle, envelope(rit_id, 1, form2(rit_id), vehicle_id=VEHICLE))
    got = receipt(vehicle)
    assert got["type"] == "rejected" and "stale" in got["reason"]
    assert seh.get(f"/api/v1/rits/{rit_id}").json()["form"] == form1(rit_id)


def test_seq_from_the_future_is_held_then_resync_asked(tmp_path, seh, vehicle):
    rit_id = new_id()
    announce(vehicle, rit_id)
    future = envelope(rit_id, 7, {"x": 1}, kind="patch", status="update", vehicle_id=VEHICLE, form={**form1(rit_id), "x": 1})
    send(vehicle, future)
    got = receipt(vehicle, timeout=8)
    assert (got["type"], got["seq"]) == ("resync", 1)
    assert seh.get(f"/api/v1/rits/{rit_id}").json()["seq"] == 1
    # The snapshot answers it; the held patch is superseded and never applied.
    send(vehicle, envelope(rit_id, 8, form2(rit_id), status="update", vehicle_id=VEHICLE))
    assert receipt(vehicle)["type"] == "delivered"
    assert [seq for seq, _ in versions(tmp_path, rit_id)] == [1, 8]


def test_patch_with_wrong_result_hash_asks_resync(tmp_path, seh, vehicle):
    rit_id = new_id()
    announce(vehicle, rit_id)
    send(vehicle, envelope(rit_id, 2, {"x": 1}, kind="patch", status="update", vehicle_id=VEHICLE, form={"other": 1}))
    got = receipt(vehicle)
    assert got["type"] == "resync" and "mismatch" in got["reason"]
    assert seh.get(f"/api/v1/rits/{rit_id}").json()["form"] == form1(rit_id)


def test_rit_of_another_vehicle_is_refused(tmp_path, seh, vehicle, broker):
    rit_id = new_id()
    announce(vehicle, rit_id)
    intruder = TestClient(broker.port)
    intruder.subscribe(receipt_topic_filter("ambu-66"))
    try:
        send(intruder, envelope(rit_id, 2, form2(rit_id, "ambu-66"), vehicle_id="ambu-66", status="update"))
        got = intruder.next_json(5)[1]
        assert got["type"] == "rejected" and "another vehicle" in got["reason"]
    finally:
        intruder.close()
    assert seh.get(f"/api/v1/rits/{rit_id}").json()["form"] == form1(rit_id)


def test_board_shows_the_vehicles_live_vitals(seh, vehicle):
    import json as _json

    from edge.wire.contract import live_topic

    rit_id = new_id()
    announce(vehicle, rit_id)
    payload = {"vehicle_id": VEHICLE, "rit_ids": [rit_id], "vitals": [{"label": "SpO2", "value": 93.0, "unit": "%"},
                                                 {"label": "PR", "value": 118.0, "unit": "/min"}]}
    vehicle.client.publish(live_topic("seh-umcu", VEHICLE), _json.dumps(payload).encode(), qos=0)
    wait_until(lambda: "SpO2 93, PR 118" in seh.get("/bord/rijen").text, 5, what="live vitals on the board")
    vehicle.client.publish(live_topic("seh-umcu", VEHICLE), b"{broken", qos=0)  # ignored, board keeps the last
    assert "SpO2 93, PR 118" in seh.get("/bord/rijen").text
