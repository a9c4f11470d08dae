"""The rit's lifecycle steps in the store: concept -> vooraankondiging -> update... -> overdracht, or geannuleerd.

Each step is an entry in the log (so the form stays a function of the log) and, in the
same transaction, the matching outbox call: a new stream for an announcement, a final
message for overdracht or geannuleerd. A destination change cancels the old SEH's
stream and opens a fresh one to the new SEH (design.md), all in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.store import outbox
from edge.errors import DomainError
from edge.form.lifecycle_rules import is_finished, refusal, stream_exists
from edge.form.model import ACTIVE_STATUSES, CONCEPT, HANDED_OVER, missing_for_overdracht
from edge.store.rit_store import Tx

EntryFactory = Callable[[str, dict[str, Any]], dict[str, Any]]


def _stream_blocks(tx: Tx, rit_id: str, seh_id: str) -> bool:
    """One stream per (rit, SEH): a cancelled one may be reopened, an active or handed-over one not."""
    row = tx.db.execute("SELECT open, status FROM streams WHERE rit_id = ? AND seh_id = ?", [rit_id, seh_id]).fetchone()
    return row is not None and (row[0] or row[1] != "geannuleerd")


def _open(tx: Tx, rit_id: str, seh_id: str, form: dict[str, Any]) -> str:
    if _stream_blocks(tx, rit_id, seh_id):
        raise stream_exists()
    return outbox.open_stream(tx.db, rit_id, seh_id, form)


def announce(tx: Tx, rit_id: str, make: EntryFactory) -> dict[str, Any]:
    form = tx.form(rit_id)
    if form["status"] != CONCEPT:
        raise refusal(form["status"], "vooraankondigen")
    seh_id = form["destination_seh"]
    entry = make("lifecycle", {"event": "announce", "seh_id": seh_id})
    form = tx.append(rit_id, [entry], notify=False)
    msg_id = _open(tx, rit_id, seh_id, form)
    tx.audit_detail = {"entry_ids": [entry["entry_id"]], "seh_id": seh_id, "msg_id": msg_id}
    return {"rit_id": rit_id, "msg_id": msg_id, "seh_id": seh_id, "form_sha256": tx.sha(rit_id)}


def overdracht(tx: Tx, rit_id: str, make: EntryFactory, onvolledig: bool) -> dict[str, Any]:
    """Hand over; what is missing is listed, and only an explicit ``onvolledig`` goes on without it."""
    form = tx.form(rit_id)
    status = form["status"]
    if is_finished(status):
        raise refusal(status, "overdragen")
    missing = [m["item"] for m in missing_for_overdracht(form)]
    if missing and not onvolledig:
        names = ", ".join(m["msg"] for m in missing_for_overdracht(form))
        raise DomainError(f"overdracht onvolledig: {names}; bevestig met onvolledig: true", "onvolledig",
                          status=409, type="overdracht.incomplete", ctx={"missing": missing})
    seh_id = form["destination_seh"]
    entries = []
    if status == CONCEPT:  # never blocked: an unannounced rit is announced and handed over at once
        entries.append(make("lifecycle", {"event": "announce", "seh_id": seh_id}))
    data = {"event": "overdracht", "seh_id": seh_id, "onvolledig": bool(missing)}
    if missing:
        data["missing"] = missing
    handover = make("lifecycle", data)
    if "overdracht" not in form["times"]:  # the run time, unless the crew already set it
        entries.append(make("time", {"which": "overdracht", "at": handover["clinical_time"]}))
    entries.append(handover)
    form = tx.append(rit_id, entries, notify=False)
    if status == CONCEPT:
        _open(tx, rit_id, seh_id, form)
    msg_id = outbox.close_stream(tx.db, rit_id, seh_id, form, "overdracht",
                                 tx.changed_items(rit_id))
    tx.audit_detail = {"entry_ids": [e["entry_id"] for e in entries], "seh_id": seh_id, "msg_id": msg_id,
                       "onvolledig": bool(missing)}
    return {"rit_id": rit_id, "msg_id": msg_id, "onvolledig": bool(missing), "missing": missing,
            "form_sha256": tx.sha(rit_id)}


def cancel(tx: Tx, rit_id: str, make: EntryFactory, reason: str, text: str | None) -> dict[str, Any]:
    form = tx.form(rit_id)
    status = form["status"]
    if is_finished(status):
        raise refusal(status, "annuleren")
    seh_id = form["destination_seh"]
    data = {"event": "cancel", "seh_id": seh_id, "reason": reason}
    if text:
        data["text"] = text
    entry = make("lifecycle", data)
    form = tx.append(rit_id, [entry], notify=False)
    msg_id = outbox.close_stream(tx.db, rit_id, seh_id, form, "geannuleerd",
                                 tx.changed_items(rit_id)) if status in ACTIVE_STATUSES else None
    tx.audit_detail = {"entry_ids": [entry["entry_id"]], "seh_id": seh_id, "msg_id": msg_id}
    return {"rit_id": rit_id, "msg_id": msg_id, "form_sha256": tx.sha(rit_id)}


def change_destination(tx: Tx, rit_id: str, make: EntryFactory, new_seh: str,
                       reason: str | None = None, seh_stop_reason: str | None = None) -> dict[str, Any]:
    """Concept: just the destination. Active: the old SEH gets geannuleerd, the new SEH a
    snapshot. Cancelled: the rit is active again, announced to the new SEH."""
    form = tx.form(rit_id)
    status, old_seh = form["status"], form["destination_seh"]
    if status == HANDED_OVER:
        raise refusal(status, "bestemming wijzigen")
    if new_seh == old_seh:
        raise DomainError(f"de bestemming is al {new_seh}", "seh_id")
    if status != CONCEPT and _stream_blocks(tx, rit_id, new_seh):
        raise stream_exists()
    entries, result = [], {"rit_id": rit_id, "seh_id": new_seh}
    if status in ACTIVE_STATUSES:
        entries.append(make("lifecycle", {"event": "cancel", "seh_id": old_seh, "reason": "andere_bestemming",
                                          "text": f"nieuwe bestemming {new_seh}"}))
        form = tx.append(rit_id, entries[-1:], notify=False)
        result["cancelled_msg_id"] = outbox.close_stream(tx.db, rit_id, old_seh, form, "geannuleerd",
                                                        tx.changed_items(rit_id))
    entries.append(make("destination", {"seh_id": new_seh, **({"reason": reason} if reason else {}),
                                        **({"seh_stop_reason": seh_stop_reason} if seh_stop_reason else {})}))
    form = tx.append(rit_id, entries[-1:], notify=False)
    if status != CONCEPT:
        entries.append(make("lifecycle", {"event": "announce", "seh_id": new_seh}))
        form = tx.append(rit_id, entries[-1:], notify=False)
        result["msg_id"] = _open(tx, rit_id, new_seh, form)
    tx.audit_detail = {"entry_ids": [e["entry_id"] for e in entries], "from": old_seh, "to": new_seh}
    return {**result, "form_sha256": tx.sha(rit_id)}
