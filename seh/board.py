"""The arrivals board's lines, in the words a nurse reads from across the room.

One line per rit: urgency in words and style, team alarms, ambulance, arrival as "over 6 min ·
14:23", patient, werkdiagnose, the latest recorded vital signs with their age, treatment
limits, status, and who at the SEH confirmed reading it ("Gelezen door j.jansen 14:25" or
"nog niet gelezen"). Rits that are handed over or cancelled move to a "recent" part and leave
the board after a while. Live values and the ETA belong to the rit the vehicle names as active,
and only while it is announced.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from edge.form.model import ACTIVE_STATUSES
from seh import render
from web import summary, words
from web.view_model import entries_of, eta_of, patient_words, team_alerts

STATUS_WORDS = {"aangekondigd": "vooraangekondigd", "vooraankondiging": "vooraangekondigd",
                "update": "vooraangekondigd", "overdracht": "overgedragen", "geannuleerd": "geannuleerd",
                "concept": "concept"}
URGENCY_WORDS = {"A1": "A1 spoed", "A2": "A2 dringend", "B": "B besteld"}
CHANGED_S = 60  # a line that changed this recently is highlighted
UNREAD_WORDS = "nog niet gelezen"
READ_ACTION = "rit.read_receipt"  # seh/app.py logs a nurse's "Gelezen" under this action

# The latest read receipt of each rit on the board, in one query (the rit ids as one JSON
# parameter: no N+1 per line, no limit on the number of bound variables).
LAST_READS_SQL = (
    "SELECT l.rit_id, l.at, l.user, l.detail FROM seh_access_log l"
    " JOIN (SELECT rit_id, MAX(id) AS id FROM seh_access_log"
    "       WHERE action = ? AND rit_id IN (SELECT value FROM json_each(?)) GROUP BY rit_id) m ON m.id = l.id")


def last_reads(query: Callable[[str, Sequence], list[dict]], rit_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """rit id -> who confirmed reading it last, when, and which version (``seq``) they read."""
    if not rit_ids:
        return {}
    out = {}
    for row in query(LAST_READS_SQL, [READ_ACTION, json.dumps(list(rit_ids))]):
        try:
            seq = json.loads(row["detail"] or "{}").get("seq")
        except (ValueError, AttributeError):
            seq = None
        out[row["rit_id"]] = {"user": str(row["user"]), "at": str(row["at"]), "seq": seq if isinstance(seq, int) else None}
    return out


def read_version(query: Callable[[str, Sequence], list[dict]]) -> object:
    """Changes whenever someone confirms reading a rit (the board's live refresh watches it)."""
    rows = query("SELECT MAX(id) AS id FROM seh_access_log WHERE action = ?", [READ_ACTION])
    return rows[0]["id"] if rows else None


def read_words(row: dict[str, Any], read: dict[str, Any] | None, now: datetime | None = None) -> dict[str, Any]:
    """"Gelezen door j.jansen 14:25" (and "gewijzigd na lezen" when a newer version came in since),
    or "nog niet gelezen": words, never colour alone."""
    if not read:
        return {"read": False, "read_words": UNREAD_WORDS, "read_after": ""}
    seq = read.get("seq")
    newer = isinstance(seq, int) and isinstance(row.get("seq"), int) and row["seq"] > seq
    return {"read": True, "read_words": f"Gelezen door {read['user']} {words.klok(read['at'], now)}",
            "read_after": "gewijzigd na lezen" if newer else ""}


def live_of_rit(row: dict[str, Any], live: dict | None) -> dict | None:
    if row.get("status") not in ACTIVE_STATUSES or not isinstance(live, dict):
        return None
    rit_ids = live.get("rit_ids")
    return live if isinstance(rit_ids, list) and row["rit_id"] in rit_ids else None


def arrival_words(arrival_at: str | None, now: datetime | None = None) -> str:
    """"over 6 min · 14:23"; "nu verwacht" once the time has come."""
    if not arrival_at:
        return ""
    now = now or datetime.now(UTC)
    moment = datetime.fromisoformat(arrival_at.replace("Z", "+00:00"))
    minutes = round((moment - now).total_seconds() / 60)
    when = "nu verwacht" if minutes <= 0 else f"over {minutes} min"
    return f"{when} · {words.klok(arrival_at, now)}"


def _diagnosis(form: dict[str, Any]) -> str:
    active = [e for e in entries_of(form.get("diagnoses"), "diagnosis") if not e.get("corrected_by")
              and not e.get("withdrawn")]
    return str(active[-1].get("text", "")) if active else ""


def board_row(row: dict[str, Any], live: dict | None, now: datetime | None = None,
              read: dict[str, Any] | None = None) -> dict[str, Any]:
    """One arrivals line (raises on a form it cannot read: seh/render.py turns that rit's line
    into "onleesbaar bericht"). ``read``: the rit's entry from ``last_reads``."""
    now = now or datetime.now(UTC)
    form = row["form"]
    limits = [str(e["summary"]).removeprefix("behandelgrenzen: ")
              for e in entries_of(form.get("treatment_limits"), "treatment_limits")
              if not e.get("corrected_by") and not e.get("withdrawn") and (e.get("limits") or e.get("status") == "bekend")]
    urgency = render.text((form.get("melding") or {}).get("urgency")) or "—"
    announced = row.get("status") in ACTIVE_STATUSES
    eta = (render.text(eta_of(form)) or None) if announced else None
    updated = datetime.fromisoformat(str(row["updated_at"]).replace("Z", "+00:00"))
    return {
        "rit_id": row["rit_id"], "seq": row["seq"], "status": row["status"],
        "status_words": STATUS_WORDS.get(row["status"], row["status"]),
        "urgency": urgency, "urgency_words": URGENCY_WORDS.get(urgency, urgency),
        "vehicle": str(row.get("vehicle_id", "")), "alerts": team_alerts(form),
        "eta": eta, "arrival": arrival_words(eta, now),
        "patient": patient_words(form.get("patient") or {}),
        "diagnosis": _diagnosis(form),
        "vitals": " · ".join(f"{v['label']} {v['value']} ({v['age']})" for v in summary.latest_vitals(form, now)),
        "limits": "; ".join(limits), "live": render.live_text(live_of_rit(row, live)),
        "updated_at": row["updated_at"], "finished": not announced,
        "changed": (now - updated) <= timedelta(seconds=CHANGED_S),
        **read_words(row, read, now),
    }


def recent_enough(line: dict[str, Any], keep_minutes: float, now: datetime | None = None) -> bool:
    """A finished rit stays in the recent part for ``keep_minutes`` after its last message."""
    try:
        updated = datetime.fromisoformat(str(line["updated_at"]).replace("Z", "+00:00"))
    except ValueError:
        return True
    return (now or datetime.now(UTC)) - updated <= timedelta(minutes=keep_minutes)
