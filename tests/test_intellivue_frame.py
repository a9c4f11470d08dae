"""IntelliVue MIB/RS232 framing: FCS, transparency, frames written out by hand, resync, fuzzing.

Expected bytes follow the guide's rules: BOF 0xC0, header 0x11 0x01 + length (big-endian),
user data, FCS (RFC 1662, LSB first), EOF 0xC1; 0xC0/0xC1/0x7D inside the frame become
0x7D, byte ^ 0x20. The FCS values below come from a bitwise RFC 1662 computation by hand,
not from the table-driven code under test.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.intellivue_frame import FrameDecoder, encode_frame, escape, ppp_fcs, unescape


def _fcs_bitwise(data: bytes) -> int:
    """RFC 1662 FCS-16 one bit at a time (the reference for the table-driven one)."""
    fcs = 0xFFFF
    for byte in data:
        fcs ^= byte
        for _ in range(8):
            fcs = (fcs >> 1) ^ 0x8408 if fcs & 1 else fcs >> 1
    return fcs ^ 0xFFFF


def test_fcs_check_value_of_rfc_1662_crc():
    # CRC-16/X-25 (the PPP FCS) of the ASCII digits 1..9 is 0x906E.
    assert ppp_fcs(b"123456789") == 0x906E
    assert ppp_fcs(b"") == 0x0000


def test_fcs_residue_over_data_and_fcs_is_the_good_fcs_constant():
    body = bytes.fromhex("11 01 00 03 c0 7d 01")
    wire_fcs = ppp_fcs(body).to_bytes(2, "little")
    # RFC 1662: running the FCS over data + FCS (without the final complement) gives 0xF0B8.
    assert ppp_fcs(body + wire_fcs) ^ 0xFFFF == 0xF0B8


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_table_fcs_matches_bitwise_fcs(data):
    assert ppp_fcs(data) == _fcs_bitwise(data)


def test_escape_by_hand():
    assert escape(b"\xc0") == b"\x7d\xe0"
    assert escape(b"\xc1") == b"\x7d\xe1"
    assert escape(b"\x7d") == b"\x7d\x5d"
    assert escape(b"\x7d\xc0\x01\xc1") == b"\x7d\x5d\x7d\xe0\x01\x7d\xe1"
    assert escape(b"\x20\x5d\xe0") == b"\x20\x5d\xe0"  # look-alikes stay as they are
    assert unescape(b"\x7d\x5d\x7d\xe0\x01\x7d\xe1") == b"\x7d\xc0\x01\xc1"
    assert unescape(b"\x01\x7d") is None  # escape without a byte after it


def test_frame_with_escaped_user_data_byte_by_byte():
    # user data C0 7D 01: header 11 01 00 03; FCS over header + data = 0xDC25, sent 25 DC.
    assert _fcs_bitwise(bytes.fromhex("11 01 00 03 c0 7d 01")) == 0xDC25
    expected = bytes([
        0xC0,                    # BOF
        0x11, 0x01, 0x00, 0x03,  # protocol id, AS_APDU, length 3
        0x7D, 0xE0,              # C0 escaped
        0x7D, 0x5D,              # 7D escaped
        0x01,
        0x25, 0xDC,              # FCS, least significant byte first
        0xC1,                    # EOF
    ])
    assert encode_frame(b"\xc0\x7d\x01") == expected
    assert FrameDecoder().feed(expected) == [b"\xc0\x7d\x01"]


def test_frame_whose_fcs_needs_escaping():
    # user data 2B: FCS 0xEAC1 goes out as C1 EA, and the C1 must be escaped (7D E1).
    assert _fcs_bitwise(bytes.fromhex("11 01 00 01 2b")) == 0xEAC1
    expected = bytes.fromhex("c0 11 01 00 01 2b 7d e1 ea c1")
    assert encode_frame(b"\x2b") == expected
    assert FrameDecoder().feed(expected) == [b"\x2b"]


def test_frame_of_a_data_export_header():
    # SPpdu session id E1 00: FCS 0xFFA9 (A9 FF), nothing to escape.
    assert encode_frame(b"\xe1\x00") == bytes.fromhex("c0 11 01 00 02 e1 00 a9 ff c1")


def test_decoder_counts_bad_frames_and_keeps_the_good_ones():
    good = encode_frame(b"\xe1\x00")
    bad_fcs = good[:-2] + bytes([good[-2] ^ 0x01]) + good[-1:]
    bad_header = encode_frame(b"\xe1\x00").replace(b"\x11\x01", b"\x12\x01", 1)
    bad_escape = b"\xc0\x11\x01\x00\x01\x7d\xc1"
    decoder = FrameDecoder()
    frames = decoder.feed(b"noise" + bad_fcs + good + bad_header + bad_escape + b"\xc1\xc1" + good)
    assert frames == [b"\xe1\x00", b"\xe1\x00"]
    assert decoder.frames_ok == 2
    # bad_header changed a byte covered by the FCS: the FCS catches it first.
    assert decoder.fcs_errors == 2
    assert decoder.escape_errors == 1
    assert decoder.garbage_bytes == len(b"noise") + 2


def test_header_length_must_match_the_user_data():
    body = bytes.fromhex("11 01 00 05 e1 00")  # says 5 bytes, carries 2
    frame = b"\xc0" + escape(body + ppp_fcs(body).to_bytes(2, "little")) + b"\xc1"
    decoder = FrameDecoder()
    assert decoder.feed(frame) == []
    assert decoder.header_errors == 1


def test_bof_inside_a_frame_aborts_it_and_starts_the_next():
    good = encode_frame(b"\x01\x02\x03")
    decoder = FrameDecoder()
    assert decoder.feed(good[:6] + good) == [b"\x01\x02\x03"]
    assert decoder.aborted_frames == 1


def test_frames_split_over_many_reads():
    stream = encode_frame(b"\x7d" * 10) + encode_frame(b"\xc0\xc1" * 5)
    decoder = FrameDecoder()
    frames = []
    for i in range(len(stream)):
        frames += decoder.feed(stream[i : i + 1])
    assert frames == [b"\x7d" * 10, b"\xc0\xc1" * 5]


def test_overlong_frame_is_dropped_and_the_decoder_recovers():
    decoder = FrameDecoder()
    assert decoder.feed(b"\xc0" + b"\x00" * 40000) == []
    assert decoder.overlong_frames == 1
    assert decoder.feed(encode_frame(b"ok")) == [b"ok"]


# --- fuzzing -------------------------------------------------------------------------------
@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=200), max_size=8))
def test_fuzz_random_bytes_never_raise_or_hang(chunks):
    decoder = FrameDecoder()
    started = time.monotonic()
    for chunk in chunks:
        for frame in decoder.feed(chunk):
            assert isinstance(frame, bytes)
    assert time.monotonic() - started < 1.0
    assert decoder.garbage_bytes >= 0


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payloads=st.lists(st.binary(min_size=0, max_size=120), min_size=1, max_size=5),
    garbage=st.lists(st.binary(max_size=60), min_size=6, max_size=6),
    cut=st.integers(min_value=1, max_value=64),
)
def test_fuzz_valid_frames_between_garbage_are_recovered(payloads, garbage, cut):
    stream = bytearray(garbage[0])
    for i, payload in enumerate(payloads):
        stream += encode_frame(payload) + garbage[i + 1]
    decoder = FrameDecoder()
    frames = []
    for start in range(0, len(stream), cut):  # arbitrary read boundaries
        frames += decoder.feed(bytes(stream[start : start + cut]))
    # Garbage may by chance form an extra valid frame; every real one must be there, in order.
    remaining = iter(frames)
    assert all(any(frame == payload for frame in remaining) for payload in payloads)
