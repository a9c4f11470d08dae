"""Canonical JSON, the form hash and RFC 7396 JSON Merge Patch.

The vehicle and the SEH both hash the *canonical* JSON of the whole form (sorted keys,
no spaces, UTF-8) so that either side can prove it holds exactly the same form.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

JSON = Any


def canonical_json(value: JSON) -> bytes:
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
