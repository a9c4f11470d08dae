"""`make test` runs two passes (tests/two_passes.sh): its exit code must show a failure of
either pass, and accept "no tests" (pytest exit 5) in one pass only when the other ran tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "two_passes.sh"
FAKE_PYTHON = """#!/bin/sh
# stands in for python: the serial pass exits $SERIAL_EXIT, the parallel one $PARALLEL_EXIT
echo "$@" >> "$CALLS"
case "$*" in *"-m serial"*) exit "$SERIAL_EXIT";; *) exit "$PARALLEL_EXIT";; esac
"""


@pytest.mark.parametrize("parallel,serial,expected", [
    (0, 0, 0), (1, 0, 1), (0, 1, 1), (2, 0, 2), (5, 0, 0), (0, 5, 0), (5, 1, 1), (1, 5, 1), (5, 5, 5)])
def test_exit_code_of_the_two_passes(tmp_path, parallel, serial, expected):
    fake = tmp_path / "python"
    fake.write_text(FAKE_PYTHON)
    fake.chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": "/usr/bin:/bin", "PARALLEL_EXIT": str(parallel), "SERIAL_EXIT": str(serial),
           "CALLS": str(calls), "PYTEST_WORKERS": "3"}
    done = subprocess.run(["bash", str(SCRIPT), str(fake), "tests/test_x.py", "-k", "y"], env=env,
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == expected, done.stdout + done.stderr
    first, second = calls.read_text().splitlines()  # both passes run, whatever the first gave
    assert first == '-m pytest -n 3 --dist loadgroup -m not serial tests/test_x.py -k y'
    assert second == "-m pytest -p no:xdist -m serial tests/test_x.py -k y"
    assert f"parallel pass (3 workers) exit {parallel}" in done.stdout


def test_free_ports_come_from_the_workers_own_block_and_children_use_the_kernels(monkeypatch):
    """Parallel workers never race for a port: each takes from its own block (conftest.py)."""
    from simulators.mosquitto import PORT_RANGE_ENV, free_port
    from simulators.processes import child_env

    monkeypatch.setenv(PORT_RANGE_ENV, "32100-32199")
    ports = [free_port() for _ in range(60)]
    assert all(32100 <= p <= 32199 for p in ports) and len(set(ports)) == 60  # none handed out twice
    assert PORT_RANGE_ENV not in child_env()  # a child process takes the kernel's free ports
    monkeypatch.delenv(PORT_RANGE_ENV)
    assert free_port() >= 1024
