"""Turn a rit view (EdgeService.rit_view) into what the tablet templates show, in Dutch words."""

from __future__ import annotations

from typing import Any

from edge.store.audit import Actor
from edge.service import EdgeService

TABS = [("melding", "Melding & tijden"), ("abcde", "ABCDE"), ("secundair", "Secundair & SAMPLE"),
        ("vitals", "Vitale waarden"), ("medicatie", "Medicatie"), ("verrichtingen", "Verrichtingen"),
        ("diagnose", "Werkdiagnose"), ("overdracht", "Overdracht")]

# Message state -> (words, tick marks). The words carry the meaning; the ticks only echo them.
SYNC_WORDS = {
    "saved": ("opgeslagen", "✓"),
    "queued": ("in wachtrij", "◷"),
    "sent": ("verzonden", "✓"),
    "delivered": ("ontvangen door SEH", "✓✓"),
    "read": ("gelezen door SEH", "✓✓✓"),
    "rejected": ("geweigerd door SEH", "✗"),
}
LIFECYCLE_WORDS = {"concept": "concept", "aangekondigd": "vooraangekondigd", "overdracht": "overgedragen",
                   "geannuleerd": "geannuleerd"}
# Entry fields that are bookkeeping, not content.
META = {"author", "clinical_time", "position", "recorded_at", "source", "corrected_by", "correction_reason",
        "replaces", "replaces_reason", "withdrawn", "confirmed_unusual", "nagekomen", "code", "loinc", "label",
        "unit", "parameter", "given_by"}
FIELD_WORDS = {"status": "status", "findings": "bevindingen", "text": "toelichting", "skin": "huid",
               "acvpu": "ACVPU", "drug": "middel", "dose": "dosis", "route": "toediening", "procedure": "verrichting",
               "result": "resultaat", "signs_symptoms": "klachten", "medication_history": "medicatie",
               "past_history": "voorgeschiedenis", "last_intake": "laatste inname", "events": "gebeurtenis",
               "not_state": "", "sex": "geslacht", "estimated_age_years": "leeftijd (geschat)", "name": "naam",
               "which": "tijd", "at": "om", "urgency": "urgentie", "reason": "reden", "seh_id": "SEH",
               "event": "gebeurtenis", "onvolledig": "onvolledig", "missing": "ontbrak", "bleeding": "bloeding",
               "interventions": "interventies", "oxygen_device": "zuurstof", "region": "regio"}
COMMON_DRUGS = ("acetylsalicylzuur", "nitroglycerine", "fentanyl", "paracetamol", "morfine", "ondansetron")


def sync_state(view: dict[str, Any]) -> dict[str, str]:
    messages = view.get("messages") or []
    if not messages:
        return {"state": "local", "words": "opgeslagen op tablet (nog niet aangekondigd)", "ticks": "✓"}
    state = messages[-1]["state"]
    words, ticks = SYNC_WORDS.get(state, (state, ""))
    return {"state": state, "words": words, "ticks": ticks}


def entries_of(section: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Entries of one form section in recording order, each with its id and a short summary."""
    out = []
    for entry_id, entry in (section or {}).items():
        if not isinstance(entry, dict) or "position" not in entry:
            continue
        out.append({**entry, "entry_id": entry_id, "summary": summary(entry)})
    return sorted(out, key=lambda e: e["position"])


def summary(entry: dict[str, Any]) -> str:
    if entry.get("withdrawn"):
        return "ingetrokken"
    if "parameter" in entry or "label" in entry:
        value = entry.get("value", entry.get("not_state", ""))
        shown = int(value) if isinstance(value, float) and value.is_integer() else value
        return f"{entry.get('label', entry.get('parameter'))}: {shown} {entry.get('unit', '')}".strip()
    parts = []
    for key, value in entry.items():
        if key in META or value in (None, [], ""):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v.get("region", v)) if isinstance(v, dict) else str(v) for v in value)
        elif isinstance(value, float) and value.is_integer():
            value = int(value)
        word = FIELD_WORDS.get(key, key.replace("_", " "))
        parts.append(f"{word}: {value}" if word else str(value))
    return "; ".join(parts) or "—"


def eta_of(form: dict[str, Any]) -> str | None:
    """The arrival time the GPS estimated for the destination (form.vehicle_position), if any."""
    return ((form.get("vehicle_position") or {}).get("eta") or {}).get("arrival_at")


def patient_words(patient: dict[str, Any]) -> str:
    age = patient.get("age_years") or patient.get("estimated_age_years")
    sex = {"M": "man", "F": "vrouw"}.get(patient.get("sex"), "")
    parts = [patient.get("name"), sex, f"{int(age)} jaar" if age else None]
    return ", ".join(p for p in parts if p) or "patiënt onbekend"


def header_model(service: EdgeService, view: dict[str, Any]) -> dict[str, Any]:
    form = view["form"]
    patient = form.get("patient") or {}
    seh = next((s for s in service.sehs() if s["id"] == form.get("destination_seh")), None)
    limits = [e["summary"] for e in entries_of(form.get("treatment_limits")) if not e.get("corrected_by")]
    allergies = [e["summary"] for e in entries_of(form.get("allergies")) if not e.get("corrected_by")]
    online = service.health()["broker"] == "connected"
    return {
        "patient": patient_words(patient),
        "urgency": form.get("melding", {}).get("urgency", "—"),
        "seh_name": seh["name"] if seh else form.get("destination_seh", "—"),
        "eta": eta_of(form),
        "limits": limits, "allergies": allergies,
        "sync": sync_state(view), "online": online,
        "lifecycle": LIFECYCLE_WORDS.get(view["lifecycle"], view["lifecycle"]),
        "warnings": view.get("warnings") or [],
    }


def tab_model(service: EdgeService, view: dict[str, Any], tab: str, actor: Actor) -> dict[str, Any]:
    form = view["form"]
    survey = form.get("primary_survey") or {}
    return {
        "abcde": {letter: entries_of(survey.get(letter)) for letter in "ABCDE"},
        "times": entries_of((form.get("history") or {}).get("time")),
        "patient": entries_of((form.get("history") or {}).get("patient")),
        "secondary": entries_of(form.get("secondary_survey")) + entries_of(form.get("sample")),
        "vitals": entries_of(form.get("vitals")),
        "medications": entries_of(form.get("medications")),
        "procedures": entries_of(form.get("procedures")),
        "diagnoses": entries_of(form.get("diagnoses")),
        "feedback": view.get("feedback") or [],
        "nibp": service.live.nibp_proposals(),
        "proposals": [p for p in (service.position.proposals(view["rit_id"], actor=actor)
                                  if getattr(service, "position", None) is not None else []) if p["state"] == "open"],
    }


def medication_buttons(service: EdgeService) -> list[dict[str, Any]]:
    drugs = {d["code"]: d for d in service.value_lists().get("medications", [])}
    return [drugs[c] for c in COMMON_DRUGS if c in drugs and drugs[c].get("standard_dose")][:4]


def tiles(service: EdgeService) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Live vitals tiles with the highest active alarm per parameter (text marker + priority)."""
    alarms: dict[int, dict[str, Any]] = {}
    rank = {"high": 3, "medium": 2, "low": 1}
    for alarm in service.live.alarms():
        code = alarm.get("code")
        if code is not None and rank.get(alarm["priority"], 0) > rank.get(alarms.get(code, {}).get("priority"), 0):
            alarms[code] = alarm
    out = []
    for value in service.live.snapshot():
        number = value.get("value")
        shown = "—" if number is None else (str(int(number)) if float(number).is_integer() else f"{number:.1f}")
        out.append({**value, "shown": shown, "alarm": alarms.get(value.get("code"))})
    device_alarms = [a for a in service.live.alarms() if a.get("code") is None]
    return out, device_alarms


def klok(value: str | None) -> str:
    """An UTC ISO time as the local wall-clock time (HH:MM) the crew and the SEH read."""
    if not value:
        return ""
    from datetime import datetime
    from zoneinfo import ZoneInfo
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    return moment.astimezone(ZoneInfo("Europe/Amsterdam")).strftime("%H:%M:%S")


def register_filters(env: Any) -> None:
    env.filters["klok"] = klok
    env.globals["entries_of"] = entries_of
