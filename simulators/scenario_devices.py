"""The scenario's devices: a monitor and a GPS on the stack's ptys, driven by the scenario clock.

Both reuse the simulators of ``ritlink sim monitor`` / ``ritlink sim gps`` (the encoders,
the route receiver, the pty) but take their faults from the timeline instead of from
"after S seconds" flags, and read the time from one ``ScenarioClock``: at speed S the
patient's course and the drive run S times faster than real time, and the GPS receiver's
own UTC runs with them (so the tablet's ETA is in scenario seconds).
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from simulators.gps import RouteReceiver, replay_lines
from simulators.gps_route import Drive, Route, load_route, shipped_route
from simulators.monitor import ENCODERS, EncoderState, PtyTransport, garbage_between_frames, with_probe_off
from simulators.pty_device import PtyDevice
from simulators.scenario import Scenario, ScenarioError, load_source

log = logging.getLogger("ritlink.scenario")

MONITOR_FRAME_S = 0.5  # real seconds between monitor frames, whatever the speed
MAX_GPS_EPOCHS_PER_S = 10  # real epochs a second; faster drives skip epochs (at most 4 in a row)


class ScenarioClock:
    """Scenario seconds since the start, ``speed`` of them per real second."""

    def __init__(self, speed: float):
        self.speed = speed
        self._started: float | None = None
        self.wall_zero = datetime.now(UTC)

    def start(self) -> ScenarioClock:
        self._started = time.monotonic()
        self.wall_zero = datetime.now(UTC)
        return self

    def now(self) -> float:
        return 0.0 if self._started is None else (time.monotonic() - self._started) * self.speed

    def real_s(self, scenario_s: float) -> float:
        return scenario_s / self.speed

    def wait_until(self, t: float, stop: threading.Event) -> bool:
        """Sleep until scenario time ``t``; False when ``stop`` was set first."""
        while not stop.is_set():
            left = (t - self.now()) / self.speed
            if left <= 0:
                return True
            stop.wait(min(left, 0.2))
        return False


class Faults:
    """Which timed faults are active now: ``active("probe_off")``."""

    def __init__(self, clock: ScenarioClock, faults: list):
        self.clock, self.faults = clock, faults

    def active(self, kind: str) -> bool:
        now = self.clock.now()
        return any(f.fault == kind and f.at <= now < f.at + f.for_s for f in self.faults)

    def real_s_to_next_change(self) -> float:
        """Real seconds until a fault starts or ends (inf: none left), so players act on time."""
        now = self.clock.now()
        edges = [edge for f in self.faults for edge in (f.at, f.at + f.for_s) if edge > now]
        return self.clock.real_s(min(edges) - now) if edges else float("inf")


def course_from_keyframes(keyframes: list) -> Scenario:
    """Keyframes -> the monitor course format of simulators/scenario.py (interpolated)."""
    columns = ["hr", "pr", "spo2", "rr", "etco2", "temp", "pi"]
    rows = ["time_s," + ",".join(columns) + ",nibp_sys,nibp_dia,nibp_mean"]
    for key in keyframes:
        values = [getattr(key, c if c != "pr" else "hr") for c in columns]
        cells = ["" if v is None else f"{v:g}" for v in values]
        nibp = ["", "", ""]
        if key.nibp == "-":
            nibp = ["-", "-", "-"]
        elif key.nibp:
            systolic, diastolic = (float(v) for v in key.nibp.split("/"))
            nibp = [f"{systolic:g}", f"{diastolic:g}", f"{round(diastolic + (systolic - diastolic) / 3):g}"]
        rows.append(",".join([f"{key.t:g}", *cells, *nibp]))
    return Scenario.parse("\n".join(rows), "keyframes")


def load_course(patient, base: Path):
    if patient.keyframes:
        return course_from_keyframes(patient.keyframes)
    try:
        return load_source(patient.course)
    except ScenarioError:
        return load_source(str(base / patient.course))


class MonitorPlayer:
    """The patient's monitor on a pty: one frame every MONITOR_FRAME_S real seconds."""

    def __init__(self, device: PtyDevice, protocol: str, course, faults: Faults, clock: ScenarioClock,
                 note: Callable[[str, str], None]):
        self.device, self.protocol, self.course = device, protocol, course
        self.faults, self.clock, self.note = faults, clock, note
        self.transport = PtyTransport(device)
        self.frames = 0
        self._rng = random.Random(7)

    def run(self, stop: threading.Event) -> None:
        encode, state = ENCODERS[self.protocol], EncoderState()
        pulled = False
        while not stop.is_set():
            cable_out = self.faults.active("cable_pull")
            if cable_out != pulled:
                pulled = cable_out
                self.device.unplug() if pulled else self.device.plug()
                self.note("monitor", "kabel los" if pulled else "kabel terug")
            if not pulled and not self.faults.active("reboot"):
                sample = self.course.sample(min(self.clock.now(), self.course.duration_s))
                if self.faults.active("probe_off"):
                    sample = with_probe_off(sample)
                if self.faults.active("garbage"):
                    self.transport.send_garbage(garbage_between_frames(self._rng, self.protocol))
                if self.transport.send(encode(sample, state)):
                    self.frames += 1
            stop.wait(min(MONITOR_FRAME_S, self.faults.real_s_to_next_change() + 0.001))


def load_vehicle_route(vehicle, base: Path) -> Route:
    path = shipped_route(vehicle.route) or (base / vehicle.route)
    return load_route(path)


def arrival_at_seh(route: Route, vehicle) -> float | None:
    """Scenario second at which the drive stops at the SEH (ground truth for the ETA)."""
    truth = Drive(route, 1.0, vehicle.seed).run()
    return None if truth.arrive_seh_s is None else truth.arrive_seh_s - vehicle.from_s


class GpsPlayer:
    """The GPS receiver on a pty: the route's drive (or a capture) on the scenario clock."""

    def __init__(self, device: PtyDevice, vehicle, base: Path, faults: Faults, clock: ScenarioClock,
                 note: Callable[[str, str], None]):
        self.device, self.vehicle, self.base = device, vehicle, base
        self.faults, self.clock, self.note = faults, clock, note
        self.epochs = 0
        self._rng = random.Random(vehicle.seed + 5)

    def run(self, stop: threading.Event) -> None:
        if self.vehicle.replay:
            self._replay(stop)
        else:
            self._drive(stop)

    def _write(self, data: bytes) -> None:
        pulled = self.faults.active("unplug")
        if pulled == self.device.plugged:
            self.device.unplug() if pulled else self.device.plug()
            self.note("gps", "GPS-kabel los" if pulled else "GPS-kabel terug")
        if pulled:
            return
        if self.faults.active("garbage"):
            data = bytes(self._rng.randrange(256) for _ in range(self._rng.randint(8, 40))) + data
        self.device.write(data)

    def _drive(self, stop: threading.Event) -> None:
        route = load_vehicle_route(self.vehicle, self.base)
        receiver = RouteReceiver(route, 1.0, self.vehicle.seed,
                                 start=self.clock.wall_zero - timedelta(seconds=self.vehicle.from_s))
        stride = min(5, max(1, math.ceil(self.clock.speed / MAX_GPS_EPOCHS_PER_S)))
        in_tunnel = False
        for tick, when, sentences in receiver.epochs():
            t = tick.t_s - self.vehicle.from_s
            if t < 0 or round(tick.t_s) % stride:
                continue
            if not self.clock.wait_until(t, stop):
                return
            tunnel = self.faults.active("no_fix")
            if tunnel != in_tunnel:
                in_tunnel = tunnel
                self.note("gps", "geen fix (tunnel)" if tunnel else "fix terug")
            if tunnel:
                sentences = receiver.no_fix_sentences(when, tick)
            self._write(b"".join(sentences))
            self.epochs += 1
        self._hold_still(stop)

    def _hold_still(self, stop: threading.Event) -> None:
        """After the drive the ambulance stays parked at the SEH; the receiver keeps talking."""
        while not stop.wait(1.0):
            self._write(b"")

    def _replay(self, stop: threading.Event) -> None:
        t = 0.0
        for pause, line in replay_lines(self.base / self.vehicle.replay):
            t += pause
            if not self.clock.wait_until(t, stop):
                return
            self._write(line)
            self.epochs += 1
