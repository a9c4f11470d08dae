"""The bytes ritlink sends to an IntelliVue, pinned to the values published for the Philips
"Data Export Interface Programming Guide" (IntelliVue X2/MP/MX, 4535 642 59271).

Where the facts come from: the guide itself is stored publicly only as PDF text of which
our search tools show the table of contents (sections "Association Request", "Poll Data
Request", "Association Release Request", "MDS Create Event Result"), not the message pages.
The byte values below are the guide's example messages as independent public
implementations quote them, several of them naming the guide's pages ("PIPG p.298-305"):
a C++ client (aarq, poll, extended poll, MDS create result, release and abort messages), a
Java port of the same constants, a Python MX800 capture tool, a Go and a Qt client (session
data, presentation header, 16-byte presentation trailer). All of them agree to the byte on
every fixed part. Only the facts are taken; each message is written out here field by field
from the guide's structure names, and our own encoder must produce it.
"""

from __future__ import annotations

from devices import intellivue_messages as msg

# --- Association Request (AssocReqMessage) ------------------------------------------------------
SESSION_HEADER_TYPE = 0x0D  # AssocReqSessionHeader: CN_SPDU_SI
SESSION_DATA = bytes.fromhex("05 08 13 01 00 16 01 02 80 00 14 02 00 02")  # AssocReqSessionData
PRESENTATION_HEADER = bytes.fromhex(  # AssocReqPresentationHeader after its 0xC1 <LI>, up to the user data's tag
    "31 80 a0 80 80 01 01 00 00 a2 80 a0 03 00 00 01 a4 80 30 80 02 01 01 06 04 52 01 00 01"
    " 30 80 06 02 51 01 00 00 00 00 30 80 02 01 02 06 0c 2a 86 48 ce 14 02 01 00 00 00 01 01"
    " 30 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 02 01 00 00 00 00 00 00"
    " 61 80 30 80 02 01 01 a0 80 60 80 a1 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 03 01 00 00"
    " be 80 28 80 06 0c 2a 86 48 ce 14 02 01 00 00 00 01 01 02 01 02 81")
PRESENTATION_TRAILER = bytes(16)  # AssocReqPresentationTrailer
# AssocReqUserData as published (the MX800 tool's copy of the guide's example): ASN.1 length,
# then MDSEUserInfoStd with the poll profile.
USER_DATA = bytes.fromhex(
    "48"                    # ASN.1 length: 72 bytes of MDSEUserInfoStd
    " 80 00 00 00"          # protocol_version MDDL_VERSION1
    " 40 00 00 00"          # nomenclature_version NOMEN_VERSION
    " 00 00 00 00"          # functional_units
    " 80 00 00 00"          # system_type SYST_CLIENT
    " 20 00 00 00"          # startup_mode COLD_START
    " 00 00 00 00"          # option_list: empty
    " 00 01 00 2c"          # supported_aprofiles: 1 attribute, 44 bytes
    " 00 01 00 28"          # NOM_POLL_PROFILE_SUPPORT, 40 bytes
    " 80 00 00 00"          # poll_profile_revision POLL_PROFILE_REV_0
    " 00 00 09 c4"          # min_poll_period 2500 (RelativeTime, 1/8 ms: 0.3125 s)
    " 00 00 03 e8"          # max_mtu_rx 1000
    " 00 00 03 e8"          # max_mtu_tx 1000
    " ff ff ff ff"          # max_bw_tx
    " 60 00 00 00"          # options P_OPT_DYN_CREATE_OBJECTS | P_OPT_DYN_DELETE_OBJECTS
    " 00 01 00 0c"          # optional_packages: 1 attribute, 12 bytes
    " f0 01 00 08"          # NOM_ATTR_POLL_PROFILE_EXT, 8 bytes
    " 80 00 00 00"          # options POLL_EXT_PERIOD_NU_1SEC
    " 00 00 00 00")         # ext_attr: empty
GUIDE_MIN_POLL_PERIOD_S = 2500 / 8000


def test_association_request_is_the_guides_message_to_the_byte():
    presentation = PRESENTATION_HEADER + USER_DATA + PRESENTATION_TRAILER
    session = SESSION_DATA + b"\xc1" + bytes([len(presentation)]) + presentation
    expected = bytes([SESSION_HEADER_TYPE, len(session)]) + session
    assert expected[:2] == b"\x0d\xec" and expected[16:18] == b"\xc1\xdc"  # the published lengths
    assert len(expected) == 0xEC + 2
    assert msg.association_request(GUIDE_MIN_POLL_PERIOD_S) == expected


def test_association_request_at_our_poll_period_differs_only_in_min_poll_period():
    ours = msg.association_request(1.0)
    guide = msg.association_request(GUIDE_MIN_POLL_PERIOD_S)
    differing = [i for i, (a, b) in enumerate(zip(ours, guide, strict=True)) if a != b]
    at = 2 + len(SESSION_DATA) + 2 + len(PRESENTATION_HEADER) + 1 + 4 * 5 + 4 + 4 + 4 + 4
    assert all(at <= i < at + 4 for i in differing), differing  # min_poll_period, nothing else
    assert ours[at:at + 4] == (8000).to_bytes(4, "big")


# --- Association Release Request / Result and Abort ----------------------------------------------
RELEASE_REQUEST = bytes.fromhex(
    "09 18"                 # RlRqSessionHeader: FN_SPDU_SI, 24 bytes
    " c1 16"                # RlRqPresentationHeader: 0xC1, 22 bytes
    " 61 80 30 80 02 01 01 a0 80 62 80 80 01 00"
    " 00 00 00 00 00 00 00 00")  # RlRqPresentationTrailer
RELEASE_RESULT = bytes.fromhex("0a 18 c1 16 61 80 30 80 02 01 01 a0 80 63 80 80 01 00 00 00 00 00 00 00 00 00")
ABORT = bytes.fromhex(
    "19 2e 11 01 03 c1 29 a0 80 a0 80 30 80 02 01 01 06 02 51 01 00 00 00 00 61 80 30 80 02 01 01"
    " a0 80 64 80 80 01 01 00 00 00 00 00 00 00 00 00 00")


def test_release_and_abort_are_the_guides_bytes():
    assert msg.RELEASE_REQUEST == RELEASE_REQUEST
    assert msg.RELEASE_RESPONSE == RELEASE_RESULT
    assert msg.ABORT == ABORT
    assert [msg.decode_message(m).kind for m in (RELEASE_REQUEST, RELEASE_RESULT, ABORT)] == [
        "release-request", "release-response", "abort"]


# --- Poll Data Request (NOM_ACT_POLL_MDIB_DATA) and the extended one ------------------------------
def _poll(invoke_id: int, action: str, args: str) -> bytes:
    args_b = bytes.fromhex(args)
    body = bytes.fromhex("00 21 00 00 00 00"   # ActionArgument.managed_object {NOM_MOC_VMS_MDS, 0, 0}
                         " 00 00 00 00"        # scope
                         + action) + len(args_b).to_bytes(2, "big") + args_b
    roiv = invoke_id.to_bytes(2, "big") + bytes.fromhex("00 07") + len(body).to_bytes(2, "big") + body  # CMD_CONFIRMED_ACTION
    return bytes.fromhex("e1 00 00 02 00 01") + len(roiv).to_bytes(2, "big") + roiv  # SPpdu, ROapdus ROIV_APDU


def test_single_poll_requests_are_the_guides_bytes():
    numerics = bytes.fromhex("e1 00 00 02 00 01 00 1c 00 00 00 07 00 16 00 21 00 00 00 00 00 00 00 00"
                             " 0c 16 00 08 00 01 00 01 00 06 00 00")  # published poll_request_msg
    mds = bytes.fromhex("e1 00 00 02 00 01 00 1c 00 00 00 07 00 16 00 21 00 00 00 00 00 00 00 00"
                        " 0c 16 00 08 00 01 00 01 00 21 00 00")  # published poll of the MDS object
    assert _poll(0, "0c 16", "00 01 00 01 00 06 00 00") == numerics  # the field layout says the same
    assert msg.NOM_ACT_POLL_MDIB_DATA == 0x0C16
    assert msg.poll_request(0, 1, msg.NOM_MOC_VMO_METRIC_NU, extended=False) == numerics
    assert msg.poll_request(0, 1, msg.NOM_MOC_VMS_MDS, extended=False) == mds


def test_extended_poll_request_is_the_guides_bytes():
    published = bytes.fromhex("e1 00 00 02 00 01 00 20 00 01 00 07 00 1a 00 21 00 00 00 00 00 00 00 00"
                              " f1 3b 00 0c 00 01 00 01 00 06 00 00 00 00 00 00")  # ext_poll_request_msg
    assert _poll(1, "f1 3b", "00 01 00 01 00 06 00 00 00 00 00 00") == published
    assert msg.poll_request(1, 1, msg.NOM_MOC_VMO_METRIC_NU, extended=True) == published


# --- MDS Create Event Report -> Result ------------------------------------------------------------
def test_mds_create_event_result_is_the_guides_bytes():
    published = bytes.fromhex("e1 00 00 02 00 02 00 14 00 01 00 01 00 0e 00 21 00 00 00 00"
                              " 00 0a bd 00 0d 06 00 00")  # mds_create_resp_msg: RORS_APDU, event time 0x000ABD00
    report = msg.EventReport((msg.NOM_MOC_VMS_MDS, 0, 0), 0x000ABD00, msg.NOM_NOTI_MDS_CREAT, b"")
    assert msg.NOM_NOTI_MDS_CREAT == 0x0D06
    assert msg.event_report_result(1, report) == published
