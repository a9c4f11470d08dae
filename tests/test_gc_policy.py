"""The SEH receiver's garbage-collector policy (ritlink/gc_policy.py): start-up objects frozen,
no automatic full collection, a full collection on a timer that does free cyclic garbage."""

from __future__ import annotations

import gc
import weakref

from ritlink.gc_policy import FULL_COLLECTION_OFF, TimedFullCollection
from tests.harness.waiting import wait_until


class _Node:
    def __init__(self):
        self.me = self  # a cycle: only a collection frees it


def _old_cycle_garbage() -> weakref.ref:
    """A cycle that has reached the oldest generation, then became garbage."""
    node = _Node()
    gc.collect(1)  # it survives two young collections: now in generation 2
    gone = weakref.ref(node)
    del node
    return gone


def test_no_automatic_full_collection_between_timed_passes():
    collector = TimedFullCollection(every_s=3600).start()
    try:
        gone = _old_cycle_garbage()
        junk = [[object()] for _ in range(200_000)]  # young collections run; no full one is due
        del junk
        assert gone() is not None
    finally:
        collector.stop()


def test_the_timer_frees_cyclic_garbage_and_stop_restores_the_defaults():
    before = gc.get_threshold()
    collector = TimedFullCollection(every_s=0.2).start()
    try:
        assert gc.get_threshold()[2] == FULL_COLLECTION_OFF
        assert gc.get_freeze_count() > 0  # what start-up made is never walked again
        gone = _old_cycle_garbage()
        wait_until(lambda: gone() is None, 5, what="the timed full collection freeing a cycle")
        wait_until(lambda: collector.passes >= 1, 5, what="a timed pass")
        status = collector.status()
        assert status["full_passes"] >= 1 and status["thresholds"][2] == FULL_COLLECTION_OFF
    finally:
        collector.stop()
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_the_seh_process_runs_with_the_policy(broker, seh_process):
    status = seh_process().get("/-/status").json()["gc"]
    assert status["thresholds"][2] == FULL_COLLECTION_OFF, status
    assert status["frozen"] > 10_000, status  # frameworks and templates, frozen after start-up
    assert status["full_every_s"] == 600
