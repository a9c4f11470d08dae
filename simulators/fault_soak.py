"""The fault soak: one rit, hundreds of changes, a link that keeps dropping and random SIGKILLs
of the tablet service, the SEH receiver and the broker. At the end nothing may be lost and
nothing applied twice. Used by tests/test_fault_soak.py (fixed seed) and bench/fault_soak.py.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simulators.link import LinkCutter
from simulators.monitor import run_nonin
from simulators.mosquitto import Mosquitto, free_port
from simulators.processes import RitlinkProcess, write_toml
from simulators.pty_device import PtyDevice

log = logging.getLogger("ritlink.soak")

TARGETS = ("edge", "seh", "broker")


@dataclass
class SoakResult:
    changes_acknowledged: int = 0
    entries_acknowledged: int = 0
    entries_at_edge: int = 0
    entries_at_seh: int = 0
    applied_twice: int = 0
    hashes_equal: bool = False
    kills: Counter = field(default_factory=Counter)
    cuts: int = 0
    seconds: float = 0.0

    @property
    def lost(self) -> int:
        return max(0, self.entries_acknowledged - self.entries_at_edge) + max(0, self.entries_at_edge - self.entries_at_seh)

    @property
    def duplicated(self) -> int:
        return self.applied_twice


class Soak:
    def __init__(self, work_dir: Path, seed: int, changes: int = 200, kills: int = 10, cut_every: int = 15):
        self.work = Path(work_dir)
        self.rng = random.Random(seed)
        self.changes, self.kill_count, self.cut_every = changes, kills, cut_every
        self.result = SoakResult()
        self.broker = Mosquitto(self.work / "broker")
        self.cutter: LinkCutter | None = None
        self.monitor = PtyDevice(self.work / "monitor")
        self._stop_monitor = threading.Event()

    # -- set-up -----------------------------------------------------------------------
    def _start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        self.cutter = LinkCutter(free_port(), "127.0.0.1", self.broker.port).start()
        self.monitor.plug()
        threading.Thread(target=run_nonin, args=(self.monitor, self._stop_monitor, 0.1), daemon=True).start()
        seh_conf = write_toml(self.work / "seh.toml", {
            "seh_id": "seh-umcu", "broker_url": self.broker.url, "database": str(self.work / "seh.db")})
        edge_conf = write_toml(self.work / "edge.toml", {
            "vehicle_id": "ambu-01", "broker_url": f"mqtt://127.0.0.1:{self.cutter.listen[1]}",
            "database": str(self.work / "edge.db"), "monitor_url": str(self.monitor.link), "log_level": "warning",
        }, sehs=[{"id": "seh-umcu", "name": "SEH UMC Utrecht", "phone": "088-755 5555"}])
        self.seh = RitlinkProcess("seh", seh_conf, self.work / "seh.log").start()
        self.edge = RitlinkProcess("serve", edge_conf, self.work / "edge.log").start()

    def _stop(self) -> None:
        self._stop_monitor.set()
        for proc in (getattr(self, "edge", None), getattr(self, "seh", None)):
            if proc:
                proc.stop()
        if self.cutter:
            self.cutter.stop()
        self.broker.stop()
        self.monitor.unplug()

    # -- faults -----------------------------------------------------------------------
    def _plan_kills(self) -> dict[int, str]:
        points = sorted(self.rng.sample(range(5, self.changes), self.kill_count))
        targets = [TARGETS[i % len(TARGETS)] for i in range(self.kill_count)]
        self.rng.shuffle(targets)
        return dict(zip(points, targets))

    def _kill(self, target: str) -> None:
        log.info("SIGKILL %s", target)
        self.result.kills[target] += 1
        if target == "broker":
            self.broker.kill9()
            time.sleep(self.rng.uniform(0.1, 1.0))
            self.broker.start()
        else:
            proc = self.edge if target == "edge" else self.seh
            proc.kill9()
            proc.start()

    # -- the run ----------------------------------------------------------------------
    def _post(self, path: str, deadline_s: float = 30.0) -> httpx.Response:
        """POST until the tablet acknowledges it (it may be restarting)."""
        deadline = time.monotonic() + deadline_s
        for _ in range(int(deadline_s / 0.1)):
            try:
                response = self.edge.post(path)
                if response.status_code < 500 and response.status_code != 409:
                    return response
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        raise RuntimeError(f"tablet did not accept {path}")

    def run(self, settle_timeout_s: float = 90.0) -> SoakResult:
        started = time.monotonic()
        self._start()
        try:
            rit_id = self.edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
            self._change(rit_id)
            self._post(f"/api/v1/rits/{rit_id}/announce")
            kills = self._plan_kills()
            restore_at = None
            for i in range(self.changes):
                if i in kills:
                    self._kill(kills[i])
                if i % self.cut_every == 0 and i:
                    self.cutter.cut()
                    self.result.cuts += 1
                    restore_at = i + self.rng.randint(1, 5)
                if restore_at == i:
                    self.cutter.restore()
                self._change(rit_id)
                time.sleep(self.rng.uniform(0.0, 0.05))
            self.cutter.restore()
            self._settle(rit_id, settle_timeout_s)
        finally:
            self.result.seconds = time.monotonic() - started
            self._stop()
        return self.result

    def _change(self, rit_id: str) -> None:
        response = self._post(f"/api/v1/rits/{rit_id}/vitals/accept")
        if response.status_code == 200:
            self.result.changes_acknowledged += 1
            self.result.entries_acknowledged += len(response.json()["accepted"])

    def _settle(self, rit_id: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                edge = self.edge.get(f"/api/v1/rits/{rit_id}").json()
                seh = self.seh.get(f"/api/v1/rits/{rit_id}")
                if seh.status_code == 200 and seh.json()["form_sha256"] == edge["form_sha256"] and all(
                    m["state"] in ("delivered", "read") for m in edge["messages"]
                ):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        edge = self.edge.get(f"/api/v1/rits/{rit_id}").json()
        seh_response = self.seh.get(f"/api/v1/rits/{rit_id}")
        seh = seh_response.json() if seh_response.status_code == 200 else {"form": {"vitals": {}}, "form_sha256": ""}
        self.result.entries_at_edge = len(edge["form"]["vitals"])
        self.result.entries_at_seh = len(seh["form"]["vitals"])
        self.result.hashes_equal = seh["form_sha256"] == edge["form_sha256"]
        with sqlite3.connect(self.work / "seh.db") as conn:
            self.result.applied_twice = conn.execute(
                "SELECT count(*) FROM (SELECT msg_id FROM seh_versions GROUP BY msg_id HAVING count(*) > 1)"
            ).fetchone()[0]
