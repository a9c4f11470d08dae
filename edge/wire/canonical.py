"""Canonical JSON, the form hash and RFC 7396 JSON Merge Patch.

The vehicle and the SEH both hash the *canonical* JSON of the whole form (sorted keys,
no spaces, UTF-8) so that either side can prove it holds exactly the same form.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

try:
    import orjson
except ImportError:  # the reference below is the definition; orjson only makes it fast
    orjson = None

JSON = Any


# Where orjson's output can differ from the definition below, a sign shows in the bytes:
# a null (orjson writes NaN and infinities as null; forms hold no null), a negative exponent
# (orjson writes 1e-6 where the definition has 1e-06: digits after "e-" end a number, they
# never end a UUID's group) or 0.0000 (orjson writes 0.00005 where the definition has
# 5e-05). Text that happens to contain such a sequence only takes the slow path.
_NEGATIVE_EXPONENT = re.compile(rb"e-[0-9]+(?:[,}\]]|\Z)")


def _doubtful(blob: bytes) -> bool:
    return b"null" in blob or b"0.0000" in blob or (b"e-" in blob and _NEGATIVE_EXPONENT.search(blob) is not None)


def canonical_json(value: JSON) -> bytes:
    """Sorted keys, no spaces, UTF-8, numbers as Python's ``json`` writes them, no NaN.

    The bytes are those of ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False, allow_nan=False)`` (docs/sync.md, "The form hash"); orjson makes
    the same bytes about ten times faster, and every output it might get wrong goes the
    slow way (tests/test_canonical.py compares both on random values)."""
    if orjson is not None:
        try:
            blob = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
        except (TypeError, orjson.JSONEncodeError):
            pass  # a big integer, a non-string key, a lone surrogate: the reference decides
        else:
            if not _doubtful(blob):
                return blob
    return canonical_json_reference(value)


def canonical_json_reference(value: JSON) -> bytes:
    """The definition itself (slow for a large form)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode(
        "utf-8"
    )


def form_sha256(form: JSON) -> str:
    return hashlib.sha256(canonical_json(form)).hexdigest()


def merge_patch_apply(target: JSON, patch: JSON) -> JSON:
    """RFC 7396 section 2: apply ``patch`` to ``target``; neither argument is modified."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch_apply(result.get(key), value)
    return result


def merge_patch_create(source: JSON, target: JSON) -> JSON:
    """The smallest merge patch that turns ``source`` into ``target``.

    Merge patches cannot express a JSON null *value* (null means "remove"), so forms never
    contain nulls: a missing key is how the form says "no value".
    """
    if not isinstance(source, dict) or not isinstance(target, dict):
        return target
    patch: dict[str, JSON] = {}
    for key in source.keys() - target.keys():
        patch[key] = None
    for key, value in target.items():
        if key not in source:
            patch[key] = value
        elif source[key] != value or type(source[key]) is not type(value):
            if isinstance(source[key], dict) and isinstance(value, dict):
                patch[key] = merge_patch_create(source[key], value)
            else:
                patch[key] = value
    return patch


def contains_null(value: JSON) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(contains_null(v) for v in value.values())
    if isinstance(value, list):
        return any(contains_null(v) for v in value)
    return False
