"""``ritlink sim monitor``: monitor simulators for testers (and, later, ``ritlink monitor``)."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(sub, sim_sub) -> None:
    monitor = sim_sub.add_parser("monitor", help="a vital-signs monitor on a pty")
    monitor.add_argument("--protocol", choices=["nonin"], default="nonin")
    monitor.add_argument("--link", required=True, type=Path, help="path where the device appears (a symlink)")
    monitor.add_argument("--interval", type=float, default=1.0, help="seconds between values (default 1)")
    monitor.add_argument("--unplug-after", type=float, help="pull the cable once after S seconds (back 2 s later)")
    monitor.set_defaults(handler=cmd_sim_monitor)


def cmd_sim_monitor(args: argparse.Namespace) -> int:
    from edge.cli import fail, stop_on_signals
    from simulators.monitor import run_nonin
    from simulators.pty_device import PtyDevice

    if not args.link.parent.is_dir():
        return fail(f"--link: folder {args.link.parent} does not exist")
    if args.interval <= 0:
        return fail("--interval must be greater than 0")
    stop = stop_on_signals()
    device = PtyDevice(args.link).plug()
    print(f"monitor simulator ({args.protocol}) at {args.link}", flush=True)
    try:
        run_nonin(device, stop, args.interval, args.unplug_after)
    finally:
        device.unplug()
    return 0
