"""National load: a load generator speaking the wire contract (edge/wire/contract.py) as N
vehicles -- each one rit, one update every 2 s, a live message every 5 s, a snapshot again
when the SEH asks for a resync -- against 1, 2 or 4 ``ritlink seh`` receivers on one private
mosquitto and one database ($share group beyond one). Beside it, in the same run and through
the same broker, a raw paho responder that answers every message at once (the floor).

Reports per configuration p50/p99 publish -> receipt, messages never receipted, resync
requests, receiver and mosquitto CPU; the saturation point (the first N where p99 passes
1 s or messages go unanswered); and the drain throughput of a burst for 1/2/4 receivers.

    .venv/bin/python bench/national_load.py [--vehicles 50 200 800 2000] [--seconds 20]
                                            [--receivers 1 2 4] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report as report  # noqa: E402
from bench._seh_messages import RitStream, wire  # noqa: E402
from edge.sync.mqtt_client import make_client, publish_properties  # noqa: E402
from edge.wire.contract import live_topic, receipt_topic, rit_topic, rit_topic_filter, utc_now  # noqa: E402
from simulators.mosquitto import Mosquitto  # noqa: E402
from simulators.processes import RitlinkProcess, write_toml  # noqa: E402

BENCH = "national_load"
SEH = "seh-umcu"
UPDATE_EVERY_S, LIVE_EVERY_S = 2.0, 5.0
PUBLISHERS = 8  # connections the vehicles share (per-vehicle order holds within one connection)
SATURATED_P99_MS = 1000.0
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Outcome:
    sent: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    resyncs: int = 0
    rejected: int = 0
    seconds: float = 0.0
    receiver_cpu: float = 0.0  # share of one core, all receivers together
    broker_cpu: float = 0.0

    @property
    def unanswered(self) -> int:
        return self.sent - len(self.latencies_ms) - self.rejected


class Receivers:
    """The system under test: ``count`` ritlink seh processes, or the raw responder."""

    def __init__(self, work: Path, broker: Mosquitto, count: int, raw: bool, tag: str):
        self.procs: list[RitlinkProcess] = []
        self.raw_client = None
        if raw:
            self.raw_client = make_client(f"raw-responder-{tag}")
            self.raw_client.on_message = _raw_answer
            self.raw_client.on_connect = lambda c, u, f, rc, p: c.subscribe(rit_topic_filter(SEH), qos=1)
            self.raw_client.connect("127.0.0.1", broker.port)
            self.raw_client.loop_start()
            return
        database = work / f"seh-{tag}.db"
        for i in range(count):
            values = {"seh_id": SEH, "broker_url": broker.url, "database": str(database), "log_level": "warning",
                      "instance": f"{tag}-{i}"}
            if count > 1:
                values["shared_group"] = f"g{tag}"
            conf = write_toml(work / f"seh-{tag}-{i}.toml", values)
            self.procs.append(RitlinkProcess("seh", conf, work / f"seh-{tag}-{i}.log").start(timeout=30))
        for proc in self.procs:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and proc.get("/-/health").json().get("broker") != "connected":
                time.sleep(0.1)

    def pids(self) -> list[int]:
        return [p.process.pid for p in self.procs if p.process]

    def cpu(self) -> float:
        if self.raw_client is not None:
            return cpu_seconds(os.getpid())  # the responder lives in this process (an upper bound)
        return sum(cpu_seconds(pid) for pid in self.pids())

    def state(self) -> str:
        """Each receiver's own view at the end: transactions, largest batch, queue depth."""
        parts = []
        for proc in self.procs:
            status = proc.get("/-/status").json()
            batches = status.get("batches", {})
            parts.append(f"{batches.get('count')} tx / {batches.get('messages')} msgs, largest {batches.get('largest')},"
                         f" inbox {status.get('inbox')}")
        return "; ".join(parts)

    def stop(self) -> None:
        if self.raw_client is not None:
            self.raw_client.disconnect()
            self.raw_client.loop_stop()
        for proc in self.procs:
            proc.stop()


def _raw_answer(client, userdata, message) -> None:
    """The least a receiver can do: parse the envelope and answer 'delivered'."""
    env = json.loads(message.payload)
    body = json.dumps({"msg_id": env["msg_id"], "rit_id": env["rit_id"], "seq": env["seq"], "type": "delivered",
                       "at": utc_now()}).encode()
    client.publish(message.properties.ResponseTopic, body, qos=1)


class Fleet:
    """N vehicles over a few publisher connections, and one subscriber for every receipt."""

    def __init__(self, broker: Mosquitto, vehicles: int, tag: str):
        self.streams = [RitStream(f"v{tag}-{i}", SEH, seed=hash((tag, i)) & 0xFFFF) for i in range(vehicles)]
        self.sent_at: dict[str, float] = {}
        self.outcome = Outcome()
        self.lock = threading.Lock()
        self.pending_snapshots: set[int] = set()
        self.publishers = []
        for i in range(min(PUBLISHERS, vehicles)):
            client = make_client(f"fleet-{tag}-{i}")
            client.connect("127.0.0.1", broker.port)
            client.loop_start()
            self.publishers.append(client)
        self.receipts = make_client(f"fleet-receipts-{tag}")
        self.receipts.on_message = self._on_receipt
        got = threading.Event()
        self.receipts.on_subscribe = lambda *a: got.set()
        self.receipts.connect("127.0.0.1", broker.port)
        self.receipts.subscribe(f"ritlink/v1/vehicle/+/receipt/{SEH}", qos=1)
        self.receipts.loop_start()
        got.wait(10)
        self.index = {s.vehicle_id: i for i, s in enumerate(self.streams)}

    def _on_receipt(self, client, userdata, message) -> None:
        now = time.perf_counter()
        data = json.loads(message.payload)
        with self.lock:
            if data["type"] == "resync":
                self.outcome.resyncs += 1
                self.pending_snapshots.add(self.index[message.topic.split("/")[3]])
                return
            started = self.sent_at.pop(data["msg_id"], None)
            if started is None:
                return
            if data["type"] == "rejected":
                self.outcome.rejected += 1
            else:
                self.outcome.latencies_ms.append((now - started) * 1000)

    def publish(self, i: int, envelope: dict) -> None:
        stream = self.streams[i]
        payload = wire(envelope)
        props = publish_properties(receipt_topic(stream.vehicle_id, SEH), envelope["msg_id"])
        with self.lock:
            self.sent_at[envelope["msg_id"]] = time.perf_counter()
            self.outcome.sent += 1
        self.publishers[i % len(self.publishers)].publish(rit_topic(SEH, stream.vehicle_id, stream.rit_id), payload,
                                                          qos=1, properties=props)

    def live(self, i: int) -> None:
        stream = self.streams[i]
        body = json.dumps({"vehicle_id": stream.vehicle_id, "at": utc_now(),
                           "vitals": [{"label": "HR", "value": 80, "unit": "/min"}],
                           "position": {"lat": 52.08, "lon": 5.18}}).encode()
        self.publishers[i % len(self.publishers)].publish(live_topic(SEH, stream.vehicle_id), body, qos=0)

    def drive(self, seconds: float) -> None:
        """Each vehicle announces, then sends an update every 2 s and live every 5 s; the vehicles
        spread over the 2 s as they would (800 announcements in one instant is not a shift)."""
        n = len(self.streams)
        started = time.monotonic()
        announced = [False] * n
        next_update = [started + UPDATE_EVERY_S * i / n for i in range(n)]
        next_live = [started + LIVE_EVERY_S * (i + 1) / n for i in range(n)]
        while (now := time.monotonic()) - started < seconds:
            with self.lock:
                asked, self.pending_snapshots = self.pending_snapshots, set()
            for i in asked:
                fresh = self.streams[i].snapshot()  # the vehicle's answer to a resync
                self.publish(i, fresh)
            for i in range(n):
                if next_update[i] <= now:
                    self.publish(i, self.streams[i].update() if announced[i] else self.streams[i].snapshot())
                    announced[i] = True
                    next_update[i] += UPDATE_EVERY_S
                if next_live[i] <= now:
                    self.live(i)
                    next_live[i] += LIVE_EVERY_S
            time.sleep(0.002)

    def prepare_burst(self, count: int) -> list[tuple[int, dict]]:
        """Announce every rit, then make ``count`` updates ready to publish."""
        n = len(self.streams)
        for i in range(n):
            self.publish(i, self.streams[i].snapshot())
        prepared = [(i % n, self.streams[i % n].update()) for i in range(count)]
        self.wait_answered(30)
        return prepared

    def wait_answered(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if not self.sent_at:
                    return
            time.sleep(0.02)

    def close(self) -> None:
        for client in (*self.publishers, self.receipts):
            client.disconnect()
            client.loop_stop()


def steady(work: Path, broker: Mosquitto, vehicles: int, receivers: int, raw: bool, seconds: float) -> Outcome:
    tag = f"{'raw' if raw else receivers}-{vehicles}"
    system = Receivers(work, broker, receivers, raw, tag)
    fleet = Fleet(broker, vehicles, tag)
    try:
        cpu0, broker0, t0 = system.cpu(), cpu_seconds(broker.process.pid), time.monotonic()
        fleet.drive(seconds)
        fleet.wait_answered(10)
        elapsed = time.monotonic() - t0
        outcome = fleet.outcome
        outcome.seconds = elapsed
        outcome.receiver_cpu = (system.cpu() - cpu0) / elapsed
        outcome.broker_cpu = (cpu_seconds(broker.process.pid) - broker0) / elapsed
        if not raw:
            print(f"  {vehicles} vehicles, {receivers} receiver(s): {system.state()}", flush=True)
        return outcome
    finally:
        fleet.close()
        system.stop()


def throughput(work: Path, broker: Mosquitto, receivers: int, raw: bool, count: int) -> float:
    """Messages per second receipted when a burst of ``count`` updates over 200 rits arrives."""
    tag = f"burst-{'raw' if raw else receivers}"
    system = Receivers(work, broker, receivers, raw, tag)
    fleet = Fleet(broker, min(200, count), tag)
    try:
        prepared = fleet.prepare_burst(count)
        started = time.perf_counter()
        for i, envelope in prepared:  # as fast as they can be published
            fleet.publish(i, envelope)
        fleet.wait_answered(120)
        seconds = time.perf_counter() - started
        answered = len(fleet.outcome.latencies_ms) - min(200, count)
        if fleet.outcome.unanswered:
            print(f"burst: {fleet.outcome.unanswered} messages never answered", flush=True)
            return float("nan")
        return answered / seconds if seconds > 0 else float("nan")
    finally:
        fleet.close()
        system.stop()


def _describe(outcome: Outcome) -> str:
    return (f"unanswered {outcome.unanswered}, resyncs {outcome.resyncs}, receiver CPU "
            f"{100 * outcome.receiver_cpu:.0f} %, mosquitto CPU {100 * outcome.broker_cpu:.0f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, nargs="+", default=[50, 200, 800, 2000])
    parser.add_argument("--receivers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--burst", type=int, default=4000)
    report.add_common_args(parser)
    args = parser.parse_args()
    fleet_sizes, receivers = ([5], [1, 2]) if args.smoke else (args.vehicles, args.receivers)
    seconds, burst = (3.0, 100) if args.smoke else (args.seconds, args.burst)
    rows = []
    saturation = None
    with tempfile.TemporaryDirectory(prefix="national-load-") as tmp:
        work = Path(tmp)
        # As the product's broker (systemd/mosquitto/ritlink.conf): mosquitto's default queue of
        # 1,000 messages per client silently drops what a busy receiver has not taken yet.
        broker = Mosquitto(work / "broker", extra_config="max_queued_messages 10000\n").start()
        try:
            for vehicles in fleet_sizes:
                raw = steady(work, broker, vehicles, 1, True, seconds)
                seh = steady(work, broker, vehicles, 1, False, seconds)
                print(f"{vehicles} vehicles: seh {_describe(seh)}; raw {_describe(raw)}", flush=True)
                rows.append(report.latency(BENCH, f"{vehicles} vehicles, 1 receiver: publish -> receipt",
                                           seh.latencies_ms, "raw paho responder, same load", raw.latencies_ms))
                rows.append(report.text(BENCH, f"{vehicles} vehicles, 1 receiver: load", _describe(seh),
                                        "raw paho responder", _describe(raw)))
                p99 = report.p50_p99(seh.latencies_ms)[1]
                if saturation is None and (seh.unanswered > 0 or not p99 <= SATURATED_P99_MS):
                    saturation = vehicles
            rows.append(report.text(BENCH, "saturation point, 1 receiver (p99 > 1 s or unanswered)",
                                    f"{saturation} vehicles" if saturation else f"not reached at {max(fleet_sizes)}",
                                    "largest fleet measured", f"{max(fleet_sizes)} vehicles"))
            raw_rate = throughput(work, broker, 1, True, burst)
            one = None
            for count in receivers:
                rate = throughput(work, broker, count, False, burst)
                one = one or rate
                print(f"burst of {burst}: {count} receiver(s) {rate:.0f} msg/s (raw {raw_rate:.0f})", flush=True)
                rows.append(report.single(BENCH, f"burst of {burst} updates drained, {count} receiver(s)", rate,
                                          "msg/s", "1 receiver" if count > 1 else "raw paho responder",
                                          one if count > 1 else raw_rate))
        finally:
            broker.stop()
    report.emit(rows, args.results)


if __name__ == "__main__":
    main()
