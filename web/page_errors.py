"""A refused save in the crew's words: which form, which field, what to do.

The domain's messages are written for the API too (they name the ``confirm`` flag and UCUM
units); the page says the same in the words on the screen. Error answers never echo the
input: only the field and a short reason.
"""

from __future__ import annotations

import re
from typing import Any

from edge.errors import DomainError
from web.words import UNIT_WORDS, klok, number, unit

STORE_FULL = ("Opslag vol — deze invoer is NIET opgeslagen. Noteer op papier; wat al was opgeslagen, "
              "blijft bewaard en wordt verzonden.")
UNUSUAL = "plausibility.unusual"
_UCUM = re.compile(r"(?<![\w\[])(" + "|".join(re.escape(u) for u in sorted(UNIT_WORDS, key=len, reverse=True)
                                              if not u.isalpha() or u in ("ug", "Cel")) + r")(?![\w\]])")


def crew_words(message: str) -> str:
    """The API's wording as the screen says it: no flag names, units as clinicians write them."""
    text = message.replace(" (confirm)", "").replace("(nagekomen: true)", "").replace("; bevestig met onvolledig: true", "")
    return _UCUM.sub(lambda m: UNIT_WORDS[m.group(1)], text).strip()


def _names(loc: list[Any] | None) -> list[str]:
    """Every name a form control could carry for this error location (``data.dose`` -> dose)."""
    parts = [str(p) for p in (loc or []) if p not in ("body", "data") and not str(p).isdigit()]
    if not parts:
        return []
    return list(dict.fromkeys([".".join(parts), parts[0], parts[-1]]))


# Labels of the controls drawn outside web/entry_forms.py, to name a field in a refusal.
LABELS = {"drug": "Middel", "dose": "Dosis", "route": "Toediening", "at": "Tijd", "seh_id": "Nieuwe SEH",
          "reason": "Reden", "value": "Nieuwe waarde", "text": "Toelichting", "not_state": "Niet gedaan",
          "values": "Vitale waarden", "urgency": "Urgentie", "destination_seh": "Bestemming",
          "estimated_age_years": "Leeftijd", "sex": "Geslacht", "ook_nieuw": "Nieuwe rit"}


def error_detail(exc: DomainError, form_id: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """Which form, which fields, and the message with the field named (a short reason, never the input)."""
    labels = {**LABELS, **(labels or {})}
    details = exc.details()
    fields: dict[str, str] = {}
    messages = []
    for d in details:
        names = _names(d.get("loc"))
        message = crew_words(str(d.get("msg", "")))
        label = next((labels[n] for n in names if n in labels), None)
        if label and not message.lower().startswith(label.lower()):
            message = f"{label}: {message}"
        messages.append(message)
        for name in names:
            fields.setdefault(name, message)
    detail = {"form": form_id, "message": "; ".join(dict.fromkeys(messages)) or "niet opgeslagen",
              "fields": fields, "unusual": any(d.get("type") == UNUSUAL for d in details)}
    repeat = next((d for d in details if d.get("type") == "medication.repeat"), None)
    if repeat:
        ctx = repeat.get("ctx") or {}
        dose = f" ({number(ctx['dose'])} {unit(ctx.get('unit'))})" if ctx.get("dose") is not None else ""
        detail["message"] = f"Al gegeven om {klok(ctx.get('given_at'))}{dose} — nogmaals toedienen?"
        detail["fields"] = {"drug": detail["message"]}
        detail["repeat"] = {"given_at": ctx.get("given_at")}
    return detail


def local_path(target: str) -> str:
    """Only a path on this tablet: never another host (no open redirect)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return ""
    return target


class SessionExpired(Exception):
    """A save without this shift's sign-in (expired, signed out, another tablet): the page says
    so and offers to sign in again, coming back to ``resume``."""

    def __init__(self, resume: str):
        super().__init__("dienst verlopen of afgemeld")
        self.resume = resume


def resume_path(request: Any) -> str:
    """Where the crew was: the rit screen of a save, else the rit list."""
    parts = request.url.path.split("/")
    if len(parts) > 2 and parts[1] == "rits":
        tab = str(request.query_params.get("tab", ""))
        return f"/rits/{parts[2]}" + (f"?tab={tab}" if tab.isalpha() else "")
    return "/"
