"""Nonin-style ASCII oximeter lines: ``SPO2=097 HR=072`` (9600 8N1, one line a second).

``---`` in a field means "not measured" (probe off, searching). The oximeter's ``HR`` is
a pulse rate from the pleth wave, so it maps to MDC pulse rate, not ECG heart rate.
Optional status words after the values use Nonin's status names and apply to both values:
``SNSD`` sensor disconnected, ``ARTF`` artefact, ``OOT`` out of track (searching for a
pulse), ``LPRF`` low perfusion, ``SNSA`` sensor alarm (faulty sensor).
"""

from __future__ import annotations

from devices.line_framing import LineDecoder
from devices.observation import (
    FLAG_ARTEFACT,
    FLAG_LOW_PERFUSION,
    FLAG_PROBE_OFF,
    FLAG_PULSE_SEARCH,
    FLAG_SENSOR_FAULT,
    MDC_PULSE_RATE,
    MDC_SPO2,
    Observation,
)

_FIELDS = {b"SPO2": (MDC_SPO2, 0, 100), b"HR": (MDC_PULSE_RATE, 0, 400)}
NONIN_STATUS_FLAGS = {
    b"SNSD": FLAG_PROBE_OFF,
    b"ARTF": FLAG_ARTEFACT,
    b"OOT": FLAG_PULSE_SEARCH,
    b"LPRF": FLAG_LOW_PERFUSION,
    b"SNSA": FLAG_SENSOR_FAULT,
}
_FLAG_TO_STATUS = {flag: word.decode() for word, flag in NONIN_STATUS_FLAGS.items()}


class NoninLineError(ValueError):
    pass


def parse_nonin_line(line: bytes, device_id: str) -> list[Observation]:
    """Parse one line; raises NoninLineError for anything that is not a clean Nonin line."""
    tokens = line.strip().split()
    if not tokens:
        raise NoninLineError("empty line")
    values: list[tuple[int, float | None]] = []
    flags: list[str] = []
    seen = set()
    for token in tokens:
        if token in NONIN_STATUS_FLAGS and values:
            if NONIN_STATUS_FLAGS[token] not in flags:
                flags.append(NONIN_STATUS_FLAGS[token])
            continue
        key, sep, raw = token.partition(b"=")
        if not sep or key not in _FIELDS or key in seen or flags:
            raise NoninLineError("unknown or repeated field")
        seen.add(key)
        code, low, high = _FIELDS[key]
        if raw.strip(b"-") == b"" and raw:
            values.append((code, None))
            continue
        if not raw.isdigit() or len(raw) > 3:
            raise NoninLineError("value is not a 1-3 digit number")
        value = int(raw)
        if not low <= value <= high:
            raise NoninLineError("value outside the device range")
        values.append((code, float(value)))
    return [Observation.of(device_id, code, value, flags=tuple(flags)) for code, value in values]


class NoninDecoder(LineDecoder):
    """Bytes in, observations out; bad lines are counted and skipped, never raised."""

    def __init__(self, device_id: str):
        super().__init__(device_id, parse_nonin_line, NoninLineError, max_line=64)


def format_nonin_line(spo2: int | None, pulse: int | None, flags: tuple[str, ...] = ()) -> bytes:
    """The device side, for the simulator: ``SPO2=097 HR=072\\r\\n`` (plus status words)."""

    def field_(value: int | None) -> str:
        return "---" if value is None else f"{value:03d}"

    status = "".join(f" {_FLAG_TO_STATUS[flag]}" for flag in flags if flag in _FLAG_TO_STATUS)
    return f"SPO2={field_(spo2)} HR={field_(pulse)}{status}\r\n".encode("ascii")
