"""The NMEA framer: resync on "$", "$$" prefixes, noise, line ends; never raises or hangs."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from devices.nmea_framing import MAX_SENTENCE, NmeaFramer
from simulators.gps import nmea

RMC = nmea("GPRMC,120000.00,A,5205.17265,N,00510.78063,E,0.419,109.38,241126,,,A")
GGA = nmea("GNGGA,120000.00,5205.17265,N,00510.78063,E,1,13,0.79,2.5,M,47.0,M,,")


def frame(*chunks: bytes) -> tuple[list[bytes], NmeaFramer]:
    framer = NmeaFramer()
    out = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out, framer


def test_cr_lf_and_crlf_all_end_a_sentence():
    body = RMC.rstrip()
    out, _ = frame(body + b"\r" + body + b"\n" + body + b"\r\n")
    assert out == [body, body, body]


def test_double_dollar_prefix_is_one_dollar_and_not_garbage():
    out, framer = frame(b"$" + RMC)
    assert out == [RMC.rstrip()]
    assert framer.garbage_bytes == 0 and framer.spliced == 0


def test_bytes_before_dollar_are_counted_as_garbage():
    out, framer = frame(b"r" + RMC + b"\x1b[2J junk " + GGA)
    assert out == [RMC.rstrip(), GGA.rstrip()]
    assert framer.garbage_bytes == 1 + len(b"\x1b[2J junk ")


def test_spliced_sentence_is_dropped_at_the_next_dollar():
    out, framer = frame(b"$GPGGA,030130" + RMC)
    assert out == [RMC.rstrip()]
    assert framer.spliced == 1


def test_binary_noise_inside_a_sentence_kills_only_that_sentence():
    broken = RMC[:20] + b"\x00\xff" + RMC[20:]
    out, framer = frame(broken + GGA)
    assert out == [GGA.rstrip()]
    assert framer.garbage_bytes > 0


def test_long_sentences_up_to_the_limit_pass_longer_ones_are_dropped():
    long_ok = b"$PMTKCHN," + b"1" * 190 + b"*00"  # 203 chars, like MediaTek's channel status
    too_long = b"$GPXXX," + b"2" * MAX_SENTENCE
    out, framer = frame(long_ok + b"\r\n" + too_long + b"\r\n" + RMC)
    assert out == [long_ok, RMC.rstrip()]
    assert framer.overlong == 1


def test_a_sentence_split_over_many_reads_is_joined():
    out, _ = frame(*[RMC[i:i + 1] for i in range(len(RMC))])
    assert out == [RMC.rstrip()]


def test_discard_partial_forgets_half_a_sentence():
    framer = NmeaFramer()
    framer.feed(RMC[:30])
    framer.discard_partial()
    assert framer.feed(RMC[30:] + GGA) == [GGA.rstrip()]


VALID = st.sampled_from([RMC, GGA, nmea("GNZDA,120000.00,24,11,2026,00,00"), nmea("GPVTG,109.38,T,,M,0.419,N,0.776,K,A")])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4096), st.integers(min_value=1, max_value=64))
def test_any_bytes_never_raise_or_hang(data, chunk):
    framer = NmeaFramer()
    started = time.monotonic()
    out = []
    for start in range(0, len(data), chunk):
        out += framer.feed(data[start:start + chunk])
    assert time.monotonic() - started < 1.0
    assert all(s.startswith(b"$") and len(s) <= MAX_SENTENCE and b"\r" not in s and b"\n" not in s for s in out)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=200), VALID), min_size=1, max_size=8), st.binary(max_size=200),
       st.integers(min_value=1, max_value=97))
def test_every_valid_sentence_between_garbage_is_recovered(parts, tail, chunk):
    stream = b"".join(garbage + sentence for garbage, sentence in parts) + tail
    framer = NmeaFramer()
    out = []
    for start in range(0, len(stream), chunk):
        out += framer.feed(stream[start:start + chunk])
    expected = [sentence.rstrip() for _, sentence in parts]
    # Garbage may frame as extra candidates (the parser rejects them), but every real
    # sentence must come out whole and in order.
    it = iter(out)
    assert all(any(candidate == want for candidate in it) for want in expected), (expected, out)
