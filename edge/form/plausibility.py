"""Plausibility limits for every numeric field of the form (design.md "Clinical records").

A value outside the *possible* range is refused (422, the field named): a typo must never
become a clinical fact. A value outside the *usual* range is possible (asystole is HR 0,
accidental hypothermia exists) and is accepted only when the crew confirms it
(``confirm: true``); the entry then records which fields were confirmed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from edge.errors import DomainError, raise_all


@dataclass(frozen=True)
class Limit:
    label: str
    unit: str
    min: float  # possible range, inclusive unless min_exclusive
    max: float
    usual_min: float | None = None  # usual range; None: every possible value is usual
    usual_max: float | None = None
    integer: bool = False
    min_exclusive: bool = False


@dataclass(frozen=True)
class VitalParameter:
    name: str
    label: str
    unit: str  # UCUM
    mdc: int | None  # IEEE 11073 code, the internal code of device and manual vitals
    loinc: str | None = None


VITALS: dict[str, VitalParameter] = {
    v.name: v
    for v in (
        VitalParameter("heart_rate", "hartfrequentie", "/min", 147842, "8867-4"),
        VitalParameter("pulse_rate", "polsfrequentie", "/min", 149530),
        VitalParameter("spo2", "SpO2", "%", 150456, "59408-5"),
        VitalParameter("bp_systolic", "bloeddruk systolisch", "mm[Hg]", 150021, "8480-6"),
        VitalParameter("bp_diastolic", "bloeddruk diastolisch", "mm[Hg]", 150022, "8462-4"),
        VitalParameter("bp_mean", "bloeddruk gemiddeld", "mm[Hg]", 150023),
        VitalParameter("resp_rate", "ademfrequentie", "/min", 151562, "9279-1"),
        VitalParameter("etco2", "etCO2", "kPa", 151728, "19889-5"),
        VitalParameter("temperature", "temperatuur", "Cel", 150344, "8310-5"),
        VitalParameter("glucose", "glucose", "mmol/L", None, "2339-0"),
    )
}
VITAL_BY_MDC = {v.mdc: v for v in VITALS.values() if v.mdc is not None}

LIMITS: dict[str, Limit] = {
    # vital signs (by parameter name)
    "heart_rate": Limit("hartfrequentie", "/min", 0, 350, 30, 220),
    "pulse_rate": Limit("polsfrequentie", "/min", 0, 350, 30, 220),
    "spo2": Limit("SpO2", "%", 0, 100, 70, None),
    "bp_systolic": Limit("bloeddruk systolisch", "mmHg", 0, 300, 60, 240),
    "bp_diastolic": Limit("bloeddruk diastolisch", "mmHg", 0, 250, 30, 140),
    "bp_mean": Limit("bloeddruk gemiddeld", "mmHg", 0, 280, 40, 180),
    "resp_rate": Limit("ademfrequentie", "/min", 0, 80, 6, 40),
    "etco2": Limit("etCO2", "kPa", 0, 20, 2, 10),
    "temperature": Limit("temperatuur", "°C", 10, 46, 32, 41),
    "glucose": Limit("glucose", "mmol/L", 0, 150, 2.5, 30, min_exclusive=True),
    # scores
    "gcs.eye": Limit("EMV E (ogen)", "", 1, 4, integer=True),
    "gcs.verbal": Limit("EMV V (verbaal)", "", 1, 5, integer=True),
    "gcs.motor": Limit("EMV M (motoriek)", "", 1, 6, integer=True),
    "pain.nrs": Limit("pijnscore NRS", "", 0, 10, integer=True),
    "ecg.rate": Limit("frequentie ECG", "/min", 0, 350, 30, 220),
    # primary survey
    "breathing.oxygen_flow_l_min": Limit("zuurstof", "l/min", 0, 60, None, 15),
    "circulation.capillary_refill_s": Limit("capillaire refill", "s", 0, 30, None, 6),
    "disability.pupil_left_mm": Limit("pupil links", "mm", 1, 10, 2, 8),
    "disability.pupil_right_mm": Limit("pupil rechts", "mm", 1, 10, 2, 8),
    "exposure.burns_tbsa_percent": Limit("verbrand lichaamsoppervlak", "%", 0, 100, None, 90),
    # treatment
    "procedure.attempts": Limit("aantal pogingen", "", 1, 20, None, 5, integer=True),
    # patient and melding
    "patient.estimated_age_years": Limit("geschatte leeftijd", "jaar", 0, 125, None, 105),
    "patient.weight_kg": Limit("gewicht", "kg", 0.3, 400, 2, 250),
    "melding.location.lat": Limit("breedtegraad", "°", -90, 90),
    "melding.location.lon": Limit("lengtegraad", "°", -180, 180),
}


# Device unit -> form unit, where a monitor may measure in another unit than the form keeps
# (etCO2: monitors send mm[Hg], the form keeps kPa). 1 kPa = 7.50062 mm[Hg].
MMHG_PER_KPA = 7.50062
UNIT_CONVERSIONS = {("mm[Hg]", "kPa"): lambda v: v / MMHG_PER_KPA, ("kPa", "mm[Hg]"): lambda v: v * MMHG_PER_KPA}


def in_form_unit(value: float, unit: str, form_unit: str) -> float | None:
    """``value`` (in ``unit``) in the form's unit; None when the units cannot be converted
    (the value is then not taken over: a number in an unknown unit is not a vital sign)."""
    if unit == form_unit or not unit:
        return value
    convert = UNIT_CONVERSIONS.get((unit, form_unit))
    return round(convert(value), 2) if convert else None


def medication_dose_limit(med: dict[str, Any]) -> Limit:
    """Above the list's maximum single dose is unusual; ten times above it cannot be right."""
    top = float(med["max_single_dose"])
    return Limit(f"dosis {med['label']}", med["unit"], 0, top * 10, None, top, min_exclusive=True)


def _fmt(value: float) -> str:
    return f"{value:g}".replace(".", ",")


def check(field: str, limit: Limit, value: float, confirm: bool, name: str) -> tuple[DomainError | None, bool]:
    """(error, unusual) for one value: ``error`` if refused, ``unusual`` if accepted only by confirm."""
    ctx = {"field": name, "value": value if math.isfinite(value) else str(value), "unit": limit.unit}
    if not math.isfinite(value):
        return DomainError(f"{limit.label}: geen geldig getal", field, type="plausibility.impossible", ctx=ctx), False
    below = value <= limit.min if limit.min_exclusive else value < limit.min
    if below or value > limit.max:
        bound = f"{'groter dan' if limit.min_exclusive else 'van'} {_fmt(limit.min)} tot en met {_fmt(limit.max)}"
        msg = f"{limit.label} {_fmt(value)} {limit.unit} is onmogelijk (mogelijk: {bound})".replace("  ", " ")
        return DomainError(msg, field, type="plausibility.impossible",
                           ctx={**ctx, "min": limit.min, "max": limit.max}), False
    if limit.integer and value != int(value):
        return DomainError(f"{limit.label} moet een geheel getal zijn", field, type="plausibility.impossible",
                           ctx=ctx), False
    unusual = (limit.usual_min is not None and value < limit.usual_min) or (
        limit.usual_max is not None and value > limit.usual_max)
    if unusual and not confirm:
        msg = (f"{limit.label} {_fmt(value)} {limit.unit} is ongebruikelijk; bevestig de waarde "
               "(confirm) als die klopt").replace("  ", " ")
        return DomainError(msg, field, type="plausibility.unusual",
                           ctx={**ctx, "usual_min": limit.usual_min, "usual_max": limit.usual_max}), True
    return None, unusual


def check_all(values: Iterable[tuple[str, str, Limit, float]], confirm: bool) -> list[str]:
    """Check (body path, field name, limit, value) tuples; returns the names confirmed as unusual.

    Impossible values are reported before (and instead of) unusual ones: confirming is
    pointless while the request must change anyway.
    """
    impossible, unconfirmed, confirmed = [], [], []
    for path, name, limit, value in values:
        error, unusual = check(path, limit, value, confirm, name)
        if error is not None and error.type == "plausibility.impossible":
            impossible.append(error)
        elif error is not None:
            unconfirmed.append(error)
        elif unusual:
            confirmed.append(name)
    raise_all(impossible or unconfirmed)
    return confirmed
