"""Conformance with gpsd on real receiver logs (recipe: ../shared/conformance/README.md, GPS part).

Both directions, over all 24 logs:

- every TPV time in gpsd's expected output (.chk) has a ritlink fix with the same receiver
  time, and where gpsd reports them |dlat|, |dlon| <= 5e-10 deg and |dspeed| <= 0.0005 m/s
  (gpsd prints 9 and 3 decimals: that is its rounding, nothing more), compared with the LAST
  TPV of that time (gpsd's earlier TPVs of an epoch carry speeds computed from position
  deltas before RMC arrives);
- every ritlink fix with a position is in gpsd's output: a TPV with the same time and the
  same position, or, in gpsd's first cycle before it knows the date, a TPV with the same
  position and no time. The few epochs gpsd never reports are listed in GPSD_NEVER_REPORTS,
  each with the reason found in the log; any other extra fix fails.
"""

from __future__ import annotations

import json
import math
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
POSITION_TOL = 5e-10  # deg: half the last of gpsd's 9 printed decimals
SPEED_TOL = 0.0005  # m/s: half the last of gpsd's 3 printed decimals
# Epochs with a position that gpsd never reports, and why (read in the .log and .chk).
# gpsd reports an epoch when its cycle-ending sentence arrives: an epoch cut off before
# that sentence is never reported; in its first cycle gpsd is still learning which
# sentence ends one.
LAST_CUT = "the log ends inside this epoch, before gpsd's cycle-ending sentence"
GPSD_NEVER_REPORTS = {
    "bt451.log": {"2009-12-09T15:25:08.500Z": "the capture is spliced after this epoch's RMC/GGA/GSV "
                                              "(no GLL/ZDA; the next line is a comment and 14:33:06)",
                  "2009-12-09T14:33:08.500Z": LAST_CUT},
    "isync.log": {"2016-02-03T13:15:30.000Z": LAST_CUT},
    "quectel-l76k-nmea.log": {"2026-08-05T05:53:04.000Z": LAST_CUT},
    "venus634lp.log": {"2010-02-05T08:50:38.000Z": LAST_CUT + " (a lone RMC)"},
    "rst39.log": {"2014-02-19T20:41:32.100Z": "gpsd's first cycle: after the first 10 Hz GGA it sends only "
                                              "SKY; TPVs start with the next GGA"},
}


def close(ours: float, theirs: float, tolerance: float) -> bool:
    """|ours - theirs| <= tolerance, allowing for the binary representation of gpsd's decimals."""
    return abs(ours - theirs) <= tolerance + 2 * math.ulp(theirs)


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


def _all_tpvs(chk_path) -> list[dict]:
    return [json.loads(line) for line in chk_path.read_text().splitlines() if line.startswith('{"class":"TPV"')]


@pytest.mark.parametrize("name", LOG_NAMES)
def test_every_gpsd_fix_is_ours_within_its_rounding(name):
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
        for key, ours, tolerance in (("lat", fix.lat, POSITION_TOL), ("lon", fix.lon, POSITION_TOL),
                                     ("speed", fix.speed_mps, SPEED_TOL)):
            if key not in tpv:
                continue
            if ours is None:
                problems.append(f"{when}: gpsd has {key}, ritlink none")
                continue
            worst[key] = max(worst[key], abs(ours - tpv[key]))
            if not close(ours, tpv[key], tolerance):
                problems.append(f"{when}: {key} {ours!r} vs gpsd {tpv[key]!r}")
    assert not problems, (problems[:5], worst)


@pytest.mark.parametrize("name", LOG_NAMES)
def test_every_fix_of_ours_is_in_gpsd_output(name):
    tpvs = _all_tpvs(GPSD_LOGS / (name + ".chk"))
    timed: dict[str, list[dict]] = {}
    for tpv in tpvs:
        if "time" in tpv:
            timed.setdefault(tpv["time"], []).append(tpv)
            if name in GPSD_SHIFTS_DATE:
                timed.setdefault(_minus_rollover(tpv["time"]), []).append(tpv)
    untimed = [t for t in tpvs if "time" not in t and "lat" in t]

    def same_place(fix, tpv) -> bool:
        return "lat" in tpv and close(fix.lat, tpv["lat"], POSITION_TOL) and close(fix.lon, tpv["lon"], POSITION_TOL)

    in_order = [f for f in read_capture(GPSD_LOGS / name, GpsDecoder()) if f.receiver_time and f.has_position]
    fixes = ritlink_fixes(GPSD_LOGS / name)  # the last fix of each time, as gpsd reports it
    extra = {}
    for when, fix in fixes.items():
        if not fix.has_position:
            continue  # no fix: gpsd says mode 1 without a time, and so do we (no position)
        if any(same_place(fix, t) for t in timed.get(when, ())):
            continue
        if when not in timed and any(same_place(fix, t) for t in untimed):
            continue  # gpsd's first cycle: the same position, before gpsd has a date
        extra[when] = fix
    assert set(extra) == set(GPSD_NEVER_REPORTS.get(name, {})), sorted(extra)
    for when, why in GPSD_NEVER_REPORTS.get(name, {}).items():
        if why.startswith(LAST_CUT):
            assert in_order[-1].receiver_time == when, f"{when} is not the log's last epoch"


def test_the_tolerances_are_the_claimed_ones():
    assert close(52.0, 52.0 + 5e-10, POSITION_TOL) and not close(52.0, 52.0 + 6e-10, POSITION_TOL)
    assert close(10.0, 10.0005, SPEED_TOL) and not close(10.0, 10.0006, SPEED_TOL)


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
