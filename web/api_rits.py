"""The rit endpoints of the JSON API (/api/v1).

Who is acting comes from the authentication (web/http_guard.ApiGate): the signed-in crew or
the configured device token's name, never from a header. Every write accepts an
``Idempotency-Key`` header: a repeated key returns the first answer and records nothing
twice.
"""

from __future__ import annotations

import hashlib
import json

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Request

from edge.store.audit import Actor
from edge.wire.canonical import canonical_json
from edge.service import EdgeService, IdempotencyKey
from web.api_models import (
    AcceptVitals,
    Cancel,
    CorrectEntry,
    Destination,
    NewEntry,
    NewRit,
    SehCalled,
    Overdracht,
    SetTime,
    VitalsSet,
)


async def actor(request: Request) -> Actor:
    # async: a plain ``def`` dependency costs every request a hop to the thread pool and back.
    return request.state.actor  # set by the gate; a request without it never reaches a route


async def idempotency(request: Request,
                      idempotency_key: str | None = Header(None, min_length=1, max_length=200)) -> IdempotencyKey | None:
    if idempotency_key is None:
        return None
    body = await request.body()
    try:
        body = canonical_json(json.loads(body)) if body else b""
    except ValueError:
        pass  # not JSON: the raw bytes are the fingerprint
    digest = hashlib.sha256(b"\n".join([request.method.encode(), request.url.path.encode(), body])).hexdigest()
    return IdempotencyKey(idempotency_key, digest)


def rit_router(service: EdgeService) -> APIRouter:
    api = APIRouter(prefix="/api/v1", tags=["ritten"])
    Who = Depends(actor)
    Key = Depends(idempotency)

    @api.post("/rits", status_code=201, summary="Nieuwe rit")
    def create_rit(body: NewRit, who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        melding = body.model_dump(include={"reason", "location"}, exclude_none=True)
        return service.create_rit(body.destination_seh, body.urgency, actor=who, melding=melding, idempotency=key)

    @api.get("/rits", summary="Alle ritten op deze tablet")
    def list_rits(who: Actor = Who) -> list[dict]:
        return service.rits(actor=who)

    @api.get("/rits/{rit_id}", summary="Eén rit: formulier, hash en berichtstatus")
    def get_rit(rit_id: str, who: Actor = Who) -> dict:
        return service.rit_view(rit_id, actor=who)

    @api.get("/rits/{rit_id}/entries", summary="Het invoerlogboek van de rit (ook gecorrigeerde invoer)")
    def list_entries(rit_id: str, who: Actor = Who) -> list[dict]:
        return service.entries(rit_id, actor=who)

    @api.post("/rits/{rit_id}/entries", status_code=201, summary="Invoer toevoegen (elke soort)")
    def add_entry(rit_id: str, body: Annotated[NewEntry, Body()], who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        return service.add_entry(rit_id, body.kind, body.data, actor=who, clinical_time=body.clinical_time,
                                 confirm=body.confirm, nagekomen=body.nagekomen, source=body.source,
                                 idempotency=key, confirm_repeat=body.confirm_repeat)

    @api.post("/rits/{rit_id}/entries/{entry_id}/correct", status_code=201,
              summary="Invoer corrigeren (het origineel blijft zichtbaar als gecorrigeerd)")
    def correct_entry(rit_id: str, entry_id: str, body: CorrectEntry, who: Actor = Who,
                      key: IdempotencyKey | None = Key) -> dict:
        return service.correct_entry(rit_id, entry_id, actor=who, reason=body.reason, data=body.data,
                                     withdraw=body.withdraw, clinical_time=body.clinical_time,
                                     confirm=body.confirm, nagekomen=body.nagekomen, idempotency=key)

    @api.post("/rits/{rit_id}/vitals", status_code=201, summary="Handmatige set vitale parameters")
    def add_vitals(rit_id: str, body: VitalsSet, who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        return service.add_vitals(rit_id, body.values(), actor=who, clinical_time=body.clinical_time,
                                  confirm=body.confirm, nagekomen=body.nagekomen, source=body.source,
                                  idempotency=key)

    @api.post("/rits/{rit_id}/vitals/accept", summary="Actuele monitorwaarden overnemen")
    def accept_vitals(rit_id: str, body: AcceptVitals | None = None, who: Actor = Who,
                      key: IdempotencyKey | None = Key) -> dict:
        body = body or AcceptVitals()
        return service.accept_vitals(rit_id, actor=who, codes=body.codes, confirm=body.confirm, idempotency=key)

    @api.get("/vitals/nibp", summary="Voltooide NIBP-metingen van de monitor, om over te nemen")
    def nibp_proposals() -> list[dict]:
        return service.live.nibp_proposals()

    @api.post("/rits/{rit_id}/vitals/nibp/{proposal_id}/accept", summary="Een NIBP-meting overnemen")
    def accept_nibp(rit_id: str, proposal_id: str, body: AcceptVitals | None = None, who: Actor = Who,
                    key: IdempotencyKey | None = Key) -> dict:
        return service.accept_nibp(rit_id, proposal_id, actor=who, confirm=(body or AcceptVitals()).confirm,
                                   idempotency=key)

    @api.post("/rits/{rit_id}/times", status_code=201, summary="Een rittijd vastleggen")
    def set_time(rit_id: str, body: SetTime, who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        return service.set_time(rit_id, body.which, body.at, actor=who, nagekomen=body.nagekomen, idempotency=key)

    @api.post("/rits/{rit_id}/announce", status_code=202, summary="Vooraankondigen bij de bestemming")
    def announce(rit_id: str, who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        return service.announce(rit_id, actor=who, idempotency=key)

    @api.get("/rits/{rit_id}/overdracht/missing", summary="Wat de overdracht nog mist")
    def overdracht_missing(rit_id: str, who: Actor = Who) -> dict:
        return service.overdracht_missing(rit_id, actor=who)

    @api.post("/rits/{rit_id}/overdracht", status_code=202, summary="Overdracht (eventueel expliciet onvolledig)")
    def overdracht(rit_id: str, body: Overdracht | None = None, who: Actor = Who,
                   key: IdempotencyKey | None = Key) -> dict:
        return service.overdracht(rit_id, actor=who, onvolledig=(body or Overdracht()).onvolledig, idempotency=key)

    @api.post("/rits/{rit_id}/cancel", status_code=202, summary="Annuleren (patiënt komt niet naar deze SEH)")
    def cancel(rit_id: str, body: Cancel, who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        return service.cancel(rit_id, body.reason, actor=who, text=body.text, idempotency=key)

    @api.post("/rits/{rit_id}/destination", status_code=202, summary="Bestemming wijzigen")
    def change_destination(rit_id: str, body: Destination, who: Actor = Who,
                           key: IdempotencyKey | None = Key) -> dict:
        return service.change_destination(rit_id, body.seh_id, actor=who, reason=body.reason, idempotency=key)

    @api.post("/rits/{rit_id}/seh-called", summary="SEH gebeld na een uitblijvende bevestiging")
    def seh_called(rit_id: str, body: SehCalled, who: Actor = Who, key: IdempotencyKey | None = Key) -> dict:
        return service.seh_called(rit_id, body.seh_id, body.warning, actor=who, idempotency=key)

    @api.get("/rits/{rit_id}/audit", summary="Toegangslog van de rit (NEN 7513)")
    def access_log(rit_id: str, who: Actor = Who) -> list[dict]:
        return service.access_log(rit_id, actor=who)

    @api.get("/valuelists", summary="Waardelijsten (keuzelijsten) van het formulier")
    def value_lists() -> dict:
        return service.value_lists()

    return api
