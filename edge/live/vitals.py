"""Live monitor values: the latest per parameter, a trend (<= 1 point per 5 s per parameter),
the alarms they raise, and whether each monitor is connected.

Kept in memory: live values are shown, not recorded. A value enters the form only when the
crew accepts it (design.md "Clinical records"). One lock guards everything, since the
alarm engine and the trend buffer are plain single-threaded logic (edge/live/alarms.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge.live.alarms import AlarmEngine, TrendBuffer

NIBP_SYS, NIBP_DIA, NIBP_MEAN = 150021, 150022, 150023
NIBP_CODES = (NIBP_SYS, NIBP_DIA, NIBP_MEAN)
NIBP_KEEP = 5  # the newest measurements on offer; older ones have been superseded


@dataclass(frozen=True)
class LiveValue:
    device_id: str
    code: int
    label: str
    value: float | None
    unit: str
    status: str
    flags: tuple[str, ...]
    received_at: str  # UTC ISO-8601, the clinical time when accepted
    received_monotonic: float

    @property
    def acceptable(self) -> bool:
        """A number the crew may take into the form: measured, not artefact, not demo data."""
        return self.value is not None and self.status == "valid" and not {"demo-data", "test-data"} & set(self.flags)


class LiveVitals:
    def __init__(self, alarm_limits: dict | None = None,
                 on_trend_point: Callable[[Any], None] = lambda observation: None) -> None:
        """``on_trend_point`` gets each observation the trend keeps (the runtime stores it)."""
        self._on_trend_point = on_trend_point
        self._lock = threading.Lock()
        self._values: dict[int, LiveValue] = {}
        self._device_state: dict[str, str] = {}
        self._alarms = AlarmEngine(alarm_limits)
        self._trend = TrendBuffer()
        self._nibp: list[dict[str, Any]] = []  # completed cuff measurements on offer, newest last
        self._nibp_seq = 0
        self.version = 0  # bumped on every change: SSE streams send only when it moved

    def watch_device(self, device_id: str, silence_timeout_s: float) -> None:
        with self._lock:
            self._device_state[device_id] = "disconnected"
            self._alarms.watch_device(device_id, time.monotonic(), silence_timeout_s)

    def update(self, observation: Any) -> None:
        """Take a devices.observation.Observation (duck-typed: web never imports devices)."""
        now = time.monotonic()
        value = LiveValue(
            device_id=observation.device_id,
            code=observation.code,
            label=observation.label,
            value=observation.value,
            unit=observation.unit,
            status=getattr(observation, "status", "valid" if observation.value is not None else "not-measured"),
            flags=tuple(observation.flags),
            received_at=observation.received_at,
            received_monotonic=now,
        )
        with self._lock:
            self._values[observation.code] = value
            self._alarms.observe(observation, now)
            kept = self._trend.add(observation, now)
            if observation.code in NIBP_CODES and value.acceptable:
                self._offer_nibp(observation, value)
            self.version += 1
        if kept:
            self._on_trend_point(observation)  # outside the lock: it writes to SQLite

    def _offer_nibp(self, observation: Any, value: LiveValue) -> None:
        """A completed NIBP measurement is proposed to the crew once (design.md). Monitors
        repeat the last result every frame: a result is new when its device time (or, without
        one, its numbers) differ from the latest proposal's."""
        stamp = getattr(observation, "device_time", None)
        latest = self._nibp[-1] if self._nibp else None
        if latest is not None and latest["device_id"] == value.device_id:
            same = (stamp is not None and latest["device_time"] == stamp) or (
                stamp is None and latest["values"].get(str(value.code)) in (None, value.value))
            if same:
                latest["values"].setdefault(str(value.code), value.value)
                return
        self._nibp_seq += 1
        self._nibp.append({"id": f"nibp-{self._nibp_seq}", "device_id": value.device_id, "device_time": stamp,
                           "measured_at": value.received_at, "values": {str(value.code): value.value}})
        del self._nibp[:-NIBP_KEEP]

    def nibp_proposals(self) -> list[dict[str, Any]]:
        """Measurements with at least systolic and diastolic, newest first."""
        with self._lock:
            complete = [p for p in self._nibp if {str(NIBP_SYS), str(NIBP_DIA)} <= set(p["values"])]
            return [{**p, "values": dict(p["values"])} for p in reversed(complete)]

    def activity(self, device_id: str) -> None:
        with self._lock:
            self._alarms.activity(device_id, time.monotonic())

    def set_device_state(self, device_id: str, state: str) -> None:
        with self._lock:
            self._device_state[device_id] = state
            self._alarms.link_state(device_id, state, time.monotonic())
            self.version += 1

    def device_states(self) -> dict[str, str]:
        with self._lock:
            return dict(self._device_state)

    def fresh(self, max_age_s: float) -> list[LiveValue]:
        """Values received within ``max_age_s`` that the crew may accept into the form."""
        now = time.monotonic()
        with self._lock:
            return [v for v in self._values.values() if v.acceptable and now - v.received_monotonic <= max_age_s]

    def alarms(self) -> list[dict[str, Any]]:
        with self._lock:
            return [alarm.to_dict() for alarm in self._alarms.evaluate(time.monotonic())]

    def trend(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return self._trend.snapshot()

    def snapshot(self) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            return [
                {
                    "device_id": v.device_id,
                    "code": v.code,
                    "label": v.label,
                    "value": v.value,
                    "unit": v.unit,
                    "status": v.status,
                    "flags": list(v.flags),
                    "received_at": v.received_at,
                    "age_s": round(now - v.received_monotonic, 1),
                }
                for v in sorted(self._values.values(), key=lambda v: v.code)
            ]
