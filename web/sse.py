"""Server-sent events for the tablet: the live vitals tiles, pushed when they change.

The stream sends rendered HTML (htmx-ext-sse swaps it in); it sends only when the live
vitals' version counter moved, and a comment line now and then so a dead connection is
noticed by the browser.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from fastapi.templating import Jinja2Templates

from edge.service import EdgeService
from web import session
from web.view_model import tiles

POLL_S = 0.2
KEEPALIVE_S = 10.0


def sse_event(name: str, html: str) -> str:
    lines = html.strip().splitlines() or [""]
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def change_stream(request: Request, version: Callable[[], object], render: Callable[[], str],
                        name: str) -> AsyncIterator[str]:
    """Send ``render()`` as event ``name`` each time ``version()`` changes (and once at the start,
    so nothing between the page's render and the stream's start is missed), until the client leaves."""
    last: object = object()
    quiet = 0.0
    while not await request.is_disconnected():
        current = version()
        if current != last:
            last = current
            quiet = 0.0
            yield sse_event(name, render())
        elif quiet >= KEEPALIVE_S:
            quiet = 0.0
            yield ": stil\n\n"
        await asyncio.sleep(POLL_S)
        quiet += POLL_S


def sse_response(stream: AsyncIterator[str]) -> StreamingResponse:
    return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-store"})


def sse_router(service: EdgeService, templates: Jinja2Templates) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    def render_tiles() -> str:
        values, device_alarms = tiles(service)
        return templates.get_template("_tiles.html").render(tiles=values, device_alarms=device_alarms,
                                                             devices=service.live.device_states())

    @router.get("/sse/vitals")
    async def vitals(request: Request) -> StreamingResponse:
        if session.crew_from(request) is None:
            raise HTTPException(403)  # the live vitals are the patient's: only for the signed-in shift
        # Alarms age without a new value (a silent device): the second clock tick counts too.
        loop = asyncio.get_running_loop()
        return sse_response(change_stream(request, lambda: (service.live.version, int(loop.time())),
                                          render_tiles, "vitals"))

    return router
