"""The rit as a FHIR R4 bundle (Nictiz Acute Zorg) for the four scenarios: it validates with
fhir.resources, every resource names its Nictiz profile, every vital sign carries LOINC and UCUM,
and reading the bundle back gives the form again, item by item, except what docs/fhir.md lists."""

from __future__ import annotations

import copy

import pytest

from edge.form.plausibility import VITALS
from edge.wire import fhir_codes as C
from edge.wire.fhir import FhirInvalid, resources_of, rit_bundle, validate
from edge.wire.fhir_view import bundle_view, form_view
from tests.harness.fhir_scenarios import SCENARIOS
from tests.harness.form_api import form_api
from tests.harness.procs import REPO_ROOT

# Written out here: the only (LOINC, profile) pairs allowed outside nictiz.nl (docs/fhir.md).
BLOCKED = {("9279-1", "http://hl7.org/fhir/StructureDefinition/resprate"),
           ("19889-5", "http://hl7.org/fhir/StructureDefinition/vitalsigns")}


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    """Each scenario recorded once through the tablet's API, its form as the tablet holds it."""
    out = {}
    for name, record in SCENARIOS.items():
        api = form_api(tmp_path_factory.mktemp(name))
        try:
            out[name] = api.form(record(api))
        finally:
            api.close()
    return out


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_bundle_validates_and_every_resource_names_its_nictiz_profile(forms, scenario):
    bundle = rit_bundle(forms[scenario])
    validate(bundle)  # the fhir.resources R4B models, once more from the JSON as it leaves
    assert bundle["type"] == "document" and bundle["entry"][0]["resource"]["resourceType"] == "Composition"
    others = []
    for resource in resources_of(bundle):
        profiles = resource["meta"]["profile"]
        assert len(profiles) == 1, resource["resourceType"]
        if not profiles[0].startswith(C.NICTIZ):
            others.append((resource["code"]["coding"][0]["code"], profiles[0]))
    # Blocked by the standard (docs/fhir.md): only respiratory rate and etCO2, which have no released
    # Nictiz profile, carry HL7's vital-signs profiles; every other resource names a nictiz.nl profile.
    assert set(others) <= BLOCKED
    if scenario == "stemi":  # the STEMI records both: each deviation is seen, none hides another
        assert set(others) == BLOCKED
    ids = [e["resource"]["id"] for e in bundle["entry"]]
    assert len(ids) == len(set(ids))
    assert all(e["fullUrl"] == f"urn:uuid:{e['resource']['id']}" for e in bundle["entry"])


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_blocked_vital_signs_keep_the_shape_their_nictiz_profile_will_ask(forms, scenario):
    """Respiratory rate has the shape of the (draft, unreleased) nl-core-Respiration.BreathingFrequency
    and of HL7 resprate; etCO2 that of HL7 vitalsigns. No unreleased Nictiz profile is ever claimed."""
    bundle = rit_bundle(forms[scenario])
    patient = next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    claimed = {p for r in resources_of(bundle) for p in r["meta"]["profile"]}
    assert not claimed & {p for p in C.AWAITING_NICTIZ.values() if p}
    seen = 0
    for r in resources_of(bundle, "Observation"):
        loinc = r["code"]["coding"][0]
        if (loinc["code"], r["meta"]["profile"][0]) not in BLOCKED:
            continue
        assert loinc["system"] == C.LOINC and r["category"][0]["coding"][0] == {
            "system": C.OBSERVATION_CATEGORY, "code": "vital-signs"}
        assert r["subject"]["reference"] == patient and r["effectiveDateTime"]
        unit = {"9279-1": "/min", "19889-5": "kPa"}[loinc["code"]]
        if "valueQuantity" in r:  # vs-2: a value or the reason there is none
            assert (r["valueQuantity"]["system"], r["valueQuantity"]["code"]) == (C.UCUM, unit)
        else:
            assert r["dataAbsentReason"]["coding"][0]["system"] == C.DATA_ABSENT
        seen += 1
    assert seen == {"stemi": 2, "trauma": 1, "unidentified": 1, "cancelled": 0}[scenario]


# Written out here, not taken from the code tables: LOINC per parameter (docs/fhir.md).
EXPECTED_LOINC = {"heart_rate": "8867-4", "pulse_rate": "8893-0", "spo2": "2708-6", "bp_systolic": "8480-6",
                  "bp_diastolic": "8462-4", "bp_mean": "8478-0", "resp_rate": "9279-1", "etco2": "19889-5",
                  "temperature": "8310-5", "glucose": "15074-8"}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_every_vital_sign_has_its_loinc_code_and_ucum_unit(forms, scenario):
    bundle = rit_bundle(forms[scenario])
    vitals = [i for i in forms[scenario]["vitals"].values() if "corrected_by" not in i]
    observations = {r["identifier"][0]["value"]: r for r in resources_of(bundle, "Observation") if r.get("identifier")}
    checked = 0
    for entry_id, item in ((k, v) for k, v in forms[scenario]["vitals"].items() if v in vitals):
        resource = next(r for r in observations.values() if r["identifier"][0]["value"] == entry_id)
        measured = resource["component"][0] if resource.get("component") else resource
        loinc, unit = EXPECTED_LOINC[item["parameter"]], VITALS[item["parameter"]].unit  # the form's UCUM unit
        assert unit in C.UCUM_UNITS
        assert loinc in [c["code"] for c in measured["code"]["coding"] if c["system"] == C.LOINC]
        if "value" in item:
            assert measured["valueQuantity"] == {"value": item["value"], "unit": unit, "system": C.UCUM, "code": unit}
        else:
            assert measured["dataAbsentReason"]["coding"][0]["system"] == C.DATA_ABSENT
        checked += 1
    assert checked == len(vitals) and (checked > 0 or scenario == "cancelled")


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_the_round_trip_loses_nothing_docs_do_not_list(forms, scenario):
    form = forms[scenario]
    view, back = form_view(form), bundle_view(rit_bundle(form))
    assert [(i["kind"], i["entry_id"]) for i in back["items"]] == [(i["kind"], i["entry_id"]) for i in view["items"]]
    for mine, theirs in zip(view["items"], back["items"], strict=True):
        assert theirs == mine
    assert back == view
    assert view["items"] or scenario == "cancelled"


def test_docs_list_everything_the_bundle_does_not_carry():
    docs = (REPO_ROOT / "docs" / "fhir.md").read_text()
    section = docs.split("## Not mapped", 1)[1]
    for kind, fields in C.NOT_MAPPED.items():
        for field in fields:
            assert f"`{field}`" in section, field
    for kind in C.NARRATIVE_KINDS:
        assert f"`{kind}`" in section, kind
    table = docs.split("## Mapping", 1)[1].split("## ", 1)[0]
    for profile in set(C.PROFILES.values()) | {v[0] for v in C.VITAL_CODES.values()}:
        assert profile.rsplit("/", 1)[1] in table, profile
    blocked = docs.split("## Blocked by the standard", 1)[1].split("\n## ", 1)[0]
    for name, pending in C.AWAITING_NICTIZ.items():  # each blocked item: its code, and what was found
        assert EXPECTED_LOINC[name] in blocked and (pending is None or pending.rsplit("/", 1)[1] in blocked), name


def test_stemi_carries_the_referral_frame_and_behandelgrenzen(forms):
    bundle = rit_bundle(forms["stemi"], seh_name="SEH UMC Utrecht")
    task, = resources_of(bundle, "Task")
    request, = resources_of(bundle, "ServiceRequest")
    assert (task["status"], request["status"]) == ("completed", "completed")
    assert task["businessStatus"]["coding"][0]["code"] == "overdracht"
    assert request["priority"] == "stat"
    assert {"system": C.INCIDENT_NUMBER, "value": "25-0302-044"} in request["identifier"]
    patient, = resources_of(bundle, "Patient")
    assert patient["identifier"] == [{"system": C.BSN, "value": "111222333"}]
    consent, = resources_of(bundle, "Consent")
    denied = [p["code"][0]["coding"][0] for p in consent["provision"]["provision"]]
    assert [(c["system"], c["code"]) for c in denied] == [(C.SNOMED, "89666000"), (C.NULL_FLAVOR, "OTH")]
    assert consent["meta"]["profile"] == [C.NICTIZ + "nl-core-TreatmentDirective2"]
    composition = bundle["entry"][0]["resource"]
    titles = [s["title"] for s in composition["section"]]
    order = [title for _, title in C.SECTIONS]
    assert titles == sorted(titles, key=order.index)  # the handover order
    assert "12-afleidingen-ECG" in titles and "ST-elevatie in: II, III, aVF" in str(composition)
    # The withdrawn remark stays, as entered-in-error; the refused morfine is a not-done administration.
    statuses = sorted(r["status"] for r in resources_of(bundle, "Communication"))
    assert statuses == ["completed", "entered-in-error"]
    refused = [m for m in resources_of(bundle, "MedicationAdministration") if m["status"] == "not-done"]
    assert refused[0]["statusReason"][0]["coding"][0]["code"] == "asked-declined"
    org_names = {o["name"] for o in resources_of(bundle, "Organization")}
    assert "SEH UMC Utrecht" in org_names


def test_trauma_corrections_are_later_versions_of_the_same_resource(forms):
    form = forms["trauma"]
    bundle = rit_bundle(form)
    heart = [r for r in resources_of(bundle, "Observation")
             if any(c["code"] == "8867-4" for c in r["code"].get("coding", []))]
    assert len(heart) == 1 and heart[0]["meta"]["versionId"] == "2" and heart[0]["status"] == "amended"
    assert heart[0]["valueQuantity"]["value"] == 135
    first = next(k for k, v in form["vitals"].items() if v.get("corrected_by"))
    from edge.wire.fhir import resource_id
    assert heart[0]["id"] == resource_id(form["rit_id"], f"entry/{first}")  # the first entry names the resource
    gcs = next(r for r in resources_of(bundle, "Observation") if r["code"]["coding"][0]["code"] == "35088-4")
    assert "valueInteger" not in gcs  # no total with V "niet mogelijk"
    assert [c.get("dataAbsentReason", {}).get("coding", [{}])[0].get("code") for c in gcs["component"]] == [
        None, None, "unknown"]
    again = rit_bundle(form, bundle_type="transaction")
    assert all(e["request"]["method"] == "PUT" and e["request"]["url"] == f"{e['resource']['resourceType']}/"
               f"{e['resource']['id']}" for e in again["entry"])
    assert [e["resource"]["id"] for e in again["entry"]] == [e["resource"]["id"] for e in bundle["entry"]]


def test_cancelled_and_unidentified_patients(forms):
    cancelled = rit_bundle(forms["cancelled"])
    task, = resources_of(cancelled, "Task")
    request, = resources_of(cancelled, "ServiceRequest")
    assert (task["status"], request["status"]) == ("cancelled", "revoked")
    assert task["statusReason"]["coding"][0]["code"] == "niet_vervoerd"
    for name in ("cancelled", "unidentified"):
        patient, = resources_of(rit_bundle(forms[name]), "Patient")
        assert "identifier" not in patient and "name" not in patient  # never a made-up identity
    unidentified = rit_bundle(forms["unidentified"])
    task, = resources_of(unidentified, "Task")
    assert {"url": C.EXT_ONVOLLEDIG, "valueBoolean": True} in task["extension"]
    allergy, = resources_of(unidentified, "AllergyIntolerance")
    assert allergy["code"]["extension"][0] == {"url": C.DATA_ABSENT_EXT, "valueCode": "unknown"}


def test_validation_refuses_a_broken_bundle(forms):
    bundle = rit_bundle(forms["trauma"])
    broken = copy.deepcopy(bundle)
    del broken["entry"][0]["resource"]["status"]  # Composition.status is required
    with pytest.raises(FhirInvalid, match="Composition"):
        validate(broken)
    broken = copy.deepcopy(bundle)
    broken["entry"][3]["resource"]["notAnElement"] = 1
    with pytest.raises(FhirInvalid):
        validate(broken)

