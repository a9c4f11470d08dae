"""The transactional outbox: one ordered message stream per (rit, destination SEH).

Every function here runs inside the caller's write transaction, so a form change and
its outbox message commit together or not at all (design.md).

A stream holds at most one *pending* message (written, never handed to MQTT). Changes
made while it waits are folded into it: one merge patch from the last version the SEH
will have to now, not one message per keystroke. Publishing *freezes* a message: from
then on its msg_id, seq and body never change, so a resend after a crash is the same
message and the SEH can drop the duplicate.

A save's cost does not grow with the form: the patch is built from what the save changed,
not by diffing whole forms. The form's entry-keyed collections (``vitals``,
``primary_survey`` ... and ``history``) only ever gain items, and an item only ever gains
fields (a correction marks the one it replaces), so the patch carries just the items the
change touched (``Touched``), whole. The rest of the form is small (status, current views,
scores) and is diffed against the stream's *base*: that small part as the SEH will have it
once every frozen message is applied (``streams.base_form_json``).

When the broker is connected and nothing of the stream is on the wire, a new message is
frozen in the save's own transaction: the sender then publishes it without a write of its
own. Otherwise it stays pending, so an hour offline still folds into one message.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import sqlite_utils

from edge.form.model import COLLECTIONS
from edge.wire.canonical import form_sha256, merge_patch_apply, merge_patch_create
from edge.wire.contract import FINAL_STATUSES, new_id
from edge.wire.contract import utc_now

# The form's top-level keys that hold entry-keyed collections (only ever growing).
COLLECTION_KEYS = frozenset(path[0] for path in COLLECTIONS.values()) | {"history"}
# (collection path, entry_id): an item a change added or marked.
Touched = Collection[tuple[tuple[str, ...], str]]

# Message states, in the order they advance (rejected stands apart).
STATE_RANK = {"saved": 0, "sent": 1, "delivered": 2, "read": 3}
# States whose mark may be lost in a power cut: the broker's ack and the SEH's receipt come
# again when the message is published again with the same msg_id (edge/sync/sender.py).
RECOVERABLE_STATES = frozenset({"sent", "delivered"})


def _stream(db: sqlite_utils.Database, rit_id: str, seh_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM streams WHERE rit_id = ? AND seh_id = ?", [rit_id, seh_id]))
    return rows[0] if rows else None


def _pending(db: sqlite_utils.Database, rit_id: str, seh_id: str) -> dict | None:
    rows = list(
        db.query(
            "SELECT * FROM outbox WHERE rit_id = ? AND seh_id = ? AND published_at IS NULL",
            [rit_id, seh_id],
        )
    )
    return rows[0] if rows else None


def open_stream(db: sqlite_utils.Database, rit_id: str, seh_id: str, form: dict) -> str:
    """Start the stream to ``seh_id`` with a snapshot vooraankondiging; returns its msg_id.

    A stream that ended with geannuleerd (the crew chose another SEH, then came back) is
    reopened: its next message is a fresh snapshot vooraankondiging, seq continuing."""
    stream = _stream(db, rit_id, seh_id)
    if stream is not None:
        if stream["open"] or stream["status"] != "geannuleerd":
            raise StreamExistsError(seh_id)
        db.execute("UPDATE streams SET open = 1, status = 'vooraankondiging' WHERE rit_id = ? AND seh_id = ?",
                   [rit_id, seh_id])
        pending = _pending(db, rit_id, seh_id)
        if pending is not None:  # the geannuleerd never left: it becomes the new announcement
            _rewrite(db, pending["msg_id"], "snapshot", "vooraankondiging", form, form)
            return pending["msg_id"]
        return _insert_message(db, rit_id, seh_id, "snapshot", "vooraankondiging", form, form)
    db.execute(
        "INSERT INTO streams (rit_id, seh_id, next_seq, status, open, opened_at) VALUES (?, ?, 1, ?, 1, ?)",
        [rit_id, seh_id, "vooraankondiging", utc_now()],
    )
    return _insert_message(db, rit_id, seh_id, "snapshot", "vooraankondiging", form, form)


def form_changed(db: sqlite_utils.Database, rit_id: str, form: dict, status: str = "update",
                 sha: str | None = None, touched: Touched | None = None, freeze: bool = False) -> list[str]:
    """Queue the change on every open stream of the rit; ``status`` may end the stream.

    A stream that ended with the overdracht still carries late additions ("nagekomen"):
    they go out as patches that keep the status overdracht. ``sha`` is the form's hash when
    the caller has it already (the store does), saving a second canonical serialisation.
    ``touched``: the collection items the change added or marked (None: all of them).
    ``freeze``: the broker is connected, so a message that can go at once is frozen now."""
    msg_ids = []
    for stream in db.query(
        "SELECT * FROM streams WHERE rit_id = ? AND (open = 1 OR status = 'overdracht')", [rit_id]
    ):
        msg_ids.append(_queue_change(db, stream, form, status if stream["open"] else "overdracht", sha,
                                     touched, freeze))
    return msg_ids


def close_stream(db: sqlite_utils.Database, rit_id: str, seh_id: str, form: dict, status: str,
                 touched: Touched | None = None) -> str:
    """End one stream with a final status (overdracht, geannuleerd)."""
    assert status in FINAL_STATUSES
    stream = _stream(db, rit_id, seh_id)
    if stream is None or not stream["open"]:
        raise StreamClosedError(seh_id)
    return _queue_change(db, stream, form, status, touched=touched)


def request_snapshot(db: sqlite_utils.Database, rit_id: str, seh_id: str, form: dict) -> str | None:
    """The SEH asked for a resync: its next message is a full snapshot of the current form."""
    stream = _stream(db, rit_id, seh_id)
    if stream is None:
        return None
    pending = _pending(db, rit_id, seh_id)
    if pending is not None:
        _rewrite(db, pending["msg_id"], "snapshot", pending["status"], form, form)
        return pending["msg_id"]
    return _insert_message(db, rit_id, seh_id, "snapshot", stream["status"], form, form)


def _queue_change(db: sqlite_utils.Database, stream: dict, form: dict, status: str, sha: str | None = None,
                  touched: Touched | None = None, freeze: bool = False) -> str:
    rit_id, seh_id = stream["rit_id"], stream["seh_id"]
    final = status in FINAL_STATUSES
    if final:
        db.execute("UPDATE streams SET open = 0, status = ? WHERE rit_id = ? AND seh_id = ?", [status, rit_id, seh_id])
    pending = _pending(db, rit_id, seh_id)
    if pending is None:
        body = change_patch(form, touched, _base(stream))
        msg_id = _insert_message(db, rit_id, seh_id, "patch", status, body, form, sha)
        if freeze and not _on_the_wire(db, rit_id, seh_id, msg_id):
            _freeze(db, msg_id, stream, "patch", body)
        return msg_id
    # Fold into the waiting message. A vooraankondiging stays one unless the change ends the stream.
    new_status = status if final else pending["status"]
    if pending["kind"] == "snapshot":
        _rewrite(db, pending["msg_id"], "snapshot", new_status, form, form, sha)
    else:
        earlier = {k: v for k, v in json.loads(pending["body_json"]).items() if k in COLLECTION_KEYS}
        body = change_patch(form, touched, _base(stream), earlier)
        _rewrite(db, pending["msg_id"], "patch", new_status, body, form, sha)
    return pending["msg_id"]


def small_part(form: dict) -> dict:
    """The form without its collections: status, current views, scores (a few KB at most)."""
    return {k: v for k, v in form.items() if k not in COLLECTION_KEYS}


def _base(stream: dict) -> dict:
    # A stream written before patches were built from changes holds the whole form: the
    # small part of it is the same base.
    return small_part(json.loads(stream["base_form_json"] or "{}"))


def change_patch(form: dict, touched: Touched | None, base: dict, earlier: dict | None = None) -> dict:
    """The merge patch from the base to ``form``: the touched items whole (added to the items
    of an ``earlier`` patch this one replaces) and the diff of the small part."""
    if touched is None:  # not told what changed: every item (correct, only larger)
        patch = json.loads(json.dumps({k: v for k, v in form.items() if k in COLLECTION_KEYS}))
    else:
        patch = earlier or {}
        for path, entry_id in touched:
            item = _at(form, path).get(entry_id)
            if item is None:
                continue
            node = patch
            for key in path:
                node = node.setdefault(key, {})
            node[entry_id] = item
    patch.update(merge_patch_create(base, small_part(form)))
    return patch


def _at(form: dict, path: tuple[str, ...]) -> dict:
    node = form
    for key in path:
        node = node.get(key, {})
    return node


def _on_the_wire(db: sqlite_utils.Database, rit_id: str, seh_id: str, msg_id: str) -> bool:
    """An earlier message of the stream has no broker ack yet: this one must wait and fold."""
    return db.execute(
        "SELECT 1 FROM outbox WHERE rit_id = ? AND seh_id = ? AND state = 'saved' AND msg_id != ? LIMIT 1",
        [rit_id, seh_id, msg_id]).fetchone() is not None


def _insert_message(db, rit_id: str, seh_id: str, kind: str, status: str, body: Any, form: dict,
                    sha: str | None = None) -> str:
    stream = _stream(db, rit_id, seh_id)
    msg_id = new_id()
    now = utc_now()
    db.execute(
        "INSERT INTO outbox (msg_id, rit_id, seh_id, seq, kind, status, body_json, form_sha256, state, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'saved', ?, ?)",
        [msg_id, rit_id, seh_id, stream["next_seq"], kind, status, json.dumps(body), sha or form_sha256(form), now, now],
    )
    db.execute("UPDATE streams SET next_seq = next_seq + 1 WHERE rit_id = ? AND seh_id = ?", [rit_id, seh_id])
    return msg_id


def _rewrite(db, msg_id: str, kind: str, status: str, body: Any, form: dict, sha: str | None = None) -> None:
    db.execute(
        "UPDATE outbox SET kind = ?, status = ?, body_json = ?, form_sha256 = ?, updated_at = ? "
        "WHERE msg_id = ? AND published_at IS NULL",
        [kind, status, json.dumps(body), sha or form_sha256(form), utc_now(), msg_id],
    )


def freeze(db: sqlite_utils.Database, msg_id: str) -> dict:
    """Mark a message as handed to MQTT; returns the row. The stream's base moves to it."""
    row = list(db.query("SELECT * FROM outbox WHERE msg_id = ?", [msg_id]))[0]
    if row["published_at"] is not None:
        return row
    stream = _stream(db, row["rit_id"], row["seh_id"])
    row["published_at"] = _freeze(db, msg_id, stream, row["kind"], json.loads(row["body_json"]))
    return row


def _freeze(db: sqlite_utils.Database, msg_id: str, stream: dict, kind: str, body: dict) -> str:
    """From now on msg_id, seq and body never change; the stream's base is what the SEH
    will have after applying it (only its small part: see the module docstring)."""
    base = small_part(body) if kind == "snapshot" else merge_patch_apply(_base(stream), small_part(body))
    now = utc_now()
    db.execute("UPDATE outbox SET published_at = ? WHERE msg_id = ?", [now, msg_id])
    db.execute("UPDATE streams SET base_form_json = ? WHERE rit_id = ? AND seh_id = ?",
               [json.dumps(base), stream["rit_id"], stream["seh_id"]])
    return now


def messages_to_send(db: sqlite_utils.Database) -> list[dict]:
    """Per stream, the oldest message without a broker ack: only it may be on the wire."""
    return list(
        db.query(
            "SELECT o.* FROM outbox o JOIN ("
            "  SELECT rit_id, seh_id, min(seq) AS seq FROM outbox WHERE state = 'saved' GROUP BY rit_id, seh_id"
            ") first USING (rit_id, seh_id, seq) ORDER BY o.created_at"
        )
    )


def sent_not_delivered(db: sqlite_utils.Database, older_than_s: float, limit: int = 50) -> list[dict]:
    """Messages the broker acknowledged but the SEH never confirmed: the broker may have
    lost them (a crash before its autosave). Sending them again is safe: same msg_id."""
    return list(
        db.query(
            "SELECT * FROM outbox WHERE state = 'sent'"
            " AND sent_at <= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?) ORDER BY rit_id, seh_id, seq LIMIT ?",
            [f"-{older_than_s} seconds", limit],
        )
    )


def advance_state(db: sqlite_utils.Database, msg_id: str, state: str, reason: str | None = None) -> dict | None:
    rows = list(db.query("SELECT * FROM outbox WHERE msg_id = ?", [msg_id]))
    if not rows:
        return None
    row = rows[0]
    now = utc_now()
    if state == "rejected":
        db.execute("UPDATE outbox SET state = 'rejected', reason = ?, updated_at = ? WHERE msg_id = ?", [reason, now, msg_id])
    elif row["state"] in STATE_RANK and STATE_RANK[state] > STATE_RANK[row["state"]]:
        db.execute(
            f"UPDATE outbox SET state = ?, {state}_at = coalesce({state}_at, ?), updated_at = ? WHERE msg_id = ?",
            [state, now, now, msg_id],
        )
    return row


class StreamExistsError(Exception):
    pass


class StreamClosedError(Exception):
    pass
