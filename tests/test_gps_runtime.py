"""The GPS runtime in process: a real store and service, the route simulator's NMEA through
the real decoder, fix by fix at 1 Hz on a stepped clock (the live topic's 5 s are clock
seconds). The same behaviour over real processes is in test_gps_product.py."""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from devices.gps import Fix, haversine_m
from edge.store import retention
from edge.store.audit import Actor
from edge.config import ConfigError, load_edge_settings
from edge.errors import DomainError
from edge.live.gps_runtime import GpsRuntime
from edge.live.vitals import LiveVitals
from edge.service import EdgeService
from edge.store.rit_store import EdgeStore, RitNotFound
from tests.harness.gps_rig import INCIDENT, LOCATED_SEHS, SEH_RADIUS_M, SEH_UMCU, route_fixes, write_short_route
from tests.harness.waiting import wait_until
from tests.test_gps_gpsd import FakeGpsd, gpsd_reports
from tests.harness.form_api import device_client


CREW = Actor("j.devries", "ambulanceverpleegkundige")
# The drive happened in the recent past: confirmed times are never "in the future".
START = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)


@dataclass
class Rig:
    service: EdgeService
    runtime: GpsRuntime
    clock: float = 0.0
    published: list = field(default_factory=list)  # (clock, seh_id, payload)

    def feed(self, fixes) -> None:
        for fix in fixes:
            self.clock += 1.0
            self.runtime.handle_fix(fix, datetime.now(UTC))

    def new_rit(self, seh: str = "seh-umcu") -> str:
        location = {"address": "Kanaalstraat 1, Utrecht", "lat": INCIDENT[0], "lon": INCIDENT[1]}
        return self.service.create_rit(seh, "A1", actor=CREW, melding={"location": location})["rit_id"]

    def messages(self, rit_id: str) -> list[dict]:
        rows = self.service.store.query("SELECT kind, status, body_json FROM outbox WHERE rit_id = ? ORDER BY seq",
                                        [rit_id])
        return [{**r, "body": json.loads(r["body_json"])} for r in rows]

    def positions(self, rit_id: str) -> list[dict]:
        return [e for e in self.service.entries(rit_id, actor=CREW) if e["kind"] == "vehicle_position"]


@pytest.fixture
def rig(tmp_path, monkeypatch):
    monkeypatch.delenv("RITLINK_CONFIG", raising=False)
    settings = load_edge_settings(None, database=tmp_path / "edge.db", sehs=LOCATED_SEHS, gps_url=str(tmp_path / "gps"))
    store = EdgeStore(settings.database)
    service = EdgeService(settings, store, LiveVitals())
    rig = Rig(service, None)  # type: ignore[arg-type]
    rig.runtime = GpsRuntime(settings, service, lambda seh, payload: rig.published.append((rig.clock, seh, payload)) or True,
                             monotonic=lambda: rig.clock)
    service.position = rig.runtime
    yield rig
    store.close()


@pytest.fixture
def drive(tmp_path):
    return route_fixes(write_short_route(tmp_path), START)


def fence_entry_s(truth) -> float:
    return next(t.t_s for t in truth.ticks
                if t.t_s > truth.depart_incident_s and haversine_m(t.lat, t.lon, *SEH_UMCU) <= SEH_RADIUS_M)


def at_s(text: str) -> float:
    return (datetime.fromisoformat(text.replace("Z", "+00:00")) - START).total_seconds()


def test_a_run_gives_track_proposals_eta_in_the_form_and_a_throttled_live_topic(rig, drive):
    fixes, truth = drive
    rit_id = rig.new_rit()
    rig.feed(fixes[:30])
    rig.service.announce(rit_id, actor=CREW)
    announced_at = rig.clock
    vooraankondiging = rig.messages(rit_id)[0]["body"]["vehicle_position"]
    assert vooraankondiging["seh_id"] == "seh-umcu" and vooraankondiging["eta"]["method"] == "great_circle"
    assert haversine_m(vooraankondiging["lat"], vooraankondiging["lon"], fixes[29].lat, fixes[29].lon) < 1
    assert vooraankondiging["eta"]["seconds"] > 0
    rig.feed(fixes[30:])

    points = rig.runtime.track(rit_id, actor=CREW)
    gaps = [at_s(b["at"]) - at_s(a["at"]) for a, b in zip(points, points[1:])]
    assert min(gaps) >= 5.0 and len(points) >= len(fixes) // 5 and len(points) <= len(fixes) / 5 + 1

    proposals = {p["kind"]: p for p in rig.runtime.proposals(rit_id, actor=CREW)}
    assert abs(at_s(proposals["ter_plaatse"]["at"]) - truth.arrive_incident_s) <= 5
    assert abs(at_s(proposals["aankomst_seh"]["at"]) - fence_entry_s(truth)) <= 5
    assert proposals["aankomst_seh"]["seh_id"] == "seh-umcu"
    assert {p["state"] for p in proposals.values()} == {"open"}

    # Position + ETA in the form: at the announcement, then when the ETA moved >= 1 minute or
    # the form's position is a minute old while driving; never more often.
    entries = rig.positions(rit_id)
    assert 1 <= len(entries) <= 2 + len(fixes) / 60
    assert all(_a_minute_apart(a, b) for a, b in zip(entries, entries[1:]))
    assert rig.service.rit_view(rit_id, actor=CREW)["form"]["vehicle_position"] == entries[-1]["data"]

    # Live: only after the announcement, to the destination, at most once per 5 s.
    times = [clock for clock, _, _ in rig.published]
    assert times[0] > announced_at and {seh for _, seh, _ in rig.published} == {"seh-umcu"}
    assert min(b - a for a, b in zip(times, times[1:])) >= 5.0
    assert len(times) >= (len(fixes) - 30) // 5 - 1
    payload = rig.published[-1][2]
    assert payload["rit_ids"] == [rit_id] and payload["vehicle_id"] == "ambu-01" and payload["vitals"] == []
    assert haversine_m(payload["position"]["lat"], payload["position"]["lon"], *SEH_UMCU) < SEH_RADIUS_M


def test_the_crew_confirms_a_proposal_once(rig, drive):
    fixes, truth = drive
    rit_id = rig.new_rit()
    rig.feed(fixes[: int(truth.depart_incident_s)])
    proposal = rig.runtime.proposals(rit_id, actor=CREW)[0]
    assert proposal["kind"] == "ter_plaatse"
    result = rig.runtime.confirm(rit_id, proposal["id"], actor=CREW)
    assert result["proposal"]["state"] == "confirmed"
    form = rig.service.rit_view(rit_id, actor=CREW)["form"]
    assert form["times"]["ter_plaatse"] == proposal["at"]
    assert form["history"]["time"][result["entry_ids"][0]]["author"] == "j.devries"
    with pytest.raises(DomainError) as again:
        rig.runtime.confirm(rit_id, proposal["id"], actor=CREW)
    assert again.value.status == 409
    with pytest.raises(DomainError) as unknown:
        rig.runtime.confirm(rit_id, "no-such-proposal", actor=CREW)
    assert unknown.value.status == 404
    with pytest.raises(RitNotFound):
        rig.runtime.confirm("no-such-rit", proposal["id"], actor=CREW)


def test_a_time_the_crew_entered_is_not_proposed_again_and_arms_the_seh_arrival(rig, drive):
    fixes, truth = drive
    rit_id = rig.new_rit()
    rig.feed(fixes[:10])
    rig.service.set_time(rit_id, "ter_plaatse", START + timedelta(seconds=5), actor=CREW)
    rig.feed(fixes[10:])
    assert [p["kind"] for p in rig.runtime.proposals(rit_id, actor=CREW)] == ["aankomst_seh"]


def test_an_open_proposal_is_superseded_when_the_crew_types_the_time(rig, drive):
    fixes, truth = drive
    rit_id = rig.new_rit()
    rig.feed(fixes[: int(truth.depart_incident_s)])
    rig.service.set_time(rit_id, "ter_plaatse", START + timedelta(seconds=60), actor=CREW)
    rig.feed(fixes[int(truth.depart_incident_s):][:2])
    assert [p["state"] for p in rig.runtime.proposals(rit_id, actor=CREW)] == ["superseded"]


def test_a_finished_rit_gets_no_more_track_or_live_and_its_track_goes_with_the_purge(rig, drive):
    fixes, _ = drive
    rit_id = rig.new_rit()
    rig.service.announce(rit_id, actor=CREW)
    rig.feed(fixes[:40])
    rig.service.overdracht(rit_id, actor=CREW, onvolledig=True)
    stored, published = len(rig.runtime.track(rit_id, actor=CREW)), len(rig.published)
    rig.feed(fixes[40:80])
    assert len(rig.runtime.track(rit_id, actor=CREW)) == stored and len(rig.published) == published
    assert rig.runtime.proposals(rit_id, actor=CREW) == []
    with rig.service.store.write() as db:
        retention.purge(db, rit_id)
        assert db.execute("SELECT count(*) FROM rit_track WHERE rit_id = ?", [rit_id]).fetchone()[0] == 0


def test_announcing_without_a_recent_fix_puts_no_position_and_the_next_fix_does(rig, drive):
    fixes, _ = drive
    rit_id = rig.new_rit()
    rig.feed(fixes[:25])
    rig.clock += 31  # the receiver went quiet half a minute ago
    rig.service.announce(rit_id, actor=CREW)
    assert "vehicle_position" not in rig.messages(rit_id)[0]["body"]
    rig.feed(fixes[25:27])
    assert len(rig.positions(rit_id)) == 1


def test_a_concept_rit_keeps_a_track_but_gets_no_position_entries(rig, drive):
    fixes, _ = drive
    rit_id = rig.new_rit()
    rig.feed(fixes[:60])
    assert len(rig.runtime.track(rit_id, actor=CREW)) >= 11
    assert rig.positions(rit_id) == [] and rig.published == []


def test_the_http_api(rig, drive):
    fixes, truth = drive
    client = device_client(rig.service, "j.devries")
    headers = {}
    rit_id = rig.new_rit()
    rig.feed(fixes[: int(truth.depart_incident_s)])

    position = client.get("/api/v1/position").json()
    assert position["configured"] and position["state"] == "disconnected"
    assert position["fix"]["lat"] == pytest.approx(fixes[int(truth.depart_incident_s) - 1].lat)
    assert position["counters"]["fixes"] == int(truth.depart_incident_s) and position["counters"]["track_points"] > 0
    assert client.get("/-/health").json()["devices"]["gps"] == "disconnected"
    assert rig.service.live.alarms() == []  # a GPS without a receiver is no monitor alarm

    proposals = client.get(f"/api/v1/rits/{rit_id}/proposals", headers=headers).json()
    url = f"/api/v1/rits/{rit_id}/proposals/{proposals[0]['id']}/confirm"
    first = client.post(url, headers={**headers, "Idempotency-Key": "k1"})
    replay = client.post(url, headers={**headers, "Idempotency-Key": "k1"})
    assert first.status_code == replay.status_code == 201 and first.json()["entry_ids"] == replay.json()["entry_ids"]
    assert client.post(url, headers=headers).status_code == 409
    assert client.get(f"/api/v1/rits/{rit_id}/proposals", headers=headers).json()[0]["state"] == "confirmed"
    assert len(client.get(f"/api/v1/rits/{rit_id}/track", headers=headers).json()) >= 15
    assert client.get("/api/v1/rits/nope/proposals").status_code == 404
    actions = [row["action"] for row in rig.service.access_log(rit_id, actor=CREW)]
    assert "proposals.read" in actions and "track.read" in actions


def test_without_a_gps_the_api_says_so_and_the_live_topic_carries_the_vitals(tmp_path, monkeypatch):
    monkeypatch.delenv("RITLINK_CONFIG", raising=False)
    settings = load_edge_settings(None, database=tmp_path / "edge.db")
    store = EdgeStore(settings.database)
    service = EdgeService(settings, store, LiveVitals())
    rit_id = service.create_rit("seh-umcu", "A1", actor=CREW)["rit_id"]
    service.announce(rit_id, actor=CREW)
    published = []
    service.position = GpsRuntime(settings, service, lambda seh, payload: published.append((seh, payload)) or True)
    service.position.start()
    try:
        client = device_client(service)
        assert client.get("/api/v1/position").json()["state"] == "not_configured"
        assert "gps" not in client.get("/-/health").json()["devices"]
        assert "vehicle_position" not in rig_form(service, rit_id)
        seh_id, payload = wait_until(lambda: published and published[0], 3, what="live without a GPS")
        assert seh_id == "seh-umcu" and payload["rit_ids"] == [rit_id] and payload["position"] is None
        assert payload["gps"] == {"state": "not_configured", "fix": False} and payload["vitals"] == []
    finally:
        service.position.stop()
        store.close()


def rig_form(service: EdgeService, rit_id: str) -> dict:
    return service.rit_view(rit_id, actor=CREW)["form"]


def test_fixes_from_a_gpsd(rig, tmp_path):
    fake = FakeGpsd(gpsd_reports())
    settings = rig.runtime.settings.model_copy(update={"gps_source": "gpsd", "gpsd_port": fake.port})
    runtime = GpsRuntime(settings, rig.service).start()
    try:
        wait_until(lambda: runtime.counters["fixes_with_position"] >= 3, 5, what="fixes from gpsd")
        assert runtime.status()["source"] == f"gpsd 127.0.0.1:{fake.port}"
    finally:
        runtime.stop()
        fake.close()


@pytest.mark.parametrize("seh, key", [
    ({"lat": 52.1}, "sehs.0"),
    ({"lat": 52.1, "lon": 5.1, "geofence_m": 0}, "sehs.0.geofence_m"),
    ({"geofence_m": 100}, "sehs.0"),
    ({"lat": 95, "lon": 5.1}, "sehs.0.lat"),
])
def test_seh_coordinates_are_checked(tmp_path, monkeypatch, seh, key):
    monkeypatch.delenv("RITLINK_CONFIG", raising=False)
    with pytest.raises(ConfigError) as error:
        load_edge_settings(None, sehs=[{"id": "seh-x", "name": "X", "phone": "1", **seh}])
    assert f"'{key}'" in str(error.value)


def test_a_fix_without_position_stores_nothing_but_counts(rig):
    rit_id = rig.new_rit()
    rig.feed([Fix(time=None, lat=None, lon=None, speed_mps=None, track=None, mode=1)] * 3)
    assert rig.runtime.counters["fixes"] == 3 and rig.runtime.track(rit_id, actor=CREW) == []


def straight_north(start_lat: float, lon: float, speeds: list[float], start: datetime) -> list[Fix]:
    """Fixes once a second driving north at the given speeds (m/s)."""
    fixes, lat = [], start_lat
    for i, speed in enumerate(speeds):
        when = (start + timedelta(seconds=i)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        fixes.append(Fix(time=when, lat=lat, lon=lon, speed_mps=speed, track=0.0, mode=3))
        lat += speed / 111_320.0
    return fixes


def _a_minute_apart(a: dict, b: dict) -> bool:
    """Two consecutive positions in the form: the ETA moved a minute, or a minute of driving passed."""
    moved = "eta" in a["data"] and "eta" in b["data"] and \
        abs(at_s(b["data"]["eta"]["arrival_at"]) - at_s(a["data"]["eta"]["arrival_at"])) >= 60
    return moved or at_s(b["data"]["at"]) - at_s(a["data"]["at"]) >= 60


def test_the_form_gets_a_new_eta_when_it_moved_a_minute_or_after_a_minute_of_driving(rig):
    fixes = straight_north(SEH_UMCU[0] - 0.04, SEH_UMCU[1], [12.0] * 90 + [4.0] * 120, START)
    rit_id = rig.new_rit()
    rig.feed(fixes[:30])
    rig.service.announce(rit_id, actor=CREW)
    rig.feed(fixes[30:89])  # steady speed for 59 s: the arrival time hardly moves
    assert len(rig.positions(rit_id)) == 1
    rig.feed(fixes[89:90])  # a minute of driving: the SEH sees the vehicle come closer
    assert len(rig.positions(rit_id)) == 2
    rig.feed(fixes[90:])  # stuck behind a tractor: the arrival slips by minutes
    entries = rig.positions(rit_id)
    assert 3 <= len(entries) <= 6
    assert all(_a_minute_apart(a, b) for a, b in zip(entries, entries[1:]))
    assert rig.service.rit_view(rit_id, actor=CREW)["form"]["vehicle_position"]["eta"] == entries[-1]["data"]["eta"]


def test_announced_on_scene_the_form_gets_the_position_without_an_eta(rig, drive):
    fixes, truth = drive
    rit_id = rig.new_rit()
    rig.feed(fixes[: int(truth.arrive_incident_s) + 25])
    rig.service.announce(rit_id, actor=CREW)
    position = rig.messages(rit_id)[0]["body"]["vehicle_position"]
    assert "eta" not in position and haversine_m(position["lat"], position["lon"], *INCIDENT) < 100
