"""The refused-message bookkeeping both receivers share (edge/wire/dead_letter.py)."""

from __future__ import annotations

import hashlib

from edge.wire.dead_letter import DeadLetter, DeadLetterBook, reason_code


def test_it_counts_by_reason_and_keeps_only_the_trace():
    kept: list[DeadLetter] = []
    book = DeadLetterBook(kept.append, lambda: len(kept))
    payload = b'{"patient": "never in a table"}'
    book.add("ritlink/v1/x", payload, "too_deep: nesting over 32")
    book.add("ritlink/v1/x", b"\xff" * 10**6, "too_large: 1000000 bytes")
    book.add("ritlink/v1/x", b"", "too_deep: again")
    assert book.refused == {"too_deep": 2, "too_large": 1} and book.count() == 3
    assert kept[0].payload_sha256 == hashlib.sha256(payload).hexdigest() and kept[0].size == len(payload)
    assert reason_code("") == "unknown"


def test_a_store_that_fails_is_counted_never_raised():
    def full(_letter):
        raise OSError("database or disk is full")

    def broken_count():
        raise OSError("gone")

    book = DeadLetterBook(full, broken_count)
    book.add("t" * 10_000, b"x", "r" * 10_000)  # hostile sizes are cut, not refused
    assert book.unstored == 1 and book.count() == 1 and book.refused == {"r" * 40: 1}
