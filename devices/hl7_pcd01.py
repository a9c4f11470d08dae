"""HL7 v2 ORU^R01 per IHE PCD-01 (Device Enterprise Communication): parse, acknowledge, build.

An observation is mapped by the numeric IEEE 11073 MDC code in OBX-3 (coding system
``MDC``), never by its text, and only when OBX-2 says ``NM`` and OBX-6 gives a unit that
fits the parameter (an unknown unit is skipped, never guessed). Measurement status travels
in OBX-8 (11073 ``invalid`` / ``questionable`` -> artefact, ``not-available`` -> not
measured; HL7 abnormal flags L/H/LL/HH -> the device's alarm state) and OBX-11 (``X``:
the result cannot be obtained). Segments may end in ``\\r``, ``\\n`` or ``\\r\\n``.
The ``hl7`` package does the field access; MLLP framing is devices/mllp.py.
"""

from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import hl7
import hl7.containers
import hl7.util

from devices.mllp import MllpFramer, mllp_wrap
from devices import observation as mdc
from devices.observation import FLAG_ARTEFACT, Observation

# MDC unit codes (IEEE 11073-10101 dimensions) -> UCUM
MDC_UNITS_TO_UCUM = {
    262688: "%",  # MDC_DIM_PERCENT
    264864: "/min",  # MDC_DIM_BEAT_PER_MIN
    264928: "/min",  # MDC_DIM_RESP_PER_MIN
    266016: "mm[Hg]",  # MDC_DIM_MMHG
    265987: "kPa",  # MDC_DIM_KILO_PASCAL
    268192: "Cel",  # MDC_DIM_DEGC
}
_UNIT_NAMES = {262688: "MDC_DIM_PERCENT", 264864: "MDC_DIM_BEAT_PER_MIN", 264928: "MDC_DIM_RESP_PER_MIN",
               266016: "MDC_DIM_MMHG", 265987: "MDC_DIM_KILO_PASCAL", 268192: "MDC_DIM_DEGC"}
_RATES = {"/min"}
_PRESSURES = {"mm[Hg]", "kPa"}
# Which UCUM units make sense for which parameter: anything else is dropped, not converted.
ALLOWED_UNITS: dict[int, set[str]] = {
    mdc.MDC_HEART_RATE: _RATES, mdc.MDC_PULSE_RATE: _RATES, mdc.MDC_RESP_RATE: _RATES, mdc.MDC_NIBP_PULSE_RATE: _RATES,
    mdc.MDC_SPO2: {"%"}, mdc.MDC_PERFUSION_INDEX: {"%"},
    mdc.MDC_NIBP_SYS: _PRESSURES, mdc.MDC_NIBP_DIA: _PRESSURES, mdc.MDC_NIBP_MEAN: _PRESSURES, mdc.MDC_ETCO2: _PRESSURES,
    mdc.MDC_TEMP: {"Cel"},
}
assert set(ALLOWED_UNITS) == set(mdc.MDC_PARAMETERS)

# Reference ids for the simulator's OBX-3 text (decoding never reads them).
MDC_REFERENCE_IDS = {
    mdc.MDC_HEART_RATE: "MDC_ECG_HEART_RATE", mdc.MDC_SPO2: "MDC_PULS_OXIM_SAT_O2",
    mdc.MDC_PULSE_RATE: "MDC_PULS_OXIM_PULS_RATE", mdc.MDC_NIBP_SYS: "MDC_PRESS_BLD_NONINV_SYS",
    mdc.MDC_NIBP_DIA: "MDC_PRESS_BLD_NONINV_DIA", mdc.MDC_NIBP_MEAN: "MDC_PRESS_BLD_NONINV_MEAN",
    mdc.MDC_RESP_RATE: "mdc.MDC_RESP_RATE", mdc.MDC_ETCO2: "MDC_AWAY_CO2_ET", mdc.MDC_TEMP: "mdc.MDC_TEMP",
    mdc.MDC_PERFUSION_INDEX: "MDC_PULS_OXIM_PERF_REL", mdc.MDC_NIBP_PULSE_RATE: "MDC_PULS_RATE_NON_INV",
}
_UCUM_TO_MDC_UNIT = {(code, ucum): unit for code in mdc.MDC_PARAMETERS for unit, ucum in MDC_UNITS_TO_UCUM.items()
                     if ucum in ALLOWED_UNITS[code] and unit != 264928}
_UCUM_TO_MDC_UNIT[(mdc.MDC_RESP_RATE, "/min")] = 264928  # breaths, not beats

_ARTEFACT_STATUS = {"invalid", "questionable"}
_NOT_AVAILABLE_STATUS = {"not-available"}
_ABNORMAL_TO_ALARM = {"L": "low", "LL": "low", "<": "low", "H": "high", "HH": "high", ">": "high", "N": "none",
                      "msmt-state-in-alarm": "active", "in-alarm": "active",
                      "msmt-state-al-inhibited": "inhibited", "alarm-inhibited": "inhibited"}
_MAX_REPEATS = 8
_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$")


# The hl7 package logs raw segments and fields (patient data) on malformed input: silence it.
for _module in (hl7.util, hl7.containers):
    _module.logger.setLevel(logging.CRITICAL + 1)


class Hl7MessageError(ValueError):
    pass


@dataclass
class Hl7Result:
    control_id: str
    message_type: str
    observations: list[Observation]
    skipped_obx: int  # OBX segments that are not a mapped numeric vital (device tree, waveforms, text)


def normalise_segments(text: str) -> str:
    """Segments end in ``\\r`` for HL7; accept ``\\n`` and ``\\r\\n`` too."""
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r")


def decode_text(data: bytes) -> str:
    """UTF-8 as PCD-01 messages usually are (whatever MSH-18 says), else Latin-1 (never fails)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def hl7_time_to_iso(value: str) -> str | None:
    """``20210425230331.496-0400`` -> ``2021-04-25T23:03:31.496-04:00`` (None if unreadable)."""
    match = _DTM.match(value.strip())
    if not match:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    try:
        when = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                        int(second or 0), int(round(float(fraction or "0") * 1_000_000)))
    except ValueError:
        return None
    iso = when.isoformat(timespec="milliseconds")
    if offset:
        iso += f"{offset[:3]}:{offset[3:]}"
    return iso


def _get(segment, field_num: int, component: int = 1, repeat: int = 1) -> str:
    """One component of one field, "" when absent (the hl7 package raises for absent parts)."""
    try:
        return str(segment.extract_field(field_num=field_num, repeat_num=repeat, component_num=component)).strip()
    except (IndexError, KeyError, TypeError, ValueError):
        return ""


def _repeats(segment, field_num: int) -> list[str]:
    values = []
    for repeat in range(1, _MAX_REPEATS + 1):
        value = _get(segment, field_num, 1, repeat)
        if repeat > 1 and not value:
            break
        if value:
            values.append(value)
    return values


def _mdc_code(obx) -> int | None:
    """The numeric MDC code of OBX-3 (primary identifier, or the alternate one)."""
    for id_component, system_component in ((1, 3), (4, 6)):
        if _get(obx, 3, system_component).upper() == "MDC":
            ident = _get(obx, 3, id_component)
            if ident.isascii() and ident.isdigit() and len(ident) <= 9:
                return int(ident)
    return None


def _ucum_unit(obx) -> str | None:
    ident, system = _get(obx, 6, 1), _get(obx, 6, 3).upper()
    if system == "MDC" and ident.isascii() and ident.isdigit() and len(ident) <= 9:
        return MDC_UNITS_TO_UCUM.get(int(ident))
    if system == "UCUM":
        return ident
    return None


def _parse_number(text: str) -> float:
    if not text or len(text) > 32 or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise Hl7MessageError("OBX-5 is not a number")
    return float(text)


def _observation_from_obx(obx, device_id: str, fallback_time: str | None) -> Observation | None:
    if _get(obx, 2).upper() != "NM":
        return None
    code = _mdc_code(obx)
    if code not in mdc.MDC_PARAMETERS:
        return None
    statuses = _repeats(obx, 8)
    not_measured = _get(obx, 11).upper() == "X" or any(s in _NOT_AVAILABLE_STATUS for s in statuses)
    raw_value = _get(obx, 5)
    value = None if not_measured or not raw_value else _parse_number(raw_value)
    unit = _ucum_unit(obx)
    if value is not None and unit not in ALLOWED_UNITS[code]:
        raise Hl7MessageError("OBX-6 unit missing or not fitting the parameter")
    if unit not in ALLOWED_UNITS[code]:
        unit = None
    flags = (FLAG_ARTEFACT,) if value is not None and any(s in _ARTEFACT_STATUS for s in statuses) else ()
    alarm = None
    for status in statuses:
        alarm = _ABNORMAL_TO_ALARM.get(status, alarm) if alarm in (None, "none") else alarm
    device_time = hl7_time_to_iso(_get(obx, 14)) or fallback_time
    return Observation.of(device_id, code, value, unit=unit, flags=flags, device_time=device_time,
                          device_alarm=alarm)


def parse_oru_r01(data: bytes | str, device_id: str) -> Hl7Result:
    """One HL7 message -> observations; raises Hl7MessageError if it is not HL7 at all."""
    text = normalise_segments(decode_text(data) if isinstance(data, bytes) else data)
    if not text.startswith("MSH") or len(text) < 8:
        raise Hl7MessageError("message does not start with MSH")
    try:
        message = hl7.parse(text)
        msh = message.segment("MSH")
    except Exception as exc:  # the hl7 package raises many kinds on malformed input
        raise Hl7MessageError(f"not parseable as HL7: {type(exc).__name__}") from exc
    control_id = _get(msh, 10)
    message_type = f"{_get(msh, 9, 1)}^{_get(msh, 9, 2)}".upper()
    observations: list[Observation] = []
    skipped = 0
    if message_type == "ORU^R01":
        fallback_time = None
        for segment in message:
            name = str(segment[0]).strip() if len(segment) else ""
            if name == "OBR":
                fallback_time = hl7_time_to_iso(_get(segment, 7))
            elif name == "OBX":
                try:
                    observation = _observation_from_obx(segment, device_id, fallback_time)
                except Hl7MessageError:
                    observation = None
                if observation is None:
                    skipped += 1
                else:
                    observations.append(observation)
    return Hl7Result(control_id, message_type, observations, skipped)


def _escape_field(value: str) -> str:
    """Keep text from the sender out of our separators (HL7 escape sequences)."""
    return (value.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\").replace("\r", " ").replace("\n", " "))


def _hl7_now() -> str:
    return datetime.now(UTC).strftime("%Y%m%d%H%M%S.%f")[:-3] + "+0000"


def build_ack(control_id: str, ack_code: str = "AA", text: str = "", receiving_app: str = "") -> bytes:
    """An original-mode ACK (``MSA|AA|<control id>``); AE/AR carry a short reason."""
    msh = (f"MSH|^~\\&|RITLINK|AMBULANCE|{_escape_field(receiving_app)}||{_hl7_now()}||ACK^R01^ACK|"
           f"ACK{_escape_field(control_id)[:16]}|P|2.6")
    msa = f"MSA|{ack_code}|{_escape_field(control_id)}" + (f"|{_escape_field(text)}" if text else "")
    return f"{msh}\r{msa}\r".encode("utf-8")


def parse_ack(data: bytes) -> tuple[str, str] | None:
    """(ack code, control id) of an ACK, or None."""
    for segment in normalise_segments(decode_text(data)).split("\r"):
        parts = segment.split("|")
        if parts[0] == "MSA" and len(parts) >= 3:
            return parts[1], parts[2]
    return None


@dataclass(frozen=True)
class Hl7Value:
    """One numeric for ``build_oru_r01`` (the device side)."""

    code: int
    value: float | None
    unit: str
    flags: tuple[str, ...] = ()
    device_alarm: str | None = None
    time: datetime | None = None  # OBX-14; the message time when None


def _hl7_timestamp(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S") + (when.strftime("%z") if when.tzinfo else "")


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.10g}"


def build_oru_r01(values: list[Hl7Value], control_id: str, when: datetime, device_name: str = "RITLINK-SIM",
                  device_eui64: str = "0012340000000001") -> bytes:
    """A PCD-01 ORU^R01 as a monitor gateway sends it: MDS/VMD/channel hierarchy in OBX-4."""
    ts = _hl7_timestamp(when)
    segments = [
        f"MSH|^~\\&|{device_name}^{device_eui64}^EUI-64|AMBULANCE|RITLINK|AMBULANCE|{ts}||ORU^R01^ORU_R01|"
        f"{control_id}|P|2.6|||AL|NE||UNICODE UTF-8|||IHE_PCD_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.1.1^ISO",
        "PID|||^^^^MR||^^^^^^U",
        f"OBR|1||{control_id}^{device_name}^{device_eui64}^EUI-64|182777000^monitoring of patient^SCT|||{ts}",
        f"OBX|1||69965^MDC_DEV_MON_PHYSIO_MULTI_PARAM_MDS^MDC|1.0.0.0|||||||X|||{ts}",
    ]
    for index, item in enumerate(values, start=2):
        mdc_unit = _UCUM_TO_MDC_UNIT.get((item.code, item.unit))
        if mdc_unit is None:
            raise ValueError(f"no MDC unit for {item.code} in {item.unit}")
        statuses = []
        if item.device_alarm in ("low", "high"):
            statuses.append("L" if item.device_alarm == "low" else "H")
        if FLAG_ARTEFACT in item.flags and item.value is not None:
            statuses.append("questionable")
        value = "" if item.value is None else _format_number(item.value)
        result_status = "X" if item.value is None else "F"
        segments.append(
            f"OBX|{index}|NM|{item.code}^{MDC_REFERENCE_IDS[item.code]}^MDC|1.1.1.{index}|{value}|"
            f"{mdc_unit}^{_UNIT_NAMES[mdc_unit]}^MDC||{'~'.join(statuses)}|||{result_status}|||"
            f"{_hl7_timestamp(item.time or when)}"
        )
    return ("\r".join(segments) + "\r").encode("utf-8")


@dataclass
class Hl7Decoder:
    """MLLP bytes in, observations out; one ACK per message queued in ``acks`` (to send back
    when the transport can talk, i.e. TCP). Bad messages are counted, never raised."""

    device_id: str
    framer: MllpFramer = field(default_factory=MllpFramer)
    messages_ok: int = 0
    messages_bad: int = 0
    obx_skipped: int = 0
    acks: deque = field(default_factory=lambda: deque(maxlen=64))

    def feed(self, data: bytes) -> list[Observation]:
        observations: list[Observation] = []
        for payload in self.framer.feed(data):
            try:
                result = parse_oru_r01(payload, self.device_id)
            except Hl7MessageError as exc:
                self.messages_bad += 1
                self.acks.append(mllp_wrap(build_ack(_control_id_guess(payload), "AR", str(exc)[:80])))
                continue
            if result.message_type != "ORU^R01":
                self.messages_bad += 1
                self.acks.append(mllp_wrap(build_ack(result.control_id, "AR", "unsupported message type")))
                continue
            self.messages_ok += 1
            self.obx_skipped += result.skipped_obx
            self.acks.append(mllp_wrap(build_ack(result.control_id, "AA")))
            observations.extend(result.observations)
        return observations

    @property
    def frames_ok(self) -> int:
        return self.messages_ok

    def counters(self) -> dict[str, int]:
        return {"messages_ok": self.messages_ok, "messages_bad": self.messages_bad, "obx_skipped": self.obx_skipped,
                "garbage_bytes": self.framer.garbage_bytes, "truncated_frames": self.framer.truncated_frames}


def parse_bare_messages(data: bytes, device_id: str) -> tuple[list[Observation], dict[str, int]]:
    """Messages saved without MLLP (one after the other, each starting with MSH)."""
    text = normalise_segments(decode_text(data))
    chunks: list[list[str]] = []
    for segment in text.split("\r"):
        if segment.startswith("MSH") or not chunks:
            chunks.append([])
        chunks[-1].append(segment)
    observations: list[Observation] = []
    counters = {"messages_ok": 0, "messages_bad": 0}
    for chunk in chunks:
        try:
            observations.extend(parse_oru_r01("\r".join(chunk), device_id).observations)
            counters["messages_ok"] += 1
        except Hl7MessageError:
            counters["messages_bad"] += 1
    return observations, counters


def _control_id_guess(payload: bytes) -> str:
    first = normalise_segments(decode_text(payload[:2048])).split("\r", 1)[0]
    parts = first.split("|")
    return parts[9][:40] if first.startswith("MSH") and len(parts) > 9 else ""
