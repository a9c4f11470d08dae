"""HTTP hardening shared by the tablet and the SEH apps.

- ``TrustedHostMiddleware``: only the configured Host names (no DNS rebinding onto 127.0.0.1);
- a cap on request bodies: 413 with nothing of the request in it;
- validation errors (422) name the field and a short reason, never the input;
- ``ApiGate``: every ``/api/v1`` request is authenticated before any route sees it, so a
  route added later cannot be open by mistake; the caller becomes ``request.state.actor``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.middleware.trustedhost import TrustedHostMiddleware

API_PREFIX = "/api/v1"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
CSRF_HEADER = "x-csrf-token"
TOO_LARGE = {"detail": [{"type": "too_large", "msg": "verzoek te groot"}]}


class BodyLimit:
    """Refuse a body over ``max_bytes``: at once by its Content-Length, else while it streams in
    (uvicorn passes on no more body than the Content-Length says)."""

    def __init__(self, app: Any, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await JSONResponse(TOO_LARGE, 413)(scope, receive, send)
        if length is not None or b"transfer-encoding" not in dict(scope.get("headers") or []):
            return await self.app(scope, receive, send)
        # A streamed body: read it here up to the cap (a route could not tell 413 from a bad body).
        messages, seen = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            seen += len(message.get("body", b""))
            if seen > self.max_bytes:
                return await JSONResponse(TOO_LARGE, 413)(scope, receive, send)
            if not message.get("more_body"):
                break

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


def is_api(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


class ApiGate:
    """``authenticate(request)`` returns the actor, or the refusal to send (401/403)."""

    def __init__(self, app: Any, authenticate: Callable[[Request], Any]):
        self.app = app
        self.authenticate = authenticate

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and is_api(scope.get("path", "")):
            outcome = self.authenticate(Request(scope))
            if isinstance(outcome, Response):
                return await outcome(scope, receive, send)
            scope.setdefault("state", {})["actor"] = outcome
        await self.app(scope, receive, send)


def refusal(status: int, msg: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": [{"type": "auth", "msg": msg}]}, status, headers=headers)


def short_errors(errors: list[dict]) -> list[dict]:
    """Where and why, without ``input``/``ctx`` (they echo what was sent: a patient name, 10 MB)."""
    return [{"type": str(e.get("type", ""))[:60], "loc": [str(p)[:60] for p in e.get("loc", ())][:8],
             "msg": str(e.get("msg", ""))[:200]} for e in errors[:20]]


def harden(app: FastAPI, trusted_hosts: list[str], max_body_bytes: int,
           authenticate: Callable[[Request], Any]) -> None:
    """Add the gate, the body cap and the Host check (outermost last) and the short 422."""

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": short_errors(exc.errors())}, 422)

    app.add_middleware(ApiGate, authenticate=authenticate)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(trusted_hosts))
