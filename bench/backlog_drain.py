"""Draining an hour offline: one change every 10 s plus monitor vitals accepted every 5 min,
saved while the broker is unreachable, then the link comes back. Prints the time until the SEH
has it all and the bytes on the wire, against sending a full snapshot for every change.

    .venv/bin/python bench/backlog_drain.py
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rig import edge, start_broker_and_seh, vital, wait_delivered  # noqa: E402
from edge.wire.canonical import canonical_json  # noqa: E402

HOUR_S, CHANGE_EVERY_S, VITALS_EVERY_S = 3600, 10, 300


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="ritlink-bench-") as tmp:
        work = Path(tmp)
        broker, seh = start_broker_and_seh(work)
        try:
            store, sync = edge(work, broker, "ambu-backlog")
            rit_id = store.create_rit("ambu-backlog", "seh-umcu", "A1")
            sync.start()
            wait_delivered(store, store.announce(rit_id))  # the SEH has the vooraankondiging
            sync.stop()
            store, sync = edge(work, broker, "ambu-backlog")  # the same tablet, now offline
            snapshot_bytes = 0
            # Offline: the sync is not running, so everything saved waits in the outbox.
            for t in range(0, HOUR_S, CHANGE_EVERY_S):
                entries = [vital(90 + (t // CHANGE_EVERY_S) % 10)]
                if t % VITALS_EVERY_S == 0:
                    entries += [{**vital(70), "data": {"code": 149530, "label": "PR", "value": 70.0 + t % 7,
                                                       "unit": "/min"}, "source": "device:monitor"}]
                form = store.add_entries(rit_id, entries)
                snapshot_bytes += len(canonical_json(form))
            changes = HOUR_S // CHANGE_EVERY_S
            pending = store.query("SELECT msg_id, length(body_json) AS n FROM outbox WHERE rit_id = ? AND seq > 1",
                                  [rit_id])
            wire_bytes = sum(row["n"] for row in pending)
            started = time.perf_counter()
            sync.start()
            drained = [wait_delivered(store, row["msg_id"], 60) for row in pending]
            seconds = time.perf_counter() - started
            sync.stop()
            at_seh = seh.get(f"/api/v1/rits/{rit_id}").json()
            same = at_seh["form_sha256"] == store.rit(rit_id)["form_sha256"]
        finally:
            seh.stop()
            broker.stop()
    print(f"one hour offline: {changes} changes saved, {len(pending)} message(s) waiting after coalescing")
    print(f"  drain time (link back -> SEH confirmed all): {seconds * 1000:.0f} ms; all delivered: "
          f"{all(d is not None for d in drained)}; hashes equal: {same}")
    print(f"  bytes of form data on the wire: {wire_bytes:,} (one coalesced merge patch)")
    print(f"  a full snapshot per change would be: {snapshot_bytes:,} bytes ({snapshot_bytes / max(wire_bytes, 1):.0f}x)")
    print(f"  final form size: {len(json.dumps(at_seh['form'])):,} bytes")


if __name__ == "__main__":
    main()
