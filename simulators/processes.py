"""Run ritlink subcommands as real child processes that can be SIGKILLed and restarted.

Used by the fault soak (simulators/fault_soak.py), its benchmark and the tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from simulators.mosquitto import ChildProcess, free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[1]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RITLINK_")}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra or {})
    return env


def ritlink_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "ritlink", *args]


def run_ritlink(*args: str, timeout: float = 30, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(ritlink_cmd(*args), capture_output=True, text=True, timeout=timeout, env=child_env(),
                          cwd=kwargs.pop("cwd", None), **kwargs)


def write_toml(path: Path, values: dict, sehs: list[dict] | None = None) -> Path:
    lines = []
    for key, value in values.items():
        lines.append(f"{key} = {value}" if isinstance(value, int | float) else f'{key} = "{value}"')
    for seh in sehs or []:
        lines.append("[[sehs]]")
        lines.extend(f'{k} = "{v}"' for k, v in seh.items())
    path.write_text("\n".join(lines) + "\n")
    return path


class RitlinkProcess(ChildProcess):
    """One ``ritlink serve`` / ``ritlink seh`` process with an HTTP port; restartable."""

    def __init__(self, command: str, config: Path, log_path: Path, port: int | None = None):
        self.command = command
        self.config = config
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> RitlinkProcess:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            ritlink_cmd(self.command, "--config", str(self.config), "--port", str(self.port)),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=child_env(),
        )
        log.close()
        if not wait_for_port(self.port, timeout):
            self.kill9()
            raise RuntimeError(f"ritlink {self.command} did not listen; log:\n{self.log_text()[-3000:]}")
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.base_url + path, timeout=5, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs) -> httpx.Response:
        return httpx.post(self.base_url + path, json=json, timeout=5, **kwargs)
