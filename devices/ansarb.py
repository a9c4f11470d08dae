"""Ivy Biomedical ANSAR-B (Ivy 450C and kin, 9600 8N1): binary waveforms + ASCII numerics.

A frame, as in the real capture in shared/conformance/vitals/serial/::

    0xFF "ANSAR-B " <400 waveform bytes> <ASCII numeric lines, each ending in CR> 0xFE

The waveform block is ECG (200 samples), resp, pleth, P1, P2 (50 each); its bytes never use
the framing values 0xFE/0xFF. A numeric line is ``NAME=<n>;v1;...;vn;<label>;`` where n is
the count of values that follow, e.g. ``NIBP=4;121;75;92;80;;`` (sys, dia, mean, pulse) and
``SPO2=1;100;PR=80 ;`` (the SpO2 label carries the pulse rate). An empty value is "not
measured". Temperature (T1/T2) and invasive pressures (P1/P2) are not mapped: the protocol
does not state the temperature unit, and ritlink has no invasive-pressure parameter.

Resync: any 0xFF that is not followed by the tag, a waveform block and clean ASCII up to
0xFE is dropped *by one byte* and the search restarts, so a real frame hidden behind a
false start (a cut-off frame, garbage) is still found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from devices import observation as mdc
from devices.observation import Observation

START = 0xFF
END = 0xFE
TAG = b"ANSAR-B "
WAVEFORM_BYTES = 400
HEADER_BYTES = 1 + len(TAG)
NUMERICS_OFFSET = HEADER_BYTES + WAVEFORM_BYTES
MAX_NUMERICS_BYTES = 1024
_NUMERIC_TEXT = bytes(range(0x20, 0x7F)) + b"\r\n"
_FRAMING = bytes([START, END])

# name -> MDC code of each value in order (None: a value ritlink does not map)
_LINES: dict[str, tuple[int | None, ...]] = {
    "HR": (mdc.MDC_HEART_RATE,),
    "RR": (mdc.MDC_RESP_RATE,),
    "ETCO2": (mdc.MDC_ETCO2,),
    "SPO2": (mdc.MDC_SPO2,),
    "NIBP": (mdc.MDC_NIBP_SYS, mdc.MDC_NIBP_DIA, mdc.MDC_NIBP_MEAN, mdc.MDC_NIBP_PULSE_RATE),
}
_RANGES = {mdc.MDC_HEART_RATE: 350, mdc.MDC_RESP_RATE: 200, mdc.MDC_ETCO2: 150, mdc.MDC_SPO2: 100, mdc.MDC_NIBP_SYS: 400,
           mdc.MDC_NIBP_DIA: 400, mdc.MDC_NIBP_MEAN: 400, mdc.MDC_NIBP_PULSE_RATE: 350, mdc.MDC_PULSE_RATE: 350}
_PULSE_LABEL = re.compile(r"^PR=\s*(\d{0,3})\s*$")


class AnsarBLineError(ValueError):
    pass


@dataclass
class AnsarBFramer:
    """Bytes in, (waveform, numerics) pairs out; never raises, counts what it threw away."""

    garbage_bytes: int = 0
    false_starts: int = 0
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self._buffer += data
        frames: list[tuple[bytes, bytes]] = []
        buf = self._buffer
        while True:
            start = buf.find(START)
            if start < 0:
                self.garbage_bytes += len(buf)
                buf.clear()
                return frames
            if start:
                self.garbage_bytes += start
                del buf[:start]
            verdict = self._check_candidate(buf)
            if verdict == "wait":
                return frames
            if verdict == "reject":
                self.false_starts += 1
                self.garbage_bytes += 1
                del buf[:1]
                continue
            end = verdict
            frames.append((bytes(buf[HEADER_BYTES:NUMERICS_OFFSET]), bytes(buf[NUMERICS_OFFSET:end])))
            del buf[:end + 1]

    @staticmethod
    def _check_candidate(buf: bytearray) -> int | str:
        """Index of the end byte of a good frame at buf[0], or "wait" (need more), or "reject"."""
        tag = buf[1:HEADER_BYTES]
        if tag != TAG[:len(tag)]:
            return "reject"
        if len(buf) < HEADER_BYTES:
            return "wait"
        waveform = bytes(buf[HEADER_BYTES:NUMERICS_OFFSET])
        if len(waveform.translate(None, _FRAMING)) != len(waveform):
            return "reject"
        if len(buf) < NUMERICS_OFFSET:
            return "wait"
        end = buf.find(END, NUMERICS_OFFSET, NUMERICS_OFFSET + MAX_NUMERICS_BYTES + 1)
        numerics = bytes(buf[NUMERICS_OFFSET:end if end >= 0 else NUMERICS_OFFSET + MAX_NUMERICS_BYTES + 1])
        if numerics.translate(None, _NUMERIC_TEXT):
            return "reject"  # binary (or a new 0xFF) where ASCII belongs
        if end >= 0:
            return end
        return "reject" if len(numerics) > MAX_NUMERICS_BYTES else "wait"


def _int_or_none(text: str, code: int) -> float | None:
    text = text.strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or len(text) > 3:
        raise AnsarBLineError("value is not a number")
    value = int(text)
    if value > _RANGES[code]:
        raise AnsarBLineError("value outside the device range")
    return float(value)


def parse_numeric_line(line: str, device_id: str) -> list[Observation]:
    """One ``NAME=n;...;label;`` line -> observations (empty list for lines ritlink ignores)."""
    fields = line.split(";")
    name, sep, count_text = fields[0].partition("=")
    if not sep or not count_text.isascii() or not count_text.isdigit() or len(count_text) > 2:
        raise AnsarBLineError("line does not start with NAME=<count>")
    count = int(count_text)
    if len(fields) < count + 2:
        raise AnsarBLineError("fewer fields than the count says")
    codes = _LINES.get(name)
    if codes is None:
        return []
    values, label = fields[1:count + 1], fields[count + 1]
    observations = [Observation.of(device_id, code, _int_or_none(raw, code))
                    for code, raw in zip(codes, values, strict=False) if code is not None]
    if name == "SPO2":
        pulse = _PULSE_LABEL.match(label)
        if pulse:
            observations.append(Observation.of(device_id, mdc.MDC_PULSE_RATE, _int_or_none(pulse.group(1), mdc.MDC_PULSE_RATE)))
    return observations


def parse_numerics(block: bytes, device_id: str) -> tuple[list[Observation], int]:
    """All numeric lines of one frame -> (observations, count of bad lines)."""
    observations: list[Observation] = []
    bad = 0
    for line in block.decode("ascii").replace("\n", "\r").split("\r"):
        if not line.strip():
            continue
        try:
            observations.extend(parse_numeric_line(line, device_id))
        except AnsarBLineError:
            bad += 1
    return observations, bad


@dataclass
class AnsarBDecoder:
    device_id: str
    framer: AnsarBFramer = field(default_factory=AnsarBFramer)
    frames_ok: int = 0
    lines_bad: int = 0

    def feed(self, data: bytes) -> list[Observation]:
        observations: list[Observation] = []
        for _waveform, numerics in self.framer.feed(data):
            found, bad = parse_numerics(numerics, self.device_id)
            self.frames_ok += 1
            self.lines_bad += bad
            observations.extend(found)
        return observations

    def counters(self) -> dict[str, int]:
        return {"frames_ok": self.frames_ok, "lines_bad": self.lines_bad, "false_starts": self.framer.false_starts,
                "garbage_bytes": self.framer.garbage_bytes}


def format_ansarb_frame(waveform: bytes, values: dict[str, tuple[float | None, ...]], ecg_label: str = "ECG-II-DIAG",
                        pulse: float | None = None) -> bytes:
    """The device side, for the simulator. ``values`` maps HR/RR/ETCO2/SPO2/NIBP to value tuples
    (None = not measured); the fixed lines P1/P2/T1/T2 are sent empty as a 450C without those
    modules does."""
    if len(waveform) != WAVEFORM_BYTES or len(waveform.translate(None, _FRAMING)) != WAVEFORM_BYTES:
        raise ValueError("waveform must be 400 bytes without 0xFE/0xFF")

    def numbers(items: tuple[float | None, ...]) -> str:
        return "".join(("" if v is None else str(int(round(v)))) + ";" for v in items)

    labels = {"HR": ecg_label, "RR": "", "ETCO2": "",
              "SPO2": "PR=" + ("" if pulse is None else str(int(round(pulse)))) + " ", "NIBP": ""}
    lines = [f"{name}={len(_LINES[name])};{numbers(values.get(name, (None,) * len(_LINES[name])))}{labels[name]};"
             for name in ("HR", "RR", "ETCO2", "SPO2", "NIBP")]
    lines += ["P1=3;;;;;", "P2=3;;;;NO TRANSDUCER;", "T1=1;;;", "T2=1;;;"]
    return bytes([START]) + TAG + waveform + ("\r".join(lines) + "\r").encode("ascii") + bytes([END])
