"""The SEH HTTP app: JSON API and a minimal arrivals board."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from seh.feedback import FeedbackIn
from seh.store import FeedbackTooEarly, SehStore

HERE = Path(__file__).parent


def create_app(store: SehStore, health_extra=lambda: {}, mark_read=lambda rit_id: False) -> FastAPI:
    """``mark_read(rit_id)`` sends the read receipt (the receiver's); the app never touches MQTT."""
    app = FastAPI(title="ritlink SEH", docs_url="/api/docs", redoc_url=None)
    templates = Jinja2Templates(directory=HERE / "templates")

    @app.get("/-/health")
    def health() -> dict:
        return {"status": "ok", "seh_id": store.seh_id, **health_extra()}

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

    @app.post("/api/v1/rits/{rit_id}/feedback", status_code=202)
    def send_feedback(rit_id: str, body: FeedbackIn) -> dict:
        try:
            stored = store.add_feedback(rit_id, body)
        except FeedbackTooEarly:
            raise HTTPException(409, "terugkoppeling kan pas na de overdracht") from None
        if stored is None:
            raise HTTPException(404, "rit niet gevonden")
        return {"msg_id": stored["msg_id"]}

    @app.post("/api/v1/rits/{rit_id}/read")
    def read(rit_id: str) -> dict:
        if not mark_read(rit_id):
            raise HTTPException(404, "rit niet gevonden")
        return {"rit_id": rit_id, "read": True}

    @app.get("/rits/{rit_id}", response_class=HTMLResponse)
    def rit_page(request: Request, rit_id: str) -> HTMLResponse:
        row = store.rit(rit_id)
        if row is None:
            raise HTTPException(404, "rit niet gevonden")
        mark_read(rit_id)  # a person opened it: that is what "read" means
        return templates.TemplateResponse(request, "rit.html", {"seh_id": store.seh_id, "rit": row})

    @app.get("/", response_class=HTMLResponse)
    def board(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "board.html", {"seh_id": store.seh_id, "rits": store.rits()})

    return app
