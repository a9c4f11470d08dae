"""Short messages with the SEH on the tablet: the rit's messages page, sending (a preset, a
quick reply or free text), and "gelezen" for the SEH's messages; the same under /api/v1.

The header (web/templates/_header.html) shows the newest unread SEH message with one tap to
open and acknowledge it. Every opening of the messages page is one access-log row; the
header's refresh is not. The domain is edge/store/messages_store.py (``service.messages``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from edge.service import DomainError, EdgeService, StoreFullError
from web import session
from web.page_errors import SessionExpired, resume_path
from web.pages import Page, templates
from web.view_model import header_model


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=2000, description="de tekst (ten hoogste message_max_length tekens na inkorten)")


def messages_router(service: EdgeService) -> APIRouter:
    router = APIRouter()

    def page_context(request: Request, crew: session.Crew, **extra: Any) -> dict[str, Any]:
        return Page(request, crew).context(**extra)
    desk = service.messages

    def page(request: Request, crew: session.Crew, rit_id: str, error: str = "", status: int = 200,
             opening: bool = True) -> HTMLResponse:
        actor = crew.actor(request)
        view = desk.view(rit_id, actor if opening else None)
        rit = service.rit_view(rit_id, actor=actor, audit=False)
        context = page_context(request, crew, view=rit, header=header_model(service, rit), berichten=view, error=error,
                               note=request.query_params.get("melding", "")[:200], sehs=service.sehs(),
                               max_length=service.settings.message_max_length)
        return templates.TemplateResponse(request, "berichten.html", context, status_code=status)

    async def posted(request: Request) -> tuple[session.Crew, Any]:
        form = await request.form()
        try:
            crew = session.check_csrf(session.crew_from(request), form.get("csrf"))
        except HTTPException:
            raise SessionExpired(resume_path(request)) from None
        return crew, form

    @router.get("/rits/{rit_id}/berichten", response_class=HTMLResponse, include_in_schema=False)
    def messages_page(request: Request, rit_id: str) -> Response:
        crew = session.crew_from(request)
        if crew is None:
            return RedirectResponse(f"/aanmelden?terug={quote(request.url.path)}", status_code=303)
        return page(request, crew, rit_id)

    @router.get("/rits/{rit_id}/berichten/lijst", response_class=HTMLResponse, include_in_schema=False)
    def messages_list(request: Request, rit_id: str) -> Response:
        """The list alone, polled while the page is open: a refresh, not an opening."""
        crew = session.crew_from(request)
        if crew is None:
            raise HTTPException(403)
        return templates.TemplateResponse(request, "_berichten_lijst.html", page_context(
            request, crew, view={"rit_id": rit_id}, berichten=desk.view(rit_id)))

    @router.post("/rits/{rit_id}/berichten", include_in_schema=False)
    async def send_form(request: Request, rit_id: str) -> Response:
        crew, form = await posted(request)
        try:
            desk.send(rit_id, str(form.get("text") or ""), crew.actor(request),
                      form_key=str(form.get("idem") or "")[:64] or None)
        except DomainError as exc:
            return page(request, crew, rit_id, exc.message, exc.status, opening=False)
        except StoreFullError as exc:
            return page(request, crew, rit_id, str(exc), 507, opening=False)
        return RedirectResponse(f"/rits/{rit_id}/berichten?melding={quote('Bericht opgeslagen')}", status_code=303)

    @router.post("/rits/{rit_id}/berichten/gelezen", include_in_schema=False)
    async def read_form(request: Request, rit_id: str) -> Response:
        crew, form = await posted(request)
        desk.acknowledge(rit_id, crew.actor(request))
        back = str(form.get("terug") or "")
        target = back if back.startswith("/rits/") and "//" not in back else f"/rits/{rit_id}/berichten"
        return RedirectResponse(target, status_code=303)

    # -- the same under /api/v1 (authenticated by web/app.authenticate) --------------------
    @router.get("/api/v1/rits/{rit_id}/berichten", summary="Berichten van de rit (met de SEH)")
    def api_list(request: Request, rit_id: str) -> dict:
        return desk.view(rit_id, request.state.actor, "berichten.view.api")

    @router.post("/api/v1/rits/{rit_id}/berichten", status_code=201, summary="Bericht aan de SEH")
    def api_send(request: Request, rit_id: str, body: MessageIn) -> dict:
        row = desk.send(rit_id, body.text, request.state.actor)
        return {k: row[k] for k in ("msg_id", "seq", "seh_id", "text", "sent_at")}

    @router.post("/api/v1/rits/{rit_id}/berichten/gelezen", summary="Berichten van de SEH gelezen")
    def api_read(request: Request, rit_id: str) -> dict:
        return {"read": desk.acknowledge(rit_id, request.state.actor)}

    return router
