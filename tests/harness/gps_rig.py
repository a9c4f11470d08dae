"""A short drive for the GPS-in-the-product tests: post -> incident (45 s on scene) -> SEH.

3.5 minutes of driving (2.1 km), so the route simulator can play it at 10x in ~22 s. The
SEH waypoint is where the test config puts seh-umcu, with the same 150 m geofence.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from devices.gps import Fix, GpsDecoder
from simulators.gps import RouteReceiver
from simulators.gps_route import load_route

INCIDENT = (52.0954, 5.1000)
SEH_UMCU = (52.0954, 5.1220)
SEH_RADIUS_M = 150.0
SHORT_ROUTE = f"""lat,lon,max_kmh,dwell_s,role,name,radius_m,seh_id
52.0900,5.1000,50,,start,post,,
52.0930,5.1000,50,,,,,
{INCIDENT[0]},{INCIDENT[1]},50,45,incident,incident,,
52.0954,5.1100,70,,,,,
{SEH_UMCU[0]},{SEH_UMCU[1]},30,20,seh,SEH,{SEH_RADIUS_M:g},seh-umcu
"""

# The test SEHs with coordinates: seh-umcu at the route's end, seh-antonius far away.
LOCATED_SEHS = [
    {"id": "seh-umcu", "name": "SEH UMC Utrecht", "phone": "088-755 5555",
     "lat": SEH_UMCU[0], "lon": SEH_UMCU[1], "geofence_m": SEH_RADIUS_M},
    {"id": "seh-antonius", "name": "SEH St. Antonius", "phone": "088-320 3000", "lat": 52.0375, "lon": 5.0420},
]


def write_short_route(folder: Path) -> Path:
    path = folder / "short-run.csv"
    path.write_text(SHORT_ROUTE)
    return path


def route_fixes(route_file: Path, start: datetime, seed: int = 1) -> tuple[list[Fix], object]:
    """Every epoch of the drive as the real NMEA decoder makes it, and the drive's truth."""
    receiver = RouteReceiver(load_route(route_file), 1.0, seed, start=start)
    decoder = GpsDecoder(clock=lambda: start)
    fixes: list[Fix] = []
    for _, _, sentences in receiver.epochs():
        fixes.extend(decoder.feed(b"".join(sentences)))
    last = decoder.flush()
    return fixes + ([last] if last is not None else []), receiver.truth
