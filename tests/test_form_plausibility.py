"""Every numeric field of the form: impossible values are refused naming the field,
unusual values need ``confirm`` (and the entry records that they were confirmed)."""

from __future__ import annotations

import pytest

from edge.form.plausibility import LIMITS, VITALS, Limit, medication_dose_limit
from edge.form.valuelists import DEFAULT_LISTS
from tests.harness.form_api import form_api


def _set(data: dict, path: str, value: float) -> dict:
    node = data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    *parents, last = path.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return data


def _entry(kind: str, path: str, base: dict | None = None):
    def post(api, rit_id, value, confirm):
        body = {"kind": kind, "data": _set(base or {}, path, value), "confirm": confirm,
                # the same drug again on purpose: this checks dose limits, not the repeat question
                "confirm_repeat": kind == "medication"}
        return api.post(f"/api/v1/rits/{rit_id}/entries", body), ["body", "data", *path.split(".")]
    return post


def _vital(name: str):
    def post(api, rit_id, value, confirm):
        return api.post(f"/api/v1/rits/{rit_id}/vitals", {name: value, "confirm": confirm}), ["body", name]
    return post


GCS_BASE = {"eye": 4, "verbal": 5, "motor": 6}
FIELDS = {
    **{name: _vital(name) for name in VITALS},
    "gcs.eye": _entry("gcs", "eye", GCS_BASE),
    "gcs.verbal": _entry("gcs", "verbal", GCS_BASE),
    "gcs.motor": _entry("gcs", "motor", GCS_BASE),
    "pain.nrs": _entry("pain", "nrs"),
    "breathing.oxygen_flow_l_min": _entry("breathing", "oxygen_flow_l_min", {"oxygen_device": "non_rebreathing"}),
    "circulation.capillary_refill_s": _entry("circulation", "capillary_refill_s"),
    "disability.pupil_left_mm": _entry("disability", "pupil_left_mm"),
    "disability.pupil_right_mm": _entry("disability", "pupil_right_mm"),
    "exposure.burns_tbsa_percent": _entry("exposure", "burns_tbsa_percent"),
    "procedure.attempts": _entry("procedure", "attempts", {"procedure": "infuus"}),
    "ecg.rate": _entry("ecg", "rate", {"rhythm": "sinus"}),
    "patient.estimated_age_years": _entry("patient", "estimated_age_years"),
    "patient.weight_kg": _entry("patient", "weight_kg"),
    "melding.location.lat": _entry("melding", "location.lat"),
    "melding.location.lon": _entry("melding", "location.lon"),
}
MEDICATIONS = DEFAULT_LISTS["medications"]


def impossible_values(limit: Limit) -> list[float]:
    values = [limit.min if limit.min_exclusive else limit.min - 1, limit.max + 1, limit.max * 10 + 1000]
    if limit.integer:
        values.append(limit.min + 0.5)
    return values


def unusual_values(limit: Limit) -> list[float]:
    values = []
    if limit.usual_min is not None:
        values.append(max(limit.usual_min - 1, (limit.usual_min + limit.min) / 2))
    if limit.usual_max is not None:
        values.append(min(limit.usual_max + 1, (limit.usual_max + limit.max) / 2))
    return values


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    api = form_api(tmp_path_factory.mktemp("plausibility"))
    yield api
    api.close()


@pytest.fixture(scope="module")
def rit_id(api):
    return api.new_rit()


def test_every_numeric_field_is_covered():
    assert set(FIELDS) | {"medication.dose"} == set(LIMITS) | {"medication.dose"}


def _check_field(api, rit_id, name: str, post, limit: Limit) -> None:
    for value in impossible_values(limit):
        response, loc = post(api, rit_id, value, True)  # confirm does not make the impossible possible
        assert response.status_code == 422, (name, value, response.text)
        detail = response.json()["detail"]
        assert any(d["loc"] == loc and d["type"] == "plausibility.impossible" for d in detail), (name, value, detail)
    for value in unusual_values(limit):
        response, loc = post(api, rit_id, value, False)
        assert response.status_code == 422, (name, value, response.text)
        detail = response.json()["detail"]
        assert detail[0]["loc"] == loc and detail[0]["type"] == "plausibility.unusual", (name, value, detail)
        assert detail[0]["ctx"]["field"] == name
        response, _ = post(api, rit_id, value, True)
        assert response.status_code == 201, (name, value, response.text)
        entry_id = response.json()["entry_ids"][0]
        logged = next(e for e in api.service.store.entries(rit_id) if e["entry_id"] == entry_id)
        assert logged["confirmed_unusual"] == [name]
    usual = limit.usual_min if limit.usual_min is not None else (
        limit.min + (limit.usual_max if limit.usual_max is not None else limit.max)) / 2
    usual = int(usual) if limit.integer else usual
    response, _ = post(api, rit_id, usual, False)
    assert response.status_code == 201, (name, usual, response.text)


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_impossible_refused_and_unusual_needs_confirm(api, rit_id, name):
    _check_field(api, rit_id, name, FIELDS[name], LIMITS[name])


@pytest.mark.parametrize("med", MEDICATIONS, ids=[m["code"] for m in MEDICATIONS])
def test_medication_dose_per_drug(api, rit_id, med):
    post = _entry("medication", "dose", {"drug": med["code"], "unit": med["unit"], "route": med["routes"][0]})
    _check_field(api, rit_id, "medication.dose", post, medication_dose_limit(med))


def test_vital_through_generic_entry_names_the_parameter(api, rit_id):
    response = api.entry(rit_id, "vital", {"parameter": "spo2", "value": 101}, status=422)
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["body", "data", "value"] and detail["ctx"]["field"] == "spo2"
    assert "SpO2" in detail["msg"]


def test_not_a_number_is_impossible(api, rit_id):
    response = api.client.post(f"/api/v1/rits/{rit_id}/vitals", content=b'{"heart_rate": NaN}',
                               headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "heart_rate"]


def test_several_impossible_values_are_all_named(api, rit_id):
    response = api.post(f"/api/v1/rits/{rit_id}/vitals", {"spo2": 120, "heart_rate": 500, "resp_rate": 16}, 422)
    assert {tuple(d["loc"]) for d in response.json()["detail"]} == {("body", "spo2"), ("body", "heart_rate")}


def test_diastolic_not_above_systolic(api, rit_id):
    response = api.post(f"/api/v1/rits/{rit_id}/vitals", {"bp_systolic": 80, "bp_diastolic": 90}, 422)
    assert response.json()["detail"][0]["loc"] == ["body", "bp_diastolic"]


@pytest.mark.parametrize(("kind", "data", "loc"), [
    ("patient", {"bsn": "123456789"}, ["body", "data", "bsn"]),  # fails the eleven test
    ("patient", {"date_of_birth": "2999-01-01"}, ["body", "data", "date_of_birth"]),
    ("medication", {"drug": "fentanyl", "dose": 50, "unit": "mg", "route": "iv"}, ["body", "data", "unit"]),
    ("medication", {"drug": "fentanyl", "dose": 50, "unit": "ug", "route": "po"}, ["body", "data", "route"]),
    ("breathing", {"findings": ["bestaat_niet"]}, ["body", "data", "findings", "0"]),
    ("time", {"which": "vertrek", "at": "2025-01-01T10:00:00"}, ["body", "data", "at"]),
    ("time", {"which": "vertrek", "at": "2999-01-01T10:00:00Z"}, ["body", "data", "at"]),
])
def test_other_impossible_values_name_the_field(api, rit_id, kind, data, loc):
    response = api.entry(rit_id, kind, data, status=422)
    assert response.json()["detail"][0]["loc"] == loc, response.text


def test_clinical_time_in_the_future_is_refused(api, rit_id):
    response = api.post(f"/api/v1/rits/{rit_id}/vitals", {"heart_rate": 80, "clinical_time": "2999-01-01T00:00:00Z"}, 422)
    assert response.json()["detail"][0]["loc"] == ["body", "clinical_time"]
