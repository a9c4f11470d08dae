"""Benchmark: "add one entry -> form and hash updated" on a rit that already has 500 entries.

Prints p50/p99 in milliseconds for the full service path (validation, SQLite commit with
synchronous=FULL, outbox, access log) in three stream situations beside a raw SQLite commit
of one row in the same folder (same pragmas), the pure part (apply the entry + canonical JSON
+ SHA-256) beside plain ``json.dumps(sort_keys=True)`` + SHA-256 of the whole form, and the
size of a typical delta (the merge patch for one new vital sign) against the full form.

    .venv/bin/python bench/form_ops.py [--entries 500] [--samples 200] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report  # noqa: E402

from edge.store import outbox  # noqa: E402
from edge.store.audit import Actor  # noqa: E402
from edge.wire.canonical import canonical_json, merge_patch_create  # noqa: E402
from edge.config import SehDestination, load_edge_settings  # noqa: E402
from edge.form.entries import GcsData, MedicationData, ProcedureData, SecondaryData  # noqa: E402
from edge.form.model import apply_entry_in_place, build_form  # noqa: E402
from edge.wire.form_hash import CanonicalForm  # noqa: E402
from edge.live.vitals import LiveVitals  # noqa: E402
from edge.service import EdgeService  # noqa: E402
from edge.store.rit_store import EdgeStore  # noqa: E402

CREW = Actor("bench", "ambulancezorgverlener", "127.0.0.1")
BENCH = "form_ops"
RAW_COMMIT = "raw SQLite: one-row INSERT + COMMIT (WAL, synchronous=FULL)"
RAW_JSON = "raw json.dumps(sort_keys) + SHA-256 of the whole form"


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def fill(service: EdgeService, rit_id: str, count: int) -> None:
    """A long, realistic run: mostly vital-sign sets, some scores, medication, procedures, survey."""
    made = 2  # melding and destination
    i = 0
    while made < count:
        i += 1
        values = {"heart_rate": 80 + i % 20, "spo2": 95 + i % 4, "resp_rate": 14 + i % 6,
                  "bp_systolic": 120 + i % 15, "bp_diastolic": 70 + i % 10}
        made += len(service.add_vitals(rit_id, values, actor=CREW)["entry_ids"])
        extra = [("gcs", GcsData(eye=4, verbal=5, motor=6)),
                 ("medication", MedicationData(drug="fentanyl", dose=50, unit="ug", route="iv")),
                 ("procedure", ProcedureData(procedure="infuus", result="gelukt", attempts=1)),
                 ("secondary", SecondaryData(region="thorax", findings=["pijn"], text="drukpijn links"))][i % 4]
        service.add_entry(rit_id, extra[0], extra[1], actor=CREW, confirm_repeat=True)  # the same drug again
        made += 1


def time_adds(service: EdgeService, rit_id: str, samples: int) -> list[float]:
    durations = []
    for i in range(samples):
        started = time.perf_counter()
        service.add_vitals(rit_id, {"heart_rate": 70 + i % 30}, actor=CREW)
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def report(label: str, durations: list[float]) -> None:
    print(f"{label:58s} p50 {percentile(durations, 50):6.2f} ms   p99 {percentile(durations, 99):6.2f} ms")


def raw_commits(folder: Path, samples: int) -> list[float]:
    """The floor under every save: one small row committed durably, nothing else."""
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)")
    durations = []
    for i in range(samples):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t (body) VALUES (?)", ["x" * 300 + str(i)])
        conn.execute("COMMIT")
        durations.append((time.perf_counter() - started) * 1000)
    conn.close()
    return durations


def raw_json_hashes(form: dict, samples: int) -> list[float]:
    durations = []
    for _ in range(samples):
        started = time.perf_counter()
        hashlib.sha256(json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()
        durations.append((time.perf_counter() - started) * 1000)
    return durations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--samples", type=int, default=200)
    _report.add_common_args(parser)
    args = parser.parse_args()
    if args.smoke:
        args.entries, args.samples = 50, 20
    rows: list[_report.Row] = []
    # Measure the outbox's share separately (it recomputes the hash and re-reads the stream base).
    outbox_ms: list[float] = []
    form_changed = outbox.form_changed

    def timed_form_changed(*a, **kw):
        started = time.perf_counter()
        try:
            return form_changed(*a, **kw)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            if store.query("SELECT count(*) AS n FROM streams WHERE open = 1")[0]["n"]:
                outbox_ms.append(elapsed)

    outbox.form_changed = timed_form_changed
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_edge_settings(None, database=Path(tmp) / "bench.db",
                                      sehs=[SehDestination(id="seh-umcu", name="SEH", phone="0")])
        store = EdgeStore(settings.database)
        service = EdgeService(settings, store, LiveVitals())

        rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
        fill(service, rit_id, args.entries)
        before = store.rit(rit_id)["form"]
        service.add_vitals(rit_id, {"heart_rate": 77}, actor=CREW)
        after = store.rit(rit_id)["form"]
        delta, full = canonical_json(merge_patch_create(before, after)), canonical_json(after)
        print(f"rit with {len(store.entries(rit_id))} entries, form {len(full)} bytes (canonical JSON)")
        print(f"typical delta (one vital sign): {len(delta)} bytes vs full form {len(full)} bytes "
              f"({100 * len(delta) / len(full):.2f} %)")
        print(f"  {json.dumps(json.loads(delta))[:160]}...")
        print(f"timings over {args.samples} adds each (the rit grows by that many entries meanwhile):")
        raw = raw_commits(Path(tmp), args.samples)
        report("raw SQLite one-row commit (baseline)", raw)
        concept = time_adds(service, rit_id, args.samples)
        report("add one vital, concept (no stream)", concept)
        rows.append(_report.latency(BENCH, f"add one vital to {args.entries} entries, concept", concept, RAW_COMMIT, raw))

        rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
        fill(service, rit_id, args.entries)
        service.announce(rit_id, actor=CREW)
        pending = time_adds(service, rit_id, args.samples)
        report("add one vital, announced, offline (snapshot pending)", pending)
        rows.append(_report.latency(BENCH, f"add one vital to {args.entries} entries, announced, offline", pending,
                                    RAW_COMMIT, raw))

        rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
        fill(service, rit_id, args.entries)
        service.announce(rit_id, actor=CREW)
        online = []
        for i in range(args.samples):  # each change is sent before the next (the online case)
            for row in store.messages_to_send():
                store.freeze(row["msg_id"])
                store.advance(row["msg_id"], "sent")
            started = time.perf_counter()
            service.add_vitals(rit_id, {"heart_rate": 70 + i % 30}, actor=CREW)
            online.append((time.perf_counter() - started) * 1000)
        report("add one vital, announced, online (patch on sent base)", online)
        rows.append(_report.latency(BENCH, f"add one vital to {args.entries} entries, announced, online", online,
                                    RAW_COMMIT, raw))

        entries = store.entries(rit_id)
        header = {k: store.rit(rit_id)[k] for k in ("rit_id", "vehicle_id", "created_at")}
        form = build_form(header, entries[:-1])
        canonical = CanonicalForm()
        canonical.sha256(form)  # as in the store: item texts known from the previous save
        last = entries[-1]
        pure = []
        for i in range(args.samples):
            entry = {**last, "entry_id": f"bench-{i}", "position": last["position"] + 1 + i}
            started = time.perf_counter()
            apply_entry_in_place(form, entry)
            canonical.sha256(form)
            pure.append((time.perf_counter() - started) * 1000)
        report("pure: apply entry + canonical JSON + SHA-256", pure)
        rows.append(_report.latency(BENCH, "pure: apply entry + canonical JSON + SHA-256", pure, RAW_JSON,
                                    raw_json_hashes(form, args.samples)))

        print(f"outbox.form_changed (not part of the form code) took p50 {percentile(outbox_ms, 50):.2f} ms, "
              f"p99 {percentile(outbox_ms, 99):.2f} ms of the announced adds")
        store.close()
    rows.append(_report.single(BENCH, "typical delta (one vital sign)", len(delta), "B", "the full form", len(full)))
    _report.emit(rows, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
