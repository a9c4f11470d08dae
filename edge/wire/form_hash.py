"""Canonical JSON of a form, fast: unchanged collection items are not serialised again.

A long rit holds hundreds of items, and every save hashes the whole form. Items in the
entry-keyed collections never change once written, except that a correction marks the
item it replaces; so each item's canonical text is kept and reused, and ``invalidate``
drops the text of a replaced item. The output is byte-for-byte ``canonical_json(form)``
(tests compare them on random forms).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from edge.form.model import COLLECTIONS, HISTORY_KINDS

_COLLECTION_PATHS = frozenset(COLLECTIONS.values()) | {("history", kind) for kind in HISTORY_KINDS}
_PARENT_PATHS = frozenset(path[:i] for path in _COLLECTION_PATHS for i in range(len(path)))


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class CanonicalForm:
    """Per rit: the canonical member text of each collection item, by entry_id."""

    def __init__(self) -> None:
        self._items: dict[str, str] = {}

    def invalidate(self, entry_id: str) -> None:
        self._items.pop(entry_id, None)

    def canonical(self, form: dict[str, Any]) -> bytes:
        return self._encode(form, ()).encode("utf-8")

    def sha256(self, form: dict[str, Any]) -> tuple[bytes, str]:
        blob = self.canonical(form)
        return blob, hashlib.sha256(blob).hexdigest()

    def _encode(self, value: Any, path: tuple[str, ...]) -> str:
        if path in _COLLECTION_PATHS:
            return "{" + ",".join([self._member(k, value[k]) for k in sorted(value)]) + "}"
        if path in _PARENT_PATHS and isinstance(value, dict):
            return "{" + ",".join(f"{_dumps(k)}:{self._encode(value[k], (*path, k))}" for k in sorted(value)) + "}"
        return _dumps(value)

    def _member(self, entry_id: str, item: dict[str, Any]) -> str:
        """``"<entry_id>":{...}``, the item's whole member text in its collection."""
        text = self._items.get(entry_id)
        if text is None:
            text = self._items[entry_id] = f"{_dumps(entry_id)}:{_dumps(item)}"
        return text
