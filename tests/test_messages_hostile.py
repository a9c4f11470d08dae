"""Hostile message and receipt payloads against the real ``ritlink seh`` and ``ritlink serve``
(issue 19): forged ids against the topic, huge, nested, NaN, huge integers, replays with
other content, a second message for a taken seq, receipts for unknown or foreign messages.
Each is refused and counted as a dead letter, the process stays up, and a good message
after them arrives once; a replay of a good message is answered again but kept once; a
message after a gap waits unseen until the gap fills."""

from __future__ import annotations

import json

from edge.wire import messages as wire
from edge.wire.contract import new_id, utc_now
from tests.harness.mqtt import TestClient
from tests.harness.waiting import wait_until

SEH, VEHICLE = "seh-umcu", "ambu-01"


def message(direction: str, rit_id: str, seq: int, text: str = "hallo", **changes) -> dict:
    return {"schema": wire.SCHEMA, "type": "message", "msg_id": new_id(), "rit_id": rit_id, "seh_id": SEH,
            "vehicle_id": VEHICLE, "direction": direction, "seq": seq, "text": text, "author": "test",
            "sent_at": utc_now(), **changes}


def hostile(direction: str, rit_id: str) -> list[bytes]:
    def dump(body) -> bytes:
        return json.dumps(body).encode()

    good = message(direction, rit_id, 1)
    return [
        b"not json",
        b"[" * 100_000,
        b'{"text": "' + b"x" * 10_000 + b'"}',
        dump(message(direction, rit_id, 7, text="x" * 300)),
        b'{"schema": "ritlink.bericht/1", "type": "message", "seq": NaN}',
        dump({**good, "seq": 2**70}),
        dump({**good, "seq": 0}),
        dump({**good, "vehicle_id": "ambu-02"}),  # forged: not the vehicle of the topic
        dump({**good, "seh_id": "seh-antonius"}),  # forged: not the SEH of the topic
        dump({**good, "direction": "to_seh" if direction == "to_vehicle" else "to_vehicle"}),
        dump({**good, "schema": "ritlink.bericht/99"}),
        dump({**good, "text": "a\u0000b"}),
        dump({**good, "text": ["nested", {"deep": [1, 2]}]}),
        dump({**good, "type": "receipt", "receipt": "read", "at": utc_now()}),  # a receipt for nothing we sent
        dump({**good, "type": "receipt", "receipt": "gelezen", "at": utc_now()}),
    ]


def test_hostile_payloads_are_refused_and_both_receivers_stay_up(broker, edge_process, seh_process):
    seh, edge = seh_process(), edge_process()
    rit_id = edge.post("/api/v1/rits", {"destination_seh": SEH, "urgency": "A2"}).json()["rit_id"]
    edge.post(f"/api/v1/rits/{rit_id}/announce")
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="announced")
    attacker = TestClient(broker.port)
    before = {"seh": seh.get("/-/health").json()["dead_letters"], "edge": edge.get("/-/health").json()["dead_letters"]}
    to_seh, to_vehicle = wire.to_seh_topic(SEH, VEHICLE), wire.to_vehicle_topic(VEHICLE, SEH)
    sent = {"seh": hostile("to_seh", rit_id), "edge": hostile("to_vehicle", rit_id)}
    for payload in sent["seh"]:
        attacker.publish(to_seh, payload)
    for payload in sent["edge"]:
        attacker.publish(to_vehicle, payload)
    for side, proc in (("seh", seh), ("edge", edge)):
        wait_until(lambda: proc.get("/-/health").json()["dead_letters"] - before[side] >= len(sent[side]), 10,
                   what=f"every hostile payload a dead letter at the {side}")
        health = proc.get("/-/health")
        assert health.status_code == 200 and health.json()["mqtt_thread"] == "alive"

    # A good message each way still arrives; a replay of it with other content is refused,
    # a byte-for-byte replay is answered "delivered" again and kept once.
    good_seh, good_vehicle = message("to_seh", rit_id, 1, "is de CT vrij?"), message("to_vehicle", rit_id, 1, "ja")
    listener = TestClient(broker.port)
    listener.subscribe(to_seh)
    for topic, body in ((to_seh, good_seh), (to_vehicle, good_vehicle)):
        for payload in (json.dumps(body), json.dumps(body), json.dumps({**body, "text": "iets anders"}),
                        json.dumps({**body, "msg_id": new_id(), "text": "zelfde seq"})):
            attacker.publish(topic, payload.encode())
    wait_until(lambda: [m["text"] for m in seh.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]]
               == ["is de CT vrij?"], 10, what="the good message at the SEH, once")
    wait_until(lambda: [m["text"] for m in edge.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]]
               == ["ja"], 10, what="the good message on the tablet, once")
    receipts = []
    wait_until(lambda: receipts.extend(_drain(listener)) or
               sum(1 for r in receipts if r.get("receipt") == "delivered" and r["msg_id"] == good_vehicle["msg_id"]) >= 2,
               10, what="delivered answered for the replay too")
    assert any(r.get("receipt") == "rejected" for r in receipts)
    for side, proc in (("seh", seh), ("edge", edge)):
        # (each side also counts the other's "rejected" answers to the attacker's messages:
        # receipts for messages it never sent)
        assert proc.get("/-/health").json()["dead_letters"] - before[side] >= len(sent[side]) + 2
        assert proc.get("/-/health").json()["mqtt_thread"] == "alive"
    # A gap: seq 3 before seq 2 is kept but not shown until seq 2 is there, then both in order.
    for topic, direction, proc, first in ((to_seh, "to_seh", seh, "is de CT vrij?"), (to_vehicle, "to_vehicle", edge, "ja")):
        attacker.publish(topic, json.dumps(message(direction, rit_id, 3, "drie")).encode())
        wait_until(lambda: proc.get(f"/api/v1/rits/{rit_id}/berichten").json()["held"] == 1, 10, what="seq 3 held")
        assert [m["text"] for m in proc.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]] == [first]
        attacker.publish(topic, json.dumps(message(direction, rit_id, 2, "twee")).encode())
        wait_until(lambda: [m["text"] for m in proc.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]]
                   == [first, "twee", "drie"], 10, what="the gap filled, in order")
    assert "Traceback" not in seh.log_text() + edge.log_text()
    assert "is de CT vrij" not in seh.log_text() + edge.log_text()  # no message text in the logs


def _drain(client: TestClient) -> list[dict]:
    out = []
    while not client.messages.empty():
        out.append(json.loads(client.messages.get_nowait()[1]))
    return out
