"""sd_notify: READY=1 only once the HTTP port answers, WATCHDOG=1 from the main loop."""

from __future__ import annotations

import asyncio
import http.server
import os
import signal
import sqlite3
import statistics
import threading
import time

import httpx
import pytest

from edge.ops.sd_notify import HANG_ENV, Notifier, supervise, watchdog_interval
from simulators.mosquitto import free_port
from tests.harness.notify import NotifySocket, start_notified
from tests.harness.procs import write_toml

WATCHDOG_USEC = 600_000  # pings every 0.3 s


@pytest.fixture
def notify_socket(tmp_path):
    sock = NotifySocket(tmp_path / "notify.sock")
    yield sock
    sock.close()


@pytest.fixture
def edge_config(tmp_path):
    # The broker is unreachable on purpose: READY must not wait for the network.
    return write_toml(tmp_path / "edge.toml", {"vehicle_id": "ambu-01", "broker_url": f"mqtt://127.0.0.1:{free_port()}",
                                               "database": str(tmp_path / "edge.db")})


@pytest.fixture
def started(tmp_path):
    procs = []

    def start(*args, **kwargs):
        proc = start_notified(*args, **kwargs)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


# -- the datagram -----------------------------------------------------------------------------
def test_notifier_sends_to_a_path_and_to_an_abstract_socket(tmp_path):
    for sock in (NotifySocket(tmp_path / "n.sock"), NotifySocket(abstract_name=f"ritlink-test-{os.getpid()}")):
        with sock:
            notifier = Notifier({"NOTIFY_SOCKET": sock.env_value})
            assert notifier.enabled and notifier.ready("klaar")
            note = sock.wait_for("READY", 1)
            assert note.fields == {"READY": "1", "STATUS": "klaar", "MAINPID": str(os.getpid())}
            assert notifier.watchdog()
            assert sock.wait_for("WATCHDOG", 1).fields == {"WATCHDOG": "1"}
            notifier.close()


def test_without_notify_socket_nothing_is_sent_and_nothing_fails(tmp_path):
    assert not Notifier({}).enabled and not Notifier({}).ready("x")
    assert not Notifier({"NOTIFY_SOCKET": "vsock:2:1234"}).enabled
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "no-such.sock")})
    assert gone.enabled and not gone.watchdog()  # logged once, never raised


def test_watchdog_interval_is_half_of_watchdog_usec_for_this_process_only():
    assert watchdog_interval({"WATCHDOG_USEC": "10000000"}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": str(os.getpid())}) == 5.0
    assert watchdog_interval({"WATCHDOG_USEC": "10000000", "WATCHDOG_PID": "1"}) is None
    assert watchdog_interval({}) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}) is None


@pytest.mark.serial
def test_supervise_sends_ready_only_once_the_port_answers_http(tmp_path, notify_socket):
    """The port is closed for the first 0.5 s: no READY=1 may arrive before a real 200."""
    port = free_port()
    env = {"NOTIFY_SOCKET": notify_socket.env_value}
    opened_at: list[float] = []

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200 if self.path == "/-/health" else 404)
            self.end_headers()

        def log_message(self, *args):
            pass

    def open_port_later() -> http.server.HTTPServer:
        time.sleep(0.5)
        server = http.server.HTTPServer(("127.0.0.1", port), Health)
        opened_at.append(time.monotonic())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    async def run() -> None:
        task = asyncio.create_task(supervise(lambda: True, lambda: False, "127.0.0.1", port, "test", env=env))
        server = await asyncio.to_thread(open_port_later)
        try:
            await asyncio.wait_for(task, 5)
        finally:
            server.shutdown()
            server.server_close()

    asyncio.run(run())
    ready = notify_socket.wait_for("READY", 1)
    assert ready.at > opened_at[0]
    assert [n.fields.get("READY") for n in notify_socket.received] == ["1"]


# -- a real `ritlink serve` / `ritlink seh` -----------------------------------------------------------
@pytest.mark.serial
def test_serve_is_ready_after_http_answers_then_pings_the_watchdog(tmp_path, notify_socket, edge_config, started):
    port = free_port()
    spawned = time.monotonic()
    proc = started("serve", edge_config, port, notify_socket, tmp_path / "edge.log", watchdog_usec=WATCHDOG_USEC)
    ready = notify_socket.wait_for("READY", 10)
    # At READY=1 the port answers, the store is open and migrated.
    assert httpx.get(f"http://127.0.0.1:{port}/-/health", timeout=2).status_code == 200
    with sqlite3.connect(tmp_path / "edge.db") as conn:
        assert conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0] >= 1
    assert notify_socket.received[0] is ready, "nothing may come before READY=1"
    assert ready.fields["MAINPID"] == str(proc.pid)
    assert ready.at - spawned < 5

    pings = [notify_socket.wait_for("WATCHDOG", 2).at for _ in range(5)]
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert all(0.15 < gap < 0.7 for gap in gaps), gaps  # WATCHDOG_USEC / 2 = 0.3 s, with scheduling slack
    assert 0.25 < statistics.median(gaps) < 0.4, gaps

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    assert notify_socket.wait_for("STOPPING", 2).fields["STOPPING"] == "1"


@pytest.mark.serial
def test_blocked_main_loop_stops_the_watchdog_pings(tmp_path, notify_socket, edge_config, started):
    port = free_port()
    proc = started("serve", edge_config, port, notify_socket, tmp_path / "edge.log",
                   watchdog_usec=WATCHDOG_USEC, extra_env={HANG_ENV: "2.5"})
    notify_socket.wait_for("READY", 10)
    notify_socket.wait_for("WATCHDOG", 2)

    proc.send_signal(signal.SIGUSR2)  # the test hook: blocks the event loop for 2.5 s
    hung_at = time.monotonic()
    time.sleep(0.2)
    with pytest.raises(httpx.TimeoutException):  # the HTTP side hangs with it
        httpx.get(f"http://127.0.0.1:{port}/-/health", timeout=1)
    during = notify_socket.collect_until(hung_at + 2.2)
    # One ping may already be on its way when the signal lands; none may follow it.
    assert [n.fields for n in during if n.at - hung_at > 0.35] == []
    resumed = notify_socket.wait_for("WATCHDOG", 3)
    # No ping for the whole hang (systemd with WatchdogSec=0.6 s would have killed it) ...
    assert resumed.at - hung_at > 2.3
    # ... and they come back when the loop runs again: the pinger was blocked, not dead.
    notify_socket.wait_for("WATCHDOG", 1)
    assert proc.poll() is None


@pytest.mark.serial
def test_seh_receiver_sends_ready_too(tmp_path, notify_socket, started):
    config = write_toml(tmp_path / "seh.toml", {"seh_id": "seh-umcu", "broker_url": f"mqtt://127.0.0.1:{free_port()}",
                                                "database": str(tmp_path / "seh.db")})
    port = free_port()
    proc = started("seh", config, port, notify_socket, tmp_path / "seh.log", watchdog_usec=WATCHDOG_USEC)
    notify_socket.wait_for("READY", 10)
    assert httpx.get(f"http://127.0.0.1:{port}/-/health", timeout=2).status_code == 200
    notify_socket.wait_for("WATCHDOG", 2)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0


@pytest.mark.serial
def test_watchdog_is_no_longer_fed_once_the_service_is_unhealthy(notify_socket):
    """E.g. the MQTT network thread died: the pages answer, but systemd must restart us."""
    port = free_port()
    env = {"NOTIFY_SOCKET": notify_socket.env_value, "WATCHDOG_USEC": "200000"}  # a ping every 0.1 s

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    started = time.monotonic()
    healthy_until, ends = started + 0.6, started + 1.5
    notes: list = []
    reader = threading.Thread(target=lambda: notes.extend(notify_socket.collect_until(ends + 0.3)), daemon=True)
    reader.start()

    async def run() -> None:
        await supervise(lambda: True, lambda: time.monotonic() > ends, "127.0.0.1", port, "test", env=env,
                        healthy=lambda: time.monotonic() < healthy_until)

    try:
        asyncio.run(run())
    finally:
        server.shutdown()
        server.server_close()
    reader.join(3)
    pings = [n.at for n in notes if "WATCHDOG" in n.fields]
    assert len(pings) >= 3 and max(pings) < healthy_until + 0.05, [round(p - started, 2) for p in pings]
    assert any(n.fields.get("STATUS", "").startswith("unhealthy") for n in notes)
