"""IntelliVue Data Export messages: pure encode/decode of what ritlink and its simulator need.

Layers inside one frame's user data (Data Export Interface Programming Guide):

- session: association request/response/refuse, release request/response and abort are
  session PDUs whose first byte says which (0x0D, 0x0E, 0x0C, 0x09, 0x0A, 0x19), followed
  by an LI length (one byte, or 0xFF and two bytes) and fixed ASN.1 presentation bytes;
- data export: SPpdu (session id 0xE100, presentation context) + ROapdus (ro_type, length)
  + the remote operation header (invoke id, command, length) + the operation's argument.

All integers are big-endian. Decoders raise nothing but ``DecodeError``; ``decode_message``
raises nothing at all. Numeric values travel as FLOAT-Type: an 8-bit signed exponent and a
24-bit signed mantissa (value = mantissa * 10^exponent) with reserved "not a number" codes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from devices.observation import (MDC_ETCO2, MDC_HEART_RATE, MDC_NIBP_DIA, MDC_NIBP_MEAN, MDC_NIBP_SYS,
                                  MDC_PULSE_RATE, MDC_RESP_RATE, MDC_SPO2, MDC_TEMP, Observation)

# --- session layer ---------------------------------------------------------------------
SPDU_CONNECT = 0x0D  # association request
SPDU_ACCEPT = 0x0E  # association response: accepted
SPDU_REFUSE = 0x0C  # association response: refused
SPDU_FINISH = 0x09  # release request
SPDU_DISCONNECT = 0x0A  # release response
SPDU_ABORT = 0x19  # association abort
SESSION_KINDS = {
    SPDU_CONNECT: "associate-request",
    SPDU_ACCEPT: "associate-accept",
    SPDU_REFUSE: "associate-refuse",
    SPDU_FINISH: "release-request",
    SPDU_DISCONNECT: "release-response",
    SPDU_ABORT: "abort",
}
DATA_EXPORT_SESSION_ID = 0xE100
PRESENTATION_CONTEXT_ID = 2

# Fixed session and presentation bytes of the guide's association request; only the
# user information (MDSEUserInfoStd) and the lengths vary.
_ASSOC_SESSION_DATA = bytes.fromhex("05 08 13 01 00 16 01 02 80 00 14 02 00 02")
_AARQ_PRESENTATION = bytes.fromhex(
    "31 80 a0 80 80 01 01 00 00 a2 80 a0 03 00 00 01 a4 80 30 80 02 01 01 06 04 52 01 00 01"
    " 30 80 06 02 51 01 00 00 00 00 30 80 02 01 02 06 0c 2a 86 48 ce 14 02 01 00 00 00 01 01"
    " 30 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 02 01 00 00 00 00 00 00"
    " 61 80 30 80 02 01 01 a0 80 60 80 a1 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 03 01 00 00"
    " be 80 28 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 01 01 02 01 02 81"
)
_END_OF_CONTENTS = bytes(16)  # closes the eight indefinite-length ASN.1 constructs
_USER_INFO_MARKER = b"\xbe\x80\x28\x80"
RELEASE_REQUEST = bytes.fromhex(
    "09 18 c1 16 61 80 30 80 02 01 01 a0 80 62 80 80 01 00 00 00 00 00 00 00 00 00"
)
RELEASE_RESPONSE = bytes.fromhex(
    "0a 18 c1 16 61 80 30 80 02 01 01 a0 80 63 80 80 01 00 00 00 00 00 00 00 00 00"
)
ABORT = bytes.fromhex(
    "19 2e 11 01 03 c1 29 a0 80 a0 80 30 80 02 01 01 06 02 51 01 00 00 00 00 61 80 30 80 02"
    " 01 01 a0 80 64 80 80 01 01 00 00 00 00 00 00 00 00 00 00"
)

# MDSEUserInfoStd values
MDDL_VERSION1 = 0x80000000
NOMEN_VERSION = 0x40000000
SYST_CLIENT = 0x80000000
SYST_SERVER = 0x00800000
COLD_START = 0x20000000
NOM_POLL_PROFILE_SUPPORT = 0x0001
NOM_ATTR_POLL_PROFILE_EXT = 0xF001
POLL_PROFILE_REV_0 = 0x80000000
P_OPT_DYN_CREATE_OBJECTS = 0x40000000
P_OPT_DYN_DELETE_OBJECTS = 0x20000000
POLL_EXT_PERIOD_NU_1SEC = 0x80000000
RELATIVE_TIME_PER_S = 8000  # RelativeTime counts 1/8 ms

# --- remote operations -----------------------------------------------------------------
RO_INVOKE = 1
RO_RESULT = 2
RO_ERROR = 3
RO_LINKED_RESULT = 5
CMD_EVENT_REPORT = 0
CMD_CONFIRMED_EVENT_REPORT = 1
CMD_CONFIRMED_ACTION = 7
LINKED_FIRST, LINKED_MIDDLE, LINKED_LAST = 1, 2, 3

# --- nomenclature ------------------------------------------------------------------------
NOM_PART_OBJ = 1
NOM_PART_SCADA = 2
NOM_MOC_VMO_METRIC_NU = 0x0006
NOM_MOC_VMS_MDS = 0x0021
NOM_NOTI_MDS_CREAT = 0x0D06
NOM_ACT_POLL_MDIB_DATA = 0x0C16
NOM_ACT_POLL_MDIB_DATA_EXT = 0xF13B
NOM_ATTR_ID_TYPE = 0x092F
NOM_ATTR_NU_CMPD_VAL_OBS = 0x094B
NOM_ATTR_NU_VAL_OBS = 0x0950
NOM_ATTR_TIME_STAMP_ABS = 0x0990
NOM_PLETH_PULS_RATE = 0x4822  # pulse rate from the SpO2 pleth wave

# Unit codes (partition DIM)
NOM_DIM_PERCENT = 0x0220
NOM_DIM_BEAT_PER_MIN = 0x0AA0
NOM_DIM_RESP_PER_MIN = 0x0AE0
NOM_DIM_KILO_PASCAL = 0x0F03
NOM_DIM_MMHG = 0x0F20
NOM_DIM_FAHR = 0x1140
NOM_DIM_DEGC = 0x17A0

# MeasurementState bits -> observation flags
MS_INVALID = 0x8000
MS_UNAVAILABLE = 0x2000
_STATE_FLAGS = ((MS_INVALID, "invalid"), (0x4000, "questionable"), (MS_UNAVAILABLE, "unavailable"),
                (0x1000, "calibrating"), (0x0800, "test-data"), (0x0400, "demo-data"), (0x0040, "early-indication"),
                (0x0020, "measurement-ongoing"), (0x0002, "alarm"), (0x0001, "alarm-inhibited"))

_KPA_TO_MMHG = 7.50061683
# MDC code -> {unit code the monitor may use: (convert to the ritlink unit, flag or "")}
_UNITS = {
    MDC_HEART_RATE: {NOM_DIM_BEAT_PER_MIN: (None, "")},
    MDC_PULSE_RATE: {NOM_DIM_BEAT_PER_MIN: (None, "")},
    MDC_SPO2: {NOM_DIM_PERCENT: (None, "")},
    MDC_RESP_RATE: {NOM_DIM_RESP_PER_MIN: (None, "")},
    MDC_TEMP: {NOM_DIM_DEGC: (None, ""), NOM_DIM_FAHR: (lambda f: round((f - 32) * 5 / 9, 2), "converted-from-degF")},
}
for _code in (MDC_NIBP_SYS, MDC_NIBP_DIA, MDC_NIBP_MEAN, MDC_ETCO2):
    _UNITS[_code] = {NOM_DIM_MMHG: (None, ""),
                     NOM_DIM_KILO_PASCAL: (lambda kpa: round(kpa * _KPA_TO_MMHG, 1), "converted-from-kPa")}
MDC_TO_UNIT_CODE = {code: next(iter(units)) for code, units in _UNITS.items()}
# SCADA physio id -> MDC code, for the parameters above only. The ids are the 11073 term codes
# within partition SCADA (code = 2 << 16 | id), except the pleth pulse rate, which the monitor
# reports under its own id; the design's "pulse rate" (149530) is that SpO2 pulse.
PHYSIO_TO_MDC = {code & 0xFFFF: code for code in _UNITS}
PHYSIO_TO_MDC[NOM_PLETH_PULS_RATE] = MDC_PULSE_RATE
MDC_TO_PHYSIO = {code: code & 0xFFFF for code in _UNITS}
MDC_TO_PHYSIO[MDC_PULSE_RATE] = NOM_PLETH_PULS_RATE

# FLOAT-Type mantissas with a meaning of their own: NaN, NRes, +INF, -INF
_FLOAT_SPECIALS = frozenset((0x7FFFFF, 0x800000, 0x7FFFFE, 0x800002))
FLOAT_NAN = 0x007FFFFF


class DecodeError(ValueError):
    pass


# --- primitive types -------------------------------------------------------------------
def decode_float(raw: int) -> float | None:
    """FLOAT-Type -> float; None for NaN, NRes (not at this resolution) and +/-INF."""
    mantissa = raw & 0xFFFFFF
    if mantissa in _FLOAT_SPECIALS:
        return None
    if mantissa & 0x800000:
        mantissa -= 0x1000000
    exponent = (raw >> 24) & 0xFF
    if exponent & 0x80:
        exponent -= 0x100
    # Dividing by an exact power of ten keeps 366e-1 == 36.6 (multiplying by 0.1 does not).
    return float(mantissa * 10**exponent) if exponent >= 0 else mantissa / 10**-exponent


def encode_float(value: float | None) -> int:
    """float -> FLOAT-Type with the fewest decimals that represent it (at most 6)."""
    if value is None or value != value or value in (float("inf"), float("-inf")):
        return FLOAT_NAN
    exponent = 0
    while exponent > -6:
        scaled = value * 10**-exponent
        if abs(scaled - round(scaled)) < 1e-6 * max(1.0, abs(scaled)):
            break
        exponent -= 1
    mantissa = round(value * 10**-exponent)
    while abs(mantissa) > 0x7FFFFD:  # too big for 24 bits: give up resolution
        exponent += 1
        mantissa = round(value / 10**exponent)
    return ((exponent & 0xFF) << 24) | (mantissa & 0xFFFFFF)


def _bcd(value: int) -> int:
    return (value // 10) << 4 | value % 10


def encode_abs_time(moment: datetime) -> bytes:
    """AbsoluteTime: century, year, month, day, hour, minute, second, 1/100 s, each in BCD."""
    return bytes(_bcd(v) for v in (moment.year // 100, moment.year % 100, moment.month, moment.day,
                                   moment.hour, moment.minute, moment.second, moment.microsecond // 10000))


def decode_abs_time(raw: bytes) -> str | None:
    """The monitor's local clock as ``YYYY-MM-DDTHH:MM:SS.ss``; None when unset or invalid."""
    if len(raw) != 8 or any(b >> 4 > 9 or b & 0x0F > 9 for b in raw):
        return None
    c, y, mo, d, h, mi, s, f = ((b >> 4) * 10 + (b & 0x0F) for b in raw)
    if not (1 <= mo <= 12 and 1 <= d <= 31 and h < 24 and mi < 60 and s < 60):
        return None
    return f"{c * 100 + y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{f:02d}"


class _Reader:
    """Bounds-checked big-endian reads; every overrun is a DecodeError."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int = 0, end: int | None = None):
        self.data, self.pos, self.end = data, pos, len(data) if end is None else end

    def take(self, size: int) -> bytes:
        if size < 0 or self.pos + size > self.end:
            raise DecodeError("message shorter than its fields")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def remaining(self) -> int:
        return self.end - self.pos


def decode_attribute_list(reader: _Reader) -> list[tuple[int, bytes]]:
    """AttributeList: count, length, then count x (attribute id, length, value)."""
    count, length = reader.u16(), reader.u16()
    items = _Reader(reader.take(length))
    attributes = []
    for _ in range(count):
        attribute_id, size = items.u16(), items.u16()
        attributes.append((attribute_id, items.take(size)))
    if items.remaining():
        raise DecodeError("attribute list length does not match its items")
    return attributes


def encode_attribute_list(attributes: Iterable[tuple[int, bytes]]) -> bytes:
    items = list(attributes)
    body = b"".join(struct.pack(">HH", aid, len(value)) + value for aid, value in items)
    return struct.pack(">HH", len(items), len(body)) + body


def _asn_length(length: int) -> bytes:
    if length < 0x80:
        return bytes((length,))
    return b"\x81" + bytes((length,)) if length < 0x100 else b"\x82" + length.to_bytes(2, "big")


def _read_asn_length(reader: _Reader) -> int:
    first = reader.u8()
    if first < 0x80:
        return first
    if first == 0x81:
        return reader.u8()
    if first == 0x82:
        return reader.u16()
    raise DecodeError("unsupported ASN.1 length")


def _li(length: int) -> bytes:
    """Session-layer length indicator: one byte below 255, else 0xFF and two bytes."""
    return bytes((length,)) if length < 0xFF else b"\xff" + length.to_bytes(2, "big")


# --- association -----------------------------------------------------------------------
@dataclass(frozen=True)
class UserInfo:
    """MDSEUserInfoStd: what the association request and response say about each side."""

    protocol_version: int = MDDL_VERSION1
    nomenclature_version: int = NOMEN_VERSION
    functional_units: int = 0
    system_type: int = SYST_CLIENT
    startup_mode: int = COLD_START
    options: tuple[tuple[int, bytes], ...] = ()
    profiles: tuple[tuple[int, bytes], ...] = ()


def encode_user_info(info: UserInfo) -> bytes:
    return (
        struct.pack(">5I", info.protocol_version, info.nomenclature_version, info.functional_units,
                    info.system_type, info.startup_mode)
        + encode_attribute_list(info.options)
        + encode_attribute_list(info.profiles)
    )


def decode_user_info(reader: _Reader) -> UserInfo:
    fields = struct.unpack(">5I", reader.take(20))
    options = tuple(decode_attribute_list(reader))
    profiles = tuple(decode_attribute_list(reader))
    return UserInfo(*fields, options=options, profiles=profiles)


def poll_profile(min_poll_period_s: float = 1.0, max_mtu: int = 1000) -> tuple[int, bytes]:
    """PollProfileSupport with the extended-poll package (numerics at 1 s resolution)."""
    extension = struct.pack(">I", POLL_EXT_PERIOD_NU_1SEC) + encode_attribute_list(())
    body = struct.pack(">6I", POLL_PROFILE_REV_0, round(min_poll_period_s * RELATIVE_TIME_PER_S), max_mtu, max_mtu,
                       0xFFFFFFFF, P_OPT_DYN_CREATE_OBJECTS | P_OPT_DYN_DELETE_OBJECTS)
    return NOM_POLL_PROFILE_SUPPORT, body + encode_attribute_list([(NOM_ATTR_POLL_PROFILE_EXT, extension)])


def association_pdu(spdu_type: int, presentation: bytes, info: UserInfo) -> bytes:
    user = encode_user_info(info)
    presentation_pdu = presentation + _asn_length(len(user)) + user + _END_OF_CONTENTS
    session = _ASSOC_SESSION_DATA + b"\xc1" + _li(len(presentation_pdu)) + presentation_pdu
    return bytes((spdu_type,)) + _li(len(session)) + session


def association_request(min_poll_period_s: float = 1.0) -> bytes:
    return association_pdu(SPDU_CONNECT, _AARQ_PRESENTATION, UserInfo(profiles=(poll_profile(min_poll_period_s),)))


def _find_user_info(data: bytes) -> UserInfo | None:
    """Walk the EXTERNAL that carries MDSEUserInfoStd: optional OID and integer, then [1] octets."""
    start = data.find(_USER_INFO_MARKER)
    if start < 0:
        return None
    reader = _Reader(data, start + len(_USER_INFO_MARKER))
    try:
        for _ in range(4):
            tag = reader.u8()
            if tag in (0x02, 0x06):  # indirect reference / direct reference
                reader.take(_read_asn_length(reader))
            elif tag == 0x81:
                return decode_user_info(_Reader(reader.take(_read_asn_length(reader))))
            else:
                return None
    except DecodeError:
        return None
    return None


@dataclass(frozen=True)
class SessionPdu:
    kind: str  # see SESSION_KINDS
    user_info: UserInfo | None = None


def _decode_session(data: bytes) -> SessionPdu:
    reader = _Reader(data)
    spdu_type = reader.u8()
    length = reader.u8()
    if length == 0xFF:
        length = reader.u16()
    if length > reader.remaining():
        raise DecodeError("session PDU shorter than its length")
    user_info = _find_user_info(data) if spdu_type in (SPDU_CONNECT, SPDU_ACCEPT) else None
    return SessionPdu(SESSION_KINDS[spdu_type], user_info)


# --- data export: remote operations ------------------------------------------------------
MDS_OBJECT = (NOM_MOC_VMS_MDS, 0, 0)  # managed object: class, MDS context, handle


@dataclass(frozen=True)
class RemoteOperation:
    ro_type: int
    invoke_id: int
    command: int  # command type; the error value for RO_ERROR
    body: bytes
    linked_state: int = 0
    linked_count: int = 0


def _decode_remote_operation(data: bytes) -> RemoteOperation:
    reader = _Reader(data)
    if reader.u16() != DATA_EXPORT_SESSION_ID:
        raise DecodeError("not a data export message")
    reader.u16()  # presentation context id
    ro_type = reader.u16()
    apdu = _Reader(reader.take(reader.u16()))
    linked_state = linked_count = 0
    if ro_type == RO_LINKED_RESULT:
        linked_state, linked_count = apdu.u8(), apdu.u8()
    elif ro_type not in (RO_INVOKE, RO_RESULT, RO_ERROR):
        raise DecodeError("unknown remote operation type")
    invoke_id, command = apdu.u16(), apdu.u16()
    body = apdu.take(apdu.u16())
    return RemoteOperation(ro_type, invoke_id, command, body, linked_state, linked_count)


def decode_message(user_data: bytes) -> SessionPdu | RemoteOperation | None:
    """One frame's user data -> a session PDU or a remote operation; None if malformed."""
    try:
        if user_data[:1] and user_data[0] in SESSION_KINDS:
            return _decode_session(user_data)
        return _decode_remote_operation(user_data)
    except DecodeError:
        return None


def _data_export(ro_type: int, apdu: bytes) -> bytes:
    return struct.pack(">HHHH", DATA_EXPORT_SESSION_ID, PRESENTATION_CONTEXT_ID, ro_type, len(apdu)) + apdu


def invoke(invoke_id: int, command: int, body: bytes) -> bytes:
    return _data_export(RO_INVOKE, struct.pack(">HHH", invoke_id, command, len(body)) + body)


def result(invoke_id: int, command: int, body: bytes, linked_state: int = 0, linked_count: int = 0) -> bytes:
    header = struct.pack(">HHH", invoke_id, command, len(body))
    if linked_state:
        return _data_export(RO_LINKED_RESULT, bytes((linked_state, linked_count)) + header + body)
    return _data_export(RO_RESULT, header + body)


# --- event reports (MDS create) ------------------------------------------------------------
@dataclass(frozen=True)
class EventReport:
    managed_object: tuple[int, int, int]
    event_time: int
    event_type: int
    info: bytes


def decode_event_report(body: bytes) -> EventReport:
    """EventReportArgument, and EventReportResult (the same fields, empty info)."""
    reader = _Reader(body)
    managed_object = (reader.u16(), reader.u16(), reader.u16())
    event_time, event_type = reader.u32(), reader.u16()
    return EventReport(managed_object, event_time, event_type, reader.take(reader.u16()))


def event_report_result(invoke_id: int, report: EventReport) -> bytes:
    """Confirm an event report (the MDS Create Event Result)."""
    body = struct.pack(">HHHIHH", *report.managed_object, report.event_time, report.event_type, 0)
    return result(invoke_id, CMD_CONFIRMED_EVENT_REPORT, body)


# --- polls -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PollRequest:
    action_type: int
    poll_number: int
    object_type: tuple[int, int]  # partition, object class
    attribute_group: int


def poll_request(invoke_id: int, poll_number: int, object_class: int, extended: bool) -> bytes:
    """Poll Data Request (single) or Extended Poll Data Request (empty attribute list: one answer)."""
    args = struct.pack(">HHHH", poll_number, NOM_PART_OBJ, object_class, 0)
    if extended:
        args += encode_attribute_list(())
    action = NOM_ACT_POLL_MDIB_DATA_EXT if extended else NOM_ACT_POLL_MDIB_DATA
    body = struct.pack(">HHHIHH", *MDS_OBJECT, 0, action, len(args)) + args
    return invoke(invoke_id, CMD_CONFIRMED_ACTION, body)


def decode_poll_request(body: bytes) -> PollRequest:
    reader = _Reader(body)
    reader.take(6 + 4)  # managed object, scope
    action_type = reader.u16()
    if action_type not in (NOM_ACT_POLL_MDIB_DATA, NOM_ACT_POLL_MDIB_DATA_EXT):
        raise DecodeError("not a poll action")
    args = _Reader(reader.take(reader.u16()))
    poll_number, partition, object_class, group = args.u16(), args.u16(), args.u16(), args.u16()
    if action_type == NOM_ACT_POLL_MDIB_DATA_EXT and args.remaining():
        decode_attribute_list(args)  # e.g. a poll period; we only ask for single answers
    return PollRequest(action_type, poll_number, (partition, object_class), group)


@dataclass(frozen=True)
class NuObsValue:
    """One numeric as the monitor sends it (NuObsValue)."""

    physio_id: int
    value: float | None
    unit_code: int
    state: int = 0


@dataclass(frozen=True)
class PolledObject:
    context_id: int
    handle: int
    attributes: tuple[tuple[int, bytes], ...]


@dataclass(frozen=True)
class PollReply:
    action_type: int
    poll_number: int
    sequence_no: int
    rel_time: int
    abs_time: str | None
    object_type: tuple[int, int]
    attribute_group: int
    objects: tuple[PolledObject, ...]


def decode_poll_reply(body: bytes) -> PollReply:
    """ActionResult + PollMdibDataReply(Ext) + PollInfoList down to each object's attributes."""
    reader = _Reader(body)
    reader.take(6)  # managed object
    action_type = reader.u16()
    if action_type not in (NOM_ACT_POLL_MDIB_DATA, NOM_ACT_POLL_MDIB_DATA_EXT):
        raise DecodeError("not a poll result")
    reply = _Reader(reader.take(reader.u16()))
    poll_number = reply.u16()
    sequence_no = reply.u16() if action_type == NOM_ACT_POLL_MDIB_DATA_EXT else 0
    rel_time, abs_time = reply.u32(), decode_abs_time(reply.take(8))
    object_type, group = (reply.u16(), reply.u16()), reply.u16()
    context_count = reply.u16()
    contexts = _Reader(reply.take(reply.u16()))
    objects = []
    for _ in range(context_count):
        context_id, count = contexts.u16(), contexts.u16()
        polls = _Reader(contexts.take(contexts.u16()))
        for _ in range(count):
            handle = polls.u16()
            objects.append(PolledObject(context_id, handle, tuple(decode_attribute_list(polls))))
        if polls.remaining():
            raise DecodeError("observation poll list length does not match")
    if contexts.remaining():
        raise DecodeError("poll info list length does not match")
    return PollReply(action_type, poll_number, sequence_no, rel_time, abs_time, object_type, group, tuple(objects))


# --- numerics -> observations ------------------------------------------------------------
def _decode_nu(raw: bytes) -> NuObsValue:
    if len(raw) != 10:
        raise DecodeError("NuObsValue is 10 bytes")
    physio_id, state, unit_code, value = struct.unpack(">HHHI", raw)
    return NuObsValue(physio_id, decode_float(value), unit_code, state)


def _decode_compound(raw: bytes) -> list[NuObsValue]:
    reader = _Reader(raw)
    count = reader.u16()
    items = _Reader(reader.take(reader.u16()))
    values = [_decode_nu(items.take(10)) for _ in range(count)]
    if items.remaining() or reader.remaining():
        raise DecodeError("compound value length does not match")
    return values


def _observation(nu: NuObsValue, device_id: str, device_time: str | None, counts: dict[str, int]) -> Observation | None:
    code = PHYSIO_TO_MDC.get(nu.physio_id)
    if code is None:
        counts["unmapped_values"] += 1
        return None
    unit = _UNITS[code].get(nu.unit_code)
    if unit is None:  # a unit we cannot convert: never guess
        counts["unit_mismatches"] += 1
        return None
    convert, conversion_flag = unit
    flags = [flag for bit, flag in _STATE_FLAGS if nu.state & bit]
    value = nu.value
    if value is None or nu.state & (MS_INVALID | MS_UNAVAILABLE):
        value = None
        flags.insert(0, "not-measured")
    elif convert is not None:
        value = convert(value)
        flags.append(conversion_flag)
    return Observation.of(device_id, code, value, device_time=device_time, flags=tuple(flags))


def numeric_observations(reply: PollReply, device_id: str) -> tuple[list[Observation], dict[str, int]]:
    """Every numeric in a poll reply that ritlink knows, with its MDC code and UCUM unit."""
    counts = {"unmapped_values": 0, "unit_mismatches": 0, "bad_attributes": 0}
    observations = []
    for obj in reply.objects:
        values: list[NuObsValue] = []
        device_time = reply.abs_time
        for attribute_id, raw in obj.attributes:
            try:
                if attribute_id == NOM_ATTR_NU_VAL_OBS:
                    values.append(_decode_nu(raw))
                elif attribute_id == NOM_ATTR_NU_CMPD_VAL_OBS:
                    values.extend(_decode_compound(raw))
                elif attribute_id == NOM_ATTR_TIME_STAMP_ABS:
                    device_time = decode_abs_time(raw) or device_time
            except DecodeError:
                counts["bad_attributes"] += 1
        for nu in values:
            observation = _observation(nu, device_id, device_time, counts)
            if observation is not None:
                observations.append(observation)
    return observations, counts
