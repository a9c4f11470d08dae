"""The live reader on a real pty: fixes flow, unplug -> "disconnected", replug -> fixes again."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import datetime

import pytest

from devices.gps import GpsReader
from simulators.gps import PacedLine, RouteReceiver, run_route
from simulators.gps_route import load_route, shipped_route
from tests.harness.procs import child_env, ritlink_cmd, run_ritlink
from tests.harness.waiting import wait_until


@pytest.fixture
def gps_sim(pty_device):
    """A 1 Hz receiver driving the city route in real time on a pty."""
    device = pty_device("gps")
    stop = threading.Event()
    receiver = RouteReceiver(load_route(shipped_route("utrecht-city")), hz=1.0)
    thread = threading.Thread(target=run_route, args=(PacedLine(device, stop, 9600), receiver), daemon=True)
    thread.start()
    yield device
    stop.set()
    thread.join(3)


@pytest.mark.serial
def test_one_fix_per_epoch_then_unplug_and_replug_resumes_within_2s(gps_sim):
    fixes, states = [], []
    reader = GpsReader(str(gps_sim.link), lambda fix: fixes.append((time.monotonic(), fix)), states.append).start()
    try:
        wait_until(lambda: len(fixes) >= 4, 6, what="four fixes")
        assert reader.state == "connected"
        times = [fix.receiver_time for _, fix in fixes]
        assert len(times) == len(set(times))  # one fix per epoch
        gaps = [b - a for (a, _), (b, _) in zip(fixes[1:], fixes[2:], strict=False)]
        assert all(0.6 < gap < 1.4 for gap in gaps), gaps  # 1 Hz, delivered as each burst ends

        gps_sim.unplug()
        wait_until(lambda: reader.state == "disconnected", 3, what="reader sees the unplug")
        time.sleep(1.0)
        seen_before = len(fixes)
        replugged_at = time.monotonic()
        gps_sim.plug()
        wait_until(lambda: any(f.has_position for _, f in fixes[seen_before:]), 2.0, what="a fix after the replug")
        first_after = next(at for at, f in fixes[seen_before:] if f.has_position)
        print(f"fix {first_after - replugged_at:.2f} s after the replug")
        assert first_after - replugged_at < 2.0
        assert states[:3] == ["connected", "disconnected", "connected"]
        assert reader.counters()["reconnects"] >= 1
    finally:
        reader.stop()


def test_cli_gps_file_prints_one_json_per_epoch_and_counters(tmp_path):
    from tests.conftest import CONFORMANCE

    result = run_ritlink("gps", "--file", str(CONFORMANCE / "gps" / "gpsd" / "bu353s4.log"))
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 25
    assert {"time", "lat", "lon", "speed_mps", "track", "mode"} <= set(lines[0])
    counters = json.loads(result.stderr.strip().splitlines()[-1])["counters"]
    assert counters["sentences_ok"] == 90 and counters["epochs"] == 25


def test_cli_gps_bad_input_is_one_line_exit_2(tmp_path):
    missing = run_ritlink("gps", "--file", str(tmp_path / "nope.log"))
    assert missing.returncode == 2 and missing.stderr.count("\n") == 1
    both = run_ritlink("gps", "--file", "x", "--url", "y")
    assert both.returncode == 2 and both.stderr.count("\n") == 1
    assert run_ritlink("gps", "--url", "/dev/null", "--duration", "0").returncode == 2


@pytest.mark.serial
def test_cli_sim_and_reader_survive_an_unplug(tmp_path):
    """End to end with processes: the simulator pulls its cable at 1.5 s, back 2 s later."""
    link = tmp_path / "gps"
    sim = subprocess.Popen(ritlink_cmd("sim", "gps", "--link", str(link), "--route", "utrecht-city",
                                       "--unplug-after", "1.5", "--garbage-rate", "0.05", "--bad-checksum-rate", "0.05"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env())
    try:
        wait_until(link.exists, 10, what="simulated GPS appears")
        reader = subprocess.Popen(ritlink_cmd("gps", "--url", str(link), "--duration", "6.5"),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
        out, err = reader.communicate(timeout=20)
    finally:
        sim.terminate()
        sim.wait(5)
    assert reader.returncode == 0, err
    fixes = [json.loads(line) for line in out.splitlines()]
    stamps = [f["receiver_time"] for f in fixes if f["lat"] is not None]
    assert len(stamps) >= 3
    counters = json.loads(err.strip().splitlines()[-1])["counters"]
    assert counters["reconnects"] >= 1, counters
    # The cable was out for 2 s: a hole in the receiver times, and fixes after it.
    seconds = [datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() for stamp in stamps]
    gaps = [b - a for a, b in zip(seconds, seconds[1:], strict=False)]
    hole = max(range(len(gaps)), key=gaps.__getitem__)
    assert gaps[hole] >= 2.0, gaps
    assert len(stamps) - (hole + 1) >= 1, "no fix after the replug"
