"""What one message costs the SEH receiver, and whether that grows with the form or with the
stored history: handling one update (parse, check, apply, hash, commit) at 10 and at 500
entries in the form, beside one fsynced SQLite commit; and the periodic gap watch with 10k
and 1M stored messages, beside each other (issue: an SEH receiver that degrades gracefully).

    .venv/bin/python bench/seh_apply.py [--stored 10000 1000000] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report as report  # noqa: E402
from bench._seh_messages import RitStream, wire  # noqa: E402
from seh.receiver import SehReceiver  # noqa: E402
from seh.store import SehStore  # noqa: E402

BENCH = "seh_apply"


def handle_times(work: Path, sizes: tuple[int, ...], updates: int) -> dict[int, list[float]]:
    """ms per update handled by the receiver's own path (no broker: handle() of one message),
    for forms of each size, interleaved so that every size sees the same machine load."""
    rigs = []
    for entries in sizes:
        store = SehStore(work / f"apply-{entries}.db", "seh-umcu")
        receiver = SehReceiver(store, "seh-umcu", "127.0.0.1", 1)  # never started: handle() only
        stream = RitStream("ambu-1", seed=entries)
        stream.grow(entries)
        topic = f"ritlink/v1/seh/seh-umcu/from/ambu-1/rit/{stream.rit_id}"
        receiver.handle(topic, wire(stream.snapshot()))
        rigs.append((entries, store, receiver, stream, topic))
    samples: dict[int, list[float]] = {entries: [] for entries in sizes}
    for _ in range(updates):
        for entries, _, receiver, stream, topic in rigs:
            payload = wire(stream.update())
            started = time.perf_counter()
            answer = receiver.handle(topic, payload)
            samples[entries].append((time.perf_counter() - started) * 1000)
            assert answer and answer[0].type == "delivered", answer
    for _, store, *_ in rigs:
        store.close()
    return samples


def commit_times(work: Path, count: int) -> list[float]:
    store = SehStore(work / "commit.db", "seh-umcu")
    samples = []
    for i in range(count):
        started = time.perf_counter()
        with store.write() as db:
            db.execute("INSERT INTO seh_resyncs (rit_id, requested_at) VALUES (?, 'x')", [f"r{i}"])
        samples.append((time.perf_counter() - started) * 1000)
    store.close()
    return samples


def gap_watch_times(work: Path, stored: int, calls: int) -> list[float]:
    """ms per gap-watch pass over a database with ``stored`` applied messages (and a tenth as
    many refused ones) and a few held."""
    store = SehStore(work / f"gaps-{stored}.db", "seh-umcu")
    with store.write() as db:
        rows = ((f"r{i // 50}", i % 50 + 1, str(uuid.UUID(int=i)), b"\x01\x03\x00", b"\x00" * 32)
                for i in range(stored))
        db.conn.executemany("INSERT INTO seh_versions (rit_id, seq, msg_id, status, kind, body, form_sha256,"
                            " applied_at) VALUES (?, ?, ?, 'update', 'patch', ?, ?, '2026-01-01T00:00:00.000Z')",
                            rows)
        # Refused and superseded messages stay in seh_messages (one in ten here), beside the held:
        # the gap watch must find the held ones without reading the others.
        db.conn.executemany("INSERT INTO seh_messages (msg_id, rit_id, vehicle_id, seq, outcome, reply_topic,"
                            " received_at) VALUES (?, ?, 'ambu-1', 1, 'rejected', 't', '2026-01-01T00:00:00.000Z')",
                            ((str(uuid.UUID(int=stored + i)), f"r{i // 50}") for i in range(stored // 10)))
        db.conn.executemany("INSERT INTO seh_messages (msg_id, rit_id, vehicle_id, seq, outcome, reply_topic,"
                            " received_at) VALUES (?, ?, 'ambu-1', 99, 'held', 't', strftime('%Y-%m-%dT%H:%M:%fZ'))",
                            ((str(uuid.uuid4()), f"held-{i}") for i in range(5)))
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        store.stalled_rits(3.0, instance="bench", caught_up_at="2000-01-01T00:00:00.000Z")
        samples.append((time.perf_counter() - started) * 1000)
    store.close()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stored", type=int, nargs=2, default=[10_000, 1_000_000])
    parser.add_argument("--updates", type=int, default=300)
    report.add_common_args(parser)
    args = parser.parse_args()
    small_stored, large_stored = (1_000, 10_000) if args.smoke else args.stored
    updates = 30 if args.smoke else args.updates
    with tempfile.TemporaryDirectory(prefix="seh-apply-") as tmp:
        work = Path(tmp)
        commits = commit_times(work, updates)
        handled = handle_times(work, (10, 500), updates)
        at_10, at_500 = handled[10], handled[500]
        small = gap_watch_times(work, small_stored, updates)
        large = gap_watch_times(work, large_stored, updates)
    rows = [
        report.latency(BENCH, "SEH handles one update, form of 10 entries", at_10, "one fsynced SQLite commit",
                       commits),
        report.latency(BENCH, "SEH handles one update, form of 500 entries", at_500, "the same at 10 entries", at_10),
        report.latency(BENCH, f"gap watch pass, {large_stored:,} stored messages", large,
                       f"the same at {small_stored:,}", small),
    ]
    report.emit(rows, args.results)


if __name__ == "__main__":
    main()
