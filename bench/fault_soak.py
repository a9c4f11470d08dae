"""The fault soak at any length, next to a side-by-side peer: the same number of changes sent
by a plain paho client through a mosquitto bridge on the tablet (persistence on, default
autosave) instead of ritlink's outbox, with the same kinds of faults. Prints lost and
duplicated counts for both in one table.

    .venv/bin/python bench/fault_soak.py --seed 1 --kills 10 [--changes 200]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.sync.mqtt_client import make_client  # noqa: E402
from simulators.fault_soak import Soak  # noqa: E402
from simulators.link import LinkCutter  # noqa: E402
from simulators.mosquitto import Mosquitto, free_port  # noqa: E402

TOPIC = "ritlink/v1/seh/seh-umcu/from/ambu-peer/rit/peer"


def bridge_peer(work: Path, seed: int, changes: int, kills: int, cut_every: int = 15) -> dict:
    rng = random.Random(seed)
    central = Mosquitto(work / "central").start()
    cutter = LinkCutter(free_port(), "127.0.0.1", central.port).start()
    bridge_conf = (f"connection central\naddress 127.0.0.1:{cutter.listen[1]}\ntopic ritlink/# out 1\n"
                   "cleansession false\nrestart_timeout 1\n")
    local = Mosquitto(work / "local", extra_config=bridge_conf).start()

    received: list[int] = []
    seh = make_client("peer-seh")
    seh.on_connect = lambda c, u, f, rc, p: c.subscribe(TOPIC, qos=1)
    seh.on_message = lambda c, u, m: received.append(json.loads(m.payload)["n"])
    seh.connect("127.0.0.1", central.port, clean_start=False)
    seh.loop_start()

    acknowledged: set[int] = set()
    lock = threading.Lock()
    publisher = make_client("peer-vehicle")
    mids: dict[int, int] = {}
    publisher.on_publish = lambda c, u, mid, rc, p: (lock.acquire(), acknowledged.add(mids.get(mid, -1)), lock.release())
    publisher.connect("127.0.0.1", local.port)
    publisher.loop_start()
    kill_points = set(rng.sample(range(5, changes), kills))
    for n in range(changes):
        if n in kill_points:
            local.kill9()
            time.sleep(rng.uniform(0.1, 1.0))
            local.start()
        if n % cut_every == 0 and n:
            cutter.cut()
            threading.Timer(rng.uniform(0.5, 2.0), cutter.restore).start()
        for _ in range(100):  # the plain client retries until its local broker takes the message
            with lock:
                info = publisher.publish(TOPIC, json.dumps({"n": n}).encode(), qos=1)
                mids[info.mid] = n
            if info.rc == 0:
                break
            time.sleep(0.1)
        time.sleep(rng.uniform(0.0, 0.05))
    cutter.restore()
    time.sleep(10)  # let the bridge drain what it still has
    for client in (publisher, seh):
        client.disconnect()
        client.loop_stop()
    cutter.stop()
    local.stop()
    central.stop()
    unique = set(received)
    return {"acknowledged": len(acknowledged - {-1}), "lost": len((acknowledged - {-1}) - unique),
            "duplicated": len(received) - len(unique)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--no-peer", action="store_true", help="skip the bridge peer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ritlink-soak-") as tmp:
        result = Soak(Path(tmp) / "ritlink", args.seed, args.changes, args.kills).run()
        peer = None if args.no_peer else bridge_peer(Path(tmp) / "peer", args.seed, args.changes, args.kills)
    print(f"fault soak: seed {args.seed}, {args.changes} changes, {args.kills} SIGKILLs, link cut every 15 changes")
    print(f"  kills: {dict(result.kills)}; cuts: {result.cuts}; {result.seconds:.0f} s")
    print(f"  {'':26} {'acknowledged':>12} {'lost':>6} {'duplicated':>10}")
    print(f"  {'ritlink (outbox)':26} {result.entries_acknowledged:>12} {result.lost:>6} {result.duplicated:>10}"
          f"   hashes equal: {result.hashes_equal}")
    print("  (ritlink counts vital-sign entries, two per change; the peer counts messages)")
    if peer:
        print(f"  {'paho via mosquitto bridge':26} {peer['acknowledged']:>12} {peer['lost']:>6} {peer['duplicated']:>10}"
              "   (broker killed instead of the tablet service)")


if __name__ == "__main__":
    main()
