"""The monitor trend in SQLite: at most one point per 5 s per parameter (edge/live/alarms.py
TrendBuffer decides which), so a restart of the tablet service keeps the last hours.

Trend points are vital signs not yet tied to a rit: they are patient data, kept only for
the retention time (``retention_hours``) and never logged.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils


def migrate_trend(db: sqlite_utils.Database) -> None:
    """Migration 5: the trend table."""
    db.execute(
        """CREATE TABLE vital_trend (
            device_id TEXT NOT NULL,
            code INTEGER NOT NULL,
            at TEXT NOT NULL,
            value REAL,
            status TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX vital_trend_at ON vital_trend(at)")


def add_point(db: sqlite_utils.Database, device_id: str, code: int, at: str, value: float | None,
              status: str) -> None:
    db.execute("INSERT INTO vital_trend (device_id, code, at, value, status) VALUES (?, ?, ?, ?, ?)",
               [device_id, code, at, value, status])


def recent(db: sqlite_utils.Database, hours: float) -> dict[str, list[dict[str, Any]]]:
    """``{"<device>/<code>": [{"time", "value", "status"}, ...]}`` of the last ``hours``, oldest first."""
    series: dict[str, list[dict[str, Any]]] = {}
    for row in db.query(
        "SELECT device_id, code, at, value, status FROM vital_trend"
        " WHERE at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) ORDER BY at",
        [f"-{hours} hours"],
    ):
        series.setdefault(f"{row['device_id']}/{row['code']}", []).append(
            {"time": row["at"], "value": row["value"], "status": row["status"]})
    return series


def purge_older(db: sqlite_utils.Database, hours: float) -> int:
    return db.execute("DELETE FROM vital_trend WHERE at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)",
                      [f"-{hours} hours"]).rowcount
