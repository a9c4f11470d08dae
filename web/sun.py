"""Day or night at a place and moment, for the automatic theme (NOAA's simplified solar
position: good to a few minutes, which is all a screen theme needs)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

# The civil twilight: the cab is dark when the sun is more than 6 degrees below the horizon.
DARK_BELOW_DEG = -6.0


def sun_elevation(lat: float, lon: float, moment: datetime) -> float:
    """Elevation of the sun in degrees above the horizon."""
    moment = moment.astimezone(UTC)
    day_of_year = moment.timetuple().tm_yday
    hours = moment.hour + moment.minute / 60 + moment.second / 3600
    gamma = 2 * math.pi / 365 * (day_of_year - 1 + (hours - 12) / 24)
    decl = (0.006918 - 0.399912 * math.cos(gamma) + 0.070257 * math.sin(gamma) - 0.006758 * math.cos(2 * gamma)
            + 0.000907 * math.sin(2 * gamma) - 0.002697 * math.cos(3 * gamma) + 0.00148 * math.sin(3 * gamma))
    eqtime = 229.18 * (0.000075 + 0.001868 * math.cos(gamma) - 0.032077 * math.sin(gamma)
                       - 0.014615 * math.cos(2 * gamma) - 0.040849 * math.sin(2 * gamma))
    true_solar_minutes = hours * 60 + eqtime + 4 * lon
    hour_angle = math.radians(true_solar_minutes / 4 - 180)
    lat_r = math.radians(lat)
    cos_zenith = math.sin(lat_r) * math.sin(decl) + math.cos(lat_r) * math.cos(decl) * math.cos(hour_angle)
    return 90 - math.degrees(math.acos(max(-1.0, min(1.0, cos_zenith))))


def is_dark(lat: float, lon: float, moment: datetime | None = None) -> bool:
    return sun_elevation(lat, lon, moment or datetime.now(UTC)) < DARK_BELOW_DEG
