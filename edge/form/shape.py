"""The shape a ritformulier must have before a receiver applies it (pure, no I/O).

The form hash proves that both sides hold the same bytes, not that the bytes are a form:
``{"melding": "garbage"}`` with a matching hash used to be applied and then break every page
that shows it. A snapshot must have the form's top-level keys with the right types; a patch
must leave a well-shaped form. Keys this version does not know are let through, so a newer
tablet can add a section without the SEH refusing its messages (the pages show only what
they know). Problems are short English phrases naming the key, never its content.
"""

from __future__ import annotations

from typing import Any

from edge.form.model import (CANCELLED, CONCEPT, COLLECTIONS, HANDED_OVER, HISTORY_KINDS, LATER_HISTORY_KINDS,
                             PRIMARY_LETTERS, UPDATED, ANNOUNCED)

FORM_STATUSES = frozenset({CONCEPT, ANNOUNCED, UPDATED, HANDED_OVER, CANCELLED})
# Present in every form since the clinical record (migration 2 rebuilt older forms from their log).
REQUIRED_TEXT = ("rit_id", "vehicle_id", "created_at", "status")
REQUIRED_OBJECTS = ("patient", "melding", "identification", "times", "scores", "primary_survey", "history", "vitals")
OPTIONAL_TEXT = ("destination_seh",)
# Current views folded from the history, and the lifecycle's summaries: objects when present.
VIEWS = ("patient", "melding", "identification", "times", "scores", "vehicle_position", "cancellation",
         "overdracht")
TOP_COLLECTIONS = tuple(sorted({path[0] for path in COLLECTIONS.values() if len(path) == 1}))
LETTERS = tuple(PRIMARY_LETTERS.values())
HISTORY = (*HISTORY_KINDS, *LATER_HISTORY_KINDS)


def form_problem(form: Any) -> str | None:
    """None when ``form`` has the shape of a ritformulier, else what is wrong (for a reason code)."""
    if not isinstance(form, dict):
        return "form is not an object"
    for key in REQUIRED_TEXT + REQUIRED_OBJECTS:
        if key not in form:
            return f"form lacks {key}"
    for key in REQUIRED_TEXT + OPTIONAL_TEXT:
        if key in form and not isinstance(form[key], str):
            return f"form.{key} is not text"
    if form["status"] not in FORM_STATUSES:
        return "form.status is unknown"
    for key in VIEWS:
        if key in form and not isinstance(form[key], dict):
            return f"form.{key} is not an object"
    for key in TOP_COLLECTIONS:
        if key in form and (problem := _collection_problem(form[key], key)):
            return problem
    for parent, kinds in (("primary_survey", LETTERS), ("history", HISTORY)):
        node = form[parent]
        if not isinstance(node, dict):
            return f"form.{parent} is not an object"
        for kind in kinds:
            if kind in node and (problem := _collection_problem(node[kind], f"{parent}.{kind}")):
                return problem
    return None


def _collection_problem(items: Any, where: str) -> str | None:
    """A collection maps entry ids to items; every item is an object with a whole-number position."""
    if not isinstance(items, dict):
        return f"form.{where} is not an object"
    for item in items.values():
        if not isinstance(item, dict):
            return f"an item of form.{where} is not an object"
        position = item.get("position")
        if not isinstance(position, int) or isinstance(position, bool):
            return f"an item of form.{where} has no position"
    return None


def patch_problem(patch: Any) -> str | None:
    """What a merge patch would certainly break, seen without the form it applies to.

    The receiver checks the patched form with ``form_problem`` as well; this catches the
    obvious cases before ordering rules (held, stale) decide anything about the message.
    """
    if not isinstance(patch, dict):
        return "patch is not an object"
    for key, value in patch.items():
        required = key in REQUIRED_TEXT or key in REQUIRED_OBJECTS
        if value is None:
            if required:
                return f"patch removes form.{key}"
            continue
        if key in REQUIRED_TEXT + OPTIONAL_TEXT and not isinstance(value, str):
            return f"patch sets form.{key} to a non-text value"
        if key == "status" and value not in FORM_STATUSES:
            return "patch sets an unknown form.status"
        objects = (*VIEWS, *TOP_COLLECTIONS, "primary_survey", "history")
        if key in objects and not isinstance(value, dict):
            return f"patch sets form.{key} to a non-object"
        if key in TOP_COLLECTIONS and (problem := _items_patch_problem(value, key)):
            return problem
        for parent, kinds in (("primary_survey", LETTERS), ("history", HISTORY)):
            if key != parent:
                continue
            for kind, items in value.items():
                if kind in kinds and items is not None and (
                        problem := _items_patch_problem(items, f"{parent}.{kind}")):
                    return problem
    return None


def _items_patch_problem(items: Any, where: str) -> str | None:
    if not isinstance(items, dict):
        return f"patch sets form.{where} to a non-object"
    for item in items.values():
        if item is not None and not isinstance(item, dict):
            return f"patch sets an item of form.{where} to a non-object"
        if isinstance(item, dict) and "position" in item:
            position = item["position"]
            if position is None or not isinstance(position, int) or isinstance(position, bool):
                return f"patch breaks the position of an item of form.{where}"
    return None
