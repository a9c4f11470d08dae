"""The ritformulier as data: a pure function of the rit's header and its entry log.

Every clinical fact is an *entry* (``entry_id``, ``clinical_time``, ``recorded_at``,
``author``, ``source``). The current form is rebuilt from the entries alone, so the
incrementally maintained copy in the store can always be checked against a rebuild.
Forms never contain JSON null (see canonical.merge_patch_create).
"""

from __future__ import annotations

import copy
from typing import Any

URGENCIES = ("A1", "A2", "B")

# The crew's view of where the rit stands (the per-SEH message status lives in the stream).
LIFECYCLE_CONCEPT = "concept"
LIFECYCLE_ANNOUNCED = "aangekondigd"


def new_form(header: dict[str, Any]) -> dict[str, Any]:
    """The empty form of a new rit. ``header`` holds rit_id, vehicle_id, urgency, destination."""
    return {
        "rit_id": header["rit_id"],
        "vehicle_id": header["vehicle_id"],
        "created_at": header["created_at"],
        "melding": {"urgency": header["urgency"]},
        "destination_seh": header["destination_seh"],
        "vitals": {},
    }


def apply_entry(form: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Return a new form with ``entry`` applied; ``form`` itself is left unchanged."""
    result = copy.deepcopy(form)
    kind = entry["kind"]
    if kind == "vital":
        result["vitals"][entry["entry_id"]] = _clinical(entry)
    else:
        raise ValueError(f"unknown entry kind {kind!r}")
    return result


def build_form(header: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    form = new_form(header)
    for entry in entries:
        form = apply_entry(form, entry)
    return form


def _clinical(entry: dict[str, Any]) -> dict[str, Any]:
    item = dict(entry["data"])
    for key in ("clinical_time", "recorded_at", "author", "source"):
        item[key] = entry[key]
    return {k: v for k, v in item.items() if v is not None}
