"""The thin I/O loop around a pure decoder: open a pyserial URL, read, reconnect forever.

Any pyserial URL works: a device path (/dev/ttyUSB0, a pty), ``socket://host:port``,
``loop://``. An unplugged device shows as "disconnected" and is reopened by itself.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import serial

log = logging.getLogger("ritlink.devices")

RECONNECT_DELAY_S = 0.5


class SerialLink:
    """Reads ``url`` on its own thread and hands every chunk of bytes to ``on_bytes``.

    ``on_state`` gets "connected" / "disconnected" on every change.
    """

    def __init__(
        self,
        url: str,
        on_bytes: Callable[[bytes], None],
        on_state: Callable[[str], None] = lambda state: None,
        baudrate: int = 9600,
        name: str = "device",
    ):
        self.url = url
        self.baudrate = baudrate
        self.name = name
        self._on_bytes = on_bytes
        self._on_state = on_state
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"serial-{name}", daemon=True)
        self.state = "disconnected"
        self.reconnects = 0

    def start(self) -> SerialLink:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            log.info("device %s %s", self.name, state)
            self._on_state(state)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                port = serial.serial_for_url(self.url, baudrate=self.baudrate, timeout=0.2)
            except (serial.SerialException, OSError, ValueError):
                self._stop.wait(RECONNECT_DELAY_S)
                continue
            try:
                # Bytes queued while nobody listened are stale vitals: start fresh.
                port.reset_input_buffer()
                self._set_state("connected")
                self._read_until_error(port)
            except (serial.SerialException, OSError):
                pass
            finally:
                port.close()
                self._set_state("disconnected")
            if not self._stop.is_set():
                self.reconnects += 1
                self._stop.wait(RECONNECT_DELAY_S)

    def _read_until_error(self, port) -> None:
        idle_since = time.monotonic()
        while not self._stop.is_set():
            data = port.read(port.in_waiting or 1)
            if data:
                idle_since = time.monotonic()
                self._on_bytes(data)
            elif not _still_present(self.url) and time.monotonic() - idle_since > RECONNECT_DELAY_S:
                # A vanished device path (pty gone, USB unplugged) may not raise on read.
                raise serial.SerialException("device path is gone")


def _still_present(url: str) -> bool:
    return "://" in url or os.path.exists(url)
