"""Tablet pages in-process (no browser): NIBP proposals taken over with one tap, and the
GPS's ETA in the header strip."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from devices.observation import Observation
from edge.live.vitals import NIBP_DIA, NIBP_SYS
from tests.harness.form_api import api, sign_in  # noqa: F401
from web.view_model import klok


def signed_in(api) -> str:  # noqa: F811
    sign_in(api.client, "J. de Vries")
    return re.search(r'name="csrf" value="([^"]+)"', api.client.get("/").text).group(1)


def test_nibp_proposal_is_one_tap(api):  # noqa: F811
    token = signed_in(api)
    rit_id = api.new_rit()
    api.live.update(Observation("monitor", NIBP_SYS, 142.0, "NIBP sys", "mm[Hg]", device_time="10:00:00"))
    api.live.update(Observation("monitor", NIBP_DIA, 88.0, "NIBP dia", "mm[Hg]", device_time="10:00:00"))
    page = api.client.get(f"/rits/{rit_id}?tab=vitals").text
    action = re.search(r'action="(/rits/[^"]+/vitals/nibp/[^"]+)"', page).group(1)
    assert "NIBP 142/88" in page
    assert api.client.post(action, data={"csrf": token, "idem": "n1"}, follow_redirects=False).status_code == 303
    values = {v["parameter"]: v["value"] for v in api.form(rit_id)["vitals"].values()}
    assert values == {"bp_systolic": 142.0, "bp_diastolic": 88.0}


def test_header_shows_the_gps_eta(api):  # noqa: F811
    signed_in(api)
    rit_id = api.new_rit()
    api.post(f"/api/v1/rits/{rit_id}/announce", status=202)
    arrival = (datetime.now(UTC) + timedelta(minutes=9)).replace(microsecond=0)
    at = datetime.now(UTC)
    api.service.record_vehicle_position(rit_id, {
        "at": at.isoformat(), "lat": 52.08, "lon": 5.17, "seh_id": "seh-umcu",
        "eta": {"seconds": 540, "arrival_at": arrival.isoformat().replace("+00:00", "Z"), "distance_m": 6100,
                "method": "route"}}, at)
    header = api.client.get(f"/rits/{rit_id}/kop").text
    assert f"aankomst {klok(arrival.isoformat())}" in header


def test_new_rit_carries_the_signed_in_crew_once_even_when_sent_twice(api):  # noqa: F811
    token = signed_in(api)
    form = {"csrf": token, "idem": "new-1", "urgency": "A2", "destination_seh": "seh-umcu"}
    first = api.client.post("/ritten", data=form, follow_redirects=False)
    again = api.client.post("/ritten", data=form, follow_redirects=False)
    assert first.headers["location"] == again.headers["location"]
    assert len(api.get("/api/v1/rits")) == 1
    rit_id = first.headers["location"].split("/")[2].split("?")[0]
    crew_entries = [e for e in api.get(f"/api/v1/rits/{rit_id}/entries") if e["kind"] == "identification"]
    assert [e["data"]["crew"] for e in crew_entries] == [[{"name": "J. de Vries"}]]


def test_an_unexpected_fault_is_a_page_that_says_so_and_logs_no_patient_data(api, caplog):  # noqa: F811
    token = signed_in(api)
    rit_id = api.new_rit()

    def broken(*args, **kwargs):
        raise RuntimeError("K. Visser, geboren 1948")  # an exception text may carry what was typed
    api.service.add_entry = broken
    from fastapi.testclient import TestClient
    client = TestClient(api.client.app, raise_server_exceptions=False, cookies=dict(api.client.cookies))
    page = client.post(f"/rits/{rit_id}/invoer/diagnosis", data={"csrf": token, "idem": "x1", "text": "CVA"})
    assert page.status_code == 500
    assert "Storing in de tablet-service" in page.text and "NIET opgeslagen" in page.text
    assert "Visser" not in caplog.text and "RuntimeError" in caplog.text


def test_eta_shows_on_the_active_rit_only(api):  # noqa: F811
    signed_in(api)
    older, newer = api.new_rit(), api.new_rit()  # the newest rit is the active one
    for rit_id in (older, newer):
        api.post(f"/api/v1/rits/{rit_id}/announce", status=202)
    arrival = (datetime.now(UTC) + timedelta(minutes=9)).replace(microsecond=0)
    at = datetime.now(UTC)
    for rit_id in (older, newer):
        api.service.record_vehicle_position(rit_id, {
            "at": at.isoformat(), "lat": 52.08, "lon": 5.17, "seh_id": "seh-umcu",
            "eta": {"seconds": 540, "arrival_at": arrival.isoformat().replace("+00:00", "Z"), "distance_m": 6100,
                    "method": "route"}}, at)
    assert "aankomst" in api.client.get(f"/rits/{newer}/kop").text
    assert "aankomst" not in api.client.get(f"/rits/{older}/kop").text
    api.service.activate(older, actor=None)
    assert "aankomst" in api.client.get(f"/rits/{older}/kop").text
    assert "aankomst" not in api.client.get(f"/rits/{newer}/kop").text
