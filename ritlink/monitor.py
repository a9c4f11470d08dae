"""``ritlink monitor`` (read a monitor, print JSON lines) and ``ritlink sim monitor``."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

FILE_CHUNK = 64  # feed files in serial-sized pieces, as a real line delivers them


def add_commands(sub, sim_sub) -> None:
    from devices.monitors import PROTOCOLS
    from simulators.monitor import SIM_PROTOCOLS

    reader = sub.add_parser("monitor", help="read a vital-signs monitor and print one JSON observation per line")
    reader.add_argument("--protocol", required=True, choices=sorted(PROTOCOLS))
    source = reader.add_mutually_exclusive_group(required=True)
    source.add_argument("--url", help="device path, pyserial URL (socket://, rfc2217://) or, for hl7, "
                                      "listen://HOST:PORT (ritlink is the MLLP server)")
    source.add_argument("--file", type=Path, help="decode a captured byte stream and exit")
    reader.add_argument("--duration", type=float, help="stop after S seconds (default: until Ctrl-C)")
    reader.add_argument("--device-id", default="monitor", help="device id in the output (default monitor)")
    reader.set_defaults(handler=cmd_monitor)

    monitor = sim_sub.add_parser("monitor", help="a vital-signs monitor on a pty (or an HL7 gateway over TCP)")
    monitor.add_argument("--protocol", choices=(*SIM_PROTOCOLS, "intellivue"), default="nonin")
    where = monitor.add_mutually_exclusive_group(required=True)
    where.add_argument("--link", type=Path, help="path where the serial device appears (a symlink to a pty)")
    where.add_argument("--tcp", type=int, metavar="PORT",
                       help="hl7 only: connect to ritlink's MLLP server on this port and send ORU^R01")
    monitor.add_argument("--host", default="127.0.0.1", help="host for --tcp (default 127.0.0.1)")
    monitor.add_argument("--scenario", default="stable",
                         help="stable, hypovolaemic_shock, hypoxia, cardiac_arrest_rosc, mimic, or a CSV path")
    monitor.add_argument("--interval", type=float, default=1.0, help="seconds between frames (default 1)")
    monitor.add_argument("--speed", type=float, default=1.0,
                         help="scenario seconds per real second (default 1; mimic has 1 row per minute)")
    monitor.add_argument("--repeat", action="store_true", help="restart the scenario at its end (default: hold)")
    monitor.add_argument("--garbage-rate", type=float, default=0.0, help="chance per frame of junk bytes (0-1)")
    monitor.add_argument("--seed", type=int, help="random seed for --garbage-rate")
    monitor.add_argument("--unplug-after", type=float, help="pull the cable once after S seconds (back 2 s later)")
    monitor.add_argument("--probe-off-after", type=float, help="the SpO2 probe comes off after S seconds")
    monitor.add_argument("--reboot-after", type=float, help="reboot the monitor after S seconds (intellivue only)")
    monitor.set_defaults(handler=cmd_sim_monitor)


def _print_json_line(data: dict) -> bool:
    """One line, flushed; False when the reader of our stdout has gone (e.g. ``| head``)."""
    try:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
        sys.stdout.flush()
        return True
    except BrokenPipeError:
        return False


def _decode_file(protocol: str, path: Path, device_id: str) -> tuple[int, dict]:
    from devices.hl7_pcd01 import parse_bare_messages
    from devices.monitors import PROTOCOLS

    data = path.read_bytes()
    if protocol == "hl7" and b"\x0b" not in data:
        # A bare message (or several) as saved from an interface engine, without MLLP.
        observations, counters = parse_bare_messages(data, device_id)
    else:
        decoder = PROTOCOLS[protocol].decoder_factory(device_id)
        observations = []
        for start in range(0, len(data), FILE_CHUNK):
            observations.extend(decoder.feed(data[start:start + FILE_CHUNK]))
        counters = decoder.counters()
    for observation in observations:
        if not _print_json_line(observation.to_dict()):
            break
    return len(observations), counters


def cmd_monitor(args: argparse.Namespace) -> int:
    from ritlink.cli import fail, stop_on_signals

    if args.duration is not None and args.duration <= 0:
        return fail("--duration must be greater than 0")
    if args.file is not None:
        if not args.file.is_file():
            return fail(f"--file: {args.file} is not a file")
        count, counters = _decode_file(args.protocol, args.file, args.device_id)
        print(f"ritlink monitor: {count} observations; {json.dumps(counters)}", file=sys.stderr)
        return 0

    from devices.monitors import open_monitor

    stop = stop_on_signals()
    count = 0
    lock = threading.Lock()

    def on_observation(observation) -> None:
        nonlocal count
        with lock:
            count += 1
            if not _print_json_line(observation.to_dict()):
                stop.set()

    def on_state(state: str) -> None:
        print(f"ritlink monitor: {args.protocol} {state}", file=sys.stderr, flush=True)

    try:
        link = open_monitor(args.protocol, args.url, args.device_id, on_observation, on_state)
    except (OSError, ValueError) as exc:
        return fail(f"--url: {exc}")
    print(f"ritlink monitor: waiting for {args.protocol} at {args.url}", file=sys.stderr, flush=True)
    deadline = None if args.duration is None else time.monotonic() + args.duration
    try:
        while not stop.is_set():
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                break
            stop.wait(0.2 if remaining is None else min(0.2, remaining))
    finally:
        link.stop()
    print(f"ritlink monitor: {count} observations; {json.dumps(link.decoder.counters())}", file=sys.stderr)
    return 0


def _check_sim_args(args: argparse.Namespace) -> str | None:
    if args.reboot_after is not None and args.protocol != "intellivue":
        return f"--reboot-after: not supported for protocol {args.protocol} (only intellivue reboots)"
    if args.tcp is not None and args.protocol != "hl7":
        return "--tcp is only for --protocol hl7 (the other protocols are serial: use --link)"
    if args.tcp is not None and not 1 <= args.tcp <= 65535:
        return f"--tcp {args.tcp} is not a valid port (1-65535)"
    if args.link is not None and not args.link.parent.is_dir():
        return f"--link: folder {args.link.parent} does not exist"
    if args.interval <= 0:
        return "--interval must be greater than 0"
    if args.speed <= 0:
        return "--speed must be greater than 0"
    if not 0 <= args.garbage_rate <= 1:
        return "--garbage-rate must be between 0 and 1"
    for flag, value in (("--unplug-after", args.unplug_after), ("--probe-off-after", args.probe_off_after)):
        if value is not None and value < 0:
            return f"{flag} must be 0 or more"
    return None


def cmd_sim_monitor(args: argparse.Namespace) -> int:
    from ritlink.cli import fail, stop_on_signals
    from simulators.monitor import Faults, MllpClientTransport, PtyTransport, run_monitor
    from simulators.pty_device import PtyDevice
    from simulators.scenario import ScenarioError, load_source

    if problem := _check_sim_args(args):
        return fail(problem)
    try:
        source = load_source(args.scenario)
    except (ScenarioError, OSError) as exc:
        return fail(f"--scenario: {exc}")
    stop = stop_on_signals()
    if args.protocol == "intellivue":
        return _sim_intellivue(args, source, stop)
    if args.tcp is not None:
        transport = MllpClientTransport(args.host, args.tcp)
        where = f"MLLP client to {args.host}:{args.tcp}"
    else:
        transport = PtyTransport(PtyDevice(args.link).plug())
        where = str(args.link)
    faults = Faults(garbage_rate=args.garbage_rate, unplug_after_s=args.unplug_after,
                    probe_off_after_s=args.probe_off_after, seed=args.seed)
    print(f"monitor simulator ({args.protocol}, scenario {source.name}) at {where}", flush=True)
    try:
        frames = run_monitor(args.protocol, transport, source, stop, args.interval, args.speed, faults,
                             repeat=args.repeat)
    finally:
        transport.close()
    print(f"monitor simulator stopped after {frames} frames", flush=True)
    return 0


def _sim_intellivue(args: argparse.Namespace, source, stop) -> int:
    """The IntelliVue simulator answers association and polls itself; the scenario feeds it."""
    from simulators.intellivue import run_intellivue_sim

    if args.link is None:
        from ritlink.cli import fail

        return fail("--protocol intellivue needs --link")

    def values(t: float) -> dict[int, float | None]:
        sample = source.sample(t * args.speed)
        return {code: reading.value for code, reading in sample.readings.items()}

    print(f"monitor simulator (intellivue, scenario {source.name}) at {args.link}", flush=True)
    run_intellivue_sim(args.link, stop, values, reboot_after_s=args.reboot_after, garbage_rate=args.garbage_rate)
    return 0
