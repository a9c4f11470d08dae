"""Position into the product: the stored track, run-time proposals by geofence, and the ETA.

Pure logic, fed with fixes and the moment they belong to; storage and MQTT are wired by
the edge service. Every proposal is only a proposal: the crew confirms run times.

Decisions (see docs/gps.md):
- track: at most one point per 5 s, only fixes with a position;
- ter plaatse: stationary (< 1.5 m/s) within 100 m of the incident coordinates for more than
  30 s; the proposed time is the start of that stay, not the moment we became sure;
- aankomst SEH: two successive fixes inside an SEH geofence after the vehicle has been on
  scene (when the incident is known) and outside that geofence; the time is the first one;
- ETA: remaining distance (along the planned route when known and we are on it, else the
  great-circle distance x a road factor) at the average speed since leaving the last stop,
  over at most the last 5 minutes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta

from devices.gps import Fix, haversine_m

TRACK_INTERVAL_S = 5.0
SCENE_RADIUS_M = 100.0
SCENE_DWELL_S = 30.0
STATIONARY_MPS = 1.5
SEH_CONFIRM_FIXES = 2
ROAD_FACTOR = 1.3  # Dutch roads: driving distance is ~1.2-1.4 x the straight line
ETA_WINDOW_S = 300.0
ETA_MIN_HISTORY_S = 20.0
OFF_ROUTE_M = 200.0
STOP_RESETS_AVERAGE_S = 20.0  # a stop this long (on scene) starts a new speed average


def fix_moment(fix: Fix, received_at: datetime) -> datetime:
    """The time a fix belongs to: the receiver's UTC when trusted, else when it arrived."""
    if fix.time:
        return datetime.fromisoformat(fix.time.replace("Z", "+00:00"))
    return received_at


def _is_stationary(fix: Fix) -> bool:
    return fix.speed_mps is not None and fix.speed_mps < STATIONARY_MPS


@dataclass(frozen=True)
class TrackPoint:
    at: datetime
    lat: float
    lon: float
    speed_mps: float | None
    track: float | None

    def to_dict(self) -> dict:
        return {"at": self.at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "lat": round(self.lat, 7), "lon": round(self.lon, 7),
                "speed_mps": None if self.speed_mps is None else round(self.speed_mps, 2),
                "track": None if self.track is None else round(self.track, 1)}


class TrackDownsampler:
    """Keeps the rit's track small: at most one point per ``interval_s``."""

    def __init__(self, interval_s: float = TRACK_INTERVAL_S):
        self.interval = timedelta(seconds=interval_s)
        self._last_at: datetime | None = None

    def offer(self, fix: Fix, at: datetime) -> TrackPoint | None:
        """The point to store for this fix, or None when it is too soon after the last one."""
        if not fix.has_position:
            return None
        if self._last_at is not None and at - self._last_at < self.interval and at >= self._last_at:
            return None
        self._last_at = at
        return TrackPoint(at, fix.lat, fix.lon, fix.speed_mps, fix.track)


@dataclass(frozen=True)
class Geofence:
    seh_id: str
    lat: float
    lon: float
    radius_m: float

    def contains(self, lat: float, lon: float) -> bool:
        return haversine_m(self.lat, self.lon, lat, lon) <= self.radius_m


@dataclass(frozen=True)
class RunTimeProposal:
    kind: str  # "ter_plaatse" or "aankomst_seh"
    at: datetime  # the proposed run time
    proposed_at: datetime  # when the evidence was complete
    lat: float
    lon: float
    seh_id: str | None = None


class RunTimeProposer:
    """Watches fixes and proposes ter plaatse and aankomst SEH, each once."""

    def __init__(self, incident: tuple[float, float] | None = None, seh_fences: list[Geofence] | tuple = ()):
        self.incident = incident
        self.seh_fences = list(seh_fences)
        self.on_scene_at: datetime | None = None
        self.proposals: dict[str, RunTimeProposal] = {}
        self._stay_start: tuple[datetime, float, float] | None = None
        self._outside: set[str] = set()
        self._inside_run: dict[str, list[tuple[datetime, float, float]]] = {}

    def set_incident(self, lat: float, lon: float) -> None:
        """New incident coordinates (dispatch changed the address): look again."""
        self.incident = (lat, lon)
        self._stay_start = None
        self.proposals.pop("ter_plaatse", None)

    def mark_on_scene(self, at: datetime) -> None:
        """The crew recorded ter plaatse themselves: aankomst SEH may now be proposed."""
        self.on_scene_at = self.on_scene_at or at

    def update(self, fix: Fix, at: datetime) -> list[RunTimeProposal]:
        if not fix.has_position:
            return []  # a tunnel neither proves nor breaks a stay
        new = []
        if "ter_plaatse" not in self.proposals and self.incident is not None:
            new.extend(self._watch_scene(fix, at))
        if "aankomst_seh" not in self.proposals:
            new.extend(self._watch_seh(fix, at))
        return new

    def _watch_scene(self, fix: Fix, at: datetime) -> list[RunTimeProposal]:
        near = haversine_m(self.incident[0], self.incident[1], fix.lat, fix.lon) <= SCENE_RADIUS_M
        if not (near and _is_stationary(fix)):
            self._stay_start = None
            return []
        if self._stay_start is None:
            self._stay_start = (at, fix.lat, fix.lon)
        started, lat, lon = self._stay_start
        if (at - started).total_seconds() <= SCENE_DWELL_S:
            return []
        proposal = RunTimeProposal("ter_plaatse", started, at, lat, lon)
        self.proposals["ter_plaatse"] = proposal
        self.mark_on_scene(started)
        return [proposal]

    def _watch_seh(self, fix: Fix, at: datetime) -> list[RunTimeProposal]:
        armed = self.incident is None or self.on_scene_at is not None
        for fence in self.seh_fences:
            if not fence.contains(fix.lat, fix.lon):
                if armed:
                    self._outside.add(fence.seh_id)
                self._inside_run.pop(fence.seh_id, None)
                continue
            if fence.seh_id not in self._outside:
                continue  # started inside (post next to the hospital) or not yet on scene
            run = self._inside_run.setdefault(fence.seh_id, [])
            run.append((at, fix.lat, fix.lon))
            if len(run) >= SEH_CONFIRM_FIXES:
                first_at, lat, lon = run[0]
                proposal = RunTimeProposal("aankomst_seh", first_at, at, lat, lon, fence.seh_id)
                self.proposals["aankomst_seh"] = proposal
                return [proposal]
        return []


@dataclass(frozen=True)
class Eta:
    seconds: float
    arrival_at: datetime
    distance_m: float
    method: str  # "route_speeds", "route" or "great_circle"
    average_speed_mps: float


class EtaEstimator:
    """Estimated time of arrival at the destination SEH from recent fixes.

    ``route``: the planned route as (lat, lon) or (lat, lon, expected km/h of the road from
    that point on). With speeds, the ETA scales the route's expected driving time by how
    fast this crew actually drove the recent stretch of it; without, it divides the
    remaining distance by the recent average speed.
    """

    def __init__(self, destination: tuple[float, float], route: list[tuple] | None = None,
                 road_factor: float = ROAD_FACTOR, window_s: float = ETA_WINDOW_S):
        self.destination = destination
        self.road_factor = road_factor
        self.window = timedelta(seconds=window_s)
        self._route = _RouteProgress(route) if route and len(route) >= 2 else None
        self._samples: deque[tuple[datetime, float, float | None]] = deque()  # (at, speed, along route)
        self._stopped_since: datetime | None = None
        self._last: tuple[datetime, float, float, float | None] | None = None

    def update(self, fix: Fix, at: datetime) -> None:
        if not fix.has_position or fix.speed_mps is None:
            return
        if self._last is not None and at <= self._last[0]:
            return  # out of order or repeated
        along = self._route.locate(fix.lat, fix.lon) if self._route else None
        self._last = (at, fix.lat, fix.lon, along)
        if _is_stationary(fix):
            self._stopped_since = self._stopped_since or at
        else:
            if self._stopped_since is not None and (at - self._stopped_since).total_seconds() >= STOP_RESETS_AVERAGE_S:
                self._samples.clear()  # left the scene: the wait there is not driving speed
            self._stopped_since = None
        self._samples.append((at, fix.speed_mps, along))
        while self._samples and at - self._samples[0][0] > self.window:
            self._samples.popleft()

    def average_speed(self) -> tuple[float, float] | None:
        """(mean speed m/s, seconds covered) over the window, time-weighted."""
        samples = list(self._samples)
        distance = covered = 0.0
        for (t0, v0, _), (t1, _, _) in zip(samples, samples[1:], strict=False):
            step = min((t1 - t0).total_seconds(), 5.0)  # a gap is not time spent at that speed
            distance += v0 * step
            covered += step
        return (distance / covered, covered) if covered else None

    def estimate(self) -> Eta | None:
        """None while there is too little recent driving to judge the speed."""
        average = self.average_speed()
        if average is None or self._last is None:
            return None
        speed, covered = average
        if covered < ETA_MIN_HISTORY_S or speed < 1.0:
            return None
        at, lat, lon, along = self._last
        if along is not None:
            distance = self._route.length - along
            seconds = self._paced_route_seconds(along)
            method = "route_speeds"
            if seconds is None:
                seconds, method = distance / speed, "route"
        else:
            distance = haversine_m(lat, lon, self.destination[0], self.destination[1]) * self.road_factor
            seconds, method = distance / speed, "great_circle"
        return Eta(seconds, at + timedelta(seconds=seconds), distance, method, speed)

    def _paced_route_seconds(self, along: float) -> float | None:
        """The route's expected time to the end, scaled by our pace over the window."""
        route = self._route
        if not route.has_speeds:
            return None
        oldest = next(((t, s) for t, _, s in self._samples if s is not None), None)
        if oldest is None:
            return None
        expected = route.expected_seconds(oldest[1], along)
        if expected < ETA_MIN_HISTORY_S:
            return None
        pace = (self._last[0] - oldest[0]).total_seconds() / expected
        return pace * route.expected_seconds(along, route.length)


class _RouteProgress:
    """Where on a planned route we are, searched forward so a loop back is not a shortcut."""

    def __init__(self, points: list[tuple]):
        lat0 = math.radians(points[0][0])
        self._scale = (111_320.0 * math.cos(lat0), 110_574.0)
        self._xy = [(p[1] * self._scale[0], p[0] * self._scale[1]) for p in points]
        self._from_start = [0.0]
        for a, b in zip(self._xy, self._xy[1:], strict=False):
            self._from_start.append(self._from_start[-1] + math.dist(a, b))
        speeds = [p[2] if len(p) > 2 else None for p in points[:-1]]
        self.has_speeds = all(isinstance(v, int | float) and v > 0 for v in speeds)
        self._speed_mps = [v / 3.6 for v in speeds] if self.has_speeds else []
        self._index = 0

    @property
    def length(self) -> float:
        return self._from_start[-1]

    def locate(self, lat: float, lon: float) -> float | None:
        """Metres along the route from its start, or None when we are off the route."""
        x, y = lon * self._scale[0], lat * self._scale[1]
        best: tuple[float, int, float] | None = None
        for i in range(max(0, self._index - 1), len(self._xy) - 1):
            (ax, ay), (bx, by) = self._xy[i], self._xy[i + 1]
            dx, dy = bx - ax, by - ay
            length_sq = dx * dx + dy * dy
            f = 0.0 if length_sq == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length_sq))
            off = math.hypot(ax + f * dx - x, ay + f * dy - y)
            if best is None or off < best[0]:
                best = (off, i, f)
        if best is None or best[0] > OFF_ROUTE_M:
            return None
        _, i, f = best
        self._index = i
        return self._from_start[i] + (self._from_start[i + 1] - self._from_start[i]) * f

    def expected_seconds(self, start: float, end: float) -> float:
        """Driving time from ``start`` to ``end`` (metres along) at the route's speeds."""
        total = 0.0
        for i, speed in enumerate(self._speed_mps):
            a, b = max(start, self._from_start[i]), min(end, self._from_start[i + 1])
            if b > a:
                total += (b - a) / speed
        return total


def live_position(fix: Fix, at: datetime, eta: Eta | None = None) -> dict | None:
    """The position part of the live topic and the vooraankondiging (None without a fix)."""
    if not fix.has_position:
        return None
    data = {
        "at": at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "lat": round(fix.lat, 6),
        "lon": round(fix.lon, 6),
        "speed_mps": None if fix.speed_mps is None else round(fix.speed_mps, 1),
        "track": None if fix.track is None else round(fix.track),
    }
    if eta is not None:
        data["eta"] = {"seconds": round(eta.seconds), "arrival_at": eta.arrival_at.isoformat(timespec="seconds").replace("+00:00", "Z"),
                       "distance_m": round(eta.distance_m), "method": eta.method}
    return data
