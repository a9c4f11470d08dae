"""GPS into the product over real parts: ``ritlink sim gps`` on a pty drives a real
``ritlink serve`` with a real mosquitto and a real ``ritlink seh``.

The short run (post -> incident, 45 s on scene -> SEH; 3.6 min) plays at 10x, so the
receiver's clock runs ahead of the tablet's by up to ~3 minutes: still within the 7 days
in which its time is trusted, and the confirmed ter plaatse within the 5 minutes a clinical
time may lie ahead.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from datetime import datetime

import pytest
from playwright.sync_api import expect

from edge.wire.contract import live_topic
from tests.harness.gps_rig import INCIDENT, LOCATED_SEHS, SEH_UMCU, write_short_route
from simulators.processes import AUTH_HEADERS
from tests.harness.mqtt import TestClient
from tests.harness.procs import RitlinkProcess, child_env, ritlink_cmd, write_toml
from tests.harness.ui_browser import BOARD, TABLET, chromium, new_rit, open_tab, sign_in  # noqa: F401
from tests.harness.waiting import wait_until

RATE = 10


def seconds_between(a: str, b: str) -> float:
    return (datetime.fromisoformat(b.replace("Z", "+00:00")) - datetime.fromisoformat(a.replace("Z", "+00:00"))).total_seconds()


@pytest.fixture
def gps_edge(tmp_path, broker):
    config = write_toml(tmp_path / "edge.toml", {
        "vehicle_id": "ambu-01", "broker_url": broker.url, "database": str(tmp_path / "edge.db"),
        "gps_url": str(tmp_path / "gps"), "gps_baud": 115200,
    }, sehs=LOCATED_SEHS)
    edge = RitlinkProcess("serve", config, tmp_path / "edge.log").start()
    yield edge
    edge.stop()


@pytest.fixture
def gps_sim(tmp_path):
    """Starts the simulated receiver on demand: the run begins when the test says so."""
    procs = []

    def start() -> subprocess.Popen:
        route = write_short_route(tmp_path)
        # A relative --route: shipped_route() fails on an absolute path (reported to the lead).
        cmd = ritlink_cmd("sim", "gps", "--link", str(tmp_path / "gps"), "--route", route.name,
                          "--rate", str(RATE), "--baud", "115200")
        log = open(tmp_path / "gps-sim.log", "wb")
        procs.append(subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=child_env(),
                                      cwd=tmp_path))
        log.close()
        return procs[-1]

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(5)


@pytest.mark.serial  # the live topic as heard: at least 4.8 s apart
def test_position_reaches_the_track_the_proposals_the_live_topic_and_the_seh(broker, seh_process, gps_edge, gps_sim):
    seh, edge = seh_process(), gps_edge
    live = TestClient(broker.port)
    arrivals: list[tuple[float, dict]] = []
    live.client.on_message = lambda c, u, m: arrivals.append((time.monotonic(), json.loads(m.payload)))
    live.subscribe(live_topic("seh-umcu", "ambu-01"), qos=0)
    location = {"address": "Kanaalstraat 1, Utrecht", "lat": INCIDENT[0], "lon": INCIDENT[1]}
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1", "location": location}).json()["rit_id"]
    wait_until(lambda: edge.get("/-/health").json()["broker"] == "connected", 10, what="edge on the broker")
    assert edge.get("/-/health").json()["devices"]["gps"] == "disconnected"

    gps_sim()
    # Driving for 20 s (receiver time) gives an ETA; then the vooraankondiging goes out.
    wait_until(lambda: edge.get("/api/v1/position").json()["eta"].get("seh-umcu"), 10, what="an ETA to the SEH")
    assert edge.get("/-/health").json()["devices"]["gps"] == "connected"
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202

    at_seh = wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json(), 10, what="the rit at the SEH")
    position = at_seh["form"]["vehicle_position"]
    assert position["seh_id"] == "seh-umcu" and position["eta"]["seconds"] > 0
    assert position["eta"]["method"] == "great_circle" and 52.08 < position["lat"] < 52.10

    def proposal(kind):
        return next((p for p in edge.get(f"/api/v1/rits/{rit_id}/proposals").json() if p["kind"] == kind), None)

    ter_plaatse = wait_until(lambda: proposal("ter_plaatse"), 15, what="ter plaatse proposed")
    confirmed = edge.post(f"/api/v1/rits/{rit_id}/proposals/{ter_plaatse['id']}/confirm")
    assert confirmed.status_code == 201, confirmed.text
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["form"]["times"].get("ter_plaatse") == ter_plaatse["at"],
               10, what="the confirmed ter plaatse at the SEH")

    arrival = wait_until(lambda: proposal("aankomst_seh"), 20, what="aankomst SEH proposed")
    assert arrival["seh_id"] == "seh-umcu"
    assert 100 <= seconds_between(ter_plaatse["at"], arrival["at"]) <= 160  # 45 s on scene + ~1.5 min driving

    points = edge.get(f"/api/v1/rits/{rit_id}/track").json()
    gaps = [seconds_between(a["at"], b["at"]) for a, b in zip(points, points[1:])]
    assert min(gaps) >= 5.0 and len(points) >= 25
    assert abs(points[-1]["lat"] - SEH_UMCU[0]) < 0.002

    live.close()
    # At most one per 5 s: as sent (the tablet's stamp) and as heard (minus the broker's jitter).
    times = [t for t, _ in arrivals]
    sent = [p["sent_at"] for _, p in arrivals]
    assert len(times) >= 2 and min(b - a for a, b in zip(times, times[1:])) >= 4.8
    assert min(seconds_between(a, b) for a, b in zip(sent, sent[1:])) >= 4.99
    payload = arrivals[-1][1]
    assert payload["rit_ids"] == [rit_id] and payload["position"]["lat"] and "vitals" in payload
    # The simulator still drives: read the track and the counters until both are of one moment.
    def counted() -> dict | None:
        track = edge.get(f"/api/v1/rits/{rit_id}/track").json()
        counters = edge.get("/api/v1/position").json()["counters"]
        return counters if counters["track_points"] == len(track) else None
    counters = wait_until(counted, 10, interval=0.2, what="the track and its counter agree")
    assert counters["track_points"] >= len(points) and counters["bad_checksum"] == 0


# Straight at the SEH at a steady 50 km/h for 3 km: the arrival time hardly moves, yet the
# form's position and ETA must follow the vehicle (at least once a minute of driving).
STRAIGHT_TO_SEH = f"""lat,lon,max_kmh,dwell_s,role,name,radius_m,seh_id
{SEH_UMCU[0]},{SEH_UMCU[1] - 0.0438},50,,start,west,,
{SEH_UMCU[0]},{SEH_UMCU[1] - 0.0219},50,,,,,
{SEH_UMCU[0]},{SEH_UMCU[1]},30,20,seh,SEH,150,seh-umcu
"""


def test_the_eta_reaches_the_seh_while_driving_straight_at_it(tmp_path, broker, seh_process, gps_edge):
    seh, edge = seh_process(), gps_edge
    (tmp_path / "straight.csv").write_text(STRAIGHT_TO_SEH)
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
    log = open(tmp_path / "gps-sim.log", "wb")
    sim = subprocess.Popen(ritlink_cmd("sim", "gps", "--link", str(tmp_path / "gps"), "--route", "straight.csv",
                                       "--rate", str(RATE), "--baud", "115200"),
                           stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=child_env(), cwd=tmp_path)
    log.close()
    try:
        wait_until(lambda: edge.get("/api/v1/position").json()["eta"].get("seh-umcu"), 15, what="an ETA to the SEH")
        assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
        seen: dict[str, dict] = {}  # position time -> the SEH's copy of the position and ETA

        def positions_at_seh() -> int:
            form = seh.get(f"/api/v1/rits/{rit_id}").json().get("form", {})
            position = form.get("vehicle_position")
            if position and position.get("eta"):
                seen[position["at"]] = position
            return len(seen)

        # 3 km at 50 km/h is 216 s of route (~22 s here): the announced one and at least two more.
        wait_until(lambda: positions_at_seh() >= 3, 30, what="ETA updates at the SEH while driving")
    finally:
        sim.terminate()
        sim.wait(5)
    steps = sorted(seen)
    assert all(seconds_between(a, b) <= 61 for a, b in zip(steps, steps[1:]))
    remaining = [seen[at]["eta"]["distance_m"] for at in steps]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] - remaining[-1] > 1000
    assert edge.get("/api/v1/position").json()["counters"]["form_updates"] >= 2


def test_the_driving_eta_is_beside_each_seh_in_the_choice_and_on_top_of_the_seh_rit_page(
        chromium, seh_process, gps_edge, gps_sim):  # noqa: F811
    """The crew choosing or changing a destination sees, beside each SEH, when they would be
    there; once announced, the SEH nurse sees the ambulance and its arrival atop the handover."""
    seh, edge = seh_process(), gps_edge
    tablet = chromium.new_page(viewport=TABLET)
    sign_in(tablet, edge.base_url)
    umcu, antonius = (tablet.locator(f"#seh-status-{seh['id']}") for seh in LOCATED_SEHS)
    expect(umcu).to_contain_text("geen status ontvangen")
    assert tablet.locator(".seh-eta").count() == 0  # no position yet: no ETA, never a guess

    gps_sim()
    eta_text = re.compile(r"aankomst \d\d:\d\d \(\d+ min rijden\)")
    for line in (umcu, antonius):  # the new-rit choice refreshes itself every second
        expect(line.locator("[data-eta]")).to_contain_text(eta_text, timeout=15_000)
    rit_id = new_rit(tablet)  # to SEH UMC Utrecht
    open_tab(tablet, "Overdracht")  # changing the destination offers the others, with their ETA
    expect(antonius.locator("[data-eta]")).to_contain_text(eta_text)
    shown_min = int(re.search(r"\((\d+) min", antonius.locator("[data-eta]").inner_text()).group(1))
    eta_s = edge.get("/api/v1/position").json()["eta"]["seh-antonius"]["seconds"]
    assert abs(shown_min - eta_s / 60) <= 2  # the same estimate (it moves while the route plays)

    tablet.click("a:has-text('Vooraankondigen')")
    tablet.click("button:has-text('Ja, vooraankondigen')")
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="the vooraankondiging")
    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    expect(nurse.locator("#overdracht-samenvatting [data-aankomst]")).to_contain_text(
        re.compile(r"ambu-01 · aankomst (over \d+ min|nu verwacht) · \d\d:\d\d"))
