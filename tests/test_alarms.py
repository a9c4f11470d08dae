"""Alarm limits, IEC 60601-1-8 priorities with text markers, technical alarms, trend buffer."""

from __future__ import annotations

import pytest

from devices.observation import (
    FLAG_ARTEFACT,
    FLAG_PROBE_OFF,
    MDC_ETCO2,
    MDC_HEART_RATE,
    MDC_NIBP_SYS,
    MDC_PERFUSION_INDEX,
    MDC_SPO2,
    MDC_TEMP,
    Observation,
)
from edge.live.alarms import (
    DEFAULT_ADULT_LIMITS,
    HIGH,
    LOW,
    MEDIUM,
    TEXT_DEVICE_LOST,
    AlarmEngine,
    ParameterLimits,
    TrendBuffer,
    limits_with_overrides,
)


def obs(code: int, value: float | None, device: str = "mon", **extra) -> Observation:
    return Observation.of(device, code, value, **extra)


def active(engine: AlarmEngine, now: float) -> list[tuple[str, str]]:
    return [(a.priority, a.text) for a in engine.evaluate(now)]


@pytest.mark.parametrize("code,value,priority,text", [
    (MDC_HEART_RATE, 165, HIGH, "!!! HF te hoog: 165 /min"),
    (MDC_HEART_RATE, 130, MEDIUM, "!! HF te hoog: 130 /min"),
    (MDC_HEART_RATE, 45, MEDIUM, "!! HF te laag: 45 /min"),
    (MDC_HEART_RATE, 35, HIGH, "!!! HF te laag: 35 /min"),
    (MDC_SPO2, 88, MEDIUM, "!! SpO2 te laag: 88 %"),
    (MDC_SPO2, 80, HIGH, "!!! SpO2 te laag: 80 %"),
    (MDC_NIBP_SYS, 65, HIGH, "!!! NIBP sys te laag: 65 mmHg"),
    (MDC_TEMP, 39.4, LOW, "! Temp te hoog: 39.4 °C"),
])
def test_limits_raise_alarms_with_priority_and_dutch_text_marker(code, value, priority, text):
    engine = AlarmEngine()
    engine.observe(obs(code, value), now=0.0)
    assert active(engine, 0.1) == [(priority, text)]


def test_values_within_limits_raise_nothing_and_alarms_clear_when_the_value_recovers():
    engine = AlarmEngine()
    for code, value in ((MDC_HEART_RATE, 72), (MDC_SPO2, 97), (MDC_NIBP_SYS, 128), (MDC_PERFUSION_INDEX, 0.2)):
        engine.observe(obs(code, value), 0.0)
    assert engine.evaluate(0.1) == []
    engine.observe(obs(MDC_HEART_RATE, 130), 1.0)
    [alarm] = engine.evaluate(1.1)
    engine.observe(obs(MDC_HEART_RATE, 135), 2.0)
    [same] = engine.evaluate(2.1)
    assert same.key == alarm.key and same.since == alarm.since == 1.1 and same.value == 135
    engine.observe(obs(MDC_HEART_RATE, 100), 3.0)
    assert engine.evaluate(3.1) == []


def test_alarms_are_ordered_high_first_and_serialise_for_the_ui():
    engine = AlarmEngine()
    engine.observe(obs(MDC_TEMP, 34.5), 0.0)
    engine.observe(obs(MDC_HEART_RATE, 130), 0.0)
    engine.observe(obs(MDC_SPO2, 80), 0.0)
    alarms = engine.evaluate(0.1)
    assert [a.priority for a in alarms] == [HIGH, MEDIUM, LOW]
    data = alarms[0].to_dict()
    assert data["marker"] == "!!!" and data["priority_nl"] == "hoog" and data["kind"] == "physiological"
    assert data["code"] == MDC_SPO2 and data["text"].startswith("!!! ")


def test_invalid_values_raise_technical_not_physiological_alarms():
    engine = AlarmEngine()
    engine.observe(obs(MDC_HEART_RATE, 112, flags=(FLAG_ARTEFACT,)), 0.0)  # CPR compressions
    engine.observe(obs(MDC_SPO2, None, flags=(FLAG_PROBE_OFF,)), 0.0)
    assert sorted(active(engine, 0.1)) == [(LOW, "! HF onbetrouwbaar (artefact)"), (LOW, "! SpO2-sensor los")]


def test_etco2_in_kpa_is_compared_in_mmhg_and_shown_as_sent():
    engine = AlarmEngine()
    engine.observe(obs(MDC_ETCO2, 2.6, unit="kPa"), 0.0)  # 19.5 mmHg: below 25
    assert active(engine, 0.1) == [(MEDIUM, "!! etCO2 te laag: 2.6 kPa")]
    engine.observe(obs(MDC_ETCO2, 5.0, unit="kPa"), 1.0)  # 37.5 mmHg
    assert engine.evaluate(1.1) == []


def test_device_lost_by_link_state_or_silence_and_back():
    engine = AlarmEngine()
    engine.watch_device("mon", 0.0, silence_timeout_s=2.5)
    engine.observe(obs(MDC_HEART_RATE, 160), 1.0)
    assert [a.priority for a in engine.evaluate(1.1)] == [HIGH]
    engine.link_state("mon", "disconnected", 2.0)
    # The stale HR 160 no longer alarms; the technical alarm does.
    assert active(engine, 2.0) == [(MEDIUM, f"!! {TEXT_DEVICE_LOST}")]
    engine.link_state("mon", "connected", 3.0)
    engine.observe(obs(MDC_HEART_RATE, 80), 3.1)
    assert engine.evaluate(3.2) == []
    engine.activity("mon", 4.0)  # frames without values still mean the monitor is there
    assert engine.evaluate(6.4) == []
    assert active(engine, 6.6) == [(MEDIUM, f"!! {TEXT_DEVICE_LOST}")]  # 2.6 s of silence


def test_a_watched_device_that_never_speaks_is_lost_after_its_timeout():
    engine = AlarmEngine(device_lost_priority=HIGH)
    engine.watch_device("mon", 10.0, silence_timeout_s=15.0)
    assert engine.evaluate(20.0) == []
    [alarm] = engine.evaluate(25.1)
    assert (alarm.kind, alarm.priority, alarm.text) == ("technical", HIGH, f"!!! {TEXT_DEVICE_LOST}")
    with pytest.raises(ValueError):
        AlarmEngine(device_lost_priority="urgent")


def test_limits_are_configurable_by_label_or_code_and_checked():
    limits = limits_with_overrides({"HR": {"high": 140}, "150456": {"low": 92, "critical_low": 88},
                                    "temp": {"priority": "medium"}})
    assert limits[MDC_HEART_RATE] == ParameterLimits(low=50, high=140, critical_low=40, critical_high=150)
    assert limits[MDC_SPO2].low == 92 and limits[MDC_TEMP].priority == MEDIUM
    assert DEFAULT_ADULT_LIMITS[MDC_HEART_RATE].high == 120  # defaults untouched
    engine = AlarmEngine(limits)
    engine.observe(obs(MDC_HEART_RATE, 130), 0.0)
    assert engine.evaluate(0.1) == []
    for bad, reason in (({"XYZ": {"low": 1}}, "unknown parameter"), ({"HR": {"low": 130}}, "must increase"),
                        ({"HR": {"loww": 1}}, "unknown setting"), ({"HR": {"low": "laag"}}, "numbers"),
                        ({"HR": {"priority": "urgent"}}, "priority")):
        with pytest.raises(ValueError, match=reason):
            limits_with_overrides(bad)


def test_trend_keeps_at_most_one_point_per_5_s_per_parameter():
    trend = TrendBuffer()
    stored = [trend.add(obs(MDC_HEART_RATE, 70 + i), now=i * 0.5) for i in range(40)]  # 2 Hz for 20 s
    assert sum(stored) == 4
    points = trend.points(MDC_HEART_RATE)
    assert [p.at for p in points] == [0.0, 5.0, 10.0, 15.0] and [p.value for p in points] == [70, 80, 90, 100]
    assert all(b.at - a.at >= 5.0 for a, b in zip(points, points[1:], strict=False))
    assert trend.add(obs(MDC_SPO2, 97), now=19.5)  # another parameter has its own clock
    assert trend.add(obs(MDC_HEART_RATE, None), now=20.0)  # a gap is kept as a gap
    assert trend.points(MDC_HEART_RATE)[-1].status == "not-measured"
    assert set(trend.snapshot()) == {f"mon/{MDC_HEART_RATE}", f"mon/{MDC_SPO2}"}


def test_trend_is_bounded_and_keeps_devices_apart():
    trend = TrendBuffer(min_interval_s=5.0, max_points=3)
    for i in range(10):
        trend.add(obs(MDC_SPO2, 90 + i, device="oximeter"), now=i * 5.0)
        trend.add(obs(MDC_SPO2, 80 + i, device="monitor"), now=i * 5.0)
    assert [p.value for p in trend.points(MDC_SPO2, "oximeter")] == [97, 98, 99]
    assert len(trend.points(MDC_SPO2)) == 6 and trend.series_keys() == [("monitor", MDC_SPO2), ("oximeter", MDC_SPO2)]
    with pytest.raises(ValueError):
        TrendBuffer(min_interval_s=0)
