"""Shared fixtures: a real mosquitto, pty devices, ritlink edge/SEH processes, temp SQLite."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from simulators.monitor import run_nonin
from simulators.mosquitto import Mosquitto
from simulators.pty_device import PtyDevice
from tests.harness.procs import RitlinkProcess, write_toml

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONFORMANCE = SHARED / "conformance"

SEH_ID = "seh-umcu"
SEHS = [
    {"id": SEH_ID, "name": "SEH UMC Utrecht", "phone": "088-755 5555"},
    {"id": "seh-antonius", "name": "SEH St. Antonius", "phone": "088-320 3000"},
]


@pytest.fixture
def broker(tmp_path):
    """A private mosquitto on a free loopback port; ``kill9()`` and ``start()`` keep its data."""
    b = Mosquitto(tmp_path / "broker").start()
    yield b
    b.stop()


@pytest.fixture
def pty_device(tmp_path):
    """A factory for simulated serial devices at symlinks under tmp_path."""
    devices = []

    def make(name: str = "monitor") -> PtyDevice:
        device = PtyDevice(tmp_path / name).plug()
        devices.append(device)
        return device

    yield make
    for device in devices:
        device.unplug()


def _process_factory(tmp_path, command: str, defaults: dict, sehs: list[dict] | None = None):
    """Start real ritlink processes; each gets its own config, database and log under tmp_path."""
    procs = []

    def make(name: str, **values) -> RitlinkProcess:
        config = write_toml(tmp_path / f"{name}.toml",
                            {**defaults, "database": str(tmp_path / f"{name}.db"), **values}, sehs=sehs)
        proc = RitlinkProcess(command, config, tmp_path / f"{name}.log")
        procs.append(proc)
        return proc.start()

    return make, procs


@pytest.fixture
def seh_process(tmp_path, broker):
    """A factory: ``seh_process()`` starts a real ``ritlink seh`` on the test broker."""
    make, procs = _process_factory(tmp_path, "seh", {"seh_id": SEH_ID, "name": "SEH UMC Utrecht",
                                                     "broker_url": broker.url})
    yield lambda name="seh", **values: make(name, **values)
    for proc in procs:
        proc.stop()


@pytest.fixture
def edge_process(tmp_path, broker):
    """A factory: ``edge_process(monitor_url=...)`` starts a real ``ritlink serve``."""
    make, procs = _process_factory(tmp_path, "serve", {"vehicle_id": "ambu-01", "broker_url": broker.url}, SEHS)
    yield lambda name="edge", **values: make(name, **values)
    for proc in procs:
        proc.stop()


@pytest.fixture
def monitor(pty_device):
    """A Nonin oximeter on a pty, writing 5 lines a second (link at ``monitor.link``)."""
    device = pty_device("monitor")
    stop = threading.Event()
    thread = threading.Thread(target=run_nonin, args=(device, stop, 0.2), daemon=True)
    thread.start()
    yield device
    stop.set()
    thread.join(2)
