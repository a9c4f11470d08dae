"""SEH storage stays bounded: versions are the messages that made them (any version rebuilt
by hash), finished rits leave after the retention period from every table but the access
log, their pages are reused, and the gap watch reads only the held messages."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest

from bench._seh_messages import RitStream, wire
from edge.wire.canonical import canonical_json, form_sha256
from edge.wire.contract import parse_envelope, utc_now
from edge.wire.dead_letter import DeadLetter
from seh import feedback, versions
from seh.canonical_cache import CanonicalCache
from seh.store import SehStore

SEH = "seh-umcu"


@pytest.fixture
def store(tmp_path):
    s = SehStore(tmp_path / "seh.db", SEH)
    yield s
    s.close()


def apply(store: SehStore, message: dict) -> str:
    receipts = store.apply(parse_envelope(wire(message)))
    return receipts[0].type if receipts else "held"


def test_any_version_is_rebuilt_to_the_hash_that_was_sent(store):
    stream = RitStream("ambu-1", seed=1)
    sent = {1: stream.snapshot()}
    assert apply(store, sent[1]) == "delivered"
    for _ in range(2 * versions.CHECKPOINT_EVERY + 7):  # crosses two checkpoints
        message = stream.update()
        sent[message["seq"]] = message
        assert apply(store, message) == "delivered"
    for seq, message in sent.items():
        assert form_sha256(store.version_form(stream.rit_id, seq)) == message["form_sha256"], seq
    # Current form (checkpoint plus patches, as a fresh process would read it) is the last version.
    store.forms.drop(stream.rit_id)
    assert form_sha256(store.rit(stream.rit_id)["form"]) == sent[max(sent)]["form_sha256"]
    # No full copy per version: the stored bodies of the patches are each a patch's size.
    largest = store.query("SELECT max(length(body)) AS n FROM seh_versions WHERE rit_id = ? AND kind = 'patch'",
                          [stream.rit_id])[0]["n"]
    assert largest < 1000


def test_a_resync_snapshot_restarts_the_rebuild(store):
    stream = RitStream("ambu-2", seed=2)
    for message in (stream.snapshot(), stream.update(), stream.update()):
        apply(store, message)
    fresh = stream.snapshot()  # what the vehicle sends after a resync request
    fresh["kind"], fresh["seq"] = "snapshot", stream.seq
    assert apply(store, fresh) == "delivered"
    after = stream.update()
    assert apply(store, after) == "delivered"
    assert form_sha256(store.version_form(stream.rit_id, after["seq"])) == after["form_sha256"]
    assert form_sha256(store.version_form(stream.rit_id, 2)) != after["form_sha256"]


def test_the_canonical_cache_gives_the_bytes_of_the_full_encoding(store):
    """Entries added, corrected, removed, a collection replaced, views changed: every step's
    hash from the cache equals the full canonical encoding's."""
    import random

    from edge.wire.canonical import merge_patch_apply

    rng = random.Random(5)
    stream = RitStream("ambu-4", seed=4)
    stream.grow(30)
    form, cache = stream.form, CanonicalCache()
    assert cache.sha256(form) == form_sha256(form)
    for step in range(300):
        ids = list(form["vitals"])
        choice = rng.random()
        if choice < 0.4 or not ids:
            patch = {"vitals": {f"e{step}": stream.entry()}}
        elif choice < 0.6:
            patch = {"vitals": {rng.choice(ids): {"corrected_by": f"e{step}"}}}
        elif choice < 0.7:
            patch = {"vitals": {rng.choice(ids): None}}
        elif choice < 0.8:
            patch = {"history": {"vehicle_position": {f"p{step}": {"position": step, "eta": "12:00"}}},
                     "times": {"eta": f"12:{step % 60:02d}"}}
        elif choice < 0.9:
            patch = {"medications": {f"m{step}": {"position": step, "text": "ä€ \u2028"}}, "status": "update"}
        else:
            patch = {"remarks": None} if "remarks" in form else {"remarks": {"r": {"position": 1}}}
        form = merge_patch_apply(form, patch)
        cache = cache.patched(form, patch)
        assert cache.sha256(form) == form_sha256(form), (step, patch)
        if step % 50 == 0:
            assert cache.canonical(form) == canonical_json(form)


def _finished_rit(store: SehStore, seed: int, updates: int = 40) -> RitStream:
    stream = RitStream(f"ambu-{seed}", seed=seed)
    apply(store, stream.snapshot())
    for _ in range(updates):
        apply(store, stream.update())
    assert apply(store, stream.handover()) == "delivered"
    return stream


def _tables_holding(db_path, rit_id: str) -> set[str]:
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = set()
        for table in tables:
            columns = [c[1] for c in conn.execute(f"PRAGMA table_info({table})")]
            if "rit_id" in columns and conn.execute(f"SELECT 1 FROM {table} WHERE rit_id = ?", [rit_id]).fetchone():
                found.add(table)
            elif "topic" in columns and conn.execute(f"SELECT 1 FROM {table} WHERE topic LIKE ?",
                                                     [f"%{rit_id}%"]).fetchone():
                found.add(table)
    return found


def test_retention_removes_a_finished_rit_everywhere_but_the_access_log_and_reuses_its_pages(store, tmp_path):
    old = [_finished_rit(store, seed) for seed in range(10, 16)]
    kept_open = RitStream("ambu-open", seed=99)
    apply(store, kept_open.snapshot())
    recent = _finished_rit(store, 50)
    victim = old[0].rit_id
    with store.write() as db:
        rit = next(db.query("SELECT * FROM seh_rits WHERE rit_id = ?", [victim]))
        feedback.add_feedback(db, rit, SEH, feedback.FeedbackIn(diagnosis="d", disposition="anders"))
        db.execute("INSERT INTO seh_fhir_outbox (rit_id, seq, created_at, next_attempt_at) VALUES (?, 1, ?, ?)",
                   [victim, utc_now(), utc_now()])
        db.execute("INSERT INTO seh_fhir_access (at, who, action, rit_id) VALUES (?, 'arts', 'read', ?)",
                   [utc_now(), victim])
        db.execute("INSERT INTO seh_resyncs (rit_id, requested_at) VALUES (?, '2020-01-01T00:00:00.000Z')", [victim])
    stale = old[0].update()
    stale["seq"] = 2  # a late duplicate under a new msg_id: refused, and kept in seh_messages
    assert apply(store, stale) == "rejected"
    store.dead_letter(DeadLetter.of(f"ritlink/v1/seh/{SEH}/from/ambu-10/rit/{victim}", b"{", "malformed"))
    # Finished eight days ago: past the default period of seven.
    with store.write() as db:
        db.execute("UPDATE seh_rits SET updated_at = '2020-01-01T00:00:00.000Z' WHERE rit_id IN ({})".format(
            ",".join("?" * len(old))), [s.rit_id for s in old])
        db.execute("UPDATE dead_letters SET received_at = '2020-01-01T00:00:00.000Z'")
        db.execute("UPDATE seh_rits SET updated_at = '2020-01-01T00:00:00.000Z' WHERE rit_id = ?", [kept_open.rit_id])
    assert {"seh_rits", "seh_versions", "seh_messages", "seh_forms", "seh_feedback", "seh_fhir_outbox",
            "seh_fhir_access", "seh_resyncs", "dead_letters"} <= _tables_holding(tmp_path / "seh.db", victim)
    pages_before = store.query("PRAGMA page_count")[0]["page_count"]

    counts = store.purge_finished(batch=2)  # several small batches
    assert counts == {"rits": len(old), "dead_letters": 1}
    for stream in old:
        assert _tables_holding(tmp_path / "seh.db", stream.rit_id) <= {"seh_fhir_access"}
    assert _tables_holding(tmp_path / "seh.db", victim) == {"seh_fhir_access"}
    assert store.rit(recent.rit_id) is not None and store.rit(kept_open.rit_id) is not None  # not finished / recent
    # The freed pages are reused: as much new data again does not grow the file.
    free = store.query("PRAGMA freelist_count")[0]["freelist_count"]
    assert free > 0
    for seed in range(60, 60 + len(old)):
        _finished_rit(store, seed)
    refilled = store.query("PRAGMA freelist_count")[0]["freelist_count"]
    assert refilled < free / 2, (free, refilled)
    assert store.query("PRAGMA page_count")[0]["page_count"] <= pages_before + free // 4
    assert store.storage()["oldest_rit_at"] is not None


def test_seh_purge_command(store, tmp_path):
    stream = _finished_rit(store, 7, updates=3)
    with store.write() as db:
        db.execute("UPDATE seh_rits SET updated_at = '2020-01-01T00:00:00.000Z'")
    done = subprocess.run([sys.executable, "-m", "ritlink", "seh-purge", "--database", str(tmp_path / "seh.db")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["purged"]["rits"] == 1 and out["storage"]["database_bytes"] > 0
    assert store.rit(stream.rit_id) is None


def test_the_gap_watch_asks_only_for_a_real_gap(store):
    stream = RitStream("ambu-3", seed=3)
    apply(store, stream.snapshot())
    stream.update()  # seq 2 never arrives
    assert apply(store, stream.update()) == "held"
    with store.write() as db:
        db.execute("UPDATE seh_messages SET received_at = '2020-01-01T00:00:01.000Z' WHERE outcome = 'held'")
    # This receiver has not caught up since the held message came: it is behind, not gapped.
    assert store.stalled_rits(3.0, instance="r1", caught_up_at="2020-01-01T00:00:00.000Z") == []
    # Caught up since: the predecessor is really missing; asked once, not again within the limit.
    asked = store.stalled_rits(3.0, instance="r1", caught_up_at=utc_now())
    assert [(r.type, r.rit_id, r.seq) for r in asked] == [("resync", stream.rit_id, 1)]
    assert store.stalled_rits(3.0, instance="r1", caught_up_at=utc_now()) == []


def test_the_gap_watch_reads_the_held_messages_through_their_index(store):
    plan = " ".join(r["detail"] for r in store.query(
        "EXPLAIN QUERY PLAN SELECT rit_id FROM seh_messages WHERE outcome = 'held' AND received_at <= '2030'"))
    assert "seh_messages_held_since" in plan and "SCAN seh_messages" not in plan, plan


def test_an_seh_database_of_full_copies_upgrades_to_versions_as_messages(tmp_path):
    """Migration 5 turns the old full copy per version into snapshot + patches; every version
    rebuilds to the hash it had, and the rit goes on from where it was."""
    from edge.store.db import Store
    from seh.store import SEH_MIGRATIONS

    path = tmp_path / "seh.db"
    old = Store(path, SEH_MIGRATIONS[:4])
    stream = RitStream("ambu-5", seed=5)
    forms = []
    with old.write() as db:
        for seq in range(1, 8):
            if seq > 1:
                stream.update()
            form = json.loads(json.dumps(stream.form))
            forms.append(form)
            db.execute("INSERT INTO seh_versions VALUES (?, ?, ?, 'update', ?, ?, '2026-01-01T00:00:00.000Z')",
                       [stream.rit_id, seq, f"m{seq}", json.dumps(form), form_sha256(form)])
            db.execute("INSERT INTO seh_messages (msg_id, rit_id, vehicle_id, seq, outcome, reply_topic, received_at)"
                       " VALUES (?, ?, 'ambu-5', ?, 'applied', 't', '2026-01-01T00:00:00.000Z')",
                       [f"m{seq}", stream.rit_id, seq])
        db.execute("INSERT INTO seh_rits VALUES (?, 'ambu-5', 7, 'update', ?, ?, 0, 't', 't')",
                   [stream.rit_id, json.dumps(forms[-1]), form_sha256(forms[-1])])
    old.close()
    store = SehStore(path, SEH)
    for seq, form in enumerate(forms, start=1):
        assert form_sha256(store.version_form(stream.rit_id, seq)) == form_sha256(form)
    assert [v["msg_id"] for v in store.versions(stream.rit_id)] == [f"m{i}" for i in range(1, 8)]
    stream.seq = 7
    assert apply(store, stream.update()) == "delivered"
    store.close()
