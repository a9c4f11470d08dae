"""SQLite through sqlite-utils: durable settings, numbered migrations, write transactions.

Both the edge and the SEH receiver use this module; each passes its own migration list.
Durability is the point: WAL with ``synchronous=FULL`` so that a save the API has
acknowledged survives a power cut (design.md, "One form, one ordered stream").
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from edge.store import backup
from edge.wire.contract import utc_now

BUSY_TIMEOUT_MS = 10_000

# Sign-in sessions, the same on both sides (the tablet's shift, SEH staff): web/sessions.py
# keeps them; only a hash of the cookie's token is stored.
SESSIONS_TABLE_SQL = """CREATE TABLE sessions (
    token_sha256 TEXT PRIMARY KEY,
    names_json TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT
)"""


class StoreFullError(Exception):
    """The disk (or the database's size limit) is full: the write was refused, nothing lost."""


class SchemaTooNewError(Exception):
    """The database was written by a newer ritlink; refusing to touch it."""


class MigrationFailedError(RuntimeError):
    """A migration failed; the database was put back as it was before the upgrade."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[sqlite_utils.Database], None]


def connect(path: Path | str) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
    db = sqlite_utils.Database(conn)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    return db


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front, so two writers (threads
    or SEH processes sharing one file) queue on busy_timeout instead of failing mid-way."""
    try:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as exc:
        raise _translate(exc) from exc


def _translate(exc: sqlite3.OperationalError) -> Exception:
    text = str(exc).lower()
    if "full" in text:
        return StoreFullError("opslag vol: de wijziging is niet opgeslagen")
    return exc


def is_disk_full(exc: BaseException) -> bool:
    return isinstance(exc, StoreFullError) or (
        isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower()
    )


def schema_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM schema_migrations").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration]) -> list[int]:
    """Bring the database to the latest schema; returns the versions applied now.

    Each migration runs in its own transaction together with its bookkeeping row, so a
    crash leaves the database at a clean earlier version, never half-migrated. Before the
    first pending migration the database is backed up (edge/store/backup.py); if a migration
    fails, that backup is put back and MigrationFailedError says so: the previous ritlink
    can keep running on it, this one refuses to start.
    """
    versions = [m.version for m in migrations]
    if versions != sorted(versions) or len(set(versions)) != len(versions):
        raise ValueError("migrations must have unique, increasing version numbers")
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    current = schema_version(db)
    latest = versions[-1] if versions else 0
    if current > latest:
        raise SchemaTooNewError(
            f"database schema version {current} is newer than this ritlink ({latest}); refusing to start"
        )
    pending = [m for m in migrations if m.version > current]
    if not pending:
        return []
    backup_path = _backup_unless_empty(db, current, latest)
    applied = []
    for migration in pending:
        try:
            with write_transaction(db):
                if schema_version(db) >= migration.version:
                    continue  # another process sharing this file (SEH receivers) applied it
                migration.apply(db)
                db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    [migration.version, migration.name, utc_now()],
                )
        except Exception as exc:
            raise _restore_after_failure(db, migration, exc, backup_path, current) from exc
        applied.append(migration.version)
    return applied


def _backup_unless_empty(db: sqlite_utils.Database, current: int, latest: int) -> Path | None:
    """A new, empty database needs no backup; anything else is copied before it changes."""
    if current == 0 and set(db.table_names()) <= {"schema_migrations"}:
        return None
    try:
        return backup.backup_before_upgrade(db.conn, current, latest)
    except backup.BackupError as exc:
        raise MigrationFailedError(
            f"no backup could be made before upgrading the database from schema {current} to {latest} "
            f"({exc}); nothing was changed; refusing to start"
        ) from exc


def _restore_after_failure(db: sqlite_utils.Database, migration: Migration, exc: Exception,
                           backup_path: Path | None, current: int) -> MigrationFailedError:
    failed = f"database migration {migration.version} ({migration.name}) failed: {type(exc).__name__}: {exc}"
    if backup_path is None:  # a new database: nothing to lose, the failed step was rolled back
        return MigrationFailedError(f"{failed}; the new database stays at schema {schema_version(db)}; refusing to start")
    try:
        backup.restore_from(db.conn, backup_path)
    except Exception as restore_exc:  # say where the copy is: a technician can put it back
        return MigrationFailedError(
            f"{failed}; restoring the backup also failed ({restore_exc}): restore {backup_path} by hand; "
            "refusing to start"
        )
    return MigrationFailedError(
        f"{failed}; the database was restored to schema {current} from {backup_path}; refusing to start"
    )


class Store:
    """One connection shared by the service's threads, serialised by a lock.

    SQLite commits here take well under a millisecond, so one lock is simpler and no
    slower than a pool; every public method of a store subclass takes it.
    """

    def __init__(self, path: Path | str, migrations: Sequence[Migration], max_bytes: int | None = None):
        self.path = Path(path)
        self.lock = threading.RLock()
        self.db = connect(self.path)
        migrate(self.db, migrations)
        self.max_bytes = max_bytes
        if max_bytes is not None:
            # A hard cap on the file (a full disk in miniature): SQLite answers SQLITE_FULL past it.
            page_size = self.db.execute("PRAGMA page_size").fetchone()[0]
            self.db.execute(f"PRAGMA max_page_count = {max(1, max_bytes // page_size)}")

    def space_left(self) -> int:
        """Bytes that may still be written: the smaller of the free disk and the file's cap."""
        free = shutil.disk_usage(self.path.parent).free
        if self.max_bytes is None:
            return free
        with self.lock:
            pages, page_size = (self.db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "page_size"))
            free_pages = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        return min(free, self.max_bytes - (pages - free_pages) * page_size)

    @contextlib.contextmanager
    def write(self, durable: bool = True) -> Iterator[sqlite_utils.Database]:
        """One write transaction. ``durable=False`` commits without its own fsync
        (``synchronous=NORMAL`` for this transaction only): for state that can be recovered
        after a power cut from elsewhere (a broker ack, a receipt the SEH sends again). WAL
        is sequential, so the next durable commit, or the next checkpoint, makes it durable
        too; a cut before that loses only this transaction, never an earlier one."""
        with self.lock:
            if not durable:
                self.db.execute("PRAGMA synchronous=NORMAL")
            try:
                with write_transaction(self.db) as db:
                    yield db
            finally:
                if not durable:
                    self.db.execute("PRAGMA synchronous=FULL")

    def query(self, sql: str, params: Sequence | dict = ()) -> list[dict]:
        with self.lock:
            return list(self.db.query(sql, params))

    def close(self) -> None:
        with self.lock:
            self.db.close()
