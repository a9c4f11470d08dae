"""Real device data from shared/conformance: the PCD-01 example and the Ivy 450C ANSAR-B capture."""

from __future__ import annotations

import re

from devices.ansarb import AnsarBDecoder
from devices.hl7_pcd01 import Hl7Decoder, parse_oru_r01
from devices.mllp import mllp_wrap
from devices import observation as mdc
from tests.conftest import CONFORMANCE

HL7_EXAMPLE = CONFORMANCE / "vitals" / "hl7" / "philips_intellivue_pcd01_example.hl7"
ANSARB_CAPTURE = CONFORMANCE / "vitals" / "serial" / "ivy450c_ansar_b.data"


def test_pcd01_example_maps_heart_rate_by_mdc_code_147842():
    result = parse_oru_r01(HL7_EXAMPLE.read_bytes(), "mx500")
    assert result.message_type == "ORU^R01"
    assert result.control_id == "HP0425230332.872USDANRMMD1NBR488"
    [hr] = result.observations  # device tree, rhythm text and the NA waveform are not vitals
    assert (hr.code, hr.value, hr.unit, hr.label) == (mdc.MDC_HEART_RATE, 60.0, "/min", "HR")
    assert hr.is_valid
    assert hr.device_time == "2021-04-25T23:03:31.496-04:00"  # from OBR-7, OBX-14 is empty
    assert result.skipped_obx == 6


def test_pcd01_example_in_text_mode_would_lose_segments_but_newlines_are_tolerated():
    # Read with universal newlines (the classic mistake): segments end in "\n" and still parse.
    with open(HL7_EXAMPLE, encoding="utf-8") as handle:
        text = handle.read()
    assert "\r" not in text
    [hr] = parse_oru_r01(text, "mx500").observations
    assert (hr.code, hr.value) == (mdc.MDC_HEART_RATE, 60.0)


def test_pcd01_example_over_mllp_is_acknowledged_with_its_control_id():
    decoder = Hl7Decoder("mx500")
    observations = decoder.feed(b"noise" + mllp_wrap(HL7_EXAMPLE.read_bytes()))
    assert [o.code for o in observations] == [mdc.MDC_HEART_RATE]
    ack = decoder.acks.popleft()
    assert ack.startswith(b"\x0bMSH|") and ack.endswith(b"\x1c\r")
    assert b"\rMSA|AA|HP0425230332.872USDANRMMD1NBR488\r" in ack


def _expected_from_ascii(capture: bytes) -> list[dict[int, float | None]]:
    """The values written in the capture's ASCII, read with plain regular expressions."""
    frames = []
    for text in re.findall(rb"HR=1;.*?T2=1;[^\r]*\r", capture, flags=re.S):
        hr = re.search(rb"HR=1;(\d*);", text).group(1)
        rr = re.search(rb"RR=1;(\d*);", text).group(1)
        spo2, pulse = re.search(rb"SPO2=1;(\d*);PR=(\d*) ?;", text).groups()
        nibp = re.search(rb"NIBP=4;(\d*);(\d*);(\d*);(\d*);", text).groups()
        values = [hr, rr, spo2, pulse, *nibp]
        codes = [mdc.MDC_HEART_RATE, mdc.MDC_RESP_RATE, mdc.MDC_SPO2, mdc.MDC_PULSE_RATE,
                 mdc.MDC_NIBP_SYS, mdc.MDC_NIBP_DIA, mdc.MDC_NIBP_MEAN, mdc.MDC_NIBP_PULSE_RATE]
        frames.append({code: float(v) if v else None for code, v in zip(codes, values, strict=True)})
    return frames


def test_ansarb_capture_values_match_the_ascii_in_the_capture():
    capture = ANSARB_CAPTURE.read_bytes()
    # The capture starts with the tail of a frame (its numerics but no header): not a frame.
    assert len(_expected_from_ascii(capture)) == 28
    expected = _expected_from_ascii(capture[capture.index(b"\xff"):])
    assert len(expected) == 27
    decoder = AnsarBDecoder("ivy450c")
    observations = []
    for start in range(0, len(capture), 37):  # odd chunk size: frames split anywhere
        observations.extend(decoder.feed(capture[start:start + 37]))
    per_frame = [observations[i:i + 9] for i in range(0, len(observations), 9)]
    assert len(per_frame) == 27 and decoder.frames_ok == 27
    for frame, want in zip(per_frame, expected, strict=True):
        got = {o.code: o.value for o in frame if o.code in want}
        assert got == want
    assert expected[0] == {mdc.MDC_HEART_RATE: 80.0, mdc.MDC_RESP_RATE: 35.0, mdc.MDC_SPO2: 100.0, mdc.MDC_PULSE_RATE: 80.0,
                           mdc.MDC_NIBP_SYS: 121.0, mdc.MDC_NIBP_DIA: 75.0, mdc.MDC_NIBP_MEAN: 92.0, mdc.MDC_NIBP_PULSE_RATE: 80.0}
    assert {o.unit for o in observations if o.code in (mdc.MDC_NIBP_SYS, mdc.MDC_NIBP_DIA)} == {"mm[Hg]"}


def test_ansarb_capture_resyncs_over_waveform_bytes():
    capture = ANSARB_CAPTURE.read_bytes()
    first_start = capture.index(b"\xffANSAR-B ")
    assert first_start == 252  # the capture begins inside a frame's waveform/numerics
    decoder = AnsarBDecoder("ivy450c")
    decoder.feed(capture)
    assert decoder.framer.garbage_bytes == first_start
    # Start in the middle of the second frame's waveform: that frame is lost, the rest is found.
    second = capture.index(b"\xffANSAR-B ", first_start + 1)
    decoder = AnsarBDecoder("ivy450c")
    observations = decoder.feed(capture[second + 100:])
    assert decoder.frames_ok == 25
    assert len(observations) == 25 * 9


def test_ansarb_etco2_line_without_value_is_not_measured_and_unmapped_lines_are_ignored():
    observations = AnsarBDecoder("ivy").feed(ANSARB_CAPTURE.read_bytes())
    etco2 = [o for o in observations if o.label == "etCO2"]
    assert etco2 and all(o.value is None and o.status == "not-measured" for o in etco2)
    assert not [o for o in observations if o.label in ("Temp",)]  # T1/T2: unit not stated
