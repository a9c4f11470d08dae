"""Every shipped scenario plays against a real private stack (mosquitto, ritlink seh, ritlink
serve, ptys, link cutter) at a high speed factor and meets all its expectations."""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET

import pytest

from simulators import scenario_file
from tests.harness.procs import run_ritlink

# Scenario seconds per real second in the suite; a new scenario runs at DEFAULT_FAST_SPEED.
FAST_SPEED = {"stemi_tunnel": 30, "polytrauma_cable": 30, "cancelled_a1": 20, "seh_never_reads": 20,
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


@pytest.mark.serial
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
    if name == "polytrauma_cable":
        check_polytrauma_report(result.stdout)


def check_polytrauma_report(report: str) -> None:
    """The report shows the cable-pull alarm, the reconnect, the deterioration reaching the
    SEH, and 0 lost / 0 doubled entries by id."""
    verdicts, timeline = report.split("tijdlijn:")
    pulled = re.search(r"monitor\s+kabel los", timeline)
    back = re.search(r"monitor\s+kabel terug", timeline)
    assert pulled and back, timeline
    assert re.search(r"alarm\s+!! monitor niet verbonden", timeline[pulled.end():back.start()])  # the cable-pull alarm
    assert "apparaat monitor: connected" in timeline[back.end():]  # the reconnect
    rows = verdicts.splitlines()
    for words in ("kabel los: alarm 'monitor niet verbonden'", "kabel terug: monitor weer verbonden",
                  "verslechtering bij de SEH: SpO2 onder 88", "verslechtering bij de SEH: systolische bloeddruk"):
        assert any(words in row and "GEHAALD" in row for row in rows), words
    no_loss = next(row for row in rows if "geen invoer verloren of dubbel" in row)
    assert "GEHAALD" in no_loss and ", 0 verloren, 0 dubbel" in no_loss
