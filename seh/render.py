"""Render the board and the rit pages so that one unreadable rit cannot blank them.

Every form the SEH shows passed the shape check on arrival (edge/form/shape), but the pages
still render each board row and each section of a form on its own: a rit whose data the
page cannot show becomes one "onleesbaar bericht" line, and the rest answers 200 as always.
Log lines name the rit and the exception type only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from markupsafe import Markup

from web import words

log = logging.getLogger("ritlink.seh.board")

UNREADABLE = "onleesbaar bericht"

# (title, path in the form, entry kind) in the order the nurse reads them.
SECTIONS: list[tuple[str, tuple[str, ...], str]] = [
    ("Teamalarm", ("team_alerts",), "team_alert"), ("Melding", ("history", "melding"), "melding"), ("Rit en bemanning", ("history", "identification"), "identification"),
    ("Tijden", ("history", "time"), "time"), ("Patiënt", ("history", "patient"), "patient"),
    ("Behandelgrenzen", ("treatment_limits",), "treatment_limits"), ("Allergieën", ("allergies",), "allergy"),
    ("Juridische maatregel", ("legal_measures",), "legal_measure"),
    ("A — Luchtweg", ("primary_survey", "A"), "airway"), ("B — Ademhaling", ("primary_survey", "B"), "breathing"),
    ("C — Circulatie", ("primary_survey", "C"), "circulation"), ("D — Neurologie", ("primary_survey", "D"), "disability"),
    ("EMV (GCS)", ("gcs",), "gcs"), ("E — Exposure", ("primary_survey", "E"), "exposure"), ("Pijnscore", ("pain",), "pain"),
    ("Vitale waarden", ("vitals",), "vital"), ("SpO2-schaal", ("spo2_scale",), "spo2_scale"),
    ("12-afleidingen-ECG", ("ecgs",), "ecg"),
    ("Traumamechanisme", ("trauma_mechanisms",), "trauma_mechanism"), ("Intoxicatie", ("intoxications",), "intoxication"),
    ("Medicatie", ("medications",), "medication"), ("Verrichtingen", ("procedures",), "procedure"),
    ("Secundair onderzoek", ("secondary_survey",), "secondary"), ("SAMPLE", ("sample",), "sample"),
    ("Werkdiagnose", ("diagnoses",), "diagnosis"), ("Opmerkingen", ("remarks",), "remark"),
    ("Bestemming", ("history", "destination"), "destination"), ("SEH gebeld", ("seh_called",), "seh_called"),
    ("Verloop (aankondiging, overdracht)", ("history", "lifecycle"), "lifecycle"),
]

counters = {"unreadable_rows": 0, "unreadable_sections": 0, "ignored_live": 0}


def _at(form: Any, path: tuple[str, ...]) -> Any:
    node = form
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    return node


def _check_section(section: Any) -> None:
    """A section is a mapping of entries, each a mapping with its integer place in the log;
    anything else is said to be unreadable rather than quietly left out."""
    if section is None:
        return
    if not isinstance(section, dict) or any(not isinstance(e, dict) or type(e.get("position")) is not int
                                            for e in section.values()):
        raise ValueError("section of the wrong shape")


def form_sections(env: Any, form: Any, rit_id: str, seen_position: int | None) -> list[Markup]:
    """Each section of a form rendered on its own; a section that fails shows UNREADABLE."""
    section_tpl = env.get_template("_form_section.html")
    out = []
    for title, path, kind in SECTIONS:
        try:
            _check_section(_at(form, path))
            out.append(Markup(section_tpl.render(title=title, section=_at(form, path), kind=kind, rit_id=rit_id,
                                                 seen_position=seen_position)))
        except Exception as exc:
            counters["unreadable_sections"] += 1
            log.warning("rit %s: section %s unreadable (%s)", rit_id, path[-1], type(exc).__name__)
            out.append(Markup(section_tpl.render(title=title, unreadable=UNREADABLE)))
    return out


def board_rows(env: Any, rows: list[dict[str, Any]], **context: Any) -> list[Markup]:
    """Each arrivals line rendered on its own (rows from ``safe_rows``); ``context`` e.g. kiosk."""
    row_tpl = env.get_template("_board_row.html")
    out = []
    for r in rows:
        try:
            out.append(Markup(row_tpl.render(r=r, **context)))
        except Exception as exc:
            counters["unreadable_rows"] += 1
            log.warning("rit %s unreadable on the board (%s)", r.get("rit_id"), type(exc).__name__)
            out.append(Markup(row_tpl.render(r=unreadable_row(r), **context)))
    return out


def safe_rows(summaries: list[dict[str, Any]], load: Callable[[str], dict | None],
              make_row: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
    """The board's lines, sorted; a rit that cannot be turned into a line becomes UNREADABLE."""
    out = []
    for summary in summaries:
        try:
            row = load(summary["rit_id"])
            if row is None:
                continue
            out.append(make_row(row))
        except Exception as exc:
            counters["unreadable_rows"] += 1
            log.warning("rit %s unreadable on the board (%s)", summary["rit_id"], type(exc).__name__)
            out.append(unreadable_row(summary))
    # By ETA when the vehicle gave one, else by the last update (newest first).
    with_eta = sorted((r for r in out if r["eta"]), key=lambda r: r["eta"])
    return with_eta + sorted((r for r in out if not r["eta"]), key=lambda r: str(r["updated_at"]), reverse=True)


def unreadable_row(row: dict[str, Any]) -> dict[str, Any]:
    return {"rit_id": str(row.get("rit_id", "")), "seq": row.get("seq", ""), "status": "onleesbaar",
            "status_words": UNREADABLE, "urgency": "—", "eta": None, "patient": UNREADABLE, "diagnosis": "",
            "limits": "", "live": "", "updated_at": str(row.get("updated_at") or ""), "unreadable": True}


def live_text(live: Any) -> str:
    """Up to four live values as "SpO2 93"; values of the wrong shape are left out (counted)."""
    vitals = live.get("vitals") if isinstance(live, dict) else None
    if not isinstance(vitals, list):
        return ""
    shown = []
    for vital in vitals[:4]:
        if isinstance(vital, dict) and isinstance(vital.get("label"), str) and (
                vital.get("value") is None or isinstance(vital.get("value"), (int, float))):
            shown.append(f"{vital['label']} {words.number(vital.get('value')) if vital.get('value') is not None else '—'}")
        else:
            counters["ignored_live"] += 1
    return ", ".join(shown)


def text(value: Any) -> str:
    """A value for a board cell: text as it is, anything else not shown."""
    return value if isinstance(value, str) else ""
