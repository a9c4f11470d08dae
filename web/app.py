"""The edge HTTP app: JSON API under /api/v1 and the tablet pages."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ConfigDict, Field

from edge.service import DomainError, EdgeService, RitNotFound
from web.status_routes import add_status_routes

HERE = Path(__file__).parent


class NewRit(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"destination_seh": "seh-umcu", "urgency": "A1"}]})
    destination_seh: str = Field(min_length=1)
    urgency: Literal["A1", "A2", "B"]


class AcceptVitals(BaseModel):
    model_config = ConfigDict(extra="forbid")
    author: str = Field(default="crew", min_length=1, max_length=80)
    codes: list[int] | None = Field(default=None, description="MDC codes to take over; all fresh values if absent")


def create_app(service: EdgeService) -> FastAPI:
    app = FastAPI(title="ritlink edge", docs_url="/api/docs", redoc_url=None)
    app.state.service = service
    templates = Jinja2Templates(directory=HERE / "templates")
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> JSONResponse:
        detail = {"msg": exc.message}
        if exc.field:
            detail["loc"] = ["body", exc.field]
        return JSONResponse({"detail": [detail]}, status_code=exc.status)

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

    @app.post("/api/v1/rits", status_code=201)
    def create_rit(body: NewRit) -> dict:
        return {"rit_id": service.create_rit(body.destination_seh, body.urgency)}

    @app.get("/api/v1/rits")
    def list_rits() -> list[dict]:
        return service.rits()

    @app.get("/api/v1/rits/{rit_id}")
    def get_rit(rit_id: str) -> dict:
        return service.rit_view(rit_id)

    @app.post("/api/v1/rits/{rit_id}/vitals/accept")
    def accept_vitals(rit_id: str, body: AcceptVitals | None = None) -> dict:
        body = body or AcceptVitals()
        return {"accepted": service.accept_vitals(rit_id, body.author, body.codes)}

    @app.post("/api/v1/rits/{rit_id}/announce", status_code=202)
    def announce(rit_id: str) -> dict:
        return service.announce(rit_id)

    @app.get("/api/v1/vitals/live")
    def live_vitals() -> dict:
        return {"devices": service.live.device_states(), "values": service.live.snapshot()}

    @app.get("/", response_class=HTMLResponse)
    def index(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request,
            "index.html",
            {"health": service.health(), "vitals": service.live.snapshot(), "rits": service.rits()},
        )

    return app
