"""Shift sign-in and CSRF for the tablet pages.

The signed-in crew lives in a signed cookie (HMAC-SHA256 over the JSON payload), so the
server keeps no session table and a restart of the process keeps the crew signed in as
long as the secret is the same. The CSRF token is derived from the cookie's own nonce:
a form rendered for this shift carries it, a forged cross-site POST cannot.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass

from fastapi import HTTPException, Request

from edge.store.audit import Actor

COOKIE = "ritlink_dienst"
# Demo PIN for the shift sign-in; a deployment sets RITLINK_PIN (docs/ui.md).
DEMO_PIN = "1234"
DEFAULT_CREW_ROLE = "ambulanceverpleegkundige"


def _secret() -> bytes:
    configured = os.environ.get("RITLINK_SESSION_SECRET")
    return configured.encode() if configured else _PROCESS_SECRET


_PROCESS_SECRET = secrets.token_bytes(32)


def expected_pin() -> str:
    return os.environ.get("RITLINK_PIN", DEMO_PIN)


@dataclass(frozen=True)
class Crew:
    names: tuple[str, ...]
    nonce: str

    @property
    def csrf(self) -> str:
        return hmac.new(_secret(), f"csrf:{self.nonce}".encode(), hashlib.sha256).hexdigest()

    def actor(self, request: Request) -> Actor:
        client = request.client.host if request.client else "onbekend"
        return Actor(user=self.names[0], role=DEFAULT_CREW_ROLE, client=client)


def _sign(payload: bytes) -> str:
    return hmac.new(_secret(), payload, hashlib.sha256).hexdigest()


def cookie_value(names: list[str]) -> str:
    payload = json.dumps({"names": names, "nonce": secrets.token_hex(16)}).encode()
    return base64.urlsafe_b64encode(payload).decode() + "." + _sign(payload)


def crew_from(request: Request) -> Crew | None:
    raw = request.cookies.get(COOKIE)
    if not raw or "." not in raw:
        return None
    body, signature = raw.rsplit(".", 1)
    try:
        payload = base64.urlsafe_b64decode(body.encode())
    except ValueError:
        return None
    if not hmac.compare_digest(_sign(payload), signature):
        return None
    data = json.loads(payload)
    return Crew(tuple(data["names"]), data["nonce"])


def check_csrf(crew: Crew | None, token: str | None) -> Crew:
    """A save without a signed-in crew or without this shift's token is refused (403)."""
    if crew is None or not token or not hmac.compare_digest(crew.csrf, token):
        raise HTTPException(403, "ongeldig of ontbrekend formuliertoken")
    return crew
