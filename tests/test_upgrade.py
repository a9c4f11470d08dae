"""Upgrades: backup before migrating, restore on a failed migration, refuse a newer database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edge.store import backup
from edge.store.db import Migration, MigrationFailedError, SchemaTooNewError, Store, connect, migrate, schema_version
from edge.store.rit_store import EDGE_MIGRATIONS
from simulators.mosquitto import free_port
from tests.harness.notify import NotifySocket, start_notified
from tests.harness.procs import run_ritlink, write_toml


# A small schema history, as successive releases would write it.
def _v1_notes(db):
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")


def _v2_author(db):
    db.execute("ALTER TABLE notes ADD COLUMN author TEXT NOT NULL DEFAULT 'onbekend'")
    db.execute("UPDATE notes SET author = 'crew'")


def _v3_tags(db):
    db.execute("CREATE TABLE tags (note_id INTEGER NOT NULL REFERENCES notes(id), tag TEXT NOT NULL)")


def _v3_broken(db):
    db.execute("CREATE TABLE tags (note_id INTEGER)")
    db.execute("INSERT INTO no_such_table VALUES (1)")  # fails half-way: the table above must go too


V1 = [Migration(1, "notes", _v1_notes)]
V3 = [*V1, Migration(2, "note author", _v2_author), Migration(3, "tags", _v3_tags)]
V3_BROKEN = [*V1, Migration(2, "note author", _v2_author), Migration(3, "tags", _v3_broken)]


def old_database(path: Path, notes: int = 50) -> Path:
    store = Store(path, V1)
    with store.write() as db:
        db.conn.executemany("INSERT INTO notes (text) VALUES (?)", [(f"note {i}",) for i in range(notes)])
    store.close()
    return path


def columns(path: Path, table: str) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def version_of(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] or 0


def test_old_schema_is_backed_up_then_migrated_to_the_latest(tmp_path):
    path = old_database(tmp_path / "edge.db")
    db = connect(path)
    assert migrate(db, V3) == [2, 3]
    assert schema_version(db) == 3
    assert db.execute("SELECT count(*), min(author), max(author) FROM notes").fetchone() == (50, "crew", "crew")
    db.close()

    [copy] = backup.upgrade_backups(path)
    assert copy.name.startswith("edge.db.v1-to-v3.")
    assert version_of(copy) == 1 and columns(copy, "notes") == ["id", "text"]
    with sqlite3.connect(copy) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 50
    assert not Path(f"{copy}-wal").exists()  # one self-contained file


def test_failed_migration_restores_the_backup_and_refuses(tmp_path):
    path = old_database(tmp_path / "edge.db")
    db = connect(path)
    with pytest.raises(MigrationFailedError) as refused:
        migrate(db, V3_BROKEN)
    message = str(refused.value)
    assert "migration 3 (tags) failed" in message and "no_such_table" in message
    assert "restored to schema 1" in message and "refusing to start" in message and "\n" not in message
    [copy] = backup.upgrade_backups(path)
    assert str(copy) in message
    db.close()
    # Migration 2 had committed: the restore undid it too, so the old release runs on it again.
    assert version_of(path) == 1
    assert columns(path, "notes") == ["id", "text"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 50
        assert "tags" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    # ... and the old code opens it as before.
    Store(path, V1).close()


def test_database_newer_than_the_code_is_refused_untouched(tmp_path):
    path = tmp_path / "edge.db"
    Store(path, V3).close()
    before = path.read_bytes()
    db = connect(path)
    with pytest.raises(SchemaTooNewError, match="schema version 3 is newer than this ritlink \\(1\\)"):
        migrate(db, V1)
    db.close()
    assert backup.upgrade_backups(path) == []
    assert version_of(path) == 3 and path.read_bytes() == before


def test_new_database_needs_no_backup_and_up_to_date_start_makes_none(tmp_path):
    path = tmp_path / "edge.db"
    Store(path, V3).close()
    Store(path, V3).close()
    assert backup.upgrade_backups(path) == []


def test_only_the_newest_upgrade_backups_are_kept(tmp_path):
    path = old_database(tmp_path / "edge.db")
    history = [V1, V3[:2], V3, [*V3, Migration(4, "x", lambda db: None)], [*V3, Migration(4, "x", lambda db: None),
                                                                       Migration(5, "y", lambda db: None)]]
    for migrations in history:
        Store(path, migrations).close()
    backups = backup.upgrade_backups(path)
    assert len(backups) == backup.KEEP_UPGRADE_BACKUPS == 3
    assert [version_of(b) for b in backups] == [2, 3, 4]  # made before upgrading to 3, 4 and 5


def test_ritlink_backup_command_copies_a_running_database(tmp_path):
    path = old_database(tmp_path / "edge.db")
    writer = sqlite3.connect(path)  # an open, un-checkpointed WAL, as while the service runs
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("INSERT INTO notes (text) VALUES ('in the wal')")
    writer.commit()
    config = write_toml(tmp_path / "edge.toml", {"database": str(path)})
    target = tmp_path / "copy.db"
    result = run_ritlink("backup", "--config", str(config), "--to", str(target))
    writer.close()
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 51
    again = run_ritlink("backup", "--config", str(config), "--to", str(target))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_ritlink_backup_of_the_seh_database(tmp_path):
    path = old_database(tmp_path / "seh.db", notes=3)
    config = write_toml(tmp_path / "seh.toml", {"seh_id": "seh-umcu", "database": str(path)})
    result = run_ritlink("backup", "--seh", "--config", str(config), "--to", str(tmp_path / "copy.db"))
    assert result.returncode == 0, result.stderr
    assert version_of(tmp_path / "copy.db") == 1
    missing = write_toml(tmp_path / "none.toml", {"database": str(tmp_path / "none.db")})
    refused = run_ritlink("backup", "--config", str(missing), "--to", str(tmp_path / "x.db"))
    assert refused.returncode == 2 and "does not exist" in refused.stderr


# -- the real command with the real migrations ---------------------------------------------------
def _refusal(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ritlink: error: ")
    return last


def _edge_config(tmp_path: Path, database: Path) -> Path:
    return write_toml(tmp_path / "edge.toml", {"database": str(database), "broker_url": "mqtt://127.0.0.1:9"})


def test_serve_upgrades_a_database_from_before_the_first_migration_with_a_backup(tmp_path):
    """A file written before schema bookkeeping existed (version 0), with data of its own."""
    path = tmp_path / "edge.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE legacy_notes (text TEXT)")
        conn.execute("INSERT INTO legacy_notes VALUES ('bewaren')")
    with NotifySocket(tmp_path / "notify.sock") as notify:
        proc = start_notified("serve", _edge_config(tmp_path, path), free_port(), notify, tmp_path / "edge.log")
        try:
            notify.wait_for("READY", 30)  # start-up time is not judged here
        finally:
            proc.terminate()
            proc.wait(10)
    assert version_of(path) == EDGE_MIGRATIONS[-1].version
    [copy] = backup.upgrade_backups(path)
    assert copy.name.startswith(f"edge.db.v0-to-v{EDGE_MIGRATIONS[-1].version}.")
    with sqlite3.connect(copy) as conn:
        assert conn.execute("SELECT text FROM legacy_notes").fetchall() == [("bewaren",)]
        assert "rits" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}


def test_serve_refuses_when_the_first_migration_fails_and_restores(tmp_path):
    path = tmp_path / "edge.db"
    with sqlite3.connect(path) as conn:  # a table in the way of migration 1
        conn.execute("CREATE TABLE rits (rit_id TEXT, note TEXT)")
        conn.execute("INSERT INTO rits VALUES ('r1', 'bewaren')")
    result = run_ritlink("serve", "--config", str(_edge_config(tmp_path, path)), "--port", str(free_port()))
    line = _refusal(result)
    assert "migration 1" in line and "failed" in line and "restored to schema 0" in line
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT * FROM rits").fetchall() == [("r1", "bewaren")]
        assert "outbox" not in {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}


@pytest.mark.parametrize("command", ["serve", "seh"])
def test_serve_and_seh_refuse_a_newer_database(tmp_path, command):
    path = tmp_path / f"{command}.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        conn.execute("INSERT INTO schema_migrations VALUES (99, 'from the future', '2031-01-01T00:00:00Z')")
    config = write_toml(tmp_path / f"{command}.toml", {"database": str(path), "broker_url": "mqtt://127.0.0.1:9"})
    line = _refusal(run_ritlink(command, "--config", str(config), "--port", str(free_port())))
    assert "schema version 99 is newer than this ritlink" in line and "refusing to start" in line
    assert version_of(path) == 99
