"""One FHIR resource per clinical item of the form (used by edge/wire/fhir.py).

Each builder gets the chain's head (the latest entry: its id, time, author, correction
reason) and ``item`` (the values shown: for a withdrawal, the withdrawn value). A "not"
state becomes ``dataAbsentReason`` where the resource has one (Observation), else the
resource's own negation (``not-done``) or a data-absent-reason extension on its code; the
exact Dutch state always rides along as a local coding.
"""

from __future__ import annotations

from typing import Any

from edge.form.entries import CLIENT_KINDS
from edge.form.plausibility import VITALS
from edge.wire import fhir_codes as C
from edge.wire.fhir import coding, label, local, quantity

ERROR = "entered-in-error"


def not_state(state: str) -> dict[str, Any]:
    return {"coding": [coding(C.DATA_ABSENT, C.NOT_STATE_ABSENT[state]), coding(C.NOT_STATE, state)], "text": state}


def absent_code(state: str, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept that says *why* there is no value (for resources without dataAbsentReason)."""
    return {"extension": [{"url": C.DATA_ABSENT_EXT, "valueCode": C.NOT_STATE_ABSENT[state]}],
            "coding": [coding(C.NOT_STATE, state)], "text": text or state}


def _base(build, head: dict, chain: list[dict]) -> tuple[dict, int]:
    extensions, version = build.common(head, chain)
    body: dict[str, Any] = {"identifier": [{"system": C.ENTRY_ID, "value": head["entry_id"]}]}
    if extensions:
        body["extension"] = extensions
    return body, version


def _note(item: dict) -> dict:
    return {"note": [{"text": item["text"]}]} if item.get("text") else {}


def _withdrawn(head: dict) -> bool:
    return bool(head.get("withdrawn"))


def vital(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    name = item["parameter"]
    profile, loinc, display, unit = C.VITAL_CODES[name]
    category = "laboratory" if name == "glucose" else "vital-signs"
    measured: dict[str, Any] = ({"valueQuantity": quantity(item["value"], unit)} if "value" in item
                                else {"dataAbsentReason": not_state(item["not_state"])})
    codings = [coding(C.LOINC, loinc, display)]
    if name == "spo2":
        codings.append(coding(C.LOINC, C.SPO2_PULSE_OXIMETRY))
    if VITALS[name].mdc is not None:
        codings.append(coding(C.MDC, VITALS[name].mdc))
    if name.startswith("bp_"):  # the zib's panel, with the one component this entry measured
        code = {"coding": [coding(C.LOINC, *C.BP_PANEL)]}
        values = {"component": [{"code": {"coding": codings}, **measured}]}
    else:
        code, values = {"coding": codings, "text": VITALS[name].label}, measured
    source = head.get("source", "manual")
    body.update({
        "status": ERROR if _withdrawn(head) else ("amended" if version > 1 else "final"),
        "category": [{"coding": [coding(C.OBSERVATION_CATEGORY, category)]}], "code": code,
        "subject": build.ref(build.patient), "encounter": build.ref(build.encounter),
        "effectiveDateTime": head["clinical_time"], "performer": [build.user(head["author"])], **values,
        **_note(item), **({"device": {"display": source}} if source != "manual" else {})})
    build.add("Observation", head_key(chain), profile, body, "vitals", version)


def gcs(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    components, scores = [], []
    for part, (snomed, system, prefix) in C.GCS_PARTS.items():
        value = item[part]
        component: dict[str, Any] = {"code": {"coding": [coding(C.SNOMED, snomed)]}}
        if isinstance(value, str):
            component["dataAbsentReason"] = not_state(value)
        else:
            component["valueCodeableConcept"] = {"coding": [coding(system, f"{prefix}{int(value)}")]}
            scores.append(int(value))
        components.append(component)
    body.update({"status": ERROR if _withdrawn(head) else "final", "code": {"coding": [coding(C.LOINC, *C.GCS_TOTAL)]},
                 "subject": build.ref(build.patient), "effectiveDateTime": head["clinical_time"],
                 "performer": [build.user(head["author"])], "component": components,
                 **({"valueInteger": sum(scores)} if len(scores) == 3 else
                    {"dataAbsentReason": {"coding": [coding(C.DATA_ABSENT, "not-performed")]}})})
    build.add("Observation", head_key(chain), C.PROFILES["GlasgowComaScale"], body, "vitals", version)


def pain(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    body.update({"status": ERROR if _withdrawn(head) else "final", "code": {"coding": [coding(C.SNOMED, *C.PAIN_SCORE)]},
                 "subject": build.ref(build.patient), "effectiveDateTime": head["clinical_time"],
                 "performer": [build.user(head["author"])], **_note(item),
                 **({"valueInteger": int(item["nrs"])} if "nrs" in item else {"dataAbsentReason": not_state(item["not_state"])})})
    build.add("Observation", head_key(chain), C.PROFILES["PainScore"], body, "vitals", version)


def diagnosis(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    codings = [coding(C.SNOMED, item["snomed"])] if item.get("snomed") else []
    body.update({
        "clinicalStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")]},
        "verificationStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                                 ERROR if _withdrawn(head) else "provisional")]},
        "category": [{"coding": [coding(C.SNOMED, *C.DIAGNOSIS_CATEGORY)]}],
        "code": {**({"coding": codings} if codings else {}), "text": item["text"]},
        "subject": build.ref(build.patient), "recordedDate": head["clinical_time"],
        "recorder": build.user(head["author"])})
    build.add("Condition", head_key(chain), C.PROFILES["Condition"], body, "diagnosis", version)


def legal_measure(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    code = ({"coding": [local("legal_measures", item["measure"])], "text": label("legal_measures", item["measure"])}
            if "measure" in item else absent_code(item["not_state"]))
    body.update({
        "clinicalStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-clinical", "active")]},
        **({"verificationStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-ver-status",
                                                     ERROR)]}} if _withdrawn(head) else {}),
        "category": [{"coding": [coding(C.SNOMED, *C.LEGAL_STATUS)]}], "code": code,
        "subject": build.ref(build.patient), "recordedDate": head["clinical_time"],
        "recorder": build.user(head["author"]), **_note(item)})
    build.add("Condition", head_key(chain), C.PROFILES["LegalStatus"], body, "legal_measure", version)


def procedure(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    status = ERROR if _withdrawn(head) else ("not-done" if "not_state" in item else "completed")
    body.update({
        "status": status, **({"statusReason": not_state(item["not_state"])} if "not_state" in item else {}),
        "code": {"coding": [local("procedures", item["procedure"])], "text": label("procedures", item["procedure"])},
        "subject": build.ref(build.patient), "encounter": build.ref(build.encounter),
        "performedDateTime": head["clinical_time"], "performer": [{"actor": build.user(head["author"])}],
        **({"outcome": {"coding": [local("procedure_results", item["result"])]}} if "result" in item else {}),
        **_note(item)})
    build.add("Procedure", head_key(chain), C.PROFILES["Procedure"], body, "procedure", version)


def medication(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    status = ERROR if _withdrawn(head) else ("not-done" if "not_state" in item else "completed")
    performers = [{"actor": build.user(head["author"])}]
    if item.get("given_by"):
        performers.append({"function": {"coding": [coding(C.LOCAL + "performer", "given_by")]},
                           "actor": {"display": item["given_by"]}})
    dosage: dict[str, Any] = {}
    if "route" in item:
        dosage["route"] = {"coding": [local("routes", item["route"])], "text": label("routes", item["route"])}
    if "dose" in item:
        dosage["dose"] = quantity(item["dose"], item["unit"])
    body.update({
        "status": status, **({"statusReason": [not_state(item["not_state"])]} if "not_state" in item else {}),
        "category": {"coding": [coding(C.SNOMED, *C.MEDICATION_ADMINISTRATION)]},
        "medicationCodeableConcept": {"coding": [local("medications", item["drug"])],
                                      "text": label("medications", item["drug"])},
        "subject": build.ref(build.patient), "context": build.ref(build.encounter),
        "effectiveDateTime": head["clinical_time"], "performer": performers,
        **({"dosage": dosage} if dosage else {}), **_note(item)})
    build.add("MedicationAdministration", head_key(chain), C.PROFILES["MedicationAdministration"], body,
              "medication", version)


def allergy(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    if "not_state" in item:
        code = absent_code(item["not_state"])
    elif item.get("no_known_allergies"):
        code = {"coding": [coding(C.SNOMED, *C.NO_KNOWN_ALLERGY)], "text": C.NO_KNOWN_ALLERGY[1]}
    else:
        code = {"text": item["substance"]}
    verification = ERROR if _withdrawn(head) else "confirmed"
    body.update({
        "clinicalStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical",
                                             "active")]},
        "verificationStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification",
                                                 verification)]},
        "code": code, "patient": build.ref(build.patient), "recordedDate": head["clinical_time"],
        "recorder": build.user(head["author"]), **_note(item),
        **({"reaction": [{"manifestation": [{"text": item["reaction"]}]}]} if item.get("reaction") else {})})
    build.add("AllergyIntolerance", head_key(chain), C.PROFILES["AllergyIntolerance"], body, "allergy", version)


def treatment_limits(build, kind, head, chain, item) -> None:
    """Behandelgrenzen as zib TreatmentDirective2 (Consent): each limit a denied provision."""
    body, version = _base(build, head, chain)
    category = [{"coding": [coding(C.SNOMED, *C.TREATMENT_DIRECTIVE)]}]
    if "status" in item:
        category.append({"coding": [coding(C.LOCAL + "treatment-limits-status", item["status"])]})
    else:
        category.append(absent_code(item["not_state"]))
    if "origin" in item:
        category.append({"coding": [local("treatment_limit_sources", item["origin"])]})
    provisions = []
    for limit in item.get("limits", []):
        codings = [coding(C.SNOMED, *C.TREATMENT_CODES[limit])] if limit in C.TREATMENT_CODES else [
            coding(C.NULL_FLAVOR, "OTH")]
        provisions.append({"type": "deny", "code": [{"coding": [*codings, local("treatment_limits", limit)],
                                                     "text": label("treatment_limits", limit)}]})
    provision = ({"type": "deny", "provision": provisions} if provisions
                 else {"type": "permit"} if item.get("status") == "geen" else None)
    body["extension"] = [*body.get("extension", []),
                         {"url": C.EXT + "clinical-time", "valueDateTime": head["clinical_time"]},
                         {"url": C.EXT + "recorder", "valueReference": build.user(head["author"])}]
    body.update({
        "status": ERROR if _withdrawn(head) else "active",
        "scope": {"coding": [coding("http://terminology.hl7.org/CodeSystem/consentscope", "treatment")]},
        "category": category, "patient": build.ref(build.patient),
        **({"dateTime": item["origin_date"]} if "origin_date" in item else {}),
        "policyRule": {"text": item["text"]} if item.get("text") else {"text": "behandelgrenzen uitgevraagd"},
        **({"provision": provision} if provision else {})})
    build.add("Consent", head_key(chain), C.PROFILES["Consent"], body, "treatment_limits", version)


def remark(build, kind, head, chain, item) -> None:
    body, version = _base(build, head, chain)
    body.update({"status": ERROR if _withdrawn(head) else "completed", "subject": build.ref(build.patient),
                 "encounter": build.ref(build.encounter), "sent": head["clinical_time"],
                 "sender": build.user(head["author"]), "payload": [{"contentString": item["text"]}]})
    build.add("Communication", head_key(chain), C.PROFILES["Communication"], body, "remark", version)


def head_key(chain: list[dict]) -> str:
    return f"entry/{chain[0]['entry_id']}"


ITEM_BUILDERS = {"vital": vital, "gcs": gcs, "pain": pain, "diagnosis": diagnosis, "legal_measure": legal_measure,
                 "procedure": procedure, "medication": medication, "allergy": allergy,
                 "treatment_limits": treatment_limits, "remark": remark}

_META = ("clinical_time", "recorded_at", "author", "source", "position", "replaces", "replaces_reason", "nagekomen",
         "confirmed_unusual", "withdrawn", "corrected_by", "correction_reason", "entry_id")


def narrative_line(kind: str, item: dict) -> str:
    """One Dutch line for the Composition's narrative: labels for codes, the crew's own text."""
    model = CLIENT_KINDS.get(kind)
    codes = getattr(model, "CODES", {}) if model else {}
    parts = []
    for field, value in item.items():
        if field in _META or field in ("label", "unit", "code", "loinc"):
            continue
        if kind == "vital" and field == "parameter":
            continue
        if field in codes:
            value = ", ".join(label(codes[field], v) for v in value) if isinstance(value, list) else label(codes[field], value)
        elif isinstance(value, list):
            value = "; ".join(_injury(v) if isinstance(v, dict) else str(v) for v in value)
        elif isinstance(value, bool):
            value = "ja" if value else "nee"
        parts.append(f"{C.FIELD_WORDS.get(field, field)}: {value}")
    if kind == "vital":
        name = VITALS[item["parameter"]].label if "parameter" in item else item.get("label", "")
        parts.insert(0, f"{name} {item.get('unit', '')}".strip())
    return "; ".join(parts)


def _injury(injury: dict) -> str:
    findings = ", ".join(label("injury_types", f) for f in injury.get("findings", []))
    return " ".join(p for p in (label("body_regions", injury["region"]), findings, injury.get("text", "")) if p)
