"""The SEH HTTP app: JSON API, the arrivals board and the rit pages (auto-refreshed over SSE)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any, get_args

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError

from seh import render
from seh.board import board_row, recent_enough
from seh.feedback import Disposition, FeedbackIn
from seh.store import FeedbackTooEarly, SehStore
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


def create_app(store: SehStore, health_extra=lambda: {}, mark_read=lambda rit_id: False,
               live_for=lambda vehicle_id: None, status_extra=lambda: {}, seh_name: str | None = None,
               routers=(), board_recent_minutes: float = 30.0) -> FastAPI:
    """``mark_read(rit_id)`` sends the read receipt (the receiver's); the app never touches MQTT.
    ``live_for(vehicle_id)`` gives the vehicle's latest live vitals, when the receiver has them.
    ``health_extra()``/``status_extra()`` add the receiver's state (MQTT thread, dead letters)."""
    app = FastAPI(title="ritlink SEH", docs_url="/api/docs", redoc_url=None)
    templates = Jinja2Templates(directory=[HERE / "templates", WEB / "templates"])
    name = seh_name or store.seh_id
    register_filters(templates.env, {store.seh_id: name})
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")
    for router in routers: app.include_router(router)  # noqa: E701 (e.g. seh/fhir_api.py, wired in ritlink/cli.py)
    # rit -> highest entry position at the last opening; "rit:before" -> the one before that
    seen: dict[str, int | None] = {}

    def theme(request: Request) -> str:
        return "nacht" if request.query_params.get("thema") == "nacht" or request.cookies.get(
            "ritlink_thema") == "nacht" and request.query_params.get("thema") != "dag" else "dag"

    def lines(kiosk: bool = False) -> tuple[list, list]:
        """The board's lines: on the way (by ETA) and recent (handed over or cancelled, for a while)."""
        made = render.safe_rows(store.rits(), store.rit, lambda row: board_row(row, live_for(row["vehicle_id"])))
        on_the_way = [r for r in made if not r.get("finished")]
        recent = [r for r in made if r.get("finished") and recent_enough(r, board_recent_minutes)]
        return (render.board_rows(templates.env, on_the_way, kiosk=kiosk),
                render.board_rows(templates.env, recent, kiosk=kiosk))

    def board_version() -> object:
        return tuple((r["rit_id"], r["seq"], r["status"], r["updated_at"]) for r in store.rits())

    @app.get("/-/health")
    def health() -> JSONResponse:
        extra = health_extra()
        dead = extra.get("mqtt_thread") == "dead"  # the receiver would never take a message again
        return JSONResponse({"status": "failing" if dead else "ok", "seh_id": store.seh_id, "seh_name": name, **extra},
                            status_code=503 if dead else 200)

    @app.get("/-/status")
    def status() -> dict:
        return {"seh_id": store.seh_id, "rits": len(store.rits()), **status_extra(), "board": dict(render.counters)}

    @app.get("/api/v1/rits")
    def rits() -> list[dict]:
        return store.rits()

    @app.get("/api/v1/rits/{rit_id}")
    def rit(rit_id: str) -> dict:
        row = store.rit(rit_id)
        if row is None:
            raise HTTPException(404, "rit niet gevonden")
        return {"rit_id": rit_id, "vehicle_id": row["vehicle_id"], "status": row["status"], "seq": row["seq"],
                "form": row["form"], "form_sha256": row["form_sha256"], "feedback": store.feedback_for(rit_id)}

    def add_feedback(rit_id: str, body: FeedbackIn) -> dict:
        try:
            stored = store.add_feedback(rit_id, body)
        except FeedbackTooEarly:
            raise HTTPException(409, "terugkoppeling kan pas na de overdracht") from None
        if stored is None:
            raise HTTPException(404, "rit niet gevonden")
        return stored

    @app.post("/api/v1/rits/{rit_id}/feedback", status_code=202)
    def send_feedback(rit_id: str, body: FeedbackIn) -> dict:
        return {"msg_id": add_feedback(rit_id, body)["msg_id"]}

    @app.post("/api/v1/rits/{rit_id}/read")
    def read(rit_id: str) -> dict:
        if not mark_read(rit_id):
            raise HTTPException(404, "rit niet gevonden")
        return {"rit_id": rit_id, "read": True}

    # -- pages ------------------------------------------------------------------------
    def rit_context(request: Request, rit_id: str, new_view: bool) -> dict[str, Any]:
        """``new_view``: a person opened the page (the live refresh keeps the highlight of that view)."""
        row = store.rit(rit_id)
        if row is None:
            raise HTTPException(404, "rit niet gevonden")
        mark_read(rit_id)  # a person opened (or is watching) it: that is what "read" means
        if new_view:
            seen[f"{rit_id}:before"] = seen.get(rit_id)
            seen[rit_id] = max(_positions(row["form"]), default=0)
        previous = seen.get(f"{rit_id}:before")
        sections = render.form_sections(templates.env, row["form"], rit_id, previous)
        return {"seh_id": store.seh_id, "seh_name": name, "row": row, "form": row["form"], "seen_position": previous,
                "sections": sections, "summary": _summary(row), "feedback": store.feedback_for(rit_id),
                "dispositions": get_args(Disposition), "theme": theme(request)}

    @app.get("/rits/{rit_id}", response_class=HTMLResponse)
    def rit_page(request: Request, rit_id: str) -> HTMLResponse:
        # Double-submit CSRF token for the feedback form: another site can make the browser
        # post, but it cannot read this cookie to copy it into the form.
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        context = {**rit_context(request, rit_id, True), "csrf": token}
        response = templates.TemplateResponse(request, "rit.html", context)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    @app.get("/rits/{rit_id}/inhoud", response_class=HTMLResponse)
    def rit_body(request: Request, rit_id: str) -> HTMLResponse:
        return templates.TemplateResponse(request, "_rit_body.html", rit_context(request, rit_id, False))

    @app.get("/rits/{rit_id}/versies", response_class=HTMLResponse)
    def versions(request: Request, rit_id: str, seq: int | None = None) -> HTMLResponse:
        found = store.query("SELECT seq, status, applied_at, form_json FROM seh_versions WHERE rit_id = ?"
                            " ORDER BY seq", [rit_id])
        if not found:
            raise HTTPException(404, "rit niet gevonden")
        chosen = next((v for v in found if v["seq"] == seq), None)
        form = json.loads(chosen["form_json"]) if chosen else None
        return templates.TemplateResponse(request, "versions.html", {
            "seh_id": store.seh_id, "seh_name": name, "rit_id": rit_id, "versions": found, "theme": theme(request),
            "version_words": VERSION_WORDS, "form": form, "shown_seq": seq,
            "sections": render.form_sections(templates.env, form, rit_id, None) if form else []})

    @app.post("/rits/{rit_id}/terugkoppeling")
    def feedback_form(request: Request, rit_id: str, diagnosis: str = Form(""), disposition: str = Form(""),
                      remarks: str = Form(""), csrf: str = Form("")) -> RedirectResponse:
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie, csrf):
            raise HTTPException(403, "formulier verlopen: open de rit opnieuw")
        try:
            body = FeedbackIn(diagnosis=diagnosis, disposition=disposition, remarks=remarks)
        except ValidationError:
            raise HTTPException(422, "vul diagnose en bestemming in") from None
        add_feedback(rit_id, body)
        return RedirectResponse(f"/rits/{rit_id}", status_code=303)

    @app.get("/bord/rijen", response_class=HTMLResponse)
    def board_rows(request: Request) -> HTMLResponse:
        on_the_way, recent = lines(request.query_params.get("kiosk") == "1")
        return templates.TemplateResponse(request, "_board_rows.html", {
            "rendered_rows": on_the_way, "recent_rows": recent, "kiosk": request.query_params.get("kiosk") == "1"})

    @app.get("/sse/bord")
    async def board_stream(request: Request) -> StreamingResponse:
        return sse_response(change_stream(request, board_version, lambda: "changed", "changed"))

    @app.get("/sse/rits/{rit_id}")
    async def rit_stream(request: Request, rit_id: str) -> StreamingResponse:
        def version() -> object:
            row = store.rit(rit_id)
            return (row["seq"], row["status"], len(store.feedback_for(rit_id))) if row else None
        return sse_response(change_stream(request, version, lambda: "changed", "changed"))

    @app.get("/", response_class=HTMLResponse)
    def board(request: Request) -> HTMLResponse:
        on_the_way, recent = lines(request.query_params.get("kiosk") == "1")
        return templates.TemplateResponse(request, "board.html", {
            "seh_id": store.seh_id, "seh_name": name, "theme": theme(request),
            "kiosk": request.query_params.get("kiosk") == "1", "rendered_rows": on_the_way, "recent_rows": recent})

    return app


def _sections(form: dict[str, Any]) -> list[dict]:
    """Every entry collection of a form (for "what is new since the last view")."""
    out = [v for v in (form.get("history") or {}).values() if isinstance(v, dict)]
    out += [v for v in (form.get("primary_survey") or {}).values() if isinstance(v, dict)]
    out += [v for k, v in form.items() if k not in ("history", "primary_survey") and isinstance(v, dict)]
    return out
