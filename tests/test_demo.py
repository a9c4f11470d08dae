"""``ritlink demo``: everything starts, answers, and stops together on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx
import pytest

from simulators.mosquitto import free_port
from tests.harness.procs import child_env, ritlink_cmd, run_ritlink
from tests.harness.waiting import wait_until


def processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    if text.encode() in handle.read():
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def command_line(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().decode().rstrip("\0").split("\0")


@pytest.mark.serial
def test_demo_starts_everything_and_sigterm_stops_every_child(tmp_path):
    ports = {"edge": free_port(), "seh": free_port(), "broker": free_port()}
    data_dir = tmp_path / "demo"
    demo = subprocess.Popen(
        ritlink_cmd("demo", "--edge-port", str(ports["edge"]), "--seh-port", str(ports["seh"]),
                    "--broker-port", str(ports["broker"]), "--data-dir", str(data_dir)),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env(),
    )
    try:
        for name in ("edge", "seh"):
            url = f"http://127.0.0.1:{ports[name]}/-/health"
            wait_until(lambda: httpx.get(url, timeout=1).json()["status"] == "ok", 30, what=f"{name} health")
        edge_health = httpx.get(f"http://127.0.0.1:{ports['edge']}/-/health").json()
        devices = lambda: httpx.get(f"http://127.0.0.1:{ports['edge']}/-/health").json()["devices"]  # noqa: E731
        wait_until(lambda: devices().get("monitor") == "connected" and devices().get("gps") == "connected", 10,
                   what="monitor and GPS simulators connected")
        assert edge_health["vehicle_id"] == "ambu-01"
        assert len(processes_mentioning(str(data_dir))) >= 5  # broker, monitor and GPS sims, seh, serve
        children = [command_line(pid) for pid in processes_mentioning(str(data_dir))]
        ritlink_children = [c for c in children if "mosquitto" not in c[0]]
        assert len(ritlink_children) >= 4, children  # monitor and GPS sims, seh, serve
        assert all(c[1:3] == ["-m", "ritlink"] for c in ritlink_children), children  # ps shows "python -m ritlink …"

        started = time.monotonic()
        demo.send_signal(signal.SIGTERM)
        demo.wait(10)
        assert time.monotonic() - started < 5.0
        output = demo.stdout.read()
        assert f"http://127.0.0.1:{ports['edge']}/" in output and f"http://127.0.0.1:{ports['seh']}/" in output
        wait_until(lambda: processes_mentioning(str(data_dir)) == [], 3, what="no stray child processes")
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", ports["broker"])) != 0, "mosquitto still listening"
    finally:
        if demo.poll() is None:
            demo.kill()
        for pid in processes_mentioning(str(data_dir)):
            os.kill(pid, signal.SIGKILL)


def test_demo_refuses_a_taken_port_naming_the_flag():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_ritlink("demo", "--seh-port", str(port), "--edge-port", str(free_port()),
                             "--broker-port", str(free_port()))
    assert result.returncode == 2
    assert "--seh-port" in result.stderr and str(port) in result.stderr
    assert result.stderr.strip().count("\n") == 0
