"""Log lines: one event per line (tracebacks folded), no second timestamp under journald."""

from __future__ import annotations

import subprocess
import sys

from tests.harness.procs import child_env

SCRIPT = """
import logging
from ritlink.cli import configure_logging
configure_logging()
try:
    1 / 0
except ZeroDivisionError:
    logging.getLogger("ritlink.test").exception("boom for rit %s", "r-1")
"""


def run(extra_env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=30,
                            env=child_env(extra_env))
    return result.stderr


def test_a_traceback_stays_on_one_line():
    lines = run({}).strip().splitlines()
    assert len(lines) == 1
    assert "ERROR ritlink.test: boom for rit r-1" in lines[0] and "ZeroDivisionError" in lines[0]


def test_no_own_timestamp_under_journald():
    line = run({"JOURNAL_STREAM": "8:12345"}).strip()
    assert line.startswith("ERROR ritlink.test: boom")
    assert not run({}).startswith("ERROR")  # outside systemd the line starts with the time
