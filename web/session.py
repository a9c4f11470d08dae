"""Shift sign-in, sessions and CSRF for the tablet.

The crew signs in with their names and the shift PIN (stored only as a scrypt hash,
``pin_hash`` in the configuration). The session lives server-side (web/sessions.py) in the
tablet's database: it ends at the end of the shift (``shift_hours``) or at sign-out, and a
copied cookie is worthless after either. Failed PINs back off and lock (web/pin_guard.py).
The sign-in form itself carries a CSRF token (double submit: a cookie of its own plus the
same value in the form, which another site can neither read nor set).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request

from edge.store.audit import Actor
from web.passwords import verify
from web.pin_guard import SignInGuard
from web.sessions import Session, SessionBook

COOKIE = "ritlink_dienst"
LOGIN_COOKIE = "ritlink_aanmelden"
DEFAULT_CREW_ROLE = "ambulanceverpleegkundige"
DEVICE_ROLE = "apparaat"


@dataclass(frozen=True)
class Crew:
    names: tuple[str, ...]
    session: Session

    @property
    def csrf(self) -> str:
        return self.session.csrf

    def actor(self, request: Request) -> Actor:
        return Actor(user=self.names[0], role=DEFAULT_CREW_ROLE, client=client_of(request))


def client_of(request: Request) -> str:
    return request.client.host if request.client else "onbekend"


class ShiftAuth:
    """What the tablet's sign-in needs, kept on ``app.state.auth``."""

    def __init__(self, store: Any, pin_hash: str | None, shift_hours: float, api_tokens: list[Any] = (),
                 guard: SignInGuard | None = None):
        self.pin_hash = pin_hash
        self.book = SessionBook(store, shift_hours)
        self.guard = guard or SignInGuard()
        self.tokens = [(t.name, t.token) for t in api_tokens]

    def device(self, request: Request) -> Actor | None:
        """A configured device token in ``Authorization: Bearer``; None without one."""
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        found = None
        for name, token in self.tokens:  # every token compared in constant time
            if hmac.compare_digest(token.encode(), presented.strip().encode()):
                found = name
        return Actor(user=found, role=DEVICE_ROLE, client=client_of(request)) if found else None

    def pin_ok(self, pin: str) -> bool:
        return self.pin_hash is not None and verify(pin, self.pin_hash)


def auth_of(request: Request) -> ShiftAuth:
    return request.app.state.auth


def crew_from(request: Request) -> Crew | None:
    found = auth_of(request).book.find(request.cookies.get(COOKIE))
    return Crew(found.names, found) if found else None


def check_csrf(crew: Crew | None, token: str | None) -> Crew:
    """A save without a signed-in crew or without this shift's token is refused (403)."""
    if crew is None or not token or not hmac.compare_digest(crew.csrf, str(token)):
        raise HTTPException(403, "ongeldig of ontbrekend formuliertoken")
    return crew


def login_token(request: Request) -> str:
    """The sign-in form's CSRF token: the one in this browser's cookie, else a new one."""
    current = request.cookies.get(LOGIN_COOKIE, "")
    return current if 20 <= len(current) <= 100 else secrets.token_urlsafe(24)


def login_token_ok(request: Request, posted: Any) -> bool:
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), str(posted or "").encode())


def sign_in(request: Request, names: list[str], pin: str) -> tuple[Session | None, str]:
    """Open the shift, or say why not (back-off and lock-out refuse even the right PIN)."""
    auth = auth_of(request)
    wait = auth.guard.wait_s()
    if wait > 0:
        return None, f"Te veel onjuiste pogingen: probeer het over {int(wait) + 1} seconden opnieuw"
    if not names or not auth.pin_ok(pin):
        wait = auth.guard.failed()
        return None, f"Naam en juiste pincode nodig (volgende poging over {int(wait + 0.999)} s)"
    auth.guard.succeeded()
    return auth.book.open(names, DEFAULT_CREW_ROLE), ""


def sign_out(request: Request) -> None:
    auth_of(request).book.revoke(request.cookies.get(COOKIE))
