"""Sync latency: announce -> delivered and save -> delivered for one ambulance (on forms of
several sizes) and for many on one SEH, beside the raw paho QoS 1 request -> response round
trip on the same broker in the same run.

    .venv/bin/python bench/sync_latency.py [--rounds 200] [--vehicles 50] [--saves-each 20]
                                           [--form-entries 50,500] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report as report  # noqa: E402
from bench._rig import RawPair, start_broker_and_seh, vehicle, wait_delivered  # noqa: E402

BENCH = "sync_latency"
BASELINE = "raw paho QoS 1 request->response"


def one_vehicle(work: Path, broker, rounds: int) -> tuple[list[float], list[float]]:
    car = vehicle(work, broker, "ambu-bench").online()
    announce, save = [], []
    rit_id = None
    for i in range(rounds):
        if i % 10 == 0:  # a new rit every 10 saves: announce latency on fresh streams too
            rit_id = car.new_rit()
            started = time.perf_counter()
            msg_id = car.announce(rit_id)
            if wait_delivered(car.store, msg_id) is not None:
                announce.append((time.perf_counter() - started) * 1000)
            continue
        started = time.perf_counter()
        car.save_vital(rit_id, 90 + i % 10)
        if wait_delivered(car.store, car.newest_msg_id(rit_id)) is not None:
            save.append((time.perf_counter() - started) * 1000)
    car.offline()
    return announce, save


def saves_into_form_of(work: Path, broker, entries: int, rounds: int) -> list[float]:
    """Save -> delivered into an announced rit that already holds ``entries`` entries."""
    car = vehicle(work, broker, f"ambu-form{entries}")
    rit_id = car.new_rit()
    car.fill(rit_id, entries)  # in concept: nothing to send yet
    car.online()
    wait_delivered(car.store, car.announce(rit_id), 30)
    samples = []
    for i in range(rounds):
        started = time.perf_counter()
        car.save_vital(rit_id, 90 + i % 10)
        if wait_delivered(car.store, car.newest_msg_id(rit_id)) is not None:
            samples.append((time.perf_counter() - started) * 1000)
    car.offline()
    return samples


def many_vehicles(work: Path, broker, vehicles: int, saves_each: int) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()

    def ambulance(n: int) -> None:
        car = vehicle(work, broker, f"ambu-{n:03d}").online()
        rit_id = car.new_rit("A2")
        wait_delivered(car.store, car.announce(rit_id))
        for i in range(saves_each):
            time.sleep(0.2)  # each ambulance saves about 5 times a second: a busy shift, all at once
            started = time.perf_counter()
            car.save_vital(rit_id, 90 + i % 10)
            if wait_delivered(car.store, car.newest_msg_id(rit_id)) is not None:
                with lock:
                    samples.append((time.perf_counter() - started) * 1000)
        car.offline()

    threads = [threading.Thread(target=ambulance, args=(n,)) for n in range(vehicles)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--saves-each", type=int, default=20)
    parser.add_argument("--form-entries", default="50,500", help="form sizes for save -> delivered")
    report.add_common_args(parser)
    args = parser.parse_args()
    if args.smoke:
        args.rounds, args.vehicles, args.saves_each, args.form_entries = 20, 3, 3, "20"
    sizes = [int(n) for n in args.form_entries.split(",") if n]
    with tempfile.TemporaryDirectory(prefix="ritlink-bench-") as tmp:
        work = Path(tmp)
        broker, seh = start_broker_and_seh(work)
        raw = RawPair(broker.port)
        try:
            raw_before = raw.round_trips(args.rounds)
            announce, save = one_vehicle(work, broker, args.rounds)
            by_size = {n: saves_into_form_of(work, broker, n, args.rounds) for n in sizes}
            crowd = many_vehicles(work, broker, args.vehicles, args.saves_each)
            raw_after = raw.round_trips(args.rounds)  # the broker and machine after the load, too
        finally:
            raw.close()
            seh.stop()
            broker.stop()
    base = raw_before + raw_after
    rows = [report.latency(BENCH, "1 vehicle: announce -> delivered", announce, BASELINE, base),
            report.latency(BENCH, "1 vehicle: save -> delivered", save, BASELINE, base)]
    rows += [report.latency(BENCH, f"1 vehicle: save -> delivered, form of {n} entries", samples, BASELINE, base)
             for n, samples in by_size.items()]
    rows.append(report.latency(BENCH, f"{args.vehicles} vehicles on one SEH: save -> delivered", crowd, BASELINE, base))
    print("sync latency on this machine (loopback mosquitto, SEH receiver in its own process)")
    report.emit(rows, args.results)
    if not (announce and save and crowd and all(by_size.values())):
        sys.exit("some saves were never delivered")


if __name__ == "__main__":
    main()
