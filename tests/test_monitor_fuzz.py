"""Hypothesis fuzzing of every framer/decoder: arbitrary bytes in arbitrary chunks never raise
or hang, and valid frames between the garbage are all recovered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.ansarb import AnsarBDecoder, format_ansarb_frame
from devices.hl7_pcd01 import Hl7Decoder, Hl7Value, build_oru_r01, parse_oru_r01
from devices.line_framing import LineFramer
from devices.masimo import MasimoDecoder, format_masimo_line
from devices.mllp import MllpFramer, mllp_wrap
from devices.nonin import NoninDecoder, format_nonin_line
from devices.observation import MDC_HEART_RATE, MDC_SPO2, Observation

FUZZ = settings(max_examples=2000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
pytestmark = pytest.mark.timeout(60)

garbage = st.binary(max_size=300)
chunk_sizes = st.lists(st.integers(min_value=1, max_value=97), min_size=1, max_size=8)


def _feed_in_chunks(decoder, data: bytes, sizes: list[int]) -> list:
    out, position, index = [], 0, 0
    while position < len(data):
        size = sizes[index % len(sizes)]
        out.extend(decoder.feed(data[position:position + size]))
        position += size
        index += 1
    return out


def _values(observations: list[Observation]) -> list[tuple[int, float | None]]:
    return [(o.code, o.value) for o in observations]


@FUZZ
@given(before=garbage, after=garbage, sizes=chunk_sizes,
       readings=st.lists(st.tuples(st.none() | st.integers(0, 100), st.none() | st.integers(0, 400)), max_size=4))
def test_line_framer_and_nonin_recover_lines_between_garbage(before, after, sizes, readings):
    lines = b"".join(format_nonin_line(spo2, pulse) for spo2, pulse in readings)
    decoder = NoninDecoder("ox")
    got = _feed_in_chunks(decoder, before + b"\n" + lines + after, sizes)
    want = [v for spo2, pulse in readings for v in ((MDC_SPO2, spo2), (149530, pulse))]
    recovered = [(c, None if v is None else int(v)) for c, v in _values(got)]
    assert recovered == want  # every valid line comes back, garbage invents nothing
    assert decoder.lines_ok == len(readings)
    assert len(LineFramer().feed(before)) <= before.count(b"\n") + before.count(b"\r")


@FUZZ
@given(before=garbage, after=garbage, sizes=chunk_sizes,
       readings=st.lists(st.tuples(st.none() | st.integers(0, 100), st.none() | st.integers(0, 300),
                                   st.none() | st.integers(1, 2000)), max_size=3))
def test_masimo_recovers_lines_between_garbage(before, after, sizes, readings):
    when = datetime(2026, 3, 4, 5, 6, 7)
    lines = b"".join(format_masimo_line(when, s, p, None if pi is None else pi / 100) for s, p, pi in readings)
    got = _feed_in_chunks(MasimoDecoder("rad"), before + b"\r\n" + lines + after, sizes)
    want = [v for s, p, pi in readings
            for v in ((MDC_SPO2, s), (149530, p), (150448, None if pi is None else round(pi / 100, 2)))]
    recovered = [(c, v if v is None or c == 150448 else int(v)) for c, v in _values(got)]
    assert recovered == want


def _oru(index: int, hr: int) -> bytes:
    return build_oru_r01([Hl7Value(MDC_HEART_RATE, float(hr), "/min")], f"F{index}",
                         datetime(2026, 1, 1, tzinfo=UTC))


@FUZZ
@given(before=garbage, after=garbage, sizes=chunk_sizes, rates=st.lists(st.integers(20, 250), max_size=3),
       newline=st.sampled_from([b"\r", b"\n", b"\r\n"]))
def test_mllp_and_hl7_decoder_recover_messages_between_garbage(before, after, sizes, rates, newline):
    framed = b"".join(mllp_wrap(_oru(i, hr).replace(b"\r", newline)) for i, hr in enumerate(rates))
    decoder = Hl7Decoder("gw")
    # A start block just before a real one only truncates garbage; an end block closes it.
    got = _feed_in_chunks(decoder, before + b"\x1c\r" + framed + after, sizes)
    assert _values(got) == [(MDC_HEART_RATE, float(r)) for r in rates]
    assert decoder.messages_ok == len(rates)
    assert len(decoder.acks) <= decoder.acks.maxlen
    assert MllpFramer().feed(before) is not None


hl7_text = st.text(alphabet=st.sampled_from(list("MSHOBXR|^~\\&\r\n0123456789.-+ NMXFCDTU\u2026")), max_size=400)


@FUZZ
@given(body=hl7_text)
def test_hl7_message_parser_never_raises_anything_but_its_own_error(body):
    for text in ("MSH|^~\\&|" + body, "MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.6\rOBX|" + body, body):
        try:
            result = parse_oru_r01(text, "gw")
        except ValueError:
            continue
        assert all(o.code in (147842, 150456, 149530, 150021, 150022, 150023, 151562, 151728, 150344, 150448,
                              149546) for o in result.observations)


waveform = st.binary(min_size=400, max_size=400).map(lambda b: b.replace(b"\xff", b"\x7f").replace(b"\xfe", b"\x7e"))


@FUZZ
@given(before=garbage, middle=garbage, after=garbage, sizes=chunk_sizes, wave=waveform,
       hr=st.none() | st.integers(0, 300), spo2=st.none() | st.integers(0, 100))
def test_ansarb_recovers_frames_between_garbage(before, middle, after, sizes, wave, hr, spo2):
    frame = format_ansarb_frame(wave, {"HR": (hr,), "SPO2": (spo2,)}, pulse=hr)
    decoder = AnsarBDecoder("ivy")
    got = _feed_in_chunks(decoder, before + frame + middle + frame + after, sizes)
    hr_values = [v for c, v in _values(got) if c == MDC_HEART_RATE]
    # Garbage may hold false starts; it never hides a real frame, and never makes one.
    assert hr_values == [None if hr is None else float(hr)] * 2
    assert decoder.frames_ok == 2
