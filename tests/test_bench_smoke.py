"""Every benchmark in bench/ runs at smoke size, as a real process, so none can rot: a crash, a
hang or a benchmark that stops reporting its figures beside a baseline fails the suite.
Nothing here judges the figures themselves (they depend on the machine)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench import _report as report
from bench.run_all import BENCH_DIR, BENCHMARKS, bench_env, command

# Seconds each smoke run may take on a busy two-core machine (the soak and chromium are slower).
SMOKE_TIMEOUT_S = {"fault_soak": 240, "ui_save_latency": 90, "national_load": 120}


def test_every_benchmark_is_listed():
    on_disk = {p.stem for p in BENCH_DIR.glob("*.py") if not p.stem.startswith("_") and p.stem != "run_all"}
    assert on_disk == set(BENCHMARKS)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", sorted(BENCHMARKS))
def test_benchmark_runs_at_smoke_size(name, tmp_path):
    timeout = SMOKE_TIMEOUT_S.get(name, 60)
    results = tmp_path / "results.jsonl"
    try:
        done = subprocess.run(command(name, ["--smoke", "--results", str(results)]), cwd=BENCH_DIR.parent,
                              env=bench_env(), timeout=timeout, capture_output=True, text=True)
    except subprocess.TimeoutExpired as hung:
        pytest.fail(f"bench/{name}.py --smoke did not finish in {timeout} s:\n{str(hung.stdout)[-3000:]}")
    assert done.returncode == 0, f"bench/{name}.py --smoke exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    rows = report.read_rows(results)
    assert rows, f"bench/{name}.py reported no figures"
    for row in rows:
        assert row.bench == name and row.value and row.baseline and row.baseline_value, row
    assert report.HEADER.splitlines()[0] in done.stdout  # the table is printed, too

