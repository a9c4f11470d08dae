"""The receipt-timeout rules, driven with a fake clock (no waiting)."""

from __future__ import annotations

from datetime import timedelta

from edge.config import ReceiptTimeouts, SehDestination
from edge.sync.receipt_watch import parse_time, receipt_warnings

T0 = parse_time("2026-11-24T12:00:00.000Z")
SEHS = {"seh-umcu": SehDestination(id="seh-umcu", name="SEH UMC Utrecht", phone="088-755 5555")}
TIMEOUTS = ReceiptTimeouts(delivered_s=30, read_s=120)


def message(seq, state, created=0, published=0):
    at = lambda s: (T0 + timedelta(seconds=s)).isoformat().replace("+00:00", "Z")  # noqa: E731
    return {"seh_id": "seh-umcu", "seq": seq, "state": state, "created_at": at(created),
            "published_at": at(published) if published is not None else None}


def warnings_at(messages, seconds, phoned=None):
    return receipt_warnings(messages, TIMEOUTS, T0 + timedelta(seconds=seconds), SEHS, phoned)


def test_no_warning_while_in_time():
    assert warnings_at([message(1, "sent")], 29) == []


def test_missing_delivered_receipt_warns_with_phone_number():
    (warning,) = warnings_at([message(1, "sent")], 30)
    assert warning["kind"] == "delivered"
    assert warning["text"] == "Geen ontvangstbevestiging van SEH UMC Utrecht — bel 088-755 5555"


def test_queued_messages_do_not_count_as_undelivered_but_unread_does():
    queued = [message(1, "saved", published=None)]
    assert warnings_at(queued, 100) == []
    (warning,) = warnings_at(queued, 120)
    assert warning["kind"] == "read" and "leesbevestiging" in warning["text"]


def test_delivered_but_not_read_warns_after_read_timeout():
    assert warnings_at([message(1, "delivered")], 119) == []
    assert warnings_at([message(1, "delivered")], 121)[0]["kind"] == "read"
    assert warnings_at([message(1, "read"), message(2, "delivered", 60, 60)], 500) == []


def test_phoning_after_the_warning_clears_it_until_a_new_one():
    overdue = [message(1, "sent")]
    assert warnings_at(overdue, 40, {"seh-umcu": T0 + timedelta(seconds=35)}) == []
    assert warnings_at(overdue, 40, {"seh-umcu": T0 + timedelta(seconds=10)}) != []  # phoned before it began
    later = [message(1, "read"), message(2, "sent", 100, 100)]
    assert warnings_at(later, 140, {"seh-umcu": T0 + timedelta(seconds=35)})[0]["kind"] == "delivered"
