"""The optional gpsd source, against a small fake gpsd on a real loopback socket."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime

import pytest

from devices.gpsd_client import WATCH_COMMAND, GpsdClient, GpsdDecoder, tpv_to_fix
from simulators.mosquitto import free_port
from tests.conftest import CONFORMANCE
from tests.harness.procs import run_ritlink
from tests.harness.waiting import wait_until

CHK = CONFORMANCE / "gps" / "gpsd" / "bu353s4.log.chk"


def gpsd_reports() -> list[bytes]:
    """What a real gpsd said for a real log (its JSON lines from the regression output)."""
    return [line.encode() + b"\r\n" for line in CHK.read_text().splitlines() if line.startswith("{")]


class FakeGpsd:
    """Accepts clients one at a time, waits for ?WATCH, sends the reports, then hangs up."""

    def __init__(self, reports: list[bytes], port: int | None = None):
        self.reports = reports
        self.port = port or free_port()
        self.commands: list[bytes] = []
        self.sessions = 0
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._server.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                conn.sendall(b'{"class":"VERSION","release":"3.25","proto_major":3,"proto_minor":15}\r\n')
                try:
                    self.commands.append(conn.recv(1024))
                except TimeoutError:
                    continue
                self.sessions += 1
                try:
                    for report in self.reports:
                        conn.sendall(report)
                except OSError:  # the client hung up mid-stream (a test that has what it needs)
                    continue

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()


@pytest.fixture
def fake_gpsd():
    server = FakeGpsd(gpsd_reports())
    yield server
    server.close()


def expected_last_tpvs() -> dict[str, dict]:
    last = {}
    for report in gpsd_reports():
        data = json.loads(report)
        if data["class"] == "TPV" and "time" in data:
            last[data["time"]] = data
    return last


def test_client_turns_tpv_into_one_fix_per_time_and_reconnects(fake_gpsd):
    fixes, states = [], []
    client = GpsdClient(fixes.append, states.append, port=fake_gpsd.port).start()
    expected = expected_last_tpvs()
    try:
        wait_until(lambda: fake_gpsd.sessions >= 2, 5, what="client reconnects after gpsd hangs up")
        wait_until(lambda: len([f for f in fixes if f.receiver_time]) >= 2 * len(expected), 5, what="fixes of two sessions")
    finally:
        client.stop()
    assert fake_gpsd.commands[0] == WATCH_COMMAND
    first_session = {f.receiver_time: f for f in fixes[:len(fixes) // 2] if f.receiver_time}
    assert set(first_session) == set(expected)
    for when, tpv in expected.items():
        fix = first_session[when]
        assert abs(fix.lat - tpv["lat"]) < 1e-9 and abs(fix.lon - tpv["lon"]) < 1e-9
        assert abs(fix.speed_mps - tpv["speed"]) < 1e-9 and fix.mode == tpv["mode"]
    assert fixes[0].hdop is not None  # from gpsd's SKY report
    assert states[:2] == ["connected", "disconnected"] and "connected" in states[2:]


def test_client_waits_for_a_gpsd_that_is_not_there_yet():
    port = free_port()
    fixes = []
    client = GpsdClient(fixes.append, port=port).start()
    server = None
    try:
        wait_until(lambda: client.state == "disconnected", 1, what="initial state")
        server = FakeGpsd(gpsd_reports(), port=port)
        wait_until(lambda: len(fixes) >= 5, 5, what="fixes once gpsd starts")
    finally:
        client.stop()
        if server:
            server.close()


def test_tpv_without_fix_or_with_an_old_date():
    now = datetime(2026, 3, 1, tzinfo=UTC)
    no_fix = tpv_to_fix({"class": "TPV", "mode": 1, "time": "2026-03-01T00:00:01.000Z"}, now)
    assert not no_fix.has_position and no_fix.time == "2026-03-01T00:00:01.000Z"
    old = tpv_to_fix({"class": "TPV", "mode": 3, "lat": 52.1, "lon": 5.1, "speed": 3.0, "altMSL": 4.0,
                      "time": "1999-08-22T00:02:31.420Z"}, now)
    assert old.has_position and old.time is None and "time-implausible" in old.flags and old.altitude == 4.0


def test_decoder_counts_broken_json_and_keeps_going():
    decoder = GpsdDecoder(clock=lambda: datetime(2026, 3, 1, tzinfo=UTC))
    fixes = decoder.feed(b'{"class":"TPV","mode":2,"lat":52.0,"lon":5.0,"time":"2026-03-01T00:00:01.000Z"}\n'
                         b'{"class":"TPV",broken\n\x00\xff\n'
                         b'{"class":"TPV","mode":2,"lat":52.1,"lon":5.0,"time":"2026-03-01T00:00:02.000Z"}\n')
    fixes.append(decoder.flush())
    assert [f.lat for f in fixes] == [52.0, 52.1]
    assert decoder.counters()["malformed"] == 2


def test_cli_reads_gpsd(fake_gpsd):
    result = run_ritlink("gps", "--gpsd", f"127.0.0.1:{fake_gpsd.port}", "--duration", "1.5")
    assert result.returncode == 0, result.stderr
    fixes = [json.loads(line) for line in result.stdout.splitlines()]
    assert len([f for f in fixes if f["lat"] is not None]) >= len(expected_last_tpvs())
    assert run_ritlink("gps", "--gpsd", "nonsense").returncode == 2
