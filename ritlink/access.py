"""``ritlink pin-hash`` (the tablet's shift PIN as a hash for the configuration) and
``ritlink seh-users add NAME`` (a staff sign-in in the SEH database, seh/staff.py).

Secrets are read from the terminal (asked twice) or, when piped, from the first line of
stdin: never from the command line, where they would end up in the shell's history.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def add_commands(sub, sim_sub) -> None:
    pin = sub.add_parser("pin-hash", help="hash a shift PIN (>= 5 digits) for pin_hash in the tablet's config")
    pin.set_defaults(handler=cmd_pin_hash)
    users = sub.add_parser("seh-users", help="SEH staff who may sign in to the board and the rit pages")
    users_sub = users.add_subparsers(dest="action", required=True, parser_class=type(users))
    add = users_sub.add_parser("add", help="add a staff member or set a new password (asked, or read from stdin)")
    add.add_argument("name", help="the sign-in name, e.g. j.jansen")
    add.add_argument("--role", default="seh-verpleegkundige", help="the role in the access log")
    add.add_argument("--config", type=Path, help="the SEH's TOML config (for its database)")
    add.add_argument("--database", type=Path, help="the SEH database (instead of --config)")
    add.set_defaults(handler=cmd_seh_user_add)


def read_secret(what: str) -> str:
    if sys.stdin.isatty():
        first = getpass.getpass(f"{what}: ")
        if getpass.getpass(f"{what} (again): ") != first:
            raise ValueError(f"the two {what}s differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_pin_hash(args: argparse.Namespace) -> int:
    from ritlink.cli import fail
    from web.passwords import WeakSecret, check_pin, hash_secret

    try:
        pin = check_pin(read_secret("PIN"))
    except (WeakSecret, ValueError) as exc:
        return fail(str(exc))
    print(f'pin_hash = "{hash_secret(pin)}"')
    return 0


def cmd_seh_user_add(args: argparse.Namespace) -> int:
    from edge.config import load_seh_settings
    from edge.store.db import MigrationFailedError, SchemaTooNewError
    from ritlink.cli import fail
    from seh.staff import add_user
    from seh.store import SehStore

    database = args.database or load_seh_settings(args.config).database
    try:
        password = read_secret("password")
        store = SehStore(database, "seh-users")
    except (ValueError, SchemaTooNewError, MigrationFailedError) as exc:
        return fail(str(exc))
    try:
        add_user(store, args.name, password, args.role)
    except ValueError as exc:
        return fail(str(exc))
    finally:
        store.close()
    print(f"{args.name} can sign in at the SEH ({args.role})")
    return 0
