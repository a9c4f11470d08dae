"""The save path at the edge: patches built from the change, and the fsyncs a save costs.

Patches are built from what a save changed, not by diffing whole forms (edge/store/outbox.py):
every message of every stream, applied in order from its snapshot, must reproduce the form
hash it carries, whatever mix of saves, corrections, lifecycle steps and link states made
it. And a crew save while online is one fsynced commit: the message is frozen in the save's
own transaction, the broker ack and the SEH's receipt are not fsynced on their own (both come
again after a power cut). Real SQLite, a real mosquitto and a real ``ritlink seh``.
"""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime, timedelta

import pytest

from edge.config import load_edge_settings
from edge.form.entries import parse_data
from edge.live.vitals import LiveVitals
from edge.service import EdgeService
from edge.store.audit import Actor
from edge.store.rit_store import CHECKPOINT_EVERY, EdgeStore
from edge.wire.canonical import form_sha256, merge_patch_apply
from tests.harness.online_edge import SEHS
from tests.harness.online_edge import online_edge as in_process_edge
from tests.harness.waiting import wait_until

CREW = Actor("j.devries", "ambulanceverpleegkundige", "127.0.0.1")


def edge(tmp_path, **values) -> EdgeService:
    settings = load_edge_settings(None, vehicle_id="ambu-01", database=tmp_path / "edge.db", sehs=SEHS, **values)
    return EdgeService(settings, EdgeStore(settings.database), LiveVitals())


def replay_every_stream(store: EdgeStore) -> int:
    """Apply each stream's messages in seq order; each must reproduce its own form hash."""
    checked = 0
    for stream in store.query("SELECT rit_id, seh_id FROM streams"):
        form = None
        for message in store.query("SELECT kind, body_json, form_sha256, seq FROM outbox WHERE rit_id = ? AND"
                                   " seh_id = ? ORDER BY seq", [stream["rit_id"], stream["seh_id"]]):
            body = json.loads(message["body_json"])
            form = body if message["kind"] == "snapshot" else merge_patch_apply(form, body)
            assert form_sha256(form) == message["form_sha256"], f"seq {message['seq']} to {stream['seh_id']}"
            checked += 1
    return checked


def crew_steps(service: EdgeService, rit_id: str, rng: random.Random, steps: int) -> None:
    """A run's worth of saves in random order: new entries, corrections, withdrawals, times."""
    made: list[str] = []
    for n in range(steps):
        when = datetime.now(UTC) - timedelta(seconds=steps - n)
        roll = rng.random()
        if roll < 0.35 or not made:
            result = service.add_vitals(rit_id, {"heart_rate": rng.randint(50, 140), "spo2": rng.randint(88, 100)},
                                        actor=CREW, clinical_time=when)
            made += result["entry_ids"]
        elif roll < 0.5:
            old = made.pop(rng.randrange(len(made)))
            if _parameter(service, rit_id, old) == "heart_rate":
                fixed = service.correct_entry(rit_id, old, actor=CREW, reason="verkeerd afgelezen",
                                              data={"parameter": "heart_rate", "value": rng.randint(50, 140)})
            else:
                fixed = service.correct_entry(rit_id, old, actor=CREW, reason="dubbel", withdraw=True)
            made += fixed["entry_ids"]
        elif roll < 0.65:
            add(service, rit_id, "remark", {"text": f"opmerking {n}"})
        elif roll < 0.75:
            add(service, rit_id, "patient", {"name": f"Patiënt {n}"})
        elif roll < 0.85:
            service.set_time(rit_id, rng.choice(["vertrek", "ter_plaatse"]), when, actor=CREW)
        else:
            add(service, rit_id, "gcs", {"eye": rng.randint(1, 4), "verbal": rng.randint(1, 5),
                                         "motor": rng.randint(1, 6)})


def add(service: EdgeService, rit_id: str, kind: str, data: dict, **extra) -> dict:
    return service.add_entry(rit_id, kind, parse_data(kind, data, "data"), actor=CREW, **extra)


def _parameter(service: EdgeService, rit_id: str, entry_id: str) -> str | None:
    entry = next(e for e in service.store.entries(rit_id) if e["entry_id"] == entry_id)
    return entry["data"].get("parameter")


def deliver_some(service: EdgeService, rng: random.Random) -> None:
    """What the sender and the SEH would do to a random part of what waits."""
    for row in service.store.messages_to_send():
        if rng.random() < 0.7:
            service.store.freeze(row["msg_id"])
            service.store.advance(row["msg_id"], rng.choice(["sent", "delivered"]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_patch_built_from_its_change_reproduces_the_form_hash(tmp_path, seed):
    rng = random.Random(seed)
    service = edge(tmp_path)
    link = {"up": False}
    service.broker_connected = lambda: link["up"]
    rits = [service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"] for _ in range(2)]
    for rit_id in rits:
        crew_steps(service, rit_id, rng, 8)
        service.announce(rit_id, actor=CREW)
    for round_ in range(20):
        link["up"] = rng.random() < 0.6  # online: a save freezes its message when it can go at once
        for rit_id in rits:
            crew_steps(service, rit_id, rng, 3)
        deliver_some(service, rng)
        if round_ == 5:
            service.change_destination(rits[1], "seh-antonius", actor=CREW)  # geannuleerd + a new snapshot
    service.overdracht(rits[0], actor=CREW, onvolledig=True)
    add(service, rits[0], "remark", {"text": "nagekomen"}, nagekomen=True)
    assert replay_every_stream(service.store) > 20
    # The last message of each open stream carries the form as the tablet has it now.
    for rit_id in rits:
        now = service.rit_view(rit_id, actor=CREW)["form_sha256"]
        last = service.store.query("SELECT form_sha256 FROM outbox WHERE rit_id = ? AND seh_id = ? ORDER BY seq"
                                   " DESC LIMIT 1", [rit_id, service.rit_view(rit_id, actor=CREW)["form"]
                                                     ["destination_seh"]])[0]
        assert last["form_sha256"] == now


def test_a_patch_carries_the_change_not_the_form(tmp_path):
    """A save into a long rit sends the new item and the small views it moved, nothing more."""
    service = edge(tmp_path)
    service.broker_connected = lambda: True
    rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
    for i in range(60):
        service.add_vitals(rit_id, {"heart_rate": 70 + i % 30, "spo2": 95}, actor=CREW)
    announced = service.announce(rit_id, actor=CREW)["msg_id"]
    service.store.freeze(announced)
    service.store.advance(announced, "delivered")
    entry_id = service.add_vitals(rit_id, {"spo2": 97}, actor=CREW)["entry_ids"][0]
    message = service.store.query("SELECT body_json, published_at FROM outbox WHERE rit_id = ? ORDER BY seq DESC"
                                  " LIMIT 1", [rit_id])[0]
    body = json.loads(message["body_json"])
    assert message["published_at"] is not None  # online, nothing on the wire: frozen in the save itself
    assert list(body["vitals"]) == [entry_id]
    assert set(body) <= {"vitals", "scores", "status"}
    assert len(message["body_json"]) < 2000 < len(json.dumps(service.rit_view(rit_id, actor=CREW)["form"])) / 10


@pytest.fixture
def online_edge(tmp_path, broker, seh_process):
    seh_process()
    with in_process_edge(tmp_path, broker.url) as (service, _sync):
        yield service


class CommitCounter:
    """Counts the write transactions on the store's connection that commit with an fsync."""

    def __init__(self, store: EdgeStore):
        self.lock = threading.Lock()
        self.synchronous = "FULL"
        self.durable = self.other = 0
        store.db.conn.set_trace_callback(self._statement)

    def _statement(self, sql: str) -> None:
        text = sql.strip().upper()
        with self.lock:
            if text.startswith("PRAGMA SYNCHRONOUS="):
                self.synchronous = text.split("=", 1)[1]
            elif text == "COMMIT":
                if self.synchronous == "FULL":
                    self.durable += 1
                else:
                    self.other += 1


def test_an_online_save_is_one_fsynced_commit_from_save_to_delivered(online_edge):
    service = online_edge
    rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
    service.add_vitals(rit_id, {"heart_rate": 80}, actor=CREW)
    announced = service.announce(rit_id, actor=CREW)["msg_id"]
    state = lambda msg_id: service.store.query("SELECT state FROM outbox WHERE msg_id = ?", [msg_id])[0]["state"]  # noqa: E731
    wait_until(lambda: state(announced) == "delivered", 10, what="vooraankondiging delivered")
    counter = CommitCounter(service.store)
    saves = 10
    for i in range(saves):
        service.add_vitals(rit_id, {"spo2": 90 + i}, actor=CREW)
        newest = service.store.query("SELECT msg_id FROM outbox WHERE rit_id = ? ORDER BY seq DESC LIMIT 1",
                                     [rit_id])[0]["msg_id"]
        wait_until(lambda: state(newest) == "delivered", 10, what="save delivered")
    assert counter.durable == saves  # the save; before: + freeze, sent and delivered, each fsynced
    assert counter.other == 2 * saves  # sent and delivered, folded into the next fsync
    service.store.db.conn.set_trace_callback(None)


def test_the_whole_form_is_written_every_few_saves_and_read_back_from_its_checkpoint(tmp_path):
    """A save writes the change and the form's small part; the whole form only every
    CHECKPOINT_EVERY entries. After a restart the form is the checkpoint plus the entries after it."""
    service = edge(tmp_path)
    rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
    service.announce(rit_id, actor=CREW)
    stored = []
    for i in range(CHECKPOINT_EVERY + 10):
        service.add_vitals(rit_id, {"heart_rate": 60 + i % 50}, actor=CREW)
        stored.append(service.store.query("SELECT form_json FROM rits WHERE rit_id = ?", [rit_id])[0]["form_json"])
    assert len(set(stored)) <= 3  # not once per save
    position = service.store.query("SELECT form_position FROM rit_heads WHERE rit_id = ?", [rit_id])[0]["form_position"]
    newest = max(e["position"] for e in service.store.entries(rit_id))
    assert 0 < newest - position < CHECKPOINT_EVERY
    before = service.rit_view(rit_id, actor=CREW)
    service.store.close()

    again = edge(tmp_path)  # a restart: nothing cached
    after = again.rit_view(rit_id, actor=CREW)
    assert after["form"] == before["form"] == again.store.rebuild_form(rit_id)
    assert after["form_sha256"] == before["form_sha256"] == form_sha256(after["form"])
    again.add_vitals(rit_id, {"spo2": 97}, actor=CREW)  # and saving goes on from there
    assert again.rit_view(rit_id, actor=CREW)["form"] == again.store.rebuild_form(rit_id)
