"""Masimo-style oximeter lines (Radical-7 / Rad-8 "ASCII 1" serial output, 9600 8N1, 1 Hz).

    02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800

``---`` / ``--.--`` mean "not measured". ``EXC`` is a hexadecimal set of exception bits
(the operator's manual's list, below) that tells *why* a value is missing or doubtful;
``ALARM`` is hexadecimal too. The device clock has no time zone and is often wrong, so its
date/time only goes into ``device_time`` as a local reading, never as the clinical time.
Unknown ``KEY=VALUE`` fields (SpCO, SpMet, PVI ... on other models) are ignored.
"""

from __future__ import annotations

from datetime import datetime

from devices.line_framing import LineDecoder
from devices.observation import (
    FLAG_ARTEFACT,
    FLAG_INTERFERENCE,
    FLAG_LOW_PERFUSION,
    FLAG_PROBE_OFF,
    FLAG_PULSE_SEARCH,
    FLAG_SENSOR_FAULT,
    MDC_PERFUSION_INDEX,
    MDC_PULSE_RATE,
    MDC_SPO2,
    Observation,
)

# EXC bits (Masimo operator's manual, "trend data format"). 0x800 "Masimo SET" only says the
# algorithm runs in full SET mode: normal operation, no flag.
EXC_NO_SENSOR = 0x001
EXC_DEFECTIVE_SENSOR = 0x002
EXC_LOW_PERFUSION = 0x004
EXC_PULSE_SEARCH = 0x008
EXC_INTERFERENCE = 0x010
EXC_SENSOR_OFF = 0x020
EXC_AMBIENT_LIGHT = 0x040
EXC_UNRECOGNIZED_SENSOR = 0x080
EXC_LOW_SIGNAL_IQ = 0x400
EXC_MASIMO_SET = 0x800

_EXC_FLAGS = (
    (EXC_NO_SENSOR, FLAG_PROBE_OFF),
    (EXC_SENSOR_OFF, FLAG_PROBE_OFF),
    (EXC_DEFECTIVE_SENSOR, FLAG_SENSOR_FAULT),
    (EXC_UNRECOGNIZED_SENSOR, FLAG_SENSOR_FAULT),
    (EXC_LOW_PERFUSION, FLAG_LOW_PERFUSION),
    (EXC_PULSE_SEARCH, FLAG_PULSE_SEARCH),
    (EXC_INTERFERENCE, FLAG_INTERFERENCE),
    (EXC_AMBIENT_LIGHT, FLAG_INTERFERENCE),
    # Low signal IQ: the number is shown but may not be reliable -> artefact.
    (EXC_LOW_SIGNAL_IQ, FLAG_ARTEFACT),
)
# The simulator's inverse: one bit per flag.
FLAG_TO_EXC = {
    FLAG_PROBE_OFF: EXC_SENSOR_OFF,
    FLAG_SENSOR_FAULT: EXC_DEFECTIVE_SENSOR,
    FLAG_LOW_PERFUSION: EXC_LOW_PERFUSION,
    FLAG_PULSE_SEARCH: EXC_PULSE_SEARCH,
    FLAG_INTERFERENCE: EXC_INTERFERENCE,
    FLAG_ARTEFACT: EXC_LOW_SIGNAL_IQ,
}

# ALARM bits as decoded on a Rad-8 by a public project (not from Masimo; treat as best effort).
ALARM_SPO2_HIGH = 0x01
ALARM_SPO2_LOW = 0x02
ALARM_PULSE_HIGH = 0x04
ALARM_PULSE_LOW = 0x08

# key -> (MDC code, lowest, highest, decimals allowed)
_VALUES = {
    "SPO2": (MDC_SPO2, 0, 100, False),
    "BPM": (MDC_PULSE_RATE, 0, 400, False),
    "PI": (MDC_PERFUSION_INDEX, 0, 100, True),
}


class MasimoLineError(ValueError):
    pass


def exception_flags(exc: int) -> tuple[str, ...]:
    flags: list[str] = []
    for bit, flag in _EXC_FLAGS:
        if exc & bit and flag not in flags:
            flags.append(flag)
    return tuple(flags)


def _device_alarm(code: int, alarm: int | None) -> str | None:
    if alarm is None or code == MDC_PERFUSION_INDEX:
        return None
    high, low = (ALARM_SPO2_HIGH, ALARM_SPO2_LOW) if code == MDC_SPO2 else (ALARM_PULSE_HIGH, ALARM_PULSE_LOW)
    if alarm & high:
        return "high"
    if alarm & low:
        return "low"
    return "none"


def _parse_value(key: str, raw: str) -> float | None:
    _code, low, high, decimals = _VALUES[key]
    text = raw[:-1] if raw.endswith("%") else raw
    if text and set(text) <= {"-", "."}:
        return None
    digits = text.replace(".", "", 1) if decimals else text
    if not digits.isascii() or not digits.isdigit() or len(text) > 6:
        raise MasimoLineError(f"{key}: not a number")
    value = float(text)
    if not low <= value <= high:
        raise MasimoLineError(f"{key}: outside the device range")
    return value


def _parse_hex(key: str, raw: str) -> int:
    if not raw or len(raw) > 8 or not raw.isascii() or any(c not in "0123456789abcdefABCDEF" for c in raw):
        raise MasimoLineError(f"{key}: not hexadecimal")
    return int(raw, 16)


def _device_time(tokens: list[str]) -> tuple[str | None, list[str]]:
    """Leading ``MM/DD/YY HH:MM:SS`` as a local ISO time without zone (the device has none)."""
    if len(tokens) >= 2 and "=" not in tokens[0] and "=" not in tokens[1]:
        try:
            when = datetime.strptime(f"{tokens[0]} {tokens[1]}", "%m/%d/%y %H:%M:%S")
        except ValueError as exc:
            raise MasimoLineError("bad date/time") from exc
        return when.isoformat(), tokens[2:]
    return None, tokens


def parse_masimo_line(line: bytes, device_id: str) -> list[Observation]:
    """Parse one line; raises MasimoLineError for anything that is not a clean Masimo line."""
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError as exc:
        raise MasimoLineError("not ASCII") from exc
    device_time, tokens = _device_time(text.split())
    fields: dict[str, str] = {}
    for token in tokens:
        key, sep, raw = token.partition("=")
        if not sep or not key or key in fields:
            raise MasimoLineError("not a KEY=VALUE field, or repeated")
        fields[key] = raw
    if "SPO2" not in fields or "BPM" not in fields:
        raise MasimoLineError("SPO2 and BPM are required")
    exc = _parse_hex("EXC", fields["EXC"]) if "EXC" in fields else 0
    alarm = _parse_hex("ALARM", fields["ALARM"]) if "ALARM" in fields else None
    flags = exception_flags(exc)
    observations = []
    for key, (code, *_rest) in _VALUES.items():
        if key in fields:
            value = _parse_value(key, fields[key])
            observations.append(Observation.of(device_id, code, value, flags=flags, device_time=device_time,
                                               device_alarm=_device_alarm(code, alarm)))
    return observations


class MasimoDecoder(LineDecoder):
    """Bytes in, observations out; bad lines are counted and skipped, never raised."""

    def __init__(self, device_id: str):
        super().__init__(device_id, parse_masimo_line, MasimoLineError, max_line=256)


def format_masimo_line(when: datetime, spo2: int | None, pulse: int | None, pi: float | None = None,
                       flags: tuple[str, ...] = (), alarm: int = 0, serial_number: str = "0000012345") -> bytes:
    """The device side, for the simulator (a Radical-7 style line, CRLF-terminated)."""
    exc = EXC_MASIMO_SET if FLAG_PROBE_OFF not in flags else 0
    for flag in flags:
        exc |= FLAG_TO_EXC.get(flag, 0)
    spo2_text = "---" if spo2 is None else f"{spo2:03d}"
    pulse_text = "---" if pulse is None else f"{pulse:03d}"
    pi_text = "--.--" if pi is None else f"{pi:05.2f}"
    return (
        f"{when:%m/%d/%y %H:%M:%S} SN={serial_number} SPO2={spo2_text}% BPM={pulse_text} PI={pi_text}% "
        f"SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+-- ALARM={alarm:04X} EXC={exc:06X}\r\n"
    ).encode("ascii")
