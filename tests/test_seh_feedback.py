"""SEH-terugkoppeling from the SEH side: durable, resent until the vehicle confirms it."""

from __future__ import annotations

import sqlite3

import pytest

from edge.wire.contract import Receipt, new_id
from edge.sync.mqtt_client import publish_properties
from seh.feedback import feedback_receipt_topic
from simulators.processes import AUTH_HEADERS
from tests.harness.mqtt import TestClient, envelope, form_of, send
from tests.harness.waiting import wait_until

VEHICLE = "ambu-42"
FEEDBACK = {"diagnosis": "Heupfractuur rechts", "disposition": "operatie", "author": "SEH-arts"}


@pytest.fixture
def seh_and_vehicle(broker, seh_process):
    """A running SEH receiver and a hand-driven vehicle client on the same broker."""
    seh = seh_process()
    wait_until(lambda: seh.get("/-/health").json()["broker"] == "connected", 10, what="SEH connected")
    vehicle = TestClient(broker.port)
    yield seh, vehicle
    vehicle.close()


def hand_over(seh, vehicle, rit_id: str) -> None:
    """The vehicle's overdracht (patch seq 2 after the announcement) as the SEH applies it."""
    send(vehicle, envelope(rit_id, 2, {}, kind="patch", status="overdracht", vehicle_id=VEHICLE,
                           form=form_of(rit_id, VEHICLE)))
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["status"] == "overdracht", 5, what="overdracht")


def test_feedback_waits_for_the_handover_then_reaches_the_vehicle_until_receipted(tmp_path, seh_and_vehicle):
    seh, vehicle = seh_and_vehicle
    rit_id = new_id()
    send(vehicle, envelope(rit_id, 1, form_of(rit_id, VEHICLE), vehicle_id=VEHICLE))
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 5, what="rit at the SEH")
    assert seh.post(f"/api/v1/rits/{rit_id}/feedback", FEEDBACK).status_code == 409  # not handed over yet
    assert seh.post(f"/api/v1/rits/{rit_id}/feedback", {**FEEDBACK, "disposition": "?"}).status_code == 422

    hand_over(seh, vehicle, rit_id)
    # The tablet is off when the SEH writes its feedback ...
    msg_id = seh.post(f"/api/v1/rits/{rit_id}/feedback", FEEDBACK).json()["msg_id"]
    # ... and comes online later: the SEH keeps sending until it is confirmed.
    vehicle.subscribe(f"ritlink/v1/vehicle/{VEHICLE}/feedback/+")
    topic, body = vehicle.next_json(15)
    assert topic == f"ritlink/v1/vehicle/{VEHICLE}/feedback/seh-umcu"
    assert (body["msg_id"], body["rit_id"], body["diagnosis"]) == (msg_id, rit_id, "Heupfractuur rechts")

    receipt = Receipt(msg_id=msg_id, rit_id=rit_id, seq=0, type="delivered", at="now")
    vehicle.client.publish(feedback_receipt_topic("seh-umcu", VEHICLE), receipt.to_json(), qos=1,
                           properties=publish_properties()).wait_for_publish(5)
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["feedback"][0]["receipted_at"], 5,
               what="feedback receipted")
    with sqlite3.connect(tmp_path / "seh.db") as conn:
        assert conn.execute("SELECT count(*) FROM seh_feedback").fetchone()[0] == 1
    assert "Heupfractuur" not in seh.log_text()


def test_tablet_off_when_feedback_is_written_gets_it_later_and_confirms(monitor, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A2"}).json()["rit_id"]
    edge.post(f"/api/v1/rits/{rit_id}/entries", {"kind": "diagnosis", "data": {"text": "verdenking heupfractuur"}})
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    assert edge.post(f"/api/v1/rits/{rit_id}/overdracht", {"onvolledig": True}).status_code == 202
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["status"] == "overdracht", 10, what="handed over")

    edge.stop()  # the ignition is off
    assert seh.post(f"/api/v1/rits/{rit_id}/feedback", FEEDBACK).status_code == 202
    edge.start()
    got = wait_until(lambda: edge.get(f"/api/v1/rits/{rit_id}").json()["feedback"], 20, what="feedback at tablet")
    assert (got[0]["diagnosis"], got[0]["disposition"], got[0]["seh_id"]) == ("Heupfractuur rechts", "operatie",
                                                                               "seh-umcu")
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["feedback"][0]["receipted_at"], 10,
               what="the tablet confirmed it")
    edge.stop()
    edge.start()  # redelivery after a restart is kept once
    assert len(edge.get(f"/api/v1/rits/{rit_id}").json()["feedback"]) == 1


def test_feedback_form_on_the_board_needs_its_csrf_token(seh_and_vehicle):
    import re

    import httpx

    seh, vehicle = seh_and_vehicle
    rit_id = new_id()
    send(vehicle, envelope(rit_id, 1, form_of(rit_id, VEHICLE), vehicle_id=VEHICLE))
    hand_over(seh, vehicle, rit_id)
    nurse = httpx.Client(base_url=seh.base_url, timeout=5, headers=AUTH_HEADERS)
    page = nurse.get(f"/rits/{rit_id}").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    form = {"diagnosis": "Pneumonie", "disposition": "opgenomen verpleegafdeling", "remarks": ""}
    forged = httpx.post(f"{seh.base_url}/rits/{rit_id}/terugkoppeling", data=form | {"csrf": token},
                        headers=AUTH_HEADERS)
    assert forged.status_code == 403  # the token without the nurse's cookie is worthless
    assert nurse.post(f"/rits/{rit_id}/terugkoppeling", data=form).status_code == 403
    assert nurse.post(f"/rits/{rit_id}/terugkoppeling", data=form | {"csrf": token},
                      follow_redirects=False).status_code == 303
    assert [f["diagnosis"] for f in seh.get(f"/api/v1/rits/{rit_id}").json()["feedback"]] == ["Pneumonie"]
