"""Scenario files, the MIMIC replay and the simulator's fault options."""

from __future__ import annotations

import csv
import threading
import time

import pytest

from devices.observation import (
    FLAG_ARTEFACT,
    FLAG_LOW_PERFUSION,
    FLAG_PROBE_OFF,
    MDC_ETCO2,
    MDC_HEART_RATE,
    MDC_NIBP_SYS,
    MDC_PULSE_RATE,
    MDC_RESP_RATE,
    MDC_SPO2,
    Observation,
)
from edge.live.alarms import HIGH, AlarmEngine
from simulators.monitor import Faults, SentValue, run_monitor
from simulators.scenario import MIMIC_CSV, MimicReplay, Reading, Scenario, ScenarioError, load_source
from tests.harness.monitor_rig import MonitorRig, sent_key

SMALL = """# a comment
time_s,hr,spo2,pi,nibp_sys,nibp_dia,nibp_mean
0,60,98,2.0,120,80,93
10,80,,,,,
20,90?,off,0.4,-,-,-
30,-,95,0.3,,,
40,100,96,0.8,110,70,83
"""


def test_scenario_interpolates_holds_and_marks_statuses():
    scenario = Scenario.parse(SMALL, "small")
    assert scenario.duration_s == 40
    at = scenario.sample
    assert at(5).readings[MDC_HEART_RATE].value == 70  # halfway between key points
    assert at(15).readings[MDC_SPO2].value == 98  # no key point until "off": held
    assert at(25).readings[MDC_HEART_RATE].flags == (FLAG_ARTEFACT,) and at(25).readings[MDC_HEART_RATE].value == 90
    assert at(25).readings[MDC_SPO2].value is None and at(25).readings[MDC_SPO2].flags == (FLAG_PROBE_OFF,)
    assert at(35).readings[MDC_HEART_RATE].value is None  # "-": not measured
    assert at(32).readings[MDC_SPO2] == Reading(95, (FLAG_LOW_PERFUSION,))  # PI 0.4: low perfusion
    assert at(35).readings[MDC_SPO2] == Reading(96, ())  # PI 0.55
    assert at(40).readings[MDC_HEART_RATE].value == 100


def test_scenario_nibp_measurements_are_events_with_failures():
    scenario = Scenario.parse(SMALL, "small")
    assert scenario.sample(9).nibp.systolic == 120 and scenario.sample(9).nibp.pulse == 60  # HR when measured
    failed = scenario.sample(25).nibp
    assert failed.systolic is None and failed.at == 20
    assert scenario.sample(40).nibp.mean == 83


@pytest.mark.parametrize("text,reason", [
    ("hr,time_s\n1,0\n", "first column"),
    ("time_s,hr,bp\n0,1,2\n", "unknown columns"),
    ("time_s,hr\n0,60\n0,70\n", "must increase"),
    ("time_s,hr\n0,fast\n", "not a number"),
    ("time_s,hr\n0,-5\n", "plausible"),
    ("time_s,nibp_sys,nibp_dia,nibp_mean\n0,120,,\n", "all three NIBP"),
    ("time_s,hr\n", "no rows"),
])
def test_scenario_errors_name_the_problem(text, reason):
    with pytest.raises(ScenarioError, match=reason):
        Scenario.parse(text, "bad")


def _alarm_codes(scenario: str) -> dict[int, set[str]]:
    """Which parameters alarm (and how urgently) at some point of the scenario, per ritlink's limits."""
    source = load_source(scenario)
    found: dict[int, set[str]] = {}
    t = 0.0
    while t <= source.duration_s:
        engine = AlarmEngine()
        sample = source.sample(t)
        for code, reading in sample.readings.items():
            engine.observe(Observation.of("sim", code, reading.value, flags=reading.flags), t)
        if sample.nibp and sample.nibp.systolic is not None:
            engine.observe(Observation.of("sim", MDC_NIBP_SYS, sample.nibp.systolic), t)
        for alarm in engine.evaluate(t):
            if alarm.code is not None:
                found.setdefault(alarm.code, set()).add(alarm.priority)
        t += 10.0
    return found


def test_shipped_scenarios_tell_their_clinical_story():
    assert _alarm_codes("stable") == {}  # a stable adult never alarms
    shock = _alarm_codes("hypovolaemic_shock")
    assert HIGH in shock[MDC_NIBP_SYS] and MDC_HEART_RATE in shock and MDC_RESP_RATE in shock
    hypoxia = _alarm_codes("hypoxia")
    assert HIGH in hypoxia[MDC_SPO2]
    arrest = _alarm_codes("cardiac_arrest_rosc")
    assert HIGH in arrest[MDC_ETCO2] and MDC_NIBP_SYS in arrest  # low etCO2 in CPR, hypotension after ROSC
    cpr = load_source("cardiac_arrest_rosc").sample(200)
    assert cpr.readings[MDC_HEART_RATE].flags == (FLAG_ARTEFACT,) and cpr.readings[MDC_SPO2].value is None
    rosc = load_source("cardiac_arrest_rosc").sample(600)
    assert rosc.readings[MDC_HEART_RATE].flags == () and rosc.readings[MDC_ETCO2].value >= 35


def test_mimic_replay_reads_the_shared_record_minute_by_minute():
    replay = load_source("mimic")
    assert isinstance(replay, MimicReplay)
    with MIMIC_CSV.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert replay.duration_s == len(rows) * 60.0
    assert len(replay.nibp_events) == 152
    row = rows[102]  # minute 102: a NIBP measurement 139/61 (86)
    sample = replay.sample(102 * 60 + 59)
    assert sample.readings[MDC_HEART_RATE].value == round(float(row["HR_bpm"]))
    assert sample.readings[MDC_SPO2].value == round(float(row["SpO2_pct"]))
    assert (sample.nibp.systolic, sample.nibp.diastolic, sample.nibp.mean) == (139, 61, 86)
    assert replay.sample(0).readings[MDC_SPO2].value is None  # 0 in the record: sensor off


def test_load_source_names_the_choices():
    with pytest.raises(ScenarioError, match="stable"):
        load_source("no-such-scenario")


@pytest.mark.parametrize("protocol", ["nonin", "masimo", "ansarb"])
def test_probe_off_fault_reaches_the_reader(tmp_path, protocol):
    rig = MonitorRig(protocol, tmp_path)
    try:
        sent = rig.play(load_source("stable"), 0.02, 60.0, Faults(probe_off_after_s=0.0))
        rig.wait_for(len(sent))
    finally:
        rig.close()
    oximetry = [o for o in rig.received if o.code in (MDC_SPO2, MDC_PULSE_RATE)]
    assert oximetry and all(o.value is None for o in oximetry)
    if protocol != "ansarb":  # ANSAR-B has no probe-off marker: just no value
        assert all(FLAG_PROBE_OFF in o.flags for o in oximetry)


def test_unplug_fault_loses_frames_while_unplugged_and_reports_only_what_was_sent(tmp_path):
    rig = MonitorRig("nonin", tmp_path)
    sent: list[SentValue] = []
    try:
        run_monitor("nonin", rig.transport, load_source("stable"), threading.Event(), 0.02, speed=500.0,
                    faults=Faults(unplug_after_s=0.3, replug_after_s=0.3), on_sent=sent.extend, until_end=True)
        time.sleep(0.3)
    finally:
        rig.close()
    frames = 600 // 10 + 1
    assert len(sent) < 2 * frames  # nothing was written while the cable was out
    # The reader drops what queued up while it was away (stale), never invents anything:
    # what it received is what was sent, in order, and values came back after the replug.
    want = iter(sent_key(s) for s in sent)
    assert all(any(got == w for w in want) for got in rig.received_keys())
    assert len(rig.received) >= 2 * 10 and "disconnected" in rig.states


def test_repeat_restarts_the_scenario_and_hold_keeps_the_last_state(tmp_path):
    scenario = Scenario.parse("time_s,pr,spo2\n0,60,99\n20,80,95\n", "tiny")
    rig = MonitorRig("nonin", tmp_path)
    try:
        for repeat in (True, False):
            stop = threading.Event()
            sent: list[SentValue] = []

            def collect(values, sent=sent, stop=stop):
                sent.extend(values)
                if len(sent) >= 12:
                    stop.set()

            run_monitor("nonin", rig.transport, scenario, stop, 0.01, speed=1000.0, on_sent=collect, repeat=repeat)
            pulses = [s.value for s in sent if s.code == MDC_PULSE_RATE]
            assert pulses == ([60, 70, 80, 60, 70, 80] if repeat else [60, 70, 80, 80, 80, 80])
    finally:
        rig.close()
