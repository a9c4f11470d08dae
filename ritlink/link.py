"""``ritlink sim link``: the TCP link cutter between a client and the broker, for testers."""

from __future__ import annotations

import argparse
import sys
import threading

COMMANDS_HELP = "commands on stdin: cut | blackhole | up | drop [N] | delay MS | throttle BPS | stats"


def add_commands(sub, sim_sub) -> None:
    link = sim_sub.add_parser("link", help="TCP proxy that cuts, delays, throttles or black-holes the link",
                              epilog=COMMANDS_HELP)
    link.add_argument("--listen", type=int, required=True, help="port to listen on (127.0.0.1)")
    link.add_argument("--to", required=True, help="HOST:PORT of the broker")
    link.add_argument("--cut-every", type=float, help="cut the link every S seconds")
    link.add_argument("--cut-for", type=float, default=5.0, help="for S seconds (default 5)")
    link.add_argument("--blackhole", action="store_true", help="scheduled faults drop bytes silently instead of cutting")
    link.add_argument("--delay-ms", type=int, default=0)
    link.add_argument("--throttle-bps", type=int, default=0)
    link.set_defaults(handler=cmd_sim_link)


def _parse_target(text: str) -> tuple[str, int] | None:
    host, _, port = text.rpartition(":")
    return (host, int(port)) if host and port.isdigit() and 0 < int(port) < 65536 else None


def cmd_sim_link(args: argparse.Namespace) -> int:
    from ritlink.cli import fail, stop_on_signals
    from simulators.link import LinkCutter, run_schedule

    target = _parse_target(args.to)
    if target is None:
        return fail(f"--to must be HOST:PORT, got '{args.to}'")
    if args.cut_every is not None and (args.cut_every <= 0 or args.cut_for <= 0):
        return fail("--cut-every and --cut-for must be greater than 0")
    cutter = LinkCutter(args.listen, *target)
    cutter.delay_ms, cutter.throttle_bps = args.delay_ms, args.throttle_bps
    try:
        cutter.start()
    except OSError as exc:
        return fail(f"--listen {args.listen}: {exc.strerror}")
    stop = stop_on_signals()
    if args.cut_every:
        mode = "blackhole" if args.blackhole else "cut"
        threading.Thread(target=run_schedule, args=(cutter, stop, args.cut_every, args.cut_for, mode),
                         daemon=True).start()
    print(f"link 127.0.0.1:{args.listen} -> {args.to}; {COMMANDS_HELP}", flush=True)
    threading.Thread(target=_read_commands, args=(cutter, stop), daemon=True).start()
    stop.wait()
    cutter.stop()
    return 0


def _read_commands(cutter, stop: threading.Event) -> None:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command, rest = words[0], words[1:]
        try:
            if command == "cut":
                cutter.cut()
            elif command == "blackhole":
                cutter.blackhole()
            elif command == "up":
                cutter.restore()
            elif command == "drop":
                cutter.drop_publishes(int(rest[0]) if rest else 1)
            elif command == "delay":
                cutter.delay_ms = int(rest[0])
            elif command == "throttle":
                cutter.throttle_bps = int(rest[0])
            elif command != "stats":
                print(f"unknown command '{command}'; {COMMANDS_HELP}", flush=True)
                continue
        except (IndexError, ValueError):
            print(f"'{command}' needs a whole number", flush=True)
            continue
        print(f"mode={cutter.mode} delay_ms={cutter.delay_ms} throttle_bps={cutter.throttle_bps} {cutter.stats}",
              flush=True)
    if not sys.stdin.isatty():
        return
    stop.set()
