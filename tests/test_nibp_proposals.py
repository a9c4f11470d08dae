"""Each completed NIBP measurement is proposed once and can be taken into the form with one tap."""

from __future__ import annotations

from devices.observation import Observation
from tests.harness.form_api import api  # noqa: F401 (api is a fixture)

SYS, DIA, MEAN = 150021, 150022, 150023


def cuff(live, sys_, dia, mean, device_time=None, device_id="monitor"):
    for code, value in ((SYS, sys_), (DIA, dia), (MEAN, mean)):
        live.update(Observation.of(device_id, code, float(value), device_time=device_time))


def test_repeated_frames_are_one_proposal_and_a_new_measurement_is_another(api):
    cuff(api.live, 121, 75, 92)
    cuff(api.live, 121, 75, 92)  # ANSAR-B style: the last result repeated every frame
    (first,) = api.get("/api/v1/vitals/nibp")
    assert first["values"] == {str(SYS): 121.0, str(DIA): 75.0, str(MEAN): 92.0}
    cuff(api.live, 98, 60, 72)
    proposals = api.get("/api/v1/vitals/nibp")
    assert [p["values"][str(SYS)] for p in proposals] == [98.0, 121.0]  # newest first


def test_device_time_tells_measurements_apart(api):
    cuff(api.live, 120, 80, 93, device_time="2026-11-24T10:00:00")
    cuff(api.live, 120, 80, 93, device_time="2026-11-24T10:00:00")
    cuff(api.live, 120, 80, 93, device_time="2026-11-24T10:05:00")  # same numbers, a new measurement
    assert len(api.get("/api/v1/vitals/nibp")) == 2


def test_accepting_a_proposal_adds_the_three_values_timed_at_the_measurement(api):
    rit = api.new_rit()
    cuff(api.live, 132, 84, 100)
    proposal = api.get("/api/v1/vitals/nibp")[0]
    accepted = api.post(f"/api/v1/rits/{rit}/vitals/nibp/{proposal['id']}/accept", None, 200).json()["accepted"]
    assert {e["data"]["parameter"]: e["data"]["value"] for e in accepted} == {
        "bp_systolic": 132.0, "bp_diastolic": 84.0, "bp_mean": 100.0}
    assert all(e["clinical_time"] == proposal["measured_at"] and e["source"] == "device:monitor" for e in accepted)
    vitals = api.form(rit)["vitals"].values()
    assert sorted(v["code"] for v in vitals) == [SYS, DIA, MEAN]
    missing = api.post(f"/api/v1/rits/{rit}/vitals/nibp/nibp-999/accept", None, 404).json()["detail"][0]
    assert missing["loc"] == ["body", "proposal_id"]


def test_impossible_cuff_values_need_the_plausibility_rules(api):
    rit = api.new_rit()
    cuff(api.live, 260, 150, 187)  # unusual: needs confirm
    proposal = api.get("/api/v1/vitals/nibp")[0]
    api.post(f"/api/v1/rits/{rit}/vitals/nibp/{proposal['id']}/accept", None, 422)
    api.post(f"/api/v1/rits/{rit}/vitals/nibp/{proposal['id']}/accept", {"confirm": True}, 200)
