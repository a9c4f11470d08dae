"""Turn a rit view (EdgeService.rit_view) into what the tablet templates show, in Dutch words."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from edge.store.audit import Actor
from edge.form.entries import CLIENT_KINDS
from edge.form.plausibility import VITAL_BY_MDC
from edge.service import EdgeService
from web import summary, words
from web.sparkline import sparkline

TABS = [("patient", "Patiënt & melding"), ("abcde", "ABCDE"), ("vitals", "Vitale waarden"),
        ("trauma", "Trauma & intox"), ("secundair", "Secundair & SAMPLE"), ("medicatie", "Medicatie"),
        ("verrichtingen", "Verrichtingen"), ("diagnose", "Werkdiagnose"), ("overdracht", "Overdracht")]

# Message state -> (words, tick marks). The words carry the meaning; the ticks only echo them.
SYNC_WORDS = {
    "saved": ("opgeslagen", "✓"),
    "queued": ("in wachtrij", "◷"),
    "sent": ("verzonden", "✓"),
    "delivered": ("ontvangen door SEH", "✓✓"),
    "read": ("gelezen door SEH", "✓✓✓"),
    "rejected": ("geweigerd door SEH", "✗"),
}
MESSAGE_WORDS = {"vooraankondiging": "vooraankondiging", "update": "bijwerking", "overdracht": "overdracht",
                 "geannuleerd": "annulering"}
LIFECYCLE_WORDS = {"concept": "nog niet aangekondigd", "vooraankondiging": "vooraangekondigd",
                   "update": "vooraangekondigd", "overdracht": "overgedragen", "geannuleerd": "geannuleerd"}
COMMON_DRUGS = ("acetylsalicylzuur", "nitroglycerine", "fentanyl", "paracetamol", "morfine", "ondansetron")
# The tiles' trend: the last 30 minutes at one point per 5 s (edge/live/alarms.py TrendBuffer).
TREND_POINTS = 30 * 60 // 5
RISK_WORDS = {"hoog": "hoog risico", "midden": "midden risico", "laag-midden": "laag-midden risico",
              "laag": "laag risico", "onvolledig": "onvolledig"}
# Kinds whose correction in place can be a new text (a note, a diagnosis); others are withdrawn.
TEXT_KINDS = frozenset(kind for kind, model in CLIENT_KINDS.items() if "text" in model.model_fields)
# Run times the crew sets on the patient tab, in the order they happen (overdracht is set by the handover).
CREW_TIMES = ("melding", "vertrek", "ter_plaatse", "bij_patient", "vertrek_ter_plaatse", "aankomst_seh")


def sync_state(view: dict[str, Any]) -> dict[str, str]:
    messages = view.get("messages") or []
    if not messages:
        return {"state": "local", "words": "opgeslagen op tablet", "ticks": "✓"}
    state = messages[-1]["state"]
    said, ticks = SYNC_WORDS.get(state, (state, ""))
    return {"state": state, "words": said, "ticks": ticks}


def entries_of(section: dict[str, Any] | None, kind: str, lists=None, seh_name=None) -> list[dict[str, Any]]:
    """Entries of one form section in recording order, each with its id and a line of Dutch text."""
    out = []
    for entry_id, entry in (section or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("position"), int):
            continue
        line = words.summary(kind, entry, lists, seh_name or (lambda s: str(s)))
        out.append({**entry, "entry_id": entry_id, "summary": line, "kind_name": kind,
                    "correct_by": "value" if "value" in entry else ("text" if kind in TEXT_KINDS else None)})
    return sorted(out, key=lambda e: e["position"])


def standing(section: dict[str, Any] | None, kind: str, **match: Any) -> dict[str, Any] | None:
    """The entry a single fact stands on (the newest active one), if the crew recorded it."""
    active = [e for e in entries_of(section, kind) if not e.get("corrected_by") and not e.get("withdrawn")
              and all(e.get(k) == v for k, v in match.items())]
    return active[-1] if active else None


def standing_value(entry: dict[str, Any] | None, name: str) -> Any:
    """A field's value in a standing entry, for prefilling its correction form."""
    value: Any = entry
    for part in name.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def eta_of(form: dict[str, Any]) -> str | None:
    """The arrival time the GPS estimated for the destination (form.vehicle_position), if any."""
    return ((form.get("vehicle_position") or {}).get("eta") or {}).get("arrival_at")


def patient_words(patient: dict[str, Any]) -> str:
    age = patient.get("age_years") or patient.get("estimated_age_years")
    sex = {"M": "man", "F": "vrouw"}.get(patient.get("sex"), "")
    estimated = "ca. " if not patient.get("age_years") and patient.get("estimated_age_years") else ""
    unknown = "onbekende patiënt" if patient.get("unidentified") and not patient.get("name") else None
    parts = [patient.get("name") or unknown, sex, f"{estimated}{int(age)} jaar" if age else None]
    return ", ".join(p for p in parts if p) or "nog geen patiëntgegevens"


def header_model(service: EdgeService, view: dict[str, Any]) -> dict[str, Any]:
    form = view["form"]
    patient = form.get("patient") or {}
    seh = next((s for s in service.sehs() if s["id"] == form.get("destination_seh")), None)
    lists = service.value_lists()
    limits = [e["summary"].removeprefix("behandelgrenzen: ")
              for e in entries_of(form.get("treatment_limits"), "treatment_limits", lists)
              if not e.get("corrected_by") and not e.get("withdrawn")]
    allergies = [e["summary"] for e in entries_of(form.get("allergies"), "allergy", lists)
                 if not e.get("corrected_by") and not e.get("withdrawn")]
    alerts = team_alerts(form, lists)
    berichten = service.messages.view(view["rit_id"])  # short messages: the newest unread one is unmissable
    seh_phone = {s.id: s.phone for s in service.settings.sehs}
    ready = [f for f in view.get("feedback") or [] if f.get("kind") == "team"]
    online = service.health()["broker"] == "connected"
    scores = form.get("scores") or {}
    is_open = view["lifecycle"] not in ("overdracht", "geannuleerd")
    active = is_open and service.active_rit_id() == view["rit_id"]
    return {
        "active": active, "open": is_open,
        "patient": patient_words(patient),
        "diagnosis": summary.diagnosis(form), "vitals": summary.latest_vitals(form),
        "news2": summary.news2_badge(scores), "gcs": summary.gcs_badge(scores),
        "urgency": form.get("melding", {}).get("urgency", "—"),
        "seh_name": seh["name"] if seh else form.get("destination_seh", "—"),
        "eta": eta_of(form) if active else None,  # the vehicle drives for the active rit only
        "limits": limits, "allergies": allergies, "alerts": alerts,
        "team_ready": ({"room": ready[-1]["room"], "seh": seh_namer(service)(ready[-1]["seh_id"]),
                        "at": ready[-1]["at"]} if ready else None),
        "sync": sync_state(view), "online": online,
        "lifecycle": LIFECYCLE_WORDS.get(view["lifecycle"], view["lifecycle"]),
        "warnings": view.get("warnings") or [],
        "message": berichten["unread"][-1] if berichten["unread"] else None, "unread": len(berichten["unread"]),
        "message_late": [{**m, "phone": seh_phone.get(m["seh_id"], "")} for m in berichten["late"]],
    }


def team_alerts(form: dict[str, Any], lists: Any = None) -> list[str]:
    """The team alarms standing in the form, in words ("traumaalarm — niveau 1 …", "STEMI")."""
    out = []
    for entry in entries_of(form.get("team_alerts"), "team_alert", lists):
        if entry.get("corrected_by") or entry.get("withdrawn"):
            continue
        for code in entry.get("alerts") or []:
            words_ = words.code_label("team_alerts", code, lists)
            if code == "trauma" and entry.get("trauma_level"):
                words_ = words.code_label("trauma_levels", entry["trauma_level"], lists)
            if code == "cva" and entry.get("last_seen_well_at"):
                words_ += f", laatst goed gezien {words.klok(entry['last_seen_well_at'])}"
            if code == "overig" and entry.get("text"):
                words_ = f"alarm: {entry['text']}"
            out.append(words_)
    return list(dict.fromkeys(out))


def seh_namer(service: EdgeService):
    names = {s["id"]: s["name"] for s in service.sehs()}
    return lambda seh_id: names.get(seh_id, str(seh_id))


def tab_model(service: EdgeService, view: dict[str, Any], tab: str, actor: Actor) -> dict[str, Any]:
    form = view["form"]
    history = form.get("history") or {}
    survey = form.get("primary_survey") or {}
    lists, name = service.value_lists(), seh_namer(service)

    def of(section, kind):
        return entries_of(section, kind, lists, name)
    times = of(history.get("time"), "time")
    return {
        "abcde": {letter: of(survey.get(letter), kind) for kind, letter in
                  (("airway", "A"), ("breathing", "B"), ("circulation", "C"), ("disability", "D"), ("exposure", "E"))},
        "times": times,
        "time_points": [(which, words.TIME_WORDS[which], next((e for e in reversed(times) if e.get("which") == which
                         and not e.get("corrected_by") and not e.get("withdrawn")), None)) for which in CREW_TIMES],
        "lists_by_kind": {
            "patient": of(history.get("patient"), "patient"), "melding": of(history.get("melding"), "melding"),
            "identification": of(history.get("identification"), "identification"),
            "treatment_limits": of(form.get("treatment_limits"), "treatment_limits"),
            "legal_measure": of(form.get("legal_measures"), "legal_measure"),
            "gcs": of(form.get("gcs"), "gcs"), "pain": of(form.get("pain"), "pain"),
            "ecg": of(form.get("ecgs"), "ecg"), "spo2_scale": of(form.get("spo2_scale"), "spo2_scale"),
            "trauma_mechanism": of(form.get("trauma_mechanisms"), "trauma_mechanism"),
            "intoxication": of(form.get("intoxications"), "intoxication"),
            "sample": of(form.get("sample"), "sample"), "allergy": of(form.get("allergies"), "allergy"),
            "secondary": of(form.get("secondary_survey"), "secondary"),
            "procedure": of(form.get("procedures"), "procedure"), "diagnosis": of(form.get("diagnoses"), "diagnosis"),
            "remark": of(form.get("remarks"), "remark"), "team_alert": of(form.get("team_alerts"), "team_alert"),
            **{letter: of(survey.get(letter), kind) for kind, letter in
               (("airway", "A"), ("breathing", "B"), ("circulation", "C"), ("disability", "D"), ("exposure", "E"))},
        },
        "vitals": of(form.get("vitals"), "vital"),
        "medications": of(form.get("medications"), "medication"),
        "med_totals": medication_totals(form, lists),
        "destinations": of(history.get("destination"), "destination"),
        "feedback": [f for f in view.get("feedback") or [] if f.get("kind", "terugkoppeling") == "terugkoppeling"],
        "nibp": service.live.nibp_proposals(),
        "proposals": [p for p in (service.position.proposals(view["rit_id"], actor=actor)
                                  if getattr(service, "position", None) is not None else []) if p["state"] == "open"],
        "messages": [{"seq": m["seq"], "what": MESSAGE_WORDS.get(m.get("status"), "bericht"),
                      "state": SYNC_WORDS.get(m["state"], (m["state"], ""))[0], "seh": name(m.get("seh_id"))}
                     for m in view.get("messages") or []],
    }


def last_change(form: dict[str, Any]) -> str | None:
    """When anything was last recorded in the form (the newest entry's recorded_at)."""
    newest = None
    sections = [*(form.get("history") or {}).values(), *(form.get("primary_survey") or {}).values(),
                *(v for k, v in form.items() if k not in ("history", "primary_survey") and isinstance(v, dict))]
    for section in sections:
        for item in (section.values() if isinstance(section, dict) else ()):
            if isinstance(item, dict) and isinstance(item.get("recorded_at"), str):
                newest = max(newest or item["recorded_at"], item["recorded_at"])
    return newest


def ago(value: str | None, now: datetime | None = None) -> str:
    """"3 min geleden" for a UTC ISO time."""
    if not value:
        return ""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    minutes = int(((now or datetime.now(UTC)) - moment).total_seconds() // 60)
    return "zojuist" if minutes < 1 else f"{minutes} min geleden" if minutes < 120 else f"{minutes // 60} uur geleden"


def rit_rows(views: list[dict[str, Any]], seh_names: dict[str, str], active: str | None = None) -> list[dict[str, Any]]:
    """The rit list: urgency, patient, complaint, destination, state, age of the last change."""
    rows = []
    for view in views:
        form = view["form"]
        rows.append({"rit_id": view["rit_id"], "urgency": (form.get("melding") or {}).get("urgency", "—"),
                     "patient": patient_words(form.get("patient") or {}),
                     "complaint": (form.get("melding") or {}).get("reason") or summary.diagnosis(form),
                     "seh": seh_names.get(form.get("destination_seh"), form.get("destination_seh")),
                     "state": LIFECYCLE_WORDS.get(view["lifecycle"], view["lifecycle"]),
                     "changed": ago(last_change(form)), "warnings": view.get("warnings") or [],
                     "open": view["lifecycle"] not in ("overdracht", "geannuleerd"), "active": view["rit_id"] == active})
    return rows


def medication_totals(form: dict[str, Any], lists: dict[str, Any]) -> list[dict[str, Any]]:
    """The cumulative dose per drug (given, not withdrawn or corrected away), in the order first given."""
    totals: dict[tuple[str, str], dict[str, Any]] = {}
    items = sorted((i for i in (form.get("medications") or {}).values() if isinstance(i, dict)),
                   key=lambda i: i.get("position", 0))
    for item in items:
        if item.get("corrected_by") or item.get("withdrawn") or "not_state" in item or "dose" not in item:
            continue
        key = (item["drug"], item.get("unit", ""))
        total = totals.setdefault(key, {"label": words.code_label("medications", item["drug"], lists), "sum": 0.0,
                                        "count": 0, "unit": words.unit(item.get("unit"))})
        total["sum"] += item["dose"]
        total["count"] += 1
        total["last"] = item.get("clinical_time")
    return [{**t, "total": f"{words.number(t['sum'])} {t['unit']}".strip()} for t in totals.values()]


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
    trends = service.live.trend()
    for value in service.live.snapshot():
        number = value.get("value")
        shown = "—" if number is None else (str(int(number)) if float(number).is_integer() else f"{number:.1f}")
        known = VITAL_BY_MDC.get(value.get("code"))  # one label per parameter, whatever the device calls it
        label = known.label if known else value.get("label")
        recent = [p["value"] for p in trends.get(f"{value.get('device_id')}/{value.get('code')}", [])[-TREND_POINTS:]]
        out.append({**value, "shown": shown, "alarm": alarms.get(value.get("code")), "label": label,
                    "unit": words.unit(value.get("unit")), "trend": sparkline(recent, str(label))})
    device_alarms = [a for a in service.live.alarms() if a.get("code") is None]
    return out, device_alarms


klok = words.klok


def register_filters(env: Any, seh_names: dict[str, str] | None = None) -> None:
    """The template helpers; ``seh_names`` names SEH ids in entry texts (the SEH knows only itself)."""
    env.filters["klok"] = klok
    env.filters["eenheid"] = words.unit
    env.filters["getal"] = words.number
    namer = (lambda seh_id: (seh_names or {}).get(seh_id, str(seh_id)))
    env.globals["entries_of"] = lambda section, kind: entries_of(section, kind, None, namer)
    env.globals["standing_value"] = standing_value
    env.globals["patient_words"] = patient_words
    env.globals["risk_words"] = RISK_WORDS
