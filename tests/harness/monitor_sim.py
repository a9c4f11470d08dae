"""A simulated Nonin oximeter feeding a pty device on a thread, for as long as a block runs."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from simulators.monitor import run_nonin
from simulators.pty_device import PtyDevice


@contextlib.contextmanager
def nonin_feeding(device: PtyDevice, interval: float = 0.2) -> Iterator[PtyDevice]:
    stop = threading.Event()
    thread = threading.Thread(target=run_nonin, args=(device, stop, interval), daemon=True)
    thread.start()
    try:
        yield device
    finally:
        stop.set()
        thread.join(2)
