"""The MQTT contract from design.md: topics, the message envelope and receipts.

Shared by the vehicle (edge) and the hospital (seh) so both read the same words.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge.form.shape import form_problem, patch_problem
from edge.wire import safe_json
from edge.wire.safe_json import INT_MAX, PayloadError

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


# Namespace of ids made from a form's one-time key (uuid5: the same key, the same id).
FORM_KEYS = uuid.UUID("5b0e7a52-3c1f-4d8e-9a61-2f4c8d9e7b10")


def id_for_form(rit_id: str, form_key: str | None) -> str:
    """A message id for what one form sends: the same form posted twice (a double tap, a replayed
    post) gets the same id, so the second is recognised instead of sent again; no key, a new id."""
    return str(uuid.uuid5(FORM_KEYS, f"{rit_id}:{form_key}")) if form_key else new_id()


class Envelope(BaseModel):
    """One form message. Unknown fields are refused so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid")

    schema_: Literal["ritlink.ritformulier/1"] = Field(alias="schema")
    msg_id: uuid.UUID
    rit_id: uuid.UUID
    vehicle_id: str = Field(min_length=1, max_length=64)
    seh_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=1, le=INT_MAX)
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

    msg_id: str = Field(max_length=64)
    rit_id: str = Field(max_length=64)
    seq: int = Field(ge=0, le=INT_MAX)
    type: ReceiptType
    at: str = Field(max_length=64)
    reason: str | None = Field(default=None, max_length=500)

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode("utf-8")


class ContractError(ValueError):
    """A message that does not follow the contract; ``reason`` is safe to log (no patient data)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def parse_envelope(payload: bytes, max_bytes: int = safe_json.DEFAULT_MAX_BYTES) -> Envelope:
    """The envelope of a form message, within the limits of edge/wire/safe_json and with a body
    of the form's shape (edge/form/shape); otherwise ContractError with a loggable reason."""
    data = _json_object(payload, max_bytes)
    if data.get("schema") != SCHEMA:
        raise ContractError("unknown schema")
    try:
        env = Envelope.model_validate(data)
    except ValidationError as exc:
        raise ContractError("malformed: invalid field(s) " + _fields(exc)) from None
    problem = form_problem(env.body) if env.kind == "snapshot" else patch_problem(env.body)
    if problem is None and env.kind == "snapshot" and (
            env.body["rit_id"], env.body["vehicle_id"]) != (str(env.rit_id), env.vehicle_id):
        problem = "form belongs to another rit or vehicle"
    if problem is not None:
        raise ContractError(f"form: {problem}")
    return env


def parse_receipt(payload: bytes, max_bytes: int = safe_json.DEFAULT_MAX_BYTES) -> Receipt:
    data = _json_object(payload, max_bytes)
    try:
        return Receipt.model_validate(data)
    except ValidationError as exc:
        raise ContractError("malformed: invalid field(s) " + _fields(exc)) from None


def live_problem(data: dict[str, Any], vehicle_id: str) -> str | None:
    """What is wrong with a live message for the board (None: it may be shown)."""
    if data.get("vehicle_id", vehicle_id) != vehicle_id:
        return "vehicle_id does not match the topic"
    vitals = data.get("vitals", [])
    if not isinstance(vitals, list) or len(vitals) > 64:
        return "vitals is not a list"
    for vital in vitals:
        if not isinstance(vital, dict):
            return "a vital is not an object"
        if not isinstance(vital.get("label", ""), str) or not isinstance(vital.get("unit", ""), str):
            return "a vital's label or unit is not text"
        value = vital.get("value")
        if value is not None and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            return "a vital's value is not a number"
    for key in ("position", "gps"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            return f"{key} is not an object"
    return None


def _json_object(payload: bytes, max_bytes: int) -> dict[str, Any]:
    try:
        return safe_json.loads_object(payload, max_bytes=max_bytes)
    except PayloadError as exc:
        raise ContractError(exc.reason) from None


def _fields(exc: ValidationError) -> str:
    """The names of the refused fields, short: an unknown key may be as long as the payload."""
    names = sorted({".".join(str(p) for p in err["loc"])[:40] for err in exc.errors()})
    return ", ".join(names)[:160]
