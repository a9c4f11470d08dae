"""``ritlink sim scenario FILE``: play a whole run from one scenario file and report."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_commands(sub, sim_sub) -> None:
    scenario = sim_sub.add_parser(
        "scenario", help="play a scenario file (route, patient, link, SEH, crew, expectations) and report",
        description="Starts a private stack (or uses a running one with --edge/--seh/--broker), plays the "
                    "timeline and prints each expectation met or missed; exit 0 only when all are met.")
    scenario.add_argument("file", nargs="?", help="scenario TOML file or a shipped name (see --list)")
    scenario.add_argument("--speed", type=float, help="scenario seconds per real second (default: the file's)")
    scenario.add_argument("--edge", help="URL of a running tablet service (then also --seh)")
    scenario.add_argument("--seh", help="URL of a running SEH receiver")
    scenario.add_argument("--broker", help="mqtt://HOST:PORT of the running broker (to watch the wire)")
    scenario.add_argument("--data-dir", type=Path, help="where the private stack keeps databases and logs")
    scenario.add_argument("--junit", type=Path, help="also write the result as JUnit XML")
    scenario.add_argument("--list", action="store_true", help="list the shipped scenarios")
    scenario.add_argument("--schema", action="store_true", help="print the JSON Schema of the scenario file")
    scenario.set_defaults(handler=cmd_sim_scenario)


def cmd_sim_scenario(args: argparse.Namespace) -> int:
    from ritlink.cli import fail, stop_on_signals
    from simulators import scenario_file
    from simulators.scenario_runner import ScenarioRun
    from simulators.scenario_stack import RunningStack

    if args.schema:
        print(scenario_file.schema_json())
        return 0
    if args.list:
        print("\n".join(scenario_file.shipped()))
        return 0
    if not args.file:
        return fail("give a scenario FILE (or --list, --schema)")
    if args.speed is not None and not 0 < args.speed <= 200:
        return fail("--speed must be greater than 0 and at most 200")
    if bool(args.edge) != bool(args.seh):
        return fail("--edge and --seh go together (a running stack)")
    if args.broker and not args.edge:
        return fail("--broker is only for a running stack (with --edge and --seh)")
    path = scenario_file.resolve(args.file, Path.cwd())
    try:
        scenario = scenario_file.load(path)
    except scenario_file.ScenarioFileError as exc:
        return fail(str(exc))
    running = RunningStack(args.edge, args.seh, args.broker) if args.edge else None
    run = ScenarioRun(scenario, path.parent, speed=args.speed, running=running, data_dir=args.data_dir,
                      stop=stop_on_signals(), out=lambda line: print(line, flush=True))
    code = run.run()
    print(run.report.text(), flush=True)
    if args.junit:
        run.report.write_junit(args.junit)
    return code
