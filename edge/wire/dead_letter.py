"""A refused message as a receiver keeps it: where it came from and why, never what it said.

Both receivers (the SEH's and the tablet's) store one row per refused message in their own
``dead_letters`` table, so a technician can count and trace them (by the payload's SHA-256,
which the sender can compute too) without the patient data ever reaching a log or a table.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from edge.wire.contract import utc_now

TABLE_SQL = """CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    reason TEXT NOT NULL,
    received_at TEXT NOT NULL
)"""
INSERT_SQL = ("INSERT INTO dead_letters (topic, payload_sha256, size, reason, received_at)"
              " VALUES (?, ?, ?, ?, ?)")
MAX_TOPIC = 256
MAX_REASON = 200


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    payload_sha256: str
    size: int
    reason: str
    received_at: str

    @classmethod
    def of(cls, topic: str, payload: bytes | bytearray | memoryview, reason: str) -> DeadLetter:
        data = bytes(payload)
        return cls(topic[:MAX_TOPIC], hashlib.sha256(data).hexdigest(), len(data), reason[:MAX_REASON], utc_now())

    def row(self) -> list:
        return [self.topic, self.payload_sha256, self.size, self.reason, self.received_at]


def reason_code(reason: str) -> str:
    """``"too_deep: nesting over 32"`` -> ``"too_deep"``: what counters and logs group by."""
    return reason.split(":", 1)[0].strip().replace(" ", "_")[:40] or "unknown"


class DeadLetterBook:
    """A receiver's bookkeeping of refused messages (the tablet's sender and the SEH's receiver
    share it): counts by reason code since the process started, each trace handed to ``keep``
    (the store's ``dead_letter``), and the traces the store could not keep (e.g. a full disk).
    ``add`` and ``count`` never raise: a receiver's handler must return whatever happens."""

    def __init__(self, keep: Callable[[DeadLetter], object], stored_count: Callable[[], int],
                 log: logging.Logger | None = None):
        self._keep = keep
        self._stored_count = stored_count
        self._log = log or logging.getLogger(__name__)
        self.refused: dict[str, int] = {}  # by reason code, since this process started
        self.unstored = 0  # traces the store could not keep
        # The SEH adds from its network thread and its apply thread: a count is read and written.
        self._lock = threading.Lock()

    def add(self, topic: str, payload: bytes, reason: str) -> None:
        """Keep a refused message's trace (topic, hash, size, reason); never raises."""
        code = reason_code(reason)
        with self._lock:
            self.refused[code] = self.refused.get(code, 0) + 1
        try:
            self._keep(DeadLetter.of(topic, payload, reason))
        except Exception as exc:
            with self._lock:
                self.unstored += 1
            self._log.error("dead letter not stored: %s", type(exc).__name__)

    def count(self) -> int:
        """Stored dead letters plus the ones the store could not keep."""
        try:
            return self._stored_count() + self.unstored
        except Exception:
            return self.unstored
