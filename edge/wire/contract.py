"""The MQTT contract from design.md: topics, the message envelope and receipts.

Shared by the vehicle (edge) and the hospital (seh) so both read the same words.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA = "ritlink.ritformulier/1"
TOPIC_ROOT = "ritlink/v1"

Status = Literal["vooraankondiging", "update", "overdracht", "geannuleerd"]
FINAL_STATUSES = ("overdracht", "geannuleerd")
ReceiptType = Literal["delivered", "read", "rejected", "resync"]


def utc_now() -> str:
    """UTC timestamp as ISO-8601 with milliseconds and a Z, the one format used everywhere."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def rit_topic(seh_id: str, vehicle_id: str, rit_id: str) -> str:
    return f"{TOPIC_ROOT}/seh/{seh_id}/from/{vehicle_id}/rit/{rit_id}"


def rit_topic_filter(seh_id: str) -> str:
    return f"{TOPIC_ROOT}/seh/{seh_id}/from/+/rit/+"


def live_topic(seh_id: str, vehicle_id: str) -> str:
    return f"{TOPIC_ROOT}/seh/{seh_id}/from/{vehicle_id}/live"


def receipt_topic(vehicle_id: str, seh_id: str) -> str:
    return f"{TOPIC_ROOT}/vehicle/{vehicle_id}/receipt/{seh_id}"


def receipt_topic_filter(vehicle_id: str) -> str:
    return f"{TOPIC_ROOT}/vehicle/{vehicle_id}/receipt/+"


def feedback_topic(vehicle_id: str, seh_id: str) -> str:
    return f"{TOPIC_ROOT}/vehicle/{vehicle_id}/feedback/{seh_id}"


def new_id() -> str:
    return str(uuid.uuid4())


class Envelope(BaseModel):
    """One form message. Unknown fields are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")

    schema_: Literal["ritlink.ritformulier/1"] = Field(alias="schema")
    msg_id: uuid.UUID
    rit_id: uuid.UUID
    vehicle_id: str = Field(min_length=1, max_length=64)
    seh_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=1)
    kind: Literal["snapshot", "patch"]
    status: Status
    body: dict[str, Any]
    form_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    sent_at: str

    def to_json(self) -> bytes:
        data = self.model_dump(mode="json", by_alias=True)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Receipt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    msg_id: str
    rit_id: str
    seq: int
    type: ReceiptType
    at: str
    reason: str | None = None

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode("utf-8")


class ContractError(ValueError):
    """A message that does not follow the contract; ``reason`` is safe to log (no patient data)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_envelope(payload: bytes) -> Envelope:
    try:
        data = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ContractError("malformed: not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise ContractError("malformed: not a JSON object")
    if data.get("schema") != SCHEMA:
        raise ContractError("unknown schema")
    try:
        return Envelope.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise ContractError("malformed: invalid field(s) " + ", ".join(fields)) from None
