"""SEH-status on the tablet: the destination choice's status lines (polled, out-of-band swaps)
and the same as JSON. The status itself comes over MQTT (edge/sync/seh_status_inbox.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from edge.service import EdgeService
from web import session


def seh_status_router(service: EdgeService, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter()

    @router.get("/api/v1/seh-status", summary="Elke SEH met haar status, de leeftijd daarvan en de ETA")
    def status_json() -> list[dict]:
        return service.destination_choices()

    @router.get("/seh-status", response_class=HTMLResponse)
    def status_lines(request: Request) -> Response:
        if session.crew_from(request) is None:
            raise HTTPException(403)
        template = templates.get_template("_seh_status_regel.html")
        html = "".join(template.render(s=s, oob=True) for s in service.destination_choices())
        return HTMLResponse(html)

    return router
