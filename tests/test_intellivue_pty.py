"""IntelliVue driver against the simulated monitor through a real pty (115200 8N1 link)."""

from __future__ import annotations

import threading
import time

import pytest

from devices.intellivue import SessionTimings, open_intellivue
from simulators.intellivue import IntelliVueSimulator, run_intellivue_sim
from tests.harness.waiting import wait_until

FAST = SessionTimings(poll_interval_s=0.5, keepalive_interval_s=1.0, association_retry_s=0.4, silence_timeout_s=1.5)
VALUES_PER_POLL = 9  # stable_patient sends every parameter the driver knows


def _assert_exactly_what_was_sent(received, sent) -> None:
    got = [(o.code, o.value, o.unit) for o in received]
    assert got == sent[: len(got)]  # none invented, none changed, none lost, in order
    assert len(sent) - len(got) <= VALUES_PER_POLL  # at most the answer in flight at the stop


def test_reboot_reassociation_garbage_and_release_over_a_pty(tmp_path):
    """Through ``run_intellivue_sim`` (what ``ritlink sim monitor --protocol intellivue`` runs)."""
    link_path = tmp_path / "intellivue"
    stop = threading.Event()
    ready: list[IntelliVueSimulator] = []
    result: list = []
    runner = threading.Thread(target=lambda: result.append(run_intellivue_sim(
        link_path, stop, reboot_after_s=2.5, reboot_quiet_s=1.0, association_timeout_s=3.0, garbage_rate=0.3,
        on_ready=ready.append, max_objects_per_result=4, seed=7)), daemon=True)
    runner.start()
    sim = wait_until(lambda: ready and ready[0], timeout=3, what="simulator")
    received, states = [], []
    link = open_intellivue(str(link_path), "mon-1", received.append, states.append, FAST)
    try:
        wait_until(lambda: link.session.stats.associations == 2, timeout=10, what="association after the reboot")
        batches = sim.monitor.sent_batches
        wait_until(lambda: sim.monitor.sent_batches >= batches + 3, timeout=5, what="polling after the reboot")
    finally:
        link.stop()
        stop.set()
        runner.join(3)
    assert result[0].reboots == 1 and result[0].releases == 1  # released on shutdown
    assert not link_path.exists()  # the simulator unplugged its pty
    assert states == ["connected", "disconnected", "connected", "disconnected"]
    assert link.session.stats.association_losses == 1
    assert sim.garbage_bytes > 0 and link.session.frames.garbage_bytes > 0
    _assert_exactly_what_was_sent(received, sim.monitor.sent)


@pytest.mark.serial
def test_cable_pull_shows_disconnected_within_3_s_and_replug_resumes(pty_device):
    device = pty_device("intellivue")
    sim = IntelliVueSimulator(device).start()
    received, states = [], []
    link = open_intellivue(str(device.link), "mon-1", received.append, states.append, FAST)
    try:
        wait_until(lambda: link.state == "connected" and received, timeout=5, what="first values")
        pulled = time.monotonic()
        device.unplug()
        wait_until(lambda: link.state == "disconnected", timeout=3, what="monitor shown as not connected")
        assert time.monotonic() - pulled < 3
        before, sent_before = len(received), len(sim.monitor.sent)
        device.plug()
        wait_until(lambda: link.state == "connected" and len(received) >= before + 2 * VALUES_PER_POLL,
                   timeout=6, what="values after replug")
    finally:
        link.stop()
        sim.stop()
    assert link.session.stats.associations == 2
    after = [(o.code, o.value, o.unit) for o in received[before:]]
    assert after == sim.monitor.sent[sent_before : sent_before + len(after)]


@pytest.mark.slow  # mostly waiting, with wide margins (3 s keep-alives, 10 s timeout): runs in the parallel pass
def test_sixty_seconds_of_polling_across_keepalive_periods(pty_device):
    """The acceptance run with the driver's defaults: one association for >= 60 s of 1 Hz polls
    while the monitor's 10 s association timeout passes six times and a keep-alive goes out
    every 3 s. (That keep-alives alone hold an association when polls are rarer than the
    timeout is shown on a simulated clock in test_intellivue_session.py.)"""
    device = pty_device("intellivue")
    sim = IntelliVueSimulator(device, association_timeout_s=10.0).start()
    received, states = [], []
    link = open_intellivue(str(device.link), "mon-1", received.append, states.append)
    try:
        wait_until(lambda: link.state == "connected", timeout=5, what="association")
        started = time.monotonic()
        for _ in range(62):  # bounded: fail at the first lost association
            if time.monotonic() - started >= 60.5:
                break
            time.sleep(1.0)
            assert link.session.stats.association_losses == 0
        elapsed = time.monotonic() - started
    finally:
        link.stop()
        sim.stop()
    counters = sim.monitor.counters
    assert elapsed >= 60 and elapsed >= 5 * sim.monitor.association_timeout_s
    assert counters.associations == 1 and counters.association_timeouts == 0
    assert counters.keepalives >= 19 and link.session.stats.keepalive_replies >= 19
    assert sim.monitor.sent_batches >= 59
    assert states == ["connected", "disconnected"]
    _assert_exactly_what_was_sent(received, sim.monitor.sent)
