"""A scripted trauma A1 run through the HTTP API only: motorcyclist with an open lower-leg
fracture, a mistyped heart rate and a wrong fentanyl dose corrected on the way, handed over
complete, then one late addition. Ends with the expected form, NEWS2/GCS and access log."""

from __future__ import annotations

from tests.harness.form_api import CREW, api  # noqa: F401 (api is a fixture)


def test_trauma_a1_run(api):
    rit = api.new_rit("seh-umcu", "A1", reason="motor tegen vangrail",
                      location={"address": "A27 hmp 72,4", "lat": 52.06, "lon": 5.17})
    url = f"/api/v1/rits/{rit}"
    writes = ["rit.create"]

    def add(kind, data, **extra):
        writes.append(f"entry.add.{kind}")
        return api.entry(rit, kind, data, **extra).json()["entry_ids"][0]

    add("identification", {"dispatch_number": "25-0301-117",
                           "crew": [{"name": "J. de Vries", "role": "ambulanceverpleegkundige"},
                                    {"name": "P. Bakker", "role": "ambulancechauffeur"}]})
    add("patient", {"sex": "M", "estimated_age_years": 35})
    for which, at in (("melding", "10:02"), ("vertrek", "10:03"), ("ter_plaatse", "10:11")):
        api.post(f"{url}/times", {"which": which, "at": f"2025-03-01T{at}:00+01:00"}, 201)
        writes.append("entry.add.time")
    add("trauma_mechanism", {"accident_type": "verkeer_motor", "text": "ca. 80 km/u"})
    add("airway", {"status": "vrij", "interventions": ["cervicale_immobilisatie"]})
    add("breathing", {"findings": ["tachypneu"], "oxygen_device": "non_rebreathing", "oxygen_flow_l_min": 15})

    vitals = api.post(f"{url}/vitals", {"resp_rate": 24, "spo2": 93, "heart_rate": 118, "bp_systolic": 105,
                                        "bp_diastolic": 70, "temperature": 36.4}, 201).json()["by_parameter"]
    writes.append("vitals.add")
    hr_entry = vitals["heart_rate"]
    hr_fix = api.post(f"{url}/entries/{hr_entry}/correct",
                      {"data": {"parameter": "heart_rate", "value": 135}, "reason": "verkeerd afgelezen"}, 201)
    writes.append("entry.correct")

    add("circulation", {"skin": ["bleek", "klam"], "capillary_refill_s": 3, "bleeding": "gecontroleerd",
                        "interventions": ["tourniquet", "iv"]})
    add("disability", {"acvpu": "C", "pupil_left_mm": 3, "pupil_right_mm": 3, "lateralisation": "geen"})
    add("gcs", {"eye": 3, "verbal": 4, "motor": 6})
    add("exposure", {"injuries": [{"region": "been_rechts", "findings": ["open_fractuur", "bloeding"]}],
                     "burns_tbsa_percent": 0})
    add("pain", {"nrs": 8, "text": "rechter onderbeen"})
    fentanyl = add("medication", {"drug": "fentanyl", "dose": 50, "unit": "ug", "route": "iv"})
    fentanyl_fix = api.post(f"{url}/entries/{fentanyl}/correct",
                            {"data": {"drug": "fentanyl", "dose": 100, "unit": "ug", "route": "iv"},
                             "reason": "dosis verkeerd ingevoerd"}, 201).json()["entry_ids"][0]
    writes.append("entry.correct")
    add("medication", {"drug": "tranexaminezuur", "dose": 1000, "unit": "mg", "route": "iv"})
    add("procedure", {"procedure": "tourniquet", "result": "gelukt"})
    add("procedure", {"procedure": "infuus", "result": "gelukt", "attempts": 2})
    add("diagnosis", {"text": "open onderbeenfractuur rechts, verdenking hypovolemie"})
    add("allergy", {"no_known_allergies": True})
    add("treatment_limits", {"status": "geen"})

    api.post(f"{url}/announce", None, 202)
    writes.append("rit.announce")
    api.post(f"{url}/times", {"which": "aankomst_seh", "at": "2025-03-01T10:41:00+01:00"}, 201)
    writes.append("entry.add.time")
    add("remark", {"text": "tourniquet aangelegd 10:16"})
    assert api.get(f"{url}/overdracht/missing")["missing"] == []
    handover = api.post(f"{url}/overdracht", {}, 202).json()
    writes.append("rit.overdracht")
    assert handover["onvolledig"] is False and handover["missing"] == []

    # After the overdracht only marked late additions.
    refused = api.entry(rit, "remark", {"text": "vergeten"}, status=409).json()["detail"][0]
    assert refused["loc"] == ["body", "nagekomen"]
    late = add("remark", {"text": "familie ingelicht"}, nagekomen=True)

    view = api.get(url)
    form = view["form"]
    assert view["lifecycle"] == form["status"] == "overdracht"
    assert form["overdracht"]["onvolledig"] is False and form["overdracht"]["seh_id"] == "seh-umcu"
    assert form["melding"] == {"urgency": "A1", "reason": "motor tegen vangrail",
                               "location": {"address": "A27 hmp 72,4", "lat": 52.06, "lon": 5.17}}
    assert form["patient"] == {"identified": False, "sex": "M", "estimated_age_years": 35}
    assert form["identification"]["dispatch_number"] == "25-0301-117"
    assert form["times"]["ter_plaatse"] == "2025-03-01T09:11:00.000Z"  # stored in UTC
    assert set(form["times"]) == {"melding", "vertrek", "ter_plaatse", "aankomst_seh", "overdracht"}

    # The mistyped heart rate stays, marked corrected, with the reason; the new value replaces it.
    old_hr, new_hr = form["vitals"][hr_entry], form["vitals"][hr_fix.json()["entry_ids"][0]]
    assert old_hr["value"] == 118 and old_hr["corrected_by"] == hr_fix.json()["entry_ids"][0]
    assert old_hr["correction_reason"] == "verkeerd afgelezen"
    assert new_hr["value"] == 135 and new_hr["replaces"] == hr_entry and new_hr["code"] == 147842
    assert new_hr["clinical_time"] == old_hr["clinical_time"]  # the value measured then, corrected now
    old_med, new_med = form["medications"][fentanyl], form["medications"][fentanyl_fix]
    assert old_med["dose"] == 50 and old_med["corrected_by"] == fentanyl_fix
    assert new_med["dose"] == 100 and new_med["given_by"] == CREW["X-Ritlink-User"]
    assert form["remarks"][late]["nagekomen"] is True
    assert next(iter(form["primary_survey"]["E"].values()))["injuries"][0]["findings"] == ["open_fractuur", "bloeding"]

    scores = form["scores"]
    # RR 24 -> 2, SpO2 93 -> 2, oxygen -> 2, SBP 105 -> 1, pulse 135 (corrected) -> 3, C -> 3, 36.4 -> 0
    assert scores["news2"]["subscores"] == {"resp_rate": 2, "spo2": 2, "oxygen": 2, "bp_systolic": 1,
                                            "pulse": 3, "consciousness": 3, "temperature": 0}
    assert (scores["news2"]["total"], scores["news2"]["risk"]) == (13, "hoog")
    assert (scores["gcs"]["total"], scores["gcs"]["notation"], scores["gcs"]["severity"]) == (13, "E3M6V4", "licht")
    assert scores["pain"]["nrs"] == 8 and scores["pain"]["category"] == "ernstig"

    assert api.store.rebuild_form(rit) == form
    messages = view["messages"]
    assert [m["status"] for m in messages] == ["overdracht"]  # never sent: folded into one message

    log = api.get(f"{url}/audit")
    write_actions = [row["action"] for row in log if not row["action"].endswith((".read", ".missing"))
                     and row["action"] != "audit.read"]
    assert write_actions == writes
    assert {"rit.read", "overdracht.missing"} <= {row["action"] for row in log}
    assert all(row["user"] == "j.devries" and row["role"] == "ambulanceverpleegkundige"
               and row["client"] == "testclient" for row in log)
    assert all(row["rit_id"] == rit for row in log)
