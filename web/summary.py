"""The patient at a glance for the header strip: the latest recorded vital signs with their
age, NEWS2 and GCS with their risk, the werkdiagnose. Recorded values only: live monitor
values are shown apart, labelled as live (a monitor is not the patient's record)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from web import words

# Header abbreviation, full name (for the tooltip and screen readers), parameters shown.
HEADER_VITALS = (("HF", "hartfrequentie", ("heart_rate", "pulse_rate")), ("BD", "bloeddruk", ("bp_systolic",)),
                 ("SpO2", "zuurstofsaturatie", ("spo2",)), ("AF", "ademfrequentie", ("resp_rate",)),
                 ("T", "temperatuur", ("temperature",)))
NEWS2_PARTS = 7  # resp rate, SpO2, O2, systolic BP, pulse, consciousness, temperature


def _age_words(clinical_time: str, now: datetime) -> str:
    try:
        moment = datetime.fromisoformat(clinical_time.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return ""
    minutes = int((now - moment).total_seconds() // 60)
    return "nu" if minutes < 1 else f"{minutes} min"


def _active(item: dict[str, Any]) -> bool:
    return not item.get("corrected_by") and not item.get("withdrawn") and "value" in item


def latest_vitals(form: dict[str, Any], now: datetime | None = None) -> list[dict[str, str]]:
    """Newest recorded value per header parameter, e.g. {"label": "BD", "value": "75/40", "age": "3 min"}."""
    now = now or datetime.now(UTC)
    newest: dict[str, dict[str, Any]] = {}
    for item in (form.get("vitals") or {}).values():
        if isinstance(item, dict) and _active(item):
            name = item.get("parameter")
            if name not in newest or str(item.get("clinical_time")) > str(newest[name].get("clinical_time")):
                newest[name] = item
    shown = []
    for label, title, names in HEADER_VITALS:
        item = next((newest[n] for n in names if n in newest), None)
        if item is None:
            continue
        value = words.number(item["value"])
        if label == "BD" and "bp_diastolic" in newest:
            value = f"{value}/{words.number(newest['bp_diastolic']['value'])}"
        if item.get("parameter") == "pulse_rate":  # from the oximeter: a pulse, not an ECG heart rate
            label, title = "Pols", "polsfrequentie"
        shown.append({"label": label, "title": title, "value": value, "unit": words.unit(item.get("unit")),
                      "age": _age_words(str(item.get("clinical_time", "")), now)})
    return shown


def news2_badge(scores: dict[str, Any]) -> dict[str, str] | None:
    """NEWS2 with its risk; with parameters missing, the sum so far is a lower bound ("≥ 8")
    and already says high risk when it reaches 7."""
    news2 = scores.get("news2")
    if not isinstance(news2, dict):
        return None
    if "total" in news2:
        return {"text": f"NEWS2 {news2['total']}", "risk": str(news2.get("risk", "laag"))}
    sub = news2.get("subscores") or {}
    if not sub:
        return None
    partial = sum(v for v in sub.values() if isinstance(v, int))
    risk = "hoog" if partial >= 7 else "midden" if partial >= 5 else "laag-midden" if 3 in sub.values() else "onvolledig"
    return {"text": f"NEWS2 ≥ {partial}", "risk": risk,
            "note": f"{len(sub)} van {NEWS2_PARTS} parameters"}


def gcs_badge(scores: dict[str, Any]) -> dict[str, str] | None:
    gcs = scores.get("gcs")
    if not isinstance(gcs, dict):
        return None
    if "total" in gcs:
        severity = str(gcs.get("severity", ""))
        risk = {"ernstig": "hoog", "matig": "midden"}.get(severity, "laag")
        return {"text": f"GCS {gcs['total']}", "note": str(gcs.get("notation", "")), "risk": risk}
    return {"text": f"GCS {gcs.get('notation', '')}", "risk": "onvolledig"}


def diagnosis(form: dict[str, Any]) -> str:
    items = [i for i in (form.get("diagnoses") or {}).values()
             if isinstance(i, dict) and not i.get("corrected_by") and not i.get("withdrawn")]
    items.sort(key=lambda i: i.get("position", 0))
    return str(items[-1].get("text", "")) if items else ""
