"""One observation model for every monitor protocol (IEEE 11073 MDC codes, UCUM units).

A device says more than a number: a value can be "not measured" (probe off, no NIBP yet),
or be an artefact (CPR compressions on the ECG); a value can carry quality hints (low
perfusion) and the device's own alarm state. Every driver maps its protocol onto the same
fields, so alarms, trends and the form never look at protocol details.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

# IEEE 11073-10101 nomenclature codes used by ritlink (design.md "Clinical records").
MDC_HEART_RATE = 147842
MDC_SPO2 = 150456
MDC_PULSE_RATE = 149530
MDC_NIBP_SYS = 150021
MDC_NIBP_DIA = 150022
MDC_NIBP_MEAN = 150023
MDC_RESP_RATE = 151562
MDC_ETCO2 = 151728
MDC_TEMP = 150344
# Reported by oximeters and NIBP modules next to the core vitals.
MDC_PERFUSION_INDEX = 150448  # MDC_PULS_OXIM_PERF_REL
MDC_NIBP_PULSE_RATE = 149546  # MDC_PULS_RATE_NON_INV: pulse counted by the cuff

# code -> (short label, UCUM unit)
MDC_PARAMETERS: dict[int, tuple[str, str]] = {
    MDC_HEART_RATE: ("HR", "/min"),
    MDC_SPO2: ("SpO2", "%"),
    MDC_PULSE_RATE: ("PR", "/min"),
    MDC_NIBP_SYS: ("NIBP sys", "mm[Hg]"),
    MDC_NIBP_DIA: ("NIBP dia", "mm[Hg]"),
    MDC_NIBP_MEAN: ("NIBP mean", "mm[Hg]"),
    MDC_RESP_RATE: ("RR", "/min"),
    MDC_ETCO2: ("etCO2", "mm[Hg]"),
    MDC_TEMP: ("Temp", "Cel"),
    MDC_PERFUSION_INDEX: ("PI", "%"),
    MDC_NIBP_PULSE_RATE: ("NIBP PR", "/min"),
}

NIBP_CODES = frozenset({MDC_NIBP_SYS, MDC_NIBP_DIA, MDC_NIBP_MEAN, MDC_NIBP_PULSE_RATE})

# Quality flags. "not-measured" and "artefact" decide the status; the others are hints
# that travel with a value (or with its absence) so the crew can see *why*.
FLAG_NOT_MEASURED = "not-measured"
FLAG_ARTEFACT = "artefact"
FLAG_PROBE_OFF = "probe-off"
FLAG_LOW_PERFUSION = "low-perfusion"
FLAG_PULSE_SEARCH = "pulse-search"
FLAG_INTERFERENCE = "interference"
FLAG_SENSOR_FAULT = "sensor-fault"
QUALITY_FLAGS = frozenset({
    FLAG_NOT_MEASURED, FLAG_ARTEFACT, FLAG_PROBE_OFF, FLAG_LOW_PERFUSION, FLAG_PULSE_SEARCH,
    FLAG_INTERFERENCE, FLAG_SENSOR_FAULT,
})

# What the device itself says about its alarm for this parameter (None: it does not say).
DEVICE_ALARM_STATES = frozenset({"none", "low", "high", "active", "inhibited"})

STATUS_VALID = "valid"
STATUS_NOT_MEASURED = "not-measured"
STATUS_ARTEFACT = "artefact"


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _has_utc_offset(iso: str) -> bool:
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def finite_or_none(value: float | None) -> float | None:
    """NaN or infinity from a device is not a measurement."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


@dataclass(frozen=True)
class Observation:
    """A value from a device. ``value`` is None when the device says "not measured"."""

    device_id: str
    code: int
    value: float | None
    label: str = ""
    unit: str = ""
    device_time: str | None = None
    received_at: str = field(default_factory=utc_now_iso)
    flags: tuple[str, ...] = ()
    device_alarm: str | None = None

    @classmethod
    def of(cls, device_id: str, code: int, value: float | None, *, unit: str | None = None,
           flags: tuple[str, ...] = (), **extra) -> Observation:
        """Label and UCUM unit from the code; ``unit`` overrides when the device sent another
        (e.g. etCO2 in kPa). A missing value always carries the "not-measured" flag."""
        label, default_unit = MDC_PARAMETERS[code]
        value = finite_or_none(value)
        if value is None and FLAG_NOT_MEASURED not in flags:
            flags = (FLAG_NOT_MEASURED, *flags)
        return cls(device_id=device_id, code=code, value=value, label=label, unit=unit or default_unit,
                   flags=tuple(flags), **extra)

    @property
    def status(self) -> str:
        if self.value is None:
            return STATUS_NOT_MEASURED
        if FLAG_ARTEFACT in self.flags:
            return STATUS_ARTEFACT
        return STATUS_VALID

    @property
    def is_valid(self) -> bool:
        """A number the crew (and the alarm limits) may trust."""
        return self.status == STATUS_VALID

    @property
    def time(self) -> str:
        """The clinical time: the device's own timestamp when it carries a UTC offset, else
        the arrival time (a device clock without a zone cannot be placed on the timeline)."""
        if self.device_time and _has_utc_offset(self.device_time):
            return self.device_time
        return self.received_at

    def to_dict(self) -> dict:
        data = asdict(self)
        data["flags"] = list(self.flags)
        data["status"] = self.status
        data["time"] = self.time
        return data
