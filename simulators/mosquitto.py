"""Run a private, real mosquitto for the demo and the tests (never the system broker).

Its listener is on 127.0.0.1 only, TCP_NODELAY on (design.md), persistence in its own
folder so a test can kill -9 it and start it again with the same state.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


MESSAGE_SIZE_LIMIT = 512 * 1024  # bytes of payload; systemd/mosquitto/ritlink.conf says the same


class BrokerError(RuntimeError):
    pass


# "LOW-HIGH": take free ports only from this block (the parallel test run gives each worker its
# own block below the kernel's ephemeral range, so two workers never race for one port).
PORT_RANGE_ENV = "SIM_PORT_RANGE"
_handed_out: set[int] = set()


def free_port() -> int:
    block = os.environ.get(PORT_RANGE_ENV, "")
    if block:
        low, high = (int(part) for part in block.split("-", 1))
        size = high - low + 1
        start = random.randrange(size)
        for step in range(size):
            port = low + (start + step) % size
            if port not in _handed_out and _bindable(port):
                _handed_out.add(port)
                return port
        _handed_out.clear()  # the whole block was handed out once: start over
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def wait_for_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def mosquitto_binary() -> str:
    found = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if not found:
        raise BrokerError("mosquitto is not installed: run 'sudo apt-get install mosquitto'")
    return found


class ChildProcess:
    """A child process we can stop politely (SIGTERM, then SIGKILL) or kill -9 on purpose."""

    process: subprocess.Popen | None = None

    def kill9(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def stop(self, timeout: float = 5.0) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.process.returncode if self.process else None


class Mosquitto(ChildProcess):
    def __init__(self, data_dir: str | os.PathLike, port: int | None = None, extra_config: str = "",
                 listener_config: str | None = None):
        """``listener_config`` replaces the default anonymous loopback listener (e.g. TLS + ACL)."""
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.extra_config = extra_config
        self.listener_config = listener_config
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def config_text(self) -> str:
        listener = self.listener_config or f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
        lines = [
            listener.rstrip("\n"),
            "set_tcp_nodelay true",
            # Above the receivers' own cap (max_message_bytes, 256 KiB): what lies between the two
            # reaches them and is counted as a dead letter; the broker drops anything larger.
            f"message_size_limit {MESSAGE_SIZE_LIMIT}",
            "persistence true",
            f"persistence_location {self.data_dir}/",
            f"log_dest file {self.data_dir}/mosquitto.log",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
        ]
        if os.geteuid() == 0:
            # As root mosquitto would drop to user 'mosquitto', who cannot write our folder.
            lines.append("user root")
        return "\n".join(lines) + "\n" + self.extra_config

    def start(self, timeout: float = 20.0) -> Mosquitto:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        conf = self.data_dir / "mosquitto.conf"
        conf.write_text(self.config_text())
        self.process = subprocess.Popen(
            [mosquitto_binary(), "-c", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C meant for the demo is handled by the demo
        )
        if not wait_for_port(self.port, timeout):
            self.stop()
            raise BrokerError(f"mosquitto did not listen on port {self.port}; see {self.data_dir}/mosquitto.log")
        return self

    def restart(self) -> Mosquitto:
        self.stop()
        return self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None
