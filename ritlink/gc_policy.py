"""Garbage-collector policy for a long-running receiver process (``ritlink seh``).

Why: CPython's full (generation 2) collection walks every tracked object while holding the
GIL. The SEH receiver keeps the current form of every active rit in memory (seh/store.py's
FormCache), and each applied patch makes new objects that live on; so the automatic full
collection ran every few seconds at national load and took 50-65 ms each time on this
machine class, and every message in that window waited (bench/national_load.py: p99 56-73
ms with the stalls, 4-5 ms without).

What: after start-up, the objects made by imports (frameworks, templates) are frozen
(``gc.freeze``: never walked again); young generations are collected as usual, so short
cycles are still freed at once; the automatic full collection is effectively off, and a
full collection runs on a timer instead (default every 10 minutes): one pause of tens of
ms per interval, not one every few seconds. Objects without cycles are freed by reference
counting either way; only cyclic garbage that survived two young collections waits for the
timer.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

log = logging.getLogger(__name__)

# The third threshold counts young (generation 1) collections between full ones; this makes
# the automatic full collection practically never due.
YOUNG_THRESHOLDS = (700, 10)
FULL_COLLECTION_OFF = 1_000_000
FULL_EVERY_S = 600.0


class TimedFullCollection:
    """Freeze what start-up made, turn the automatic full collection off, run one on a timer."""

    def __init__(self, every_s: float = FULL_EVERY_S):
        self.every_s = every_s
        self.passes = 0
        self.last_ms = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gc-full", daemon=True)
        self._saved = gc.get_threshold()

    def start(self) -> TimedFullCollection:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*YOUNG_THRESHOLDS, FULL_COLLECTION_OFF)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.every_s):
            self.collect()

    def collect(self) -> int:
        started = time.perf_counter()
        found = gc.collect()
        self.last_ms = (time.perf_counter() - started) * 1000
        self.passes += 1
        log.debug("full collection: %d unreachable objects in %.1f ms", found, self.last_ms)
        return found

    def status(self) -> dict:
        """For /-/status: the thresholds in force, the frozen start-up objects, the timed passes."""
        return {"thresholds": list(gc.get_threshold()), "frozen": gc.get_freeze_count(),
                "full_every_s": self.every_s, "full_passes": self.passes, "last_full_ms": round(self.last_ms, 1)}

    def stop(self) -> None:
        """Back to the interpreter's defaults (used by tests; a process just exits)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        gc.unfreeze()
        gc.set_threshold(*self._saved)
