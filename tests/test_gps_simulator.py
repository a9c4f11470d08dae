"""The GPS simulator: routes, multi-GNSS NMEA, realistic driving, faults, replay and pacing."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import random
import threading
import time
from datetime import UTC, datetime

import pytest

from devices.gps import GpsDecoder, capture_bytes, haversine_m
from simulators.gps import Faults, PacedLine, RouteReceiver, replay_lines, run_replay
from simulators.gps_route import Drive, RouteError, load_route, shipped_route
from tests.conftest import CONFORMANCE
from tests.harness.procs import child_env, ritlink_cmd, run_ritlink
from tests.harness.waiting import wait_until

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
GPSD_LOGS = CONFORMANCE / "gps" / "gpsd"


@pytest.fixture(params=["utrecht-city", "rural"])
def route(request):
    return load_route(shipped_route(request.param))


def decode_all(receiver: RouteReceiver, faults: Faults | None = None, seed: int = 3):
    decoder = GpsDecoder(clock=lambda: START)
    rng = random.Random(seed)
    fixes = []
    for _, _, sentences in receiver.epochs():
        fixes += decoder.feed(faults.apply(sentences, rng) if faults else b"".join(sentences))
    fixes.append(decoder.flush())
    return fixes, decoder


def test_shipped_routes_have_incident_seh_and_stops(route):
    assert route.incident and route.incident.dwell_s >= 300
    assert route.seh and route.seh.seh_id == "seh-umcu" and route.seh_radius_m == 150
    truth = Drive(route).run()
    assert truth.arrive_incident_s < truth.depart_incident_s < truth.arrive_seh_s


def test_driving_is_realistic(route):
    truth = Drive(route, hz=5.0).run()
    speeds = [t.speed_mps for t in truth.ticks]
    limit = max(w.max_kmh for w in route.waypoints) / 3.6
    assert max(speeds) <= limit * 1.05  # an ambulance a little over the limit at most
    accelerations = [(b.speed_mps - a.speed_mps) * 5 for a, b in zip(truth.ticks, truth.ticks[1:], strict=False)]
    assert max(accelerations) <= 2.01  # pulls away at most 2 m/s²
    leg_s = truth.arrive_seh_s - truth.depart_incident_s
    average_kmh = (truth.total_m - truth.seh_leg_start_m) / leg_s * 3.6
    assert 30 < average_kmh < 80, average_kmh


def test_route_nmea_is_valid_multi_gnss_and_decodes_to_one_fix_per_epoch(route):
    receiver = RouteReceiver(route, hz=1.0, start=START)
    fixes, decoder = decode_all(receiver)
    assert decoder.bad_checksum == decoder.malformed == decoder.framer.garbage_bytes == 0
    assert len(fixes) == len(receiver.truth.ticks)
    _, _, sentences = next(receiver.epochs())
    talkers = {s[1:3] for s in sentences}
    assert {b"GN", b"GP", b"GL", b"GA", b"GB"} <= talkers
    types = {s[3:6] for s in sentences}
    assert {b"RMC", b"VTG", b"GGA", b"GSA", b"GSV", b"GLL", b"ZDA"} <= types
    assert all(f.has_position and f.time for f in fixes)


def test_five_hz_with_sky_view_once_a_second():
    receiver = RouteReceiver(load_route(shipped_route("utrecht-city")), hz=5.0, start=START)
    epochs = [sentences for _, _, sentences in itertools.islice(receiver.epochs(), 10)]
    assert len(epochs) == 10
    with_gsv = [i for i, sentences in enumerate(epochs) if any(b"GSV," in s for s in sentences)]
    assert with_gsv == [4, 9]  # t = 1.0 s and 2.0 s
    fixes, _ = decode_all(receiver)
    assert fixes[1].receiver_time == "2026-03-01T12:00:00.400Z"


def test_receiver_noise_keeps_positions_within_metres(route):
    receiver = RouteReceiver(route, hz=1.0, start=START)
    fixes, _ = decode_all(receiver)
    errors = [haversine_m(t.lat, t.lon, f.lat, f.lon) for t, f in zip(receiver.truth.ticks, fixes, strict=False)]
    assert max(errors) < 12 and sum(errors) / len(errors) < 5


def test_faults_are_seen_by_the_reader_as_counted_errors():
    receiver = RouteReceiver(load_route(shipped_route("utrecht-city")), hz=1.0, start=START)
    fixes, decoder = decode_all(receiver, Faults(garbage_rate=0.05, bad_checksum_rate=0.05, drop_rate=0.05))
    total = len(receiver.truth.ticks) * 15
    assert 0.03 * total < decoder.bad_checksum < 0.08 * total
    assert decoder.framer.garbage_bytes > 0
    assert decoder.sentences_ok < 0.93 * total
    with_position = [f for f in fixes if f.has_position]
    assert len(with_position) > 0.95 * len(receiver.truth.ticks)


def test_tunnel_gives_no_fix_for_that_long():
    faults = Faults(no_fix_after_s=60, no_fix_for_s=20)
    receiver = RouteReceiver(load_route(shipped_route("rural")), hz=1.0, start=START, faults=faults)
    fixes, _ = decode_all(receiver)
    without = [f for f in fixes if not f.has_position]
    assert len(without) == 20
    assert without[0].receiver_time == "2026-03-01T12:01:00.000Z"


def test_route_files_geojson_linestring_and_csv_and_errors(tmp_path):
    line = tmp_path / "line.geojson"
    line.write_text(json.dumps({"type": "Feature", "properties": {"max_kmh": 80},
                                "geometry": {"type": "LineString", "coordinates": [[5.1, 52.0], [5.2, 52.0]]}}))
    assert [w.max_kmh for w in load_route(line).waypoints] == [80, 80]
    table = tmp_path / "r.csv"
    table.write_text("# comment\nlat,lon,max_kmh,dwell_s,role\n52.0,5.1,50,,\n52.0,5.2,50,60,seh\n")
    assert load_route(table).seh.dwell_s == 60
    for bad in ("lat,lon\n52,5\n", "lat,lon\n95,5\n52,5\n", "not,a,route"):
        table.write_text(bad)
        with pytest.raises(RouteError):
            load_route(table)
    with pytest.raises(RouteError):
        load_route(tmp_path / "missing.geojson")


def test_replay_paces_by_the_receivers_clock():
    paced = replay_lines(GPSD_LOGS / "bu353s4.log")
    assert not any(raw.startswith(b"#") for _, raw in paced)
    assert b"".join(raw for _, raw in paced) == capture_bytes(GPSD_LOGS / "bu353s4.log")
    assert sum(pause for pause, _ in paced) == pytest.approx(24, abs=1)  # 25 epochs, one a second
    assert max(pause for pause, _ in replay_lines(GPSD_LOGS / "bt451.log")) <= 5  # long holes are shortened
    rst = replay_lines(GPSD_LOGS / "rst39.log")
    assert max(pause for pause, _ in rst) == pytest.approx(0.1, abs=0.01)  # 10 Hz


def read_pty(link, until: float) -> bytes:
    fd = os.open(link, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    data = bytearray()
    try:
        while time.monotonic() < until:
            try:
                chunk = os.read(fd, 65536)
                data += chunk
            except BlockingIOError:
                time.sleep(0.01)
    finally:
        os.close(fd)
    return bytes(data)


@pytest.mark.serial
def test_replay_on_a_pty_is_byte_exact_and_rate_scaled(pty_device):
    device = pty_device("gps")
    stop = threading.Event()
    finished = []
    line = PacedLine(device, stop, baud=115200)
    started = time.monotonic()

    def replay():
        run_replay(line, GPSD_LOGS / "bu353s4.log", rate=20)
        finished.append(time.monotonic())

    thread = threading.Thread(target=replay)
    thread.start()
    received = read_pty(device.link, time.monotonic() + 2.5)
    thread.join(5)
    assert received == capture_bytes(GPSD_LOGS / "bu353s4.log")
    assert 1.0 < finished[0] - started < 2.0  # 24 s of receiver time at 20x


@pytest.mark.serial
def test_paced_line_keeps_to_the_baud_rate(pty_device):
    device = pty_device("gps")
    line = PacedLine(device, threading.Event(), baud=19200)
    reader = threading.Thread(target=lambda: read_pty(device.link, time.monotonic() + 1.3))
    reader.start()
    started = time.monotonic()
    line.write(b"x" * 1920)  # 1920 bytes x 10 bits at 19200 baud = 1 s
    elapsed = time.monotonic() - started
    reader.join()
    assert 0.9 < elapsed < 1.2


def test_cli_sim_gps_rejects_bad_input(tmp_path):
    link = str(tmp_path / "gps")
    for args in (["--route", "nowhere"], ["--replay", str(tmp_path / "none.log")], ["--route", "rural", "--rate", "0"],
                 ["--route", "rural", "--drop-rate", "2"]):
        result = run_ritlink("sim", "gps", "--link", link, *args)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, (args, result.stderr)
    assert run_ritlink("sim", "gps", "--link", str(tmp_path / "no" / "gps"), "--route", "rural").returncode == 2


def test_cli_sim_gps_replay_reaches_a_reader(tmp_path):
    link = tmp_path / "gps"
    sim = subprocess.Popen(ritlink_cmd("sim", "gps", "--link", str(link), "--replay", str(GPSD_LOGS / "bu353s4.log"),
                                       "--rate", "10", "--baud", "115200", "--loop"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env())
    try:
        wait_until(link.exists, 10, what="simulated GPS appears")
        result = run_ritlink("gps", "--url", str(link), "--duration", "1.5")
    finally:
        sim.terminate()
        sim.wait(5)
    fixes = [json.loads(line) for line in result.stdout.splitlines()]
    assert len([f for f in fixes if f["lat"] is not None]) >= 5


def test_an_absolute_route_path_is_a_file_not_a_shipped_name(tmp_path):
    from simulators.gps_route import shipped_route

    assert shipped_route(str(tmp_path / "route.csv")) is None
    assert shipped_route("utrecht-city") is not None
