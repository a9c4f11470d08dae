"""SEH-status: an SEH's availability (open / druk / SEH-stop, free counts) for every vehicle.

Topic ``ritlink/v1/seh/{seh_id}/status``, retained, QoS 1, written only by that SEH. The
payload is hostile until parsed here (safe_json limits, no unknown fields, no NaN, counts
within sane maxima, the seh_id the same as the topic's). A status older than the stale age is
"onbekend", never "open": an SEH that stopped publishing may be full.

Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edge.wire import safe_json
from edge.wire.contract import TOPIC_ROOT
from edge.wire.safe_text import text_problem

SCHEMA = "ritlink.seh-status/1"
STATES = ("open", "druk", "seh-stop")
UNKNOWN = "onbekend"
STATE_WORDS = {"open": "open", "druk": "druk", "seh-stop": "SEH-stop", UNKNOWN: "onbekend"}
# Sane maxima per count: a larger number is a typing or feed error, not a hospital.
COUNT_MAX = {"beds": 500, "traumakamer": 20, "ct": 20, "cathlab": 20}
COUNT_WORDS = {"beds": "bedden", "traumakamer": "traumakamer", "ct": "CT", "cathlab": "cathlab"}
FIELDS = {"schema", "seh_id", "state", "until", "reason", "counts", "updated_at"}
MAX_BYTES = 4096
MAX_DEPTH = 3
MAX_REASON = 200
DEFAULT_STALE_S = 15 * 60.0


class StatusError(ValueError):
    """A refused status; ``reason`` is "<code>: <detail>", safe to log (no content)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def status_topic(seh_id: str) -> str:
    return f"{TOPIC_ROOT}/seh/{seh_id}/status"


def status_topic_filter() -> str:
    return f"{TOPIC_ROOT}/seh/+/status"


def seh_of_topic(topic: str) -> str | None:
    parts = topic.split("/")
    if len(parts) == 5 and parts[:3] == ["ritlink", "v1", "seh"] and parts[4] == "status" and parts[3]:
        return parts[3]
    return None


def parse_time(text: Any, name: str) -> datetime:
    """An ISO-8601 time with a zone, as UTC; anything else is refused naming ``name``."""
    if not isinstance(text, str) or not 10 <= len(text) <= 40:
        raise StatusError(f"malformed: {name} is not a time")
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise StatusError(f"malformed: {name} is not a time") from None
    if value.tzinfo is None:
        raise StatusError(f"malformed: {name} has no time zone")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 lies before the first UTC moment
        raise StatusError(f"out_of_range: {name}") from None


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class SehStatus:
    seh_id: str
    state: str
    updated_at: str
    reason: str = ""
    until: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"schema": SCHEMA, "seh_id": self.seh_id, "state": self.state,
                               "updated_at": self.updated_at}
        if self.reason:
            out["reason"] = self.reason
        if self.until:
            out["until"] = self.until
        if self.counts:
            out["counts"] = dict(self.counts)
        return out


def check(body: dict[str, Any], seh_id: str | None = None) -> SehStatus:
    """The fields of a status as a SehStatus, or StatusError naming the field (no content).
    Used for the wire payload and for what an SEH user or a source gives (``schema`` optional)."""
    unknown = set(body) - FIELDS
    if unknown:
        raise StatusError(f"malformed: unknown field {sorted(unknown)[0][:40]!r}")
    if body.get("schema", SCHEMA) != SCHEMA:
        raise StatusError("unknown schema")
    sid = body.get("seh_id")
    if not isinstance(sid, str) or not 1 <= len(sid) <= 64:
        raise StatusError("malformed: seh_id")
    if seh_id is not None and sid != seh_id:
        raise StatusError("topic: seh_id does not match its topic")
    state = body.get("state")
    if state not in STATES:
        raise StatusError("malformed: state must be open, druk or seh-stop")
    reason = body.get("reason", "")
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise StatusError(f"malformed: reason (text of at most {MAX_REASON} characters)")
    if text_problem(reason):
        raise StatusError("malformed: reason holds a control character")
    until = body.get("until")
    if until is not None:
        until = utc_iso(parse_time(until, "until"))
    updated = utc_iso(parse_time(body.get("updated_at"), "updated_at"))
    counts = body.get("counts") or {}
    if not isinstance(counts, dict):
        raise StatusError("malformed: counts")
    for name, value in counts.items():
        if name not in COUNT_MAX:
            raise StatusError(f"malformed: unknown count {name[:40]!r}")
        if type(value) is not int or not 0 <= value <= COUNT_MAX[name]:
            if isinstance(value, float) and not math.isfinite(value):
                raise StatusError(f"malformed: counts.{name} is not a number")
            raise StatusError(f"out_of_range: counts.{name} must be a whole number 0..{COUNT_MAX[name]}")
    return SehStatus(sid, state, updated, reason.strip(), until, {k: counts[k] for k in COUNT_MAX if k in counts})


def parse_status(payload: bytes, topic_seh_id: str) -> SehStatus:
    """A status from the wire: hostile until checked here."""
    try:
        body = safe_json.loads_object(payload, max_bytes=MAX_BYTES, max_depth=MAX_DEPTH)
    except safe_json.PayloadError as exc:
        raise StatusError(exc.reason) from None
    if body.get("schema") != SCHEMA:
        raise StatusError("unknown schema")
    return check(body, topic_seh_id)


def is_stale(status: SehStatus | None, now: datetime, stale_s: float = DEFAULT_STALE_S) -> bool:
    return status is None or age_s(status, now) > stale_s


def age_s(status: SehStatus, now: datetime) -> float:
    return max(0.0, (now - parse_time(status.updated_at, "updated_at")).total_seconds())


def shown_state(status: SehStatus | None, now: datetime, stale_s: float = DEFAULT_STALE_S) -> str:
    """What a vehicle may believe: the state, or "onbekend" when none or too old (never "open")."""
    return UNKNOWN if is_stale(status, now, stale_s) else status.state


def age_words(seconds: float | None) -> str:
    """"zojuist", "3 min geleden", "2 uur geleden"; "nooit ontvangen" without a status."""
    if seconds is None:
        return "nooit ontvangen"
    if seconds < 60:
        return "zojuist"
    if seconds < 3600:
        return f"{int(seconds // 60)} min geleden"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} uur geleden"
    return f"{int(seconds // 86400)} dagen geleden"


def counts_words(counts: dict[str, int]) -> str:
    return ", ".join(f"{COUNT_WORDS[k]} {v}" for k, v in counts.items() if k in COUNT_WORDS)
