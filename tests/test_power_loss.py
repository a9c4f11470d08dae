"""Power-loss safety: SIGKILL a real `ritlink serve` again and again while saves pour in.

Every save the HTTP API acknowledged (201 / 202) must be in the database afterwards, and
the database must pass PRAGMA integrity_check after every kill. Start-up after an unclean
stop must be as fast as after a clean one, also with a week of data in the store.

SIGKILL tests what the process can lose (everything not yet handed to the kernel); the
fsyncs of ``synchronous=FULL`` are what carries that over to a real power cut.
"""

from __future__ import annotations

import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from edge.store.db import connect
from simulators.mosquitto import free_port
from simulators.processes import AUTH_HEADERS
from tests.harness.notify import NotifySocket, start_notified
from tests.harness.procs import write_toml
from tests.harness.week_db import make_week_database

KILLS = 50
WRITERS = 3
MAX_READY_S = 2.0


class Saver:
    """Client threads that create and announce rits as fast as the service takes them."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.stop = threading.Event()
        self.created: list[str] = []  # 201 received: the rit is saved
        self.announced: list[str] = []  # 202 received: its vooraankondiging is in the outbox
        self.unexpected: list[str] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(WRITERS)]

    def start(self) -> Saver:
        for thread in self.threads:
            thread.start()
        return self

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(5)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=2, headers=AUTH_HEADERS) as client:
            while not self.stop.is_set():
                try:
                    created = client.post("/api/v1/rits", json={"destination_seh": "seh-umcu", "urgency": "A1"})
                    if created.status_code != 201:
                        self.unexpected.append(f"create {created.status_code}")
                        return
                    rit_id = created.json()["rit_id"]
                    self.created.append(rit_id)
                    announced = client.post(f"/api/v1/rits/{rit_id}/announce")
                except httpx.HTTPError:
                    return  # the process was killed mid-request: that save was never acknowledged
                if announced.status_code != 202:
                    self.unexpected.append(f"announce {announced.status_code}")
                    return
                self.announced.append(rit_id)


def check_database(db: Path, scratch: Path) -> tuple[str, set[str], set[str]]:
    """Integrity and contents of a copy of the files exactly as the kill left them.

    Checking a copy keeps the original's WAL hot, so the next start really recovers it.
    """
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir()
    for suffix in ("", "-wal"):
        if Path(f"{db}{suffix}").exists():
            shutil.copyfile(f"{db}{suffix}", scratch / f"{db.name}{suffix}")
    conn = sqlite3.connect(scratch / db.name)
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        rits = {row[0] for row in conn.execute("SELECT rit_id FROM rits")}
        announced = {row[0] for row in conn.execute("SELECT rit_id FROM outbox WHERE seq = 1 AND kind = 'snapshot'")}
    finally:
        conn.close()
    return integrity, rits, announced


def edge_config(tmp_path: Path, db: Path, broker_url: str) -> Path:
    return write_toml(tmp_path / "edge.toml", {"vehicle_id": "ambu-01", "broker_url": broker_url, "database": str(db)},
                      sehs=[{"id": "seh-umcu", "name": "SEH UMC Utrecht", "phone": "088-755 5555"}])


@pytest.mark.serial
def test_sigkill_loop_during_saves_keeps_every_acknowledged_save(tmp_path, broker):
    """>= 50 SIGKILLs; the broker is up, so the MQTT sender writes state changes as well."""
    rng = random.Random(2024)
    db = tmp_path / "edge.db"
    config = edge_config(tmp_path, db, broker.url)
    created: set[str] = set()
    announced: set[str] = set()
    ready_after: list[float] = []
    kills = 0
    with NotifySocket(tmp_path / "notify.sock") as notify:
        for cycle in range(KILLS):
            port = free_port()
            spawned = time.monotonic()
            proc = start_notified("serve", config, port, notify, tmp_path / "edge.log")
            saver = None
            try:
                if cycle % 5 == 4:
                    # Now and then kill at a random moment of start-up (store open, recovery, migrations).
                    time.sleep(rng.uniform(0.05, 0.5))
                else:
                    ready = notify.wait_for("READY", 10)
                    ready_after.append(ready.at - spawned)
                    saver = Saver(f"http://127.0.0.1:{port}").start()
                    time.sleep(rng.uniform(0.05, 0.3))
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(5)
            kills += 1
            notify.collect_until(time.monotonic() + 0.01)  # a READY the killed process sent late
            if saver is not None:
                saver.join()
                assert saver.unexpected == [], saver.unexpected
                created.update(saver.created)
                announced.update(saver.announced)

            integrity, rits, streams = check_database(db, tmp_path / "check")
            assert integrity == "ok", f"kill {kills}: {integrity}"
            assert created <= rits, f"kill {kills}: {len(created - rits)} acknowledged rits lost"
            assert announced <= streams, f"kill {kills}: {len(announced - streams)} acknowledged announcements lost"

    assert kills >= 50
    assert len(created) > 200 and len(announced) > 200, (len(created), len(announced))  # real load, not idle kills
    assert max(ready_after) < MAX_READY_S, ready_after
    print(f"\n{kills} SIGKILLs, {len(created)} rits and {len(announced)} announcements acknowledged, none lost; "
          f"READY after unclean stop: median {statistics.median(ready_after):.2f} s, max {max(ready_after):.2f} s")


def _start_until_ready(config: Path, notify: NotifySocket, log: Path) -> tuple[float, subprocess.Popen, int]:
    port = free_port()
    spawned = time.monotonic()
    proc = start_notified("serve", config, port, notify, log)
    try:
        ready = notify.wait_for("READY", 10)
    except AssertionError:
        proc.kill()
        proc.wait(5)
        raise
    return ready.at - spawned, proc, port


def test_the_store_is_opened_in_wal_mode_with_synchronous_full(tmp_path):
    """What makes an acknowledged save survive a power cut, not only a SIGKILL."""
    conn = connect(tmp_path / "edge.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync at every commit
    conn.close()


@pytest.mark.serial
@pytest.mark.slow
def test_start_after_unclean_stop_is_as_fast_as_clean_with_a_week_of_data(tmp_path):
    db = tmp_path / "edge.db"
    week = make_week_database(db)
    assert week["bytes"] > 25 * 1024**2
    config = edge_config(tmp_path, db, f"mqtt://127.0.0.1:{free_port()}")
    clean, unclean = [], []
    with NotifySocket(tmp_path / "notify.sock") as notify:
        for _ in range(3):
            elapsed, proc, port = _start_until_ready(config, notify, tmp_path / "edge.log")
            clean.append(elapsed)
            saver = Saver(f"http://127.0.0.1:{port}").start()
            time.sleep(0.3)  # leave a hot WAL behind ...
            proc.send_signal(signal.SIGKILL)
            proc.wait(5)
            saver.join()
            elapsed, proc, port = _start_until_ready(config, notify, tmp_path / "edge.log")
            unclean.append(elapsed)  # ... that this start has to recover
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/-/status", timeout=5).json()
                assert status["outbox"]["unsent"] >= 6  # the week's unsent tail is all there
            finally:
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(10) == 0
    assert max(unclean) < MAX_READY_S, unclean
    assert statistics.median(unclean) < statistics.median(clean) + 0.3, (clean, unclean)
    print(f"\nweek database {week['bytes'] / 1024**2:.0f} MB ({week['rits']} rits, {week['entries']} entries, "
          f"{week['messages']} messages): READY clean {[round(t, 2) for t in clean]} s, "
          f"after SIGKILL {[round(t, 2) for t in unclean]} s")
