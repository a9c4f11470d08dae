"""100 short messages each way between a real ``ritlink serve`` and a real ``ritlink seh``,
each behind its own TCP link cutter, with a link cut on each side and a SIGKILL of each
process while it holds unsent messages, and publishes lost after the broker acknowledged
them (issue 19, "Messages"): every message arrives exactly
once and is shown in order (the msg_ids and seqs on both sides are compared one by one)."""

from __future__ import annotations

import time

import pytest

from simulators.link import LinkCutter
from simulators.mosquitto import free_port
from tests.harness.waiting import wait_until

COUNT = 100


@pytest.fixture
def cutters(broker):
    links = [LinkCutter(free_port(), "127.0.0.1", broker.port).start() for _ in range(2)]
    yield links
    for link in links:
        link.stop()


def _messages(proc, rit_id: str) -> list[dict]:
    answer = proc.get(f"/api/v1/rits/{rit_id}/berichten")
    return answer.json()["messages"] if answer.status_code == 200 else []


def _send(proc, rit_id: str, text: str) -> None:
    for _ in range(50):  # a process that is just restarting answers a moment later
        try:
            if proc.post(f"/api/v1/rits/{rit_id}/berichten", {"text": text}).status_code == 201:
                return
        except Exception:  # noqa: BLE001 (connection refused while restarting)
            pass
        time.sleep(0.2)
    raise AssertionError(f"could not send {text}")


def test_100_messages_each_way_through_cuts_and_kills_arrive_once_in_order(cutters, edge_process, seh_process):
    edge_link, seh_link = cutters
    seh = seh_process(broker_url=f"mqtt://127.0.0.1:{seh_link.listen[1]}")
    edge = edge_process(broker_url=f"mqtt://127.0.0.1:{edge_link.listen[1]}")
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="announced")

    # Each process is killed while its link is cut: what it stored meanwhile exists only in its
    # own database, and what the other side sent waits in the broker's session.
    def outbox(proc) -> int:
        return sum(1 for m in _messages(proc, rit_id) if m["own"] and m["state"] != "delivered")

    held = {}
    # ... and each link once acknowledges three publishes itself and throws them away (a broker
    # that loses acknowledged messages): only the resend until "delivered" brings those back.
    faults = {5: lambda: edge_link.drop_publishes(3), 45: lambda: seh_link.drop_publishes(3), 15: edge_link.cut, 30: lambda: held.update(edge=outbox(edge)) or edge.kill9() or edge.start(),
              40: edge_link.restore, 50: seh_link.cut,
              65: lambda: held.update(seh=outbox(seh)) or seh.kill9() or seh.start(), 75: seh_link.restore}
    started = time.monotonic()
    for i in range(COUNT):
        if i in faults:
            faults[i]()
        _send(edge, rit_id, f"v{i:03d}")
        _send(seh, rit_id, f"s{i:03d}")
    sent_at = time.monotonic()

    def settled() -> bool:
        at_edge, at_seh = _messages(edge, rit_id), _messages(seh, rit_id)
        return (len(at_edge) == len(at_seh) == 2 * COUNT
                and all(m["state"] == "delivered" for m in at_edge + at_seh if m["own"]))

    wait_until(settled, 90, interval=0.5, what="every message delivered both ways")
    took = time.monotonic() - sent_at
    at_edge, at_seh = _messages(edge, rit_id), _messages(seh, rit_id)
    for direction, sender, receiver, prefix in (("to_seh", at_edge, at_seh, "v"), ("to_vehicle", at_seh, at_edge, "s")):
        sent = sorted((m for m in sender if m["direction"] == direction), key=lambda m: m["seq"])
        got = [m for m in receiver if m["direction"] == direction]
        assert [m["seq"] for m in sent] == list(range(1, COUNT + 1))
        assert [m["text"] for m in sent] == [f"{prefix}{i:03d}" for i in range(COUNT)]
        # exactly once, and shown in the order sent: the same msg_ids, seqs and texts
        assert [(m["msg_id"], m["seq"], m["text"]) for m in sorted(got, key=lambda m: m["seq"])] == \
               [(m["msg_id"], m["seq"], m["text"]) for m in sent]
        assert len({m["msg_id"] for m in got}) == COUNT
    assert all(m["state"] == "new" for m in at_edge + at_seh if not m["own"])
    assert edge_link.stats.dropped_publishes == 3 and seh_link.stats.dropped_publishes == 3
    assert held["edge"] >= 14 and held["seh"] >= 14, held  # the kills hit unsent messages
    assert "broker disconnected" in edge.log_text() and "broker disconnected" in seh.log_text()
    print(f"unsent when killed: {held}")
    print(f"200 messages with 2 cuts, 2 SIGKILLs and 6 lost publishes: sent in {sent_at - started:.1f} s, all delivered "
          f"{took:.1f} s after the last one")
