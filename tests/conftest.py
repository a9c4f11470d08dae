"""Shared fixtures: a real mosquitto, pty devices, ritlink edge/SEH processes, temp SQLite."""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from simulators.monitor import run_nonin
from simulators.mosquitto import PORT_RANGE_ENV, Mosquitto
from simulators.pty_device import PtyDevice
from tests.harness.procs import RitlinkProcess, write_toml

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CONFORMANCE = SHARED / "conformance"

SEH_ID = "seh-umcu"
SEHS = [
    {"id": SEH_ID, "name": "SEH UMC Utrecht", "phone": "088-755 5555"},
    {"id": "seh-antonius", "name": "SEH St. Antonius", "phone": "088-320 3000"},
]

# `make test` runs the suite in two passes (docs/testing.md): every test not marked `serial` on
# parallel workers (pytest-xdist), then the `serial` ones alone, one at a time.
PORT_BLOCK = 1500  # free ports per parallel worker, from 20000 up: below the kernel's ephemeral range


def pytest_configure(config):
    worker = re.fullmatch(r"gw(\d+)", os.environ.get("PYTEST_XDIST_WORKER", ""))
    if worker and int(worker.group(1)) < 8:
        low = 20000 + PORT_BLOCK * int(worker.group(1))
        os.environ[PORT_RANGE_ENV] = f"{low}-{low + PORT_BLOCK - 1}"


# Modules whose tests take long without a `slow` mark or a browser (fuzzers, soaks, benchmarks).
LONG_MODULES = {"test_bench_smoke", "test_poison", "test_monitor_fuzz", "test_intellivue_messages",
                "test_intellivue_frame", "test_canonical", "test_import_direction", "test_fhir_export",
                "test_fhir_seh", "test_seh_feedback", "test_access_control"}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """For the parallel pass (``--dist loadgroup``): the tests of a module that share a
    module-scoped fixture (a browser, a recorded soak, a broker) stay on one worker, so that
    fixture is set up once; and the long tests are handed out first, so no worker is left with
    a long one at the end while the others idle."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    long_first = []
    for item in items:
        defs = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
        shared = any(d.scope == "module" for chain in defs.values() for d in chain)
        if shared and not any(True for _ in item.iter_markers("xdist_group")):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))
        long = shared or "chromium" in defs or item.get_closest_marker("slow") is not None \
            or item.module.__name__.rsplit(".", 1)[-1] in LONG_MODULES
        long_first.append(0 if long else 1)
    order = sorted(range(len(items)), key=lambda i: long_first[i])
    items[:] = [items[i] for i in order]


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
