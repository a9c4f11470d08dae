"""The four FHIR scenarios (STEMI, trauma, cancelled, unidentified patient), recorded through
the tablet's API in-process (tests/harness/form_api.py); each returns the rit id."""

from __future__ import annotations

from tests.harness.form_api import FormApi


def _add(api: FormApi, rit: str, kind: str, data: dict, **extra) -> str:
    return api.entry(rit, kind, data, **extra).json()["entry_ids"][0]


def stemi(api: FormApi) -> str:
    rit = api.new_rit("seh-umcu", "A1", reason="pijn op de borst")
    url = f"/api/v1/rits/{rit}"
    _add(api, rit, "identification", {"dispatch_number": "25-0302-044",
                                      "crew": [{"name": "J. de Vries", "role": "ambulanceverpleegkundige"},
                                               {"name": "P. Bakker", "role": "ambulancechauffeur"}]})
    _add(api, rit, "patient", {"name": "H. de Boer", "date_of_birth": "1952-11-03", "sex": "M", "bsn": "111222333",
                               "weight_kg": 82})
    api.post(f"{url}/times", {"which": "melding", "at": "2025-03-02T14:01:00+01:00"}, 201)
    api.post(f"{url}/times", {"which": "bij_patient", "at": "2025-03-02T14:12:30+01:00"}, 201)
    _add(api, rit, "sample", {"signs_symptoms": "drukkende pijn op de borst sinds 40 min",
                              "medication_history": "metoprolol", "past_history": "hypertensie"})
    api.post(f"{url}/vitals", {"resp_rate": 18, "spo2": 96, "heart_rate": 96, "pulse_rate": 94, "bp_systolic": 150,
                               "bp_diastolic": 90, "bp_mean": 110, "temperature": 37.1, "glucose": 7.2,
                               "etco2": 4.8}, 201)
    _add(api, rit, "gcs", {"eye": 4, "verbal": 5, "motor": 6})
    _add(api, rit, "pain", {"nrs": 6, "text": "uitstraling linkerarm"})
    _add(api, rit, "ecg", {"rhythm": "sinus", "rate": 96, "st_elevation_leads": ["II", "III", "aVF"], "stemi": True,
                           "transmitted": True})
    _add(api, rit, "procedure", {"procedure": "ecg12", "result": "gelukt"})
    _add(api, rit, "medication", {"drug": "acetylsalicylzuur", "dose": 160, "unit": "mg", "route": "po"})
    _add(api, rit, "medication", {"drug": "heparine", "dose": 5000, "unit": "[iU]", "route": "iv"})
    _add(api, rit, "medication", {"drug": "morfine", "not_state": "geweigerd", "text": "wil geen morfine"})
    _add(api, rit, "diagnosis", {"text": "STEMI inferior", "snomed": "401303003"})
    _add(api, rit, "allergy", {"substance": "penicilline", "reaction": "urticaria"})
    _add(api, rit, "treatment_limits", {"status": "bekend", "limits": ["niet_reanimeren", "niet_intuberen"],
                                        "origin": "penning", "origin_date": "2023-05-01"})
    wrong = _add(api, rit, "remark", {"text": "bij verkeerde patiënt genoteerd"})
    api.post(f"{url}/entries/{wrong}/correct", {"withdraw": True, "reason": "verkeerde patiënt"}, 201)
    _add(api, rit, "remark", {"text": "echtgenote volgt met eigen auto"})
    api.post(f"{url}/announce", None, 202)
    api.post(f"{url}/times", {"which": "aankomst_seh", "at": "2025-03-02T14:40:00+01:00"}, 201)
    api.post(f"{url}/overdracht", {}, 202)
    return rit


def trauma(api: FormApi) -> str:
    rit = api.new_rit("seh-umcu", "A1", reason="motor tegen vangrail",
                      location={"address": "A27 hmp 72,4", "lat": 52.06, "lon": 5.17})
    url = f"/api/v1/rits/{rit}"
    _add(api, rit, "patient", {"sex": "M", "estimated_age_years": 35})
    for which, at in (("melding", "10:02"), ("vertrek", "10:03"), ("ter_plaatse", "10:11")):
        api.post(f"{url}/times", {"which": which, "at": f"2025-03-01T{at}:00+01:00"}, 201)
    _add(api, rit, "trauma_mechanism", {"accident_type": "verkeer_motor", "text": "ca. 80 km/u"})
    _add(api, rit, "airway", {"status": "vrij", "interventions": ["cervicale_immobilisatie"]})
    _add(api, rit, "breathing", {"findings": ["tachypneu"], "oxygen_device": "non_rebreathing", "oxygen_flow_l_min": 15})
    vitals = api.post(f"{url}/vitals", {"resp_rate": 24, "spo2": 93, "heart_rate": 118, "bp_systolic": 105,
                                        "bp_diastolic": 70, "temperature": "niet mogelijk"}, 201).json()["by_parameter"]
    api.post(f"{url}/entries/{vitals['heart_rate']}/correct",
             {"data": {"parameter": "heart_rate", "value": 135}, "reason": "verkeerd afgelezen"}, 201)
    _add(api, rit, "circulation", {"skin": ["bleek", "klam"], "capillary_refill_s": 3, "bleeding": "gecontroleerd"})
    _add(api, rit, "gcs", {"eye": 3, "verbal": "niet mogelijk", "motor": 6})
    _add(api, rit, "exposure", {"injuries": [{"region": "been_rechts", "findings": ["open_fractuur", "bloeding"]}]})
    _add(api, rit, "pain", {"not_state": "niet mogelijk"})
    fentanyl = _add(api, rit, "medication", {"drug": "fentanyl", "dose": 50, "unit": "ug", "route": "iv"})
    api.post(f"{url}/entries/{fentanyl}/correct", {"data": {"drug": "fentanyl", "dose": 100, "unit": "ug", "route": "iv"},
                                                   "reason": "dosis verkeerd ingevoerd"}, 201)
    _add(api, rit, "medication", {"drug": "tranexaminezuur", "dose": 1000, "unit": "mg", "route": "iv"})
    _add(api, rit, "procedure", {"procedure": "tourniquet", "result": "gelukt"})
    _add(api, rit, "procedure", {"procedure": "intubatie", "not_state": "niet uitgevoerd"})
    _add(api, rit, "diagnosis", {"text": "open onderbeenfractuur rechts, verdenking hypovolemie"})
    _add(api, rit, "allergy", {"no_known_allergies": True})
    _add(api, rit, "treatment_limits", {"status": "geen"})
    _add(api, rit, "legal_measure", {"not_state": "niet van toepassing"})
    api.post(f"{url}/announce", None, 202)
    api.post(f"{url}/overdracht", {}, 202)
    _add(api, rit, "remark", {"text": "familie ingelicht"}, nagekomen=True)
    return rit


def cancelled(api: FormApi) -> str:
    """Nictiz's minimal qualification case: identity unknown, only sex; announced, then cancelled."""
    rit = api.new_rit("seh-umcu", "A1")
    _add(api, rit, "patient", {"sex": "F"})
    api.post(f"/api/v1/rits/{rit}/announce", None, 202)
    api.post(f"/api/v1/rits/{rit}/cancel", {"reason": "niet_vervoerd", "text": "patiënt blijft thuis"}, 202)
    return rit


def unidentified(api: FormApi) -> str:
    rit = api.new_rit("seh-umcu", "A2", reason="onwel op straat")
    _add(api, rit, "patient", {"unidentified": True, "sex": "M", "estimated_age_years": 50})
    api.post(f"/api/v1/rits/{rit}/vitals", {"heart_rate": 60, "resp_rate": 12, "spo2": "niet beoordeeld"}, 201)
    _add(api, rit, "intoxication", {"substance": "alcohol"})
    _add(api, rit, "treatment_limits", {"not_state": "niet mogelijk"})
    _add(api, rit, "allergy", {"not_state": "niet mogelijk", "text": "patiënt niet aanspreekbaar"})
    api.post(f"/api/v1/rits/{rit}/announce", None, 202)
    api.post(f"/api/v1/rits/{rit}/overdracht", {"onvolledig": True}, 202)
    return rit


SCENARIOS = {"stemi": stemi, "trauma": trauma, "cancelled": cancelled, "unidentified": unidentified}
