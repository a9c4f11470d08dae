"""NEWS2 and GCS against hand-worked cases from the published scoring tables.

NEWS2: Royal College of Physicians 2017, chart 1 (scale 1 and scale 2 for SpO2; air or
oxygen; ACVPU) and its clinical-risk thresholds (aggregate 0-4 low, a single parameter
scoring 3 low-medium, 5-6 medium, >= 7 high). GCS: E1-4, V1-5, M1-6 (Teasdale), severity
13-15 mild, 9-12 moderate, 3-8 severe. Every expected value below was worked out by hand
from those tables, sub-score by sub-score.
"""

from __future__ import annotations

import pytest

from edge.form.scores import GCS_EYE, GCS_MOTOR, GCS_VERBAL, gcs, news2, pain

# (rr, spo2, on_oxygen, sbp, pulse, acvpu, temp, scale) -> (subscores in NEWS2_PARAMETERS order, total, risk)
NEWS2_CASES = [
    # healthy adult: every parameter in its 0 band
    ((16, 98, False, 125, 72, "A", 37.0, 1), (0, 0, 0, 0, 0, 0, 0), 0, "laag"),
    # lowest values of the 0 bands: RR 12, SpO2 96, SBP 111, pulse 51, temp 36.1
    ((12, 96, False, 111, 51, "A", 36.1, 1), (0, 0, 0, 0, 0, 0, 0), 0, "laag"),
    # fever and tachypnoea: 21-24 -> 2, 94-95 -> 1, 101-110 -> 1, 91-110 -> 1, 38.1-39.0 -> 1
    ((22, 95, False, 105, 95, "A", 38.3, 1), (2, 1, 0, 1, 1, 0, 1), 6, "midden"),
    # one red parameter only: RR <= 8 -> 3; total 3 -> laag-midden
    ((8, 97, False, 130, 80, "A", 37.0, 1), (3, 0, 0, 0, 0, 0, 0), 3, "laag-midden"),
    # SpO2 <= 91 on scale 1 -> 3, alone -> laag-midden
    ((18, 91, False, 130, 80, "A", 37.0, 1), (0, 3, 0, 0, 0, 0, 0), 3, "laag-midden"),
    # upper edges of the 1 bands: RR 11, SpO2 94, SBP 110, pulse 50, temp 36.0 -> 5 ones
    ((11, 94, False, 110, 50, "A", 36.0, 1), (1, 1, 0, 1, 1, 0, 1), 5, "midden"),
    # on oxygen (2), SpO2 93 (2), SBP >= 220 (3): total 7 -> hoog
    ((20, 93, True, 220, 90, "A", 38.0, 1), (0, 2, 2, 3, 0, 0, 0), 7, "hoog"),
    # new confusion counts as 3 (ACVPU "C")
    ((24, 92, False, 100, 110, "C", 39.0, 1), (2, 2, 0, 2, 1, 3, 1), 11, "hoog"),
    # everything red: RR >= 25, SpO2 <= 91, O2, SBP <= 90, pulse >= 131, V, temp <= 35.0
    ((26, 90, True, 88, 135, "V", 34.8, 1), (3, 3, 2, 3, 3, 3, 3), 20, "hoog"),
    # band edges: RR 25 -> 3, SBP 91 -> 2, pulse 131 -> 3, temp 35.0 -> 3, 39.1 would be 2
    ((25, 96, True, 91, 131, "A", 35.0, 1), (3, 0, 2, 2, 3, 0, 3), 13, "hoog"),
    # temp >= 39.1 -> 2, pulse 111-130 -> 2
    ((18, 97, False, 130, 111, "A", 39.1, 1), (0, 0, 0, 0, 2, 0, 2), 4, "laag"),
    # scale 2, on air, SpO2 89 (target 88-92) -> 0
    ((18, 89, False, 130, 80, "A", 37.0, 2), (0, 0, 0, 0, 0, 0, 0), 0, "laag"),
    # scale 2, on air, SpO2 95 (>= 93 on air) -> 0
    ((18, 95, False, 130, 80, "A", 37.0, 2), (0, 0, 0, 0, 0, 0, 0), 0, "laag"),
    # scale 2, on oxygen, SpO2 >= 97 -> 3 plus oxygen 2: total 5 -> midden (not laag-midden)
    ((18, 97, True, 130, 80, "A", 37.0, 2), (0, 3, 2, 0, 0, 0, 0), 5, "midden"),
    # scale 2, on air, SpO2 84-85 -> 2; RR 21 -> 2; pulse 111 -> 2; temp 39.1 -> 2
    ((21, 84, False, 140, 111, "A", 39.1, 2), (2, 2, 0, 0, 2, 0, 2), 8, "hoog"),
    # scale 2, on oxygen, SpO2 93-94 -> 1; RR 9 -> 1; SBP 101 -> 1; pulse 41 -> 1; temp 35.1 -> 1
    ((9, 93, True, 101, 41, "A", 35.1, 2), (1, 1, 2, 1, 1, 0, 1), 7, "hoog"),
    # scale 2, SpO2 <= 83 -> 3, on oxygen 95-96 would be 2; pulse 40 -> 3
    ((18, 83, True, 130, 40, "A", 37.0, 2), (0, 3, 2, 0, 3, 0, 0), 8, "hoog"),
]
ORDER = ("resp_rate", "spo2", "oxygen", "bp_systolic", "pulse", "consciousness", "temperature")


@pytest.mark.parametrize(("inputs", "subscores", "total", "risk"), NEWS2_CASES)
def test_news2_hand_worked(inputs, subscores, total, risk):
    rr, spo2, on_oxygen, sbp, pulse, acvpu, temp, scale = inputs
    result = news2(resp_rate=rr, spo2=spo2, on_oxygen=on_oxygen, bp_systolic=sbp, pulse=pulse,
                   consciousness=acvpu, temperature=temp, scale=scale)
    assert result["subscores"] == dict(zip(ORDER, subscores, strict=True))
    assert result["total"] == total
    assert result["risk"] == risk
    assert result["single_parameter_3"] == (3 in subscores)
    assert "missing" not in result


def test_news2_with_a_missing_parameter_has_no_total():
    result = news2(resp_rate=30, spo2=88, on_oxygen=False, bp_systolic=85, pulse=140, consciousness="A")
    assert result["missing"] == ["temperature"]
    assert "total" not in result and "risk" not in result  # a partial sum would read as falsely low
    assert result["subscores"]["resp_rate"] == 3


def test_news2_scale_2_needs_to_know_air_or_oxygen():
    result = news2(resp_rate=18, spo2=95, bp_systolic=130, pulse=80, consciousness="A", temperature=37, scale=2)
    assert set(result["missing"]) == {"spo2", "oxygen"}


# (eye, verbal, motor descriptors) -> (total, severity, notation)
GCS_CASES = [
    (("spontaneous", "oriented", "obeys commands"), 15, "licht", "E4M6V5"),
    (("spontaneous", "confused", "obeys commands"), 14, "licht", "E4M6V4"),
    (("to sound", "oriented", "localising"), 13, "licht", "E3M5V5"),
    (("to sound", "confused", "localising"), 12, "matig", "E3M5V4"),
    (("spontaneous", "words", "localising"), 12, "matig", "E4M5V3"),
    (("to sound", "words", "localising"), 11, "matig", "E3M5V3"),
    (("to pressure", "words", "normal flexion"), 9, "matig", "E2M4V3"),
    (("to pressure", "sounds", "localising"), 9, "matig", "E2M5V2"),
    (("none", "sounds", "localising"), 8, "ernstig", "E1M5V2"),
    (("to pressure", "sounds", "abnormal flexion"), 7, "ernstig", "E2M3V2"),
    (("to pressure", "none", "normal flexion"), 7, "ernstig", "E2M4V1"),
    (("none", "sounds", "extension"), 5, "ernstig", "E1M2V2"),
    (("none", "none", "none"), 3, "ernstig", "E1M1V1"),
]


@pytest.mark.parametrize(("descriptors", "total", "severity", "notation"), GCS_CASES)
def test_gcs_hand_worked(descriptors, total, severity, notation):
    eye, verbal, motor = descriptors
    result = gcs(GCS_EYE[eye], GCS_VERBAL[verbal], GCS_MOTOR[motor])
    assert (result["total"], result["severity"], result["notation"]) == (total, severity, notation)


def test_gcs_with_an_unscorable_component_has_no_total():
    result = gcs(2, "niet mogelijk", 5)  # e.g. intubated: V cannot be assessed
    assert result == {"notation": "E2M5Vx", "e": 2, "m": 5}


@pytest.mark.parametrize(("nrs", "category"), [(0, "geen"), (1, "licht"), (3, "licht"), (4, "matig"),
                                               (6, "matig"), (7, "ernstig"), (10, "ernstig")])
def test_pain_nrs_categories(nrs, category):
    assert pain(nrs) == {"nrs": nrs, "category": category}
