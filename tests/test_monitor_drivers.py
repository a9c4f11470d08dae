"""Each driver's decoding rules, with hand-made frames (pure functions, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devices.ansarb import AnsarBDecoder, AnsarBFramer, format_ansarb_frame, parse_numeric_line
from devices.hl7_pcd01 import (
    Hl7Decoder,
    Hl7Value,
    build_oru_r01,
    hl7_time_to_iso,
    parse_ack,
    parse_bare_messages,
    parse_oru_r01,
)
from devices.masimo import MasimoDecoder, MasimoLineError, format_masimo_line, parse_masimo_line
from devices.mllp import MllpFramer, mllp_wrap
from devices.nonin import NoninDecoder, format_nonin_line, parse_nonin_line
from devices import observation as mdc
from devices.observation import FLAG_ARTEFACT, FLAG_INTERFERENCE, FLAG_LOW_PERFUSION, FLAG_NOT_MEASURED, FLAG_PROBE_OFF, Observation

MASIMO_LINE = (b"02/22/16 22:47:45 SN=0000056661 SPO2=098% BPM=097 PI=03.60% SPCO=--.-% SPMET=--.-% "
               b"DESAT=-- PIDELTA=+-- ALARM=0000 EXC=000800")


# --- observation model ---------------------------------------------------------------

def test_observation_status_flags_and_clinical_time():
    missing = Observation.of("m", mdc.MDC_SPO2, None, flags=(FLAG_PROBE_OFF,))
    assert missing.status == "not-measured" and FLAG_NOT_MEASURED in missing.flags and not missing.is_valid
    artefact = Observation.of("m", mdc.MDC_HEART_RATE, 112.0, flags=(FLAG_ARTEFACT,))
    assert artefact.status == "artefact" and not artefact.is_valid
    assert Observation.of("m", mdc.MDC_HEART_RATE, float("nan")).value is None
    zoned = Observation.of("m", mdc.MDC_HEART_RATE, 60.0, device_time="2021-04-25T23:03:31.496-04:00")
    assert zoned.time == zoned.device_time
    local = Observation.of("m", mdc.MDC_HEART_RATE, 60.0, device_time="2016-02-22T22:47:45")
    assert local.time == local.received_at  # a device clock without zone is not the clinical time
    data = zoned.to_dict()
    assert {"code", "label", "value", "unit", "time", "flags", "status", "device_alarm"} <= set(data)
    assert Observation.of("m", mdc.MDC_ETCO2, 4.8, unit="kPa").unit == "kPa"


# --- Nonin ---------------------------------------------------------------------------

def test_nonin_status_words_flag_both_values():
    spo2, pulse = parse_nonin_line(b"SPO2=--- HR=--- SNSD", "ox")
    assert spo2.value is None and FLAG_PROBE_OFF in spo2.flags and FLAG_PROBE_OFF in pulse.flags
    spo2, pulse = parse_nonin_line(b"SPO2=091 HR=131 ARTF LPRF", "ox")
    assert spo2.status == "artefact" and FLAG_LOW_PERFUSION in pulse.flags
    assert parse_nonin_line(format_nonin_line(97, 72, (FLAG_ARTEFACT,)), "ox")[0].flags == (FLAG_ARTEFACT,)


@pytest.mark.parametrize("line", [b"ARTF SPO2=097 HR=072", b"SPO2=097 ARTF HR=072", b"SPO2=097 HR=072 XYZ"])
def test_nonin_rejects_status_words_in_the_wrong_place(line):
    decoder = NoninDecoder("ox")
    assert decoder.feed(line + b"\r\n") == [] and decoder.lines_bad == 1


# --- Masimo --------------------------------------------------------------------------

def test_masimo_line_values_units_and_device_clock():
    spo2, pulse, pi = parse_masimo_line(MASIMO_LINE, "rad7")
    assert (spo2.code, spo2.value, spo2.unit) == (mdc.MDC_SPO2, 98.0, "%")
    assert (pulse.code, pulse.value, pulse.unit) == (mdc.MDC_PULSE_RATE, 97.0, "/min")
    assert (pi.code, pi.value, pi.unit) == (mdc.MDC_PERFUSION_INDEX, 3.6, "%")
    assert spo2.flags == () and spo2.device_alarm == "none"  # EXC 0x800 is "Masimo SET": normal
    assert spo2.device_time == "2016-02-22T22:47:45" and spo2.time == spo2.received_at


def test_masimo_exceptions_become_flags_and_alarm_bits_device_alarm():
    line = b"09/15/10 15:10:29 SPO2=---% BPM=--- PI=--.--% ALARM=0000 EXC=000021"
    spo2, pulse, pi = parse_masimo_line(line, "rad")
    assert spo2.value is None and FLAG_PROBE_OFF in spo2.flags and pi.status == "not-measured"
    line = b"09/15/10 15:10:29 SPO2=086% BPM=139 PI=00.31% ALARM=0012 EXC=000414"
    spo2, pulse, pi = parse_masimo_line(line, "rad")
    assert set(spo2.flags) == {FLAG_ARTEFACT, FLAG_LOW_PERFUSION, FLAG_INTERFERENCE}
    assert spo2.status == "artefact" and spo2.device_alarm == "low" and pulse.device_alarm == "none"


@pytest.mark.parametrize("line", [
    b"SPO2=098% BPM=097 SPO2=097%",  # repeated key
    b"SPO2=101% BPM=097",  # out of range
    b"SPO2=9x% BPM=097",
    b"BPM=097 PI=01.00%",  # no SpO2
    b"13/45/16 22:47:45 SPO2=098% BPM=097",  # bad date
    b"SPO2=098% BPM=097 EXC=zz",
    b"SPO2=098% BPM=097 garbage",
])
def test_masimo_rejects_malformed_lines(line):
    with pytest.raises(MasimoLineError):
        parse_masimo_line(line, "rad")


def test_masimo_round_trip_of_the_simulator_format():
    line = format_masimo_line(datetime(2026, 1, 2, 3, 4, 5), 91, 123, 0.42, (FLAG_LOW_PERFUSION,), alarm=0)
    decoder = MasimoDecoder("rad")
    spo2, pulse, pi = decoder.feed(b"\x00\xff junk\r\n" + line)
    assert (spo2.value, pulse.value, pi.value) == (91.0, 123.0, 0.42)
    assert all(o.flags == (FLAG_LOW_PERFUSION,) for o in (spo2, pulse, pi))
    assert decoder.lines_bad == 1


# --- MLLP ----------------------------------------------------------------------------

def test_mllp_framer_handles_garbage_truncation_and_lf_trailer():
    framer = MllpFramer()
    stream = b"junk\x0bcut-off\x0bfirst\x1c\rmore junk\x0bsecond\x1c\n\x0bthird\x1c\x0bfourth\x1c"
    frames = [f for i in range(len(stream)) for f in framer.feed(stream[i:i + 1])]
    assert frames == [b"first", b"second", b"third"]
    assert framer.feed(b"\r") == [b"fourth"]
    assert framer.truncated_frames == 1 and framer.garbage_bytes == len(b"junk") + len(b"cut-off") + len(b"more junk")


def test_mllp_framer_drops_overlong_frames_and_recovers():
    framer = MllpFramer(max_frame=10)
    assert framer.feed(b"\x0b" + b"x" * 50 + b"\x1c\r" + mllp_wrap(b"ok")) == [b"ok"]
    assert framer.overlong_frames == 1


# --- HL7 PCD-01 ----------------------------------------------------------------------

def _message(*obx: str) -> str:
    return "\r".join(["MSH|^~\\&|GW|ICU|RITLINK|AMB|20260101120000+0100||ORU^R01^ORU_R01|C42|P|2.6",
                      "OBR|1||x|182777000^monitoring of patient^SCT|||20260101115959+0100", *obx]) + "\r"


def test_hl7_maps_by_numeric_code_not_by_text():
    text = _message("OBX|1|NM|150456^MDC_ECG_HEART_RATE^MDC|1.1.1.1|97|262688^MDC_DIM_PERCENT^MDC|||||F",
                    "OBX|2|NM|8867-4^Heart rate^LN|1.1.1.2|72|/min^/min^UCUM|||||F",
                    "OBX|3|NM|8867-4^Heart rate^LN^147842^MDC_ECG_HEART_RATE^MDC|1.1.1.3|71|/min^^UCUM|||||F")
    spo2, hr = parse_oru_r01(text, "gw").observations
    assert (spo2.code, spo2.label, spo2.value) == (mdc.MDC_SPO2, "SpO2", 97.0)  # the text said heart rate
    assert (hr.code, hr.value, hr.unit) == (mdc.MDC_HEART_RATE, 71.0, "/min")  # MDC as alternate id


def test_hl7_units_statuses_and_times():
    text = _message(
        "OBX|1|NM|151728^MDC_AWAY_CO2_ET^MDC|1.1.1.1|4.9|265987^MDC_DIM_KILO_PASCAL^MDC||H~questionable|||F|||"
        "20260101115958+0100",
        "OBX|2|NM|150344^mdc.MDC_TEMP^MDC|1.1.1.2|36.9|268192^MDC_DIM_DEGC^MDC|||||F",
        "OBX|3|NM|151562^mdc.MDC_RESP_RATE^MDC|1.1.1.3||264928^MDC_DIM_RESP_PER_MIN^MDC|||||X",
        "OBX|4|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.4|80|262688^MDC_DIM_PERCENT^MDC|||||F",  # wrong unit
        "OBX|5|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.5|80||||||F",  # no unit
        "OBX|6|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.6|95|262688^^MDC||not-available|||F",
        "OBX|7|ST|147842^MDC_ECG_HEART_RATE^MDC|1.1.1.7|eighty|264864^^MDC|||||F",
    )
    result = parse_oru_r01(text.replace("\r", "\r\n"), "gw")
    etco2, temp, rr, spo2 = result.observations
    assert (etco2.value, etco2.unit, etco2.status, etco2.device_alarm) == (4.9, "kPa", "artefact", "high")
    assert etco2.device_time == "2026-01-01T11:59:58.000+01:00"
    assert (temp.value, temp.unit, temp.device_time) == (36.9, "Cel", "2026-01-01T11:59:59.000+01:00")
    assert rr.status == "not-measured" and spo2.status == "not-measured"
    assert result.skipped_obx == 3


def test_hl7_build_parse_round_trip_and_acks():
    when = datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC)
    message = build_oru_r01([Hl7Value(mdc.MDC_HEART_RATE, 88.0, "/min"), Hl7Value(mdc.MDC_RESP_RATE, 18.0, "/min"),
                             Hl7Value(mdc.MDC_TEMP, 37.2, "Cel", (FLAG_ARTEFACT,)), Hl7Value(mdc.MDC_SPO2, None, "%")],
                            "SIM1", when)
    decoder = Hl7Decoder("gw")
    hr, rr, temp, spo2 = decoder.feed(mllp_wrap(message))
    assert (hr.value, rr.value, temp.value, temp.status, spo2.status) == (88.0, 18.0, 37.2, "artefact", "not-measured")
    assert hr.device_time == "2026-05-01T10:00:00.000+00:00"
    assert parse_ack(decoder.acks.popleft()[1:-2]) == ("AA", "SIM1")
    decoder.feed(mllp_wrap(b"MSH|^~\\&|A|B|C|D|20260101||ADT^A01|X9|P|2.6\r"))
    assert parse_ack(decoder.acks.popleft()[1:-2]) == ("AR", "X9")
    decoder.feed(mllp_wrap(b"this is not hl7"))
    assert parse_ack(decoder.acks.popleft()[1:-2])[0] == "AR"
    assert decoder.messages_ok == 1 and decoder.messages_bad == 2


def test_hl7_bare_messages_and_time_parsing():
    text = _message("OBX|1|NM|147842^HR^MDC|1|61|264864^^MDC|||||F") * 2
    observations, counters = parse_bare_messages(text.encode(), "gw")
    assert [o.value for o in observations] == [61.0, 61.0] and counters["messages_ok"] == 2
    assert hl7_time_to_iso("2026") == "2026-01-01T00:00:00.000"
    assert hl7_time_to_iso("20260230") is None and hl7_time_to_iso("yesterday") is None


# --- ANSAR-B -------------------------------------------------------------------------

def test_ansarb_numeric_lines():
    hr = parse_numeric_line("HR=1;80;ECG-II-DIAG;", "ivy")
    assert [(o.code, o.value) for o in hr] == [(mdc.MDC_HEART_RATE, 80.0)]
    spo2, pulse = parse_numeric_line("SPO2=1;;PR= ;", "ivy")
    assert spo2.status == pulse.status == "not-measured"
    assert parse_numeric_line("P2=3;;;;NO TRANSDUCER;", "ivy") == []
    assert len(parse_numeric_line("NIBP=4;121;75;92;80;;", "ivy")) == 4


def test_ansarb_rejects_false_starts_and_binary_in_the_numerics():
    frame = format_ansarb_frame(bytes(400), {"HR": (72,)})
    fake = b"\xffANSAR-B " + bytes(100)  # a frame cut off by a replug: the real one hides inside
    framer = AnsarBFramer()
    assert len(framer.feed(fake + frame + b"\xff\x00\x01" + frame)) == 2
    assert framer.false_starts == 2
    broken = bytearray(frame)
    broken[420] = 0x80  # binary where ASCII belongs
    decoder = AnsarBDecoder("ivy")
    assert decoder.feed(bytes(broken)) == [] and decoder.frames_ok == 0
    with pytest.raises(ValueError):
        format_ansarb_frame(b"\xfe" * 400, {})
