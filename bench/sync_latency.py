"""Sync latency: announce -> delivered and save -> delivered, for 1 ambulance and for 50 on one
SEH, next to the raw paho QoS 1 request -> response round trip on the same broker.

    .venv/bin/python bench/sync_latency.py [--rounds 200] [--vehicles 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._rig import edge, percentiles, start_broker_and_seh, vital, wait_delivered  # noqa: E402
from edge.sync.mqtt_client import make_client, publish_properties  # noqa: E402


def raw_round_trip(port: int, rounds: int) -> list[float]:
    """A plain paho requester and responder (both TCP_NODELAY): QoS 1 there and back."""
    got = threading.Event()
    responder, requester = make_client("bench-responder"), make_client("bench-requester")
    responder.on_message = lambda c, u, m: c.publish(m.properties.ResponseTopic, m.payload, qos=1)
    requester.on_message = lambda c, u, m: got.set()
    for client, topic in ((responder, "bench/request"), (requester, "bench/response")):
        client.connect("127.0.0.1", port)
        client.subscribe(topic, qos=1)
        client.loop_start()
    time.sleep(0.5)
    samples = []
    for _ in range(rounds):
        got.clear()
        started = time.perf_counter()
        requester.publish("bench/request", b"x" * 1000, qos=1, properties=publish_properties("bench/response"))
        if got.wait(5):
            samples.append((time.perf_counter() - started) * 1000)
    for client in (responder, requester):
        client.disconnect()
        client.loop_stop()
    return samples


def one_vehicle(work: Path, broker, rounds: int) -> tuple[list[float], list[float]]:
    store, sync = edge(work, broker, "ambu-bench")
    sync.start()
    sync.connected.wait(10)
    announce, save = [], []
    rit_id = None
    for i in range(rounds):
        if i % 10 == 0:  # a new rit every 10 saves: announce latency on fresh streams too
            rit_id = store.create_rit("ambu-bench", "seh-umcu", "A1")
            started = time.perf_counter()
            msg_id = store.announce(rit_id)
            sync.wake()
            if wait_delivered(store, msg_id) is not None:
                announce.append((time.perf_counter() - started) * 1000)
            continue
        started = time.perf_counter()
        store.add_entries(rit_id, [vital(90 + i % 10)])
        sync.wake()
        msg_id = store.query("SELECT msg_id FROM outbox WHERE rit_id = ? ORDER BY seq DESC LIMIT 1", [rit_id])[0]["msg_id"]
        if wait_delivered(store, msg_id) is not None:
            save.append((time.perf_counter() - started) * 1000)
    sync.stop()
    return announce, save


def many_vehicles(work: Path, broker, vehicles: int, saves_each: int) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()

    def ambulance(n: int) -> None:
        store, sync = edge(work, broker, f"ambu-{n:03d}")
        sync.start()
        sync.connected.wait(10)
        rit_id = store.create_rit(f"ambu-{n:03d}", "seh-umcu", "A2")
        wait_delivered(store, store.announce(rit_id))
        for i in range(saves_each):
            time.sleep(0.2)  # each ambulance saves about 5 times a second: a busy shift, 50 at once
            started = time.perf_counter()
            store.add_entries(rit_id, [vital(90 + i % 10)])
            sync.wake()
            msg_id = store.query("SELECT msg_id FROM outbox WHERE rit_id = ? ORDER BY seq DESC LIMIT 1",
                                 [rit_id])[0]["msg_id"]
            if wait_delivered(store, msg_id) is not None:
                with lock:
                    samples.append((time.perf_counter() - started) * 1000)
        sync.stop()

    threads = [threading.Thread(target=ambulance, args=(n,)) for n in range(vehicles)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--saves-each", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ritlink-bench-") as tmp:
        work = Path(tmp)
        broker, seh = start_broker_and_seh(work)
        try:
            raw = raw_round_trip(broker.port, args.rounds)
            announce, save = one_vehicle(work, broker, args.rounds)
            crowd = many_vehicles(work, broker, args.vehicles, args.saves_each)
        finally:
            seh.stop()
            broker.stop()
    print("sync latency on this machine (loopback mosquitto, SEH receiver in its own process)")
    print(f"  raw paho QoS 1 request->response      {percentiles(raw)}")
    print(f"  1 vehicle: announce -> delivered      {percentiles(announce)}")
    print(f"  1 vehicle: save -> delivered          {percentiles(save)}")
    print(f"  {args.vehicles} vehicles: save -> delivered      {percentiles(crowd)}")


if __name__ == "__main__":
    main()
