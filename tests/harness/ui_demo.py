"""A running demo for the UI bench and the screenshot script: mosquitto, `ritlink seh`,
`ritlink serve` reading a simulated Nonin oximeter at 1 Hz, and Debian chromium."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory

from playwright.sync_api import sync_playwright

from simulators.monitor import run_nonin
from simulators.mosquitto import Mosquitto
from simulators.processes import RitlinkProcess, write_toml
from simulators.pty_device import PtyDevice
from tests.conftest import SEH_ID, SEHS
from tests.harness.ui_browser import launch


@contextmanager
def ui_demo(monitor_interval_s: float = 1.0):
    """Yield (edge, seh, browser); everything stops on exit."""
    with TemporaryDirectory(prefix="ritlink-ui-") as tmp:
        work = Path(tmp)
        broker = Mosquitto(work / "broker").start()
        device = PtyDevice(work / "monitor").plug()
        stop = threading.Event()
        feeder = threading.Thread(target=run_nonin, args=(device, stop, monitor_interval_s), daemon=True)
        feeder.start()
        seh = RitlinkProcess("seh", write_toml(work / "seh.toml", {
            "seh_id": SEH_ID, "name": "SEH UMC Utrecht", "broker_url": broker.url, "database": str(work / "seh.db"),
            "log_level": "warning"}), work / "seh.log").start()
        edge = RitlinkProcess("serve", write_toml(work / "edge.toml", {
            "vehicle_id": "ambu-01", "broker_url": broker.url, "database": str(work / "edge.db"),
            "monitor_url": str(device.link), "log_level": "warning"}, sehs=SEHS), work / "edge.log").start()
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                try:
                    yield edge, seh, browser
                finally:
                    browser.close()
        finally:
            edge.stop()
            seh.stop()
            stop.set()
            feeder.join(2)
            device.unplug()
            broker.stop()
