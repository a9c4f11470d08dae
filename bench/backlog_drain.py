"""Draining an hour offline: one change every 10 s plus monitor vitals every 5 min, saved
while the tablet has no link, then the link comes back. Prints the time until the SEH has it
all beside a raw paho client that connects and does one QoS 1 round trip with the same bytes
(same run, same broker), and the bytes on the wire beside a full snapshot for every change.

    .venv/bin/python bench/backlog_drain.py [--minutes 60] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report as report  # noqa: E402
from bench._rig import CREW, start_broker_and_seh, vehicle, wait_delivered  # noqa: E402
from edge.sync.mqtt_client import make_client, publish_properties  # noqa: E402
from edge.wire.canonical import canonical_json  # noqa: E402

BENCH = "backlog_drain"
CHANGE_EVERY_S, VITALS_EVERY_S = 10, 300


def raw_connect_and_round_trip(port: int, payload: bytes) -> float:
    """ms from a fresh paho client's connect until a raw responder's answer to one QoS 1 publish."""
    got = threading.Event()
    responder = make_client("drain-responder")
    responder.on_message = lambda c, u, m: c.publish(m.properties.ResponseTopic, b"ok", qos=1)
    responder.connect("127.0.0.1", port)
    responder.subscribe("drain/request", qos=1)
    responder.loop_start()
    time.sleep(0.2)
    started = time.perf_counter()
    client = make_client("drain-requester")
    client.on_connect = lambda c, u, f, rc, p: c.subscribe("drain/response", qos=1)
    client.on_subscribe = lambda *a: c_publish()
    client.on_message = lambda c, u, m: got.set()

    def c_publish() -> None:
        client.publish("drain/request", payload, qos=1, properties=publish_properties("drain/response"))

    client.connect("127.0.0.1", port)
    client.loop_start()
    got.wait(10)
    elapsed = (time.perf_counter() - started) * 1000
    for c in (client, responder):
        c.disconnect()
        c.loop_stop()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60, help="how long the tablet was offline")
    report.add_common_args(parser)
    args = parser.parse_args()
    offline_s = 300 if args.smoke else args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="ritlink-bench-") as tmp:
        work = Path(tmp)
        broker, seh = start_broker_and_seh(work)
        try:
            car = vehicle(work, broker, "ambu-backlog").online()
            rit_id = car.new_rit()
            wait_delivered(car.store, car.announce(rit_id))  # the SEH has the vooraankondiging
            car.offline()  # the same tablet, now offline: everything saved waits in the outbox
            snapshot_bytes = 0
            for t in range(0, offline_s, CHANGE_EVERY_S):
                values = {"spo2": 90 + (t // CHANGE_EVERY_S) % 10}
                if t % VITALS_EVERY_S == 0:
                    values["heart_rate"] = 70 + t % 7
                car.service.add_vitals(rit_id, values, actor=CREW, source="device:monitor")
                snapshot_bytes += len(canonical_json(car.store.rit(rit_id)["form"]))
            changes = offline_s // CHANGE_EVERY_S
            pending = car.store.query("SELECT msg_id, length(body_json) AS n FROM outbox WHERE rit_id = ? AND seq > 1",
                                      [rit_id])
            wire_bytes = sum(row["n"] for row in pending)
            car.store.close()
            started = time.perf_counter()
            car = vehicle(work, broker, "ambu-backlog").online()
            drained = [wait_delivered(car.store, row["msg_id"], 60) for row in pending]
            drain_ms = (time.perf_counter() - started) * 1000
            car.offline()
            at_seh = seh.get(f"/api/v1/rits/{rit_id}").json()
            same = at_seh["form_sha256"] == car.store.rit(rit_id)["form_sha256"]
            raw_ms = statistics.median(raw_connect_and_round_trip(broker.port, b"x" * max(wire_bytes, 1))
                                       for _ in range(5))
        finally:
            seh.stop()
            broker.stop()
    print(f"{offline_s // 60} min offline: {changes} changes saved, {len(pending)} message(s) waiting after "
          f"coalescing; all delivered: {all(d is not None for d in drained)}; hashes equal: {same}")
    rows = [
        report.single(BENCH, f"drain after {offline_s // 60} min offline: link back -> SEH confirmed all", drain_ms,
                      "ms", "raw paho: connect + one QoS 1 round trip of the same bytes", raw_ms),
        report.single(BENCH, f"form bytes on the wire ({len(pending)} coalesced message(s))", wire_bytes, "B",
                      f"a full snapshot for each of the {changes} changes", snapshot_bytes),
    ]
    report.emit(rows, args.results)
    if not (same and all(d is not None for d in drained)):
        sys.exit("the backlog did not arrive whole at the SEH")


if __name__ == "__main__":
    main()
