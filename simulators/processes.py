"""Run ritlink subcommands as real child processes that can be SIGKILLed and restarted.

Used by the fault soak (simulators/fault_soak.py), its benchmark and the tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx

from simulators.mosquitto import PORT_RANGE_ENV, ChildProcess, free_port, wait_for_port

REPO_ROOT = Path(__file__).resolve().parents[1]

# The credentials every service the harness starts gets (the demo's too): the shift PIN
# 12345 as its scrypt hash (`ritlink pin-hash 12345`) and one device/integration token that
# the harness sends on /api/v1 of both apps.
PIN = "12345"
PIN_HASH = ("scrypt$16384$8$1$2a52f58ceb2daa76921befab4746c2b1$"
            "21598a50e53f655eb34e48b24cb26a16622d0ded654cfb8f9f4385dedc2efc60")
DEVICE_TOKEN = "ritlink-harness-device-token-0001"
AUTH_HEADERS = {"Authorization": f"Bearer {DEVICE_TOKEN}"}
CREDENTIALS_ENV = {"RITLINK_PIN_HASH": PIN_HASH,
                   "RITLINK_API_TOKENS": json.dumps([{"name": "harness", "token": DEVICE_TOKEN}])}


def child_env(extra: dict[str, str] | None = None, credentials: bool = True) -> dict[str, str]:
    """``credentials``: the harness PIN hash and device token (``ritlink seh`` ignores the PIN)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RITLINK_") and k != PORT_RANGE_ENV}
    env["PYTHONPATH"] = str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    if credentials:
        env.update(CREDENTIALS_ENV)
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

    def __init__(self, command: str, config: Path, log_path: Path, port: int | None = None,
                 env: dict[str, str] | None = None, cwd: Path | None = None):
        """``env``/``cwd``: another environment than the checkout's (e.g. an installed wheel)."""
        self.command = command
        self.env, self.cwd = env, cwd
        self.config = config
        self.port = port or free_port()
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> RitlinkProcess:
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            ritlink_cmd(self.command, "--config", str(self.config), "--port", str(self.port)),
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=self.env or child_env(), cwd=self.cwd,
        )
        log.close()
        if not wait_for_port(self.port, timeout):
            self.kill9()
            raise RuntimeError(f"ritlink {self.command} did not listen; log:\n{self.log_text()[-3000:]}")
        return self

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def _client(self, headers: dict) -> tuple[httpx.Client | None, dict]:
        """A request naming its author (``X-Ritlink-User``) goes as that crew member, signed in
        through the tablet's pages; any other with the harness's device token."""
        headers = dict(headers)
        user = headers.pop("X-Ritlink-User", None)
        headers.pop("X-Ritlink-Role", None)
        if user and self.command == "serve":
            return self.signed_in(user), headers
        return None, {**AUTH_HEADERS, **headers}

    def get(self, path: str, **kwargs) -> httpx.Response:
        client, headers = self._client(kwargs.pop("headers", {}))
        if client is not None:
            return client.get(path, headers=headers, **kwargs)
        return httpx.get(self.base_url + path, timeout=5, headers=headers, **kwargs)

    def post(self, path: str, json: dict | None = None, **kwargs) -> httpx.Response:
        client, headers = self._client(kwargs.pop("headers", {}))
        if client is not None:
            return client.post(path, json=json, headers=headers, **kwargs)
        return httpx.post(self.base_url + path, json=json, timeout=5, headers=headers, **kwargs)

    def signed_in(self, *names: str) -> httpx.Client:
        """An HTTP client of the signed-in shift (cookie + CSRF header), e.g. to be the audit author;
        one sign-in per crew, reused."""
        names = names or ("J. de Vries",)
        sessions = self.__dict__.setdefault("_sessions", {})
        if names not in sessions:
            sessions[names] = sign_in(self.base_url, names)
        return sessions[names]


def sign_in(base_url: str, names: tuple[str, ...], pin: str = PIN) -> httpx.Client:
    """Sign in through the tablet's pages, as the crew does; the client then carries the
    shift cookie and the CSRF header /api/v1 asks for on writes."""
    client = httpx.Client(base_url=base_url, timeout=5)
    page = client.get("/aanmelden").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = client.post("/aanmelden", data={"crew1": names[0], "crew2": names[1] if len(names) > 1 else "",
                                              "pin": pin, "csrf": token})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in refused (HTTP {answer.status_code})")
    home = client.get("/").text
    client.headers["X-CSRF-Token"] = re.search(r'name="csrf" value="([^"]+)"', home).group(1)
    return client
