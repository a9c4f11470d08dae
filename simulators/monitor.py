"""Monitor simulators: the device side of each protocol (``ritlink sim monitor``).

A scenario (simulators/scenario.py) says what the patient's monitor shows; an encoder turns
that into the bytes a real device of the protocol would send, and reports exactly which
values it sent (``SentValue``), so tests can check that every value arrives and none is
invented. Transports: a pty (serial) or, for HL7, an MLLP client connecting to ritlink.
Faults: garbage between frames, a pulled cable, a probe that comes off.
"""

from __future__ import annotations

import math
import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from devices.ansarb import WAVEFORM_BYTES, format_ansarb_frame
from devices.hl7_pcd01 import Hl7Value, build_oru_r01, parse_ack
from devices.masimo import (
    ALARM_PULSE_HIGH,
    ALARM_PULSE_LOW,
    ALARM_SPO2_LOW,
    FLAG_TO_EXC,
    format_masimo_line,
)
from devices.mllp import MllpFramer, mllp_wrap
from devices.nonin import NONIN_STATUS_FLAGS, format_nonin_line
from devices import observation as mdc
from devices.observation import FLAG_ARTEFACT, FLAG_NOT_MEASURED, FLAG_PROBE_OFF
from simulators.pty_device import PtyDevice
from simulators.scenario import OXIMETER_CODES, MimicReplay, Reading, Sample, Scenario, load_source

SIM_PROTOCOLS = ("nonin", "masimo", "hl7", "ansarb")
ALARM_ACTIVE = 0x10  # Masimo ALARM: an alarm is sounding
REPLUG_AFTER_S = 2.0


@dataclass(frozen=True)
class SentValue:
    """What the simulated device put on the wire for one parameter, as the protocol says it."""

    code: int
    value: float | None
    unit: str
    flags: frozenset[str]
    device_alarm: str | None = None

    @classmethod
    def of(cls, code: int, value: float | None, flags=(), device_alarm: str | None = None) -> SentValue:
        flags = set(flags) | ({FLAG_NOT_MEASURED} if value is None else set())
        return cls(code, value, mdc.MDC_PARAMETERS[code][1], frozenset(flags), device_alarm)


@dataclass
class Frame:
    data: bytes
    sent: list[SentValue]
    control_id: str | None = None  # HL7: the ACK to wait for


def _int(value: float | None) -> int | None:
    return None if value is None else int(value)


def _reading(sample: Sample, code: int) -> Reading:
    return sample.readings.get(code, Reading(None))


def _line_flags(sample: Sample, codes: tuple[int, ...], allowed: set[str]) -> tuple[str, ...]:
    """Oximeter lines carry one status for all their values: the union of their flags."""
    flags: list[str] = []
    for code in codes:
        for flag in _reading(sample, code).flags:
            if flag in allowed and flag not in flags:
                flags.append(flag)
    return tuple(flags)


def encode_nonin(sample: Sample, _state: EncoderState) -> Frame:
    flags = _line_flags(sample, (mdc.MDC_SPO2, mdc.MDC_PULSE_RATE), set(NONIN_STATUS_FLAGS.values()))
    spo2, pulse = _int(_reading(sample, mdc.MDC_SPO2).value), _int(_reading(sample, mdc.MDC_PULSE_RATE).value)
    sent = [SentValue.of(mdc.MDC_SPO2, spo2, flags), SentValue.of(mdc.MDC_PULSE_RATE, pulse, flags)]
    return Frame(format_nonin_line(spo2, pulse, flags), sent)


def _masimo_alarm(spo2: int | None, pulse: int | None) -> tuple[int, str | None, str | None]:
    """The oximeter's own alarm limits (adult defaults of the device, not ritlink's)."""
    bits = 0
    spo2_state = pulse_state = "none"
    if spo2 is not None and spo2 < 90:
        bits |= ALARM_SPO2_LOW
        spo2_state = "low"
    if pulse is not None and pulse > 140:
        bits |= ALARM_PULSE_HIGH
        pulse_state = "high"
    elif pulse is not None and pulse < 45:
        bits |= ALARM_PULSE_LOW
        pulse_state = "low"
    return (bits | ALARM_ACTIVE if bits else 0), spo2_state, pulse_state


def encode_masimo(sample: Sample, state: EncoderState) -> Frame:
    flags = _line_flags(sample, OXIMETER_CODES, set(FLAG_TO_EXC))
    spo2, pulse = _int(_reading(sample, mdc.MDC_SPO2).value), _int(_reading(sample, mdc.MDC_PULSE_RATE).value)
    pi = _reading(sample, mdc.MDC_PERFUSION_INDEX).value
    alarm, spo2_alarm, pulse_alarm = _masimo_alarm(spo2, pulse)
    sent = [SentValue.of(mdc.MDC_SPO2, spo2, flags, spo2_alarm), SentValue.of(mdc.MDC_PULSE_RATE, pulse, flags, pulse_alarm),
            SentValue.of(mdc.MDC_PERFUSION_INDEX, pi, flags)]
    return Frame(format_masimo_line(state.now_local(), spo2, pulse, pi, flags, alarm), sent)


def _nibp_values(sample: Sample) -> dict[int, float | None]:
    nibp = sample.nibp
    if nibp is None:
        return {mdc.MDC_NIBP_SYS: None, mdc.MDC_NIBP_DIA: None, mdc.MDC_NIBP_MEAN: None, mdc.MDC_NIBP_PULSE_RATE: None}
    return {mdc.MDC_NIBP_SYS: nibp.systolic, mdc.MDC_NIBP_DIA: nibp.diastolic, mdc.MDC_NIBP_MEAN: nibp.mean,
            mdc.MDC_NIBP_PULSE_RATE: nibp.pulse}


def encode_hl7(sample: Sample, state: EncoderState) -> Frame:
    """Every parameter of the scenario, NIBP with the time the measurement completed."""
    values: list[Hl7Value] = []
    sent: list[SentValue] = []
    now = state.now_utc()
    for code, reading in sample.readings.items():
        flags = (FLAG_ARTEFACT,) if FLAG_ARTEFACT in reading.flags and reading.value is not None else ()
        values.append(Hl7Value(code, reading.value, mdc.MDC_PARAMETERS[code][1], flags, time=now))
        sent.append(SentValue.of(code, reading.value, flags))
    if sample.nibp is not None:
        measured_at = state.nibp_wall_time(sample.nibp.at, now)
        for code, value in _nibp_values(sample).items():
            if code != mdc.MDC_NIBP_PULSE_RATE:
                values.append(Hl7Value(code, value, mdc.MDC_PARAMETERS[code][1], time=measured_at))
                sent.append(SentValue.of(code, value))
    state.message_count += 1
    control_id = f"SIM{state.message_count:08d}"
    return Frame(mllp_wrap(build_oru_r01(values, control_id, now)), sent, control_id)


def encode_ansarb(sample: Sample, state: EncoderState) -> Frame:
    """ANSAR-B has no artefact or probe-off marker: such values go out empty (not measured)."""

    def shown(code: int) -> float | None:
        reading = _reading(sample, code)
        return None if FLAG_ARTEFACT in reading.flags or FLAG_PROBE_OFF in reading.flags else reading.value

    nibp = _nibp_values(sample)
    lines = {
        "HR": (shown(mdc.MDC_HEART_RATE),), "RR": (shown(mdc.MDC_RESP_RATE),), "ETCO2": (shown(mdc.MDC_ETCO2),),
        "SPO2": (shown(mdc.MDC_SPO2),),
        "NIBP": (nibp[mdc.MDC_NIBP_SYS], nibp[mdc.MDC_NIBP_DIA], nibp[mdc.MDC_NIBP_MEAN], nibp[mdc.MDC_NIBP_PULSE_RATE]),
    }
    pulse = shown(mdc.MDC_PULSE_RATE)
    sent = [SentValue.of(mdc.MDC_HEART_RATE, lines["HR"][0]), SentValue.of(mdc.MDC_RESP_RATE, lines["RR"][0]),
            SentValue.of(mdc.MDC_ETCO2, lines["ETCO2"][0]), SentValue.of(mdc.MDC_SPO2, lines["SPO2"][0]),
            SentValue.of(mdc.MDC_PULSE_RATE, pulse)]
    sent += [SentValue.of(code, value) for code, value in nibp.items()]
    return Frame(format_ansarb_frame(state.waveform(), lines, pulse=pulse), sent)


ENCODERS: dict[str, Callable[[Sample, EncoderState], Frame]] = {
    "nonin": encode_nonin, "masimo": encode_masimo, "hl7": encode_hl7, "ansarb": encode_ansarb,
}


@dataclass
class EncoderState:
    """What a device remembers between frames."""

    message_count: int = 0
    frame_count: int = 0
    _nibp_times: dict[float, datetime] = field(default_factory=dict)

    @staticmethod
    def now_utc() -> datetime:
        return datetime.now(UTC)

    @staticmethod
    def now_local() -> datetime:
        return datetime.now()

    def nibp_wall_time(self, scenario_at: float, now: datetime) -> datetime:
        """A measurement keeps the wall time at which the device first reported it."""
        return self._nibp_times.setdefault(scenario_at, now)

    def waveform(self) -> bytes:
        """One second of synthetic ECG (200 samples), resp, pleth, P1 and an absent P2."""
        self.frame_count += 1
        ecg = [100 + (60 if 90 <= i < 96 else -15 if 96 <= i < 100 else 0) for i in range(200)]
        resp = [40 + int(20 * math.sin(2 * math.pi * (i + self.frame_count * 50) / 200)) for i in range(50)]
        pleth = [86 + int(40 * max(0.0, math.sin(2 * math.pi * i / 50))) for i in range(50)]
        p1 = [80] * 50
        p2 = [251] * 50  # 0xFB: no transducer, as in the capture
        data = bytes(ecg + resp + pleth + p1 + p2)
        assert len(data) == WAVEFORM_BYTES
        return data


def with_probe_off(sample: Sample) -> Sample:
    readings = dict(sample.readings)
    for code in OXIMETER_CODES:
        if code in readings:
            readings[code] = Reading(None, (FLAG_PROBE_OFF,))
    return Sample(sample.t, readings, sample.nibp)


class PtyTransport:
    """A serial device: frames go out on a pty; a partial write means the frame was lost."""

    def __init__(self, device: PtyDevice):
        self.device = device

    def send(self, frame: Frame) -> bool:
        return self.device.write(frame.data) == len(frame.data)

    def send_garbage(self, data: bytes) -> None:
        self.device.write(data)

    def unplug(self) -> None:
        self.device.unplug()

    def plug(self) -> None:
        self.device.plug()

    @property
    def plugged(self) -> bool:
        return self.device.plugged

    def close(self) -> None:
        self.device.unplug()


class MllpClientTransport:
    """The monitor gateway side of HL7 over TCP: connect to ritlink, send, wait for the ACK."""

    def __init__(self, host: str, port: int, ack_timeout_s: float = 5.0):
        self.address = (host, port)
        self.ack_timeout_s = ack_timeout_s
        self._sock: socket.socket | None = None
        self._framer = MllpFramer()
        self.plugged = True
        self.acks_ok = 0
        self.acks_missing = 0

    def _connect(self) -> socket.socket | None:
        if self._sock is None and self.plugged:
            try:
                self._sock = socket.create_connection(self.address, timeout=1.0)
                self._framer = MllpFramer()
            except OSError:
                self._sock = None
        return self._sock

    def send(self, frame: Frame) -> bool:
        sock = self._connect()
        if sock is None:
            return False
        try:
            sock.sendall(frame.data)
        except OSError:
            self._drop()
            return False
        if self._wait_for_ack(sock, frame.control_id):
            self.acks_ok += 1
        else:
            self.acks_missing += 1
        return True

    def _wait_for_ack(self, sock: socket.socket, control_id: str | None) -> bool:
        deadline = time.monotonic() + self.ack_timeout_s
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = sock.recv(65536)
            except (TimeoutError, socket.timeout):
                return False
            except OSError:
                self._drop()
                return False
            if not data:
                self._drop()
                return False
            for payload in self._framer.feed(data):
                ack = parse_ack(payload)
                if ack and ack[1] == control_id:
                    return ack[0] == "AA"
        return False

    def send_garbage(self, data: bytes) -> None:
        sock = self._connect()
        if sock is not None:
            try:
                sock.sendall(data)
            except OSError:
                self._drop()

    def _drop(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
        self._sock = None

    def unplug(self) -> None:
        self.plugged = False
        self._drop()

    def plug(self) -> None:
        self.plugged = True

    def close(self) -> None:
        self._drop()


@dataclass
class Faults:
    garbage_rate: float = 0.0  # chance per frame of junk bytes before it
    unplug_after_s: float | None = None  # pull the cable once, back REPLUG_AFTER_S later
    replug_after_s: float = REPLUG_AFTER_S
    probe_off_after_s: float | None = None  # the SpO2 probe comes off and stays off
    seed: int | None = None


def garbage_between_frames(rng: random.Random, protocol: str) -> bytes:
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 48)))
    # Line protocols: noise ends at a line end, or it would fuse with the next line.
    return junk + b"\r\n" if protocol in ("nonin", "masimo") else junk


def run_monitor(protocol: str, transport, source: Scenario | MimicReplay, stop: threading.Event,
                interval_s: float = 1.0, speed: float = 1.0, faults: Faults | None = None,
                on_sent: Callable[[list[SentValue]], None] | None = None,
                until_end: bool = False, repeat: bool = False) -> int:
    """Send one frame per ``interval_s`` until ``stop`` (or the scenario's end with
    ``until_end``); each frame advances the scenario by ``interval_s * speed`` seconds.
    After the end the last state is held (or the scenario restarts with ``repeat``).
    Returns the number of frames sent."""
    encode = ENCODERS[protocol]
    faults = faults or Faults()
    rng = random.Random(faults.seed)
    state = EncoderState()
    started = time.monotonic()
    next_due = started
    unplugged_at = None
    frames_sent = 0
    index = 0
    while not stop.is_set():
        elapsed = time.monotonic() - started
        if faults.unplug_after_s is not None and unplugged_at is None and elapsed >= faults.unplug_after_s:
            transport.unplug()
            unplugged_at = elapsed
        if unplugged_at is not None and not transport.plugged and elapsed >= unplugged_at + faults.replug_after_s:
            transport.plug()
        step = interval_s * speed
        t = index * step
        if t > source.duration_s:
            if until_end:
                break
            frames_per_run = int(source.duration_s // step) + 1
            t = (index % frames_per_run) * step if repeat else source.duration_s
        sample = source.sample(t)
        if faults.probe_off_after_s is not None and elapsed >= faults.probe_off_after_s:
            sample = with_probe_off(sample)
        frame = encode(sample, state)
        if faults.garbage_rate and rng.random() < faults.garbage_rate:
            transport.send_garbage(garbage_between_frames(rng, protocol))
        if transport.send(frame):
            frames_sent += 1
            if on_sent:
                on_sent(frame.sent)
        index += 1
        next_due += interval_s
        stop.wait(max(0.0, next_due - time.monotonic()))
    return frames_sent


def run_nonin(device: PtyDevice, stop: threading.Event, interval_s: float = 1.0,
              unplug_after_s: float | None = None, replug_after_s: float = REPLUG_AFTER_S) -> None:
    """Write one Nonin line per interval until ``stop`` (a calm adult, scenario "stable");
    optionally pull the cable once."""
    faults = Faults(unplug_after_s=unplug_after_s, replug_after_s=replug_after_s)
    run_monitor("nonin", PtyTransport(device), load_source("stable"), stop, interval_s, faults=faults, repeat=True)
