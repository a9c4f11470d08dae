"""Tell systemd how the service is doing: the plain sd_notify datagram, no bindings needed.

``Type=notify`` units wait for READY=1; ``WatchdogSec=`` units must send WATCHDOG=1 more
often than WATCHDOG_USEC or systemd kills and restarts the process. Outside systemd
(NOTIFY_SOCKET unset) every call is a no-op, so the same code runs under a terminal.

The pinger runs as a task on the HTTP server's event loop: if that loop hangs, the pings
stop and systemd restarts the service. A thread would keep pinging for a hung app. The
caller's ``healthy()`` is asked before every ping too: when the MQTT network thread has died
the web pages still answer, but the service would never take a message again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping

log = logging.getLogger("ritlink.systemd")

# Test hook, documented in docs/deploy.md: with this variable set to N seconds, SIGUSR2 blocks
# the main event loop for N s, so a test (or a technician) can watch the watchdog fire.
HANG_ENV = "RITLINK_DEBUG_HANG_ON_SIGUSR2"

HTTP_PROBE_TIMEOUT_S = 2.0


def _socket_address(value: str | None) -> str | bytes | None:
    if not value:
        return None
    if value.startswith("@"):
        return b"\0" + value[1:].encode()  # abstract namespace socket
    if value.startswith("/"):
        return value
    return None  # e.g. vsock: (systemd >= 253 in VMs): not used on our targets


class Notifier:
    """Sends sd_notify datagrams to $NOTIFY_SOCKET; silent when there is none."""

    def __init__(self, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        self.address = _socket_address(env.get("NOTIFY_SOCKET"))
        self._sock: socket.socket | None = None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *assignments: str) -> bool:
        """Send e.g. ``send("READY=1", "STATUS=...")`` as one datagram; True if it went out."""
        if self.address is None:
            return False
        message = "\n".join(assignments).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message, self.address)
            return True
        except OSError as exc:
            if not self._warned:  # one line, not one per ping
                log.warning("sd_notify to %r failed: %s", self.address, exc)
                self._warned = True
            return False

    def ready(self, status: str) -> bool:
        return self.send("READY=1", f"STATUS={status}", f"MAINPID={os.getpid()}")

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1", "STATUS=stopping")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval(env: Mapping[str, str] | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None if not asked for."""
    env = os.environ if env is None else env
    pid = env.get("WATCHDOG_PID")
    if pid and pid.strip() != str(os.getpid()):
        return None  # the watchdog is meant for another process (e.g. our parent)
    try:
        usec = int(env.get("WATCHDOG_USEC", "0"))
    except ValueError:
        return None
    return usec / 2_000_000 if usec > 0 else None


async def http_answers(host: str, port: int, path: str) -> bool:
    """One real HTTP GET to our own port: True when it returns 200."""
    probe_host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(probe_host, port), HTTP_PROBE_TIMEOUT_S)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {probe_host}\r\nConnection: close\r\n\r\n".encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), HTTP_PROBE_TIMEOUT_S)
        return status_line.split(b" ")[1:2] == [b"200"]
    except (OSError, asyncio.TimeoutError, IndexError):
        return False
    finally:
        writer.close()


async def supervise(
    server_started: Callable[[], bool],
    should_exit: Callable[[], bool],
    host: str,
    port: int,
    what: str,
    health_path: str = "/-/health",
    env: Mapping[str, str] | None = None,
    healthy: Callable[[], bool] = lambda: True,
) -> None:
    """READY=1 once our own HTTP port answers, then WATCHDOG=1 every WATCHDOG_USEC/2.

    Run as a task on the server's event loop. The caller opens the store and runs the
    migrations before the server starts, so "HTTP answers" implies both are done.
    """
    notifier = Notifier(env)
    _install_hang_hook(env)
    started = time.monotonic()
    try:
        while not await _http_ready(server_started, host, port, health_path):
            if should_exit():
                return
            await asyncio.sleep(0.02)
        notifier.ready(f"{what} ready on {host}:{port}")
        log.info("%s ready on %s:%d (%.2f s after the server started)", what, host, port, time.monotonic() - started)
        interval = watchdog_interval(env)
        starved = False
        while interval is not None and not should_exit():
            if _healthy(healthy):
                notifier.watchdog()
            elif not starved:
                starved = True
                log.error("%s unhealthy (MQTT thread gone): watchdog no longer fed", what)
                notifier.send("STATUS=unhealthy: MQTT thread gone")
            await asyncio.sleep(interval)
    finally:
        notifier.close()


def _healthy(healthy: Callable[[], bool]) -> bool:
    try:
        return bool(healthy())
    except Exception:  # a failing check is an unhealthy service, not a crashed pinger
        return False


async def _http_ready(server_started: Callable[[], bool], host: str, port: int, path: str) -> bool:
    return server_started() and await http_answers(host, port, path)


def _install_hang_hook(env: Mapping[str, str] | None) -> None:
    env = os.environ if env is None else env
    try:
        seconds = float(env.get(HANG_ENV, ""))
    except ValueError:
        return
    if seconds <= 0:
        return

    def hang() -> None:
        log.warning("debug: blocking the main loop for %.1f s (SIGUSR2, %s)", seconds, HANG_ENV)
        time.sleep(seconds)  # deliberately on the event loop: nothing else runs meanwhile

    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, hang)
