"""``ritlink monitor`` and ``ritlink sim monitor`` as testers run them: real processes."""

from __future__ import annotations

import json
import socket
import subprocess
import time

import pytest

from simulators.mosquitto import free_port
from tests.conftest import CONFORMANCE
from tests.harness.procs import child_env, ritlink_cmd, run_ritlink
from tests.harness.waiting import wait_until

REQUIRED_KEYS = {"code", "label", "value", "unit", "time"}


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_monitor_file_mode_decodes_the_conformance_captures():
    result = run_ritlink("monitor", "--protocol", "hl7", "--file",
                         str(CONFORMANCE / "vitals" / "hl7" / "philips_intellivue_pcd01_example.hl7"))
    assert result.returncode == 0, result.stderr
    [hr] = _json_lines(result.stdout)
    assert REQUIRED_KEYS <= set(hr) and (hr["code"], hr["label"], hr["value"], hr["unit"]) == (147842, "HR", 60.0, "/min")
    assert hr["time"] == "2021-04-25T23:03:31.496-04:00"

    result = run_ritlink("monitor", "--protocol", "ansarb", "--file",
                         str(CONFORMANCE / "vitals" / "serial" / "ivy450c_ansar_b.data"))
    lines = _json_lines(result.stdout)
    assert len(lines) == 27 * 9 and '"frames_ok": 27' in result.stderr
    assert {(o["label"], o["value"]) for o in lines if o["status"] == "valid"} == {
        ("HR", 80.0), ("RR", 35.0), ("SpO2", 100.0), ("PR", 80.0), ("NIBP sys", 121.0), ("NIBP dia", 75.0),
        ("NIBP mean", 92.0), ("NIBP PR", 80.0)}


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(ritlink_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=child_env(), stdin=subprocess.DEVNULL)


def _stop(proc: subprocess.Popen) -> tuple[str, str]:
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate(timeout=5)


def _first_line_within(proc: subprocess.Popen, seconds: float) -> dict:
    """Read one stdout line while the process still runs: proves per-line flushing."""
    started = time.monotonic()
    line = proc.stdout.readline()
    assert line, f"no output; stderr: {proc.stderr.read() if proc.poll() is not None else ''}"
    assert time.monotonic() - started < seconds and proc.poll() is None
    return json.loads(line)


@pytest.mark.parametrize("protocol", ["masimo", "ansarb"])
def test_sim_and_tester_cli_over_a_pty(tmp_path, protocol):
    link = tmp_path / "monitor"
    sim = _start("sim", "monitor", "--protocol", protocol, "--link", str(link), "--interval", "0.05",
                 "--speed", "20", "--scenario", "hypoxia")
    reader = None
    try:
        wait_until(link.exists, 10, what="simulated device appears")
        reader = _start("monitor", "--protocol", protocol, "--url", str(link), "--duration", "20")
        first = _first_line_within(reader, 8)
        assert REQUIRED_KEYS <= set(first)
        time.sleep(0.5)
        out, err = _stop(reader)
        assert "connected" in err
        lines = [first, *_json_lines(out)]
        assert len(lines) > 5 and {o["code"] for o in lines} >= {150456, 149530}
    finally:
        if reader:
            _stop(reader)
        out, _err = _stop(sim)
    assert "monitor simulator (" in out and "frames" in out


def test_hl7_tcp_sim_connects_to_the_tester_cli_as_mllp_client():
    port = free_port()
    reader = _start("monitor", "--protocol", "hl7", "--url", f"listen://127.0.0.1:{port}", "--duration", "20")
    sim = _start("sim", "monitor", "--protocol", "hl7", "--tcp", str(port), "--interval", "0.05", "--speed", "20",
                 "--scenario", "cardiac_arrest_rosc")
    try:
        first = _first_line_within(reader, 10)
        assert REQUIRED_KEYS <= set(first)
        time.sleep(0.5)
    finally:
        out, err = _stop(reader)
        _stop(sim)
    lines = [first, *_json_lines(out)]
    assert {147842, 150456, 151728} <= {o["code"] for o in lines}
    assert '"messages_ok"' in err and '"messages_bad": 0' in err


def test_monitor_duration_ends_the_reader():
    port = free_port()
    started = time.monotonic()
    result = run_ritlink("monitor", "--protocol", "hl7", "--url", f"listen://127.0.0.1:{port}", "--duration", "1")
    assert result.returncode == 0 and result.stdout == ""
    assert f"waiting for hl7 at listen://127.0.0.1:{port}" in result.stderr
    assert time.monotonic() - started < 10


def test_monitor_on_a_busy_port_fails_with_one_line():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = run_ritlink("monitor", "--protocol", "hl7", "--url", f"listen://127.0.0.1:{port}")
    assert result.returncode == 2 and result.stderr.startswith("ritlink: error: --url:")


@pytest.mark.parametrize("args,message", [
    (["sim", "monitor", "--protocol", "masimo", "--link", "/tmp/x", "--reboot-after", "5"],
     "--reboot-after: not supported for protocol masimo"),
    (["sim", "monitor", "--protocol", "nonin", "--tcp", "2575"], "--tcp is only for --protocol hl7"),
    (["sim", "monitor", "--link", "/no/such/dir/x"], "does not exist"),
    (["sim", "monitor", "--link", "/tmp/x", "--scenario", "marathon"], "no scenario 'marathon'"),
    (["sim", "monitor", "--link", "/tmp/x", "--garbage-rate", "2"], "between 0 and 1"),
    (["monitor", "--protocol", "nonin", "--url", "listen://127.0.0.1:2575"], "only for hl7"),
    (["monitor", "--protocol", "nonin", "--file", "/no/such/file"], "is not a file"),
    (["monitor", "--protocol", "nonin", "--url", "/tmp/x", "--duration", "0"], "greater than 0"),
])
def test_bad_input_gives_one_line_and_exit_2(args, message):
    result = run_ritlink(*args)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
