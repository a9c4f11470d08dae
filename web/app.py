"""The edge HTTP app: JSON API under /api/v1, its offline docs, and the tablet pages."""

from __future__ import annotations

from pathlib import Path

import hmac
import logging
from urllib.parse import quote

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from edge.service import DomainError, EdgeService, RitNotFound, StoreFullError
from web.api_rits import rit_router
from web import session
from web.http_guard import CSRF_HEADER, SAFE_METHODS, harden, refusal
from web.page_errors import SessionExpired
from web.pages import pages_router, templates as page_templates
from web.sse import sse_router
from web.status_routes import add_status_routes
from web.api_position import position_router
from web.seh_status_routes import seh_status_router
from web.messages_routes import messages_router

HERE = Path(__file__).parent
log = logging.getLogger(__name__)


def authenticate(request: Request):
    """/api/v1: a device token, or the signed-in shift (its CSRF header on every write)."""
    device = session.auth_of(request).device(request)
    if device is not None:
        return device
    crew = session.crew_from(request)
    if crew is None:
        return refusal(401, "aanmelden nodig (dienst of apparaattoken)")
    if request.method not in SAFE_METHODS:
        token = request.headers.get(CSRF_HEADER, "")
        if not token or not hmac.compare_digest(token.encode(), crew.csrf.encode()):
            return refusal(403, "X-CSRF-Token ontbreekt of klopt niet")
    return crew.actor(request)


def create_app(service: EdgeService, auth: session.ShiftAuth | None = None) -> FastAPI:
    """``auth``: sign-in and tokens (default: from the service's settings; tests pass their own clock)."""
    # The tablet is often offline: no Swagger UI from a CDN, but a plain page of our own.
    app = FastAPI(title="ritlink edge", docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.service = service
    settings = service.settings
    app.state.auth = auth or session.ShiftAuth(service.store, settings.pin_hash, settings.shift_hours,
                                               settings.api_tokens)
    harden(app, settings.trusted_hosts, settings.max_body_bytes, authenticate)
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(rit_router(service))
    app.include_router(position_router(service))
    app.include_router(messages_router(service))
    # The tablet pages (their "/" is the rit list) and the live-vitals stream.
    app.include_router(pages_router(service))
    app.include_router(sse_router(service, page_templates))
    app.include_router(seh_status_router(service, page_templates))

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        return JSONResponse({"detail": exc.details()}, status_code=exc.status)

    @app.exception_handler(StoreFullError)
    async def store_full(request: Request, exc: StoreFullError) -> JSONResponse:
        return JSONResponse({"detail": [{"type": "store.full", "msg": str(exc)}]}, status_code=507)

    @app.exception_handler(SessionExpired)
    async def session_expired(request: Request, exc: SessionExpired) -> HTMLResponse:
        return page_templates.TemplateResponse(request, "verlopen.html", {
            "theme": "dag", "terug": exc.resume, "login": f"/aanmelden?terug={quote(exc.resume)}"}, status_code=403)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # The type and the route only: an exception's text may carry what the crew typed.
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, request.scope.get("route").path
                  if request.scope.get("route") else "?")
        if request.url.path.startswith(("/api/", "/-/")):
            return JSONResponse({"detail": [{"type": "server", "msg": "interne fout; niets opgeslagen"}]}, 500)
        return page_templates.TemplateResponse(request, "storing.html", {"theme": "dag"}, status_code=500)

    @app.exception_handler(RitNotFound)
    async def rit_not_found(request: Request, exc: RitNotFound) -> JSONResponse:
        return JSONResponse({"detail": "rit niet gevonden"}, status_code=404)

    @app.get("/-/health")
    def health() -> dict:
        return service.health()

    add_status_routes(app, service)

    @app.get("/api/v1/sehs")
    def sehs() -> list[dict]:
        return service.sehs()

    @app.get("/api/v1/vitals/live")
    def live_vitals() -> dict:
        live = service.live
        return {"devices": live.device_states(), "values": live.snapshot(), "alarms": live.alarms()}

    @app.get("/api/v1/vitals/trend")
    def vitals_trend(hours: float = Query(6.0, gt=0, le=24, allow_inf_nan=False)) -> dict:
        """The stored monitor trend (<= 1 point per 5 s per parameter), survives a restart."""
        return service.store.trend(hours)

    @app.get("/api/docs", response_class=HTMLResponse, include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "api_docs.html", {"spec": app.openapi()})

    return app
