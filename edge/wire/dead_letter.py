"""A refused message as a receiver keeps it: where it came from and why, never what it said.

Both receivers (the SEH's and the tablet's) store one row per refused message in their own
``dead_letters`` table, so a technician can count and trace them (by the payload's SHA-256,
which the sender can compute too) without the patient data ever reaching a log or a table.
"""

from __future__ import annotations

import hashlib
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
