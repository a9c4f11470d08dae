"""Lifecycle rules of a rit, pure: which step is allowed in which status, and why not.

concept -> vooraankondiging -> update... -> overdracht, or geannuleerd. The steps themselves
write entries and outbox messages in one transaction (edge.store.lifecycle); this module
only decides, so the same words reach the crew whichever path refuses.
"""

from __future__ import annotations

from edge.errors import DomainError
from edge.form.model import ACTIVE_STATUSES, CANCELLED, CONCEPT, HANDED_OVER

_REASONS = {
    HANDED_OVER: "de rit is al overgedragen",
    CANCELLED: "de rit is geannuleerd; kies een bestemming om hem weer te activeren",
    "active": "deze rit is al vooraangekondigd",
    CONCEPT: "de rit is nog niet vooraangekondigd",
}


def refusal(status: str, what: str) -> DomainError:
    """The 409 for step ``what`` (Dutch, e.g. "overdragen") in ``status``."""
    key = "active" if status in ACTIVE_STATUSES else status
    return DomainError(f"{what} kan niet: {_REASONS[key]}", status=409, type="lifecycle", ctx={"status": status})


def stream_exists() -> DomainError:
    return DomainError("deze SEH heeft voor deze rit al een (afgesloten) berichtenstroom; kies een andere SEH",
                       "seh_id", status=409, type="stream_exists")


def is_finished(status: str) -> bool:
    """Handed over or cancelled: no further overdracht or cancellation."""
    return status in (HANDED_OVER, CANCELLED)
