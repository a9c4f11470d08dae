"""A synthetic ambulance drive along waypoints: where the vehicle truly is, every tick.

Routes are small files (GeoJSON points or a LineString, or CSV rows) of waypoints. Each
waypoint may carry the speed limit of the road that starts there (``max_kmh``), a stop
(``dwell_s``: on scene, at the SEH) and a role (``incident``, ``seh``). The drive accelerates
and brakes like an ambulance, slows for corners and stops exactly at stop waypoints; it is
deterministic for a given seed, so tests can compare proposals with the ground truth.
"""

from __future__ import annotations

import bisect
import csv
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path

from devices.gps import bearing_deg, haversine_m

ROUTES_DIR = Path(__file__).resolve().parent / "routes"
DEFAULT_MAX_KMH = 50.0
ACCELERATION = 2.0  # m/s², an ambulance pulling away
BRAKING = 2.5  # m/s², planned braking for corners and stops
CREEP = 1.0  # m/s, the last metres into a stop
BRAKING_HORIZON_M = 400.0  # from 130 km/h an ambulance needs ~260 m to stop
DEFAULT_SEH_RADIUS_M = 150.0


@dataclass(frozen=True)
class Waypoint:
    lat: float
    lon: float
    max_kmh: float | None = None  # limit of the road from here to the next waypoint
    dwell_s: float = 0.0  # stop here this long
    role: str = ""  # "", "start", "incident" or "seh"
    name: str = ""
    radius_m: float | None = None  # SEH geofence radius
    seh_id: str = ""


@dataclass
class Route:
    name: str
    waypoints: list[Waypoint]

    def first(self, role: str) -> Waypoint | None:
        return next((w for w in self.waypoints if w.role == role), None)

    @property
    def incident(self) -> Waypoint | None:
        return self.first("incident")

    @property
    def seh(self) -> Waypoint | None:
        return self.first("seh")

    @property
    def seh_radius_m(self) -> float:
        seh = self.seh
        return seh.radius_m if seh and seh.radius_m else DEFAULT_SEH_RADIUS_M

    def leg_to_seh(self) -> list[tuple[float, float, float | None]]:
        """The planned route from the incident to the SEH: (lat, lon, road limit km/h)."""
        points = [(w.lat, w.lon, w.max_kmh) for w in self.waypoints]
        roles = [w.role for w in self.waypoints]
        start = roles.index("incident") if "incident" in roles else 0
        end = roles.index("seh") if "seh" in roles else len(points) - 1
        return points[start:end + 1]


class RouteError(ValueError):
    pass


def _waypoint(lat, lon, props: dict) -> Waypoint:
    def number(key):
        value = props.get(key)
        return None if value in (None, "") else float(value)

    lat, lon = float(lat), float(lon)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise RouteError(f"coordinate out of range: {lat}, {lon}")
    return Waypoint(lat=lat, lon=lon, max_kmh=number("max_kmh"), dwell_s=number("dwell_s") or 0.0,
                    role=str(props.get("role") or ""), name=str(props.get("name") or ""),
                    radius_m=number("radius_m"), seh_id=str(props.get("seh_id") or ""))


def load_route(path: str | Path) -> Route:
    """A route from ``.geojson``/``.json`` (Point features in order, or a LineString) or ``.csv``."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RouteError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        waypoints = _from_csv(text) if path.suffix.lower() == ".csv" else _from_geojson(json.loads(text))
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise RouteError(f"{path.name}: not a route ({exc})") from exc
    if len(waypoints) < 2:
        raise RouteError(f"{path.name}: a route needs at least two waypoints")
    return Route(name=path.stem, waypoints=waypoints)


def _from_geojson(doc: dict) -> list[Waypoint]:
    features = doc["features"] if doc.get("type") == "FeatureCollection" else [doc]
    waypoints: list[Waypoint] = []
    for feature in features:
        geometry, props = feature["geometry"], feature.get("properties") or {}
        if geometry["type"] == "Point":
            lon, lat = geometry["coordinates"][:2]
            waypoints.append(_waypoint(lat, lon, props))
        elif geometry["type"] == "LineString":
            waypoints.extend(_waypoint(lat, lon, {"max_kmh": props.get("max_kmh")})
                             for lon, lat, *_ in geometry["coordinates"])
    return waypoints


def _from_csv(text: str) -> list[Waypoint]:
    rows = csv.DictReader(line for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return [_waypoint(row["lat"], row["lon"], row) for row in rows]


def shipped_route(name: str) -> Path | None:
    """One of the example routes by name (``utrecht-city``, ``rural``), or None."""
    if "/" in name or "*" in name or "?" in name:
        return None  # a path (absolute paths cannot be globbed relative to a folder), not a name
    for candidate in sorted(ROUTES_DIR.glob(f"{name}.*")):
        return candidate
    return None


def corner_speed_mps(turn_deg: float) -> float | None:
    """How fast an ambulance takes a bend: ~20 km/h round a right angle, no limit when straight."""
    if turn_deg < 15:
        return None
    return max(15.0, 80.0 - turn_deg * 0.65) / 3.6


@dataclass(frozen=True)
class DriveTick:
    t_s: float  # seconds since the start of the drive
    lat: float
    lon: float
    speed_mps: float
    track: float
    phase: str  # "driving", "on_scene", "at_seh", "stopped"
    distance_m: float  # along the route from the start


@dataclass
class DriveTruth:
    """What really happened, for tests: when the vehicle stopped at and left each place."""

    arrive_incident_s: float | None = None
    depart_incident_s: float | None = None
    arrive_seh_s: float | None = None
    total_m: float = 0.0
    seh_leg_start_m: float = 0.0
    ticks: list[DriveTick] = field(default_factory=list)


class Drive:
    """Kinematics along the route's polyline, at ``hz`` ticks per second."""

    def __init__(self, route: Route, hz: float = 1.0, seed: int = 1, traffic: float = 0.15):
        self.route = route
        self.dt = 1.0 / hz
        points = route.waypoints
        self._cumulative = [0.0]
        for a, b in zip(points, points[1:], strict=False):
            self._cumulative.append(self._cumulative[-1] + haversine_m(a.lat, a.lon, b.lat, b.lon))
        rng = random.Random(seed)
        # Traffic: each road section is driven a little under or over its limit.
        self._segment_speed = [
            (w.max_kmh or DEFAULT_MAX_KMH) / 3.6 * (1 + traffic * (rng.random() * 1.3 - 1.0))
            for w in points[:-1]
        ]
        self._constraints = self._speed_constraints()
        self._constraint_at = [at for at, _, _ in self._constraints]

    @property
    def total_m(self) -> float:
        return self._cumulative[-1]

    def _speed_constraints(self) -> list[tuple[float, float, int]]:
        """(distance along the route, speed there, waypoint index) for corners and stops."""
        points = self.route.waypoints
        constraints = []
        for i in range(1, len(points)):
            if points[i].dwell_s > 0 or i == len(points) - 1:
                constraints.append((self._cumulative[i], 0.0, i))
                continue
            a, b, c = points[i - 1], points[i], points[i + 1]
            turn = abs((bearing_deg(b.lat, b.lon, c.lat, c.lon) - bearing_deg(a.lat, a.lon, b.lat, b.lon) + 180) % 360 - 180)
            limit = corner_speed_mps(turn)
            if limit is not None:
                constraints.append((self._cumulative[i], limit, i))
        return constraints

    def position_at(self, s: float) -> tuple[float, float, float]:
        """(lat, lon, track) at distance ``s`` along the route."""
        points, cumulative = self.route.waypoints, self._cumulative
        s = min(max(s, 0.0), cumulative[-1])
        i = self._segment_at(s)
        a, b = points[i], points[i + 1]
        length = cumulative[i + 1] - cumulative[i]
        f = (s - cumulative[i]) / length if length else 0.0
        return a.lat + (b.lat - a.lat) * f, a.lon + (b.lon - a.lon) * f, bearing_deg(a.lat, a.lon, b.lat, b.lon)

    def _segment_at(self, s: float) -> int:
        """Index of the road section that contains distance ``s``."""
        return min(max(bisect.bisect_right(self._cumulative, s) - 1, 0), len(self._cumulative) - 2)

    def _allowed_speed(self, s: float, next_stop: float) -> float:
        allowed = self._segment_speed[self._segment_at(s)]
        first = bisect.bisect_left(self._constraint_at, s)
        for at, speed, _ in self._constraints[first:]:
            if at > next_stop or at - s > BRAKING_HORIZON_M:
                break
            allowed = min(allowed, math.sqrt(speed * speed + 2 * BRAKING * (at - s)))
        return max(allowed, CREEP)

    def run(self) -> DriveTruth:
        """Simulate the whole drive (pure, fast: a 30-minute run at 5 Hz is 9,000 ticks)."""
        truth = DriveTruth(total_m=self.total_m)
        points = self.route.waypoints
        stops = [(at, i) for at, speed, i in self._constraints if speed == 0.0]
        s, v, t, track = 0.0, 0.0, 0.0, self.position_at(0.0)[2]
        roles = [w.role for w in points]
        if "incident" in roles:
            truth.seh_leg_start_m = self._cumulative[roles.index("incident")]
        for stop_at, index in stops:
            # Drive to the next stop...
            while s < stop_at:
                v = min(v + ACCELERATION * self.dt, self._allowed_speed(s, stop_at))
                if s + v * self.dt >= stop_at:
                    s, v = stop_at, 0.0
                else:
                    s += v * self.dt
                t += self.dt
                lat, lon, track = self.position_at(s) if v > 0 else (*self.position_at(s)[:2], track)
                truth.ticks.append(DriveTick(t, lat, lon, v, track, "driving", s))
            # ...and stand there.
            role = points[index].role
            phase = {"incident": "on_scene", "seh": "at_seh"}.get(role, "stopped")
            if role == "incident" and truth.arrive_incident_s is None:
                truth.arrive_incident_s = t
            if role == "seh" and truth.arrive_seh_s is None:
                truth.arrive_seh_s = t
            dwell = points[index].dwell_s
            lat, lon, _ = self.position_at(s)
            for _ in range(round(dwell / self.dt)):
                t += self.dt
                truth.ticks.append(DriveTick(t, lat, lon, 0.0, track, phase, s))
            if role == "incident" and truth.depart_incident_s is None:
                truth.depart_incident_s = t
        return truth
