"""``GET /-/status``: the operations status of the tablet as JSON (same data as `ritlink status`)."""

from __future__ import annotations

from fastapi import FastAPI

from edge.ops.status import collect


def add_status_routes(app: FastAPI, service) -> None:
    @app.get("/-/status")
    def status() -> dict:
        return collect(service)
