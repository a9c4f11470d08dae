"""Domain errors, shaped so the HTTP layer can answer FastAPI-style
``{"detail": [{"loc": ["body", ...], "msg": ..., "type": ...}]}`` without knowing the domain."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the domain refuses; ``field`` is the dotted path in the request body at fault."""

    def __init__(self, message: str, field: str | None = None, status: int = 422, *, type: str = "domain",
                 ctx: dict[str, Any] | None = None, loc: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status
        self.type = type
        self.ctx = ctx
        self.loc = loc if loc is not None else (["body", *field.split(".")] if field else None)

    def details(self) -> list[dict[str, Any]]:
        detail: dict[str, Any] = {"msg": self.message, "type": self.type}
        if self.loc:
            detail["loc"] = self.loc
        if self.ctx:
            detail["ctx"] = self.ctx
        return [detail]


class DomainErrors(DomainError):
    """Several problems with one request (e.g. two impossible vitals), reported together."""

    def __init__(self, errors: list[DomainError]):
        assert errors
        super().__init__("; ".join(e.message for e in errors), errors[0].field, errors[0].status,
                         type=errors[0].type)
        self.errors = errors

    def details(self) -> list[dict[str, Any]]:
        return [d for e in self.errors for d in e.details()]


def raise_all(errors: list[DomainError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise DomainErrors(errors)
