"""The IntelliVue client session against the simulated monitor, in memory on a simulated clock.

Both sides are pure logic, so minutes of protocol run in milliseconds and every timing is exact.
"""

from __future__ import annotations

import pytest

from devices import intellivue_messages as msg
from devices.intellivue import IntelliVueSession, SessionTimings
from devices.intellivue_frame import FrameDecoder, encode_frame
from devices.observation import MDC_HEART_RATE, MDC_SPO2
from simulators.intellivue import IntelliVueMonitor, numeric_objects, poll_result


class Wire:
    """A session and a simulated monitor connected back to back."""

    def __init__(self, timings: SessionTimings | None = None, **monitor_options):
        self.session = IntelliVueSession("mon-1", timings or SessionTimings())
        self.monitor = IntelliVueMonitor(start=0.0, **monitor_options)
        self.now = 0.0
        self.observations = []
        self.client_messages = []  # what the client sent, decoded, in order
        self._client_frames = FrameDecoder()
        self.to_monitor = self._sent(self.session.start(0.0))

    def _sent(self, data: bytes) -> bytes:
        self.client_messages += [msg.decode_message(f) for f in self._client_frames.feed(data)]
        return data

    def run(self, seconds: float, step: float = 0.01) -> None:
        end = self.now + seconds
        while self.now < end:
            to_client = self.monitor.feed(self.to_monitor, self.now) + self.monitor.tick(self.now)
            observations, reply = self.session.feed(to_client, self.now)
            self.observations += observations
            self.to_monitor = self._sent(reply + self.session.tick(self.now))
            self.now = round(self.now + step, 6)

    def received(self) -> list[tuple]:
        return [(o.code, o.value, o.unit) for o in self.observations]


def _kinds(messages) -> list[str]:
    kinds = []
    for m in messages:
        if isinstance(m, msg.SessionPdu):
            kinds.append(m.kind)
        elif m.command == msg.CMD_CONFIRMED_EVENT_REPORT:
            kinds.append("mds-create-result")
        else:
            kinds.append("ext-poll" if msg.decode_poll_request(m.body).action_type == msg.NOM_ACT_POLL_MDIB_DATA_EXT
                         else "keep-alive")
    return kinds


def test_association_dialogue_in_the_guides_order():
    wire = Wire()
    wire.run(3.5)
    kinds = _kinds(wire.client_messages)
    assert kinds[:3] == ["associate-request", "mds-create-result", "ext-poll"]
    assert kinds.count("keep-alive") == 1  # at 3 s
    assert wire.session.state == "associated" and wire.session.stats.associations == 1
    assert (wire.monitor.counters.associations, wire.monitor.counters.mds_create_results) == (1, 1)
    counters = wire.session.counters()  # what the tester CLI shows, as for the other drivers
    assert counters["associations"] == 1 and counters["frames_ok"] >= 6 and counters["fcs_errors"] == 0


def test_every_value_sent_is_received_once_with_code_value_and_unit():
    wire = Wire(max_objects_per_result=2)  # forces linked results
    wire.run(30)
    assert wire.monitor.sent_batches >= 30
    assert wire.received() == wire.monitor.sent
    assert {o.device_id for o in wire.observations} == {"mon-1"}
    assert wire.session.stats.poll_results > wire.monitor.sent_batches  # several linked parts per poll


def test_simulator_skips_codes_it_cannot_send():
    wire = Wire(values=lambda t: {MDC_HEART_RATE: 70, 999999: 1.0})
    wire.run(3)
    assert wire.monitor.counters.unknown_codes == wire.monitor.sent_batches > 0
    assert set(wire.received()) == {(MDC_HEART_RATE, 70, "/min")}


def test_polls_follow_the_interval():
    wire = Wire(SessionTimings(poll_interval_s=0.5, silence_timeout_s=1.5))
    wire.run(20.005)  # associated at t=0: polls at 0, 0.5, ... 20.0
    assert wire.session.stats.polls_sent == 41
    wire.run(0.01)  # the monitor reads the last one
    assert wire.monitor.counters.polls_answered == 41


def test_keepalive_holds_the_association_when_polls_are_rarer_than_the_monitor_timeout():
    # The monitor gives up after 2 s of silence; polls go every 5 s, so only keep-alives save it.
    timings = SessionTimings(poll_interval_s=5.0, keepalive_interval_s=0.6, silence_timeout_s=6.0)
    wire = Wire(timings, association_timeout_s=2.0)
    wire.run(60)
    assert wire.monitor.counters.association_timeouts == 0
    assert wire.monitor.counters.associations == 1 and wire.session.stats.association_losses == 0
    assert wire.monitor.counters.keepalives >= 95  # 60 s / 0.6 s
    assert wire.session.stats.keepalive_replies == wire.monitor.counters.keepalives
    assert wire.received() == wire.monitor.sent


def test_without_keepalive_the_monitor_aborts_and_the_session_associates_again():
    timings = SessionTimings(poll_interval_s=5.0, keepalive_interval_s=None, silence_timeout_s=6.0)
    wire = Wire(timings, association_timeout_s=2.0)
    wire.run(30)
    assert wire.monitor.counters.association_timeouts >= 2
    assert wire.session.stats.aborts_received == wire.monitor.counters.association_timeouts
    assert wire.session.stats.associations == wire.monitor.counters.associations >= 3
    assert wire.received() == wire.monitor.sent  # values still flow between the aborts


def test_monitor_reboot_leads_to_a_new_association_without_restart():
    wire = Wire(reboot_quiet_s=3.0)
    wire.run(5)
    before = len(wire.observations)
    wire.monitor.reboot(wire.now)
    wire.run(3)
    assert wire.session.state == "associating"  # silent monitor noticed after 2.5 s
    wire.run(7)
    assert wire.session.stats.association_losses == 1
    assert wire.session.stats.associations == wire.monitor.counters.associations == 2
    assert len(wire.observations) > before + 9 * 5  # values flow again
    assert wire.received() == wire.monitor.sent


def test_refused_association_is_retried():
    wire = Wire(refuse=True)
    wire.run(5)
    assert wire.session.stats.refusals >= 2 and wire.session.state == "associating"
    wire.monitor.refuse = False
    wire.run(3)
    assert wire.session.state == "associated"


def test_release_on_shutdown():
    wire = Wire()
    wire.run(2)
    release = wire.session.release(wire.now)
    assert msg.decode_message(FrameDecoder().feed(release)[0]).kind == "release-request"
    wire.to_monitor = release
    wire.run(0.05)
    assert wire.session.state == "released"
    assert wire.monitor.counters.releases == 1 and wire.monitor.state == "unassociated"


def test_release_without_association_sends_nothing():
    session = IntelliVueSession("mon-1")
    session.start(0.0)
    assert session.release(0.1) == b"" and session.state == "released"


def test_monitor_release_request_is_answered_then_associated_again():
    wire = Wire()
    wire.run(2)
    _, reply = wire.session.feed(encode_frame(msg.RELEASE_REQUEST), wire.now)
    assert [m.kind for m in map(msg.decode_message, FrameDecoder().feed(reply))] == [
        "release-response", "associate-request"]


def test_accept_without_mds_create_event_is_tried_again():
    session = IntelliVueSession("mon-1")
    session.start(0.0)
    from simulators.intellivue import association_response

    session.feed(encode_frame(association_response()), 0.1)
    assert session.state == "awaiting-mds" and session.tick(2.0) == b""
    again = session.tick(2.7)
    assert msg.decode_message(FrameDecoder().feed(again)[0]).kind == "associate-request"


def test_late_poll_result_of_a_lost_association_is_not_used():
    wire = Wire()
    wire.run(2)
    wire.session.feed(encode_frame(msg.ABORT), wire.now)
    assert wire.session.state == "associating"
    late = poll_result(1, 1, msg.NOM_MOC_VMO_METRIC_NU, numeric_objects({MDC_HEART_RATE: 99, MDC_SPO2: 90}), 0,
                       wire.monitor.clock(wire.now))
    observations, _ = wire.session.feed(encode_frame(late), wire.now)
    assert observations == []


def test_silence_timeout_must_exceed_the_poll_interval():
    with pytest.raises(ValueError):
        SessionTimings(poll_interval_s=2.0, silence_timeout_s=2.0)
