"""The short-message contract (edge/wire/messages.py), pure: topics, text rules, the parser
against its topic, ordering with gaps, the unread warning."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from edge.wire import messages as wire
from edge.wire.contract import new_id

TO_SEH = wire.to_seh_topic("seh-umcu", "ambu-01")
TO_VEHICLE = wire.to_vehicle_topic("ambu-01", "seh-umcu")


def body(direction="to_seh", **changes) -> dict:
    return {"schema": wire.SCHEMA, "type": "message", "msg_id": new_id(), "rit_id": "r1", "seh_id": "seh-umcu",
            "vehicle_id": "ambu-01", "direction": direction, "seq": 1, "text": "is de CT vrij?", "author": "J",
            "sent_at": "2026-12-02T10:00:00.000Z", **changes}


def test_topics_name_their_ids_and_direction():
    assert TO_SEH == "ritlink/v1/seh/seh-umcu/from/ambu-01/message"
    assert TO_VEHICLE == "ritlink/v1/vehicle/ambu-01/message/seh-umcu"
    assert wire.topic_ids(TO_SEH) == ("seh-umcu", "ambu-01", "to_seh")
    assert wire.topic_ids(TO_VEHICLE) == ("seh-umcu", "ambu-01", "to_vehicle")
    assert wire.topic_ids("ritlink/v1/seh/seh-umcu/from/ambu-01/rit/x") is None


@pytest.mark.parametrize("text, reason", [("", "leeg"), ("   \n ", "leeg"), ("x" * 281, "langer"),
                                          ("a\u202eb", "tekens"), (None, "geen tekst")])
def test_text_rules(text, reason):
    with pytest.raises(wire.MessageError, match=reason):
        wire.clean_text(text)


def test_text_is_trimmed_to_one_line():
    assert wire.clean_text("  patiënt\n  verslechtert ") == "patiënt verslechtert"
    assert wire.clean_text("x" * 280) == "x" * 280


def test_a_message_and_a_receipt_parse_against_their_topic():
    good = body()
    assert wire.parse(json.dumps(good).encode(), TO_SEH).data == {k: good[k] for k in wire.COLUMNS}
    receipt = wire.receipt_payload(good, "read", "2026-12-02T10:00:01.000Z")
    parsed = wire.parse(receipt, TO_SEH)
    assert parsed.kind == "receipt" and parsed.data["receipt"] == "read"


@pytest.mark.parametrize("changes, reason", [
    ({"vehicle_id": "ambu-02"}, "topic"), ({"seh_id": "seh-x"}, "topic"), ({"direction": "to_vehicle"}, "topic"),
    ({"seq": 0}, "seq"), ({"seq": True}, "seq"), ({"seq": 1.0}, "seq"), ({"schema": "x"}, "schema"),
    ({"text": " padded "}, "not as sent"), ({"author": ""}, "author"), ({"sent_at": "gisteren"}, "time"),
    ({"msg_id": "x" * 65}, "msg_id"), ({"type": "bericht"}, "type")])
def test_refused_messages(changes, reason):
    with pytest.raises(wire.MessageError, match=reason):
        wire.parse(json.dumps(body(**changes)).encode(), TO_SEH)


@pytest.mark.parametrize("payload, code", [(b"[" * 50_000, "too_large"), (b'{"seq": NaN}', "malformed"),
                                           (b"[" * 40 + b"]" * 40, "too_deep"), (b"\xff", "malformed")])
def test_hostile_bytes(payload, code):
    with pytest.raises(wire.MessageError, match=code):
        wire.parse(payload, TO_SEH)


def test_a_later_seq_waits_until_the_gap_fills():
    rows = [{"seq": s} for s in (1, 3, 4)]
    shown, held = wire.in_order(rows)
    assert [r["seq"] for r in shown] == [1] and [r["seq"] for r in held] == [3, 4]
    shown, held = wire.in_order([*rows, {"seq": 2}])
    assert [r["seq"] for r in shown] == [1, 2, 3, 4] and held == []


def test_replays_and_taken_seqs():
    data = {k: body()[k] for k in wire.COLUMNS}
    assert wire.incoming_problem(dict(data), data) is None
    assert "other content" in wire.incoming_problem({**data, "text": "anders"}, data)
    assert "seq" in wire.incoming_problem(None, data)


def test_unread_warning_after_the_configured_time():
    now = datetime(2026, 12, 2, 10, 5, tzinfo=UTC)
    row = {**body(), "received_at": None, "read_at": None, "rejected_reason": None,
           "sent_at": (now - timedelta(seconds=121)).isoformat().replace("+00:00", "Z")}
    assert wire.unread_too_long([row], 120, now) == [row]
    assert wire.unread_too_long([{**row, "read_at": "x"}], 120, now) == []
    assert wire.unread_too_long([{**row, "received_at": "x"}], 120, now) == []  # not ours
    assert wire.unread_too_long([row], 300, now) == []


def test_shown_in_seq_order_within_a_stream_even_when_clocks_disagree():
    def row(seq, at, direction="to_seh", received="x"):
        return {"seq": seq, "sent_at": at, "seh_id": "s", "direction": direction, "received_at": received}
    rows = [row(1, "10:00"), row(3, "10:01"), row(2, "10:05"), row(1, "10:02", "to_vehicle", None)]
    assert [(r["direction"], r["seq"]) for r in wire.shown_messages(rows)] == [
        ("to_seh", 1), ("to_vehicle", 1), ("to_seh", 2), ("to_seh", 3)]
