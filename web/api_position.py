"""The GPS endpoints of the JSON API: the vehicle's position, the rit's track, and the run
times the GPS proposes for the crew to confirm (edge/live/gps_runtime.py).

The service's ``position`` is the GPS runtime, duck-typed: web/ never imports the reader.
Without one (an EdgeService built on its own) the answers say so instead of failing.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from edge.store.audit import Actor
from edge.errors import DomainError
from edge.service import EdgeService, IdempotencyKey
from web.api_rits import actor, idempotency

NO_GPS = {"configured": False, "source": None, "state": "not_configured", "fix": None, "eta": {}, "counters": {}}


def position_router(service: EdgeService) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["positie"])
    Who = Depends(actor)
    Key = Depends(idempotency)

    def gps():
        return service.position

    @api.get("/position", summary="Positie van het voertuig: laatste fix, GPS-status, tellers, ETA per SEH")
    def position() -> dict:
        return gps().status() if gps() is not None else NO_GPS

    @api.get("/rits/{rit_id}/proposals", summary="Door de GPS voorgestelde rittijden (ter plaatse, aankomst SEH)")
    def proposals(rit_id: str, who: Actor = Who) -> list[dict]:
        return gps().proposals(rit_id, actor=who) if gps() is not None else []

    @api.post("/rits/{rit_id}/proposals/{proposal_id}/confirm", status_code=201,
              summary="Voorgestelde rittijd bevestigen (wordt een rittijd in het formulier)")
    def confirm(rit_id: str, proposal_id: str, who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        if gps() is None:
            raise DomainError("voorstel niet gevonden (geen GPS)", status=404, type="not_found")
        return gps().confirm(rit_id, proposal_id, actor=who, idempotency=key)

    @api.get("/rits/{rit_id}/track", summary="Gereden route van de rit (hoogstens één punt per 5 s)")
    def track(rit_id: str, who: Actor = Who) -> list[dict]:
        return gps().track(rit_id, actor=who) if gps() is not None else []

    return api

