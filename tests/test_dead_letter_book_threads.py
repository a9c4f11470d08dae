"""The SEH's network thread and apply thread both add to one DeadLetterBook: no count is lost."""

from __future__ import annotations

import sys
import threading

from edge.wire.dead_letter import DeadLetterBook

THREADS, EACH = 8, 5_000


def test_counts_from_several_threads_add_up():
    book = DeadLetterBook(keep=lambda letter: None, stored_count=lambda: 0)
    failing = DeadLetterBook(keep=lambda letter: 1 / 0, stored_count=lambda: 0)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: a lost update shows
    try:
        def work() -> None:
            for _ in range(EACH):
                book.add("t", b"x", "malformed: not JSON")
                failing.add("t", b"x", "too_large: big")
        threads = [threading.Thread(target=work) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        sys.setswitchinterval(previous)
    assert book.refused == {"malformed": THREADS * EACH}
    assert failing.unstored == THREADS * EACH and failing.count() == THREADS * EACH
