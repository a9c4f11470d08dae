"""A simulated Philips IntelliVue monitor on its MIB/RS232 data export port (a pty).

It plays the monitor's side of the dialogue: accepts an association request, sends the
MDS Create Event Report, answers extended numeric polls and single MDS polls (keep-alives),
answers a release request, and aborts an association that stays silent for longer than
``association_timeout_s``. ``reboot()`` drops the association, ignores the line for
``reboot_quiet_s`` (a booting monitor sends nothing), then waits for a new association.

The values come from ``values(t) -> {mdc_code: value or None}`` (t = seconds since start),
so a clinical scenario can drive it. ``None`` goes out as "not measured" (FLOAT NaN, state
invalid). Every value that went out is logged in ``IntelliVueMonitor.sent`` (code, value,
unit) in wire order, so a test can check that the receiver got exactly these.
"""

from __future__ import annotations

import math
import random
import struct
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from devices import intellivue_messages as msg
from devices.intellivue_frame import FrameDecoder, encode_frame
from devices.observation import (MDC_ETCO2, MDC_HEART_RATE, MDC_NIBP_DIA, MDC_NIBP_MEAN, MDC_NIBP_SYS,
                                 MDC_PARAMETERS, MDC_PULSE_RATE, MDC_RESP_RATE, MDC_SPO2, MDC_TEMP)
from simulators.pty_device import PtyDevice

ValuesFn = Callable[[float], dict[int, float | None]]

# --- monitor-side messages ---------------------------------------------------------------
# The association response: CPA-PPDU with an accepted presentation context and an AARE that
# carries the monitor's MDSEUserInfoStd in the same EXTERNAL as the request (0xBE 0x80 0x28 0x80).
_AARE_PRESENTATION = bytes.fromhex(
    "31 80 a0 80 80 01 01 00 00 a2 80 a0 03 00 00 01 a5 80 30 80 80 01 00 81 02 51 01 00 00"
    " 00 00 61 80 30 80 02 01 01 a0 80 61 80 a1 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 03 01"
    " 00 00 a2 03 02 01 00 a3 05 a1 03 02 01 00 be 80 28 80 02 01 02 81"
)
REFUSE = bytes((msg.SPDU_REFUSE, 3, 0x32, 0x01, 0x00))  # reason: none given
NOM_ATTR_SYS_TYPE = 0x0986
NOM_ATTR_TIME_ABS = 0x0987
NOM_ATTR_TIME_REL = 0x098F
NOM_ATTR_VMS_MDS_STAT = 0x09A7
NOM_DEV_MON_PHYSIO_MULTI_PARAM_MDS = 4429
MDS_STATUS_OPERATING = 6
NOM_PRESS_BLD_NONINV = 0x4A04  # the NIBP object; sys/dia/mean travel as one compound value
NIBP_CODES = (MDC_NIBP_SYS, MDC_NIBP_DIA, MDC_NIBP_MEAN)
_HANDLES = {MDC_HEART_RATE: 1, MDC_SPO2: 2, MDC_PULSE_RATE: 3, MDC_RESP_RATE: 5, MDC_ETCO2: 6, MDC_TEMP: 7}
_NIBP_HANDLE = 4


def association_response(min_poll_period_s: float = 1.0) -> bytes:
    info = msg.UserInfo(system_type=msg.SYST_SERVER, profiles=(msg.poll_profile(min_poll_period_s),))
    return msg.association_pdu(msg.SPDU_ACCEPT, _AARE_PRESENTATION, info)


def mds_create_event(invoke_id: int, event_time: int, clock: datetime) -> bytes:
    attributes = [
        (NOM_ATTR_SYS_TYPE, struct.pack(">HH", msg.NOM_PART_OBJ, NOM_DEV_MON_PHYSIO_MULTI_PARAM_MDS)),
        (NOM_ATTR_TIME_ABS, msg.encode_abs_time(clock)),
        (NOM_ATTR_TIME_REL, struct.pack(">I", event_time)),
        (NOM_ATTR_VMS_MDS_STAT, struct.pack(">H", MDS_STATUS_OPERATING)),
    ]
    info = struct.pack(">HHH", *msg.MDS_OBJECT) + msg.encode_attribute_list(attributes)
    body = struct.pack(">HHHIHH", *msg.MDS_OBJECT, event_time, msg.NOM_NOTI_MDS_CREAT, len(info)) + info
    return msg.invoke(invoke_id, msg.CMD_CONFIRMED_EVENT_REPORT, body)


@dataclass(frozen=True)
class NumericObject:
    """A numeric object in a poll result; ``compound_id`` set for compound values (NIBP)."""

    handle: int
    values: tuple[msg.NuObsValue, ...]
    compound_id: int | None = None
    time_stamp: datetime | None = None


def _encode_nu(value: msg.NuObsValue) -> bytes:
    return struct.pack(">HHHI", value.physio_id, value.state, value.unit_code, msg.encode_float(value.value))


def _encode_numeric(obj: NumericObject) -> bytes:
    if obj.compound_id is None:
        (value,) = obj.values
        attributes = [(msg.NOM_ATTR_ID_TYPE, struct.pack(">HH", msg.NOM_PART_SCADA, value.physio_id)),
                      (msg.NOM_ATTR_NU_VAL_OBS, _encode_nu(value))]
    else:
        encoded = b"".join(_encode_nu(v) for v in obj.values)
        attributes = [(msg.NOM_ATTR_ID_TYPE, struct.pack(">HH", msg.NOM_PART_SCADA, obj.compound_id)),
                      (msg.NOM_ATTR_NU_CMPD_VAL_OBS, struct.pack(">HH", len(obj.values), len(encoded)) + encoded)]
    if obj.time_stamp is not None:
        attributes.append((msg.NOM_ATTR_TIME_STAMP_ABS, msg.encode_abs_time(obj.time_stamp)))
    return struct.pack(">H", obj.handle) + msg.encode_attribute_list(attributes)


def poll_result(invoke_id: int, poll_number: int, object_class: int, objects: Iterable[NumericObject],
                rel_time: int, clock: datetime, extended: bool = True, sequence_no: int = 0,
                linked_state: int = 0, linked_count: int = 0) -> bytes:
    """A (linked) poll result with one MDS context."""
    objects = list(objects)
    polls = b"".join(_encode_numeric(obj) for obj in objects)
    context = struct.pack(">HHH", 0, len(objects), len(polls)) + polls
    reply = (struct.pack(">H", poll_number) + (struct.pack(">H", sequence_no) if extended else b"")
             + struct.pack(">I", rel_time) + msg.encode_abs_time(clock)
             + struct.pack(">HHHHH", msg.NOM_PART_OBJ, object_class, 0, 1, len(context)) + context)
    action = msg.NOM_ACT_POLL_MDIB_DATA_EXT if extended else msg.NOM_ACT_POLL_MDIB_DATA
    body = struct.pack(">HHHHH", *msg.MDS_OBJECT, action, len(reply)) + reply
    return msg.result(invoke_id, msg.CMD_CONFIRMED_ACTION, body, linked_state, linked_count)


def numeric_value(code: int, value: float | None, state: int = 0) -> msg.NuObsValue:
    """A value as the monitor would send it: its physio id and unit, NaN + invalid when None."""
    if value is None:
        state |= msg.MS_INVALID
    return msg.NuObsValue(msg.MDC_TO_PHYSIO[code], value, msg.MDC_TO_UNIT_CODE[code], state)


def numeric_objects(values: dict[int, float | None], stamp: datetime | None = None) -> list[NumericObject]:
    """One object per parameter, NIBP sys/dia/mean as one compound object (as the monitor does)."""
    objects = [NumericObject(_HANDLES[code], (numeric_value(code, value),), time_stamp=stamp)
               for code, value in values.items() if code in _HANDLES]  # other codes: not sendable
    nibp = [numeric_value(code, values[code]) for code in NIBP_CODES if code in values]
    if nibp:
        objects.append(NumericObject(_NIBP_HANDLE, tuple(nibp), NOM_PRESS_BLD_NONINV, stamp))
    return objects


def stable_patient(t: float) -> dict[int, float | None]:
    """A calm adult with every parameter the driver knows, varying slowly."""
    hr = 72 + round(4 * math.sin(t / 15))
    return {
        MDC_HEART_RATE: hr, MDC_SPO2: 97 + round(math.sin(t / 20)), MDC_PULSE_RATE: hr,
        MDC_NIBP_SYS: 124, MDC_NIBP_DIA: 78, MDC_NIBP_MEAN: 93, MDC_RESP_RATE: 14 + round(math.sin(t / 25)),
        MDC_ETCO2: 38, MDC_TEMP: round(36.8 + 0.1 * math.sin(t / 30), 1),
    }


# --- the monitor as pure logic -------------------------------------------------------------
@dataclass
class MonitorCounters:
    associations: int = 0
    refusals: int = 0
    mds_create_results: int = 0
    polls_answered: int = 0
    keepalives: int = 0
    releases: int = 0
    association_timeouts: int = 0
    reboots: int = 0
    ignored_messages: int = 0
    unknown_codes: int = 0


class IntelliVueMonitor:
    """The monitor's protocol side; ``feed``/``tick`` return the bytes the monitor sends."""

    def __init__(self, values: ValuesFn = stable_patient, association_timeout_s: float = 10.0,
                 reboot_quiet_s: float = 3.0, max_objects_per_result: int = 5, refuse: bool = False,
                 start: float = 0.0, wall_clock: datetime | None = None):
        self.values = values
        self.association_timeout_s = association_timeout_s
        self.reboot_quiet_s = reboot_quiet_s
        self.max_objects_per_result = max(1, max_objects_per_result)
        self.refuse = refuse
        self.counters = MonitorCounters()
        self.state = "unassociated"  # unassociated, awaiting-mds-result, associated, rebooting
        self.sent: list[tuple[int, float | None, str]] = []  # (code, value, unit) in wire order
        self.sent_batches = 0
        self._start = start
        self._wall_start = wall_clock or datetime.now().replace(microsecond=0)
        self._frames = FrameDecoder()
        self._last_rx = start
        self._reboot_until = 0.0
        self._invoke_id = 0

    def clock(self, now: float) -> datetime:
        return self._wall_start + timedelta(seconds=now - self._start)

    def relative_time(self, now: float) -> int:
        return int((now - self._start) * msg.RELATIVE_TIME_PER_S) & 0xFFFFFFFF

    def reboot(self, now: float) -> None:
        self.counters.reboots += 1
        self.state = "rebooting"
        self._reboot_until = now + self.reboot_quiet_s

    def tick(self, now: float) -> bytes:
        if self.state == "rebooting":
            if now >= self._reboot_until:
                self.state = "unassociated"
                self._frames = FrameDecoder()
            return b""
        if self.state != "unassociated" and now - self._last_rx > self.association_timeout_s:
            self.counters.association_timeouts += 1
            self.state = "unassociated"
            return encode_frame(msg.ABORT)
        return b""

    def feed(self, data: bytes, now: float) -> bytes:
        if self.state == "rebooting":
            return b""  # a booting monitor does not listen
        out = bytearray()
        for user_data in self._frames.feed(data):
            message = msg.decode_message(user_data)
            if isinstance(message, msg.SessionPdu):
                out += self._on_session(message, now)
            elif isinstance(message, msg.RemoteOperation) and self.state != "unassociated":
                self._last_rx = now
                out += self._on_operation(message, now)
            else:
                self.counters.ignored_messages += 1
        return bytes(out)

    def _on_session(self, pdu: msg.SessionPdu, now: float) -> bytes:
        if pdu.kind == "associate-request":
            info = pdu.user_info
            if self.refuse or info is None or info.system_type != msg.SYST_CLIENT:
                self.counters.refusals += 1
                return encode_frame(REFUSE)
            self.counters.associations += 1
            self.state = "awaiting-mds-result"
            self._last_rx = now
            self._invoke_id = (self._invoke_id + 1) & 0xFFFF
            return encode_frame(association_response()) + encode_frame(
                mds_create_event(self._invoke_id, self.relative_time(now), self.clock(now)))
        if pdu.kind == "release-request":
            if self.state != "unassociated":
                self.counters.releases += 1
            self.state = "unassociated"
            return encode_frame(msg.RELEASE_RESPONSE)
        if pdu.kind == "abort":
            self.state = "unassociated"
        return b""

    def _on_operation(self, op: msg.RemoteOperation, now: float) -> bytes:
        if op.ro_type == msg.RO_RESULT and op.command == msg.CMD_CONFIRMED_EVENT_REPORT:
            report = msg.decode_event_report(op.body) if op.body else None
            if report and report.event_type == msg.NOM_NOTI_MDS_CREAT and self.state == "awaiting-mds-result":
                self.counters.mds_create_results += 1
                self.state = "associated"
            return b""
        if self.state != "associated" or op.ro_type != msg.RO_INVOKE or op.command != msg.CMD_CONFIRMED_ACTION:
            self.counters.ignored_messages += 1
            return b""
        try:
            request = msg.decode_poll_request(op.body)
        except msg.DecodeError:
            self.counters.ignored_messages += 1
            return b""
        extended = request.action_type == msg.NOM_ACT_POLL_MDIB_DATA_EXT
        if request.object_type[1] == msg.NOM_MOC_VMO_METRIC_NU:
            self.counters.polls_answered += 1
            return self._numerics_result(op.invoke_id, request.poll_number, extended, now)
        self.counters.keepalives += 1
        return encode_frame(poll_result(op.invoke_id, request.poll_number, request.object_type[1], (),
                                        self.relative_time(now), self.clock(now), extended))

    def _numerics_result(self, invoke_id: int, poll_number: int, extended: bool, now: float) -> bytes:
        values = self.values(now - self._start)
        self.counters.unknown_codes += sum(1 for code in values if code not in msg.MDC_TO_PHYSIO)
        objects = numeric_objects(values, self.clock(now))
        chunks = [objects[i:i + self.max_objects_per_result]
                  for i in range(0, len(objects), self.max_objects_per_result)] or [[]]
        out = bytearray()
        for number, chunk in enumerate(chunks, start=1):
            linked = 0
            if len(chunks) > 1:  # too big for one message: linked results, the last one marked
                linked = (msg.LINKED_FIRST if number == 1 else
                          msg.LINKED_LAST if number == len(chunks) else msg.LINKED_MIDDLE)
            out += encode_frame(poll_result(invoke_id, poll_number, msg.NOM_MOC_VMO_METRIC_NU, chunk,
                                            self.relative_time(now), self.clock(now), extended, number - 1,
                                            linked, number if linked else 0))
        for obj in objects:
            for value in obj.values:
                code = msg.PHYSIO_TO_MDC[value.physio_id]
                self.sent.append((code, value.value, MDC_PARAMETERS[code][1]))
        self.sent_batches += 1
        return bytes(out)


# --- on a pty ------------------------------------------------------------------------------
class IntelliVueSimulator:
    """Runs an ``IntelliVueMonitor`` on a ``PtyDevice`` in a thread (tests, ``ritlink sim``)."""

    def __init__(self, device: PtyDevice, values: ValuesFn = stable_patient, *, garbage_rate: float = 0.0,
                 seed: int | None = None, step_s: float = 0.005, **monitor_options):
        self.device = device
        self.monitor = IntelliVueMonitor(values, start=time.monotonic(), **monitor_options)
        self.garbage_rate = garbage_rate
        self.garbage_bytes = 0
        self._random = random.Random(seed)
        self._step_s = step_s
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self.run, name="sim-intellivue", daemon=True)

    def start(self) -> IntelliVueSimulator:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def reboot(self) -> None:
        with self._lock:
            self.monitor.reboot(time.monotonic())

    def step(self) -> None:
        data = self.device.read()
        now = time.monotonic()
        with self._lock:
            out = self.monitor.feed(data, now) + self.monitor.tick(now)
        if out:
            if self.garbage_rate and self._random.random() < self.garbage_rate:
                noise = self._random.randbytes(self._random.randint(1, 24))
                self.garbage_bytes += len(noise)
                out = noise + out
            self.device.write(out)

    def run(self, stop: threading.Event | None = None) -> None:
        stop = stop or self._stop
        while not stop.is_set():
            self.step()
            stop.wait(self._step_s)


def run_intellivue_sim(link_path: str | Path, stop_event: threading.Event, values_fn: ValuesFn | None = None,
                       reboot_after_s: float | None = None, reboot_quiet_s: float = 3.0,
                       association_timeout_s: float = 10.0, garbage_rate: float = 0.0,
                       on_ready: Callable[[IntelliVueSimulator], None] | None = None,
                       **monitor_options) -> MonitorCounters:
    """Blocking: a monitor at ``link_path`` until ``stop_event``; reboots once if asked to.

    ``on_ready`` gets the running simulator (its monitor's log and counters), e.g. for tests.
    """
    device = PtyDevice(link_path).plug()
    sim = IntelliVueSimulator(device, values_fn or stable_patient, garbage_rate=garbage_rate,
                              association_timeout_s=association_timeout_s, reboot_quiet_s=reboot_quiet_s,
                              **monitor_options)
    if on_ready:
        on_ready(sim)
    started = time.monotonic()
    rebooted = reboot_after_s is None
    try:
        while not stop_event.is_set():
            if not rebooted and time.monotonic() - started >= reboot_after_s:
                sim.reboot()
                rebooted = True
            sim.step()
            stop_event.wait(sim._step_s)
    finally:
        device.unplug()
    return sim.monitor.counters
