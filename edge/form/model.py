"""The ritformulier as data: a pure function of the rit's header and its entry log.

Every fact is an *entry* (``entry_id``, ``clinical_time``, ``recorded_at``, ``author``,
``source``, ``position`` in the log). The current form is rebuilt from the entries alone,
so the incrementally maintained copy in the store can always be checked against a rebuild.

Shape: clinical collections (``vitals``, ``medications``, ``primary_survey.A`` ...) are
JSON objects keyed by entry_id, so a merge patch for one new entry is one key. A
correction adds a new item that ``replaces`` the old one (with ``replaces_reason``); the
old one stays, marked with ``corrected_by`` and ``correction_reason``. Administrative entries (patient identity,
melding, times, destination, lifecycle) are kept the same way under ``history`` and
folded into current views (``patient``, ``times`` ...), latest entry per field winning.
Forms never contain JSON null (see canonical.merge_patch_create).
"""

from __future__ import annotations

import copy
from typing import Any

from edge.form.scores import active, compute_scores

URGENCIES = ("A1", "A2", "B")

# Lifecycle of the rit as the crew sees it (the per-SEH message status lives in the stream).
CONCEPT, ANNOUNCED, UPDATED, HANDED_OVER, CANCELLED = (
    "concept", "vooraankondiging", "update", "overdracht", "geannuleerd")
ACTIVE_STATUSES = (ANNOUNCED, UPDATED)
FINAL_STATUSES = (HANDED_OVER, CANCELLED)
# Kept for the walking skeleton's callers.
LIFECYCLE_CONCEPT = CONCEPT
LIFECYCLE_ANNOUNCED = ANNOUNCED

PRIMARY_LETTERS = {"airway": "A", "breathing": "B", "circulation": "C", "disability": "D", "exposure": "E"}
COLLECTIONS: dict[str, tuple[str, ...]] = {
    "vital": ("vitals",), "gcs": ("gcs",), "pain": ("pain",),
    **{kind: ("primary_survey", letter) for kind, letter in PRIMARY_LETTERS.items()},
    "secondary": ("secondary_survey",), "sample": ("sample",),
    "medication": ("medications",), "procedure": ("procedures",), "diagnosis": ("diagnoses",), "ecg": ("ecgs",),
    "team_alert": ("team_alerts",),
    "trauma_mechanism": ("trauma_mechanisms",), "intoxication": ("intoxications",), "allergy": ("allergies",),
    "treatment_limits": ("treatment_limits",), "legal_measure": ("legal_measures",), "remark": ("remarks",),
    "spo2_scale": ("spo2_scale",),
    "seh_called": ("seh_called",),
}
HISTORY_KINDS = ("identification", "patient", "melding", "time", "destination", "lifecycle")
SCORE_KINDS = frozenset({"vital", "gcs", "pain", "disability", "breathing", "spo2_scale"})
META_KEYS = frozenset({"clinical_time", "recorded_at", "author", "source", "position", "replaces", "replaces_reason",
                       "nagekomen", "confirmed_unusual", "withdrawn", "corrected_by", "correction_reason"})
IDENTIFYING = ("name", "bsn", "date_of_birth")
# History kinds that appear in a form only once used, so forms without them keep their shape:
# ``vehicle_position`` (GPS position and ETA, edge/live/gps_runtime.py), its newest as a current view.
LATER_HISTORY_KINDS = ("vehicle_position",)


def new_form(header: dict[str, Any]) -> dict[str, Any]:
    """The empty form of a new rit. ``header`` holds rit_id, vehicle_id and created_at."""
    form: dict[str, Any] = {
        "rit_id": header["rit_id"],
        "vehicle_id": header["vehicle_id"],
        "created_at": header["created_at"],
        "status": CONCEPT,
        "patient": {"identified": False},
        "melding": {},
        "identification": {},
        "times": {},
        "scores": {},
        "primary_survey": {letter: {} for letter in PRIMARY_LETTERS.values()},
        "history": {kind: {} for kind in HISTORY_KINDS},
    }
    for path in COLLECTIONS.values():
        if len(path) == 1:
            form[path[0]] = {}
    return form


def collection(form: dict[str, Any], kind: str) -> dict[str, Any]:
    if kind in HISTORY_KINDS:
        return form["history"][kind]
    if kind in LATER_HISTORY_KINDS:
        return form["history"].setdefault(kind, {})
    try:
        path = COLLECTIONS[kind]
    except KeyError:
        raise ValueError(f"unknown entry kind {kind!r}") from None
    node = form
    for key in path:
        node = node.setdefault(key, {})  # forms saved before a collection existed lack it
    return node


def entry_item(entry: dict[str, Any]) -> dict[str, Any]:
    """The form's copy of an entry: its data plus provenance; never a null."""
    item = {k: v for k, v in entry.get("data", {}).items() if v is not None}
    for key in ("clinical_time", "recorded_at", "author", "source", "position"):
        item[key] = entry[key]
    if entry.get("replaces"):
        item["replaces"] = entry["replaces"]
        item["replaces_reason"] = entry["reason"]
    for flag in ("nagekomen", "withdrawn"):
        if entry.get(flag):
            item[flag] = True
    if entry.get("confirmed_unusual"):
        item["confirmed_unusual"] = list(entry["confirmed_unusual"])
    return item


def apply_entry_in_place(form: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Apply ``entry`` to ``form`` itself (the store's fast path on its private copy)."""
    kind = entry["kind"]
    items = collection(form, kind)
    replaces = entry.get("replaces")
    if replaces:
        old = items.get(replaces)
        if old is None:
            raise ValueError(f"entry {replaces} to correct is not a {kind} entry of this rit")
        old["corrected_by"] = entry["entry_id"]
        old["correction_reason"] = entry["reason"]
    items[entry["entry_id"]] = entry_item(entry)
    if kind == "lifecycle":
        _apply_lifecycle(form, items[entry["entry_id"]])
    else:
        if kind in HISTORY_KINDS or kind in LATER_HISTORY_KINDS:
            _refold(form, kind)
        if form["status"] == ANNOUNCED:
            form["status"] = UPDATED
    if kind in SCORE_KINDS:
        form["scores"] = compute_scores(form)
    return form


def apply_entry(form: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """Return a new form with ``entry`` applied; ``form`` itself is left unchanged."""
    return apply_entry_in_place(copy.deepcopy(form), entry)


def build_form(header: dict[str, Any], entries: list[dict[str, Any]]) -> dict[str, Any]:
    form = new_form(header)
    for entry in entries:
        apply_entry_in_place(form, entry)
    return form


def _data(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k not in META_KEYS}


def _in_order(items: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted((i for i in items.values() if active(i)), key=lambda i: i["position"])


def _refold(form: dict[str, Any], kind: str) -> None:
    """Recompute a current view from its history: latest active entry per field wins."""
    items = _in_order(form["history"][kind])
    if kind == "time":
        form["times"] = {i["which"]: i["at"] for i in items}
        return
    if kind == "vehicle_position":  # the newest whole: an ETA left out means none now
        form[kind] = _data(items[-1]) if items else {}
        return
    if kind == "destination":
        if items:
            form["destination_seh"] = items[-1]["seh_id"]
        else:
            form.pop("destination_seh", None)
        return
    view: dict[str, Any] = {}
    for item in items:
        view.update(_data(item))
    if kind == "patient":
        view["identified"] = any(k in view for k in IDENTIFYING)
    form[kind] = view


def _apply_lifecycle(form: dict[str, Any], item: dict[str, Any]) -> None:
    event = item["event"]
    if event == "announce":
        form["status"] = ANNOUNCED
        form.pop("cancellation", None)
    elif event == "cancel":
        form["status"] = CANCELLED
        form["cancellation"] = {k: item[k] for k in ("seh_id", "reason", "text") if k in item}
        form["cancellation"]["at"] = item["clinical_time"]
    elif event == "overdracht":
        form["status"] = HANDED_OVER
        form["overdracht"] = {"at": item["clinical_time"], "seh_id": item["seh_id"],
                              "onvolledig": bool(item.get("onvolledig"))}
        if item.get("missing"):
            form["overdracht"]["missing"] = list(item["missing"])
    else:
        raise ValueError(f"unknown lifecycle event {event!r}")


# -- what the overdracht needs ------------------------------------------------------------------
OVERDRACHT_REQUIREMENTS = {
    "werkdiagnose": "werkdiagnose ontbreekt",
    "vitale_parameters": "nog geen vitale parameters vastgelegd",
    "behandelgrenzen": "behandelgrenzen niet uitgevraagd",
}
_LIMITS_ADDRESSED = ("niet mogelijk", "geweigerd", "niet van toepassing")


def missing_for_overdracht(form: dict[str, Any]) -> list[dict[str, str]]:
    """What a complete handover still lacks, as ``[{"item", "msg"}]`` (empty when complete)."""
    present = {
        "werkdiagnose": any(active(i) for i in form["diagnoses"].values()),
        "vitale_parameters": any(active(i) and "value" in i for i in form["vitals"].values()),
        "behandelgrenzen": any(active(i) and ("status" in i or i.get("not_state") in _LIMITS_ADDRESSED)
                               for i in form["treatment_limits"].values()),
    }
    return [{"item": key, "msg": msg} for key, msg in OVERDRACHT_REQUIREMENTS.items() if not present[key]]
