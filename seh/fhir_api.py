"""The SEH's read-only FHIR R4 endpoint under /fhir/R4, for the hospital's EPD.

``/metadata`` (CapabilityStatement), ``Task`` search by ``status`` and ``_lastUpdated`` (one
Task per rit: its workflow state), ``Bundle/{rit_id}`` (the rit as a document bundle) and
``Task/{id}``. Every request needs a bearer token from the SEH configuration
(``fhir_tokens``); without any configured, everyone gets 401. Every answered read is written to
the access log (who = the token's name, what, which rit, when). Logs carry ids only.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from edge.wire import fhir_codes as C
from edge.wire.contract import utc_now
from edge.wire.fhir import resource_id, resources_of, rit_bundle
from seh.store import SehStore

log = logging.getLogger("ritlink.seh.fhir")
FHIR_JSON = "application/fhir+json"
TASK_STATUSES = frozenset(s[0] for s in C.STATUS.values())
_PREFIXES = {"eq": lambda a, b: a.startswith(b), "ge": lambda a, b: a >= b, "gt": lambda a, b: a > b,
             "le": lambda a, b: a <= b or a.startswith(b), "lt": lambda a, b: a < b}


def _fhir(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(body, ensure_ascii=False), status_code=status, media_type=FHIR_JSON, headers=headers)


def outcome(status: int, code: str, text: str, **headers: str) -> Response:
    return _fhir({"resourceType": "OperationOutcome",
                  "issue": [{"severity": "error", "code": code, "diagnostics": text}]}, status, **headers)


def capability_statement(base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement", "status": "active", "date": utc_now(), "kind": "instance",
        "fhirVersion": "4.0.1", "format": ["json"], "software": {"name": "ritlink SEH"},
        "implementation": {"description": "ritlink SEH: ambulanceoverdrachten (alleen lezen)", "url": base},
        "rest": [{"mode": "server",
                  "security": {"service": [{"coding": [{
                      "system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "OAuth"}],
                      "text": "Bearer-token uit de SEH-configuratie (fhir_tokens)"}]},
                  "resource": [
                      {"type": "Task", "profile": C.PROFILES["Task"], "interaction": [{"code": "read"},
                                                                                     {"code": "search-type"}],
                       "searchParam": [{"name": "status", "type": "token"}, {"name": "_lastUpdated", "type": "date"}]},
                      {"type": "Bundle", "interaction": [{"code": "read"}]}]}],
    }


def fhir_router(store: SehStore, tokens: Iterable[Any], seh_name: str | None = None) -> APIRouter:
    """The /fhir/R4 routes. ``tokens``: objects with ``name`` and ``token`` (edge.config.FhirToken)."""
    known = [(t.name, t.token) for t in tokens]
    router = APIRouter(prefix="/fhir/R4")

    def who(request: Request) -> str | None:
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented:
            return None
        for name, token in known:  # compare every token in constant time: no timing hint which one is close
            if hmac.compare_digest(token.encode(), presented.strip().encode()):
                return name
        return None

    def logged(request: Request, action: str, rit_id: str | None = None) -> str | None:
        name = who(request)
        if name is not None:
            with store.write() as db:
                db.execute("INSERT INTO seh_fhir_access (at, who, action, rit_id, client) VALUES (?, ?, ?, ?, ?)",
                           [utc_now(), name, action, rit_id, request.client.host if request.client else None])
            log.info("FHIR %s by %s%s", action, name, f" rit {rit_id}" if rit_id else "")
        return name

    def refused() -> Response:
        return outcome(401, "login", "geen of ongeldig bearer-token", **{"WWW-Authenticate": 'Bearer realm="fhir"'})

    def task_of(row: dict) -> dict:
        bundle = rit_bundle(row["form"], seh_name=seh_name, now=row["updated_at"])
        task, = resources_of(bundle, "Task")
        task["meta"]["lastUpdated"] = row["updated_at"]
        return task

    @router.get("/metadata")
    def metadata(request: Request) -> Response:
        if logged(request, "fhir.metadata") is None:
            return refused()
        return _fhir(capability_statement(str(request.base_url) + "fhir/R4"))

    @router.get("/Task")
    def task_search(request: Request, status: str | None = None, _lastUpdated: str | None = None) -> Response:  # noqa: N803
        wanted = set(status.split(",")) if status else None
        if wanted and not wanted <= TASK_STATUSES:
            return outcome(400, "value", f"onbekende Task-status: {', '.join(sorted(wanted - TASK_STATUSES))}")
        when = None
        if _lastUpdated:
            prefix, value = (_lastUpdated[:2], _lastUpdated[2:]) if _lastUpdated[:2] in _PREFIXES else ("eq", _lastUpdated)
            when = (_PREFIXES[prefix], value)
        if logged(request, "fhir.task.search") is None:
            return refused()
        matches = []
        for summary in store.rits():
            if when and not when[0](summary["updated_at"], when[1]):
                continue
            row = store.rit(summary["rit_id"])
            task = task_of(row)
            if wanted is None or task["status"] in wanted:
                matches.append(task)
        base = str(request.base_url) + "fhir/R4"
        return _fhir({"resourceType": "Bundle", "type": "searchset", "total": len(matches),
                      "link": [{"relation": "self", "url": str(request.url)}],
                      "entry": [{"fullUrl": f"{base}/Task/{t['id']}", "resource": t, "search": {"mode": "match"}}
                                for t in matches]})

    @router.get("/Task/{task_id}")
    def task_read(request: Request, task_id: str) -> Response:
        if who(request) is None:  # before the search: it reads every rit
            return refused()
        row = next((store.rit(s["rit_id"]) for s in store.rits() if resource_id(s["rit_id"], "task") == task_id), None)
        logged(request, "fhir.task.read", row["rit_id"] if row else None)
        if row is None:
            return outcome(404, "not-found", "Task niet gevonden")
        return _fhir(task_of(row))

    @router.get("/Bundle/{rit_id}")
    def bundle_read(request: Request, rit_id: str) -> Response:
        if logged(request, "fhir.bundle.read", rit_id) is None:
            return refused()
        row = store.rit(rit_id)
        if row is None:
            return outcome(404, "not-found", "rit niet gevonden")
        return _fhir(rit_bundle(row["form"], seh_name=seh_name))

    return router


def access_log(store: SehStore, rit_id: str | None = None) -> list[dict]:
    if rit_id is None:
        return store.query("SELECT at, who, action, rit_id, client FROM seh_fhir_access ORDER BY id")
    return store.query("SELECT at, who, action, rit_id, client FROM seh_fhir_access WHERE rit_id = ? ORDER BY id",
                       [rit_id])
