"""Copies of the database file made with SQLite's online backup API, and putting one back.

An upgrade backs the database up before its first pending migration (edge/store/db.py
``migrate``); a migration that fails puts that copy back, so the previous ritlink can run
on it again. The backup API copies a consistent snapshot page by page, WAL included, which
copying the file with ``cp`` while the service runs would not.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

# Backups made before migrations that are kept per database (the oldest are removed).
KEEP_UPGRADE_BACKUPS = 3
BACKUP_SUFFIX = ".bak"


class BackupError(Exception):
    pass


def database_file(conn: sqlite3.Connection) -> Path | None:
    """The main database file of ``conn``; None for an in-memory or temporary database."""
    for _seq, name, file in conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return Path(file) if file else None
    return None


def backup_to(conn: sqlite3.Connection, target: Path) -> Path:
    """Write a consistent, self-contained copy of ``conn``'s database to ``target``, durably.

    The copy is written under a temporary name and renamed, so a power cut never leaves a
    half-written file with the final name.
    """
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        dest = sqlite3.connect(str(partial))
        try:
            conn.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
        finally:
            dest.close()
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    except (sqlite3.Error, OSError) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"could not write backup {target}: {exc}") from exc
    return target


def restore_from(conn: sqlite3.Connection, source: Path) -> None:
    """Replace the content of ``conn``'s database with the backup at ``source``, in place.

    Goes through ``conn`` itself (backup API in the other direction), so the live
    connection and its WAL stay valid and no file is swapped under an open handle.
    """
    if conn.in_transaction:
        conn.execute("ROLLBACK")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        src.backup(conn)
    finally:
        src.close()


def upgrade_backup_path(db_path: Path, from_version: int, to_version: int) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return db_path.with_name(f"{db_path.name}.v{from_version}-to-v{to_version}.{stamp}{BACKUP_SUFFIX}")


def upgrade_backups(db_path: Path) -> list[Path]:
    """Backups made before migrations of ``db_path``, oldest first."""
    return sorted(db_path.parent.glob(f"{db_path.name}.v*-to-v*{BACKUP_SUFFIX}"), key=lambda p: p.name.rsplit(".", 2)[-2])


def backup_before_upgrade(conn: sqlite3.Connection, from_version: int, to_version: int) -> Path | None:
    """Back the database up before migrating it; None for a database without a file."""
    db_path = database_file(conn)
    if db_path is None:
        return None
    target = backup_to(conn, upgrade_backup_path(db_path, from_version, to_version))
    for old in upgrade_backups(db_path)[:-KEEP_UPGRADE_BACKUPS]:
        with contextlib.suppress(OSError):
            old.unlink()
    return target


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
