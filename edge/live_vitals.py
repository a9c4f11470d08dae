"""The latest value per parameter from each monitor, and whether the monitor is connected.

Kept in memory: live values are shown, not recorded. A value enters the form only when the
crew accepts it (design.md "Clinical records").
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LiveValue:
    device_id: str
    code: int
    label: str
    value: float | None
    unit: str
    received_at: str  # UTC ISO-8601, the clinical time when accepted
    received_monotonic: float


class LiveVitals:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[int, LiveValue] = {}
        self._device_state: dict[str, str] = {}

    def update(self, observation: Any) -> None:
        """Take a devices.observation.Observation (duck-typed: web never imports devices)."""
        value = LiveValue(
            device_id=observation.device_id,
            code=observation.code,
            label=observation.label,
            value=observation.value,
            unit=observation.unit,
            received_at=observation.received_at,
            received_monotonic=time.monotonic(),
        )
        with self._lock:
            self._values[observation.code] = value

    def set_device_state(self, device_id: str, state: str) -> None:
        with self._lock:
            self._device_state[device_id] = state

    def device_states(self) -> dict[str, str]:
        with self._lock:
            return dict(self._device_state)

    def fresh(self, max_age_s: float) -> list[LiveValue]:
        """Values received within ``max_age_s`` that carry a number (not "not measured")."""
        now = time.monotonic()
        with self._lock:
            return [
                v for v in self._values.values() if v.value is not None and now - v.received_monotonic <= max_age_s
            ]

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
                    "received_at": v.received_at,
                    "age_s": round(now - v.received_monotonic, 1),
                }
                for v in sorted(self._values.values(), key=lambda v: v.code)
            ]
