"""The SEH HTTP app: JSON API, the arrivals board and the rit pages (auto-refreshed over SSE)."""

from __future__ import annotations

import secrets
from urllib.parse import quote
from pathlib import Path
from typing import Any, get_args

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from seh import render
from seh.board import board_row, last_reads, read_version, recent_enough
from seh.handover import handover
from seh.feedback import Disposition, FeedbackIn, TeamActivationIn
from seh.staff import DISPLAY_COOKIE, SESSION_COOKIE, SehAccess, Viewer
from seh.store import FeedbackTooEarly, SehStore
from seh.messages import SehMessages
from seh.messages_routes import messages_router
from edge.wire.contract import id_for_form
from edge.wire.messages import QUICK_REPLIES
from web.http_guard import CSRF_HEADER, SAFE_METHODS, harden, refusal
from web.page_errors import local_path
from web.sse import change_stream, sse_response
from web.view_model import register_filters

HERE = Path(__file__).parent
WEB = HERE.parent / "web"
VERSION_WORDS = {"vooraankondiging": "vooraankondiging", "update": "bijwerking", "overdracht": "overdracht",
                 "geannuleerd": "annulering"}


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    try:
        return board_row(row, None)
    except Exception:
        return render.unreadable_row(row)


def _positions(form: dict[str, Any]) -> list[int]:
    return [e["position"] for s in _sections(form) for e in s.values()
            if isinstance(e, dict) and type(e.get("position")) is int]


CSRF_COOKIE = "seh_csrf"
LOGIN_COOKIE = "seh_aanmelden"


class SignInNeeded(Exception):
    def __init__(self, back: str):
        super().__init__("aanmelden nodig")
        self.back = back


def _authenticate(request: Request):
    """/api/v1: staff (their CSRF header on writes), single sign-on, or an integration token."""
    viewer = request.app.state.access.viewer(request)
    if viewer is None or viewer.display_only:
        return refusal(401, "aanmelden nodig")
    if viewer.session is not None and request.method not in SAFE_METHODS:
        token = request.headers.get(CSRF_HEADER, "")
        if not token or not secrets.compare_digest(token.encode(), viewer.csrf.encode()):
            return refusal(403, "X-CSRF-Token ontbreekt of klopt niet")
    return viewer


def create_app(store: SehStore, health_extra=lambda: {}, mark_read=lambda rit_id: False,
               live_for=lambda vehicle_id: None, status_extra=lambda: {}, seh_name: str | None = None,
               routers=(), board_recent_minutes: float = 30.0, access: SehAccess | None = None,
               trusted_hosts=("127.0.0.1", "localhost"), max_body_bytes: int = 2**20,
               messages: SehMessages | None = None) -> FastAPI:
    """``mark_read(rit_id)`` sends the read receipt (the receiver's); the app never touches MQTT.
    ``live_for(vehicle_id)`` gives the vehicle's latest live vitals, when the receiver has them.
    ``health_extra()``/``status_extra()`` add the receiver's state (MQTT thread, dead letters).
    ``access``: who may see what (seh/staff.py); without it only signed-in staff, no tokens."""
    # No Swagger page: it loads its scripts from a CDN, and the SEH host may be offline too.
    app = FastAPI(title="ritlink SEH", docs_url=None, redoc_url=None)
    app.state.access = access = access or SehAccess(store)
    harden(app, list(trusted_hosts), max_body_bytes, _authenticate)
    templates = Jinja2Templates(directory=[HERE / "templates", WEB / "templates"])
    name = seh_name or store.seh_id
    register_filters(templates.env, {store.seh_id: name})
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    for router in routers: app.include_router(router)  # noqa: E701 (e.g. seh/fhir_api.py, wired in ritlink/cli.py)
    # "user\nrit" -> highest entry position at that staff member's last opening; "...:before" -> the
    # one before that (per person: one nurse opening a rit hides nothing new from another)
    seen: dict[str, int | None] = {}

    def theme(request: Request) -> str:
        return "nacht" if request.query_params.get("thema") == "nacht" or request.cookies.get(
            "ritlink_thema") == "nacht" and request.query_params.get("thema") != "dag" else "dag"

    @app.exception_handler(SignInNeeded)
    async def sign_in_needed(request: Request, exc: SignInNeeded) -> RedirectResponse:
        return RedirectResponse(f"/aanmelden?terug={quote(exc.back)}", status_code=303)

    def staff(request: Request) -> Viewer:
        """Staff (or an integration): a rit's detail is for them, never for a wall display."""
        viewer = access.viewer(request)
        if viewer is None or viewer.display_only:
            raise SignInNeeded(request.url.path)
        return viewer

    def form_sender(request: Request, csrf: str) -> Viewer:
        """Staff who post a rit page's form (terugkoppeling, team, gelezen): the form's double-submit
        CSRF token must match the page's cookie."""
        viewer = staff(request)
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie, csrf):
            raise HTTPException(403, "formulier verlopen: open de rit opnieuw")
        return viewer

    def board_viewer(request: Request) -> Viewer:
        viewer = access.viewer(request)
        if viewer is None:
            raise SignInNeeded("/")
        return viewer

    def login_page(request: Request, error: str, terug: str, status: int = 200) -> HTMLResponse:
        current = request.cookies.get(LOGIN_COOKIE, "")
        token = current if 20 <= len(current) <= 100 else secrets.token_urlsafe(24)
        response = templates.TemplateResponse(request, "aanmelden.html", {
            "seh_name": name, "theme": theme(request), "error": error, "terug": terug, "login_csrf": token},
            status_code=status)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.get("/aanmelden", response_class=HTMLResponse)
    def login_form(request: Request, terug: str = "") -> HTMLResponse:
        return login_page(request, "", local_path(terug))

    @app.post("/aanmelden")
    def login(request: Request, naam: str = Form(""), wachtwoord: str = Form(""), csrf: str = Form(""),
              terug: str = Form("")) -> Response:
        back = local_path(terug)
        cookie = request.cookies.get(LOGIN_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie.encode(), csrf.encode()):
            return login_page(request, "Het aanmeldformulier was verlopen: probeer het opnieuw", back, 403)
        opened, error = access.sign_in(naam.strip()[:64], wachtwoord[:200])
        if opened is None:
            return login_page(request, error, back, 429 if error.startswith("Te veel") else 403)
        response = RedirectResponse(back or "/", status_code=303)
        response.set_cookie(SESSION_COOKIE, opened.token, httponly=True, samesite="strict",
                            max_age=max(60, int(access.book.hours * 3600)))
        return response

    @app.post("/afmelden")
    def logout(request: Request) -> RedirectResponse:
        access.book.revoke(request.cookies.get(SESSION_COOKIE))  # server-side: the cookie is dead now
        response = RedirectResponse("/aanmelden", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response


    def lines(kiosk: bool = False) -> tuple[list, list]:
        """The board's lines: on the way (by ETA) and recent (handed over or cancelled, for a while)."""
        summaries = store.rits()
        reads = last_reads(store.query, [r["rit_id"] for r in summaries])  # one query for the whole board
        unread = messages.unread_counts() if messages else {}  # the ambulance's unread messages per rit
        made = render.safe_rows(summaries, store.rit, lambda row: {
            **board_row(row, live_for(row["vehicle_id"]), read=reads.get(row["rit_id"])),
            "messages_unread": unread.get(row["rit_id"], 0)})
        on_the_way = [r for r in made if not r.get("finished")]
        recent = [r for r in made if r.get("finished") and recent_enough(r, board_recent_minutes)]
        return (render.board_rows(templates.env, on_the_way, kiosk=kiosk),
                render.board_rows(templates.env, recent, kiosk=kiosk))

    def board_version() -> object:
        return (read_version(store.query), *((r["rit_id"], r["seq"], r["status"], r["updated_at"]) for r in store.rits()))

    @app.get("/-/health")
    def health() -> JSONResponse:
        extra = health_extra()
        dead = extra.get("mqtt_thread") == "dead"  # the receiver would never take a message again
        return JSONResponse({"status": "failing" if dead else "ok", "seh_id": store.seh_id, "seh_name": name, **extra},
                            status_code=503 if dead else 200)

    @app.get("/-/status")
    def status() -> dict:
        return {"seh_id": store.seh_id, "rits": len(store.rits()), **status_extra(), "board": dict(render.counters),
                "storage": store.storage()}

    @app.get("/api/v1/rits")
    def rits() -> list[dict]:
        return store.rits()

    @app.get("/api/v1/rits/{rit_id}")
    def rit(request: Request, rit_id: str) -> dict:
        row = store.rit(rit_id)
        if row is None:
            raise HTTPException(404, "rit niet gevonden")
        access.log(request.state.actor, rit_id, "rit.view.api", {"seq": row["seq"]})
        return {"rit_id": rit_id, "vehicle_id": row["vehicle_id"], "status": row["status"], "seq": row["seq"],
                "form": row["form"], "form_sha256": row["form_sha256"], "feedback": store.feedback_for(rit_id)}

    def stored(add, rit_id: str, body, too_early: str, form_key: str | None = None) -> dict:
        """A message from the SEH to the vehicle (feedback, team activation), stored to be sent;
        ``form_key``: the sending form's one-time key (the same form twice is one message)."""
        try:
            message = add(rit_id, body, id_for_form(rit_id, form_key))
        except FeedbackTooEarly:
            raise HTTPException(409, too_early) from None
        if message is None:
            raise HTTPException(404, "rit niet gevonden")
        return message

    def add_feedback(rit_id: str, body: FeedbackIn, form_key: str | None = None) -> dict:
        return stored(store.add_feedback, rit_id, body, "terugkoppeling kan pas na de overdracht", form_key)

    @app.post("/api/v1/rits/{rit_id}/feedback", status_code=202)
    def send_feedback(rit_id: str, body: FeedbackIn) -> dict:
        return {"msg_id": add_feedback(rit_id, body)["msg_id"]}

    def confirm_read(viewer: Viewer, rit_id: str) -> None:
        """The read receipt: sent only by a person's (or an integration's) explicit action."""
        row = store.rit(rit_id)
        if row is None or not mark_read(rit_id):
            raise HTTPException(404, "rit niet gevonden")
        access.log(viewer, rit_id, "rit.read_receipt", {"seq": row["seq"]})

    @app.post("/api/v1/rits/{rit_id}/read")
    def read(request: Request, rit_id: str) -> dict:
        confirm_read(request.state.actor, rit_id)
        return {"rit_id": rit_id, "read": True}

    @app.get("/api/v1/rits/{rit_id}/access", summary="Toegangslog van de rit bij de SEH (NEN 7513)")
    def access_log(request: Request, rit_id: str) -> list[dict]:
        access.log(request.state.actor, rit_id, "access.read")
        return access.entries(rit_id)

    # -- pages ------------------------------------------------------------------------
    def rit_context(request: Request, rit_id: str, new_view: bool) -> dict[str, Any]:
        """``new_view``: a person opened the page (the live refresh keeps the highlight of that view).
        Every view is in the access log; "read" is the nurse's own action (the Gelezen button)."""
        viewer = staff(request)
        row = store.rit(rit_id)
        if row is None:
            raise HTTPException(404, "rit niet gevonden")
        access.log(viewer, rit_id, "rit.view" if new_view else "rit.view.refresh", {"seq": row["seq"]})
        if new_view:
            seen[f"{viewer.user}\n{rit_id}:before"] = seen.get(f"{viewer.user}\n{rit_id}")
            seen[f"{viewer.user}\n{rit_id}"] = max(_positions(row["form"]), default=0)
        previous = seen.get(f"{viewer.user}\n{rit_id}:before")
        sections = render.form_sections(templates.env, row["form"], rit_id, previous)
        try:
            overview = handover(row["form"])
        except Exception:  # an unreadable form: the sections below say "onleesbaar bericht"
            overview = None
        return {"seh_id": store.seh_id, "seh_name": name, "row": row, "form": row["form"], "seen_position": previous,
                "sections": sections, "summary": _summary(row), "h": overview, "feedback": store.feedback_for(rit_id),
                "dispositions": get_args(Disposition), "theme": theme(request),
                "reads": access.entries(rit_id, "rit.read_receipt")}

    def rit_page_response(request: Request, rit_id: str, refusal: dict | None = None) -> HTMLResponse:
        # Double-submit CSRF token for the feedback form: another site can make the browser
        # post, but it cannot read this cookie to copy it into the form.
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        context = {**rit_context(request, rit_id, refusal is None), "csrf": token, "fout": refusal,
                   "new_key": lambda: secrets.token_hex(12),
                   "message_choices": [*QUICK_REPLIES, *messages.presets] if messages else None,
                   "message_max_length": messages.max_length if messages else 0}
        response = templates.TemplateResponse(request, "rit.html", context, status_code=422 if refusal else 200)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.get("/rits/{rit_id}", response_class=HTMLResponse)
    def rit_page(request: Request, rit_id: str) -> HTMLResponse:
        return rit_page_response(request, rit_id)

    def refused(request: Request, rit_id: str, form_id: str, exc: ValidationError, words: dict[str, str],
                typed: dict[str, str]) -> HTMLResponse:
        """The rit page again, 422, the refusal beside the field and what was typed kept."""
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error.get("loc") else ""
        message = (str(error.get("msg", "")).removeprefix("Value error, ") if error.get("type") == "value_error"
                   else words.get(field, "klopt niet"))
        return rit_page_response(request, rit_id, {"form": form_id, "field": field, "message": message,
                                                   "typed": typed})

    @app.get("/rits/{rit_id}/inhoud", response_class=HTMLResponse)
    def rit_body(request: Request, rit_id: str) -> HTMLResponse:
        return templates.TemplateResponse(request, "_rit_body.html", rit_context(request, rit_id, False))

    @app.get("/rits/{rit_id}/versies", response_class=HTMLResponse)
    def versions(request: Request, rit_id: str, seq: int | None = None) -> HTMLResponse:
        viewer = staff(request)
        found = store.versions(rit_id)
        if not found:
            raise HTTPException(404, "rit niet gevonden")
        access.log(viewer, rit_id, "rit.versions", {"seq": seq} if seq is not None else None)
        chosen = next((v for v in found if v["seq"] == seq), None)
        form = store.version_form(rit_id, seq) if chosen else None  # rebuilt from the messages
        return templates.TemplateResponse(request, "versions.html", {
            "seh_id": store.seh_id, "seh_name": name, "rit_id": rit_id, "versions": found, "theme": theme(request),
            "version_words": VERSION_WORDS, "form": form, "shown_seq": seq,
            "sections": render.form_sections(templates.env, form, rit_id, None) if form else []})

    @app.post("/rits/{rit_id}/terugkoppeling")
    def feedback_form(request: Request, rit_id: str, diagnosis: str = Form(""), disposition: str = Form(""),
                      remarks: str = Form(""), csrf: str = Form(""), idem: str = Form("")) -> Response:
        viewer = form_sender(request, csrf)
        try:
            body = FeedbackIn(diagnosis=diagnosis.strip(), disposition=disposition, remarks=remarks.strip(),
                              author=viewer.user[:80] or "seh")
        except ValidationError as exc:
            return refused(request, rit_id, "terugkoppeling", exc,
                           {"diagnosis": "vul de SEH-diagnose in (ten hoogste 500 tekens)",
                            "disposition": "kies een bestemming uit de lijst",
                            "remarks": "opmerking te lang (ten hoogste 2000 tekens)"},
                           {"diagnosis": diagnosis[:500], "remarks": remarks[:2000]})
        add_feedback(rit_id, body, idem[:64] or None)
        access.log(viewer, rit_id, "feedback.add")
        return RedirectResponse(f"/rits/{rit_id}", status_code=303)

    def add_team(rit_id: str, body: TeamActivationIn, form_key: str | None = None) -> dict:
        return stored(store.add_team_activation, rit_id, body, "team activeren kan alleen voor een aangekondigde rit",
                      form_key)

    @app.post("/api/v1/rits/{rit_id}/team", status_code=202)
    def team_api(rit_id: str, body: TeamActivationIn) -> dict:
        return {"msg_id": add_team(rit_id, body)["msg_id"]}

    @app.post("/rits/{rit_id}/team-geactiveerd")
    def team_form(request: Request, rit_id: str, room: str = Form(""), csrf: str = Form(""),
                  idem: str = Form("")) -> Response:
        viewer = form_sender(request, csrf)
        try:
            body = TeamActivationIn(room=room.strip(), author=viewer.user[:80] or "seh")
        except ValidationError as exc:
            return refused(request, rit_id, "team", exc,
                           {"room": "geef de kamer of bay waar het team klaarstaat (ten hoogste 100 tekens)"},
                           {"room": room[:100]})
        add_team(rit_id, body, idem[:64] or None)
        return RedirectResponse(f"/rits/{rit_id}", status_code=303)

    @app.post("/rits/{rit_id}/gelezen")
    def read_button(request: Request, rit_id: str, csrf: str = Form("")) -> RedirectResponse:
        viewer = form_sender(request, csrf)
        confirm_read(viewer, rit_id)
        return RedirectResponse(f"/rits/{rit_id}", status_code=303)

    if messages is not None:  # short messages with the vehicle (seh/messages_routes.py)
        app.include_router(messages_router(messages, access, templates, staff, CSRF_COOKIE))

    @app.get("/bord/rijen", response_class=HTMLResponse)
    def board_rows(request: Request) -> HTMLResponse:
        board_viewer(request)
        kiosk = request.query_params.get("kiosk") == "1"
        on_the_way, recent = lines(kiosk)
        return templates.TemplateResponse(request, "_board_rows.html", {
            "rendered_rows": on_the_way, "recent_rows": recent, "kiosk": kiosk})

    @app.get("/sse/bord")
    async def board_stream(request: Request) -> StreamingResponse:
        board_viewer(request)
        return sse_response(change_stream(request, board_version, lambda: "changed", "changed"))

    @app.get("/sse/rits/{rit_id}")
    async def rit_stream(request: Request, rit_id: str) -> StreamingResponse:
        staff(request)
        def version() -> object:
            row = store.rit(rit_id)
            return (row["seq"], row["status"], len(store.feedback_for(rit_id))) if row else None
        return sse_response(change_stream(request, version, lambda: "changed", "changed"))

    @app.get("/", response_class=HTMLResponse)
    def board(request: Request) -> HTMLResponse:
        viewer = board_viewer(request)
        kiosk = request.query_params.get("kiosk") == "1" or viewer.display_only  # a wall display has no controls
        on_the_way, recent = lines(kiosk)
        response = templates.TemplateResponse(request, "board.html", {
            "seh_id": store.seh_id, "seh_name": name, "theme": theme(request), "kiosk": kiosk,
            "rendered_rows": on_the_way, "recent_rows": recent})
        if viewer.display_only and request.query_params.get("display"):
            # The wall screen keeps its token as a cookie, so the address bar need not show it.
            response.set_cookie(DISPLAY_COOKIE, request.query_params["display"], httponly=True, samesite="strict",
                                max_age=365 * 86400)
        return response

    return app


def _sections(form: dict[str, Any]) -> list[dict]:
    """Every entry collection of a form (for "what is new since the last view")."""
    out = [v for v in (form.get("history") or {}).values() if isinstance(v, dict)]
    out += [v for v in (form.get("primary_survey") or {}).values() if isinstance(v, dict)]
    out += [v for k, v in form.items() if k not in ("history", "primary_survey") and isinstance(v, dict)]
    return out
