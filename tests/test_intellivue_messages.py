"""IntelliVue data export messages: layouts by hand, FLOAT-Type, numerics -> observations, fuzzing."""

from __future__ import annotations

import struct
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import intellivue_messages as msg
from devices.intellivue import IntelliVueSession
from devices.intellivue_frame import encode_frame
from devices.observation import (MDC_ETCO2, MDC_HEART_RATE, MDC_NIBP_DIA, MDC_NIBP_MEAN, MDC_NIBP_SYS,
                                 MDC_PARAMETERS, MDC_PULSE_RATE, MDC_RESP_RATE, MDC_SPO2, MDC_TEMP)
from simulators.intellivue import (NumericObject, association_response, mds_create_event, numeric_objects,
                                   numeric_value, poll_result)

CLOCK = datetime(2024, 3, 9, 14, 5, 7, 250000)


# --- FLOAT-Type ----------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "value"), [
    (0x00000048, 72.0),     # exponent 0, mantissa 72
    (0xFF00016E, 36.6),     # exponent -1, mantissa 366
    (0xFE0004D2, 12.34),    # exponent -2, mantissa 1234
    (0x01000005, 50.0),     # exponent +1, mantissa 5
    (0x00FFFFFF, -1.0),     # 24-bit two's complement
    (0xFFFFFFF6, -1.0),     # exponent -1, mantissa -10
    (0x007FFFFD, 8388605.0),  # largest ordinary mantissa
])
def test_float_type_values(raw, value):
    assert msg.decode_float(raw) == value


@pytest.mark.parametrize("raw", [0x007FFFFF, 0x00800000, 0x007FFFFE, 0x00800002, 0xFF7FFFFF, 0x02800000])
def test_float_type_specials_mean_not_measured(raw):
    # NaN, NRes, +INF, -INF (whatever the exponent): never a number.
    assert msg.decode_float(raw) is None


def test_float_type_encoding():
    assert msg.encode_float(36.6) == 0xFF00016E
    assert msg.encode_float(72) == 0x00000048
    assert msg.encode_float(None) == msg.FLOAT_NAN
    assert msg.encode_float(float("nan")) == msg.FLOAT_NAN


@settings(max_examples=2000, deadline=None)
@given(st.integers(min_value=-99999, max_value=99999), st.integers(min_value=0, max_value=2))
def test_float_type_round_trip(units, decimals):
    value = units / 10**decimals
    assert msg.decode_float(msg.encode_float(value)) == value


def test_absolute_time_is_bcd():
    raw = msg.encode_abs_time(CLOCK)
    assert raw == bytes.fromhex("20 24 03 09 14 05 07 25")
    assert msg.decode_abs_time(raw) == "2024-03-09T14:05:07.25"
    assert msg.decode_abs_time(b"\xff" * 8) is None  # clock not set
    assert msg.decode_abs_time(bytes.fromhex("20 24 13 09 14 05 07 25")) is None  # month 13


# --- layouts written out by hand ------------------------------------------------------------
def test_extended_poll_request_by_hand():
    expected = bytes.fromhex(
        "e1 00 00 02"        # SPpdu: data export session, presentation context 2
        " 00 01 00 20"       # ROapdus: ROIV_APDU, 32 bytes follow
        " 00 05 00 07 00 1a"  # invoke id 5, CMD_CONFIRMED_ACTION, 26 bytes
        " 00 21 00 00 00 00"  # managed object: NOM_MOC_VMS_MDS, context 0, handle 0
        " 00 00 00 00"       # scope
        " f1 3b 00 0c"       # NOM_ACT_POLL_MDIB_DATA_EXT, 12 bytes
        " 00 09 00 01 00 06 00 00"  # poll number 9, NOM_PART_OBJ / NOM_MOC_VMO_METRIC_NU, all attributes
        " 00 00 00 00"       # no extra attributes: one answer
    )
    assert msg.poll_request(5, 9, msg.NOM_MOC_VMO_METRIC_NU, extended=True) == expected


def test_mds_create_result_by_hand():
    report = msg.EventReport((msg.NOM_MOC_VMS_MDS, 0, 0), 0x12345678, msg.NOM_NOTI_MDS_CREAT, b"")
    assert msg.event_report_result(1, report) == bytes.fromhex(
        "e1 00 00 02 00 02 00 14"  # RORS_APDU, 20 bytes
        " 00 01 00 01 00 0e"       # invoke id 1, CMD_CONFIRMED_EVENT_REPORT, 14 bytes
        " 00 21 00 00 00 00 12 34 56 78 0d 06 00 00"  # MDS, event time, NOM_NOTI_MDS_CREAT, no info
    )


def test_association_request_layout():
    request = msg.association_request(min_poll_period_s=1.0)
    assert request[0] == msg.SPDU_CONNECT
    assert request[1] == len(request) - 2  # LI: one byte below 255
    assert request[2:16] == bytes.fromhex("05 08 13 01 00 16 01 02 80 00 14 02 00 02")
    assert request[16] == 0xC1 and request[17] == len(request) - 18
    assert request.endswith(bytes(16))  # end-of-contents of the indefinite ASN.1 lengths
    pdu = msg.decode_message(request)
    assert pdu.kind == "associate-request"
    info = pdu.user_info
    assert (info.protocol_version, info.system_type) == (msg.MDDL_VERSION1, msg.SYST_CLIENT)
    profile_id, profile = info.profiles[0]
    assert profile_id == msg.NOM_POLL_PROFILE_SUPPORT
    assert struct.unpack(">I", profile[4:8])[0] == 8000  # min poll period 1 s in 1/8 ms


def test_long_session_length_uses_the_ff_form():
    assert msg._li(254) == b"\xfe"
    assert msg._li(300) == b"\xff\x01\x2c"


def test_session_pdus_decode_by_kind():
    accept = msg.decode_message(association_response())
    assert accept.kind == "associate-accept" and accept.user_info.system_type == msg.SYST_SERVER
    assert msg.decode_message(msg.RELEASE_REQUEST).kind == "release-request"
    assert msg.decode_message(msg.RELEASE_RESPONSE).kind == "release-response"
    assert msg.decode_message(msg.ABORT).kind == "abort"
    # An accept whose presentation part we cannot read is still an accept.
    assert msg.decode_message(b"\x0e\x03\x01\x02\x03") == msg.SessionPdu("associate-accept", None)
    assert msg.decode_message(b"\x0e\x09\x01") is None  # shorter than its LI
    assert msg.decode_message(b"") is None


def test_mds_create_event_decodes():
    op = msg.decode_message(mds_create_event(7, 1234, CLOCK))
    assert (op.ro_type, op.invoke_id, op.command) == (msg.RO_INVOKE, 7, msg.CMD_CONFIRMED_EVENT_REPORT)
    report = msg.decode_event_report(op.body)
    assert report.managed_object == msg.MDS_OBJECT
    assert (report.event_time, report.event_type) == (1234, msg.NOM_NOTI_MDS_CREAT)


# --- numerics -> observations ----------------------------------------------------------------
def _observations(objects, linked_state=0):
    op = msg.decode_message(poll_result(3, 1, msg.NOM_MOC_VMO_METRIC_NU, objects, 800, CLOCK,
                                        linked_state=linked_state, linked_count=1 if linked_state else 0))
    return msg.numeric_observations(msg.decode_poll_reply(op.body), "mon-1")


def test_every_known_parameter_with_code_value_and_unit():
    values = {MDC_HEART_RATE: 72, MDC_SPO2: 97, MDC_PULSE_RATE: 71, MDC_NIBP_SYS: 124, MDC_NIBP_DIA: 78,
              MDC_NIBP_MEAN: 93, MDC_RESP_RATE: 14, MDC_ETCO2: 38, MDC_TEMP: 36.8}
    observations, counts = _observations(numeric_objects(values))
    got = {o.code: (o.value, o.unit, o.label) for o in observations}
    assert got == {code: (value, MDC_PARAMETERS[code][1], MDC_PARAMETERS[code][0]) for code, value in values.items()}
    assert all(o.device_time == "2024-03-09T14:05:07.25" and o.flags == () for o in observations)
    assert counts == {"unmapped_values": 0, "unit_mismatches": 0, "bad_attributes": 0}


def test_physio_ids_are_the_mdc_codes_within_partition_scada():
    for physio_id, code in msg.PHYSIO_TO_MDC.items():
        assert code in MDC_PARAMETERS
        assert code == (msg.NOM_PART_SCADA << 16 | physio_id) or physio_id == msg.NOM_PLETH_PULS_RATE
    # Every vital sign of design.md "Clinical records" is read (other protocols add more codes).
    design_codes = {147842, 150456, 149530, 150021, 150022, 150023, 151562, 151728, 150344}
    assert design_codes <= set(msg.PHYSIO_TO_MDC.values())


def test_pleth_pulse_rate_maps_to_the_design_pulse_rate():
    # The monitor reports the SpO2 pulse as NOM_PLETH_PULS_RATE (0x4822); ritlink calls it 149530.
    nu = msg.NuObsValue(0x4822, 64, msg.NOM_DIM_BEAT_PER_MIN)
    (observation,), _ = _observations([NumericObject(3, (nu,))])
    assert (observation.code, observation.value, observation.unit) == (MDC_PULSE_RATE, 64, "/min")


def test_not_measured_and_state_flags():
    objects = [
        NumericObject(1, (numeric_value(MDC_HEART_RATE, None),)),  # NaN + invalid
        NumericObject(2, (msg.NuObsValue(0x4BB8, 91, msg.NOM_DIM_PERCENT, 0x4000 | 0x0002),)),  # questionable, alarm
        NumericObject(5, (msg.NuObsValue(0x500A, 12, msg.NOM_DIM_RESP_PER_MIN, msg.MS_UNAVAILABLE),)),
        NumericObject(7, (msg.NuObsValue(0x4B48, 36.9, msg.NOM_DIM_DEGC, 0x0400),)),  # demo mode
    ]
    hr, spo2, rr, temp = _observations(objects)[0]
    assert hr.value is None and hr.flags == ("not-measured", "invalid")
    assert spo2.value == 91 and spo2.flags == ("questionable", "alarm")
    assert rr.value is None and rr.flags == ("not-measured", "unavailable")
    assert temp.value == 36.9 and temp.flags == ("demo-data",)


def test_units_are_converted_or_refused_never_guessed():
    objects = [
        NumericObject(6, (msg.NuObsValue(0x50B0, 5.1, msg.NOM_DIM_KILO_PASCAL),)),  # etCO2 in kPa
        NumericObject(7, (msg.NuObsValue(0x4B48, 98.6, msg.NOM_DIM_FAHR),)),
        NumericObject(1, (msg.NuObsValue(0x4182, 72, msg.NOM_DIM_PERCENT),)),  # HR in % is nonsense
        NumericObject(9, (msg.NuObsValue(0x4A10, 90, msg.NOM_DIM_MMHG),)),  # arterial pressure: not ours
    ]
    (etco2, temp), counts = _observations(objects)
    assert (etco2.code, etco2.value, etco2.unit, etco2.flags) == (MDC_ETCO2, 38.3, "mm[Hg]", ("converted-from-kPa",))
    assert (temp.code, temp.value, temp.unit, temp.flags) == (MDC_TEMP, 37.0, "Cel", ("converted-from-degF",))
    assert counts["unit_mismatches"] == 1 and counts["unmapped_values"] == 1


def test_nibp_compound_and_per_object_time_stamp():
    stamp = datetime(2024, 3, 9, 14, 0, 0)
    values = {MDC_NIBP_SYS: 101, MDC_NIBP_DIA: None, MDC_NIBP_MEAN: 77}
    observations, _ = _observations(numeric_objects(values, stamp))
    assert [(o.code, o.value) for o in observations] == [(MDC_NIBP_SYS, 101), (MDC_NIBP_DIA, None), (MDC_NIBP_MEAN, 77)]
    assert {o.device_time for o in observations} == {"2024-03-09T14:00:00.00"}


def test_linked_result_decodes_like_a_plain_one():
    op = msg.decode_message(poll_result(3, 1, msg.NOM_MOC_VMO_METRIC_NU, numeric_objects({MDC_SPO2: 95}), 0, CLOCK,
                                        linked_state=msg.LINKED_FIRST, linked_count=1))
    assert (op.ro_type, op.linked_state, op.linked_count) == (msg.RO_LINKED_RESULT, msg.LINKED_FIRST, 1)
    assert _observations(numeric_objects({MDC_SPO2: 95}), msg.LINKED_FIRST)[0][0].value == 95


def test_bad_attribute_is_skipped_not_fatal():
    reply = msg.PollReply(msg.NOM_ACT_POLL_MDIB_DATA_EXT, 1, 0, 0, None, (1, 6), 0, (
        msg.PolledObject(0, 1, ((msg.NOM_ATTR_NU_VAL_OBS, b"\x41\x82"),)),  # truncated NuObsValue
        msg.PolledObject(0, 2, ((msg.NOM_ATTR_NU_VAL_OBS, struct.pack(">HHHI", 0x4BB8, 0, 0x0220, 96)),)),
    ))
    observations, counts = msg.numeric_observations(reply, "mon-1")
    assert [(o.code, o.value) for o in observations] == [(MDC_SPO2, 96)]
    assert counts["bad_attributes"] == 1


# --- fuzzing ---------------------------------------------------------------------------------
_value = st.one_of(st.none(), st.integers(0, 300), st.integers(0, 4000).map(lambda v: v / 10))
_codes = st.sampled_from(sorted(MDC_PARAMETERS))


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_codes, _value, max_size=9), st.integers(0, 0xFFFF))
def test_fuzz_poll_results_round_trip_exactly(values, poll_number):
    objects = numeric_objects(values, CLOCK)
    sent = [(msg.PHYSIO_TO_MDC[v.physio_id], v.value) for obj in objects for v in obj.values]
    op = msg.decode_message(poll_result(1, poll_number, msg.NOM_MOC_VMO_METRIC_NU, objects, 0, CLOCK))
    reply = msg.decode_poll_reply(op.body)
    observations, counts = msg.numeric_observations(reply, "mon-1")
    assert reply.poll_number == poll_number
    assert [(o.code, o.value) for o in observations] == sent
    assert all(o.unit == MDC_PARAMETERS[o.code][1] for o in observations)
    assert sum(counts.values()) == 0


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_random_messages_never_raise(data):
    message = msg.decode_message(data)
    assert message is None or isinstance(message, msg.SessionPdu | msg.RemoteOperation)
    for decoder in (msg.decode_poll_reply, msg.decode_event_report, msg.decode_poll_request):
        try:
            decoder(data)
        except msg.DecodeError:
            pass


_VALID_MESSAGES = [
    poll_result(3, 1, msg.NOM_MOC_VMO_METRIC_NU, numeric_objects({MDC_HEART_RATE: 80, MDC_NIBP_SYS: 120,
                                                                   MDC_NIBP_DIA: 80, MDC_TEMP: 37.2}), 8, CLOCK),
    mds_create_event(1, 99, CLOCK),
    association_response(),
    msg.RELEASE_REQUEST,
    msg.ABORT,
]


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_VALID_MESSAGES), st.lists(st.tuples(st.integers(0, 500), st.integers(0, 255)), max_size=6),
       st.integers(0, 500))
def test_fuzz_mutated_messages_through_a_session_never_raise(message, flips, cut):
    mutated = bytearray(message)
    for position, byte in flips:
        if mutated:
            mutated[position % len(mutated)] = byte
    session = IntelliVueSession("mon-1")
    session.start(0.0)
    session.state = "associated"  # so poll results are decoded all the way to observations
    observations, reply = session.feed(encode_frame(bytes(mutated[:cut])), 1.0)
    assert all(o.code in MDC_PARAMETERS for o in observations)
    assert isinstance(reply, bytes)
