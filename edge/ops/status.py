"""What `ritlink status` and ``GET /-/status`` show: one screen for the crew or a technician.

Devices and their last data, the broker link, the outbox (unsent depth and the age of the
oldest unsent message), disk space against a watermark, and the last error logged. The
same figures can be read from the database file alone, so ``ritlink status`` still tells
something useful when the service is not running.

Only ids, counts, ages and sizes: never patient data.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge.wire.contract import utc_now

log = logging.getLogger("ritlink.status")

# Disk-space watermarks for the filesystem holding the database. "laag" warns in time to
# act (purge, replace the tablet); "kritiek" is close to the point where saves are refused.
DISK_LOW_FREE_BYTES = 1024**3
DISK_LOW_FREE_FRACTION = 0.10
DISK_CRITICAL_FREE_BYTES = 256 * 1024**2
DISK_CRITICAL_FREE_FRACTION = 0.02
DISK_CHECK_INTERVAL_S = 60.0

# A message unsent for this long is worth a technician's look (the broker may be unreachable).
OUTBOX_STALE_AFTER_S = 30 * 60

Query = Callable[[str, Sequence], list[dict]]


# -- disk ----------------------------------------------------------------------------------
def disk_level(free: int, total: int,
               low: tuple[int, float] = (DISK_LOW_FREE_BYTES, DISK_LOW_FREE_FRACTION),
               critical: tuple[int, float] = (DISK_CRITICAL_FREE_BYTES, DISK_CRITICAL_FREE_FRACTION)) -> str:
    """"ok", "laag" or "kritiek": a level is reached when free space is below either of its
    limits (bytes or fraction of the disk), so small and large disks both warn in time."""
    fraction = free / total if total else 0.0
    if free < critical[0] or fraction < critical[1]:
        return "kritiek"
    if free < low[0] or fraction < low[1]:
        return "laag"
    return "ok"


def disk_figures(database: Path) -> dict[str, Any]:
    folder = Path(database).resolve().parent
    usage = shutil.disk_usage(folder)
    return {
        "path": str(folder),
        "free_bytes": usage.free,
        "total_bytes": usage.total,
        "free_percent": round(100 * usage.free / usage.total, 1) if usage.total else 0.0,
        "level": disk_level(usage.free, usage.total),
    }


class DiskWatch:
    """Checks the database's disk every minute and logs once per change of level, so the
    journal warns before the store fills (a save on a full disk is refused, not lost)."""

    def __init__(self, database: Path, interval_s: float = DISK_CHECK_INTERVAL_S,
                 level_of: Callable[[int, int], str] = disk_level):
        self.database = Path(database)
        self.interval_s = interval_s
        self.level_of = level_of
        self.level = "ok"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="disk-watch", daemon=True)

    def start(self) -> DiskWatch:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)

    def check(self) -> str:
        try:
            usage = shutil.disk_usage(self.database.resolve().parent)
        except OSError as exc:
            log.warning("disk check failed: %s", exc)
            return self.level
        level = self.level_of(usage.free, usage.total)
        if level != self.level:
            mb_free = usage.free // 1024**2
            if level == "ok":
                log.info("disk space ok again: %d MB free", mb_free)
            else:
                log.warning("disk space %s: %d MB free of %d MB", level, mb_free, usage.total // 1024**2)
            self.level = level
        return level

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check()
            self._stop.wait(self.interval_s)


# -- last error ----------------------------------------------------------------------------
class LastErrorHandler(logging.Handler):
    """Keeps the newest warning or error logged anywhere in the process."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.last: dict[str, str] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not break logging
            message = str(record.msg)
        self.last = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": message[:300],
        }


LAST_ERROR = LastErrorHandler()


def record_last_error() -> LastErrorHandler:
    """Attach the recorder to the root logger (idempotent)."""
    root = logging.getLogger()
    if LAST_ERROR not in root.handlers:
        root.addHandler(LAST_ERROR)
    return LAST_ERROR


# -- outbox --------------------------------------------------------------------------------
def _age_s(iso: str | None, now: datetime) -> float | None:
    if not iso:
        return None
    return round((now - datetime.fromisoformat(iso)).total_seconds(), 1)


def outbox_figures(query: Query, now: datetime | None = None) -> dict[str, Any]:
    """Counts by state and the oldest unsent message, from read-only queries."""
    now = now or datetime.now(UTC)
    counts = {row["state"]: row["n"] for row in query("SELECT state, count(*) AS n FROM outbox GROUP BY state", ())}
    oldest = query("SELECT min(created_at) AS at FROM outbox WHERE state = 'saved'", ())[0]["at"]
    return {
        "unsent": counts.get("saved", 0),
        "oldest_unsent_at": oldest,
        "oldest_unsent_age_s": _age_s(oldest, now),
        "awaiting_receipt": counts.get("sent", 0),
        "rejected": counts.get("rejected", 0),
    }


# -- devices -------------------------------------------------------------------------------
def device_figures(states: dict[str, str], values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per device: connected or not, and how old its newest value is (None: nothing yet)."""
    ages: dict[str, float] = {}
    for value in values:
        device, age = value["device_id"], value["age_s"]
        ages[device] = min(age, ages.get(device, age))
    return [
        {"id": device, "state": states.get(device, "unknown"), "last_data_age_s": ages.get(device)}
        for device in sorted(set(states) | set(ages))
    ]


# -- the whole picture -----------------------------------------------------------------------
def warnings_for(status: dict[str, Any]) -> list[str]:
    """Things a technician should act on, in Dutch. Offline alone is not one: it is expected."""
    found = []
    disk = status.get("disk")
    if disk and disk["level"] != "ok":
        found.append(f"Schijfruimte {disk['level']}: nog {disk['free_bytes'] // 1024**2} MB vrij")
    mqtt = status.get("mqtt") or {}
    if "dead" in (mqtt.get("mqtt_thread"), mqtt.get("sender_thread")):
        found.append("MQTT-verwerking gestopt: de dienst moet herstarten")
    if mqtt.get("dead_letters"):
        found.append(f"{mqtt['dead_letters']} onleesbaar bericht(en) ontvangen en terzijde gelegd")
    outbox = status.get("outbox") or {}
    if outbox.get("rejected"):
        found.append(f"{outbox['rejected']} bericht(en) geweigerd door de SEH")
    age = outbox.get("oldest_unsent_age_s")
    if age is not None and age > OUTBOX_STALE_AFTER_S:
        found.append(f"Oudste niet-verzonden bericht wacht al {age / 60:.0f} min")
    return found


def _all_device_states(service) -> dict[str, str]:
    """Monitors from the live vitals, the GPS from the position runtime (when there is one)."""
    states = dict(service.live.device_states())
    position = getattr(service, "position", None)
    if position is not None:
        states.update(position.device_states())
    return states


def collect(service) -> dict[str, Any]:
    """The status of the running tablet service (edge.service.EdgeService), as JSON data."""
    settings = service.settings
    status = {
        "service": "running",
        "vehicle_id": settings.vehicle_id,
        "checked_at": utc_now(),
        "devices": device_figures(_all_device_states(service), service.live.snapshot()),
        "broker": {"url": settings.broker_url, "connected": bool(service.broker_connected())},
        "mqtt": service.sync_health(),  # threads alive, dead letters (refused messages) by reason
        "outbox": outbox_figures(service.store.query),
        "disk": disk_figures(settings.database),
        "database": database_figures(settings.database),
        "last_error": LAST_ERROR.last,
    }
    status["warnings"] = warnings_for(status)
    return status


def database_figures(database: Path) -> dict[str, Any]:
    path = Path(database)
    size = sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
    return {"path": str(path.resolve()), "size_bytes": size}


def collect_offline(database: Path, vehicle_id: str, broker_url: str) -> dict[str, Any]:
    """What the database file alone tells while the service is not running."""
    status: dict[str, Any] = {
        "service": "not running",
        "vehicle_id": vehicle_id,
        "checked_at": utc_now(),
        "devices": [],
        "broker": {"url": broker_url, "connected": None},
        "outbox": None,
        "disk": disk_figures(database),
        "database": database_figures(database) if Path(database).exists() else None,
        "last_error": None,
    }
    if status["database"] is not None:
        status["outbox"] = _read_only(database, outbox_figures)
    status["warnings"] = warnings_for(status)
    return status


def _read_only(database: Path, figures: Callable[[Query], dict]) -> dict | None:
    try:
        conn = sqlite3.connect(f"file:{Path(database).resolve()}?mode=ro", uri=True, timeout=2)
    except sqlite3.Error:
        return None
    conn.row_factory = sqlite3.Row
    try:
        return figures(lambda sql, params: [dict(r) for r in conn.execute(sql, params)])
    except sqlite3.Error as exc:  # e.g. no outbox table yet, or no permission
        log.debug("offline status read failed: %s", exc)
        return None
    finally:
        conn.close()
