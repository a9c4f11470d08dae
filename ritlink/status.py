"""``ritlink status`` (one screen for crew and technician) and ``ritlink backup`` (a safe copy)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_WARNINGS = 1
EXIT_NOT_RUNNING = 3
STATUS_TIMEOUT_S = 3.0


def add_commands(sub, sim_sub) -> None:
    status = sub.add_parser("status", help="show devices, broker, outbox, disk and the last error of the tablet service")
    status.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    status.add_argument("--port", type=int, help="HTTP port of the running service (default from the config)")
    status.add_argument("--json", action="store_true", help="print the JSON of GET /-/status instead of the screen")
    status.set_defaults(handler=cmd_status)

    backup = sub.add_parser("backup", help="write a consistent copy of the database (safe while the service runs)")
    backup.add_argument("--config", type=Path, help="TOML config file (else $RITLINK_CONFIG, else defaults)")
    backup.add_argument("--seh", action="store_true", help="the config is an SEH receiver's (ritlink seh)")
    backup.add_argument("--to", type=Path, required=True, help="file to write (must not exist yet)")
    backup.set_defaults(handler=cmd_backup)


# -- status --------------------------------------------------------------------------------
def cmd_status(args: argparse.Namespace) -> int:
    from edge.config import load_edge_settings
    from edge.ops.status import collect_offline

    settings = load_edge_settings(args.config, http_port=args.port)
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(settings.http_host, settings.http_host)
    url = f"http://{host}:{settings.http_port}/-/status"
    status = fetch_status(url)
    if status is None:
        status = collect_offline(settings.database, settings.vehicle_id, settings.broker_url)
        status["url"] = url
    print(json.dumps(status, indent=2, ensure_ascii=False) if args.json else render(status))
    if status["service"] != "running":
        return EXIT_NOT_RUNNING
    return EXIT_WARNINGS if status["warnings"] else EXIT_OK


def fetch_status(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=STATUS_TIMEOUT_S) as response:
            status = json.load(response)
    except (OSError, ValueError, urllib.error.URLError):
        return None
    status["url"] = url
    return status


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "nog nooit"
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min"
    if seconds < 86400:
        return f"{seconds // 3600:.0f} u {seconds % 3600 // 60:.0f} min"
    return f"{seconds // 86400:.0f} d {seconds % 86400 // 3600:.0f} u"


def size(n: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


DEVICE_STATE = {"connected": "verbonden", "disconnected": "niet verbonden"}


def render(status: dict[str, Any]) -> str:
    """The status as one screen of Dutch text (at most ~20 lines)."""
    lines = [f"ritlink status  voertuig {status['vehicle_id']}  {status['checked_at']}"]
    if status["service"] == "running":
        lines.append(f"{'Dienst':<14}draait ({status['url'].removesuffix('/-/status')})")
    else:
        lines.append(f"{'Dienst':<14}DRAAIT NIET (geen antwoord op {status['url']}); cijfers uit de database")
    for device in status["devices"]:
        state = DEVICE_STATE.get(device["state"], device["state"])
        lines.append(f"{device['id'].capitalize():<14}{state}, laatste gegevens: "
                     f"{_ago(device['last_data_age_s'])}")
    if status["service"] == "running" and not status["devices"]:
        lines.append(f"{'Apparaten':<14}geen ingesteld")
    broker = status["broker"]
    link = {True: "verbonden", False: "niet verbonden (berichten wachten veilig)", None: "onbekend"}[broker["connected"]]
    lines.append(f"{'Broker':<14}{link}  {broker['url']}")
    lines.append(f"{'Wachtrij':<14}{_outbox_line(status['outbox'])}")
    disk = status["disk"]
    lines.append(f"{'Schijf':<14}{size(disk['free_bytes'])} vrij van {size(disk['total_bytes'])} "
                 f"({disk['free_percent']:.0f} %), {disk['level']}")
    database = status["database"]
    lines.append(f"{'Database':<14}" + (f"{database['path']} ({size(database['size_bytes'])})" if database else "ontbreekt"))
    error = status["last_error"]
    lines.append(f"{'Laatste fout':<14}" + (f"{error['at']} {error['level']}: {error['message']}" if error else "geen"))
    if status["warnings"]:
        lines.append("Let op:")
        lines.extend(f"  ! {warning}" for warning in status["warnings"])
    return "\n".join(lines)


def _ago(seconds: float | None) -> str:
    return "nog nooit" if seconds is None else f"{duration(seconds)} geleden"


def _outbox_line(outbox: dict[str, Any] | None) -> str:
    if outbox is None:
        return "onbekend (database niet leesbaar)"
    text = f"{outbox['unsent']} niet verzonden"
    if outbox["unsent"]:
        text += f" (oudste {duration(outbox['oldest_unsent_age_s'])} geleden)"
    text += f", {outbox['awaiting_receipt']} wacht op ontvangst"
    if outbox["rejected"]:
        text += f", {outbox['rejected']} geweigerd"
    return text


# -- backup --------------------------------------------------------------------------------
def cmd_backup(args: argparse.Namespace) -> int:
    from edge.store.backup import BackupError, backup_to
    from ritlink.cli import fail
    from edge.config import load_edge_settings, load_seh_settings

    settings = (load_seh_settings if args.seh else load_edge_settings)(args.config)
    database = Path(settings.database)
    if not database.exists():
        return fail(f"database {database} does not exist")
    if args.to.exists():
        return fail(f"--to: {args.to} already exists")
    if not args.to.parent.is_dir():
        return fail(f"--to: folder {args.to.parent} does not exist")
    try:
        conn = sqlite3.connect(f"file:{database.resolve()}?mode=ro", uri=True, timeout=10)
        try:
            backup_to(conn, args.to)
        finally:
            conn.close()
    except (BackupError, sqlite3.Error) as exc:
        return fail(str(exc))
    print(f"backup written: {args.to} ({size(args.to.stat().st_size)})", file=sys.stdout)
    return EXIT_OK
