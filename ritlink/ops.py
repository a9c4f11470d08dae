"""Operations commands: ``ritlink audit --rit ID`` (the NEN 7513 access log of one rit)
and ``ritlink purge`` (retention: remove finished rits the SEH has read)."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path


def add_commands(sub, sim_sub) -> None:
    audit = sub.add_parser("audit", help="print the access log (who, role, action, when, client) of one rit")
    audit.add_argument("--rit", required=True, help="rit_id")
    audit.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    audit.add_argument("--database", type=Path, help="edge database (default: from the config)")
    audit.add_argument("--json", action="store_true", help="one JSON object per line")
    audit.set_defaults(handler=cmd_audit)

    purge = sub.add_parser("purge", help="remove finished rits past their retention (the access log stays)")
    purge.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    purge.add_argument("--database", type=Path, help="edge database (default: from the config)")
    purge.set_defaults(handler=cmd_purge)


def _database(args: argparse.Namespace):
    from edge.config import load_edge_settings

    settings = load_edge_settings(args.config, database=args.database)
    return settings, settings.database


def cmd_audit(args: argparse.Namespace) -> int:
    from edge.store.audit import entries, format_line
    from ritlink.cli import fail

    _, path = _database(args)
    if not path.exists():
        return fail(f"database {path} does not exist")
    # Read-only: the log is evidence, and a running tablet service may hold the write lock.
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        import sqlite_utils

        db = sqlite_utils.Database(conn)
        if "access_log" not in db.table_names():
            return fail(f"database {path} has no access log (not a ritlink edge database?)")
        rows = entries(db, args.rit)
    finally:
        conn.close()
    if not rows:
        return fail(f"no access-log entries for rit {args.rit}")
    for row in rows:
        print(json.dumps(row, ensure_ascii=False, sort_keys=True) if args.json else format_line(row))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from ritlink.cli import fail
    from edge.live.vitals import LiveVitals
    from edge.service import EdgeService
    from edge.store.rit_store import EdgeStore

    settings, path = _database(args)
    if not path.exists():
        return fail(f"database {path} does not exist")
    store = EdgeStore(path)
    try:
        purged = EdgeService(settings, store, LiveVitals()).purge_expired()
    finally:
        store.close()
    print(f"purged {len(purged)} rit(s)" + "".join(f"\n  {rit_id}" for rit_id in purged))
    return 0
