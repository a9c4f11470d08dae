"""Which receipts are overdue: the amber banner that tells the crew to phone the SEH.

Pure: fed with the outbox rows of one rit and the clock, so it is tested without waiting.
Rules (design.md "Timeouts and what the crew sees"): a message must be *delivered* within
``delivered_s`` of being sent, and someone at the SEH must have *read* the rit within
``read_s`` of the vooraankondiging being saved. A warning stays until the receipt comes or
the crew records that they phoned that SEH after the warning began.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def receipt_warnings(
    messages: Iterable[dict[str, Any]],
    timeouts: Any,
    now: datetime,
    sehs: dict[str, Any],
    phoned_at: dict[str, datetime] | None = None,
) -> list[dict[str, Any]]:
    """One warning per SEH at most (the most serious first: not delivered, then not read).

    ``messages``: outbox rows (seh_id, seq, state, created_at, published_at);
    ``timeouts``: has ``delivered_s`` and ``read_s``; ``sehs``: seh_id -> object with
    ``name`` and ``phone``; ``phoned_at``: seh_id -> when the crew last phoned it.
    """
    by_seh: dict[str, list[dict[str, Any]]] = {}
    for message in messages:
        by_seh.setdefault(message["seh_id"], []).append(message)
    warnings = []
    for seh_id, stream in by_seh.items():
        stream.sort(key=lambda m: m["seq"])
        warning = _overdue(stream, timeouts, now)
        if warning is None:
            continue
        kind, since = warning
        phoned = (phoned_at or {}).get(seh_id)
        if phoned is not None and phoned >= since:
            continue
        seh = sehs.get(seh_id)
        name = seh.name if seh else seh_id
        phone = seh.phone if seh else "onbekend"
        what = "ontvangstbevestiging" if kind == "delivered" else "leesbevestiging"
        warnings.append({
            "seh_id": seh_id,
            "kind": kind,
            "since": since.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "phone": phone,
            "text": f"Geen {what} van {name} — bel {phone}",
        })
    return warnings


def _overdue(stream: list[dict[str, Any]], timeouts: Any, now: datetime) -> tuple[str, datetime] | None:
    for message in stream:
        if message["state"] in ("saved", "sent") and message.get("published_at"):
            due = parse_time(message["published_at"]) + timedelta(seconds=timeouts.delivered_s)
            if now >= due:
                return "delivered", due
    first = stream[0]
    if not any(m["state"] == "read" for m in stream):
        due = parse_time(first["created_at"]) + timedelta(seconds=timeouts.read_s)
        if now >= due:
            return "read", due
    return None
