"""``ritlink pin-hash``: the tablet's shift PIN as a hash for the configuration.

Secrets are read from the terminal (asked twice) or, when piped, from the first line of
stdin: never from the command line, where they would end up in the shell's history.
"""

from __future__ import annotations

import argparse
import getpass
import sys


def add_commands(sub, sim_sub) -> None:
    pin = sub.add_parser("pin-hash", help="hash a shift PIN (>= 5 digits) for pin_hash in the tablet's config")
    pin.set_defaults(handler=cmd_pin_hash)


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
