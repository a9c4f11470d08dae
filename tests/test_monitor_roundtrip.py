"""Every driver against its simulator through a real pty (TCP for HL7), for every scenario:
every value the simulated device sent arrives with the right code, value and unit; none is
invented. The simulators run at 50 frames/s with 10 scenario seconds per frame."""

from __future__ import annotations

import threading
import time

import pytest

from simulators.monitor import Faults
from simulators.scenario import MimicReplay, load_source, shipped_scenarios
from tests.harness.monitor_rig import MonitorRig, sent_key

INTERVAL_S = 0.02  # 50 Hz
STEP_S = 10.0  # scenario seconds per frame
SCENARIOS = ["stable", "hypovolaemic_shock", "hypoxia", "cardiac_arrest_rosc"]
RIGS = [("nonin", False), ("masimo", False), ("ansarb", False), ("hl7", True)]


def _play_all(rigs: list[MonitorRig], source, faults: Faults | None = None) -> dict[str, list]:
    """All protocols at once (each on its own pty/socket), to keep the suite fast."""
    sent: dict[str, list] = {}

    def play(rig: MonitorRig) -> None:
        sent[rig.protocol] = rig.play(source, INTERVAL_S, STEP_S, faults)

    threads = [threading.Thread(target=play, args=(rig,)) for rig in rigs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sent


def _assert_exact(rig: MonitorRig, sent: list) -> None:
    want = [sent_key(s) for s in sent]
    rig.wait_for(len(want))
    time.sleep(0.1)  # anything extra would arrive now
    got = rig.received_keys()
    assert len(got) == len(want), f"{rig.protocol}: {len(got)} received, {len(want)} sent"
    for index, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"{rig.protocol} value {index}: received {g}, sent {w}"


@pytest.fixture
def rigs(tmp_path):
    made = [MonitorRig(protocol, tmp_path, tcp=tcp) for protocol, tcp in RIGS]
    yield made
    for rig in made:
        rig.close()


def test_the_four_clinical_scenarios_are_shipped():
    assert set(SCENARIOS) <= set(shipped_scenarios())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_every_protocol_round_trips_every_value_of_the_scenario(rigs, scenario):
    source = load_source(scenario)
    sent = _play_all(rigs, source)
    frames = int(source.duration_s // STEP_S) + 1
    for rig in rigs:
        assert len(sent[rig.protocol]) >= frames * 2, rig.protocol  # every frame got through
        _assert_exact(rig, sent[rig.protocol])
    hl7 = rigs[-1].transport
    assert (hl7.acks_ok, hl7.acks_missing) == (frames, 0)  # ritlink acknowledged every message
    # The scenario's clinical content really went over the wire (not just empty frames).
    statuses = {rig.protocol: {o.status for o in rig.received} for rig in rigs}
    assert all("valid" in s for s in statuses.values())
    if scenario == "cardiac_arrest_rosc":
        assert "artefact" in statuses["hl7"]  # compression artefact on the ECG rate
        assert "not-measured" in statuses["nonin"] and "not-measured" in statuses["ansarb"]  # no pleth


def test_round_trip_survives_garbage_between_frames(rigs):
    sent = _play_all(rigs, load_source("hypoxia"), Faults(garbage_rate=0.5, seed=7))
    for rig in rigs:
        _assert_exact(rig, sent[rig.protocol])
    assert rigs[0].link.decoder.counters()["lines_bad"] > 0  # garbage was there, and was dropped


def test_hl7_over_serial_round_trips(tmp_path):
    rig = MonitorRig("hl7", tmp_path, tcp=False)
    try:
        sent = rig.play(load_source("hypovolaemic_shock"), INTERVAL_S, STEP_S * 3)
        _assert_exact(rig, sent)
    finally:
        rig.close()


def test_mimic_replay_round_trips_over_a_pty(tmp_path):
    replay = MimicReplay.load()
    replay.duration_s = 120 * 60.0  # the first two hours, one frame per record minute
    rig = MonitorRig("masimo", tmp_path)
    try:
        sent = rig.play(replay, INTERVAL_S, 60.0)
        _assert_exact(rig, sent)
    finally:
        rig.close()
    spo2 = [s.value for s in sent if s.code == 150456]
    assert len(spo2) == 121 and spo2[0] is None and spo2[100] == 99.0  # minute 100: SpO2 99.4 in the record
