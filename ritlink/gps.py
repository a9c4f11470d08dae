"""``ritlink gps`` and ``ritlink sim gps`` (GPS reader and simulator for testers)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path


def add_commands(sub, sim_sub) -> None:
    gps = sub.add_parser("gps", help="read a GPS receiver (NMEA 0183) and print one JSON fix per epoch")
    source = gps.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="pyserial URL or device path (/dev/ttyUSB0, a pty, socket://host:port)")
    source.add_argument("--file", type=Path, help="a capture file of NMEA sentences ('#' lines are skipped)")
    source.add_argument("--gpsd", nargs="?", const="127.0.0.1:2947", metavar="HOST:PORT",
                        help="read a running gpsd instead (default 127.0.0.1:2947)")
    gps.add_argument("--duration", type=float, help="stop reading a live device after S seconds")
    gps.add_argument("--baud", type=int, default=9600, help="serial speed for --url (default 9600)")
    gps.set_defaults(handler=cmd_gps)

    sim = sim_sub.add_parser("gps", help="a GPS receiver on a pty: a synthetic drive or a replayed capture")
    sim.add_argument("--link", required=True, type=Path, help="path where the device appears (a symlink)")
    what = sim.add_mutually_exclusive_group(required=True)
    what.add_argument("--replay", type=Path, help="capture file to play ('#' lines skipped)")
    what.add_argument("--route", help="route file (.geojson or .csv) or a shipped route: utrecht-city, rural")
    sim.add_argument("--rate", type=float, default=1.0, help="speed-up: N x real time (default 1)")
    sim.add_argument("--hz", type=int, choices=[1, 5], default=1, help="route: epochs per second (1 or 5)")
    sim.add_argument("--baud", type=int, help="line speed the output must fit (default 9600; 38400 at 5 Hz)")
    sim.add_argument("--seed", type=int, default=1, help="route noise and traffic (default 1)")
    sim.add_argument("--loop", action="store_true", help="start again at the end")
    sim.add_argument("--garbage-rate", type=float, default=0.0, help="chance per sentence of random bytes before it")
    sim.add_argument("--bad-checksum-rate", type=float, default=0.0, help="chance per sentence of a wrong checksum")
    sim.add_argument("--drop-rate", type=float, default=0.0, help="chance per sentence that it is lost")
    sim.add_argument("--unplug-after", type=float, help="pull the cable once after S seconds (back 2 s later)")
    sim.add_argument("--no-fix-for", type=float, default=0.0, help="route: a tunnel of S seconds without fix")
    sim.add_argument("--no-fix-after", type=float, default=30.0, help="route: the tunnel starts after S seconds (default 30)")
    sim.set_defaults(handler=cmd_sim_gps)


def _print_fix(fix) -> None:
    sys.stdout.write(json.dumps(fix.to_dict(), separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _print_counters(counters: dict) -> None:
    print(json.dumps({"counters": counters}), file=sys.stderr, flush=True)


def cmd_gps(args: argparse.Namespace) -> int:
    from ritlink.cli import fail, stop_on_signals

    if args.duration is not None and args.duration <= 0:
        return fail("--duration must be greater than 0")
    if args.file is not None:
        return _read_file(args.file)
    stop = stop_on_signals()
    fixes: list = []
    ready = threading.Condition()

    def on_fix(fix) -> None:
        with ready:
            fixes.append(fix)
            ready.notify()

    if args.gpsd is not None:
        from devices.gpsd_client import GpsdClient

        host, _, port = args.gpsd.rpartition(":")
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            return fail(f"--gpsd: {args.gpsd!r} is not HOST:PORT")
        source = GpsdClient(on_fix, host=host or "127.0.0.1", port=int(port)).start()
    else:
        from devices.gps import GpsReader

        source = GpsReader(args.url, on_fix, baudrate=args.baud).start()
    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
            with ready:
                ready.wait(0.1)
                batch, fixes[:] = list(fixes), []
            for fix in batch:
                _print_fix(fix)
    except BrokenPipeError:
        pass  # the reader of our output went away (| head)
    finally:
        source.stop()
        for fix in fixes:
            _print_fix(fix)
        _print_counters(source.counters())
    return 0


def _read_file(path: Path) -> int:
    from devices.gps import GpsDecoder, read_capture
    from ritlink.cli import fail

    if not path.is_file():
        return fail(f"--file: {path} is not a readable file")
    decoder = GpsDecoder()
    try:
        for fix in read_capture(path, decoder):
            _print_fix(fix)
    except BrokenPipeError:
        return 0
    _print_counters(decoder.counters())
    return 0


def cmd_sim_gps(args: argparse.Namespace) -> int:
    from ritlink.cli import fail, stop_on_signals
    from simulators.gps import Faults, PacedLine, RouteReceiver, run_replay, run_route
    from simulators.gps_route import RouteError, load_route, shipped_route
    from simulators.pty_device import PtyDevice

    if not args.link.parent.is_dir():
        return fail(f"--link: folder {args.link.parent} does not exist")
    if args.rate <= 0:
        return fail("--rate must be greater than 0")
    for flag in ("garbage_rate", "bad_checksum_rate", "drop_rate"):
        if not 0 <= getattr(args, flag) <= 1:
            return fail(f"--{flag.replace('_', '-')} must be between 0 and 1")
    baud = args.baud or (9600 if args.hz == 1 else 38400)
    if baud < 300:
        return fail("--baud must be at least 300")
    faults = Faults(args.garbage_rate, args.bad_checksum_rate, args.drop_rate, args.no_fix_after, args.no_fix_for)
    route = None
    if args.route is not None:
        path = shipped_route(args.route) or Path(args.route)
        try:
            route = load_route(path)
        except RouteError as exc:
            return fail(f"--route: {exc}")
    elif not args.replay.is_file():
        return fail(f"--replay: {args.replay} is not a readable file")

    stop = stop_on_signals()
    device = PtyDevice(args.link).plug()
    line = PacedLine(device, stop, baud, args.unplug_after)
    what = f"route {route.name}" if route else f"replay {args.replay.name}"
    print(f"GPS simulator ({what}, {baud} baud) at {args.link}", flush=True)
    try:
        if route is not None:
            receiver = RouteReceiver(route, args.hz, args.seed, faults=faults)
            run_route(line, receiver, args.rate, args.seed, args.loop)
        else:
            run_replay(line, args.replay, args.rate, faults, args.seed, args.loop)
    finally:
        device.unplug()
    return 0
