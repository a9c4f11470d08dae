"""The rit's track in SQLite: at most one point per 5 s (edge/live/position.py decides which).

A track says where the patient was picked up, so it is patient data: it goes when the rit
goes (ON DELETE CASCADE from ``rits``, so the retention purge needs no change) and it is
read only through calls that write the access log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlite_utils

if TYPE_CHECKING:  # edge.live.position pulls in the serial reader; the store must not
    from edge.live.position import TrackPoint


def migrate_track(db: sqlite_utils.Database) -> None:
    """Migration 4: the track table."""
    db.execute(
        """CREATE TABLE rit_track (
            rit_id TEXT NOT NULL REFERENCES rits(rit_id) ON DELETE CASCADE,
            at TEXT NOT NULL,
            lat REAL NOT NULL,
            lon REAL NOT NULL,
            speed_mps REAL,
            track REAL,
            PRIMARY KEY (rit_id, at)
        )"""
    )


def add_point(db: sqlite_utils.Database, rit_id: str, point: "TrackPoint") -> bool:
    """Store one point; False when the rit already has a point at that moment (a replayed fix)."""
    row = point.to_dict()
    cursor = db.execute(
        "INSERT OR IGNORE INTO rit_track (rit_id, at, lat, lon, speed_mps, track) VALUES (?, ?, ?, ?, ?, ?)",
        [rit_id, row["at"], row["lat"], row["lon"], row["speed_mps"], row["track"]],
    )
    return cursor.rowcount == 1


def track_of(db: sqlite_utils.Database, rit_id: str) -> list[dict[str, Any]]:
    """The rit's points in time order, without nulls."""
    rows = db.query("SELECT at, lat, lon, speed_mps, track FROM rit_track WHERE rit_id = ? ORDER BY at", [rit_id])
    return [{k: v for k, v in row.items() if v is not None} for row in rows]
