"""Every shipped scenario plays against a real private stack (mosquitto, ritlink seh, ritlink
serve, ptys, link cutter) at a high speed factor and meets all its expectations."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from simulators import scenario_file
from tests.harness.procs import run_ritlink

# Scenario seconds per real second in the suite; a new scenario runs at DEFAULT_FAST_SPEED.
FAST_SPEED = {"stemi_tunnel": 25, "polytrauma_cable": 25, "cancelled_a1": 20, "seh_never_reads": 20,
              "resuscitation_rosc": 30, "rural_outage": 60}
DEFAULT_FAST_SPEED = 30
MAX_REAL_S = 60


def play(name: str, tmp_path, *extra: str):
    started = time.monotonic()
    result = run_ritlink("sim", "scenario", name, "--speed", str(FAST_SPEED.get(name, DEFAULT_FAST_SPEED)),
                         "--data-dir", str(tmp_path / "stack"), "--junit", str(tmp_path / "junit.xml"), *extra,
                         timeout=MAX_REAL_S + 30)
    return result, time.monotonic() - started


def test_the_required_scenarios_are_shipped():
    assert {"stemi_tunnel", "polytrauma_cable", "cancelled_a1", "seh_never_reads", "resuscitation_rosc",
            "rural_outage"} <= set(scenario_file.shipped())


@pytest.mark.slow
@pytest.mark.parametrize("name", scenario_file.shipped())
def test_shipped_scenario_meets_every_expectation(name, tmp_path):
    result, took = play(name, tmp_path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "GESLAAGD" in result.stdout and "GEMIST" not in result.stdout.split("tijdlijn:")[0]
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    assert suite.get("failures") == "0" and int(suite.get("tests")) == len(scenario_file.load(
        scenario_file.resolve(name, tmp_path)).expect)
    assert took < MAX_REAL_S, f"{name} took {took:.0f} s"


@pytest.mark.slow
def test_polytrauma_report_shows_cable_pull_reconnect_deterioration_and_no_loss(tmp_path):
    result, _ = play("polytrauma_cable", tmp_path)
    report = result.stdout
    verdicts = report.split("tijdlijn:")[0]
    timeline = report.split("tijdlijn:")[1]
    assert "GEHAALD" in verdicts and result.returncode == 0, report[-6000:]
    assert "monitor: kabel los" in timeline and "!! monitor niet verbonden" in timeline  # the cable-pull alarm
    assert "monitor: kabel terug" in timeline and "apparaat monitor: connected" in timeline  # the reconnect
    for line in ("verslechtering bij de SEH: SpO2 onder 88", "verslechtering bij de SEH: systolische bloeddruk"):
        assert any(line in row and "GEHAALD" in row for row in verdicts.splitlines()), line
    no_loss = next(row for row in verdicts.splitlines() if "geen invoer verloren of dubbel" in row)
    assert "GEHAALD" in no_loss and "0 verloren, 0 dubbel" in no_loss
