"""Back-off and lock-out for sign-ins: a guesser waits, the crew barely notices a typo.

After the n-th failure in a row the next attempt is refused unchecked for
``BASE_S * 2**(n-1)`` seconds (capped); the ``LOCK_AFTER``-th failure locks for
``LOCK_S``. While waiting or locked even the right PIN is refused, so guessing cannot be
sped up by parallel requests. A success clears the count. ``now`` is injectable: the tests
move the clock instead of sleeping minutes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

BASE_S = 1.0
MAX_BACKOFF_S = 30.0
LOCK_AFTER = 10
LOCK_S = 300.0


@dataclass
class _Record:
    failures: int = 0
    blocked_until: float = 0.0


class SignInGuard:
    def __init__(self, now: Callable[[], float] = time.monotonic):
        self.now = now
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str = "") -> float:
        """Seconds until ``key`` may try again (0: now)."""
        with self._lock:
            record = self._records.get(key)
            return max(0.0, record.blocked_until - self.now()) if record else 0.0

    def failed(self, key: str = "") -> float:
        """Count one failure; returns the seconds the next attempt must wait."""
        with self._lock:
            record = self._records.setdefault(key, _Record())
            record.failures += 1
            if record.failures >= LOCK_AFTER:
                delay = LOCK_S
                record.failures = 0  # after the lock the back-off starts again from the beginning
            else:
                delay = min(BASE_S * 2 ** (record.failures - 1), MAX_BACKOFF_S)
            record.blocked_until = self.now() + delay
            return delay

    def succeeded(self, key: str = "") -> None:
        with self._lock:
            self._records.pop(key, None)
