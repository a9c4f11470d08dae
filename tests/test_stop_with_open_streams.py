"""SIGTERM stops ``ritlink serve`` and ``ritlink seh`` promptly and cleanly even while a tablet
page or the wall board holds a live stream open (SSE never ends by itself): a restart by
systemd must not wait for the unit's stop timeout."""

from __future__ import annotations

import signal
import threading
import time

import httpx
import pytest

from simulators.processes import AUTH_HEADERS

STOP_WITHIN_S = 6.0  # uvicorn's graceful shutdown ends open streams after 3 s


def _hold_stream(client, path: str, opened: threading.Event) -> None:
    try:
        with client.stream("GET", path, timeout=30) as response:
            opened.set()
            for _ in response.iter_bytes():
                pass
    except Exception:  # the server going away ends the stream: that is the point
        opened.set()


@pytest.mark.parametrize("side", ["serve", "seh"])
def test_sigterm_with_an_open_stream_stops_in_seconds(side, edge_process, seh_process):
    if side == "serve":
        proc = edge_process()
        client, path = proc.signed_in("J. de Vries"), "/sse/vitals"
    else:
        proc = seh_process()
        client, path = httpx.Client(base_url=proc.base_url, headers=AUTH_HEADERS), "/sse/bord"
    opened = threading.Event()
    holder = threading.Thread(target=_hold_stream, args=(client, path, opened), daemon=True)
    holder.start()
    assert opened.wait(10), "the stream did not open"
    started = time.monotonic()
    proc.process.send_signal(signal.SIGTERM)
    code = proc.process.wait(timeout=30)
    took = time.monotonic() - started
    print(f"{side}: exit {code} {took:.2f} s after SIGTERM with a stream open")
    assert code == 0 and took < STOP_WITHIN_S, (code, took)
