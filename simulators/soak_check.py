"""The fault soak's verdict: the entry ids acknowledged to the client against the entry ids in
the SEH's stored form. Missing ones are lost, unacknowledged ones are extra (a save applied
twice at the tablet shows up here: a second set of ids nobody was answered with), and every
id is counted as often as it occurs in the stored JSON text -- parsed pair by pair, so a
JSON object holding one key twice (or one entry filed in two places) is seen, not folded
away by a dict or a primary key.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from edge.wire.canonical import merge_patch_apply
from edge.wire.packed import unpack

ENTRY_MARKERS = ("clinical_time", "position")  # what every form item carries (edge/form/model.entry_item)


@dataclass
class EntryCheck:
    acknowledged: int = 0
    at_seh: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    duplicated: dict[str, int] = field(default_factory=dict)  # entry id -> times it occurs at the SEH

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.duplicated)


def compare_entries(acknowledged: Iterable[str], at_seh: Iterable[str]) -> EntryCheck:
    """``acknowledged``: ids as the API answered them (an idempotent replay may repeat an id:
    that is one save); ``at_seh``: one id per occurrence at the SEH."""
    wanted = set(acknowledged)
    seen = Counter(at_seh)
    return EntryCheck(
        acknowledged=len(wanted),
        at_seh=sum(seen.values()),
        missing=sorted(wanted - seen.keys()),
        extra=sorted(seen.keys() - wanted),
        duplicated={entry_id: n for entry_id, n in sorted(seen.items()) if n > 1},
    )


def _pairs(pairs: list[tuple[str, object]]) -> dict | list:
    keys = [k for k, _ in pairs]
    return {"__pairs__": pairs} if len(keys) != len(set(keys)) else dict(pairs)


def entry_occurrences(form_json: str, collection: str = "vitals") -> list[str]:
    """Every occurrence of an entry id of ``collection`` in the form's JSON text: the items of
    that collection (duplicate keys kept) plus any item elsewhere filed under one of its ids."""
    form = json.loads(form_json, object_pairs_hook=_pairs)
    found: list[str] = []
    home = set()

    def items(node: object) -> list[tuple[str, object]]:
        if isinstance(node, dict):
            return list(node["__pairs__"]) if "__pairs__" in node else list(node.items())
        return []

    for key, value in items(form):
        if key == collection:
            for entry_id, item in items(value):
                if isinstance(item, dict) and all(m in item for m in ENTRY_MARKERS):
                    found.append(entry_id)
                    home.add(entry_id)

    def walk(node: object, path: tuple[str, ...]) -> None:
        for key, value in items(node):
            if path == () and key == collection:
                continue
            if key in home and isinstance(value, dict):
                found.append(key)  # the same entry filed a second time somewhere else
            walk(value, (*path, key))

    walk(form, ())
    return found


def seh_form_json(seh_db: Path, rit_id: str) -> str | None:
    """The SEH's current form as text, straight from its database (not through the SEH's
    code): its stored checkpoint, with the stored patches after it applied (seh/versions.py)."""
    with sqlite3.connect(seh_db) as conn:
        row = conn.execute("SELECT seq, form FROM seh_forms WHERE rit_id = ?", [rit_id]).fetchone()
        if row is None:
            return None
        if row[1] is None:  # the checkpoint is a snapshot message's own body
            row = (row[0], conn.execute("SELECT body FROM seh_versions WHERE rit_id = ? AND seq = ?",
                                        [rit_id, row[0]]).fetchone()[0])
        patches = conn.execute("SELECT body FROM seh_versions WHERE rit_id = ? AND seq > ? ORDER BY seq",
                               [rit_id, row[0]]).fetchall()
    if not patches and isinstance(row[1], str):
        return row[1]
    form = unpack(row[1])
    for (body,) in patches:
        form = merge_patch_apply(form, unpack(body))
    return json.dumps(form)


def check_seh(seh_db: Path, rit_id: str, acknowledged: Iterable[str]) -> EntryCheck:
    text = seh_form_json(seh_db, rit_id)
    return compare_entries(acknowledged, entry_occurrences(text) if text else [])
