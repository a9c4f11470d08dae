"""Numbered migrations recorded in the database: fresh and old databases end at the latest."""

from __future__ import annotations

import sqlite3

import pytest

from edge.store.db import Migration, SchemaTooNewError, connect, migrate, schema_version
from edge.store.rit_store import EDGE_MIGRATIONS, EdgeStore
from seh.store import SEH_MIGRATIONS, SehStore


def test_fresh_databases_reach_the_latest_schema(tmp_path):
    edge = EdgeStore(tmp_path / "edge.db")
    assert schema_version(edge.db) == EDGE_MIGRATIONS[-1].version
    seh = SehStore(tmp_path / "seh.db", "seh-umcu")
    assert schema_version(seh.db) == SEH_MIGRATIONS[-1].version


def test_durability_settings(tmp_path):
    db = EdgeStore(tmp_path / "edge.db").db
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_old_database_is_migrated_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    migrate(db, EDGE_MIGRATIONS[:1])
    db.execute("INSERT INTO rits VALUES ('r1', 'v', 'A1', 'seh-umcu', 'concept', 't', 't', '{}', 'h')")
    db.close()

    def add_column(db):
        db.execute("ALTER TABLE rits ADD COLUMN note TEXT")

    later = [*EDGE_MIGRATIONS, Migration(EDGE_MIGRATIONS[-1].version + 1, "test: add note", add_column)]
    db = connect(path)
    assert migrate(db, later) == [m.version for m in later[1:]]
    assert schema_version(db) == later[-1].version
    assert db.execute("SELECT rit_id, note FROM rits").fetchall() == [("r1", None)]
    assert migrate(db, later) == []  # idempotent
    names = [r[0] for r in db.execute("SELECT name FROM schema_migrations ORDER BY version")]
    assert names[-1] == "test: add note"


def test_a_failing_migration_leaves_the_previous_version(tmp_path):
    path = tmp_path / "edge.db"
    EdgeStore(path).close()

    def broken(db):
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    db = connect(path)
    with pytest.raises(RuntimeError):
        migrate(db, [*EDGE_MIGRATIONS, Migration(99, "broken", broken)])
    assert schema_version(db) == EDGE_MIGRATIONS[-1].version
    assert "half_done" not in db.table_names()


def test_database_newer_than_the_code_is_refused(tmp_path):
    path = tmp_path / "edge.db"
    EdgeStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 'x')")
    with pytest.raises(SchemaTooNewError):
        EdgeStore(path)
