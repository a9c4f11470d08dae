"""Clinical scores computed from the form: GCS (EMV), NEWS2 with sub-scores, pain NRS.

Pure functions. The form holds the result under ``scores`` (so the SEH receives the same
numbers the crew saw). A NEWS2 with a missing parameter has no total: a partial sum would
read as a falsely low risk, so the missing parameters are listed instead.
"""

from __future__ import annotations

from typing import Any

# Glasgow Coma Scale (Teasdale & Jennett 1974; descriptors as in the 2014 structured approach).
GCS_EYE = {"spontaneous": 4, "to sound": 3, "to pressure": 2, "none": 1}
GCS_VERBAL = {"oriented": 5, "confused": 4, "words": 3, "sounds": 2, "none": 1}
GCS_MOTOR = {"obeys commands": 6, "localising": 5, "normal flexion": 4, "abnormal flexion": 3,
             "extension": 2, "none": 1}

NEWS2_PARAMETERS = ("resp_rate", "spo2", "oxygen", "bp_systolic", "pulse", "consciousness", "temperature")


def gcs(eye: Any, verbal: Any, motor: Any) -> dict[str, Any]:
    """Total 3-15 and severity when all three components are scored; else the notation only.

    A component can be a not-state (e.g. V "niet mogelijk" when intubated): it is written
    as "x" in the EMV notation and there is no total.
    """
    parts = {"E": eye, "M": motor, "V": verbal}  # Dutch clinical order: EMV
    scored = {k: int(v) for k, v in parts.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    result: dict[str, Any] = {"notation": "".join(f"{k}{scored.get(k, 'x')}" for k in parts)}
    for key, value in scored.items():
        result[key.lower()] = value
    if len(scored) == 3:
        total = sum(scored.values())
        result["total"] = total
        result["severity"] = "licht" if total >= 13 else "matig" if total >= 9 else "ernstig"
    return result


def pain(nrs: int) -> dict[str, Any]:
    category = "geen" if nrs == 0 else "licht" if nrs <= 3 else "matig" if nrs <= 6 else "ernstig"
    return {"nrs": nrs, "category": category}


# -- NEWS2 (Royal College of Physicians 2017, chart 1) --------------------------------------
# Each band: (highest value in the band, score); above the last band the ``top`` score.
Bands = tuple[tuple[float, int], ...]
RESP_RATE_BANDS: Bands = ((8, 3), (11, 1), (20, 0), (24, 2))
SPO2_SCALE1_BANDS: Bands = ((91, 3), (93, 2), (95, 1))
SPO2_SCALE2_BANDS: Bands = ((83, 3), (85, 2), (87, 1), (92, 0))  # 88-92 % is the target range
SPO2_SCALE2_OXYGEN_BANDS: Bands = ((94, 1), (96, 2))  # above 92 %: scores only on oxygen
SYSTOLIC_BANDS: Bands = ((90, 3), (100, 2), (110, 1), (219, 0))
PULSE_BANDS: Bands = ((40, 3), (50, 1), (90, 0), (110, 1), (130, 2))
TEMPERATURE_BANDS: Bands = ((35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1))


def _band(value: float, bands: Bands, top: int) -> int:
    for highest, score in bands:
        if value <= highest:
            return score
    return top


def news2_resp_rate(rate: float) -> int:
    return _band(rate, RESP_RATE_BANDS, 3)


def news2_spo2_scale1(spo2: float) -> int:
    return _band(spo2, SPO2_SCALE1_BANDS, 0)


def news2_spo2_scale2(spo2: float, on_oxygen: bool) -> int:
    """Scale 2 (confirmed hypercapnic respiratory failure): above 92 % scores only on oxygen."""
    if spo2 <= 92 or not on_oxygen:
        return _band(spo2, SPO2_SCALE2_BANDS, 0)
    return _band(spo2, SPO2_SCALE2_OXYGEN_BANDS, 3)


def news2_systolic(sys: float) -> int:
    return _band(sys, SYSTOLIC_BANDS, 3)


def news2_pulse(pulse: float) -> int:
    return _band(pulse, PULSE_BANDS, 3)


def news2_temperature(temp: float) -> int:
    return _band(temp, TEMPERATURE_BANDS, 2)


def news2(resp_rate: float | None = None, spo2: float | None = None, on_oxygen: bool | None = None,
          bp_systolic: float | None = None, pulse: float | None = None, consciousness: str | None = None,
          temperature: float | None = None, scale: int = 1) -> dict[str, Any]:
    """NEWS2 with sub-scores; ``consciousness`` is ACVPU (A scores 0; C, V, P, U score 3)."""
    sub: dict[str, int] = {}
    if resp_rate is not None:
        sub["resp_rate"] = news2_resp_rate(resp_rate)
    if spo2 is not None and (scale == 1 or on_oxygen is not None):
        sub["spo2"] = news2_spo2_scale1(spo2) if scale == 1 else news2_spo2_scale2(spo2, bool(on_oxygen))
    if on_oxygen is not None:
        sub["oxygen"] = 2 if on_oxygen else 0
    if bp_systolic is not None:
        sub["bp_systolic"] = news2_systolic(bp_systolic)
    if pulse is not None:
        sub["pulse"] = news2_pulse(pulse)
    if consciousness is not None:
        sub["consciousness"] = 0 if consciousness == "A" else 3
    if temperature is not None:
        sub["temperature"] = news2_temperature(temperature)
    result: dict[str, Any] = {"scale": scale, "subscores": sub}
    missing = [p for p in NEWS2_PARAMETERS if p not in sub]
    if missing:
        result["missing"] = missing
        return result
    total = sum(sub.values())
    single_3 = any(v == 3 for v in sub.values())
    result["total"] = total
    result["single_parameter_3"] = single_3
    result["risk"] = news2_risk(total, single_3)
    return result


def news2_risk(total: int, single_3: bool) -> str:
    """Clinical risk: >= 7 hoog, 5-6 midden, a single parameter scoring 3 laag-midden, else laag."""
    if total >= 7:
        return "hoog"
    if total >= 5:
        return "midden"
    if single_3:
        return "laag-midden"
    return "laag"


# -- from the form ------------------------------------------------------------------------------
def active(item: dict[str, Any]) -> bool:
    """Not replaced by a correction and not withdrawn."""
    return "corrected_by" not in item and not item.get("withdrawn")


def _order(item: dict[str, Any]) -> tuple[str, int]:
    return item["clinical_time"], item["position"]


def latest(items: Any, predicate) -> dict[str, Any] | None:
    best = None
    for item in items:
        if active(item) and predicate(item) and (best is None or _order(item) > _order(best)):
            best = item
    return best


# NEWS2 input -> vital parameters that provide it (pulse: whichever of HR and pulse rate is newer).
_NEWS2_VITALS = {"resp_rate": "resp_rate", "spo2": "spo2", "bp_systolic": "bp_systolic", "heart_rate": "pulse",
                 "pulse_rate": "pulse", "temperature": "temperature"}


def _latest_vitals(form: dict) -> dict[str, dict | None]:
    """The newest measured value per NEWS2 input, in one pass (this runs on every vital saved)."""
    best: dict[str, dict | None] = dict.fromkeys(("resp_rate", "spo2", "bp_systolic", "pulse", "temperature"))
    for item in form["vitals"].values():
        key = _NEWS2_VITALS.get(item.get("parameter"))
        if key is None or "value" not in item or not active(item):
            continue
        current = best[key]
        if current is None or _order(item) > _order(current):
            best[key] = item
    return best


def _consciousness(form: dict) -> tuple[str | None, str | None]:
    """ACVPU from the latest D entry; without one, from the latest GCS (15 = A, lower = not alert)."""
    acvpu = latest(form["primary_survey"]["D"].values(), lambda i: "acvpu" in i)
    if acvpu is not None:
        return acvpu["acvpu"], acvpu["clinical_time"]
    emv = latest(form["gcs"].values(), lambda i: all(isinstance(i.get(k), int) for k in ("eye", "verbal", "motor")))
    if emv is not None:
        return ("A" if emv["eye"] + emv["verbal"] + emv["motor"] == 15 else "V"), emv["clinical_time"]
    return None, None


def _on_oxygen(form: dict) -> tuple[bool | None, str | None]:
    item = latest(form["primary_survey"]["B"].values(),
                  lambda i: "oxygen_device" in i or "oxygen_flow_l_min" in i)
    if item is None:
        return None, None
    on_air = item.get("oxygen_device") == "kamerlucht" or item.get("oxygen_flow_l_min") == 0
    return not on_air, item["clinical_time"]


def compute_scores(form: dict[str, Any]) -> dict[str, Any]:
    scores: dict[str, Any] = {}
    emv = latest(form["gcs"].values(), lambda i: True)
    if emv is not None:
        scores["gcs"] = {**gcs(emv["eye"], emv["verbal"], emv["motor"]), "clinical_time": emv["clinical_time"]}
    nrs = latest(form["pain"].values(), lambda i: "nrs" in i)
    if nrs is not None:
        scores["pain"] = {**pain(nrs["nrs"]), "clinical_time": nrs["clinical_time"]}

    inputs = _latest_vitals(form)
    times = [i["clinical_time"] for i in inputs.values() if i is not None]
    on_oxygen, o2_time = _on_oxygen(form)
    consciousness, c_time = _consciousness(form)
    times += [t for t in (o2_time, c_time) if t]
    if times:
        scale_item = latest(form["spo2_scale"].values(), lambda i: True)
        values = {k: (v["value"] if v else None) for k, v in inputs.items()}
        result = news2(on_oxygen=on_oxygen, consciousness=consciousness,
                       scale=scale_item["scale"] if scale_item else 1, **values)
        result["from"], result["to"] = min(times), max(times)
        scores["news2"] = result
    return scores
