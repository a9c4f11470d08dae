"""The sender's PUBACK handling on paho's network thread (edge/sync/sender.py), on a real
mosquitto and a real store.

- A store that cannot write when a PUBACK arrives (full disk) used to raise on paho's network
  thread, which then died: no receipt, no update, nothing more over MQTT until a restart.
- Acks of publishes the sender never mapped (live values and receipts go on the same client)
  stayed forever; once paho's message ids wrapped at 65,535 such a stale ack was taken for a
  new message's (here: a refusal, so the message waited for its 15 s resend).
"""

from __future__ import annotations

import sqlite3
import time

import pytest

from edge.service import EdgeService
from edge.store.audit import Actor
from edge.sync import sender
from tests.harness.online_edge import online_edge
from tests.harness.waiting import wait_until

CREW = Actor(user="J. de Vries", role="ambulance", client="test")
DELIVERED_WITHIN_S = 5.0  # well under the 15 s resend: the ack was taken as it came
MAX_EARLY_ACKS = 1_000  # sender.MAX_EARLY_ACKS


@pytest.fixture
def online(tmp_path, broker, seh_process):
    seh_process()
    with online_edge(tmp_path, broker.url) as (service, sync):
        yield service, sync


def _state(service: EdgeService, msg_id: str) -> str:
    return service.store.query("SELECT state FROM outbox WHERE msg_id = ?", [msg_id])[0]["state"]


def test_a_store_that_cannot_write_at_the_puback_does_not_stop_the_network_thread(online):
    service, sync = online
    rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
    real_advance = service.store.advance
    refused = []

    def full_disk(msg_id, state, reason=None):
        if state == "sent" and not refused:
            refused.append(msg_id)
            raise sqlite3.OperationalError("database or disk is full")
        return real_advance(msg_id, state, reason)

    service.store.advance = full_disk  # the store's own fault, not a stand-in for paho
    first = service.announce(rit_id, actor=CREW)["msg_id"]
    wait_until(lambda: refused, 5, what="the PUBACK met a full store")
    # The network thread lives on: the receipt of this message and of the next one arrive.
    wait_until(lambda: _state(service, first) == "delivered", 20, what="the first message delivered")
    service.add_vitals(rit_id, {"heart_rate": 80}, actor=CREW)
    newest = service.store.query("SELECT msg_id FROM outbox ORDER BY seq DESC LIMIT 1")[0]["msg_id"]
    wait_until(lambda: _state(service, newest) == "delivered", 10, what="the next message delivered")


def test_a_stale_ack_of_an_unmapped_mid_is_not_taken_for_a_new_message(online, caplog):
    service, sync = online
    caplog.set_level("ERROR", logger="ritlink")
    rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
    # An ack of a live-value publish long ago, with the mid the next publish will get after the wrap.
    next_mid = sync.client._last_mid % 65535 + 1
    sync._early_acks[next_mid] = (0x87, time.monotonic() - 600)  # "not authorised", ten minutes old
    started = time.monotonic()
    msg_id = service.announce(rit_id, actor=CREW)["msg_id"]
    wait_until(lambda: _state(service, msg_id) == "delivered", 20, what="the vooraankondiging delivered")
    assert time.monotonic() - started < DELIVERED_WITHIN_S
    assert not [r for r in caplog.records if "broker refused" in r.getMessage()]  # it never did


def test_acks_of_unmapped_publishes_do_not_pile_up(online, monkeypatch):
    service, sync = online
    monkeypatch.setattr(sender, "EARLY_ACK_KEEP_S", 0.3, raising=False)  # the age limit, shortened

    def burst(count: int) -> None:  # live values: QoS 0, acked to on_publish all the same
        for _ in range(count):
            sync.client.publish("ritlink/test/live", b"{}", 0)
        time.sleep(1.0)  # written and acknowledged to on_publish by then (a few ms on loopback)

    burst(MAX_EARLY_ACKS // 2 + 100)
    assert len(sync._early_acks) >= MAX_EARLY_ACKS // 2  # they were counted, and are old now
    burst(MAX_EARLY_ACKS // 2 + 100)  # past the count: the old ones go
    assert len(sync._early_acks) <= MAX_EARLY_ACKS // 2 + 110
