"""Run every benchmark (full size, or ``--smoke``) as its own process and write one markdown
table: each figure, its baseline measured in the same run, and the ratio (``make bench``).

    .venv/bin/python bench/run_all.py [--out bench/results.md] [--smoke] [--only NAME ...]

A benchmark that fails (crash, timeout, or its own correctness check) gets a FAILED row and
makes the exit status non-zero; the others still run.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
sys.path.insert(0, str(REPO))

from bench import _report as report  # noqa: E402

# name -> (arguments at full size, timeout in seconds at full size). tests/test_bench_smoke.py
# runs each of these with --smoke; a new benchmark in bench/ must be listed here.
BENCHMARKS: dict[str, tuple[list[str], int]] = {
    "form_ops": ([], 600),
    "sync_latency": ([], 900),
    "backlog_drain": ([], 600),
    "monitor_ingest": ([], 300),
    "intellivue_ingest": ([], 300),
    "gps_ingest": ([], 300),
    "ui_save_latency": ([], 600),
    "fault_soak": ([], 2400),
    "seh_storage": ([], 600),
    "seh_apply": ([], 900),
    "national_load": ([], 2400),
}


def command(name: str, extra: list[str]) -> list[str]:
    return [sys.executable, str(BENCH_DIR / f"{name}.py"), *extra]


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run(name: str, smoke: bool, results: Path) -> tuple[int, float]:
    args, timeout = BENCHMARKS[name]
    started = time.monotonic()
    try:
        done = subprocess.run(command(name, (["--smoke"] if smoke else args) + ["--results", str(results)]),
                              cwd=REPO, env=bench_env(), timeout=timeout, stdout=sys.stdout, stderr=sys.stderr)
        code = done.returncode
    except subprocess.TimeoutExpired:
        code = -1
    return code, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results.md")
    parser.add_argument("--smoke", action="store_true")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHMARKS), help="run only these")
    args = parser.parse_args()
    rows: list[report.Row] = []
    failed = []
    with tempfile.TemporaryDirectory(prefix="ritlink-bench-") as tmp:
        for name in args.only or BENCHMARKS:
            print(f"\n=== {name}", flush=True)
            results = Path(tmp) / f"{name}.jsonl"
            code, seconds = run(name, args.smoke, results)
            rows += report.read_rows(results)
            if code != 0:
                failed.append(name)
                rows.append(report.text(name, "FAILED", f"exit status {code} after {seconds:.0f} s", "", ""))
    header = (f"# Benchmarks\n\nWritten by `make bench` ({'smoke size' if args.smoke else 'full size'}) on "
              f"{time.strftime('%Y-%m-%d %H:%M')}: {platform.node()}, {os.cpu_count()} CPU(s), "
              f"Python {platform.python_version()}. Every baseline was measured in the same run as its figure; "
              "the ratio is figure / baseline. See docs/testing.md for what each one measures.\n\n")
    args.out.write_text(header + report.markdown(rows) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
