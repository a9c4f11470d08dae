"""Human text for the tablet and the SEH: the one table of Dutch words, units and times.

The stored form and the wire keep codes, UCUM units and UTC ISO times; only the view
translates, here, for both sides (the SEH imports this module). Every entry kind lists its
fields in the order clinicians read them (SAMPLE as S-A-M-P-L-E, ABCDE in order), each
with one label; a code is shown by its value-list label, a unit as clinicians write it,
a time as Europe/Amsterdam wall-clock time (HH:MM, with the date when not today).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from edge.form.entries import TIME_POINTS
from edge.form.plausibility import LIMITS, VITALS
from edge.form.valuelists import DEFAULT_LISTS

LOCAL = ZoneInfo("Europe/Amsterdam")
MONTHS = ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec")

# UCUM (stored) -> as clinicians write it (shown). The one place units are mapped.
UNIT_WORDS = {"mm[Hg]": "mmHg", "mmHg": "mmHg", "/min": "/min", "%": "%", "Cel": "°C", "°C": "°C",
              "mmol/L": "mmol/L", "mg": "mg", "ug": "µg", "[iU]": "IE", "mL": "mL", "g": "g", "kPa": "kPa",
              "{score}": "", "l/min": "L/min", "L/min": "L/min", "s": "s", "mm": "mm", "kg": "kg", "jaar": "jaar"}
UNIT_FROM_WORDS = {"ie": "[iU]", "iu": "[iU]", "µg": "ug", "mcg": "ug", "ug": "ug", "mmhg": "mm[Hg]",
                   "°c": "Cel", "ml": "mL", "mg": "mg", "g": "g"}

TIME_WORDS = {"melding": "Melding", "alarmering": "Alarmering", "vertrek": "Vertrek", "ter_plaatse": "Ter plaatse",
              "bij_patient": "Bij patiënt", "vertrek_ter_plaatse": "Vertrek ter plaatse",
              "aankomst_seh": "Aankomst SEH", "overdracht": "Overdracht", "vrij": "Vrij"}
assert set(TIME_WORDS) == set(TIME_POINTS)

KIND_TITLES = {
    "identification": "Rit en bemanning", "patient": "Patiënt", "melding": "Melding", "time": "Tijd",
    "vital": "Vitale waarde", "gcs": "EMV (GCS)", "pain": "Pijnscore", "airway": "A — Luchtweg",
    "breathing": "B — Ademhaling", "circulation": "C — Circulatie", "disability": "D — Neurologie",
    "exposure": "E — Exposure", "secondary": "Secundair onderzoek", "sample": "SAMPLE",
    "medication": "Medicatie", "procedure": "Verrichting", "ecg": "12-afleidingen-ECG", "team_alert": "Teamalarm",
    "diagnosis": "Werkdiagnose", "trauma_mechanism": "Traumamechanisme", "intoxication": "Intoxicatie",
    "allergy": "Allergie", "treatment_limits": "Behandelgrenzen", "legal_measure": "Juridische maatregel",
    "remark": "Opmerking", "spo2_scale": "SpO2-schaal", "destination": "Bestemming", "lifecycle": "Verloop",
    "seh_called": "SEH gebeld", "vehicle_position": "Positie ambulance",
}

# kind -> ordered (field, label). A value-list field takes its list from the entry model's CODES.
FIELDS: dict[str, list[tuple[str, str]]] = {
    "identification": [("dispatch_number", "ritnummer"), ("crew", "bemanning")],
    "patient": [("unidentified", "onbekende patiënt"), ("name", "naam"), ("date_of_birth", "geboortedatum"),
                ("bsn", "BSN"), ("sex", "geslacht"), ("estimated_age_years", "leeftijd (geschat)"),
                ("weight_kg", "gewicht")],
    "melding": [("urgency", "urgentie"), ("reason", "reden melding"), ("location", "adres incident")],
    "gcs": [("eye", "E"), ("motor", "M"), ("verbal", "V")],
    "pain": [("nrs", "pijnscore (NRS)")],
    "airway": [("status", "luchtweg"), ("findings", "bevindingen"), ("interventions", "interventies")],
    "breathing": [("findings", "bevindingen"), ("breath_sounds_left", "ademgeruis links"),
                  ("breath_sounds_right", "ademgeruis rechts"), ("oxygen_device", "zuurstof"),
                  ("oxygen_flow_l_min", "zuurstof")],
    "circulation": [("skin", "huid"), ("capillary_refill_s", "capillaire refill"), ("pulse_regular", "pols regulair"),
                    ("bleeding", "bloeding"), ("interventions", "interventies")],
    "disability": [("acvpu", "bewustzijn (ACVPU)"), ("pupil_left_mm", "pupil links"),
                   ("pupil_left_reaction", "reactie links"), ("pupil_right_mm", "pupil rechts"),
                   ("pupil_right_reaction", "reactie rechts"), ("lateralisation", "lateralisatie"),
                   ("stroke_signs", "FAST positief")],
    "exposure": [("injuries", "letsel"), ("burns_tbsa_percent", "verbrand oppervlak"), ("skin", "huid")],
    "secondary": [("region", "regio"), ("findings", "bevindingen")],
    "sample": [("signs_symptoms", "S — klachten"), ("medication_history", "M — medicatie"),
               ("past_history", "P — voorgeschiedenis"), ("last_intake", "L — laatste inname"),
               ("events", "E — gebeurtenis")],
    "medication": [("drug", "middel"), ("dose", "dosis"), ("route", "toediening")],
    "procedure": [("procedure", "verrichting"), ("result", "resultaat"), ("attempts", "pogingen")],
    "team_alert": [("alerts", "alarm"), ("trauma_level", "niveau"), ("last_seen_well_at", "laatst goed gezien"),
                   ("text", "overig")],
    "ecg": [("rhythm", "ritme"), ("rate", "frequentie"), ("st_elevation_leads", "ST-elevatie in"),
            ("stemi", "STEMI-criteria"), ("transmitted", "ECG verstuurd")],
    "diagnosis": [("text", "werkdiagnose")],
    "trauma_mechanism": [("accident_type", "mechanisme")],
    "intoxication": [("substance", "middel")],
    "allergy": [("no_known_allergies", "geen bekende allergieën"), ("substance", "allergie"),
                ("reaction", "reactie")],
    "treatment_limits": [("status", "behandelgrenzen"), ("limits", "grenzen"), ("origin", "bron"),
                         ("origin_date", "vastgelegd op")],
    "legal_measure": [("measure", "maatregel")],
    "remark": [("text", "opmerking")],
    "spo2_scale": [("scale", "SpO2-schaal")],
    "destination": [("seh_id", "bestemming"), ("reason", "reden"), ("seh_stop_reason", "gekozen ondanks SEH-stop")],
    "seh_called": [("seh_id", "SEH"), ("warning", "na uitblijven van")],
}
# Lists of fields whose codes are not in a value list of the entry model.
EXTRA_LISTS = {("seh_called", "warning"): {"delivered": "ontvangstbevestiging", "read": "leesbevestiging"},
               ("treatment_limits", "status"): {"bekend": "bekend", "geen": "geen behandelgrenzen",
                                                "onbekend": "niet bekend"},
               ("spo2_scale", "scale"): {1: "schaal 1", 2: "schaal 2 (hypercapnie)"}}
NUMBER_UNITS = {("breathing", "oxygen_flow_l_min"): "L/min", ("circulation", "capillary_refill_s"): "s",
                ("disability", "pupil_left_mm"): "mm", ("disability", "pupil_right_mm"): "mm",
                ("exposure", "burns_tbsa_percent"): "%", ("patient", "estimated_age_years"): "jaar",
                ("patient", "weight_kg"): "kg", ("ecg", "rate"): "/min", ("pain", "nrs"): "/10"}
LIFECYCLE_EVENTS = {"announce": "vooraankondiging verstuurd", "overdracht": "overgedragen", "cancel": "geannuleerd"}
OVERDRACHT_ITEMS = {"werkdiagnose": "werkdiagnose", "vitale_parameters": "vitale waarden",
                    "behandelgrenzen": "behandelgrenzen"}


def klok(value: str | None, now: datetime | None = None) -> str:
    """A UTC ISO time as local wall-clock time: "14:05", or "1 dec 23:50" when not today."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return "onbekende tijd"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(LOCAL)
    today = (now or datetime.now(UTC)).astimezone(LOCAL).date()
    clock = local.strftime("%H:%M")
    return clock if local.date() == today else f"{local.day} {MONTHS[local.month - 1]} {clock}"


def day(value: str | date | None) -> str:
    """An ISO date as "2-3-1948"."""
    if not value:
        return ""
    try:
        parsed = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return "onbekende datum"
    return f"{parsed.day}-{parsed.month}-{parsed.year}"


def unit(ucum: str | None) -> str:
    return UNIT_WORDS.get(ucum or "", ucum or "")


def number(value: Any) -> str:
    """A number as written in Dutch: no trailing .0, a decimal comma."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def code_label(list_name: str | None, code: Any, lists: Mapping[str, list[dict[str, Any]]] | None = None) -> str:
    """A code by its value-list label; an unknown code readable rather than raw."""
    items = (lists or DEFAULT_LISTS).get(list_name or "", []) or DEFAULT_LISTS.get(list_name or "", [])
    for item in items:
        if item["code"] == code:
            return item["label"]
    return str(code).replace("_", " ")


def vital_label(entry: Mapping[str, Any]) -> str:
    """One label per parameter, whatever the source called it."""
    name = entry.get("parameter")
    return VITALS[name].label if name in VITALS else str(entry.get("label") or name or "waarde")


def _models() -> dict[str, Any]:
    from edge.form.entries import CLIENT_KINDS, SYSTEM_KINDS
    return {**CLIENT_KINDS, **SYSTEM_KINDS}


def _field_text(kind: str, field: str, value: Any, entry: Mapping[str, Any], lists, seh_name) -> str:
    model = _models().get(kind)
    list_name = getattr(model, "CODES", {}).get(field) if model else None
    if (kind, field) in EXTRA_LISTS:
        return EXTRA_LISTS[(kind, field)].get(value, str(value))
    if field == "seh_id":
        return seh_name(value)
    if field == "crew":
        return ", ".join(str(m.get("name", "")) for m in value if isinstance(m, dict))
    if field == "location":
        return str(value.get("address", "")) if isinstance(value, dict) else ""
    if field == "injuries":
        return "; ".join(_injury(i, lists) for i in value if isinstance(i, dict))
    if field == "date_of_birth" or field == "origin_date":
        return day(value)
    if field == "last_seen_well_at":
        return klok(value)
    if field == "sex":
        return code_label("sex", value, lists)
    if isinstance(value, bool):
        return "ja" if value else "nee"
    if isinstance(value, list):
        return ", ".join(code_label(list_name, v, lists) for v in value)
    if list_name:
        return code_label(list_name, value, lists)
    if field == "dose":
        return f"{number(value)} {unit(entry.get('unit'))}".strip()
    if isinstance(value, int | float):
        return f"{number(value)} {NUMBER_UNITS.get((kind, field), '')}".strip()
    return str(value)


def _injury(injury: Mapping[str, Any], lists) -> str:
    region = code_label("body_regions", injury.get("region"), lists)
    findings = ", ".join(code_label("injury_types", f, lists) for f in injury.get("findings", []))
    text = f" ({injury['text']})" if injury.get("text") else ""
    return f"{region}: {findings}{text}" if findings else f"{region}{text}"


def summary(kind: str, entry: Mapping[str, Any], lists=None,
            seh_name: Callable[[str], str] = lambda seh_id: str(seh_id)) -> str:
    """One line of Dutch text for an entry as stored in the form."""
    if entry.get("withdrawn"):
        return "ingetrokken"
    if kind == "vital":
        shown = entry.get("not_state") or f"{number(entry.get('value'))} {unit(entry.get('unit'))}".strip()
        return f"{vital_label(entry)}: {shown}"
    if kind == "time":
        return f"{TIME_WORDS.get(entry.get('which'), 'tijd')} {klok(entry.get('at'))}"
    if kind == "gcs":
        parts = [f"{label}{number(entry[f])}" if isinstance(entry.get(f), int | float) else f"{label} {entry.get(f)}"
                 for f, label in FIELDS["gcs"] if f in entry]
        total = sum(entry[f] for f in ("eye", "motor", "verbal") if isinstance(entry.get(f), int | float))
        complete = all(isinstance(entry.get(f), int | float) for f in ("eye", "motor", "verbal"))
        return "EMV " + " ".join(parts) + (f" = {number(total)}" if complete else "")
    if kind == "lifecycle":
        words = LIFECYCLE_EVENTS.get(entry.get("event"), "gebeurtenis")
        if entry.get("event") == "cancel" and entry.get("reason"):
            words += f" ({code_label('cancel_reasons', entry['reason'], lists)})"
        if entry.get("missing"):
            words += "; bewust onvolledig: " + ", ".join(OVERDRACHT_ITEMS.get(m, m) for m in entry["missing"])
        return f"{words} — {seh_name(entry.get('seh_id', ''))}"
    if kind == "vehicle_position":
        return "positie ambulance bijgewerkt"
    parts = []
    for field, label in FIELDS.get(kind, []):
        value = entry.get(field)
        if value in (None, [], "", False) and not (field == "stemi" and value is False):
            continue
        if field == "unidentified":
            parts.append("onbekende patiënt")
            continue
        if field == "no_known_allergies":
            parts.append("geen bekende allergieën")
            continue
        parts.append(f"{label}: {_field_text(kind, field, value, entry, lists, seh_name)}")
    if entry.get("not_state"):
        parts.insert(0, str(entry["not_state"]))
    if entry.get("text") and kind not in ("diagnosis", "remark", "team_alert"):
        parts.append(f"toelichting: {entry['text']}")
    return "; ".join(parts) or "—"


def missing_words(missing: list[Any]) -> str:
    return ", ".join(OVERDRACHT_ITEMS.get(m.get("item") if isinstance(m, dict) else m, "onbekend") for m in missing)


def limit_unit(name: str) -> str:
    return unit(LIMITS[name].unit) if name in LIMITS else ""
