"""SEH storage per update: 2,000 updates to one rit and 2,000 spread over 200 rits, applied by
the SEH's store; the database's bytes per update beside the average patch size (the message
body) of the same run. Versions are stored as the messages that made them, so the ratio
should stay near 1-2x however long a rit grows (issue: storage that stays bounded).

    .venv/bin/python bench/seh_storage.py [--updates 2000] [--rits 200] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report as report  # noqa: E402
from bench._seh_messages import RitStream, wire  # noqa: E402
from edge.wire.canonical import form_sha256  # noqa: E402
from edge.wire.contract import parse_envelope  # noqa: E402
from seh.store import SehStore  # noqa: E402

BENCH = "seh_storage"


def db_bytes(store: SehStore) -> int:
    """Bytes the database file holds once the WAL is folded in, free pages not counted."""
    with store.lock:
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages, free, size = (store.db.execute(f"PRAGMA {p}").fetchone()[0]
                             for p in ("page_count", "freelist_count", "page_size"))
    return (pages - free) * size


def run(work: Path, name: str, updates: int, rits: int) -> tuple[float, float, float, int]:
    """(bytes per update, average patch bytes, seconds, rebuild check) for one layout."""
    store = SehStore(work / f"{name}.db", "seh-umcu")
    empty = db_bytes(store)
    streams = [RitStream(f"ambu-{i}", seed=i) for i in range(rits)]
    patch_bytes = 0
    started = time.perf_counter()
    for stream in streams:
        store.apply(parse_envelope(wire(stream.snapshot())))
    sent = {}
    for n in range(updates):
        stream = streams[n % rits]
        message = stream.update()
        patch_bytes += len(json.dumps(message["body"], separators=(",", ":")))
        assert store.apply(parse_envelope(wire(message)))[0].type == "delivered"
        sent[(stream.rit_id, message["seq"])] = message["form_sha256"]
    seconds = time.perf_counter() - started
    # The check that keeps the figure honest: a version from the middle rebuilds to its hash.
    (rit_id, seq), sha = list(sent.items())[len(sent) // 2]
    assert form_sha256(store.version_form(rit_id, seq)) == sha, "rebuilt version does not match its hash"
    per_update = (db_bytes(store) - empty) / updates
    store.close()
    return per_update, patch_bytes / updates, seconds, updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--rits", type=int, default=200)
    report.add_common_args(parser)
    args = parser.parse_args()
    updates, rits = (200, 20) if args.smoke else (args.updates, args.rits)
    rows = []
    with tempfile.TemporaryDirectory(prefix="seh-storage-") as tmp:
        for name, count in (("one rit", 1), (f"{rits} rits", rits)):
            per_update, patch, seconds, n = run(Path(tmp), name.replace(" ", "-"), updates, count)
            print(f"{name}: {n} updates in {seconds:.1f} s, {per_update:.0f} B/update, patch {patch:.0f} B")
            rows.append(report.single(BENCH, f"SEH database bytes per update, {n} updates to {name}", per_update,
                                      "B", "average patch (message body) size", patch))
    report.emit(rows, args.results)


if __name__ == "__main__":
    main()
