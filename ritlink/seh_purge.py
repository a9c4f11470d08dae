"""``ritlink seh-purge``: retention at the SEH by hand (the receiver runs the same job every
hour): finished rits past the retention period go, with their messages, versions and dead
letters; the access log stays (seh/retention.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_commands(sub, sim_sub) -> None:
    purge = sub.add_parser("seh-purge", help="SEH: remove finished rits past their retention (the access log stays)")
    purge.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    purge.add_argument("--database", type=Path, help="SEH database (default: from the config)")
    purge.add_argument("--keep-days", type=float, help="retention period in days (default: from the config, 7)")
    purge.set_defaults(handler=cmd_seh_purge)


def cmd_seh_purge(args: argparse.Namespace) -> int:
    from edge.config import load_seh_settings
    from ritlink.cli import fail
    from seh.store import SehStore

    overrides = {"database": args.database} if args.database else {}
    settings = load_seh_settings(args.config, **overrides)
    if not settings.database.exists():
        return fail(f"database {settings.database} does not exist")
    keep_days = args.keep_days if args.keep_days is not None else settings.keep_finished_days
    if keep_days < 0:
        return fail("--keep-days must not be negative")
    store = SehStore(settings.database, settings.seh_id)  # shares the file with running receivers
    try:
        counts = store.purge_finished(keep_days * 86400, pause_s=0.05)
        storage = store.storage()
    finally:
        store.close()
    print(json.dumps({"purged": counts, "storage": storage}, sort_keys=True))
    return 0
