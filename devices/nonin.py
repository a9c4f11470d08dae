"""Nonin-style ASCII oximeter lines: ``SPO2=097 HR=072`` (9600 8N1, one line a second).

``---`` in a field means "not measured" (probe off, searching). The oximeter's ``HR`` is
a pulse rate from the pleth wave, so it maps to MDC pulse rate, not ECG heart rate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from devices.line_framing import LineFramer
from devices.observation import MDC_PULSE_RATE, MDC_SPO2, Observation

_FIELDS = {b"SPO2": (MDC_SPO2, 0, 100), b"HR": (MDC_PULSE_RATE, 0, 400)}


class NoninLineError(ValueError):
    pass


def parse_nonin_line(line: bytes, device_id: str) -> list[Observation]:
    """Parse one line; raises NoninLineError for anything that is not a clean Nonin line."""
    observations = []
    tokens = line.strip().split()
    if not tokens:
        raise NoninLineError("empty line")
    seen = set()
    for token in tokens:
        key, sep, raw = token.partition(b"=")
        if not sep or key not in _FIELDS or key in seen:
            raise NoninLineError("unknown or repeated field")
        seen.add(key)
        code, low, high = _FIELDS[key]
        if raw.strip(b"-") == b"" and raw:
            observations.append(Observation.of(device_id, code, None, flags=("not-measured",)))
            continue
        if not raw.isdigit() or len(raw) > 3:
            raise NoninLineError("value is not a 1-3 digit number")
        value = int(raw)
        if not low <= value <= high:
            raise NoninLineError("value outside the device range")
        observations.append(Observation.of(device_id, code, float(value)))
    return observations


@dataclass
class NoninDecoder:
    """Bytes in, observations out; bad lines are counted and skipped, never raised."""

    device_id: str
    framer: LineFramer = field(default_factory=lambda: LineFramer(max_line=64))
    lines_ok: int = 0
    lines_bad: int = 0

    def feed(self, data: bytes) -> list[Observation]:
        observations: list[Observation] = []
        for line in self.framer.feed(data):
            try:
                observations.extend(parse_nonin_line(line, self.device_id))
                self.lines_ok += 1
            except NoninLineError:
                self.lines_bad += 1
        return observations

    def counters(self) -> dict[str, int]:
        return {
            "lines_ok": self.lines_ok,
            "lines_bad": self.lines_bad,
            "garbage_bytes": self.framer.garbage_bytes,
        }


def format_nonin_line(spo2: int | None, pulse: int | None) -> bytes:
    """The device side, for the simulator: ``SPO2=097 HR=072\\r\\n``."""

    def field_(value: int | None) -> str:
        return "---" if value is None else f"{value:03d}"

    return f"SPO2={field_(spo2)} HR={field_(pulse)}\r\n".encode("ascii")
