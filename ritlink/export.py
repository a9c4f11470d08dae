"""``ritlink export --rit ID --fhir``: one rit from the tablet's database as a FHIR R4 document
bundle (the same mapping the SEH serves), for the crew's own EPD or a quality audit.

The export is an access to patient data: it goes into the tablet's access log (NEN 7513)
like any other read. Nothing of the form is printed to the log, only the rit id.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path


def add_commands(sub, sim_sub) -> None:
    export = sub.add_parser("export", help="write one rit as a FHIR R4 bundle (Nictiz Acute Zorg)")
    export.add_argument("--rit", required=True, help="rit_id")
    export.add_argument("--fhir", action="store_true", required=True, help="as a FHIR R4 document bundle")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    export.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    export.add_argument("--database", type=Path, help="edge database (default: from the config)")
    export.set_defaults(handler=cmd_export)


def cmd_export(args: argparse.Namespace) -> int:
    from edge.config import load_edge_settings
    from edge.store.audit import Actor
    from edge.store.rit_store import EdgeStore, RitNotFound
    from edge.wire.fhir import rit_bundle
    from ritlink.cli import fail

    settings = load_edge_settings(args.config, database=args.database)
    if not settings.database.exists():
        return fail(f"database {settings.database} does not exist")
    store = EdgeStore(settings.database)
    actor = Actor(user=getpass.getuser(), role="export", client="cli")
    try:
        form = store.transact(lambda tx: {"form": tx.form_copy(args.rit)[0]}, actor, "rit.export.fhir",
                              args.rit)["form"]
    except RitNotFound:
        return fail(f"no rit {args.rit} in {settings.database}")
    finally:
        store.close()
    seh = settings.seh(form.get("destination_seh", ""))
    text = json.dumps(rit_bundle(form, seh_name=seh.name if seh else None), ensure_ascii=False, indent=1)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
        print(f"rit {args.rit}: FHIR bundle written to {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0
