"""Conformance with gpsd on real receiver logs (recipe: ../shared/conformance/README.md, GPS part).

For every log, every TPV time in gpsd's expected output (.chk) must have a ritlink fix with
the same receiver time, and where gpsd reports them: |dlat|, |dlon| < 1e-7 deg and
|dspeed| < 0.01 m/s, compared with the LAST TPV of that time (gpsd's earlier TPVs of an
epoch carry speeds computed from position deltas before RMC arrives).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pynmea2
import pytest

from devices.gps import GpsDecoder, capture_bytes, read_capture
from tests.conftest import CONFORMANCE

GPSD_LOGS = CONFORMANCE / "gps" / "gpsd"
LOG_NAMES = sorted(p.name for p in GPSD_LOGS.glob("*.log"))
WEEK_ROLLOVER = timedelta(weeks=1024)
# gpsd "corrects" a week rollover in these logs and reports the receiver's date + 1024
# weeks (rst39: 2014 -> 2033; gp-320fw: 1999 -> 2019). ritlink keeps the receiver's date
# (and flags it), so for these logs a gpsd time also matches receiver time + 1024 weeks.
GPSD_SHIFTS_DATE = {"rst39.log", "gp-320fw-2019-04-07-coldboot.log"}


def last_tpv_per_time(chk_path) -> dict[str, dict]:
    last: dict[str, dict] = {}
    for line in chk_path.read_text().splitlines():
        if line.startswith('{"class":"TPV"'):
            tpv = json.loads(line)
            if "time" in tpv:
                last[tpv["time"]] = tpv
    return last


def ritlink_fixes(log_path) -> dict[str, object]:
    fixes = {}
    for fix in read_capture(log_path, GpsDecoder()):
        if fix.receiver_time:
            fixes[fix.receiver_time] = fix  # the last fix of a time, as with gpsd
    return fixes


def _minus_rollover(iso: str) -> str:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00")) - WEEK_ROLLOVER
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_all_24_logs_are_there():
    assert len(LOG_NAMES) == 24, LOG_NAMES


@pytest.mark.parametrize("name", LOG_NAMES)
def test_matches_gpsd(name):
    expected = last_tpv_per_time(GPSD_LOGS / (name + ".chk"))
    fixes = ritlink_fixes(GPSD_LOGS / name)
    assert expected, "gpsd reported no timed TPV"
    problems = []
    worst = {"lat": 0.0, "lon": 0.0, "speed": 0.0}
    for when, tpv in expected.items():
        fix = fixes.get(when)
        if fix is None and name in GPSD_SHIFTS_DATE:
            fix = fixes.get(_minus_rollover(when))
        if fix is None:
            problems.append(f"{when}: no ritlink fix")
            continue
        for key, ours in (("lat", fix.lat), ("lon", fix.lon)):
            if key in tpv:
                if ours is None:
                    problems.append(f"{when}: gpsd has {key}, ritlink has no position")
                    continue
                worst[key] = max(worst[key], abs(ours - tpv[key]))
        if "speed" in tpv:
            if fix.speed_mps is None:
                problems.append(f"{when}: gpsd has speed, ritlink none")
            else:
                worst["speed"] = max(worst["speed"], abs(fix.speed_mps - tpv["speed"]))
    assert not problems, problems[:5]
    assert worst["lat"] < 1e-7 and worst["lon"] < 1e-7, worst
    assert worst["speed"] < 0.01, worst


def test_rst39_times_come_from_gga_and_zda():
    """10 Hz GGA with ZDA, only 4 RMCs: the GGA epochs get their date from RMC/ZDA."""
    fixes = list(read_capture(GPSD_LOGS / "rst39.log"))
    gga_only = [f for f in fixes if "speed-derived" in f.flags]
    assert len(gga_only) > 30
    assert all(f.receiver_time.startswith("2014-02-19T20:41") for f in gga_only)


def test_st_teseo_double_dollar_lines_need_our_framer():
    raw = capture_bytes(GPSD_LOGS / "st-teseo-liv4f.log").decode("ascii")
    rmc = next(line for line in raw.splitlines() if "GNRMC" in line)
    assert rmc.startswith("$$")
    with pytest.raises(pynmea2.ParseError):
        pynmea2.parse(rmc, check=True)
    decoder = GpsDecoder()
    fixes = list(read_capture(GPSD_LOGS / "st-teseo-liv4f.log", decoder))
    assert sum(f.has_position for f in fixes) == 12
    assert decoder.bad_checksum == 1  # the one GSV with a wrong checksum


def test_triton400_spliced_gga_is_dropped_and_gll_epoch_kept():
    decoder = GpsDecoder()
    fixes = {f.receiver_time: f for f in read_capture(GPSD_LOGS / "triton400.log", decoder)}
    lone_gll = fixes["2013-04-01T03:01:30.000Z"]  # its GGA was cut off by the next GLL
    assert lone_gll.has_position and lone_gll.altitude is None and "speed-derived" in lone_gll.flags
    assert decoder.framer.spliced == 1


def test_april6_2019_week_rollover_is_flagged_not_used():
    fixes = list(read_capture(GPSD_LOGS / "april6_2019.log"))
    dated = [f for f in fixes if f.receiver_time]
    assert [f.receiver_time for f in dated] == ["1999-08-22T00:02:31.420Z"]
    assert all(f.time is None for f in fixes)
    assert "time-implausible" in dated[0].flags
    assert "bad-date" in fixes[1].flags  # "2208-1"
    assert fixes[1].has_position  # the position itself is fine


def test_firefly_bad_checksums_are_counted_and_never_used():
    decoder = GpsDecoder()
    fixes = list(read_capture(GPSD_LOGS / "firefly-II.log", decoder))
    assert decoder.bad_checksum == 23
    assert all(f.altitude is None for f in fixes)  # altitude only comes from the (bad) GGAs
