"""Cable pull -> technical alarm "monitor niet verbonden" within 3 s; replug -> values resume
without a restart. Real ptys and ritlink's SerialLink (a TCP drop for HL7), AlarmEngine on top."""

from __future__ import annotations

import threading
import time

import pytest

from edge.live.alarms import TEXT_DEVICE_LOST, AlarmEngine
from simulators.monitor import Faults
from simulators.scenario import load_source
from tests.harness.monitor_rig import MonitorRig
from tests.harness.waiting import wait_until

UNPLUG_AFTER_S = 0.5
REPLUG_AFTER_S = 1.5
ALARM_WITHIN_S = 3.0


class AlarmedMonitor:
    """A MonitorRig whose callbacks drive an AlarmEngine, as the edge wires it."""

    def __init__(self, protocol: str, tmp_path, tcp: bool):
        self.engine = AlarmEngine()
        self.lock = threading.Lock()
        self.device_id = f"{protocol}-monitor"
        self.rig = MonitorRig(protocol, tmp_path, tcp=tcp, name=self.device_id,
                              on_observation=self._observe, on_state=self._state, on_activity=self._active)
        with self.lock:
            self.engine.watch_device(self.device_id, time.monotonic(), self.rig.silence_timeout_s)

    def _observe(self, observation) -> None:
        with self.lock:
            self.engine.observe(observation, time.monotonic())

    def _state(self, state: str) -> None:
        with self.lock:
            self.engine.link_state(self.device_id, state, time.monotonic())

    def _active(self) -> None:
        with self.lock:
            self.engine.activity(self.device_id, time.monotonic())

    def device_lost(self) -> bool:
        with self.lock:
            return any(a.message == TEXT_DEVICE_LOST for a in self.engine.evaluate(time.monotonic()))


@pytest.fixture
def play(request):
    """Run a rig's simulator in the background until the test ends."""
    stops, threads = [], []

    def start(rig: MonitorRig, faults: Faults | None = None) -> threading.Event:
        stop = threading.Event()
        thread = threading.Thread(target=rig.play, args=(load_source("stable"), 0.05, 1.0, faults, stop), daemon=True)
        thread.start()
        stops.append(stop)
        threads.append(thread)
        return stop

    yield start
    for stop in stops:
        stop.set()
    for thread in threads:
        thread.join(3)


@pytest.mark.parametrize("protocol,tcp", [("nonin", False), ("masimo", False), ("ansarb", False), ("hl7", True)],
                         ids=["nonin", "masimo", "ansarb", "hl7-tcp"])
@pytest.mark.serial
def test_cable_pull_alarms_within_3s_and_replug_resumes_without_restart(tmp_path, play, protocol, tcp):
    monitor = AlarmedMonitor(protocol, tmp_path, tcp)
    rig = monitor.rig
    try:
        play(rig, Faults(unplug_after_s=UNPLUG_AFTER_S, replug_after_s=REPLUG_AFTER_S))
        rig.wait_for(4)
        assert not monitor.device_lost()
        wait_until(lambda: not rig.transport.plugged, 3, interval=0.005, what="the simulator pulls the cable")
        pulled_at = time.monotonic()
        wait_until(monitor.device_lost, ALARM_WITHIN_S, interval=0.01, what="monitor niet verbonden")
        alarm_after = time.monotonic() - pulled_at
        print(f"{protocol}: alarm {alarm_after:.3f} s after the pull")
        assert alarm_after < ALARM_WITHIN_S
        count_while_unplugged = len(rig.received)

        wait_until(lambda: rig.transport.plugged, 5, what="the simulator replugs")
        wait_until(lambda: len(rig.received) >= count_while_unplugged + 6, 6, what="values after the replug")
        wait_until(lambda: not monitor.device_lost(), 2, what="technical alarm cleared")
        assert "disconnected" in rig.states and rig.states[-1] == "connected"
    finally:
        rig.close()


@pytest.mark.serial
def test_silent_monitor_on_a_present_adapter_alarms_within_3s(tmp_path, play):
    """The cable between USB adapter and monitor is pulled: the port stays, data stops."""
    monitor = AlarmedMonitor("nonin", tmp_path, tcp=False)
    rig = monitor.rig
    try:
        stop = play(rig)
        rig.wait_for(4)
        stop.set()
        silent_from = time.monotonic()
        wait_until(monitor.device_lost, ALARM_WITHIN_S, interval=0.01, what="monitor niet verbonden on silence")
        assert time.monotonic() - silent_from < ALARM_WITHIN_S
        assert rig.link.state == "connected"  # the port never went away
    finally:
        rig.close()
