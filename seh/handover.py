"""The first screen of a rit at the SEH: the handover in the order it is spoken.

Trauma (a mechanism or a trauma alarm is recorded) follows ATMIST: Age, Time, Mechanism,
Injuries, Signs, Treatment; other patients SBAR/ABCDE: the same blocks with the complaint in
place of the mechanism and the ABCDE findings as the injuries. Then what must never be
missed: behandelgrenzen, allergies, werkdiagnose. Words come from web/words.py, the same
layer the tablet uses.
"""

from __future__ import annotations

from typing import Any

from web import summary, words
from web.view_model import entries_of, patient_words, team_alerts

LETTERS = (("A", "airway"), ("B", "breathing"), ("C", "circulation"), ("D", "disability"), ("E", "exposure"))
TREND_PARAMETERS = ("heart_rate", "pulse_rate", "bp_systolic", "spo2", "resp_rate", "temperature")


def _standing(section: Any, kind: str) -> list[dict[str, Any]]:
    return [e for e in entries_of(section if isinstance(section, dict) else {}, kind)
            if not e.get("corrected_by") and not e.get("withdrawn")]


def _seh_stop_reason(section: Any, seh_id: Any) -> str | None:
    """The crew's reason for coming although this SEH announced an SEH-stop (the last choice)."""
    items = [e for e in (section or {}).values() if isinstance(e, dict) and type(e.get("position")) is int] \
        if isinstance(section, dict) else []
    items.sort(key=lambda e: e["position"])
    last = next((e for e in reversed(items) if e.get("seh_id") == seh_id), None)
    reason = last.get("seh_stop_reason") if last else None
    return reason if isinstance(reason, str) and reason else None


def _trend_arrow(values: list[float]) -> str:
    if len(values) < 2:
        return ""
    change = values[-1] - values[-2]
    return "↑" if change > 0 else "↓" if change < 0 else "→"


def signs(form: dict[str, Any]) -> list[str]:
    """Latest recorded value per parameter with its trend arrow against the one before."""
    by_parameter: dict[str, list[dict[str, Any]]] = {}
    for item in _standing(form.get("vitals"), "vital"):
        if "value" in item:
            by_parameter.setdefault(item.get("parameter"), []).append(item)
    out = []
    for name in TREND_PARAMETERS:
        items = sorted(by_parameter.get(name, []), key=lambda i: str(i.get("clinical_time")))
        if items:
            latest = items[-1]
            arrow = _trend_arrow([i["value"] for i in items])
            text = f"{words.vital_label(latest)} {words.number(latest['value'])} {words.unit(latest.get('unit'))}"
            if name == "bp_systolic" and by_parameter.get("bp_diastolic"):
                dia = sorted(by_parameter["bp_diastolic"], key=lambda i: str(i.get("clinical_time")))[-1]
                text = f"bloeddruk {words.number(latest['value'])}/{words.number(dia['value'])} mmHg"
            out.append(f"{text.strip()} {arrow}".strip() + f" ({words.klok(latest.get('clinical_time'))})")
    return out


def handover(form: dict[str, Any]) -> dict[str, Any]:
    history = form.get("history") or {}
    survey = form.get("primary_survey") or {}
    mechanisms = [e["summary"] for e in _standing(form.get("trauma_mechanisms"), "trauma_mechanism")]
    alerts = team_alerts(form)
    trauma = bool(mechanisms) or any(a.lower().startswith("traumaalarm") for a in alerts)
    times = form.get("times") or {}
    injuries = [e["summary"] for e in _standing(survey.get("E"), "exposure") if e.get("injuries")]
    findings = [f"{letter}: {e['summary']}" for letter, kind in LETTERS
                for e in _standing(survey.get(letter), kind)[-1:]]
    scores = form.get("scores") or {}
    return {
        "trauma": trauma, "alerts": alerts,
        "age": patient_words(form.get("patient") or {}),
        "time": " · ".join(f"{words.TIME_WORDS[k]} {words.klok(v)}" for k, v in times.items()
                           if k in words.TIME_WORDS and isinstance(v, str)) or "nog geen tijden",
        "mechanism": "; ".join(mechanisms) or (form.get("melding") or {}).get("reason") or "—",
        "injuries": injuries + ([] if trauma and injuries else findings),
        "signs": signs(form), "news2": summary.news2_badge(scores), "gcs": summary.gcs_badge(scores),
        "treatment": [f"{e['summary']} ({words.klok(e.get('clinical_time'))})"
                      for kind, section in (("medication", form.get("medications")), ("procedure", form.get("procedures")))
                      for e in _standing(section, kind)],
        "limits": [e["summary"].removeprefix("behandelgrenzen: ")
                   for e in _standing(form.get("treatment_limits"), "treatment_limits")],
        "allergies": [e["summary"] for e in _standing(form.get("allergies"), "allergy")],
        "diagnosis": summary.diagnosis(form),
        "address": ((form.get("melding") or {}).get("location") or {}).get("address", ""),
        "unidentified": bool((form.get("patient") or {}).get("unidentified")),
        "seh_stop_reason": _seh_stop_reason(history.get("destination"), form.get("destination_seh")),
        "history_count": sum(len(v) for v in history.values() if isinstance(v, dict)),
    }
