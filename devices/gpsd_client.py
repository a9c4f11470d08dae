"""An optional position source: a gpsd already running on the tablet (JSON on localhost:2947).

gpsd does the NMEA work itself; we ask it to ``?WATCH`` in JSON and turn its TPV
(time-position-velocity) reports into the same ``Fix`` the serial reader produces. gpsd may
send several TPVs for one epoch as sentences arrive: the last one of a time wins.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from devices.gps import DEFAULT_MAX_CLOCK_SKEW, MODE_NO_FIX, Fix, FixPump, iso_utc
from devices.line_framing import LineFramer

log = logging.getLogger("ritlink.devices")

GPSD_HOST, GPSD_PORT = "127.0.0.1", 2947
WATCH_COMMAND = b'?WATCH={"enable":true,"json":true};\n'
RECONNECT_DELAY_S = 0.5


def _number(report: dict, key: str) -> float | None:
    value = report.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _parse_time(raw) -> datetime | None:
    if not isinstance(raw, str):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def tpv_to_fix(tpv: dict, now: datetime, max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
               sky: dict | None = None) -> Fix:
    """One gpsd TPV report as a Fix (mode < 2 or no lat/lon is a fix without position)."""
    flags: list[str] = []
    mode = tpv.get("mode") if tpv.get("mode") in (0, 1, 2, 3) else MODE_NO_FIX
    lat, lon = _number(tpv, "lat"), _number(tpv, "lon")
    has_position = mode >= 2 and lat is not None and lon is not None and abs(lat) <= 90 and abs(lon) <= 180
    receiver_time = _parse_time(tpv.get("time"))
    trusted = receiver_time
    if receiver_time is not None and abs(receiver_time - now) > max_clock_skew:
        flags.append("time-implausible")
        trusted = None
    sky = sky or {}
    altitude = _number(tpv, "altMSL")
    if altitude is None:
        altitude = _number(tpv, "alt")
    satellites = _number(sky, "uSat")
    return Fix(
        time=iso_utc(trusted) if trusted else None,
        lat=lat if has_position else None,
        lon=lon if has_position else None,
        speed_mps=_number(tpv, "speed") if has_position else None,
        track=_number(tpv, "track") if has_position else None,
        mode=max(mode, MODE_NO_FIX) if has_position else MODE_NO_FIX,
        quality=None,
        altitude=altitude if has_position and mode == 3 else None,
        satellites=int(satellites) if satellites is not None else None,
        hdop=_number(sky, "hdop"),
        receiver_time=iso_utc(receiver_time) if receiver_time else None,
        flags=tuple(flags),
    )


class GpsdDecoder:
    """gpsd's JSON lines in, fixes out; same shape as GpsDecoder (feed, flush, counters)."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW):
        self.framer = LineFramer(max_line=65536)
        self._clock = clock
        self._max_clock_skew = max_clock_skew
        self._pending: dict | None = None
        self._sky: dict = {}
        self.reports_ok = 0
        self.malformed = 0
        self.epochs = 0

    @property
    def has_open_epoch(self) -> bool:
        return self._pending is not None

    def feed(self, data: bytes) -> list[Fix]:
        fixes: list[Fix] = []
        for line in self.framer.feed(data):
            try:
                report = json.loads(line)
            except (ValueError, UnicodeDecodeError):
                self.malformed += 1
                continue
            if not isinstance(report, dict):
                self.malformed += 1
                continue
            self.reports_ok += 1
            if report.get("class") == "SKY":
                self._sky = report
            elif report.get("class") == "TPV":
                pending = self._pending
                if pending is not None and (pending.get("time") is None or pending.get("time") != report.get("time")):
                    fixes.extend(fix for fix in [self.flush()] if fix)
                self._pending = report
        return fixes

    def flush(self) -> Fix | None:
        pending, self._pending = self._pending, None
        if pending is None:
            return None
        self.epochs += 1
        return tpv_to_fix(pending, self._clock(), self._max_clock_skew, self._sky)

    def discard_partial(self) -> None:
        self.framer.feed(b"\n")  # ends (and drops, if broken) a half-received line

    def counters(self) -> dict[str, int]:
        return {"reports_ok": self.reports_ok, "malformed": self.malformed,
                "garbage_bytes": self.framer.garbage_bytes, "epochs": self.epochs}


class GpsdClient:
    """Reads a gpsd on its own thread; same interface as devices.gps.GpsReader."""

    def __init__(self, on_fix: Callable[[Fix], None], on_state: Callable[[str], None] = lambda s: None,
                 host: str = GPSD_HOST, port: int = GPSD_PORT, device_id: str = "gpsd",
                 idle_flush_s: float = 0.15):
        self.host, self.port = host, port
        self.device_id = device_id
        self.decoder = GpsdDecoder()
        self._on_state = on_state
        self._pump = FixPump(self.decoder, on_fix, idle_flush_s, device_id)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gpsd-{device_id}", daemon=True)
        self.state = "disconnected"
        self.reconnects = 0

    def start(self) -> GpsdClient:
        self._pump.start()
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._pump.stop(timeout)

    def counters(self) -> dict[str, int]:
        return {**self._pump.counters(), "reconnects": self.reconnects}

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            log.info("gpsd %s:%s %s", self.host, self.port, state)
            self._on_state(state)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with socket.create_connection((self.host, self.port), timeout=2.0) as sock:
                    sock.settimeout(0.2)
                    sock.sendall(WATCH_COMMAND)
                    self._set_state("connected")
                    self._read_until_closed(sock)
            except OSError:
                pass
            self._pump.interrupted()
            was_connected = self.state == "connected"
            self._set_state("disconnected")
            if not self._stop.is_set():
                self.reconnects += was_connected
                self._stop.wait(RECONNECT_DELAY_S)

    def _read_until_closed(self, sock: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                return  # gpsd went away
            self._pump.feed(data)
