"""Short messages with the vehicle on the SEH's rit page: the messages part (loaded into the
page and refreshed every 2 s; the opening is one access-log row, a refresh none), sending (a
preset, a quick reply or free text), and "gelezen" for the vehicle's messages; the same
under /api/v1. The domain is seh/messages.py; the app registers this with one line.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

from seh.messages import MessageRefused, SehMessages


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=2000)


def messages_router(messages: SehMessages, access, templates, staff: Callable, csrf_cookie: str) -> APIRouter:
    """``staff(request)``: the signed-in viewer (or a redirect to sign in); ``csrf_cookie``:
    the double-submit cookie of the rit page's forms."""
    router = APIRouter()

    def checked(request: Request, csrf: str, rit_id: str):
        viewer = staff(request)
        cookie = request.cookies.get(csrf_cookie, "")
        if not cookie or not secrets.compare_digest(cookie, csrf):
            raise HTTPException(403, "formulier verlopen: open de rit opnieuw")
        if messages.store.rit(rit_id) is None:
            raise HTTPException(404, "rit niet gevonden")
        return viewer

    @router.get("/rits/{rit_id}/berichten", response_class=HTMLResponse, include_in_schema=False)
    def part(request: Request, rit_id: str, opening: int = 0) -> HTMLResponse:
        viewer = staff(request)
        if messages.store.rit(rit_id) is None:
            raise HTTPException(404, "rit niet gevonden")
        if opening:
            access.log(viewer, rit_id, "berichten.view")
        return templates.TemplateResponse(request, "_messages.html", {
            "rit_id": rit_id, "b": messages.view(rit_id), "csrf": request.cookies.get(csrf_cookie, ""),
            "max_length": messages.max_length})

    @router.post("/rits/{rit_id}/berichten", include_in_schema=False)
    def send_form(request: Request, rit_id: str, text: str = Form(""), csrf: str = Form(""),
                  idem: str = Form("")) -> RedirectResponse:
        viewer = checked(request, csrf, rit_id)
        try:
            messages.send(rit_id, text, viewer.user, lambda action, detail: access.log(viewer, rit_id, action, detail),
                          form_key=idem[:64] or None)
        except MessageRefused as exc:
            return RedirectResponse(f"/rits/{rit_id}?bericht_fout={quote(str(exc))}#berichten", status_code=303)
        return RedirectResponse(f"/rits/{rit_id}#berichten", status_code=303)

    @router.post("/rits/{rit_id}/berichten/gelezen", include_in_schema=False)
    def read_form(request: Request, rit_id: str, csrf: str = Form("")) -> RedirectResponse:
        viewer = checked(request, csrf, rit_id)
        seqs = messages.acknowledge(rit_id, viewer.user)
        access.log(viewer, rit_id, "bericht.read", {"seqs": seqs})
        return RedirectResponse(f"/rits/{rit_id}#berichten", status_code=303)

    @router.get("/api/v1/rits/{rit_id}/berichten", summary="Berichten van de rit (met de ambulance)")
    def api_list(request: Request, rit_id: str) -> dict:
        if messages.store.rit(rit_id) is None:
            raise HTTPException(404, "rit niet gevonden")
        access.log(request.state.actor, rit_id, "berichten.view.api")
        return messages.view(rit_id)

    @router.post("/api/v1/rits/{rit_id}/berichten", status_code=201, summary="Bericht aan de ambulance")
    def api_send(request: Request, rit_id: str, body: MessageIn) -> dict:
        viewer = request.state.actor
        try:
            row = messages.send(rit_id, body.text, viewer.user,
                                lambda action, detail: access.log(viewer, rit_id, action, detail))
        except MessageRefused as exc:
            raise HTTPException(422, str(exc)) from None
        except KeyError:
            raise HTTPException(404, "rit niet gevonden") from None
        return {k: row[k] for k in ("msg_id", "seq", "vehicle_id", "text", "sent_at")}

    @router.post("/api/v1/rits/{rit_id}/berichten/gelezen", summary="Berichten van de ambulance gelezen")
    def api_read(request: Request, rit_id: str) -> dict:
        seqs = messages.acknowledge(rit_id, request.state.actor.user)
        access.log(request.state.actor, rit_id, "bericht.read", {"seqs": seqs})
        return {"read": len(seqs)}

    return router
