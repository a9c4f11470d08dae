"""Shared set-up for the sync benchmarks: a broker, an SEH receiver process, in-process edges."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from edge.config import EdgeSettings, SehDestination
from edge.store.rit_store import EdgeStore
from edge.sync.sender import MqttSync
from simulators.mosquitto import Mosquitto
from simulators.processes import RitlinkProcess, write_toml

SEH = SehDestination(id="seh-umcu", name="SEH UMC Utrecht", phone="088-755 5555")


def start_broker_and_seh(work: Path) -> tuple[Mosquitto, RitlinkProcess]:
    broker = Mosquitto(work / "broker").start()
    conf = write_toml(work / "seh.toml", {"seh_id": SEH.id, "broker_url": broker.url,
                                          "database": str(work / "seh.db"), "log_level": "warning"})
    return broker, RitlinkProcess("seh", conf, work / "seh.log").start()


def edge(work: Path, broker: Mosquitto, vehicle_id: str) -> tuple[EdgeStore, MqttSync]:
    settings = EdgeSettings(vehicle_id=vehicle_id, broker_url=broker.url, database=work / f"{vehicle_id}.db",
                            sehs=[SEH])
    store = EdgeStore(settings.database)
    return store, MqttSync(store, settings)


def vital(value: float) -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {"kind": "vital", "data": {"code": 150456, "label": "SpO2", "value": value, "unit": "%"},
            "clinical_time": now, "author": "bench", "source": "manual"}


def percentiles(samples_ms: list[float]) -> str:
    if not samples_ms:
        return "no samples"
    ordered = sorted(samples_ms)
    p99 = ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    return f"p50 {statistics.median(ordered):7.2f} ms   p99 {p99:7.2f} ms   (n={len(ordered)})"


def wait_delivered(store: EdgeStore, msg_id: str, timeout_s: float = 10.0) -> float | None:
    """Seconds until the message's state is delivered (polled every 0.5 ms), None on timeout."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        state = store.query("SELECT state FROM outbox WHERE msg_id = ?", [msg_id])[0]["state"]
        if state in ("delivered", "read"):
            return time.perf_counter() - started
        time.sleep(0.0005)
    return None
