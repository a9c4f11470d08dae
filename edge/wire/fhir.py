"""The ritformulier as a FHIR R4 Bundle shaped by Nictiz Acute Zorg (pure: form in, JSON out).

A Task (the referral's workflow: vooraankondiging, update, overdracht, geannuleerd), the
ServiceRequest (bestemmingsstatus, ritnummer, urgency), the Composition (sections in the
handover order, each with a Dutch narrative) and one resource per clinical item, in the
zib 2020 / nl-core profiles. Every resource passes through the ``fhir.resources`` R4B model
of its type, so what leaves here is what the library accepts (R4B parses R4 JSON).

Identity and versions: a resource's id is derived from the rit and the *first* entry of its
correction chain, so a correction is the next version of the same resource (``meta.versionId``
counts the chain) and a withdrawn value stays as that resource with status
``entered-in-error``. Ids are stable across exports: a transaction of PUTs is idempotent.
"""

from __future__ import annotations

import html
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from edge.form.entries import utc_iso
from edge.form.model import COLLECTIONS, collection
from edge.form.valuelists import DEFAULT_LISTS
from edge.wire import fhir_codes as C

NAMESPACE = uuid.UUID("9f1c4a52-6c3e-4b8e-9a43-5d0f6f3c2a11")
_LABELS = {name: {i["code"]: i["label"] for i in items} for name, items in DEFAULT_LISTS.items()}


class FhirInvalid(ValueError):
    """A bundle (or one of its resources) the FHIR models refuse; the message names the resource type."""


def resource_id(rit_id: str, key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{rit_id}/{key}"))


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    return {"system": system, "code": str(code), **({"display": display} if display else {})}


def local(list_name: str, code: str) -> dict[str, Any]:
    return coding(C.local_system(list_name), code, _LABELS.get(list_name, {}).get(code))


def label(list_name: str, code: str) -> str:
    return _LABELS.get(list_name, {}).get(code, code)


def chains(items: dict[str, dict]) -> list[tuple[dict, list[dict]]]:
    """(head, chain oldest first) for every correction chain of a collection, in form order."""
    items = {key: {**item, "entry_id": key} for key, item in items.items()}
    out = []
    for head in sorted((i for i in items.values() if "corrected_by" not in i), key=lambda i: i["position"]):
        chain = [head]
        while chain[0].get("replaces") in items:
            chain.insert(0, items[chain[0]["replaces"]])
        out.append((head, chain))
    return out


def clinical_items(form: dict[str, Any]) -> list[tuple[str, dict, list[dict]]]:
    """(kind, head, chain) for every clinical collection item of the form."""
    out = []
    for kind in COLLECTIONS:
        for head, chain in chains(collection(form, kind)):
            out.append((kind, head, chain))
    return out


def shown(head: dict, chain: list[dict]) -> dict:
    """The item whose values the resource carries: a withdrawal shows the value it withdrew."""
    if head.get("withdrawn") and len(chain) > 1:
        return chain[-2]
    return head


class _Bundle:
    def __init__(self, form: dict[str, Any], seh_name: str | None, now: str):
        self.form, self.rit = form, form["rit_id"]
        self.seh_name, self.now = seh_name, now
        self.resources: list[dict] = []
        self.sections: dict[str, list[str]] = {key: [] for key, _ in C.SECTIONS}
        self.narrative: dict[str, list[str]] = {key: [] for key, _ in C.SECTIONS}
        self.users: dict[str, str] = {}

    def ref(self, resource: dict) -> dict[str, str]:
        return {"reference": f"urn:uuid:{resource['id']}", "type": resource["resourceType"]}

    def add(self, rtype: str, key: str, profile: str | None, body: dict, section: str | None = None,
            version: int = 1) -> dict:
        resource = {"resourceType": rtype, "id": resource_id(self.rit, key),
                    "meta": {"versionId": str(version), **({"profile": [profile]} if profile else {})}, **body}
        self.resources.append(resource)
        if section:
            self.sections[section].append(resource["id"])
        return resource

    def user(self, user: str) -> dict[str, str]:
        """The crew member who recorded an item, as an nl-core Practitioner (by user id)."""
        if user not in self.users:
            practitioner = self.add("Practitioner", f"user/{user}", C.PROFILES["Practitioner"],
                                    {"identifier": [{"system": C.USER, "value": user}]})
            self.users[user] = practitioner["id"]
        return {"reference": f"urn:uuid:{self.users[user]}", "type": "Practitioner"}

    # -- the referral frame ------------------------------------------------------------------------
    def frame(self) -> None:
        form, rit = self.form, self.rit
        status = form["status"]
        task_status, request_status, encounter_status = C.STATUS[status]
        self.ambulance = self.add("Organization", "ambulance", C.PROFILES["Organization"], {
            "identifier": [{"system": C.VEHICLE, "value": form["vehicle_id"]}],
            "name": f"Ambulance {form['vehicle_id']}"})
        seh_id = form.get("destination_seh")
        self.seh = self.add("Organization", f"seh/{seh_id}", C.PROFILES["Organization"], {
            "identifier": [{"system": C.SEH, "value": seh_id}], "name": self.seh_name or seh_id}) if seh_id else None
        self.patient = self.add("Patient", "patient", C.PROFILES["Patient"], self.patient_body(), "melding")
        subject = self.ref(self.patient)
        self.encounter = self.add("Encounter", "encounter", C.PROFILES["Encounter"], {
            "status": encounter_status, "subject": subject,
            "class": coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "EMER", "emergency"),
            "serviceProvider": self.ref(self.ambulance), **self.run_times()})
        melding = form.get("melding", {})
        identification = form.get("identification", {})
        identifiers = [{"system": C.RIT_ID, "value": rit}]
        if identification.get("dispatch_number"):
            identifiers.insert(0, {"system": C.INCIDENT_NUMBER, "value": identification["dispatch_number"]})
        self.request = self.add("ServiceRequest", "servicerequest", C.PROFILES["ServiceRequest"], {
            "identifier": identifiers, "status": request_status, "intent": "order",
            "category": [{"coding": [coding(C.SNOMED, *C.REFERRAL)]}],
            **({"priority": C.PRIORITY[melding["urgency"]]} if melding.get("urgency") else {}),
            "subject": subject, "encounter": self.ref(self.encounter), "authoredOn": form["created_at"],
            "requester": self.ref(self.ambulance),
            **({"performer": [self.ref(self.seh)]} if self.seh else {}),
            **({"reasonCode": [{"text": melding["reason"]}]} if melding.get("reason") else {})})
        self.task = self.add("Task", "task", C.PROFILES["Task"], self.task_body(task_status, status, subject))
        self.crew(identification.get("crew") or [])
        if "weight_kg" in form.get("patient", {}):
            self.add("Observation", "patient/weight", C.PROFILES["BodyWeight"], {
                "status": "final", "category": [{"coding": [coding(C.OBSERVATION_CATEGORY, "vital-signs")]}],
                "code": {"coding": [coding(C.LOINC, *C.BODY_WEIGHT)]}, "subject": subject,
                "effectiveDateTime": form["created_at"], "valueQuantity": quantity(form["patient"]["weight_kg"], "kg")},
                "vitals")
        self.narrative["melding"] += [line for line in (
            melding.get("urgency") and f"Urgentie {melding['urgency']}", melding.get("reason"),
            (melding.get("location") or {}).get("address")) if line]

    def patient_body(self) -> dict:
        patient = self.form.get("patient", {})
        body: dict[str, Any] = {}
        if patient.get("bsn"):  # an unidentified patient gets no identifier at all, never a made-up one
            body["identifier"] = [{"system": C.BSN, "value": patient["bsn"]}]
        if patient.get("name"):
            body["name"] = [{"text": patient["name"]}]
        if patient.get("sex"):
            body["gender"] = C.GENDER[patient["sex"]]
        if patient.get("date_of_birth"):
            body["birthDate"] = patient["date_of_birth"]
        extensions = []
        if "estimated_age_years" in patient:
            extensions.append({"url": C.EXT_ESTIMATED_AGE, "valueAge": quantity(patient["estimated_age_years"], "a")})
        if "unidentified" in patient:
            extensions.append({"url": C.EXT_UNIDENTIFIED, "valueBoolean": bool(patient["unidentified"])})
        return {**({"extension": extensions} if extensions else {}), **body}

    def run_times(self) -> dict:
        times = self.form.get("times", {})
        if not times:
            return {}
        ordered = sorted(times.values())
        period = {"start": ordered[0]}
        if self.form["status"] in ("overdracht", "geannuleerd") and len(ordered) > 1:
            period["end"] = ordered[-1]
        extensions = [{"url": C.EXT_RUN_TIME + which, "valueDateTime": at} for which, at in sorted(times.items())]
        location = (self.form.get("melding", {}).get("location") or {}).get("address")
        return {"extension": extensions, "period": period,
                **({"location": [{"location": {"display": location}}]} if location else {})}

    def task_body(self, task_status: str, status: str, subject: dict) -> dict:
        business = [coding(C.RIT_STATUS, status)]
        overdracht, cancellation = self.form.get("overdracht"), self.form.get("cancellation")
        body: dict[str, Any] = {
            "identifier": [{"system": C.RIT_ID, "value": self.rit}], "status": task_status, "intent": "order",
            "code": {"coding": [coding(C.SNOMED, *C.REFERRAL)]}, "focus": self.ref(self.request), "for": subject,
            "encounter": self.ref(self.encounter), "authoredOn": self.form["created_at"], "lastModified": self.now,
            "requester": self.ref(self.ambulance), **({"owner": self.ref(self.seh)} if self.seh else {})}
        if overdracht and status == "overdracht":
            business += [coding(C.LOCAL + "overdracht-missing", m) for m in overdracht.get("missing", [])]
            body["executionPeriod"] = {"end": overdracht["at"]}
            body["extension"] = [{"url": C.EXT_ONVOLLEDIG, "valueBoolean": overdracht["onvolledig"]}]
        if cancellation and status == "geannuleerd":
            reason = {"coding": [local("cancel_reasons", cancellation["reason"])]} if "reason" in cancellation else {}
            body["statusReason"] = {**reason, **({"text": cancellation["text"]} if "text" in cancellation else {})}
            body["executionPeriod"] = {"end": cancellation["at"]}
        body["businessStatus"] = {"coding": business}
        return body

    def crew(self, crew: list[dict]) -> None:
        for i, member in enumerate(crew):
            person = self.add("Practitioner", f"crew/{i}", C.PROFILES["Practitioner"], {"name": [{"text": member["name"]}]})
            role = {"practitioner": self.ref(person), "organization": self.ref(self.ambulance)}
            if member.get("role"):
                role["code"] = [{"coding": [local("crew_roles", member["role"])], "text": label("crew_roles", member["role"])}]
            self.add("PractitionerRole", f"crew/{i}/role", C.PROFILES["PractitionerRole"], role)

    # -- clinical items ----------------------------------------------------------------------------
    def items(self) -> None:
        from edge.wire.fhir_items import ITEM_BUILDERS, narrative_line

        for kind, head, chain in clinical_items(self.form):
            item = shown(head, chain)
            if kind in ITEM_BUILDERS and not (kind == "vital" and "parameter" not in item):
                ITEM_BUILDERS[kind](self, kind, head, chain, item)
            line = narrative_line(kind, item)
            section = kind if kind in self.narrative else ("vitals" if kind in ("vital", "gcs", "pain", "spo2_scale")
                                                           else "remark")
            if line and not head.get("withdrawn") and kind != "seh_called":
                self.narrative[section].append(line)

    def common(self, head: dict, chain: list[dict]) -> tuple[list[dict], int]:
        """Extensions every item resource carries (nagekomen, reason of its latest correction)."""
        extensions = []
        if head.get("nagekomen"):
            extensions.append({"url": C.EXT_NAGEKOMEN, "valueBoolean": True})
        if head.get("replaces_reason"):
            extensions.append({"url": C.EXT_CORRECTION_REASON, "valueString": head["replaces_reason"]})
        return extensions, len(chain)

    # -- the document ------------------------------------------------------------------------------
    def composition(self) -> dict:
        status = self.form["status"]
        sections = []
        for key, title in C.SECTIONS:
            lines, refs = self.narrative[key], self.sections[key]
            if not lines and not refs:
                continue
            text = "".join(f"<p>{html.escape(line)}</p>" for line in lines) or "<p>zie vastgelegde gegevens</p>"
            sections.append({"title": title, "code": {"coding": [coding(C.SECTION, key, title)]},
                             "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{text}</div>'},
                             **({"entry": [{"reference": f"urn:uuid:{r}"} for r in refs]} if refs else {})})
        final = status in ("overdracht", "geannuleerd")
        return {"resourceType": "Composition", "id": resource_id(self.rit, "composition"),
                "meta": {"profile": [C.PROFILES["Composition"]]},
                "identifier": {"system": C.RIT_ID, "value": self.rit},
                "status": "final" if final else "preliminary",
                "type": {"coding": [coding(C.LOINC, *C.REFERRAL_NOTE)]}, "subject": self.ref(self.patient),
                "encounter": self.ref(self.encounter), "date": self.now, "author": [self.ref(self.ambulance)],
                "title": "Ambulanceoverdracht", "section": sections}


def quantity(value: float, unit: str) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": C.UCUM, "code": unit}


def _checked(resource: dict) -> dict:
    """The resource as the fhir.resources R4B model of its type serialises it (refused: FhirInvalid)."""
    try:
        model = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    except (ValueError, KeyError) as exc:
        raise FhirInvalid(f"{resource.get('resourceType')}: {str(exc).splitlines()[0]}") from None
    return json.loads(model.model_dump_json(exclude_none=True))


def rit_bundle(form: dict[str, Any], *, bundle_type: str = "document", seh_name: str | None = None,
               now: str | None = None, version: int | None = None) -> dict[str, Any]:
    """The whole rit as a FHIR R4 Bundle: ``document`` (Composition first) or ``transaction``
    (PUT of every resource, idempotent: the ids are stable). ``version`` (the message seq at
    the SEH) names which update of the rit this bundle is, in ``Bundle.identifier``."""
    stamp = now or utc_iso(datetime.now(UTC))
    build = _Bundle(form, seh_name, stamp)
    build.frame()
    build.items()
    resources = [build.composition(), *build.resources]
    entries = []
    for resource in resources:
        entry: dict[str, Any] = {"fullUrl": f"urn:uuid:{resource['id']}", "resource": _checked(resource)}
        if bundle_type == "transaction":
            entry["request"] = {"method": "PUT", "url": f"{resource['resourceType']}/{resource['id']}"}
        entries.append(entry)
    bundle = {"resourceType": "Bundle", "id": resource_id(form["rit_id"], f"bundle/{bundle_type}"),
              "type": bundle_type, "timestamp": stamp, "entry": entries}
    bundle["identifier"] = {"system": C.RIT_ID, "value": f"{form['rit_id']}/{version if version else stamp}"}
    validate(bundle)
    return bundle


def validate(bundle: dict[str, Any]) -> None:
    """Parse the bundle and every resource in it with the R4B models; FhirInvalid when refused."""
    for entry in bundle.get("entry", []):
        _checked(entry["resource"])
    _checked(bundle)


def resources_of(bundle: dict[str, Any], rtype: str | None = None) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if rtype is None or e["resource"]["resourceType"] == rtype]

