"""The round trip: a FHIR bundle of a rit read back into a form view, and the same view of the form.

``form_view(form)`` and ``bundle_view(bundle)`` give one shape (administrative views,
then one record per clinical item with its entry id, time, author, version and values);
equal views mean the bundle carries everything of the form except what
``fhir_codes.NOT_MAPPED`` and ``NARRATIVE_KINDS`` name (and docs/fhir.md lists).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edge.form.entries import utc_iso
from edge.wire import fhir_codes as C
from edge.wire.fhir import clinical_items, shown
from edge.wire.fhir_items import ITEM_BUILDERS

_ITEM_META = ("clinical_time", "recorded_at", "author", "source", "position", "replaces", "replaces_reason",
              "nagekomen", "confirmed_unusual", "withdrawn", "corrected_by", "correction_reason", "entry_id")


def _utc(value: str) -> str:
    return utc_iso(datetime.fromisoformat(value.replace("Z", "+00:00")))


def _drop(data: dict, paths: tuple[str, ...]) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for path in paths:
        head, _, rest = path.partition(".")
        if rest and isinstance(out.get(head), dict):
            out[head].pop(rest, None)
            if not out[head]:
                out.pop(head)
        elif not rest:
            out.pop(head, None)
    return out


# -- the form's side ----------------------------------------------------------------------------------
def form_view(form: dict[str, Any]) -> dict[str, Any]:
    status = form["status"]
    patient = {k: v for k, v in form.get("patient", {}).items() if k != "identified"}
    view: dict[str, Any] = {
        "status": status, "vehicle_id": form["vehicle_id"], "created_at": _utc(form["created_at"]),
        "destination_seh": form.get("destination_seh"), "patient": patient,
        "melding": _drop(form.get("melding", {}), C.NOT_MAPPED["melding"]),
        "identification": form.get("identification", {}),
        "times": {which: _utc(at) for which, at in form.get("times", {}).items()},
    }
    if status == "overdracht":
        view["overdracht"] = {"at": _utc(form["overdracht"]["at"]), "onvolledig": form["overdracht"]["onvolledig"],
                              "missing": form["overdracht"].get("missing", [])}
    if status == "geannuleerd":
        cancellation = form["cancellation"]
        view["cancellation"] = {"at": _utc(cancellation["at"]),
                                **{k: cancellation[k] for k in ("reason", "text") if k in cancellation}}
    items = []
    for kind, head, chain in clinical_items(form):
        item = shown(head, chain)
        if kind not in ITEM_BUILDERS or (kind == "vital" and "parameter" not in item):
            continue
        skip = (*_ITEM_META, *C.NOT_MAPPED["*"], *C.NOT_MAPPED.get(kind, ()))
        record = {"kind": kind, "entry_id": head["entry_id"], "clinical_time": _utc(head["clinical_time"]),
                  "author": head["author"], "version": len(chain),
                  "data": _drop({k: v for k, v in item.items() if k not in _ITEM_META}, skip)}
        for flag in ("withdrawn", "nagekomen"):
            if head.get(flag):
                record[flag] = True
        if head.get("replaces_reason"):
            record["replaces_reason"] = head["replaces_reason"]
        if kind == "vital":
            record["source"] = head.get("source", "manual")
        items.append(record)
    view["items"] = sorted(items, key=lambda r: r["entry_id"])
    return view


# -- the bundle's side --------------------------------------------------------------------------------
def _codes(concept: dict | None, system: str) -> list[str]:
    return [c["code"] for c in (concept or {}).get("coding", []) if c.get("system") == system]


def _code(concept: dict | None, system: str) -> str | None:
    found = _codes(concept, system)
    return found[0] if found else None


def _ext(resource: dict, url: str) -> Any:
    for extension in resource.get("extension", []):
        if extension["url"] == url:
            return next(v for k, v in extension.items() if k.startswith("value"))
    return None


def _local(concept: dict | None, list_name: str) -> str | None:
    return _code(concept, C.local_system(list_name))


def bundle_view(bundle: dict[str, Any]) -> dict[str, Any]:
    resources = [e["resource"] for e in bundle.get("entry", [])]
    by_url = {e["fullUrl"]: e["resource"] for e in bundle.get("entry", [])}
    one = {r["resourceType"]: r for r in resources if r["resourceType"] in ("Task", "ServiceRequest", "Encounter",
                                                                            "Patient")}
    task, request, encounter, patient_r = one["Task"], one["ServiceRequest"], one["Encounter"], one["Patient"]
    status = _code(task.get("businessStatus"), C.RIT_STATUS)
    organizations = [r for r in resources if r["resourceType"] == "Organization"]
    seh = next((o["identifier"][0]["value"] for o in organizations if o["identifier"][0]["system"] == C.SEH), None)
    vehicle = next(o["identifier"][0]["value"] for o in organizations if o["identifier"][0]["system"] == C.VEHICLE)

    def user(ref: dict | None) -> str | None:
        target = by_url.get((ref or {}).get("reference", ""))
        return target["identifier"][0]["value"] if target else None

    melding: dict[str, Any] = {}
    reverse_priority = {v: k for k, v in C.PRIORITY.items()}
    if "priority" in request:
        melding["urgency"] = reverse_priority[request["priority"]]
    if request.get("reasonCode"):
        melding["reason"] = request["reasonCode"][0]["text"]
    if encounter.get("location"):
        melding["location"] = {"address": encounter["location"][0]["location"]["display"]}
    identification: dict[str, Any] = {}
    dispatch = [i["value"] for i in request.get("identifier", []) if i["system"] == C.INCIDENT_NUMBER]
    if dispatch:
        identification["dispatch_number"] = dispatch[0]
    crew = []
    roles = {r["practitioner"]["reference"]: r for r in resources if r["resourceType"] == "PractitionerRole"}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Practitioner" and resource.get("name"):
            member = {"name": resource["name"][0]["text"]}
            role = roles.get(entry["fullUrl"])
            if role and role.get("code"):
                member["role"] = _local(role["code"][0], "crew_roles")
            crew.append(member)
    if crew:
        identification["crew"] = crew
    view: dict[str, Any] = {
        "status": status, "vehicle_id": vehicle, "created_at": _utc(task["authoredOn"]), "destination_seh": seh,
        "patient": _patient(patient_r, resources), "melding": melding, "identification": identification,
        "times": {e["url"][len(C.EXT_RUN_TIME):]: _utc(e["valueDateTime"]) for e in encounter.get("extension", [])
                  if e["url"].startswith(C.EXT_RUN_TIME)},
    }
    if status == "overdracht":
        view["overdracht"] = {"at": _utc(task["executionPeriod"]["end"]), "onvolledig": _ext(task, C.EXT_ONVOLLEDIG),
                              "missing": _codes(task["businessStatus"], C.LOCAL + "overdracht-missing")}
    if status == "geannuleerd":
        reason = task.get("statusReason", {})
        view["cancellation"] = {"at": _utc(task["executionPeriod"]["end"]),
                                **({"reason": _local(reason, "cancel_reasons")} if reason.get("coding") else {}),
                                **({"text": reason["text"]} if "text" in reason else {})}
    items = [_item(r, user) for r in resources if isinstance(r.get("identifier"), list)
             and any(i.get("system") == C.ENTRY_ID for i in r["identifier"])]
    view["items"] = sorted(items, key=lambda r: r["entry_id"])
    return view


def _patient(patient: dict, resources: list[dict]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    reverse_gender = {v: k for k, v in C.GENDER.items()}
    if patient.get("name"):
        out["name"] = patient["name"][0]["text"]
    if patient.get("birthDate"):
        out["date_of_birth"] = patient["birthDate"]
    if patient.get("gender"):
        out["sex"] = reverse_gender[patient["gender"]]
    for identifier in patient.get("identifier", []):
        if identifier["system"] == C.BSN:
            out["bsn"] = identifier["value"]
    if (age := _ext(patient, C.EXT_ESTIMATED_AGE)) is not None:
        out["estimated_age_years"] = age["value"]
    if (unidentified := _ext(patient, C.EXT_UNIDENTIFIED)) is not None:
        out["unidentified"] = unidentified
    for resource in resources:
        if resource["resourceType"] == "Observation" and _code(resource["code"], C.LOINC) == C.BODY_WEIGHT[0]:
            out["weight_kg"] = resource["valueQuantity"]["value"]
    return out


def _not_state(concept: dict | None) -> str | None:
    return _code(concept, C.NOT_STATE)


def _item(resource: dict, user) -> dict[str, Any]:
    rtype, profile = resource["resourceType"], resource["meta"].get("profile", [""])[0]
    entry_id = next(i["value"] for i in resource["identifier"] if i["system"] == C.ENTRY_ID)
    withdrawn = resource.get("status") == "entered-in-error" or "entered-in-error" in _codes(
        resource.get("verificationStatus"), "http://terminology.hl7.org/CodeSystem/condition-ver-status") + _codes(
        resource.get("verificationStatus"), "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification")
    kind, data, when, author = _READERS[rtype](resource, profile, user)
    record: dict[str, Any] = {"kind": kind, "entry_id": entry_id, "clinical_time": _utc(when), "author": author,
                              "version": int(resource["meta"]["versionId"]), "data": data}
    if withdrawn:
        record["withdrawn"] = True
    if _ext(resource, C.EXT_NAGEKOMEN):
        record["nagekomen"] = True
    if (reason := _ext(resource, C.EXT_CORRECTION_REASON)) is not None:
        record["replaces_reason"] = reason
    if kind == "vital":
        record["source"] = resource.get("device", {}).get("display", "manual")
    return record


def _note(resource: dict) -> dict:
    return {"text": resource["note"][0]["text"]} if resource.get("note") else {}


def _observation(r: dict, profile: str, user) -> tuple:
    when, author = r["effectiveDateTime"], user(r["performer"][0])
    if profile == C.PROFILES["GlasgowComaScale"]:
        data = {}
        for part, (snomed, system, prefix) in C.GCS_PARTS.items():
            component = next(c for c in r["component"] if _code(c["code"], C.SNOMED) == snomed)
            value = _code(component.get("valueCodeableConcept"), system)
            data[part] = int(value[len(prefix):]) if value else _not_state(component["dataAbsentReason"])
        return "gcs", data, when, author
    if profile == C.PROFILES["PainScore"]:
        value = {"nrs": r["valueInteger"]} if "valueInteger" in r else {"not_state": _not_state(r["dataAbsentReason"])}
        return "pain", {**value, **_note(r)}, when, author
    measured = r["component"][0] if r.get("component") else r
    loinc = _codes(measured["code"], C.LOINC)[0]
    parameter = next(name for name, codes in C.VITAL_CODES.items() if codes[1] == loinc)
    value = ({"value": measured["valueQuantity"]["value"]} if "valueQuantity" in measured
             else {"not_state": _not_state(measured["dataAbsentReason"])})
    return "vital", {"parameter": parameter, **value, **_note(r)}, when, author


def _condition(r: dict, profile: str, user) -> tuple:
    when, author = r["recordedDate"], user(r["recorder"])
    if profile == C.PROFILES["LegalStatus"]:
        measure = _local(r["code"], "legal_measures")
        return "legal_measure", ({"measure": measure} if measure else {"not_state": _not_state(r["code"])}) | _note(r), \
            when, author
    snomed = _code(r["code"], C.SNOMED)
    return "diagnosis", {"text": r["code"]["text"], **({"snomed": snomed} if snomed else {})}, when, author


def _procedure(r: dict, profile: str, user) -> tuple:
    data: dict[str, Any] = {"procedure": _local(r["code"], "procedures")}
    if r.get("statusReason"):
        data["not_state"] = _not_state(r["statusReason"])
    if r.get("outcome"):
        data["result"] = _local(r["outcome"], "procedure_results")
    return "procedure", {**data, **_note(r)}, r["performedDateTime"], user(r["performer"][0]["actor"])


def _medication(r: dict, profile: str, user) -> tuple:
    data: dict[str, Any] = {"drug": _local(r["medicationCodeableConcept"], "medications")}
    dosage = r.get("dosage", {})
    if "dose" in dosage:
        data.update(dose=dosage["dose"]["value"], unit=dosage["dose"]["code"])
    if "route" in dosage:
        data["route"] = _local(dosage["route"], "routes")
    if r.get("statusReason"):
        data["not_state"] = _not_state(r["statusReason"][0])
    given = [p["actor"]["display"] for p in r["performer"][1:] if "display" in p["actor"]]
    if given:
        data["given_by"] = given[0]
    return "medication", {**data, **_note(r)}, r["effectiveDateTime"], user(r["performer"][0]["actor"])


def _allergy(r: dict, profile: str, user) -> tuple:
    code = r["code"]
    if _not_state(code):
        data: dict[str, Any] = {"not_state": _not_state(code)}
    elif _code(code, C.SNOMED) == C.NO_KNOWN_ALLERGY[0]:
        data = {"no_known_allergies": True}
    else:
        data = {"substance": code["text"]}
    if r.get("reaction"):
        data["reaction"] = r["reaction"][0]["manifestation"][0]["text"]
    return "allergy", {**data, **_note(r)}, r["recordedDate"], user(r["recorder"])


def _consent(r: dict, profile: str, user) -> tuple:
    data: dict[str, Any] = {}
    for category in r["category"][1:]:
        if (status := _code(category, C.LOCAL + "treatment-limits-status")) is not None:
            data["status"] = status
        elif (state := _not_state(category)) is not None:
            data["not_state"] = state
        elif (origin := _local(category, "treatment_limit_sources")) is not None:
            data["origin"] = origin
    limits = [_local(p["code"][0], "treatment_limits") for p in r.get("provision", {}).get("provision", [])]
    if limits:
        data["limits"] = limits
    if "dateTime" in r:
        data["origin_date"] = r["dateTime"]
    if r.get("policyRule", {}).get("text") not in (None, "behandelgrenzen uitgevraagd"):
        data["text"] = r["policyRule"]["text"]
    return "treatment_limits", data, _ext(r, C.EXT + "clinical-time"), user(_ext(r, C.EXT + "recorder"))


def _communication(r: dict, profile: str, user) -> tuple:
    return "remark", {"text": r["payload"][0]["contentString"]}, r["sent"], user(r["sender"])


_READERS = {"Observation": _observation, "Condition": _condition, "Procedure": _procedure,
            "MedicationAdministration": _medication, "AllergyIntolerance": _allergy, "Consent": _consent,
            "Communication": _communication}
