"""Hostile MQTT messages against the real SEH receiver and the real tablet service: refused,
kept as dead letters, acknowledged, and neither receiver stops (docs/sync.md, "Bad messages")."""

from __future__ import annotations

import json
import sqlite3
import uuid

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from edge.wire.canonical import form_sha256, merge_patch_apply
from edge.wire.contract import (SCHEMA, feedback_topic, live_topic, new_id, receipt_topic, receipt_topic_filter,
                                rit_topic, utc_now)
from seh.feedback import feedback_receipt_topic
from simulators.mosquitto import MESSAGE_SIZE_LIMIT
from tests.conftest import SEH_ID
from tests.harness.mqtt import TestClient, envelope, form_of, send
from tests.harness.waiting import wait_until

EDGE_VEHICLE = "ambu-01"  # the real `ritlink serve`
VALID_VEHICLE = "ambu-99"  # a well-behaved vehicle played by hand
HOSTILE_VEHICLE = "ambu-66"
PARSER_CAP = 256 * 1024
POISONS = {
    "100k-brackets": lambda env: b"[" * 100_000,
    "nan-in-body": lambda env: json.dumps({**env, "body": {**env["body"], "x": float("nan")}}).encode(),
    "seq-2^63": lambda env: json.dumps({**env, "seq": 2**63}).encode(),
}


@pytest.fixture
def seh(seh_process):
    proc = seh_process()
    wait_until(lambda: proc.get("/-/health").json()["broker"] == "connected", 10, what="SEH connected")
    return proc


@pytest.fixture
def edge(edge_process):
    proc = edge_process()
    wait_until(lambda: proc.get("/-/health").json()["broker"] == "connected", 10, what="edge connected")
    return proc


@pytest.fixture
def client(broker):
    c = TestClient(broker.port)
    yield c
    c.close()


def dead_letters(proc) -> int:
    return proc.get("/-/health").json()["dead_letters"]


def announced(edge) -> tuple[str, str]:
    """A rit announced by the real tablet to the real SEH: (rit_id, msg_id of seq 1), delivered."""
    rit_id = edge.post("/api/v1/rits", {"destination_seh": SEH_ID, "urgency": "A1"}).json()["rit_id"]
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    first = wait_until(lambda: next((m for m in edge.get(f"/api/v1/rits/{rit_id}").json()["messages"]
                                     if m["state"] == "delivered"), None), 10, what="vooraankondiging delivered")
    return rit_id, first["msg_id"]


def valid_feedback(rit_id: str | None = None) -> dict:
    return {"schema": "ritlink.seh-terugkoppeling/1", "msg_id": new_id(), "rit_id": rit_id or new_id(),
            "seh_id": SEH_ID, "vehicle_id": EDGE_VEHICLE, "diagnosis": "Heupfractuur", "disposition": "operatie",
            "remarks": "", "author": "SEH-arts", "at": utc_now()}


# -- hostile payloads, per topic -------------------------------------------------------------------
def _receipt_doc() -> dict:
    return {"msg_id": new_id(), "rit_id": new_id(), "seq": 1, "type": "delivered", "at": utc_now()}


def _live_doc() -> dict:
    return {"vehicle_id": HOSTILE_VEHICLE, "vitals": [{"label": "SpO2", "value": 93.0, "unit": "%"}]}


def _envelope_doc(rit_id: str) -> dict:
    return envelope(rit_id, 1, form_of(rit_id, HOSTILE_VEHICLE), vehicle_id=HOSTILE_VEHICLE)


# Wrong-typed or wrong-shaped values that each topic's contract refuses, field by field.
WRONG = {
    "seh_rit": [("seq", "eins"), ("seq", 0), ("kind", 7), ("body", [1, 2]), ("msg_id", "nope"), ("status", True),
                ("form_sha256", 12), ("sent_at", None), ("vehicle_id", ""), ("schema", "x/9"), ("extra", 1)],
    "seh_live": [("vitals", [1, 2, 3]), ("vitals", "x"), ("vitals", [{"label": 5}]), ("position", 5),
                 ("vitals", [{"label": "HR", "value": "93"}]), ("vehicle_id", "ambu-77"), ("gps", [1])],
    "receipt": [("type", "bogus"), ("seq", "x"), ("seq", -1), ("msg_id", 5), ("at", None), ("extra", 1),
                ("msg_id", "m" * 65)],
    "edge_feedback": [("diagnosis", 5), ("schema", "x"), ("seh_id", "seh-ander"), ("vehicle_id", "ambu-02"),
                      ("msg_id", None), ("msg_id", "m" * 65), ("remarks", ["a"])],
}
TOPICS = ("seh_rit", "seh_live", "seh_feedback_receipt", "edge_receipt", "edge_feedback")
SEH_TOPICS = ("seh_rit", "seh_live", "seh_feedback_receipt")
FORM_KEYS = ("rit_id", "vehicle_id", "created_at", "status", "patient", "melding", "identification", "times",
             "scores", "primary_survey", "history", "vitals")


def _doc(kind: str, rit_id: str) -> dict:
    if kind == "seh_rit":
        return _envelope_doc(rit_id)
    if kind == "seh_live":
        return _live_doc()
    if kind == "edge_feedback":
        return valid_feedback()
    return _receipt_doc()


def _wrong_key(kind: str) -> str:
    return "receipt" if kind in ("seh_feedback_receipt", "edge_receipt") else kind


def _garbage_form(draw, rit_id: str) -> dict:
    """A form the shape check must refuse: a key missing, of the wrong type, or a broken item."""
    form = form_of(rit_id, HOSTILE_VEHICLE)
    key = draw(st.sampled_from(FORM_KEYS))
    how = draw(st.sampled_from(["drop", "retype", "item"]))
    if how == "drop":
        del form[key]
    elif how == "item":
        form["vitals"] = {"e1": draw(st.one_of(st.integers(), st.text(max_size=5), st.just({"value": 1})))}
    else:
        text_key = key in ("rit_id", "vehicle_id", "created_at", "status")
        form[key] = draw(st.one_of(st.integers(), st.lists(st.integers(), max_size=3)) if text_key
                         else st.one_of(st.integers(), st.text(max_size=8), st.lists(st.integers(), max_size=3)))
    return form


def _garbage_patch(draw) -> dict:
    """A merge patch that would certainly break any form it is applied to."""
    key = draw(st.sampled_from(FORM_KEYS))
    text_key = key in ("rit_id", "vehicle_id", "created_at", "status")
    return draw(st.sampled_from([
        {key: None},
        {key: 5 if text_key else "garbage"},
        {"vitals": {"e1": draw(st.one_of(st.integers(), st.text(max_size=5)))}},
        {"primary_survey": {"A": [1]}},
        {"vitals": {"e1": {"position": "eerste"}}},
    ]))


@st.composite
def hostile(draw) -> tuple[str, str, bytes]:
    """(topic kind, rit_id, payload): one message that a receiver on that topic must refuse."""
    kind = draw(st.sampled_from(TOPICS))
    rit_id = str(uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4))
    doc = _doc(kind, rit_id)
    attacks = ["deep", "deep", "nan", "huge_int", "huge_int", "nul", "surrogate", "utf8", "wrong", "wrong",
               "garbage_form", "garbage_form", "not_object"]
    attack = draw(st.sampled_from(attacks * 3 + ["oversize"]))  # oversize ones are heavy: about 1 in 40
    if attack == "deep":
        depth = draw(st.integers(33, 100_000))
        payload = draw(st.sampled_from([b"[", b'{"a":'])) * depth
    elif attack == "nan":
        token = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"]))
        field = {"seh_rit": "seq", "seh_live": "vitals", "edge_feedback": "diagnosis"}.get(kind, "seq")
        payload = json.dumps({**doc, field: "@@"}).replace('"@@"', token).encode()
    elif attack == "huge_int":
        big = draw(st.one_of(st.integers(min_value=2**63), st.integers(max_value=-(2**63) - 1)))
        field = {"seh_live": "position", "edge_feedback": "remarks"}.get(kind, "seq")
        payload = json.dumps({**doc, field: big}).encode()
    elif attack in ("nul", "surrogate"):
        bad = draw(st.text(max_size=5)) + ("\x00" if attack == "nul" else "\ud800") + draw(st.text(max_size=5))
        field = {"seh_rit": "sent_at", "seh_live": "vehicle_id", "edge_feedback": "diagnosis"}.get(kind, "at")
        payload = json.dumps({**doc, field: bad}).encode()
    elif attack == "utf8":
        payload = json.dumps(doc).encode()[:draw(st.integers(1, 40))] + draw(st.sampled_from(
            [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"])) + draw(st.binary(max_size=20))
    elif attack == "not_object":
        payload = json.dumps(draw(st.one_of(st.integers(-10, 10), st.text(max_size=10), st.lists(st.booleans(),
                                                                                                    max_size=3)))).encode()
    elif attack == "oversize":
        size = draw(st.one_of(st.integers(PARSER_CAP + 1, PARSER_CAP + 40_000),
                              st.integers(MESSAGE_SIZE_LIMIT + 1, MESSAGE_SIZE_LIMIT + 20_000)))
        payload = (b'{"pad":"' + b"x" * size + b'"}')[:size]
    elif attack == "garbage_form" and kind == "seh_rit":
        snapshot = draw(st.booleans())
        body = _garbage_form(draw, rit_id) if snapshot else _garbage_patch(draw)
        after = body if snapshot else merge_patch_apply(form_of(rit_id, HOSTILE_VEHICLE), body)
        payload = json.dumps({**doc, "body": body, "kind": "snapshot" if snapshot else "patch",
                              "seq": 1 if snapshot else 2, "form_sha256": form_sha256(after)}).encode()
    else:  # "wrong", and garbage of each other topic's own shape
        field, value = draw(st.sampled_from(WRONG[_wrong_key(kind)]))
        payload = json.dumps({**doc, field: value}).encode()
    return kind, rit_id, payload


class Storm:
    """Publishes everything with one paho client; keeps the counts the test compares."""

    def __init__(self, client: TestClient):
        self.client = client
        self.infos = []
        self.reaching = {"seh": 0, "edge": 0}
        self.dropped_by_broker = 0
        self.hostile = 0
        self.valid_rits: dict[str, list[str]] = {}  # rit_id -> msg_ids in seq order
        self.forms: dict[str, dict] = {}
        self.feedback_ids: list[str] = []

    def topic(self, kind: str, rit_id: str) -> str:
        return {"seh_rit": rit_topic(SEH_ID, HOSTILE_VEHICLE, rit_id),
                "seh_live": live_topic(SEH_ID, HOSTILE_VEHICLE),
                "seh_feedback_receipt": feedback_receipt_topic(SEH_ID, HOSTILE_VEHICLE),
                "edge_receipt": receipt_topic(EDGE_VEHICLE, SEH_ID),
                "edge_feedback": feedback_topic(EDGE_VEHICLE, SEH_ID)}[kind]

    def hostile_one(self, kind: str, rit_id: str, payload: bytes) -> None:
        self.hostile += 1
        if len(payload) > MESSAGE_SIZE_LIMIT:
            # mosquitto drops it; QoS 0, because a QoS 1 publish over the limit ends the connection.
            self.dropped_by_broker += 1
            self.client.client.publish(self.topic(kind, rit_id), payload, qos=0)
            return
        self.reaching["seh" if kind in SEH_TOPICS else "edge"] += 1
        self.infos.append(self.client.client.publish(self.topic(kind, rit_id), payload, qos=1))

    def valid_seh(self, index: int) -> None:
        """The next message of one of five well-behaved rits (snapshot first, then patches)."""
        rit_id = list(self.valid_rits)[index % 5] if len(self.valid_rits) >= 5 else new_id()
        msg_ids = self.valid_rits.setdefault(rit_id, [])
        seq = len(msg_ids) + 1
        if seq == 1:
            form = self.forms[rit_id] = form_of(rit_id, VALID_VEHICLE)
            data = envelope(rit_id, 1, form, vehicle_id=VALID_VEHICLE)
        else:
            item = {"code": 147842, "value": 80.0 + seq, "position": seq}
            form = self.forms[rit_id] = {**self.forms[rit_id], "vitals": {**self.forms[rit_id]["vitals"], f"e{seq}": item}}
            data = envelope(rit_id, seq, {"vitals": {f"e{seq}": item}}, kind="patch", status="update",
                            vehicle_id=VALID_VEHICLE, form=form)
        msg_ids.append(data["msg_id"])
        self.infos.append(self.client.client.publish(rit_topic(SEH_ID, VALID_VEHICLE, rit_id),
                                                     json.dumps(data).encode(), qos=1))

    def valid_edge(self) -> None:
        body = valid_feedback()
        self.feedback_ids.append(body["msg_id"])
        self.infos.append(self.client.client.publish(feedback_topic(EDGE_VEHICLE, SEH_ID), json.dumps(body).encode(),
                                                     qos=1))

    def wait_published(self) -> None:
        for info in self.infos:
            info.wait_for_publish(30)
        self.infos.clear()


def test_a_storm_of_hostile_messages_is_refused_counted_and_stops_nothing(tmp_path, seh, edge, client):
    rit_id, _ = announced(edge)
    storm = Storm(client)
    base = {"seh": dead_letters(seh), "edge": dead_letters(edge)}

    def caught_up() -> bool:
        return (dead_letters(seh) - base["seh"], dead_letters(edge) - base["edge"]) == (
            storm.reaching["seh"], storm.reaching["edge"])

    @settings(max_examples=2100, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(hostile())
    def publish(message):
        storm.hostile_one(*message)
        if storm.hostile % 5 == 0:
            storm.valid_seh(storm.hostile // 5)
            storm.valid_edge()
        if storm.hostile % 300 == 0:
            # Keep the receivers' broker queues short (mosquitto drops past max_queued_messages).
            storm.wait_published()
            wait_until(caught_up, 60, interval=0.2, what="receivers caught up")

    publish()
    storm.wait_published()
    assert storm.hostile >= 2000 and storm.dropped_by_broker > 0
    wait_until(caught_up, 60, interval=0.2, what="every hostile message that reached a receiver counted")

    # Every valid message applied exactly once, in order.
    wait_until(lambda: all(seh.get(f"/api/v1/rits/{r}").status_code == 200 and
                           seh.get(f"/api/v1/rits/{r}").json()["seq"] == len(ids)
                           for r, ids in storm.valid_rits.items()), 30, what="valid rits applied")
    with sqlite3.connect(f"file:{tmp_path / 'seh.db'}?mode=ro", uri=True) as conn:
        for r, ids in storm.valid_rits.items():
            applied = conn.execute("SELECT seq, msg_id FROM seh_versions WHERE rit_id = ? ORDER BY seq", [r]).fetchall()
            assert applied == list(enumerate(ids, start=1))
    wait_until(lambda: _feedback_ids(tmp_path) == sorted(storm.feedback_ids), 30, what="valid feedback kept once")
    assert caught_up()  # nothing counted twice meanwhile

    # Both receivers healthy, the board and the tablet's own rit unaffected.
    for proc in (seh, edge):
        health = proc.get("/-/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert health.json()["mqtt_thread"] == "alive" and health.json()["broker"] == "connected"
    assert seh.get("/").status_code == 200 and seh.get("/bord/rijen").status_code == 200
    assert seh.get(f"/rits/{rit_id}").status_code == 200
    assert {m["state"] for m in edge.get(f"/api/v1/rits/{rit_id}").json()["messages"]} <= {"delivered", "read"}
    status = seh.get("/-/status").json()
    assert status["dead_letters"] == dead_letters(seh) and status["refused_by_reason"]["too_deep"] > 0
    assert edge.get("/-/status").json()["mqtt"]["dead_letters"] == dead_letters(edge)
    for proc in (seh, edge):
        assert "Heupfractuur" not in proc.log_text() and "Traceback" not in proc.log_text()


def _feedback_ids(tmp_path) -> list[str]:
    with sqlite3.connect(f"file:{tmp_path / 'edge.db'}?mode=ro", uri=True) as conn:
        return sorted(r[0] for r in conn.execute("SELECT msg_id FROM feedback"))


# -- the three poison payloads, each followed by a restart ------------------------------------------
def test_seh_keeps_applying_after_each_poison_and_a_restart(seh, client):
    client.subscribe(receipt_topic_filter(VALID_VEHICLE))
    for n, (name, poison) in enumerate(POISONS.items(), start=1):
        rit_id = new_id()
        env = envelope(rit_id, 1, form_of(rit_id, VALID_VEHICLE), vehicle_id=VALID_VEHICLE)
        send(client, env, raw=poison(env))
        topic, got = client.next_json(5)
        assert (got["type"], got["msg_id"]) == ("rejected", env["msg_id"]), name
        assert dead_letters(seh) == n, name
        seh.stop()
        seh.start()
        wait_until(lambda: seh.get("/-/health").json()["broker"] == "connected", 10, what="SEH back")
        good_rit = new_id()
        good = envelope(good_rit, 1, form_of(good_rit, VALID_VEHICLE), vehicle_id=VALID_VEHICLE)
        send(client, good)
        topic, got = client.next_json(5)
        assert (got["type"], got["msg_id"]) == ("delivered", good["msg_id"]), name
        health = seh.get("/-/health").json()
        assert (health["mqtt_thread"], health["dead_letters"]) == ("alive", n), name
    assert "Traceback" not in seh.log_text()


def test_edge_keeps_taking_receipts_and_feedback_after_each_poison_and_a_restart(seh, edge, client, tmp_path):
    rit_id, msg_id = announced(edge)
    poisons = [
        (receipt_topic(EDGE_VEHICLE, SEH_ID), json.dumps(
            {"msg_id": msg_id, "rit_id": rit_id, "seq": 2**63, "type": "read", "at": utc_now()}).encode()),
        (feedback_topic(EDGE_VEHICLE, SEH_ID), b'{"a":' * 100_000),
        (feedback_topic(EDGE_VEHICLE, SEH_ID), json.dumps({**valid_feedback(rit_id), "remarks": "@"}).replace(
            '"@"', "NaN").encode()),
    ]
    kept = []
    for n, (topic, poison) in enumerate(poisons, start=1):
        client.publish(topic, poison)
        wait_until(lambda: dead_letters(edge) == n, 5, what=f"poison {n} refused")
        edge.stop()
        edge.start()
        wait_until(lambda: edge.get("/-/health").json()["broker"] == "connected", 10, what="edge back")
        body = valid_feedback(rit_id)
        kept.append(body["msg_id"])
        client.publish(feedback_topic(EDGE_VEHICLE, SEH_ID), json.dumps(body).encode())
        wait_until(lambda: _feedback_ids(tmp_path) == sorted(kept), 5, what="feedback kept after the poison")
        assert edge.get("/-/health").json()["mqtt_thread"] == "alive"
    assert dead_letters(edge) == 3
    # The read receipt the SEH sends when a nurse opens the rit still arrives and counts.
    assert seh.post(f"/api/v1/rits/{rit_id}/read").status_code == 200
    wait_until(lambda: edge.get(f"/api/v1/rits/{rit_id}").json()["messages"][0]["state"] == "read", 5,
               what="read receipt applied")


# -- receipts are bound to the SEH the message went to ----------------------------------------------
def test_a_receipt_on_another_sehs_topic_changes_nothing(seh, edge, client):
    rit_id, msg_id = announced(edge)
    forged = {"msg_id": msg_id, "rit_id": rit_id, "seq": 1, "type": "rejected", "at": utc_now(), "reason": "x"}
    client.publish(receipt_topic(EDGE_VEHICLE, "seh-antonius"), json.dumps(forged).encode())
    wait_until(lambda: dead_letters(edge) == 1, 5, what="forged receipt refused")
    assert edge.get(f"/api/v1/rits/{rit_id}").json()["messages"][0]["state"] == "delivered"
    # The same receipt from the SEH the message went to does count (the check above can fail).
    client.publish(receipt_topic(EDGE_VEHICLE, SEH_ID), json.dumps(forged).encode())
    wait_until(lambda: edge.get(f"/api/v1/rits/{rit_id}").json()["messages"][0]["state"] == "rejected", 5,
               what="receipt from the destination applied")
    assert dead_letters(edge) == 1


# -- one bad rit cannot blank the board ---------------------------------------------------------------
def test_a_patch_that_breaks_the_form_is_refused_and_the_board_stays(seh, client, tmp_path):
    client.subscribe(receipt_topic_filter(VALID_VEHICLE))
    rit_id = new_id()
    form = form_of(rit_id, VALID_VEHICLE)
    send(client, envelope(rit_id, 1, form, vehicle_id=VALID_VEHICLE))
    assert client.next_json(5)[1]["type"] == "delivered"
    broken = {**form, "vitals": {"e1": {"code": 147842}}}  # an item without its position
    send(client, envelope(rit_id, 2, {"vitals": {"e1": {"code": 147842}}}, kind="patch", status="update",
                          vehicle_id=VALID_VEHICLE, form=broken))
    got = client.next_json(5)[1]
    assert got["type"] == "rejected" and got["reason"].startswith("form:")
    assert dead_letters(seh) == 1 and seh.get(f"/api/v1/rits/{rit_id}").json()["seq"] == 1
    # Live values of the wrong shape are refused and counted; the board keeps answering.
    client.publish(live_topic(SEH_ID, VALID_VEHICLE), json.dumps({"vitals": [1, 2, 3]}).encode())
    wait_until(lambda: dead_letters(seh) == 2, 5, what="live garbage counted")
    assert seh.get("/bord/rijen").status_code == 200


def test_one_unreadable_rit_shows_as_such_and_the_rest_of_the_board_stays(seh, client, tmp_path):
    client.subscribe(receipt_topic_filter(VALID_VEHICLE))
    good, bad = new_id(), new_id()
    for rit_id in (good, bad):
        send(client, envelope(rit_id, 1, form_of(rit_id, VALID_VEHICLE, patient={"name": f"P-{rit_id[:4]}"}),
                              vehicle_id=VALID_VEHICLE))
        assert client.next_json(5)[1]["type"] == "delivered"
    # A form stored by an older release, before forms were checked on arrival.
    garbage = {"melding": "garbage", "patient": {"name": 5}, "vitals": {"e1": {"position": "x"}, "e2": {"position": 1}},
               "vehicle_position": {"eta": {"arrival_at": 17}}, "history": {"time": [1]}}
    with sqlite3.connect(tmp_path / "seh.db") as conn:
        # (the current form's checkpoint, the version's message body and the header's hash)
        conn.execute("UPDATE seh_forms SET form = ? WHERE rit_id = ?", [json.dumps(garbage), bad])
        conn.execute("UPDATE seh_versions SET body = ? WHERE rit_id = ?", [json.dumps(garbage), bad])
        conn.execute("UPDATE seh_rits SET form_sha256 = ? WHERE rit_id = ?", [form_sha256(garbage), bad])
    for path in ("/", "/bord/rijen"):
        page = seh.get(path)
        assert page.status_code == 200
        assert f"P-{good[:4]}" in page.text and "onleesbaar bericht" in page.text
    for path in (f"/rits/{bad}", f"/rits/{bad}/inhoud", f"/rits/{bad}/versies?seq=1"):
        page = seh.get(path)
        assert page.status_code == 200 and "onleesbaar bericht" in page.text, path
    assert "garbage" not in seh.log_text()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # that death is the point
def test_an_exception_in_a_callback_ends_pahos_thread_and_health_sees_it(broker, client):
    """Why every entry point is guarded, and what health and the watchdog look at."""
    from edge.sync.mqtt_client import connect_async, loop_alive, make_client

    victim = make_client(f"test-victim-{new_id()[:8]}")
    victim.on_connect = lambda c, u, f, rc, p: c.subscribe("poison/#", 1)
    victim.on_message = lambda c, u, m: json.loads(m.payload)  # what receivers used to do
    connect_async(victim, "127.0.0.1", broker.port)
    try:
        wait_until(victim.is_connected, 5, what="victim connected")
        wait_until(lambda: client.publish("poison/x", b"[" * 100_000) and not loop_alive(victim), 5,
                   what="network thread gone")
        assert victim.is_connected()  # the flag the old health check reported
    finally:
        victim.loop_stop()
