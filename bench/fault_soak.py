"""The fault soak over several seeds, beside a peer: the same number of changes sent by a
plain paho client through a mosquitto bridge on the tablet (persistence on) instead of
ritlink's outbox, with the same kinds of faults (SIGKILLs of the tablet's broker, link cuts
between the bridge and the central broker). The peer is a fair one: it publishes each
message once and waits for that message's PUBACK before the next (paho itself resends the
one in flight after a reconnect), so every duplicate it shows was made by the bridge. It
runs in two configurations: mosquitto's autosave defaults (the database is written only on
a clean shutdown, so a SIGKILL loses all queued state) and ``autosave_interval 1``.

Prints, per seed and as min/median/max over the seeds: acknowledged, lost (acknowledged but
never at the receiver), extra and duplicated. For ritlink these are entry ids (the verdict
of simulators/soak_check.py); for the peer, message numbers.

    .venv/bin/python bench/fault_soak.py [--seeds 1,2,3] [--kills 10] [--changes 200]
                                         [--no-peer] [--no-ritlink] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report as report  # noqa: E402
from edge.sync.mqtt_client import make_client  # noqa: E402
from simulators.fault_soak import Soak  # noqa: E402
from simulators.link import LinkCutter  # noqa: E402
from simulators.mosquitto import Mosquitto, free_port  # noqa: E402

BENCH = "fault_soak"
TOPIC = "ritlink/v1/seh/seh-umcu/from/ambu-peer/rit/peer"
PEER_CONFIGS = {"autosave defaults": "", "autosave_interval 1": "autosave_interval 1\n"}
PUBACK_TIMEOUT_S = 60.0
METRICS = ("acknowledged", "lost", "extra", "duplicated")


def _wait_for(condition, timeout_s: float, poll_s: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()


def bridge_peer(work: Path, seed: int, changes: int, kills: int, persistence: str, cut_every: int = 15) -> dict:
    rng = random.Random(seed)
    central = Mosquitto(work / "central").start()
    cutter = LinkCutter(free_port(), "127.0.0.1", central.port).start()
    bridge_conf = (f"connection central\naddress 127.0.0.1:{cutter.listen[1]}\ntopic ritlink/# out 1\n"
                   "cleansession false\nrestart_timeout 1\n" + persistence)
    local = Mosquitto(work / "local", extra_config=bridge_conf).start()

    received: list[int] = []
    subscribed = threading.Event()
    seh = make_client(f"peer-seh-{seed}")
    seh.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC, qos=1)
    seh.on_subscribe = lambda *a: subscribed.set()
    seh.on_message = lambda c, u, m: received.append(json.loads(m.payload)["n"])
    seh.connect("127.0.0.1", central.port, clean_start=False)
    seh.loop_start()
    subscribed.wait(10)

    acked_mids: set[int] = set()  # filled by paho's thread; read here (set.add is atomic under the GIL)
    publisher = make_client(f"peer-vehicle-{seed}")
    publisher.on_publish = lambda c, u, mid, rc, p: acked_mids.add(mid)
    publisher.connect("127.0.0.1", local.port)
    publisher.loop_start()
    acknowledged: set[int] = set()
    unanswered = 0
    kill_points = set(rng.sample(range(5, changes), kills))
    timers = []
    for n in range(changes):
        if n in kill_points:
            local.kill9()
            time.sleep(rng.uniform(0.1, 1.0))
            local.start()
        if n % cut_every == 0 and n:
            cutter.cut()
            timers.append(threading.Timer(rng.uniform(0.5, 2.0), cutter.restore))
            timers[-1].start()
        # Once: while disconnected paho keeps it and sends it after the reconnect.
        info = publisher.publish(TOPIC, json.dumps({"n": n}).encode(), qos=1)
        if _wait_for(lambda: info.mid in acked_mids, PUBACK_TIMEOUT_S):
            acknowledged.add(n)
        else:
            unanswered += 1
        time.sleep(rng.uniform(0.0, 0.05))
    for timer in timers:
        timer.join()
    cutter.restore()
    # Let the bridge drain: until everything acknowledged arrived, or nothing new for 5 s.
    last, still_since = -1, time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not acknowledged <= set(received):
        if len(received) != last:
            last, still_since = len(received), time.monotonic()
        elif time.monotonic() - still_since > 5:
            break
        time.sleep(0.1)
    time.sleep(1.0)  # late duplicates
    for client in (publisher, seh):
        client.disconnect()
        client.loop_stop()
    cutter.stop()
    local.stop()
    central.stop()
    unique = set(received)
    return {"acknowledged": len(acknowledged), "lost": len(acknowledged - unique),
            "extra": len(unique - set(range(changes))), "duplicated": len(received) - len(unique),
            "unanswered": unanswered}


def ritlink_soak(work: Path, seed: int, changes: int, kills: int, cut_every: int) -> dict:
    result = Soak(work, seed, changes, kills, cut_every).run()
    return {"acknowledged": result.entries_acknowledged, "lost": result.lost, "extra": result.extra,
            "duplicated": result.duplicated, "passed": result.passed, "hashes_equal": result.hashes_equal,
            "message_states": dict(result.message_states),
            "kills": dict(result.kills), "cuts": result.cuts, "seconds": result.seconds}


def spread(runs: list[dict], metric: str) -> str:
    values = [run[metric] for run in runs]
    return f"{min(values)} / {statistics.median(values):g} / {max(values)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1,2,3")
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--cut-every", type=int, default=15)
    parser.add_argument("--no-peer", action="store_true", help="skip the bridge peer")
    parser.add_argument("--no-ritlink", action="store_true", help="only the bridge peer")
    report.add_common_args(parser)
    args = parser.parse_args()
    if args.smoke:
        args.seeds, args.kills, args.changes, args.cut_every = "1", 3, 20, 10
    seeds = [int(s) for s in args.seeds.split(",") if s]
    rows_by: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="ritlink-soak-") as tmp:
        for seed in seeds:
            if not args.no_ritlink:
                run = ritlink_soak(Path(tmp) / f"ritlink-{seed}", seed, args.changes, args.kills, args.cut_every)
                rows_by.setdefault("ritlink (outbox)", []).append({"seed": seed, **run})
                print(f"seed {seed}: ritlink {run}", flush=True)
            if not args.no_peer:
                for name, persistence in PEER_CONFIGS.items():
                    run = bridge_peer(Path(tmp) / f"peer-{seed}-{len(rows_by)}-{name[:8]}", seed, args.changes,
                                      args.kills, persistence, args.cut_every)
                    rows_by.setdefault(f"paho via mosquitto bridge, {name}", []).append({"seed": seed, **run})
                    print(f"seed {seed}: bridge peer, {name}: {run}", flush=True)
    print(f"\nfault soak: seeds {seeds}, {args.changes} changes, {args.kills} SIGKILLs, "
          f"link cut every {args.cut_every} changes")
    print(f"  {'':42} {'seed':>5} " + " ".join(f"{m:>12}" for m in METRICS))
    for name, runs in rows_by.items():
        for run in runs:
            print(f"  {name:42} {run['seed']:>5} " + " ".join(f"{run[m]:>12}" for m in METRICS))
    print("  (ritlink counts vital-sign entry ids; the peer counts messages; the peer's broker is killed "
          "instead of the tablet service)")
    rows = []
    ours = rows_by.get("ritlink (outbox)")
    for name, runs in rows_by.items():
        if ours is not None and runs is ours:
            continue
        for metric in ("lost", "duplicated"):
            rows.append(report.text(
                BENCH, f"ritlink outbox: {metric} of acknowledged (min / median / max over seeds {args.seeds})",
                spread(ours, metric) if ours else "not run", f"{name}: {metric}", spread(runs, metric)))
    if ours and not rows:
        rows = [report.text(BENCH, f"ritlink outbox: {m} (min / median / max over seeds {args.seeds})",
                            spread(ours, m), "peer not run", "") for m in ("lost", "extra", "duplicated")]
    if ours:
        rows.append(report.text(BENCH, f"ritlink outbox: extra entries, of acknowledged {spread(ours, 'acknowledged')}",
                                spread(ours, "extra"), "verdict (missing, extra, doubled ids; hashes)",
                                "passed on every seed" if all(r["passed"] for r in ours) else "FAILED"))
    report.emit(rows, args.results)
    if ours and not all(r["passed"] for r in ours):
        sys.exit("the ritlink soak's verdict failed")


if __name__ == "__main__":
    main()
