"""Philips IntelliVue Data Export over MIB/RS232: the client session and its serial loop.

``IntelliVueSession`` is the protocol as pure logic (no clock, no I/O): bytes and the time go
in, observations and the bytes to send come out. The dialogue, as the programming guide
describes it for the serial interface:

1. ritlink sends an association request; the monitor answers with accept (or refuse);
2. the monitor sends the MDS Create Event Report; ritlink confirms it (MDS Create Result);
3. ritlink polls the numerics with an Extended Poll Data Request every ``poll_interval_s``;
   each (possibly linked) Poll Result becomes observations with MDC codes;
4. the monitor drops an association that stays silent too long, so ritlink sends a
   keep-alive (a single MDS poll) every ``keepalive_interval_s``;
5. on shutdown ritlink sends a release request and waits briefly for the release response.

A monitor that goes quiet (reboot, cable, crash) for ``silence_timeout_s``, aborts, or asks
for a release, is associated again from step 1, for as long as ritlink runs.

``IntelliVueLink`` runs a session on a pyserial URL (115200 8N1) with the outward shape of
``SerialLink``; its ``state`` is "connected" only while the association stands, because only
then do vitals flow.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import serial

from devices import intellivue_messages as msg
from devices.intellivue_frame import FrameDecoder, encode_frame
from devices.observation import Observation
from devices.serial_link import SerialLink, _still_present

log = logging.getLogger("ritlink.devices")

BAUDRATE = 115200


@dataclass(frozen=True)
class SessionTimings:
    """Seconds. Keep ``keepalive_interval_s`` well below the monitor's association timeout."""

    poll_interval_s: float = 1.0
    keepalive_interval_s: float | None = 3.0  # None: no keep-alives (only for tests)
    association_retry_s: float = 2.0
    silence_timeout_s: float = 2.5
    release_timeout_s: float = 1.0

    def __post_init__(self) -> None:
        # The monitor answers every poll: silence must last longer than the gap between polls.
        if self.silence_timeout_s <= self.poll_interval_s:
            raise ValueError("silence_timeout_s must be longer than poll_interval_s")


@dataclass
class SessionCounters:
    associations: int = 0
    association_requests: int = 0
    association_losses: int = 0
    refusals: int = 0
    aborts_received: int = 0
    polls_sent: int = 0
    poll_results: int = 0
    keepalives_sent: int = 0
    keepalive_replies: int = 0
    observations: int = 0
    unknown_messages: int = 0
    remote_errors: int = 0
    unmapped_values: int = 0
    unit_mismatches: int = 0
    bad_attributes: int = 0


class IntelliVueSession:
    """The client side of the protocol; never raises on anything the line delivers."""

    def __init__(self, device_id: str, timings: SessionTimings | None = None):
        self.device_id = device_id
        self.timings = timings or SessionTimings()
        self.frames = FrameDecoder()
        self.stats = SessionCounters()
        self.state = "idle"  # idle, associating, awaiting-mds, associated, releasing, released
        self._invoke_id = 0
        self._poll_number = 0
        self._state_since = 0.0
        self._last_rx = 0.0
        self._next_request = 0.0
        self._next_poll = 0.0
        self._next_keepalive = 0.0

    @property
    def associated(self) -> bool:
        return self.state == "associated"

    def start(self, now: float) -> bytes:
        """The port just opened: begin associating (again)."""
        self.frames = FrameDecoder()
        return self._associate(now)

    def feed(self, data: bytes, now: float) -> tuple[list[Observation], bytes]:
        observations: list[Observation] = []
        out = bytearray()
        for user_data in self.frames.feed(data):
            message = msg.decode_message(user_data)
            if message is None:
                self.stats.unknown_messages += 1
                continue
            self._last_rx = now
            if isinstance(message, msg.SessionPdu):
                out += self._on_session(message, now)
            else:
                new, reply = self._on_operation(message, now)
                observations += new
                out += reply
        self.stats.observations += len(observations)
        return observations, bytes(out)

    def tick(self, now: float) -> bytes:
        """Time-driven sends: association retries, polls, keep-alives, loss detection."""
        t = self.timings
        if self.state == "associating" and now >= self._next_request:
            return self._send_association_request(now)
        if self.state == "awaiting-mds" and now - self._state_since > t.silence_timeout_s:
            return self._associate(now)  # accepted, but the MDS never came
        if self.state != "associated":
            return b""
        if now - self._last_rx > t.silence_timeout_s:
            self.stats.association_losses += 1
            log.warning("intellivue %s: monitor silent for %.1f s, associating again",
                        self.device_id, now - self._last_rx)
            return self._associate(now)
        out = bytearray()
        if now >= self._next_poll:
            self._next_poll = max(self._next_poll + t.poll_interval_s, now)
            self._poll_number = (self._poll_number + 1) & 0xFFFF
            out += self._invoke_frame(
                lambda iid: msg.poll_request(iid, self._poll_number, msg.NOM_MOC_VMO_METRIC_NU, extended=True))
            self.stats.polls_sent += 1
        if t.keepalive_interval_s is not None and now >= self._next_keepalive:
            self._next_keepalive = now + t.keepalive_interval_s
            self._poll_number = (self._poll_number + 1) & 0xFFFF
            out += self._invoke_frame(  # keep-alive: a single poll of the MDS object
                lambda iid: msg.poll_request(iid, self._poll_number, msg.NOM_MOC_VMS_MDS, extended=False))
            self.stats.keepalives_sent += 1
        return bytes(out)

    def release(self, now: float) -> bytes:
        """Shutdown: ask the monitor to release the association (nothing to say if there is none)."""
        if self.state not in ("associated", "awaiting-mds"):
            self._set_state("released", now)
            return b""
        self._set_state("releasing", now)
        return encode_frame(msg.RELEASE_REQUEST)

    # --- internals -----------------------------------------------------------------------
    def _set_state(self, state: str, now: float) -> None:
        if state != self.state:
            log.info("intellivue %s: %s -> %s", self.device_id, self.state, state)
            self.state = state
            self._state_since = now

    def _associate(self, now: float) -> bytes:
        self._set_state("associating", now)
        return self._send_association_request(now)

    def _send_association_request(self, now: float) -> bytes:
        self._next_request = now + self.timings.association_retry_s
        self.stats.association_requests += 1
        return encode_frame(msg.association_request(self.timings.poll_interval_s))

    def _invoke_frame(self, build: Callable[[int], bytes]) -> bytes:
        self._invoke_id = (self._invoke_id + 1) & 0xFFFF
        return encode_frame(build(self._invoke_id))

    def _on_session(self, pdu: msg.SessionPdu, now: float) -> bytes:
        if pdu.kind == "associate-accept" and self.state == "associating":
            self._set_state("awaiting-mds", now)
        elif pdu.kind == "associate-refuse" and self.state == "associating":
            self.stats.refusals += 1
            self._next_request = now + self.timings.association_retry_s
        elif pdu.kind == "release-response" and self.state == "releasing":
            self._set_state("released", now)
        elif pdu.kind == "release-request":  # the monitor ends the association
            reply = encode_frame(msg.RELEASE_RESPONSE)
            if self.state == "releasing":
                self._set_state("released", now)
                return reply
            self.stats.association_losses += 1
            return reply + self._associate(now)
        elif pdu.kind == "abort" and self.state in ("associated", "awaiting-mds"):
            self.stats.aborts_received += 1
            self.stats.association_losses += 1
            return self._associate(now)
        return b""

    def _on_operation(self, op: msg.RemoteOperation, now: float) -> tuple[list[Observation], bytes]:
        try:
            if op.ro_type == msg.RO_INVOKE and op.command == msg.CMD_CONFIRMED_EVENT_REPORT:
                return [], self._on_event_report(op, now)
            if op.ro_type in (msg.RO_RESULT, msg.RO_LINKED_RESULT) and op.command == msg.CMD_CONFIRMED_ACTION:
                return self._on_poll_result(op), b""
            if op.ro_type == msg.RO_ERROR:
                self.stats.remote_errors += 1
                return [], b""
        except msg.DecodeError:
            pass
        self.stats.unknown_messages += 1
        return [], b""

    def _on_event_report(self, op: msg.RemoteOperation, now: float) -> bytes:
        report = msg.decode_event_report(op.body)
        reply = encode_frame(msg.event_report_result(op.invoke_id, report))
        if report.event_type == msg.NOM_NOTI_MDS_CREAT and self.state in ("awaiting-mds", "associated"):
            if self.state == "awaiting-mds":
                self.stats.associations += 1
                self._set_state("associated", now)
                self._next_poll = now
                self._next_keepalive = now + (self.timings.keepalive_interval_s or 0.0)
        return reply

    def _on_poll_result(self, op: msg.RemoteOperation) -> list[Observation]:
        reply = msg.decode_poll_reply(op.body)
        if reply.object_type[1] != msg.NOM_MOC_VMO_METRIC_NU:  # the answer to a keep-alive (MDS poll)
            self.stats.keepalive_replies += 1
            return []
        if self.state not in ("associated", "releasing"):
            return []  # a late answer to an association that is gone
        self.stats.poll_results += 1
        observations, counts = msg.numeric_observations(reply, self.device_id)
        for name, count in counts.items():
            setattr(self.stats, name, getattr(self.stats, name) + count)
        return observations

    def counters(self) -> dict[str, int]:
        """Session and framing counters, like ``NoninDecoder.counters()``."""
        values = dict(vars(self.stats))
        values.update(self.frames.counters())
        return values


class IntelliVueLink(SerialLink):
    """A session on a serial port, reopened forever; ``state`` follows the association."""

    def __init__(self, url: str, device_id: str, on_observation: Callable[[Observation], None],
                 on_state: Callable[[str], None] = lambda state: None, timings: SessionTimings | None = None,
                 clock: Callable[[], float] = time.monotonic):
        super().__init__(url, on_bytes=lambda data: None, on_state=on_state, baudrate=BAUDRATE, name=device_id)
        self.session = IntelliVueSession(device_id, timings)
        self.decoder = self.session  # counters for status pages and the tester CLI, as on SerialLink
        self._on_observation = on_observation
        self._clock = clock

    def _set_state(self, state: str) -> None:
        # SerialLink reports the port; an open port without an association carries no vitals.
        if state == "disconnected" or self.session.associated:
            super()._set_state(state)

    def _read_until_error(self, port) -> None:
        session = self.session
        port.timeout = 0.05
        port.write_timeout = 1.0  # a stuck line must not hang the loop (SerialTimeoutException reconnects)
        port.write(session.start(self._clock()))
        idle_since = self._clock()
        while not self._stop.is_set():
            data = port.read(port.in_waiting or 1)
            now = self._clock()
            if data:
                idle_since = now
                self._feed(port, data, now)
            elif not _still_present(self.url) and now - idle_since > 0.5:
                raise serial.SerialException("device path is gone")
            out = session.tick(now)
            if out:
                port.write(out)
            self._set_state("connected" if session.associated else "disconnected")
        self._release(port)

    def _release(self, port) -> None:
        """Stopping: release the association, wait briefly for the monitor's answer."""
        port.write(self.session.release(self._clock()))
        deadline = self._clock() + self.session.timings.release_timeout_s
        while self.session.state == "releasing" and self._clock() < deadline:
            data = port.read(port.in_waiting or 1)
            if data:
                self._feed(port, data, self._clock())

    def _feed(self, port, data: bytes, now: float) -> None:
        observations, reply = self.session.feed(data, now)
        if reply:
            port.write(reply)
        for observation in observations:
            self._on_observation(observation)


def open_intellivue(url: str, device_id: str, on_observation: Callable[[Observation], None],
                    on_state: Callable[[str], None] = lambda state: None,
                    timings: SessionTimings | None = None) -> IntelliVueLink:
    """Start reading an IntelliVue monitor; every decoded observation goes to ``on_observation``."""
    return IntelliVueLink(url, device_id, on_observation, on_state, timings).start()
