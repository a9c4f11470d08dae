"""The SEH-status page (/status): a signed-in staff member sets open / druk / SEH-stop, the
reason, an until-time and the free counts; the keeper (seh/status.py) stores and publishes it.
Wired in ritlink/cli.py as one more router of the SEH app."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from edge.wire import seh_status as ws
from seh.status import StatusKeeper
from web.view_model import register_filters

HERE = Path(__file__).parent
CSRF_COOKIE = "seh_csrf"  # the same double-submit cookie as the rit pages
LOCAL = ZoneInfo("Europe/Amsterdam")
FIELD_WORDS = {"state": "status", "reason": "reden", "until": "tot", "beds": "bedden", "traumakamer": "traumakamer",
               "ct": "CT", "cathlab": "cathlab"}


def _until(text: str) -> str | None:
    """The until-time as typed (HH:MM today or later, or a full ISO time) as UTC ISO."""
    text = text.strip()
    if not text:
        return None
    if len(text) == 5 and text[2] == ":":
        try:
            hour, minute = int(text[:2]), int(text[3:])
            local = datetime.now(LOCAL).replace(hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError:
            raise ws.StatusError("malformed: until is not a time") from None
        return ws.utc_iso(local)
    return text


def _problem_field(reason: str) -> str:
    for name in ("counts.", "state", "reason", "until"):
        if name in reason:
            return reason.split("counts.", 1)[1].split(" ", 1)[0] if name == "counts." else name
    return "state"


def status_router(keeper: StatusKeeper, access, seh_name: str) -> APIRouter:
    router = APIRouter()
    templates = Jinja2Templates(directory=[HERE / "templates", HERE.parent / "web" / "templates"])
    register_filters(templates.env, {keeper.seh_id: seh_name})

    def page(request: Request, viewer, error: str = "", field: str = "", status: int = 200,
             typed: dict | None = None) -> Response:
        current, meta = keeper.current()
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        age = ws.age_s(current, datetime.now(UTC)) if current else None
        response = templates.TemplateResponse(request, "status.html", {
            "seh_name": seh_name, "theme": "dag", "csrf": token, "current": current, "meta": meta,
            "age_words": ws.age_words(age), "words": ws.STATE_WORDS, "states": ws.STATES, "counts": ws.COUNT_WORDS,
            "counts_max": ws.COUNT_MAX, "error": error, "error_field": field, "typed": typed or {},
            "source_problem": keeper.source_problem, "source_checked_at": keeper.source_checked_at,
            "user": viewer.user}, status_code=status)
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    def staff(request: Request):
        viewer = access.viewer(request)
        return None if viewer is None or viewer.display_only else viewer

    @router.get("/status", response_class=HTMLResponse)
    def status_page(request: Request) -> Response:
        viewer = staff(request)
        if viewer is None:
            return RedirectResponse("/aanmelden?terug=/status", status_code=303)
        return page(request, viewer)

    @router.post("/status")
    async def set_status(request: Request) -> Response:
        viewer = staff(request)
        if viewer is None:
            return RedirectResponse("/aanmelden?terug=/status", status_code=303)
        form = await request.form()
        fields = {k: str(v)[:400] for k, v in form.items() if isinstance(v, str)}
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if not cookie or not secrets.compare_digest(cookie.encode(), fields.get("csrf", "").encode()):
            return page(request, viewer, "Het formulier was verlopen: probeer het opnieuw", "", 403, fields)
        try:
            counts = {}
            for name in ws.COUNT_MAX:
                value = fields.get(name, "").strip()
                if value:
                    if not value.isdigit() or len(value) > 6:
                        raise ws.StatusError(f"out_of_range: counts.{name} must be a whole number "
                                             f"0..{ws.COUNT_MAX[name]}")
                    counts[name] = int(value)
            body = {"state": fields.get("state", ""), "reason": fields.get("reason", "").strip(),
                    "until": _until(fields.get("until", "")), "counts": counts}
            if body["state"] == "seh-stop" and not body["reason"]:
                raise ws.StatusError("malformed: reason is needed for an SEH-stop")
            keeper.set({k: v for k, v in body.items() if v not in (None, "", {})}, viewer.user or "seh")
        except ws.StatusError as exc:
            field = _problem_field(exc.reason)
            word = FIELD_WORDS.get(field, field)
            return page(request, viewer, f"Niet opgeslagen: {word} klopt niet ({exc.reason.split(': ', 1)[-1]})",
                        field, 422, fields)
        access.log(viewer, None, "status.set", {"state": body["state"]})
        return RedirectResponse("/status", status_code=303)

    return router
