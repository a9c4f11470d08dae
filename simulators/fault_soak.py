"""The fault soak: one rit, hundreds of changes, a link that keeps dropping and random SIGKILLs
of the tablet service, the SEH receiver and the broker. At the end nothing may be lost and
nothing applied twice. Used by tests/test_fault_soak.py (fixed seed) and bench/fault_soak.py.

Each change is a client save with its own Idempotency-Key, retried with that key until the
tablet answers (it may be restarting); the entry ids of the answer are what the client was
told is saved. The verdict (simulators/soak_check.py) compares those ids with the ids in
the SEH's stored form: missing, extra and doubled ids each fail it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from simulators.link import LinkCutter
from simulators.monitor import run_nonin
from simulators.mosquitto import Mosquitto, free_port
from simulators.processes import RitlinkProcess, write_toml
from simulators.pty_device import PtyDevice
from simulators.soak_check import EntryCheck, check_seh

log = logging.getLogger("ritlink.soak")

TARGETS = ("edge", "seh", "broker")


@dataclass
class SoakResult:
    changes_acknowledged: int = 0
    # Idempotency-Key of each acknowledged save -> the entry ids the tablet answered with.
    acknowledged: dict[str, list[str]] = field(default_factory=dict)
    entries_at_edge: int = 0
    entries: EntryCheck = field(default_factory=EntryCheck)
    all_delivered: bool = False
    message_states: Counter = field(default_factory=Counter)  # the tablet's outbox at the end
    hashes_equal: bool = False
    kills: Counter = field(default_factory=Counter)
    cuts: int = 0
    seconds: float = 0.0
    rit_id: str = ""

    @property
    def acknowledged_ids(self) -> list[str]:
        return [entry_id for ids in self.acknowledged.values() for entry_id in ids]

    @property
    def entries_acknowledged(self) -> int:
        return self.entries.acknowledged

    @property
    def entries_at_seh(self) -> int:
        return self.entries.at_seh

    @property
    def lost(self) -> int:
        return len(self.entries.missing)

    @property
    def extra(self) -> int:
        return len(self.entries.extra)

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.entries.duplicated.values())

    @property
    def passed(self) -> bool:
        """The soak's verdict: every acknowledged entry at the SEH exactly once, nothing else,
        and the same form on both sides. (``all_delivered`` is reported, not required: a patch
        that a resync snapshot superseded is rejected or never receipted, by design.)"""
        return self.entries.ok and self.hashes_equal and self.entries.acknowledged > 0

    def recheck(self, seh_db: Path) -> SoakResult:
        """The verdict again against another copy of the SEH's database (tests tamper with one)."""
        self.entries = check_seh(seh_db, self.rit_id, self.acknowledged_ids)
        return self


class Soak:
    def __init__(self, work_dir: Path, seed: int, changes: int = 200, kills: int = 10, cut_every: int = 15,
                 after_changes: Callable[[Soak, str], None] | None = None):
        """``after_changes(soak, rit_id)`` runs once the changes are made, before the settling:
        the tests inject faults there."""
        self.work = Path(work_dir)
        self.seed = seed
        self.after_changes = after_changes
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
    def _post(self, path: str, key: str | None = None, deadline_s: float = 30.0) -> httpx.Response:
        """POST until the tablet answers (it may be restarting), always with the same key: a
        retry of a save that was committed but not answered gets the first answer back."""
        deadline = time.monotonic() + deadline_s
        headers = {"Idempotency-Key": key} if key else {}
        for _ in range(int(deadline_s / 0.1)):
            try:
                response = self.edge.post(path, headers=headers)
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
            self.result.rit_id = rit_id
            self._change(rit_id, "first")
            self._post(f"/api/v1/rits/{rit_id}/announce", self._key("announce"))
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
                self._change(rit_id, str(i))
                time.sleep(self.rng.uniform(0.0, 0.05))
            self.cutter.restore()
            if self.after_changes is not None:
                self.after_changes(self, rit_id)
            self._settle(rit_id, settle_timeout_s)
        finally:
            self.result.seconds = time.monotonic() - started
            self._stop()
        return self.result

    def _key(self, name: str) -> str:
        return f"soak-{self.seed}-{name}"

    def change(self, rit_id: str, name: str) -> httpx.Response:
        """One client save: take the monitor's values, with this save's own Idempotency-Key."""
        return self._post(f"/api/v1/rits/{rit_id}/vitals/accept", self._key(name))

    def _change(self, rit_id: str, name: str) -> None:
        response = self.change(rit_id, name)
        if response.status_code == 200:
            self.result.changes_acknowledged += 1
            self.result.acknowledged[self._key(name)] = [e["entry_id"] for e in response.json()["accepted"]]

    def _settle(self, rit_id: str, timeout_s: float, quiet_s: float = 5.0) -> None:
        """Until every message has its receipt, or the hashes are equal and nothing is left to
        publish for ``quiet_s`` (a patch superseded by a snapshot may never get a receipt)."""
        deadline = time.monotonic() + timeout_s
        equal_since = None
        while time.monotonic() < deadline:
            try:
                edge = self.edge.get(f"/api/v1/rits/{rit_id}").json()
                seh = self.seh.get(f"/api/v1/rits/{rit_id}")
                states = {m["state"] for m in edge["messages"]}
                if seh.status_code == 200 and seh.json()["form_sha256"] == edge["form_sha256"]:
                    if states <= {"delivered", "read"}:
                        break
                    if "saved" not in states:
                        equal_since = equal_since or time.monotonic()
                        if time.monotonic() - equal_since > quiet_s:
                            break
                else:
                    equal_since = None
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        edge = self.edge.get(f"/api/v1/rits/{rit_id}").json()
        seh_response = self.seh.get(f"/api/v1/rits/{rit_id}")
        seh = seh_response.json() if seh_response.status_code == 200 else {"form_sha256": ""}
        self.result.entries_at_edge = len(edge["form"]["vitals"])
        self.result.hashes_equal = seh["form_sha256"] == edge["form_sha256"]
        self.result.message_states = Counter(m["state"] for m in edge["messages"])
        self.result.all_delivered = all(m["state"] in ("delivered", "read") for m in edge["messages"])
        self.result.recheck(self.work / "seh.db")
