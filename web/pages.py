"""The tablet's HTML pages: shift sign-in, rit list, the rit screen and its saves.

Every save is a plain HTML form POST answered with 303 to the rit screen, so the crew can
work without JavaScript; htmx (hx-boost) only swaps the page without a full reload. A
refused save answers with the rit screen again, the refusal named next to its control and
in the page's alert region, with the refusal's status (422, 409, 507): htmx is configured
to swap those answers too (web/static/ritlink.js), so no refusal is ever silent. Each form
carries this shift's CSRF token and a fresh idempotency key: a double tap records once.
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
from edge.wire.safe_text import text_problem
from web import session, words
from web.entry_forms import (FORMS_BY_ID, INLINE_CHOICES, MULTI_FIELDS, NOT_STATES, clock_time, data_from_fields,
                             forms_for, medication_data)
from web.page_errors import STORE_FULL, SessionExpired, error_detail, local_path, resume_path
from web.sun import is_dark
from web.view_model import (TABS, rit_rows, header_model, medication_buttons, register_filters,
                             standing, tab_model)

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")
register_filters(templates.env)

MANUAL_VITALS = ("heart_rate", "bp_systolic", "bp_diastolic", "spo2", "resp_rate", "temperature", "glucose")
TYPICAL = {"heart_rate": "80", "bp_systolic": "120", "bp_diastolic": "80", "spo2": "97", "resp_rate": "16",
           "temperature": "37,0", "glucose": "6,0"}
# "ABCDE normaal": the five letters' one-tap forms, in order.
NORMAL_ABCDE = [FORMS_BY_ID[f"{letter}-normaal"] for letter in "ABCDE"]
# Single facts: the standing entry of these forms is corrected, never repeated (section, kind).
STANDING_SECTIONS = {"patient": ("history", "patient"), "melding": ("history", "melding"),
                     "identification": ("history", "identification"), "diagnosis": ("diagnoses", None)}


def _number(value: str | None, field: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise DomainError(f"'{value[:20]}' is geen getal", field) from None


class Page:
    """What every tablet page needs: the crew, the theme, a fresh token pair per form."""

    def __init__(self, request: Request, crew: session.Crew, place: tuple[float, float] | None = None):
        self.request = request
        self.crew = crew
        self.theme = _theme(request, place)
        self.theme_choice = _theme_choice(request)
        lat, lon = place or DEFAULT_PLACE
        self.auto_theme = "nacht" if is_dark(lat, lon) else "dag"

    def context(self, **extra: Any) -> dict[str, Any]:
        return {"crew": self.crew, "csrf": self.crew.csrf, "theme": self.theme, "theme_choice": self.theme_choice, "auto_theme": self.auto_theme,
                "new_key": lambda: secrets.token_hex(12), **extra}


def _standings(form: dict[str, Any], forms) -> dict[str, dict[str, Any]]:
    out = {}
    for f in forms:
        if f.single_fact and f.form_id in STANDING_SECTIONS:
            first, second = STANDING_SECTIONS[f.form_id]
            section = (form.get(first) or {}).get(second) if second else form.get(first)
            found = standing(section, f.kind)
            if found:
                out[f.form_id] = found
    return out


def pages_router(service: EdgeService) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def signed_in(request: Request) -> session.Crew | None:
        return session.crew_from(request)

    def place() -> tuple[float, float] | None:
        """The vehicle's last GPS fix, for the automatic theme."""
        position = getattr(service, "position", None)
        fix = position.status().get("fix") if position is not None else None
        return (fix["lat"], fix["lon"]) if isinstance(fix, dict) and "lat" in fix else None

    async def posted(request: Request) -> tuple[session.Crew, dict[str, Any], IdempotencyKey | None]:
        form = await request.form()
        try:
            crew = session.check_csrf(signed_in(request), form.get("csrf"))
        except HTTPException:
            raise SessionExpired(resume_path(request)) from None
        values = {k: form.getlist(k) for k in form.keys()}
        repeated = [k for k, sent in values.items() if len(sent) > 1 and k not in MULTI_FIELDS]
        if repeated:
            raise DomainError(f"'{repeated[0][:40]}' is meer dan eens verstuurd: één waarde verwacht", repeated[0][:40])
        fields = {k: sent if len(sent) > 1 else form.get(k) for k, sent in values.items()}
        key = None
        if form.get("idem"):
            body = "&".join(f"{k}={v}" for k, v in sorted(form.multi_items()) if k not in ("csrf", "idem"))
            digest = hashlib.sha256(f"POST\n{request.url.path}\n{body}".encode()).hexdigest()
            key = IdempotencyKey(str(form["idem"]), digest)
        return crew, fields, key

    def screen_url(rit_id: str, tab: str, note: str = "") -> str:
        """The rit screen's address for a redirect or HX-Push-Url: the tab comes from the query
        string, so only a known one goes into a header (no CR/LF, no 5 KB echo)."""
        suffix = f"&melding={quote(note)}" if note else ""
        return f"/rits/{quote(rit_id)}?tab={tab if tab in dict(TABS) else 'abcde'}{suffix}"

    def back(rit_id: str, tab: str, note: str = "") -> RedirectResponse:
        return RedirectResponse(screen_url(rit_id, tab, note), status_code=303)

    def rit_page(request: Request, crew: session.Crew, rit_id: str, tab: str, error: dict[str, Any] | None = None,
                 status: int = 200, note: str | None = None) -> HTMLResponse:
        actor = crew.actor(request)
        view = service.rit_view(rit_id, actor=actor)
        tab = tab if tab in dict(TABS) else "abcde"
        forms = forms_for(tab)
        lists = service.value_lists()
        context = Page(request, crew, place()).context(
            view=view, tab=tab, tabs=TABS, error=error["message"] if error else "", error_detail=error,
            note=request.query_params.get("melding", "") if note is None else note, header=header_model(service, view),
            model=tab_model(service, view, tab, actor), lists=lists, forms=forms,
            standings=_standings(view["form"], forms), inline_choices=INLINE_CHOICES, not_states=NOT_STATES,
            time_words=words.TIME_WORDS, sehs=service.sehs(), seh_choices=service.destination_choices(),
            medication_buttons=medication_buttons(service),
            route_words={r["code"]: r["label"] for r in lists.get("routes", [])},
            manual_vitals={n: {"label": VITALS[n].label, "unit": words.unit(VITALS[n].unit), "typical": TYPICAL[n]}
                           for n in MANUAL_VITALS})
        return templates.TemplateResponse(request, "rit.html", context, status_code=status)

    async def save(request: Request, rit_id: str, tab: str, action) -> Response:
        """Run one save; a refusal comes back as the same screen, said where the crew looks."""
        crew, fields, key = await posted(request)
        form_id = str(request.query_params.get("formulier") or fields.get("formulier") or "")
        try:
            action(crew.actor(request), fields, key)
        except DomainError as exc:
            form = FORMS_BY_ID.get(form_id)
            labels = {f.name: f.label for f in form.fields} if form else {}
            detail = error_detail(exc, form_id, labels)
            if detail.get("repeat"):  # the confirmation re-posts exactly what was asked
                detail["repeat"]["posted"] = {k: str(fields[k]) for k in ("drug", "dose", "route", "om", "confirm")
                                              if fields.get(k)}
            return rit_page(request, crew, rit_id, tab, detail, status=exc.status)
        except StoreFullError:  # said loudly on the page; nothing stored is lost
            return rit_page(request, crew, rit_id, tab, {"form": form_id, "message": STORE_FULL, "fields": {},
                                                         "unusual": False}, status=507)
        note = saved_note(form_id)
        if request.headers.get("HX-Request") == "true":
            # htmx (the tablet with JS): answer with the screen itself and let htmx put its address
            # in the history, as the redirect would; one round trip less per save. Without JS: 303.
            page = rit_page(request, crew, rit_id, tab, note=note)
            page.headers["HX-Push-Url"] = screen_url(rit_id, tab, note)
            return page
        return back(rit_id, tab, note)

    def nagekomen(fields: dict[str, Any]) -> bool:
        return bool(fields.get("nagekomen"))

    # -- sign-in, theme -----------------------------------------------------------------
    @router.get("/aanmelden", response_class=HTMLResponse)
    def login_form(request: Request, fout: str = "", terug: str = "") -> HTMLResponse:
        return login_page(request, fout[:200], local_path(terug))

    def login_page(request: Request, error: str, terug: str, status: int = 200) -> HTMLResponse:
        token = session.login_token(request)
        response = templates.TemplateResponse(request, "login.html", {
            "error": error, "theme": _theme(request), "terug": terug, "login_csrf": token}, status_code=status)
        response.set_cookie(session.LOGIN_COOKIE, token, httponly=True, samesite="strict")
        return response

    @router.post("/aanmelden")
    async def login(request: Request) -> Response:
        form = await request.form()
        names = [n.strip()[:80] for n in (str(form.get("crew1", "")), str(form.get("crew2", ""))) if n.strip()]
        terug = local_path(str(form.get("terug", "")))
        if not session.login_token_ok(request, form.get("csrf")):
            return login_page(request, "Het aanmeldformulier was verlopen: probeer het opnieuw", terug, 403)
        problem = next(filter(None, map(text_problem, names)), None)
        if problem:  # the names go on every rit of the shift
            return login_page(request, f"Naam {problem}", terug, 422)
        opened, error = session.sign_in(request, names, str(form.get("pin", "")))
        if opened is None:
            return login_page(request, error, terug, 429 if error.startswith("Te veel") else 403)
        response = RedirectResponse(terug or "/", status_code=303)
        max_age = max(60, int(session.auth_of(request).book.hours * 3600))
        response.set_cookie(session.COOKIE, opened.token, httponly=True, samesite="strict", max_age=max_age)
        return response

    @router.post("/afmelden")
    async def logout(request: Request) -> Response:
        await posted(request)
        session.sign_out(request)  # server-side: a copy of the cookie is worthless from now on
        response = RedirectResponse("/aanmelden", status_code=303)
        response.delete_cookie(session.COOKIE)
        return response

    @router.post("/thema")
    async def theme(request: Request) -> Response:
        form = await request.form()
        response = RedirectResponse(local_path(str(form.get("terug") or "")) or "/", status_code=303)
        chosen = str(form.get("thema"))
        response.set_cookie("ritlink_thema", chosen if chosen in THEMES else "dag", samesite="strict",
                            max_age=365 * 24 * 3600)
        return response

    # -- rit list and new rit -----------------------------------------------------------
    def list_page(request: Request, crew: session.Crew, error: str = "", status: int = 200) -> Response:
        names = {s["id"]: s["name"] for s in service.sehs()}
        return templates.TemplateResponse(request, "rits.html", Page(request, crew, place()).context(
            rows=rit_rows(service.rits(actor=crew.actor(request)), names, service.active_rit_id()), sehs=service.sehs(),
            seh_choices=service.destination_choices(), health=service.health(), lists=service.value_lists(), error=error), status_code=status)

    @router.get("/", response_class=HTMLResponse)
    def rit_list(request: Request) -> Response:
        crew = signed_in(request)
        if crew is None:
            return RedirectResponse("/aanmelden", status_code=303)
        return list_page(request, crew)

    @router.post("/ritten")
    async def new_rit(request: Request) -> Response:
        crew, fields, key = await posted(request)
        melding = {"reason": fields.get("reason") or None}
        try:
            patient = None
            if fields.get("onbekend"):  # an unidentified patient is a first-class start
                patient = {"unidentified": True, "sex": fields.get("sex") or None,
                           "estimated_age_years": _number(fields.get("estimated_age_years"), "estimated_age_years")}
                patient = parse_data("patient", {k: v for k, v in patient.items() if v is not None})
            # The signed-in crew (and an unidentified patient) go on the form with the rit itself.
            first = [("identification", parse_data("identification", {"crew": [{"name": n} for n in crew.names]}))]
            if patient is not None:
                first.append(("patient", patient))
            made = service.create_rit(str(fields.get("destination_seh", "")), str(fields.get("urgency", "")),
                                      actor=crew.actor(request), melding={k: v for k, v in melding.items() if v},
                                      idempotency=key, beside_open_rit=bool(fields.get("ook_nieuw")),
                                      seh_stop_reason=str(fields.get("seh_stop_reason", "")), first_entries=first)
        except DomainError as exc:
            return list_page(request, crew, error_detail(exc, "nieuw")["message"], status=exc.status)
        except StoreFullError:
            return list_page(request, crew, STORE_FULL, status=507)
        return back(made["rit_id"], "abcde")

    # -- the rit screen -----------------------------------------------------------------
    @router.get("/rits/{rit_id}", response_class=HTMLResponse)
    def rit_screen(request: Request, rit_id: str, tab: str = "abcde") -> Response:
        crew = signed_in(request)
        if crew is None:
            return RedirectResponse(f"/aanmelden?terug={quote(request.url.path)}", status_code=303)
        return rit_page(request, crew, rit_id, tab)

    @router.get("/rits/{rit_id}/kop", response_class=HTMLResponse)
    def header_fragment(request: Request, rit_id: str) -> Response:
        """The header strip alone, polled by htmx so the sync ticks advance in place."""
        crew = signed_in(request)
        if crew is None:
            raise HTTPException(403)
        view = service.rit_view(rit_id, actor=crew.actor(request), audit=False)
        return templates.TemplateResponse(request, "_header.html", Page(request, crew, place()).context(
            view=view, header=header_model(service, view)))

    @router.post("/rits/{rit_id}/invoer/{form_id}")
    async def entry(request: Request, rit_id: str, form_id: str) -> Response:
        """Any form of web/entry_forms.py, and the run times ("nu" or "om HH:MM")."""
        if form_id == "tijd":
            def add_time(who, fields, key):
                at = datetime.now(UTC) if fields.get("at") == "nu" else (
                    clock_time(str(fields["om"])) if fields.get("om") else None)
                if at is None:
                    raise DomainError("tik op 'nu' of vul een tijd in (UU:MM)", "at")
                service.set_time(rit_id, str(fields.get("which", "")), at, actor=who, idempotency=key,
                                 nagekomen=nagekomen(fields))
            return await save(request, rit_id, "patient", add_time)
        form = FORMS_BY_ID.get(form_id)
        if form is None:
            raise HTTPException(404)

        def action(who, fields, key):
            data = data_from_fields(form, fields)
            service.add_entry(rit_id, form.kind, parse_data(form.kind, data), actor=who,
                              confirm=bool(fields.get("confirm")), nagekomen=nagekomen(fields), idempotency=key)
        return await save(request, rit_id, form.tab, action)

    @router.post("/rits/{rit_id}/actief")
    async def activate(request: Request, rit_id: str) -> Response:
        return await save(request, rit_id, str(request.query_params.get("tab", "abcde")),
                          lambda who, f, key: service.activate(rit_id, actor=who))

    @router.post("/rits/{rit_id}/abcde-normaal")
    async def abcde_normal(request: Request, rit_id: str) -> Response:
        """Five entries, one per letter, as the letters' one-tap buttons record them; each with its
        own key derived from the tap's, so a double tap records the five once."""
        def action(who, fields, key):
            for form in NORMAL_ABCDE:
                letter_key = IdempotencyKey(f"{key.key}:{form.form_id}", key.fingerprint) if key else None
                service.add_entry(rit_id, form.kind, parse_data(form.kind, dict(form.fixed)), actor=who,
                                  nagekomen=nagekomen(fields), idempotency=letter_key)
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
        return await save(request, rit_id, "patient", action)

    @router.post("/rits/{rit_id}/vitals")
    async def manual_vitals(request: Request, rit_id: str) -> Response:
        def action(who, fields, key):
            values = {n: _number(fields.get(n), n) for n in MANUAL_VITALS}
            service.add_vitals(rit_id, {n: v for n, v in values.items() if v is not None}, actor=who,
                               confirm=bool(fields.get("confirm")), nagekomen=nagekomen(fields), idempotency=key)
        return await save(request, rit_id, "vitals", action)

    @router.post("/rits/{rit_id}/medicatie")
    async def medication(request: Request, rit_id: str) -> Response:
        def action(who, fields, key):
            drugs = {d["code"]: d for d in service.value_lists().get("medications", [])}
            if fields.get("not_state"):
                data = {"drug": fields.get("drug"), "not_state": fields["not_state"]}
            else:
                data = medication_data(fields, drugs)
            given_at = clock_time(str(fields["om"])) if fields.get("om") else None
            service.add_entry(rit_id, "medication", parse_data("medication", data), actor=who, clinical_time=given_at,
                              confirm=bool(fields.get("confirm")), nagekomen=nagekomen(fields), idempotency=key,
                              confirm_repeat=bool(fields.get("herhaal")))
        return await save(request, rit_id, "medicatie", action)

    @router.post("/rits/{rit_id}/corrigeer/{entry_id}")
    async def correct(request: Request, rit_id: str, entry_id: str) -> Response:
        """A correction: a new value or text, a whole corrected form, or a withdrawal."""
        form = FORMS_BY_ID.get(str(request.query_params.get("formulier", "")))

        def action(who, fields, key):
            old = next((e for e in service.entries(rit_id, actor=who) if e["entry_id"] == entry_id), None)
            if old is None:
                raise DomainError("deze invoer bestaat niet")
            # A standing fact's form names its correction reason apart from its own fields.
            reason_field = "correctie_reden" if "correctie_reden" in fields else "reason"
            reason, late = str(fields.get(reason_field) or ""), nagekomen(fields)
            if fields.get("withdraw"):
                service.correct_entry(rit_id, entry_id, actor=who, reason=reason, withdraw=True, nagekomen=late,
                                      idempotency=key, reason_field=reason_field)
                return
            model = CLIENT_KINDS.get(old["kind"])
            data = {k: v for k, v in old["data"].items() if model and k in model.model_fields}
            if old["kind"] == "time":
                data["at"] = clock_time(str(fields.get("at", ""))).isoformat()
            elif form is not None and form.kind == old["kind"]:
                # The form shows every field it owns: what it sent replaces them, the rest stands.
                owned = {f.name.split(".")[0] for f in form.fields} | {"text", "not_state"}
                data = {k: v for k, v in data.items() if k not in owned} | data_from_fields(form, fields)
            else:
                if fields.get("value"):
                    data["value"] = _number(fields["value"], "value")
                if fields.get("text"):
                    data["text"] = fields["text"]
            service.correct_entry(rit_id, entry_id, actor=who, reason=reason, data=data,
                                  confirm=bool(fields.get("confirm")), nagekomen=late, idempotency=key,
                                  reason_field=reason_field)
        return await save(request, rit_id, str(request.query_params.get("tab", "abcde")), action)

    # -- lifecycle, always through a confirm step -----------------------------------------
    @router.get("/rits/{rit_id}/bevestig/{what}", response_class=HTMLResponse)
    def confirm_step(request: Request, rit_id: str, what: str) -> Response:
        crew = signed_in(request)
        if crew is None:
            return RedirectResponse(f"/aanmelden?terug={quote(request.url.path)}", status_code=303)
        if what not in ("vooraankondigen", "overdracht", "annuleren"):
            raise HTTPException(404)
        view = service.rit_view(rit_id, actor=crew.actor(request))
        missing = service.overdracht_missing(rit_id, actor=crew.actor(request))["missing"] if what == "overdracht" else []
        return templates.TemplateResponse(request, "confirm.html", Page(request, crew, place()).context(
            view=view, what=what, missing=missing, missing_words=words.missing_words(missing),
            header=header_model(service, view), cancel_reasons=service.value_lists()["cancel_reasons"]))

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

    @router.post("/rits/{rit_id}/bestemming")
    async def destination(request: Request, rit_id: str) -> Response:
        def action(who, fields, key):
            if not str(fields.get("reason", "")).strip():
                raise DomainError("geef de reden van de nieuwe bestemming", "reason")
            service.change_destination(rit_id, str(fields.get("seh_id", "")), actor=who,
                                       reason=str(fields["reason"]).strip(), idempotency=key,
                                       seh_stop_reason=str(fields.get("seh_stop_reason", "")))
        return await save(request, rit_id, "overdracht", action)

    @router.post("/rits/{rit_id}/seh-gebeld")
    async def seh_called(request: Request, rit_id: str) -> Response:
        return await save(request, rit_id, str(request.query_params.get("tab", "abcde")),
                          lambda who, f, key: service.seh_called(rit_id, str(f.get("seh_id", "")),
                                                                 str(f.get("warning", "")), actor=who,
                                                                 idempotency=key))

    return router


# What a save outside web/entry_forms.py saved, for the "Opgeslagen: …" note.
SAVED_WHAT = {"actief": "deze rit is nu de actieve rit", "abcde-normaal": "ABCDE normaal", "vitaal": "vitale waarden", "overnemen": "monitorwaarden", "medicatie": "medicatie",
              "bestemming": "nieuwe bestemming"}


def saved_note(form_id: str) -> str:
    """"Opgeslagen: <what>": the crew sees which save this is, not only that one happened."""
    form = FORMS_BY_ID.get(form_id)
    what = form.title if form else SAVED_WHAT.get(form_id) or (
        words.TIME_WORDS.get(form_id.removeprefix("tijd-"), "") if form_id.startswith("tijd-") else "")
    return f"Opgeslagen: {what}" if what else "Opgeslagen"


THEMES = ("dag", "nacht", "auto")
# Without a GPS fix the automatic theme follows the sun over the middle of the country.
DEFAULT_PLACE = (52.09, 5.12)


def _theme_choice(request: Request) -> str:
    chosen = request.cookies.get("ritlink_thema")
    return chosen if chosen in THEMES else "dag"


def _theme(request: Request, place: tuple[float, float] | None = None) -> str:
    """The theme drawn: the crew's choice, or for "auto" the sun at the vehicle's position."""
    chosen = _theme_choice(request)
    if chosen != "auto":
        return chosen
    lat, lon = place or DEFAULT_PLACE
    return "nacht" if is_dark(lat, lon) else "dag"

