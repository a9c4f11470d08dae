"""``ritlink certs``: a CA, broker and client certificates, the ACL and the TLS listener config."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def add_commands(sub, sim_sub) -> None:
    certs = sub.add_parser("certs", help="make a test CA, broker and client certificates and the broker ACL")
    certs.add_argument("--dir", type=Path, required=True, help="folder for the files (created)")
    certs.add_argument("--vehicle", action="append", default=[], help="vehicle id (repeat)")
    certs.add_argument("--seh", action="append", default=[], help="SEH id (repeat)")
    certs.add_argument("--broker-host", default="localhost", help="the broker's host name (certificate SAN)")
    certs.add_argument("--broker-port", type=int, default=8883)
    certs.set_defaults(handler=cmd_certs)


def cmd_certs(args: argparse.Namespace) -> int:
    from edge.ops.certs import CertError, broker_tls_config, make_all
    from ritlink.cli import fail

    if not args.vehicle or not args.seh:
        return fail("give at least one --vehicle and one --seh")
    for client_id in [*args.vehicle, *args.seh]:
        if not ID.match(client_id):
            return fail(f"'{client_id}' is not a valid id (lower case letters, digits and '-')")
    if set(args.vehicle) & set(args.seh):
        return fail("a vehicle and an SEH cannot share an id")
    if (args.dir / "ca.key").exists():
        return fail(f"--dir {args.dir} already holds a CA; choose an empty folder")
    try:
        make_all(args.dir, args.vehicle, args.seh, args.broker_host)
    except CertError as exc:
        return fail(str(exc))
    listener = broker_tls_config(args.dir.resolve(), args.broker_port, "0.0.0.0")
    (args.dir / "mosquitto-tls.conf").write_text(listener)
    print(f"wrote CA, broker and {len(args.vehicle) + len(args.seh)} client certificates, ritlink.acl and "
          f"mosquitto-tls.conf to {args.dir}")
    return 0
