"""The tablet's HTML pages: shift sign-in, rit list, the rit screen and its saves.

Every save is a plain HTML form POST answered with 303 to the rit screen, so the crew can
work without JavaScript; htmx (hx-boost) only swaps the page without a full reload. Each
form carries this shift's CSRF token and a fresh idempotency key: a double tap sends the
same key twice and the service records the save once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from edge.form.entries import CLIENT_KINDS, parse_data
from edge.form.plausibility import VITALS
from edge.service import DomainError, EdgeService, IdempotencyKey, StoreFullError
from web import session
from web.view_model import TABS, header_model, medication_buttons, register_filters, tab_model

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
register_filters(templates.env)

# ABCDE letter -> (entry kind, coded field, value list, is the field a list, heading, field label)
ABCDE_FIELDS = {
    "A": ("airway", "status", "airway_status", False, "Luchtweg", "Status luchtweg"),
    "B": ("breathing", "findings", "breathing_findings", True, "Ademhaling", "Bevinding"),
    "C": ("circulation", "skin", "skin_findings", True, "Circulatie", "Huid"),
    "D": ("disability", "acvpu", "acvpu", False, "Neurologie", "ACVPU"),
    "E": ("exposure", "skin", "skin_findings", True, "Exposure", "Huid"),
}
MANUAL_VITALS = ("heart_rate", "bp_systolic", "bp_diastolic", "spo2", "resp_rate", "temperature", "glucose")


def _number(value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise DomainError(f"'{value}' is geen getal") from None


class Page:
    """What every tablet page needs: the crew, the theme, a fresh token pair per form."""

    def __init__(self, request: Request, crew: session.Crew):
        self.request = request
        self.crew = crew
        self.theme = "nacht" if request.cookies.get("ritlink_thema") == "nacht" else "dag"

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"crew": self.crew, "csrf": self.crew.csrf, "theme": self.theme, "new_key": lambda: secrets.token_hex(12),
                **extra}


def pages_router(service: EdgeService) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def signed_in(request: Request) -> session.Crew | None:
        return session.crew_from(request)

    async def posted(request: Request) -> tuple[session.Crew, dict[str, Any], IdempotencyKey | None]:
        form = await request.form()
        crew = session.check_csrf(signed_in(request), form.get("csrf"))
        fields = {k: form.getlist(k) if len(form.getlist(k)) > 1 else form.get(k) for k in form.keys()}
        key = None
        if form.get("idem"):
            body = "&".join(f"{k}={v}" for k, v in sorted(form.multi_items()) if k not in ("csrf", "idem"))
            digest = hashlib.sha256(f"POST\n{request.url.path}\n{body}".encode()).hexdigest()
            key = IdempotencyKey(str(form["idem"]), digest)
        return crew, fields, key

    def back(rit_id: str, tab: str, note: str = "") -> RedirectResponse:
        suffix = f"&melding={quote(note)}" if note else ""
        return RedirectResponse(f"/rits/{rit_id}?tab={tab}{suffix}", status_code=303)

    def rit_page(request: Request, crew: session.Crew, rit_id: str, tab: str, error: str = "",
                 status: int = 200) -> HTMLResponse:
        view = service.rit_view(rit_id, actor=crew.actor(request))
        page = Page(request, crew)
        context = page.context(view=view, tab=tab if tab in dict(TABS) else "abcde", tabs=TABS, error=error,
                               note=request.query_params.get("melding", ""),
                               header=header_model(service, view),
                               model=tab_model(service, view, tab, crew.actor(request)),
                               lists=service.value_lists(), abcde=ABCDE_FIELDS, manual_vitals={n: VITALS[n].label for n in MANUAL_VITALS},
                               medication_buttons=medication_buttons(service))
        return templates.TemplateResponse(request, "rit.html", context, status_code=status)

    async def save(request: Request, rit_id: str, tab: str, action) -> Response:
        crew, fields, key = await posted(request)
        try:
            action(crew.actor(request), fields, key)
        except DomainError as exc:
            return rit_page(request, crew, rit_id, tab, error=_error_text(exc), status=422)
        except StoreFullError as exc:  # said loudly on the page; nothing stored is lost
            return rit_page(request, crew, rit_id, tab, error=str(exc), status=507)
        return back(rit_id, tab, "Opgeslagen")

    # -- sign-in, theme -----------------------------------------------------------------
    @router.get("/aanmelden", response_class=HTMLResponse)
    def login_form(request: Request, fout: str = "") -> HTMLResponse:
        return templates.TemplateResponse(request, "login.html", {"error": fout, "theme": _theme(request)})

    @router.post("/aanmelden")
    async def login(request: Request) -> Response:
        form = await request.form()
        names = [n.strip() for n in (str(form.get("crew1", "")), str(form.get("crew2", ""))) if n.strip()]
        if not names or str(form.get("pin", "")) != session.expected_pin():
            return templates.TemplateResponse(request, "login.html", {
                "error": "Naam en juiste pincode nodig", "theme": _theme(request)}, status_code=403)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(session.COOKIE, session.cookie_value(names), httponly=True, samesite="strict")
        return response

    @router.post("/afmelden")
    async def logout(request: Request) -> Response:
        await posted(request)
        response = RedirectResponse("/aanmelden", status_code=303)
        response.delete_cookie(session.COOKIE)
        return response

    @router.post("/thema")
    async def theme(request: Request) -> Response:
        form = await request.form()
        response = RedirectResponse(str(form.get("terug") or "/"), status_code=303)
        response.set_cookie("ritlink_thema", "nacht" if form.get("thema") == "nacht" else "dag", samesite="strict")
        return response

    # -- rit list and new rit -----------------------------------------------------------
    @router.get("/", response_class=HTMLResponse)
    def rit_list(request: Request) -> Response:
        crew = signed_in(request)
        if crew is None:
            return RedirectResponse("/aanmelden", status_code=303)
        view_rits = service.rits(actor=crew.actor(request))
        return templates.TemplateResponse(request, "rits.html", Page(request, crew).context(
            rits=view_rits, sehs=service.sehs(), health=service.health(), error=""))

    @router.post("/ritten")
    async def new_rit(request: Request) -> Response:
        crew, fields, key = await posted(request)
        melding = {"reason": fields.get("reason") or None}
        try:
            made = service.create_rit(str(fields.get("destination_seh", "")), str(fields.get("urgency", "")),
                                      actor=crew.actor(request), melding={k: v for k, v in melding.items() if v},
                                      idempotency=key)
            # The signed-in crew goes on the form (a replayed key replays this write too).
            crew_key = IdempotencyKey(key.key + ":crew", key.fingerprint) if key else None
            service.add_entry(made["rit_id"], "identification",
                              parse_data("identification", {"crew": [{"name": n} for n in crew.names]}),
                              actor=crew.actor(request), idempotency=crew_key)
        except DomainError as exc:
            return templates.TemplateResponse(request, "rits.html", Page(request, crew).context(
                rits=service.rits(actor=crew.actor(request)), sehs=service.sehs(), health=service.health(),
                error=_error_text(exc)), status_code=422)
        return back(made["rit_id"], "abcde")

    # -- the rit screen -----------------------------------------------------------------
    @router.get("/rits/{rit_id}", response_class=HTMLResponse)
    def rit_screen(request: Request, rit_id: str, tab: str = "abcde") -> Response:
        crew = signed_in(request)
        if crew is None:
            return RedirectResponse("/aanmelden", status_code=303)
        return rit_page(request, crew, rit_id, tab)

    @router.get("/rits/{rit_id}/kop", response_class=HTMLResponse)
    def header_fragment(request: Request, rit_id: str) -> Response:
        """The header strip alone, polled by htmx so the sync ticks advance in place."""
        crew = signed_in(request)
        if crew is None:
            raise HTTPException(403)
        view = service.rit_view(rit_id, actor=crew.actor(request))
        return templates.TemplateResponse(request, "_header.html", Page(request, crew).context(
            view=view, header=header_model(service, view)))

    @router.post("/rits/{rit_id}/abcde/{letter}")
    async def save_abcde(request: Request, rit_id: str, letter: str) -> Response:
        if letter not in ABCDE_FIELDS:
            raise HTTPException(404)
        kind, field, _, many = ABCDE_FIELDS[letter][:4]

        def action(who, fields, key):
            data: dict[str, Any] = {}
            if fields.get(field):
                data[field] = [fields[field]] if many and isinstance(fields[field], str) else fields[field]
            if fields.get("text"):
                data["text"] = fields["text"]
            if fields.get("not_state"):
                data = {"not_state": fields["not_state"], **({"text": data["text"]} if "text" in data else {})}
            if not data:
                raise DomainError("vul iets in of kies 'niet beoordeeld'", field)
            service.add_entry(rit_id, kind, parse_data(kind, data), actor=who, idempotency=key)
        return await save(request, rit_id, "abcde", action)

    @router.post("/rits/{rit_id}/vitals/overnemen")
    async def accept_vitals(request: Request, rit_id: str) -> Response:
        return await save(request, rit_id, "vitals", lambda who, f, key: service.accept_vitals(
            rit_id, actor=who, confirm=bool(f.get("confirm")), idempotency=key))

    @router.post("/rits/{rit_id}/vitals/nibp/{proposal_id}")
    async def accept_nibp(request: Request, rit_id: str, proposal_id: str) -> Response:
        return await save(request, rit_id, "vitals", lambda who, f, key: service.accept_nibp(
            rit_id, proposal_id, actor=who, confirm=bool(f.get("confirm")), idempotency=key))

    @router.post("/rits/{rit_id}/voorstel/{proposal_id}")
    async def confirm_proposed_time(request: Request, rit_id: str, proposal_id: str) -> Response:
        def action(who, fields, key):
            if getattr(service, "position", None) is None:
                raise DomainError("geen GPS: er zijn geen voorgestelde tijden")
            service.position.confirm(rit_id, proposal_id, actor=who, idempotency=key)
        return await save(request, rit_id, "melding", action)

    @router.post("/rits/{rit_id}/vitals")
    async def manual_vitals(request: Request, rit_id: str) -> Response:
        def action(who, fields, key):
            values = {n: _number(fields.get(n)) for n in MANUAL_VITALS}
            service.add_vitals(rit_id, {n: v for n, v in values.items() if v is not None}, actor=who,
                               confirm=bool(fields.get("confirm")), idempotency=key)
        return await save(request, rit_id, "vitals", action)

    @router.post("/rits/{rit_id}/medicatie")
    async def medication(request: Request, rit_id: str) -> Response:
        def action(who, fields, key):
            data = {"drug": fields.get("drug"), "dose": _number(fields.get("dose")), "unit": fields.get("unit") or None,
                    "route": fields.get("route") or None}
            data = {k: v for k, v in data.items() if v is not None}
            service.add_entry(rit_id, "medication", parse_data("medication", data), actor=who,
                              confirm=bool(fields.get("confirm")), idempotency=key)
        return await save(request, rit_id, "medicatie", action)

    @router.post("/rits/{rit_id}/invoer/{kind}")
    async def simple_entry(request: Request, rit_id: str, kind: str) -> Response:
        """Kinds whose form fields map one-to-one onto the entry (SAMPLE, diagnose, patient...)."""
        if kind not in CLIENT_KINDS or kind in ("medication", "vital"):
            raise HTTPException(404)
        tab = {"diagnosis": "diagnose", "procedure": "verrichtingen", "sample": "secundair",
               "secondary": "secundair", "patient": "melding", "time": "melding"}.get(kind, "abcde")

        def action(who, fields, key):
            data = {k: v for k, v in fields.items() if k not in ("csrf", "idem", "confirm") and v not in ("", None)}
            if kind == "time" and data.get("at") in (None, "nu"):
                data["at"] = datetime.now(UTC).isoformat()
            if kind == "secondary" and isinstance(data.get("findings"), str):
                data["findings"] = [data["findings"]]
            for numeric in ("estimated_age_years", "weight_kg", "attempts"):
                if numeric in data:
                    data[numeric] = _number(data[numeric])
            service.add_entry(rit_id, kind, parse_data(kind, data), actor=who, confirm=bool(fields.get("confirm")),
                              idempotency=key)
        return await save(request, rit_id, tab, action)

    @router.post("/rits/{rit_id}/corrigeer/{entry_id}")
    async def correct(request: Request, rit_id: str, entry_id: str) -> Response:
        def action(who, fields, key):
            old = next((e for e in service.entries(rit_id, actor=who) if e["entry_id"] == entry_id), None)
            if old is None:
                raise DomainError("deze invoer bestaat niet")
            if fields.get("withdraw"):
                service.correct_entry(rit_id, entry_id, actor=who, reason=str(fields.get("reason", "")),
                                      withdraw=True, idempotency=key)
                return
            model = CLIENT_KINDS.get(old["kind"])
            data = {k: v for k, v in old["data"].items() if model and k in model.model_fields}
            if fields.get("value"):
                data["value"] = _number(fields["value"])
            if fields.get("text"):
                data["text"] = fields["text"]
            service.correct_entry(rit_id, entry_id, actor=who, reason=str(fields.get("reason", "")), data=data,
                                  confirm=bool(fields.get("confirm")), idempotency=key)
        return await save(request, rit_id, str(request.query_params.get("tab", "abcde")), action)

    # -- lifecycle, always through a confirm step -----------------------------------------
    @router.get("/rits/{rit_id}/bevestig/{what}", response_class=HTMLResponse)
    def confirm_step(request: Request, rit_id: str, what: str) -> Response:
        crew = signed_in(request)
        if crew is None:
            return RedirectResponse("/aanmelden", status_code=303)
        if what not in ("vooraankondigen", "overdracht", "annuleren"):
            raise HTTPException(404)
        view = service.rit_view(rit_id, actor=crew.actor(request))
        missing = service.overdracht_missing(rit_id, actor=crew.actor(request))["missing"] if what == "overdracht" else []
        return templates.TemplateResponse(request, "confirm.html", Page(request, crew).context(
            view=view, what=what, missing=missing, header=header_model(service, view),
            cancel_reasons=service.value_lists()["cancel_reasons"]))

    @router.post("/rits/{rit_id}/vooraankondigen")
    async def announce(request: Request, rit_id: str) -> Response:
        return await save(request, rit_id, "overdracht",
                          lambda who, f, key: service.announce(rit_id, actor=who, idempotency=key))

    @router.post("/rits/{rit_id}/overdracht")
    async def overdracht(request: Request, rit_id: str) -> Response:
        return await save(request, rit_id, "overdracht", lambda who, f, key: service.overdracht(
            rit_id, actor=who, onvolledig=bool(f.get("onvolledig")), idempotency=key))

    @router.post("/rits/{rit_id}/annuleren")
    async def cancel(request: Request, rit_id: str) -> Response:
        return await save(request, rit_id, "overdracht", lambda who, f, key: service.cancel(
            rit_id, str(f.get("reason", "")), actor=who, text=f.get("text") or None, idempotency=key))

    @router.post("/rits/{rit_id}/seh-gebeld")
    async def seh_called(request: Request, rit_id: str) -> Response:
        return await save(request, rit_id, str(request.query_params.get("tab", "abcde")),
                          lambda who, f, key: service.seh_called(rit_id, str(f.get("seh_id", "")),
                                                                 str(f.get("warning", "")), actor=who,
                                                                 idempotency=key))

    return router


def _theme(request: Request) -> str:
    return "nacht" if request.cookies.get("ritlink_thema") == "nacht" else "dag"


def _error_text(exc: DomainError) -> str:
    details = exc.details()
    if isinstance(details, list):
        return "; ".join(str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in details)
    return str(details)
