"""One observation model for every monitor protocol (IEEE 11073 MDC codes, UCUM units)."""

from __future__ import annotations

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
}


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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

    @classmethod
    def of(cls, device_id: str, code: int, value: float | None, **extra) -> Observation:
        label, unit = MDC_PARAMETERS[code]
        return cls(device_id=device_id, code=code, value=value, label=label, unit=unit, **extra)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data
