"""Alarms and trends for live monitor values. Pure logic: no I/O, no threads, no web.

Alarm conditions follow IEC 60601-1-8: physiological alarms (a value outside its limits)
and technical alarms (the monitor is lost, a probe is off, a value is artefact), each with a
priority high / medium / low, shown with a text marker (``!!!`` / ``!!`` / ``!``) and a
Dutch word, never by colour alone. Alarms are non-latching: a condition that ends clears
its alarm (acknowledging or silencing is the UI's business).

Every method takes ``now`` (seconds, e.g. ``time.monotonic()``) so that tests and replays
control time. Not thread-safe: call from one thread or under the caller's lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from devices import observation as mdc
from devices.observation import FLAG_ARTEFACT, FLAG_PROBE_OFF, FLAG_SENSOR_FAULT

HIGH, MEDIUM, LOW = "high", "medium", "low"
PRIORITIES = (HIGH, MEDIUM, LOW)
PRIORITY_MARKERS = {HIGH: "!!!", MEDIUM: "!!", LOW: "!"}
PRIORITY_WORDS_NL = {HIGH: "hoog", MEDIUM: "middel", LOW: "laag"}

PHYSIOLOGICAL, TECHNICAL = "physiological", "technical"
TEXT_DEVICE_LOST = "monitor niet verbonden"
DEFAULT_SILENCE_TIMEOUT_S = 2.5

# Dutch short names as crews say them (HF = hartfrequentie, AF = ademfrequentie).
LABELS_NL = {
    mdc.MDC_HEART_RATE: "HF", mdc.MDC_PULSE_RATE: "Pols", mdc.MDC_SPO2: "SpO2", mdc.MDC_NIBP_SYS: "NIBP sys",
    mdc.MDC_NIBP_DIA: "NIBP dia", mdc.MDC_NIBP_MEAN: "NIBP gem", mdc.MDC_RESP_RATE: "AF", mdc.MDC_ETCO2: "etCO2",
    mdc.MDC_TEMP: "Temp", mdc.MDC_PERFUSION_INDEX: "PI", mdc.MDC_NIBP_PULSE_RATE: "NIBP pols",
}
_UNITS_SHOWN = {"mm[Hg]": "mmHg", "Cel": "°C"}
_KPA_TO_MMHG = 7.50062


@dataclass(frozen=True)
class ParameterLimits:
    """Outside low/high: an alarm of ``priority``; outside critical_low/high: high priority."""

    low: float | None = None
    high: float | None = None
    critical_low: float | None = None
    critical_high: float | None = None
    priority: str = MEDIUM

    def check(self) -> str | None:
        """A reason why these limits make no sense, or None."""
        if self.priority not in PRIORITIES:
            return f"priority must be one of {', '.join(PRIORITIES)}"
        ordered = [v for v in (self.critical_low, self.low, self.high, self.critical_high) if v is not None]
        if ordered != sorted(ordered) or len(set(ordered)) != len(ordered):
            return "limits must increase: critical_low < low < high < critical_high"
        return None


# Adult defaults (transport monitoring). Units are the canonical UCUM units of mdc.MDC_PARAMETERS.
DEFAULT_ADULT_LIMITS: dict[int, ParameterLimits] = {
    mdc.MDC_HEART_RATE: ParameterLimits(low=50, high=120, critical_low=40, critical_high=150),
    mdc.MDC_PULSE_RATE: ParameterLimits(low=50, high=120, critical_low=40, critical_high=150),
    mdc.MDC_SPO2: ParameterLimits(low=90, critical_low=85),
    mdc.MDC_NIBP_SYS: ParameterLimits(low=90, high=180, critical_low=70, critical_high=220),
    mdc.MDC_NIBP_DIA: ParameterLimits(low=40, high=110, critical_high=130),
    mdc.MDC_NIBP_MEAN: ParameterLimits(low=60, high=130, critical_low=50),
    mdc.MDC_RESP_RATE: ParameterLimits(low=8, high=30, critical_low=6, critical_high=40),
    mdc.MDC_ETCO2: ParameterLimits(low=25, high=50, critical_low=15),
    mdc.MDC_TEMP: ParameterLimits(low=35.0, high=39.0, critical_low=32.0, critical_high=41.0, priority=LOW),
}


def limits_with_overrides(overrides: Mapping[str | int, Mapping[str, Any]] | None,
                          base: Mapping[int, ParameterLimits] = DEFAULT_ADULT_LIMITS) -> dict[int, ParameterLimits]:
    """Configured limits on top of the defaults. Keys: MDC code (as int or text) or the short
    label ("HR", "SpO2", "NIBP sys" ...); values: low/high/critical_low/critical_high/priority.
    Raises ValueError naming the parameter for anything unknown or contradictory."""
    by_label = {label.lower(): code for code, (label, _unit) in mdc.MDC_PARAMETERS.items()}
    limits = dict(base)
    for key, values in (overrides or {}).items():
        text = str(key).strip()
        code = int(text) if text.isdigit() else by_label.get(text.lower())
        if code not in mdc.MDC_PARAMETERS:
            raise ValueError(f"alarm limits: unknown parameter '{key}'")
        unknown = set(values) - {"low", "high", "critical_low", "critical_high", "priority"}
        if unknown:
            raise ValueError(f"alarm limits for {key}: unknown setting(s) {sorted(unknown)}")
        try:
            updated = replace(limits.get(code, ParameterLimits()), **{
                name: (value if name == "priority" or value is None else float(value)) for name, value in values.items()
            })
        except (TypeError, ValueError) as exc:
            raise ValueError(f"alarm limits for {key}: values must be numbers") from exc
        if problem := updated.check():
            raise ValueError(f"alarm limits for {key}: {problem}")
        limits[code] = updated
    return limits


@dataclass(frozen=True)
class Alarm:
    key: str  # stable while the condition lasts (the UI keys acknowledgements on it)
    kind: str  # physiological | technical
    priority: str
    message: str  # Dutch, without marker: "HF te hoog: 165 /min"
    device_id: str
    since: float
    code: int | None = None
    value: float | None = None

    @property
    def marker(self) -> str:
        return PRIORITY_MARKERS[self.priority]

    @property
    def text(self) -> str:
        """What the crew reads: the marker first, so the priority never depends on colour."""
        return f"{self.marker} {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "priority": self.priority, "marker": self.marker,
                "priority_nl": PRIORITY_WORDS_NL[self.priority], "text": self.text, "message": self.message,
                "device_id": self.device_id, "code": self.code, "value": self.value, "since": self.since}


def _shown(value: float, unit: str) -> str:
    number = str(int(value)) if float(value).is_integer() else f"{value:.1f}"
    return f"{number} {_UNITS_SHOWN.get(unit, unit)}"


def _comparable(code: int, value: float, unit: str) -> float | None:
    """The value in the unit the limits are in; None if it cannot be compared."""
    canonical = mdc.MDC_PARAMETERS[code][1]
    if unit == canonical:
        return value
    if unit == "kPa" and canonical == "mm[Hg]":
        return value * _KPA_TO_MMHG
    return None


def physiological_alarm(observation: Any, limits: ParameterLimits, now: float) -> Alarm | None:
    """The alarm one valid observation raises against its limits (None: within limits)."""
    value = _comparable(observation.code, observation.value, observation.unit)
    if value is None:
        return None
    label = LABELS_NL.get(observation.code, observation.label)
    direction = priority = None
    if limits.critical_low is not None and value < limits.critical_low:
        direction, priority = "laag", HIGH
    elif limits.critical_high is not None and value > limits.critical_high:
        direction, priority = "hoog", HIGH
    elif limits.low is not None and value < limits.low:
        direction, priority = "laag", limits.priority
    elif limits.high is not None and value > limits.high:
        direction, priority = "hoog", limits.priority
    if direction is None:
        return None
    return Alarm(key=f"phys:{observation.device_id}:{observation.code}:{direction}", kind=PHYSIOLOGICAL,
                 priority=priority, message=f"{label} te {direction}: {_shown(observation.value, observation.unit)}",
                 device_id=observation.device_id, since=now, code=observation.code, value=observation.value)


def technical_alarms_for(observation: Any, now: float) -> list[Alarm]:
    """Probe off, faulty sensor, artefact: the value cannot be trusted or is missing."""
    label = LABELS_NL.get(observation.code, observation.label)
    device = observation.device_id
    alarms = []
    if FLAG_PROBE_OFF in observation.flags:
        alarms.append(Alarm(f"tech:{device}:probe-off", TECHNICAL, LOW, "SpO2-sensor los", device, now))
    if FLAG_SENSOR_FAULT in observation.flags:
        alarms.append(Alarm(f"tech:{device}:sensor-fault", TECHNICAL, LOW, "SpO2-sensor defect", device, now))
    if FLAG_ARTEFACT in observation.flags and observation.value is not None:
        alarms.append(Alarm(f"tech:{device}:{observation.code}:artefact", TECHNICAL, LOW,
                            f"{label} onbetrouwbaar (artefact)", device, now, observation.code))
    return alarms


@dataclass
class _DeviceWatch:
    silence_timeout_s: float
    last_activity: float
    link_state: str = "connected"
    latest: dict[int, Any] = field(default_factory=dict)  # code -> last observation

    def lost(self, now: float) -> bool:
        return self.link_state == "disconnected" or now - self.last_activity > self.silence_timeout_s


class AlarmEngine:
    """Feed it observations, link states and frame activity; ask it for the active alarms."""

    def __init__(self, limits: Mapping[int, ParameterLimits] | None = None, device_lost_priority: str = MEDIUM):
        if device_lost_priority not in PRIORITIES:
            raise ValueError(f"device_lost_priority must be one of {', '.join(PRIORITIES)}")
        self.limits = dict(DEFAULT_ADULT_LIMITS if limits is None else limits)
        self.device_lost_priority = device_lost_priority
        self._devices: dict[str, _DeviceWatch] = {}
        self._since: dict[str, float] = {}  # alarm key -> when the condition began

    def watch_device(self, device_id: str, now: float,
                     silence_timeout_s: float = DEFAULT_SILENCE_TIMEOUT_S) -> None:
        """Expect data from this device from now on; silence longer than the timeout (or a
        "disconnected" link) raises "monitor niet verbonden"."""
        self._devices[device_id] = _DeviceWatch(silence_timeout_s, last_activity=now)

    def _device(self, device_id: str, now: float) -> _DeviceWatch:
        if device_id not in self._devices:
            self.watch_device(device_id, now)
        return self._devices[device_id]

    def link_state(self, device_id: str, state: str, now: float) -> None:
        watch = self._device(device_id, now)
        watch.link_state = state
        if state == "connected":
            watch.last_activity = max(watch.last_activity, now)

    def activity(self, device_id: str, now: float) -> None:
        """A complete frame arrived (with or without values): the device is alive."""
        watch = self._device(device_id, now)
        watch.last_activity = now
        if watch.link_state == "disconnected":
            watch.link_state = "connected"

    def observe(self, observation: Any, now: float) -> None:
        self.activity(observation.device_id, now)
        self._devices[observation.device_id].latest[observation.code] = observation

    def evaluate(self, now: float) -> list[Alarm]:
        """Active alarms, most urgent first (high before medium before low, then oldest)."""
        alarms: list[Alarm] = []
        for device_id, watch in self._devices.items():
            if watch.lost(now):
                # Stale values must not keep (or raise) physiological alarms.
                alarms.append(Alarm(f"tech:{device_id}:lost", TECHNICAL, self.device_lost_priority,
                                    TEXT_DEVICE_LOST, device_id, now))
                continue
            seen_keys: set[str] = set()
            for observation in watch.latest.values():
                for alarm in technical_alarms_for(observation, now):
                    if alarm.key not in seen_keys:
                        seen_keys.add(alarm.key)
                        alarms.append(alarm)
                limits = self.limits.get(observation.code)
                if limits is not None and observation.is_valid:
                    alarm = physiological_alarm(observation, limits, now)
                    if alarm is not None:
                        alarms.append(alarm)
        alarms = [replace(a, since=self._since.get(a.key, a.since)) for a in alarms]
        self._since = {a.key: a.since for a in alarms}
        order = {priority: index for index, priority in enumerate(PRIORITIES)}
        return sorted(alarms, key=lambda a: (order[a.priority], a.since, a.key))


@dataclass(frozen=True)
class TrendPoint:
    at: float  # the caller's clock (seconds)
    time: str  # the observation's clinical time (ISO-8601)
    value: float | None
    status: str


class TrendBuffer:
    """At most one point per ``min_interval_s`` per (device, parameter), newest ``max_points``
    kept. The first value after the interval is kept (not an average: a trend shows what the
    monitor showed); "not measured" is kept too, as a gap."""

    def __init__(self, min_interval_s: float = 5.0, max_points: int = 6 * 3600 // 5):
        if min_interval_s <= 0 or max_points <= 0:
            raise ValueError("min_interval_s and max_points must be positive")
        self.min_interval_s = min_interval_s
        self.max_points = max_points
        self._series: dict[tuple[str, int], deque[TrendPoint]] = {}

    def add(self, observation: Any, now: float) -> bool:
        """Store the observation if its parameter's last point is old enough; True if stored."""
        key = (observation.device_id, observation.code)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = deque(maxlen=self.max_points)
        elif series and now - series[-1].at < self.min_interval_s:
            return False
        series.append(TrendPoint(now, observation.time, observation.value, observation.status))
        return True

    def points(self, code: int, device_id: str | None = None) -> list[TrendPoint]:
        if device_id is not None:
            return list(self._series.get((device_id, code), ()))
        merged = [p for (_dev, c), series in self._series.items() if c == code for p in series]
        return sorted(merged, key=lambda p: p.at)

    def series_keys(self) -> list[tuple[str, int]]:
        return sorted(self._series)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """For the tablet page: ``{"<device>/<code>": [{"time", "value", "status"}, ...]}``."""
        return {f"{device}/{code}": [{"time": p.time, "value": p.value, "status": p.status} for p in series]
                for (device, code), series in sorted(self._series.items())}
