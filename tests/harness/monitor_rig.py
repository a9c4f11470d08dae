"""A simulated monitor wired to ritlink's reader: a real pty (or TCP for HL7) in between."""

from __future__ import annotations

import threading
from pathlib import Path

from devices.monitors import PROTOCOLS, open_monitor
from simulators.monitor import Faults, MllpClientTransport, PtyTransport, SentValue, run_monitor
from simulators.pty_device import PtyDevice
from tests.harness.waiting import wait_until


def observation_key(observation) -> tuple:
    return (observation.code, observation.value, observation.unit, frozenset(observation.flags),
            observation.device_alarm)


def sent_key(sent: SentValue) -> tuple:
    return (sent.code, sent.value, sent.unit, sent.flags, sent.device_alarm)


class MonitorRig:
    """``protocol`` over a pty at ``tmp_path``/<name>, or for ``tcp=True`` HL7 over MLLP/TCP.

    The reader is ritlink's own (devices.monitors.open_monitor); what it decodes lands in
    ``received``, link states in ``states``, frame activity in ``activity``.
    """

    def __init__(self, protocol: str, tmp_path: Path, tcp: bool = False, name: str | None = None,
                 on_observation=None, on_state=None, on_activity=None):
        self.protocol = protocol
        self.received: list = []
        self.states: list[str] = []
        self.activity = 0
        self._lock = threading.Lock()
        self._on_observation = on_observation
        self._on_state = on_state
        self._on_activity = on_activity
        device_id = name or f"{protocol}-monitor"
        if tcp:
            self.device = None
            self.link = open_monitor(protocol, "listen://127.0.0.1:0", device_id, self._observe, self._state,
                                     on_activity=self._active)
            self.transport = MllpClientTransport("127.0.0.1", self.link.port)
        else:
            self.device = PtyDevice(tmp_path / device_id).plug()
            self.link = open_monitor(protocol, str(self.device.link), device_id, self._observe, self._state,
                                     on_activity=self._active)
            wait_until(lambda: self.link.state == "connected", 5, what=f"{protocol} reader connected")
            self.transport = PtyTransport(self.device)
        self.silence_timeout_s = PROTOCOLS[protocol].silence_timeout_s

    def _observe(self, observation) -> None:
        with self._lock:
            self.received.append(observation)
        if self._on_observation:
            self._on_observation(observation)

    def _state(self, state: str) -> None:
        self.states.append(state)
        if self._on_state:
            self._on_state(state)

    def _active(self) -> None:
        self.activity += 1
        if self._on_activity:
            self._on_activity()

    def received_keys(self) -> list[tuple]:
        with self._lock:
            return [observation_key(o) for o in self.received]

    def play(self, source, interval_s: float, step_s: float, faults: Faults | None = None,
             stop: threading.Event | None = None) -> list[SentValue]:
        """Run the scenario to its end at one frame per ``interval_s`` (``step_s`` scenario
        seconds each); return what the device sent, in order."""
        sent: list[SentValue] = []
        run_monitor(self.protocol, self.transport, source, stop or threading.Event(), interval_s,
                    speed=step_s / interval_s, faults=faults, on_sent=sent.extend, until_end=True)
        return sent

    def wait_for(self, count: int, timeout: float = 5.0) -> None:
        wait_until(lambda: len(self.received) >= count, timeout, what=f"{count} {self.protocol} observations")

    def close(self) -> None:
        self.link.stop()
        self.transport.close()
