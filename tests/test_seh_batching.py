"""A burst at a real ``ritlink seh``: the messages that arrive together are applied together
(fewer transactions than messages), every one is receipted, and none is asked for again."""

from __future__ import annotations

import pytest

from bench._seh_messages import RitStream, wire
from edge.sync.mqtt_client import publish_properties
from edge.wire.contract import receipt_topic, receipt_topic_filter, rit_topic
from tests.conftest import SEH_ID
from tests.harness.mqtt import TestClient
from tests.harness.waiting import wait_until

RITS, UPDATES = 20, 10


@pytest.mark.timeout(60)
def test_a_burst_is_applied_in_batches_and_every_message_receipted(broker, seh_process):
    seh = seh_process()
    wait_until(lambda: seh.get("/-/health").json()["broker"] == "connected", 10, what="SEH connected")
    fleet = TestClient(broker.port)
    fleet.subscribe(receipt_topic_filter("+"))
    streams = [RitStream(f"ambu-{i}", SEH_ID, seed=i) for i in range(RITS)]
    messages = [s.snapshot() for s in streams] + [s.update() for _ in range(UPDATES) for s in streams]
    for message in messages:  # as fast as paho sends them: no waiting for each PUBACK
        fleet.client.publish(rit_topic(SEH_ID, message["vehicle_id"], message["rit_id"]), wire(message), qos=1,
                             properties=publish_properties(receipt_topic(message["vehicle_id"], SEH_ID),
                                                           message["msg_id"]))
    answered = {}
    while len(answered) < len(messages):
        _, receipt = fleet.next_json(20)
        answered[receipt["msg_id"]] = receipt["type"]
    fleet.close()
    assert set(answered) == {m["msg_id"] for m in messages}
    assert set(answered.values()) == {"delivered"}
    status = seh.get("/-/status").json()
    assert status["receipts"].get("resync", 0) == 0 and status["receipts"]["delivered"] == len(messages)
    batches = status["batches"]
    assert batches["messages"] == len(messages)
    assert batches["largest"] > 1 and batches["count"] < len(messages), batches
    assert status["storage"]["database_bytes"] > 0 and status["storage"]["oldest_rit_at"]
