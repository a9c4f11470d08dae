"""Epoch assembly and sanity rules of the NMEA decoder (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.gps import GpsDecoder, geodesic_distance_m, haversine_m, parse_time_of_day
from simulators.gps import nmea

NOW = datetime(2026, 3, 1, 12, 0, 5, tzinfo=UTC)


def decoder() -> GpsDecoder:
    return GpsDecoder(clock=lambda: NOW)


def run(*sentences: bytes) -> tuple[list, GpsDecoder]:
    d = decoder()
    fixes = d.feed(b"".join(sentences))
    last = d.flush()
    return fixes + ([last] if last else []), d


def rmc(hms="120000.00", status="A", talker="GN", date="010326", speed="10.0", track="90.0"):
    return nmea(f"{talker}RMC,{hms},{status},5205.17265,N,00510.78063,E,{speed},{track},{date},,,A")


def gga(hms="120000.00", quality=1, talker="GN", alt="2.5"):
    return nmea(f"{talker}GGA,{hms},5205.17265,N,00510.78063,E,{quality},12,0.8,{alt},M,47.0,M,,")


def test_one_fix_per_epoch_combining_rmc_gga_vtg_gll_zda():
    fixes, d = run(rmc(), nmea("GNVTG,91.5,T,,M,10.5,N,19.4,K,A"), gga(), nmea("GNGLL,5205.17265,N,00510.78063,E,120000.00,A,A"),
                   nmea("GNZDA,120000.00,01,03,2026,00,00"), rmc("120001.00"))
    first = fixes[0]
    assert len(fixes) == 2 and d.epochs == 2
    assert first.time == "2026-03-01T12:00:00.000Z"
    assert first.lat == pytest.approx(52.0862108, abs=1e-7) and first.lon == pytest.approx(5.1796772, abs=1e-7)
    assert first.speed_mps == pytest.approx(10.5 * 0.514444, abs=1e-4)  # VTG came after RMC: latest wins
    assert first.track == 91.5
    assert (first.mode, first.quality, first.altitude, first.satellites, first.hdop) == (3, 1, 2.5, 12, 0.8)


@pytest.mark.parametrize("talker", ["GP", "GN", "GL", "GA", "GB", "BD", "QZ"])
def test_any_talker(talker):
    fixes, _ = run(rmc(talker=talker), gga(talker=talker))
    assert len(fixes) == 1 and fixes[0].has_position


def test_gns_gives_position_and_altitude():
    fixes, _ = run(nmea("GNGNS,120000.00,5205.17265,N,00510.78063,E,AAN,14,0.9,3.1,47.0,,"), rmc())
    assert fixes[0].altitude == 3.1 and fixes[0].satellites == 14 and fixes[0].has_position


def test_void_rmc_is_not_a_position():
    fixes, _ = run(rmc(status="V"), rmc("120001.00", status="V"))
    assert [f.has_position for f in fixes] == [False, False]
    assert all(f.mode == 1 and f.speed_mps is None for f in fixes)


def test_void_without_time_still_one_epoch_per_burst():
    empty = nmea("GPRMC,,V,,,,,,,,,,N") + nmea("GPGGA,,,,,,0,,,,,,,,")
    fixes, _ = run(empty, empty, empty)
    assert len(fixes) == 3 and not any(f.has_position for f in fixes)


def test_gga_quality_zero_is_not_a_position():
    fixes, _ = run(gga(quality=0))
    assert not fixes[0].has_position


def test_bad_and_missing_checksums_are_counted_and_ignored():
    good = rmc()
    bad = good[:-4] + b"00\r\n"
    no_checksum = b"$GPRMC,120001.00,A,5205.17265,N,00510.78063,E,10.0,90.0,010326,,,A\r\n"
    fixes, d = run(bad, no_checksum, good)
    assert d.bad_checksum == 2 and d.sentences_ok == 1 and len(fixes) == 1


def test_garbage_bytes_are_counted():
    _, d = run(b"\x00\xffnoise" + rmc())
    assert d.counters()["garbage_bytes"] == 7


@pytest.mark.parametrize("date,flag", [("060180", "time-implausible"), ("220899", "time-implausible"), ("2208-1", "bad-date")])
def test_dates_far_from_the_clock_are_flagged_and_not_used(date, flag):
    fixes, _ = run(rmc(date=date))
    assert fixes[0].time is None and flag in fixes[0].flags
    assert fixes[0].has_position


def test_a_date_close_to_the_clock_is_used():
    fixes, _ = run(rmc(date="010326"))
    assert fixes[0].time == fixes[0].receiver_time == "2026-03-01T12:00:00.000Z"
    assert fixes[0].flags == ()


def test_no_date_yet_means_no_time():
    fixes, _ = run(gga())
    assert fixes[0].time is None and "no-date" in fixes[0].flags


def test_date_carries_over_midnight_for_gga_only_epochs():
    d = GpsDecoder(clock=lambda: datetime(2026, 3, 2, 0, 0, tzinfo=UTC))
    d.feed(rmc("235959.00", date="010326") + gga("235959.50"))
    fixes = d.feed(gga("000000.00")) + [d.flush()]
    assert fixes[-1].receiver_time == "2026-03-02T00:00:00.000Z"


def test_speed_derived_from_positions_when_no_sentence_has_speed():
    a = nmea("GPGGA,120000.00,5200.00000,N,00500.00000,E,1,12,0.8,2.5,M,47.0,M,,")
    b = nmea("GPGGA,120001.00,5200.00540,N,00500.00000,E,1,12,0.8,2.5,M,47.0,M,,")  # 10 m north
    fixes, _ = run(a, b)
    assert "speed-derived" in fixes[1].flags
    assert fixes[1].speed_mps == pytest.approx(10.0, rel=0.01)


def test_idle_flush_emits_the_open_epoch_once():
    d = decoder()
    assert d.feed(rmc() + gga()) == []
    assert d.has_open_epoch
    assert d.flush().has_position
    assert d.flush() is None


def test_time_of_day_parsing():
    assert parse_time_of_day("000231.099") == 151_099
    assert parse_time_of_day("204132.2") == 74_492_200
    assert parse_time_of_day("235959") == 86_399_000
    assert parse_time_of_day("24xx00") is None and parse_time_of_day("12") is None


def test_geodesic_distance_matches_known_values():
    # One minute of latitude at 52 N on WGS 84: meridian radius a(1-e2)/(1-e2 sin2)^1.5 x pi/10800
    # = 1854.46 m; a sphere of the mean radius says 1853.25 m.
    assert geodesic_distance_m(52.0, 5.0, 52.0 + 1 / 60, 5.0) == pytest.approx(1854.46, abs=0.05)
    assert haversine_m(52.0, 5.0, 52.0 + 1 / 60, 5.0) == pytest.approx(1853.25, abs=0.05)
    assert geodesic_distance_m(52.0, 5.0, 52.0, 5.0) == 0.0


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=120), st.integers(0, 59)), min_size=1, max_size=6))
def test_decoder_recovers_every_sentence_between_garbage(parts):
    d = GpsDecoder(clock=lambda: NOW)
    stream = b"".join(garbage + rmc(f"1200{second:02d}.00") for garbage, second in parts)
    d.feed(stream + b"\r\n")
    d.flush()
    assert d.sentences_ok >= len(parts)


def test_clock_skew_threshold_is_configurable():
    d = GpsDecoder(clock=lambda: NOW + timedelta(hours=2), max_clock_skew=timedelta(hours=1))
    d.feed(rmc())
    assert "time-implausible" in d.flush().flags


FIELD = st.text(alphabet="0123456789.,-+ANSEWVMKTabc", max_size=12)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["GPRMC", "GNGGA", "GLGNS", "GAGLL", "BDVTG", "QZZDA", "GPGSA"]),
                          st.lists(FIELD, max_size=14)), max_size=10),
       st.binary(max_size=64))
def test_well_checksummed_nonsense_never_raises(sentences, noise):
    """Valid checksums around nonsense fields: the decoder rejects or reads them, never crashes."""
    d = decoder()
    stream = noise + b"".join(nmea(kind + "," + ",".join(fields)) for kind, fields in sentences)
    fixes = d.feed(stream) + [d.flush()]
    assert d.sentences_ok + d.malformed + d.bad_checksum >= len(sentences)
    for fix in fixes:
        if fix is not None and fix.has_position:
            assert -90 <= fix.lat <= 90 and -180 <= fix.lon <= 180
