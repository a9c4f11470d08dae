"""A test-owned sd_notify socket, playing systemd's part for a real ``ritlink`` process."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.harness.procs import child_env, ritlink_cmd


@dataclass(frozen=True)
class Notification:
    at: float  # time.monotonic() on arrival
    fields: dict[str, str]


class NotifySocket:
    """Binds a unix datagram socket (a path, or an abstract name) and collects what arrives."""

    def __init__(self, path: Path | None = None, abstract_name: str | None = None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract_name is not None:
            self.sock.bind(b"\0" + abstract_name.encode())
            self.env_value = "@" + abstract_name
        else:
            self.sock.bind(str(path))
            self.env_value = str(path)
        self.received: list[Notification] = []

    def receive(self, timeout: float) -> Notification | None:
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
        note = Notification(time.monotonic(), fields)
        self.received.append(note)
        return note

    def wait_for(self, key: str, timeout: float) -> Notification:
        deadline = time.monotonic() + timeout
        for _ in range(10_000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            note = self.receive(left)
            if note is not None and key in note.fields:
                return note
        raise AssertionError(f"no {key} within {timeout} s; got {[n.fields for n in self.received]}")

    def collect_until(self, deadline: float) -> list[Notification]:
        """Everything that arrives until ``deadline`` (a time.monotonic() value)."""
        got = []
        for _ in range(10_000):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            note = self.receive(left)
            if note is not None:
                got.append(note)
        return got

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> NotifySocket:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def start_notified(command: str, config: Path, port: int, notify: NotifySocket, log_path: Path,
                   watchdog_usec: int | None = None, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start ``ritlink <command>`` as systemd would for a Type=notify unit."""
    env = {"NOTIFY_SOCKET": notify.env_value, **(extra_env or {})}
    if watchdog_usec is not None:
        env["WATCHDOG_USEC"] = str(watchdog_usec)
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(ritlink_cmd(command, "--config", str(config), "--port", str(port)),
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=child_env(env))
    return proc
