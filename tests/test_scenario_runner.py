"""``ritlink sim scenario``: a missed expectation fails the run by name, a running stack
(``ritlink demo``) can be targeted, Ctrl-C stops every child, the file format is the
documented schema, and a bad file is refused naming the key."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from simulators import scenario_file
from simulators.mosquitto import free_port
from tests.harness.procs import REPO_ROOT, child_env, ritlink_cmd, run_ritlink
from tests.harness.waiting import wait_until
from tests.test_demo import processes_mentioning

SHIPPED = scenario_file.SCENARIOS_DIR


@pytest.mark.serial
def test_a_broken_expectation_in_a_copy_makes_the_run_exit_1_naming_the_miss(tmp_path):
    text = (SHIPPED / "cancelled_a1.toml").read_text()
    broken = text.replace('name = "SEH ziet de rit als geannuleerd, met de hash van de tablet"\nstatus = "geannuleerd"',
                          'name = "SEH ziet de rit als overgedragen"\nstatus = "overdracht"')
    assert broken != text
    copy = tmp_path / "broken.toml"
    copy.write_text(broken)
    result = run_ritlink("sim", "scenario", str(copy), "--speed", "20", "--data-dir", str(tmp_path / "stack"),
                         "--junit", str(tmp_path / "junit.xml"), timeout=90)
    assert result.returncode == 1, result.stdout[-4000:] + result.stderr[-2000:]
    verdicts = result.stdout.split("tijdlijn:")[0]
    missed = [row for row in verdicts.splitlines() if row.strip().startswith("GEMIST")]
    assert len(missed) == 1 and "SEH ziet de rit als overgedragen" in missed[0], verdicts
    assert "status geannuleerd" in missed[0]  # what was seen instead
    assert "NIET GESLAAGD" in result.stdout
    junit = (tmp_path / "junit.xml").read_text()
    assert 'failures="1"' in junit and "SEH ziet de rit als overgedragen" in junit


RUNNING_SCENARIO = """
[scenario]
name = "tegen een draaiende demo"
duration_s = 120

[patient]
protocol = "nonin"
course = "hypoxia"

[seh]
read_after_s = 10

[[crew]]
at = 2
action = "start_rit"
urgency = "A1"

[[crew]]
at = 10
action = "accept_vitals"

[[crew]]
at = 15
action = "announce"

[[expect]]
what = "seh_has_form"
after = 15
within_s = 20

[[expect]]
what = "message_state"
state = "read"
after = 15
within_s = 60

[[expect]]
what = "no_loss"
after = 15
within_s = 60
"""


@pytest.mark.serial
def test_runs_against_an_already_running_demo(tmp_path):
    ports = {"edge": free_port(), "seh": free_port(), "broker": free_port()}
    data_dir = tmp_path / "demo"
    demo = subprocess.Popen(
        ritlink_cmd("demo", "--edge-port", str(ports["edge"]), "--seh-port", str(ports["seh"]),
                    "--broker-port", str(ports["broker"]), "--data-dir", str(data_dir)),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=child_env())
    try:
        for name in ("edge", "seh"):
            url = f"http://127.0.0.1:{ports[name]}/-/health"
            wait_until(lambda: httpx.get(url, timeout=1).json()["status"] == "ok", 30, what=f"demo {name}")
        path = tmp_path / "running.toml"
        path.write_text(RUNNING_SCENARIO)
        result = run_ritlink("sim", "scenario", str(path), "--speed", "5",
                             "--edge", f"http://127.0.0.1:{ports['edge']}", "--seh", f"http://127.0.0.1:{ports['seh']}",
                             "--broker", f"mqtt://127.0.0.1:{ports['broker']}", timeout=90)
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "3/3 verwachtingen gehaald" in result.stdout
        assert "overgeslagen: patient" in result.stdout  # the demo keeps its own monitor
        assert "tablet → SEH: seq 1 vooraankondiging" in result.stdout  # watched on the demo's broker
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(10)
        except subprocess.TimeoutExpired:
            demo.kill()


def test_ctrl_c_stops_every_child(tmp_path):
    data_dir = tmp_path / "stack"
    runner = subprocess.Popen(ritlink_cmd("sim", "scenario", "rural_outage", "--speed", "5", "--data-dir",
                                          str(data_dir)),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env())
    try:
        wait_until(lambda: (data_dir / "edge.log").exists() and len(processes_mentioning(str(data_dir))) >= 3, 30,
                   what="broker, SEH and tablet service started")
        time.sleep(2)  # the clock is running
        runner.send_signal(signal.SIGINT)
        runner.wait(15)
        output = runner.stdout.read()
        assert runner.returncode == 1 and "onderbroken (Ctrl-C)" in output, output[-3000:]
        wait_until(lambda: processes_mentioning(str(data_dir)) == [], 5, what="no stray child processes")
        assert not (data_dir / "monitor").exists(), "the monitor pty link is left behind"
    finally:
        if runner.poll() is None:
            runner.kill()
        for pid in processes_mentioning(str(data_dir)):
            os.kill(pid, signal.SIGKILL)


def test_docs_hold_the_schema_and_every_shipped_scenario_follows_it():
    docs = (REPO_ROOT / "docs" / "scenarios.md").read_text()
    block = re.search(r"```json\n(.*?)\n```", docs, re.S)
    assert block and json.loads(block.group(1)) == scenario_file.schema(), \
        "docs/scenarios.md: paste the output of 'ritlink sim scenario --schema'"
    for name in scenario_file.shipped():
        scenario_file.load(SHIPPED / f"{name}.toml")
        assert f"`{name}`" in docs, f"docs/scenarios.md does not describe {name}"
    printed = run_ritlink("sim", "scenario", "--schema")
    assert printed.returncode == 0 and json.loads(printed.stdout) == scenario_file.schema()


def test_a_bad_file_is_refused_naming_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[scenario]\nname = "x"\nduration_s = 60\n[[crew]]\nat = 1\naction = "start_rit"\n'
                   'urgency = "A9"\n')
    result = run_ritlink("sim", "scenario", str(bad))
    assert result.returncode == 2 and "crew.0.start_rit.urgency" in result.stderr, result.stderr
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('[scenario]\nname = "x"\nduration_s = 60\n[[expect]]\nwhat = "seh_has_form"\n')
    result = run_ritlink("sim", "scenario", str(unknown))
    assert result.returncode == 2 and "never started" in result.stderr, result.stderr
    assert run_ritlink("sim", "scenario", "no_such_scenario").returncode == 2
