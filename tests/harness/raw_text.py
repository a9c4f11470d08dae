"""What a page must never show a crew member or a nurse: codes, UCUM units, ISO timestamps,
system words. The lists come from the code itself (value lists, entry kinds, time points),
so a new code is checked the day it is added."""

from __future__ import annotations

import re

from edge.form.entries import CLIENT_KINDS, SYSTEM_KINDS, TIME_POINTS
from edge.form.valuelists import DEFAULT_LISTS

ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
UCUM = ("mm[Hg]", "[iU]", "{score}", " Cel", " ug ", "ug/", "/min/")
SYSTEM_WORDS = ("snapshot", "announce", "True", "False", "None", "null", "(confirm)", "onvolledig:", "not_state",
                "seh-umcu", "seh-antonius", "nagekomen: true")


def _coded_words() -> set[str]:
    codes = {str(item["code"]) for items in DEFAULT_LISTS.values() for item in items
             if str(item["code"]) != str(item.get("label"))}
    codes = {c for c in codes if "_" in c or any(ch.isdigit() for ch in c)}
    codes |= {k for k in (*CLIENT_KINDS, *SYSTEM_KINDS) if "_" in k}
    codes |= {t for t in TIME_POINTS if "_" in t}
    return codes


CODED = _coded_words()


def raw_words(text: str) -> list[str]:
    """Every code, unit, timestamp or system word found in a page's visible text."""
    found = [m.group(0) for m in ISO_TIME.finditer(text)]
    found += [u.strip() for u in UCUM if u in text]
    found += [w for w in SYSTEM_WORDS if re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text)]
    found += [c for c in CODED if re.search(rf"(?<![\w-]){re.escape(c)}(?![\w-])", text)]
    return sorted(set(found))
