"""The canonical JSON of a rit's current form at the SEH, kept up to date per patch.

A patch adds or corrects a few entries; re-serialising (or even re-joining member by member,
in Python) every entry of a long form for each message made the receiver's cost grow with
the form. Here each entry collection keeps its sorted entry ids, each entry's canonical member
text and the joined text; a patch re-encodes only the entries it touched and re-joins its
collection in C. The rest of the form (a few small views) is encoded as usual. The bytes are
exactly ``canonical_json(form)`` (tests compare them); and since the receiver compares the
result with the hash the vehicle sent, it falls back to the full encoding on any mismatch, so
a stale cache can cost time but never accept a wrong form.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from typing import Any

from edge.form.model import COLLECTIONS, HISTORY_KINDS, LATER_HISTORY_KINDS

COLLECTION_PATHS = frozenset(COLLECTIONS.values()) | {("history", k) for k in (*HISTORY_KINDS, *LATER_HISTORY_KINDS)}
_PARENT_PATHS = frozenset(path[:i] for path in COLLECTION_PATHS for i in range(len(path)))


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


_KEYS: dict[str, str] = {}


def _key(key: str) -> str:
    """A member name's JSON text; the form's own names repeat in every message."""
    text = _KEYS.get(key)
    if text is None:
        text = _dumps(key)
        if len(_KEYS) < 1000:  # hostile forms may bring any names: keep only the first thousand
            _KEYS[key] = text
    return text


class _Collection:
    __slots__ = ("keys", "members", "text")

    def __init__(self, keys: list[str], members: dict[str, str], text: bytes | None):
        self.keys, self.members, self.text = keys, members, text

    @classmethod
    def of(cls, items: dict[str, Any]) -> _Collection:
        keys = sorted(items)
        members = {k: f"{_dumps(k)}:{_dumps(items[k])}" for k in keys}
        return cls(keys, members, None)

    def joined(self) -> bytes:
        """The collection's canonical bytes (UTF-8, encoded once per change, not per message)."""
        if self.text is None:
            self.text = ("{" + ",".join(map(self.members.__getitem__, self.keys)) + "}").encode("utf-8")
        return self.text


class CanonicalCache:
    """Per rit: the canonical text of each entry collection. ``patched`` returns a new cache
    (copy on write: only the touched collections are copied) so the old one stays valid for
    the form it was made for until the transaction commits."""

    def __init__(self, collections: dict[tuple[str, ...], _Collection] | None = None):
        self._collections = collections or {}

    def patched(self, form: dict[str, Any], patch: Any) -> CanonicalCache:
        collections = dict(self._collections)
        if isinstance(patch, dict):
            for path in COLLECTION_PATHS:
                changed: Any = patch
                for key in path:
                    changed = changed.get(key) if isinstance(changed, dict) else None
                if changed is None:
                    continue
                old = collections.get(path)
                items = _at(form, path)
                if old is None or not isinstance(changed, dict) or not isinstance(items, dict):
                    collections.pop(path, None)  # rebuilt from the form when next encoded
                    continue
                fresh = _Collection(list(old.keys), dict(old.members), None)
                for entry_id in changed:
                    if entry_id in items:
                        if entry_id not in fresh.members:
                            bisect.insort(fresh.keys, entry_id)
                        fresh.members[entry_id] = f"{_dumps(entry_id)}:{_dumps(items[entry_id])}"
                    elif entry_id in fresh.members:
                        del fresh.members[entry_id]
                        fresh.keys.remove(entry_id)
                collections[path] = fresh
        return CanonicalCache(collections)

    def sha256(self, form: dict[str, Any]) -> str:
        digest = hashlib.sha256()
        for part in self._parts(form, (), []):  # fed piece by piece: the big parts are never copied
            digest.update(part)
        return digest.hexdigest()

    def canonical(self, form: dict[str, Any]) -> bytes:
        return b"".join(self._parts(form, (), []))

    def _parts(self, value: Any, path: tuple[str, ...], out: list[bytes]) -> list[bytes]:
        if path in COLLECTION_PATHS and isinstance(value, dict):
            cached = self._collections.get(path)
            if cached is None:
                cached = self._collections[path] = _Collection.of(value)
            out.append(cached.joined())
        elif path in _PARENT_PATHS and isinstance(value, dict):
            out.append(b"{")
            for index, k in enumerate(sorted(value)):
                out.append((("," if index else "") + _key(k) + ":").encode("utf-8"))
                self._parts(value[k], (*path, k), out)
            out.append(b"}")
        else:
            out.append(_dumps(value).encode("utf-8"))
        return out


def _at(form: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        form = form.get(key) if isinstance(form, dict) else None
    return form
