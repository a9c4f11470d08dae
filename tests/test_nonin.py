"""Nonin-style oximeter lines: parsing, framing over garbage, and the pty round trip."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.line_framing import LineFramer
from devices.monitors import open_monitor
from devices.nonin import NoninDecoder, NoninLineError, format_nonin_line, parse_nonin_line
from devices.observation import MDC_PULSE_RATE, MDC_SPO2
from tests.harness.waiting import wait_until


def test_parse_line_maps_mdc_codes_and_units():
    spo2, pulse = parse_nonin_line(b"SPO2=097 HR=072", "ox")
    assert (spo2.code, spo2.value, spo2.unit) == (MDC_SPO2, 97.0, "%")
    assert (pulse.code, pulse.value, pulse.unit) == (MDC_PULSE_RATE, 72.0, "/min")


def test_dashes_mean_not_measured():
    spo2, pulse = parse_nonin_line(b"SPO2=--- HR=---", "ox")
    assert spo2.value is None and "not-measured" in spo2.flags


@pytest.mark.parametrize("line", [b"SPO2=101 HR=072", b"SPO2=9x7", b"HR=72 HR=73", b"TEMP=37", b"SPO2", b"SPO2=1234"])
def test_bad_lines_are_refused(line):
    with pytest.raises(NoninLineError):
        parse_nonin_line(line, "ox")


def test_decoder_resyncs_after_garbage_and_counts_it():
    decoder = NoninDecoder("ox")
    stream = b"\x00\xff\x13garbage\r\nSPO2=095 HR=080\r\n" + b"x" * 500 + b"\nSPO2=096 HR=081\r\n"
    values = [o.value for o in decoder.feed(stream)]
    assert values == [95.0, 80.0, 96.0, 81.0]
    assert decoder.lines_bad == 1 and decoder.framer.overlong_lines == 1


def test_lines_split_across_reads():
    decoder = NoninDecoder("ox")
    data = format_nonin_line(97, 72) * 3
    out = []
    for i in range(len(data)):
        out += decoder.feed(data[i:i + 1])
    assert [o.value for o in out] == [97.0, 72.0] * 3


@settings(max_examples=2000, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300), st.integers(0, 100), st.integers(0, 300))
def test_any_bytes_never_raise_and_embedded_lines_are_recovered(before, after, spo2, pulse):
    decoder = NoninDecoder("ox")
    line = format_nonin_line(spo2, pulse)
    # A newline before the sentence ends whatever junk preceded it, as a real line would.
    pairs = [(o.code, o.value) for o in decoder.feed(before + b"\n" + line + after)]
    assert (MDC_SPO2, spo2) in pairs and (MDC_PULSE_RATE, pulse) in pairs


def test_framer_never_grows_without_bound():
    framer = LineFramer(max_line=64)
    framer.feed(b"a" * 100_000)
    assert len(framer._buffer) <= 64


def test_pty_unplug_shows_disconnected_and_reconnects(pty_device):
    device = pty_device("ox")
    got, states = [], []
    link = open_monitor("nonin", str(device.link), "ox", got.append, states.append)
    try:
        wait_until(lambda: link.state == "connected", 5, what="connected")
        device.write(format_nonin_line(97, 72))
        wait_until(lambda: len(got) >= 2, 3, what="first values")
        device.unplug()
        wait_until(lambda: link.state == "disconnected", 3, what="disconnected after unplug")
        device.plug()
        wait_until(lambda: link.state == "connected", 5, what="reconnected")
        stop = threading.Event()

        def keep_writing():
            for _ in range(50):
                if stop.wait(0.05):
                    return
                device.write(format_nonin_line(90, 100))

        writer = threading.Thread(target=keep_writing)
        writer.start()
        wait_until(lambda: any(o.value == 90.0 for o in got), 3, what="values after replug")
        stop.set()
        writer.join()
        assert states[:3] == ["connected", "disconnected", "connected"]
    finally:
        link.stop()
