"""GPS over NMEA 0183: sentences from any talker combined into one fix per epoch.

An epoch is everything a receiver reports about one instant: RMC, GGA, GNS, GLL and ZDA
carry its time of day, VTG belongs to the epoch it follows. Sentences are parsed with
pynmea2 ``check=True``: one without a valid checksum is counted and never used.

Time: the receiver's date and time are kept as ``receiver_time``. ``time`` is the same
value only when it is close to the tablet clock; week-rollover dates (1999 for 2019, 2033
for 2014) and 1980 power-up defaults are flagged ``time-implausible`` and not used as time.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pynmea2

from devices.nmea_framing import NmeaFramer
from devices.serial_link import SerialLink

KNOT_MPS = 1852 / 3600  # 0.514444 m/s
DEFAULT_MAX_CLOCK_SKEW = timedelta(days=7)
DAY_MS = 86_400_000

# Fix modes as gpsd numbers them.
MODE_NO_FIX, MODE_2D, MODE_3D = 1, 2, 3

_POSITION_TYPES = {"RMC", "GGA", "GNS", "GLL"}
_EPOCH_TYPES = _POSITION_TYPES | {"VTG", "ZDA"}


@dataclass(frozen=True)
class Fix:
    """One epoch of a receiver. Without a valid position, ``lat``/``lon`` are None (no fix)."""

    time: str | None  # UTC ISO-8601 (ms, "Z"); None when the receiver's date is not trusted
    lat: float | None
    lon: float | None
    speed_mps: float | None
    track: float | None
    mode: int  # 1 no fix, 2 2D, 3 3D
    quality: int | None = None  # GGA quality: 1 GPS, 2 DGPS, 4 RTK fixed, 5 RTK float, 6 dead reckoning
    altitude: float | None = None  # metres above mean sea level
    satellites: int | None = None
    hdop: float | None = None
    receiver_time: str | None = None  # what the receiver said, trusted or not
    flags: tuple[str, ...] = ()

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lon is not None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time_of_day(raw: str) -> int | None:
    """``hhmmss[.sss]`` -> milliseconds since midnight; None for anything else."""
    if len(raw) < 6 or not raw[:6].isdigit():
        return None
    hours, minutes, seconds = int(raw[0:2]), int(raw[2:4]), int(raw[4:6])
    fraction = raw[6:]
    if hours > 23 or minutes > 59 or seconds > 60:
        return None
    millis = 0
    if fraction:
        if fraction[0] != "." or not (fraction[1:].isdigit() or fraction == "."):
            return None
        millis = round(float("0" + fraction) * 1000)
    return min(((hours * 60 + minutes) * 60 + seconds) * 1000 + millis, DAY_MS - 1)


def geodesic_distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance on the WGS 84 ellipsoid (Vincenty's inverse method), in metres.

    Speeds derived from 10 Hz positions need millimetres: a sphere is 0.5 % off.
    """
    a, f = 6378137.0, 1 / 298.257223563
    b = a * (1 - f)
    if lat1 == lat2 and lon1 == lon2:
        return 0.0
    u1 = math.atan((1 - f) * math.tan(math.radians(lat1)))
    u2 = math.atan((1 - f) * math.tan(math.radians(lat2)))
    big_l = math.radians(lon2 - lon1)
    lam = big_l
    sin_u1, cos_u1, sin_u2, cos_u2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    for _ in range(100):
        sin_lam, cos_lam = math.sin(lam), math.cos(lam)
        sin_sigma = math.hypot(cos_u2 * sin_lam, cos_u1 * sin_u2 - sin_u1 * cos_u2 * cos_lam)
        if sin_sigma == 0:
            return 0.0
        cos_sigma = sin_u1 * sin_u2 + cos_u1 * cos_u2 * cos_lam
        sigma = math.atan2(sin_sigma, cos_sigma)
        sin_alpha = cos_u1 * cos_u2 * sin_lam / sin_sigma
        cos2_alpha = 1 - sin_alpha**2
        cos_2sm = cos_sigma - 2 * sin_u1 * sin_u2 / cos2_alpha if cos2_alpha else 0.0
        c = f / 16 * cos2_alpha * (4 + f * (4 - 3 * cos2_alpha))
        previous = lam
        lam = big_l + (1 - c) * f * sin_alpha * (
            sigma + c * sin_sigma * (cos_2sm + c * cos_sigma * (-1 + 2 * cos_2sm**2)))
        if abs(lam - previous) < 1e-12:
            break
    else:  # nearly antipodal points do not converge; a sphere is good enough there
        return haversine_m(lat1, lon1, lat2, lon2)
    u_sq = cos2_alpha * (a * a - b * b) / (b * b)
    big_a = 1 + u_sq / 16384 * (4096 + u_sq * (-768 + u_sq * (320 - 175 * u_sq)))
    big_b = u_sq / 1024 * (256 + u_sq * (-128 + u_sq * (74 - 47 * u_sq)))
    delta_sigma = big_b * sin_sigma * (cos_2sm + big_b / 4 * (
        cos_sigma * (-1 + 2 * cos_2sm**2)
        - big_b / 6 * cos_2sm * (-3 + 4 * sin_sigma**2) * (-3 + 4 * cos_2sm**2)))
    return b * big_a * (sigma - delta_sigma)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius, in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371008.8 * math.asin(min(1.0, math.sqrt(h)))


def bearing_deg(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Initial course from point 1 to point 2, degrees true (0-360)."""
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360


def _float(raw: str) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _int(raw: str) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


def _position(sentence) -> tuple[float, float] | None:
    """Signed degrees from ``ddmm.mmmm`` fields, or None when empty or malformed."""
    if not sentence.lat or not sentence.lon or sentence.lat_dir not in ("N", "S") or sentence.lon_dir not in ("E", "W"):
        return None
    try:
        lat, lon = sentence.latitude, sentence.longitude
    except ValueError:
        return None
    if abs(lat) > 90 or abs(lon) > 180:
        return None
    return lat, lon


@dataclass
class _Epoch:
    """What the sentences of one epoch said so far."""

    tod_ms: int | None = None
    seen: set = field(default_factory=set)
    date: date | None = None
    bad_date: bool = False
    position: tuple[float, float] | None = None
    void: bool = False
    speed_mps: float | None = None
    track: float | None = None
    quality: int | None = None
    altitude: float | None = None
    satellites: int | None = None
    hdop: float | None = None


class GpsDecoder:
    """Bytes in, fixes out. Never raises on device data; counts what it rejects.

    A fix is emitted when the next epoch starts (a new time of day, or a sentence type the
    current epoch already has) or on ``flush()``, which a live reader calls when the line
    goes quiet after an epoch's burst.
    """

    def __init__(self, device_id: str = "gps", clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW):
        self.device_id = device_id
        self.framer = NmeaFramer()
        self._clock = clock
        self._max_clock_skew = max_clock_skew
        self._epoch: _Epoch | None = None
        self._last_date: date | None = None
        self._last_tod_ms: int | None = None
        self._last_position_at: tuple[float, float, datetime | int] | None = None
        self.sentences_ok = 0
        self.bad_checksum = 0
        self.malformed = 0
        self.epochs = 0

    # -- input -------------------------------------------------------------------------

    def feed(self, data: bytes) -> list[Fix]:
        fixes: list[Fix] = []
        for raw in self.framer.feed(data):
            fixes.extend(self.feed_sentence(raw.decode("ascii")))
        return fixes

    def feed_sentence(self, line: str) -> list[Fix]:
        """One framed sentence (``$...*hh``); returns the fix it completed, if any."""
        try:
            sentence = pynmea2.parse(line, check=True)
        except pynmea2.ChecksumError:
            self.bad_checksum += 1
            return []
        except pynmea2.SentenceTypeError:
            self.sentences_ok += 1  # a valid sentence ritlink has no use for
            return []
        except (pynmea2.ParseError, ValueError):
            self.malformed += 1
            return []
        self.sentences_ok += 1
        kind = getattr(sentence, "sentence_type", None)
        if kind not in _EPOCH_TYPES:
            return []
        try:
            return self._apply(sentence, kind)
        except (ValueError, TypeError, AttributeError):
            self.malformed += 1
            return []

    def flush(self) -> Fix | None:
        """Close the open epoch (end of a capture, or the line went quiet)."""
        epoch, self._epoch = self._epoch, None
        return self._finish(epoch) if epoch else None

    @property
    def has_open_epoch(self) -> bool:
        return self._epoch is not None

    def discard_partial(self) -> None:
        self.framer.discard_partial()

    def counters(self) -> dict[str, int]:
        return {
            "sentences_ok": self.sentences_ok,
            "bad_checksum": self.bad_checksum,
            "malformed": self.malformed,
            "garbage_bytes": self.framer.garbage_bytes,
            "epochs": self.epochs,
        }

    # -- epochs ------------------------------------------------------------------------

    def _apply(self, sentence, kind: str) -> list[Fix]:
        raw_time = sentence.data[0] if kind in ("RMC", "GGA", "GNS", "ZDA") else (
            sentence.data[4] if kind == "GLL" and len(sentence.data) > 4 else "")
        tod_ms = parse_time_of_day(raw_time) if raw_time else None
        key = (sentence.talker, kind)
        done: list[Fix] = []
        epoch = self._epoch
        if epoch is not None and (key in epoch.seen or (
                tod_ms is not None and epoch.tod_ms is not None and tod_ms != epoch.tod_ms)):
            done.extend(fix for fix in [self.flush()] if fix)
            epoch = None
        if epoch is None:
            epoch = self._epoch = _Epoch()
        if epoch.tod_ms is None:
            epoch.tod_ms = tod_ms
        epoch.seen.add(key)
        getattr(self, "_apply_" + kind.lower())(sentence, epoch)
        return done

    def _apply_rmc(self, s, epoch: _Epoch) -> None:
        self._apply_date(epoch, s.datestamp)
        if s.status != "A" or s.mode_indicator == "N":
            epoch.void = True
            return
        epoch.position = _position(s) or epoch.position
        speed = _float(s.data[6]) if len(s.data) > 6 else None
        if speed is not None:
            epoch.speed_mps = speed * KNOT_MPS
        track = _float(s.data[7]) if len(s.data) > 7 else None
        if track is not None:
            epoch.track = track

    def _apply_gga(self, s, epoch: _Epoch) -> None:
        quality = _int(s.data[5]) if len(s.data) > 5 else None
        epoch.satellites = _int(s.data[6]) if len(s.data) > 6 else epoch.satellites
        epoch.hdop = _float(s.data[7]) if len(s.data) > 7 else epoch.hdop
        if not quality:
            epoch.void = True
            return
        epoch.quality = quality
        epoch.position = _position(s) or epoch.position
        altitude = _float(s.data[8]) if len(s.data) > 8 else None
        epoch.altitude = altitude if altitude is not None else epoch.altitude

    def _apply_gns(self, s, epoch: _Epoch) -> None:
        modes = s.data[5] if len(s.data) > 5 else ""
        epoch.satellites = _int(s.data[6]) if len(s.data) > 6 else epoch.satellites
        epoch.hdop = _float(s.data[7]) if len(s.data) > 7 else epoch.hdop
        if not modes or set(modes) <= {"N"}:
            epoch.void = True
            return
        epoch.position = _position(s) or epoch.position
        altitude = _float(s.data[8]) if len(s.data) > 8 else None
        epoch.altitude = altitude if altitude is not None else epoch.altitude

    def _apply_gll(self, s, epoch: _Epoch) -> None:
        faa_mode = s.data[6] if len(s.data) > 6 else ""
        if s.status != "A" or faa_mode == "N":
            epoch.void = True
            return
        epoch.position = _position(s) or epoch.position

    def _apply_vtg(self, s, epoch: _Epoch) -> None:
        if (s.data[8] if len(s.data) > 8 else "") == "N":
            return  # "data not valid"
        knots = _float(s.data[4]) if len(s.data) > 4 else None
        kmh = _float(s.data[6]) if len(s.data) > 6 else None
        if knots is not None:
            epoch.speed_mps = knots * KNOT_MPS
        elif kmh is not None:
            epoch.speed_mps = kmh / 3.6
        track = _float(s.data[0]) if s.data else None
        if track is not None:
            epoch.track = track

    def _apply_zda(self, s, epoch: _Epoch) -> None:
        try:
            when = date(int(s.data[3]), int(s.data[2]), int(s.data[1]))
        except (ValueError, IndexError):
            when = None
        self._apply_date(epoch, when)

    def _apply_date(self, epoch: _Epoch, when) -> None:
        if isinstance(when, date):
            epoch.date = when
        elif when:  # present but unreadable, e.g. "2208-1" after a week rollover
            epoch.bad_date = True

    def _finish(self, epoch: _Epoch) -> Fix | None:
        if epoch.tod_ms is None and epoch.position is None and not epoch.void:
            return None  # only VTG/ZDA-like fragments, nothing to report
        flags: list[str] = []
        receiver_time = self._receiver_time(epoch, flags)
        trusted = receiver_time
        if receiver_time is not None and abs(receiver_time - self._clock()) > self._max_clock_skew:
            flags.append("time-implausible")
            trusted = None
        position = epoch.position
        if epoch.void and position is not None:
            # One sentence says "no fix" while another has a position: do not trust it.
            position = None
            flags.append("void")
        speed = epoch.speed_mps
        if position is not None and speed is None:
            speed = self._derived_speed(position, receiver_time, epoch.tod_ms)
            if speed is not None:
                flags.append("speed-derived")
        mode = MODE_NO_FIX if position is None else (MODE_3D if epoch.altitude is not None else MODE_2D)
        fix = Fix(
            time=iso_utc(trusted) if trusted else None,
            lat=position[0] if position else None,
            lon=position[1] if position else None,
            speed_mps=speed if position else None,
            track=epoch.track if position else None,
            mode=mode,
            quality=epoch.quality if position else 0,
            altitude=epoch.altitude if position else None,
            satellites=epoch.satellites,
            hdop=epoch.hdop,
            receiver_time=iso_utc(receiver_time) if receiver_time else None,
            flags=tuple(flags),
        )
        if position is not None:
            self._last_position_at = (position[0], position[1], receiver_time or epoch.tod_ms)
        self.epochs += 1
        return fix

    def _receiver_time(self, epoch: _Epoch, flags: list[str]) -> datetime | None:
        if epoch.bad_date:
            flags.append("bad-date")
        if epoch.tod_ms is None:
            return None
        day = epoch.date
        if day is None and self._last_date is not None:
            day = self._last_date
            if self._last_tod_ms is not None and epoch.tod_ms < self._last_tod_ms - DAY_MS // 2:
                day += timedelta(days=1)  # midnight passed since the last dated sentence
        self._last_tod_ms = epoch.tod_ms
        if day is None:
            flags.append("no-date")
            return None
        self._last_date = day
        return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(milliseconds=epoch.tod_ms)

    def _derived_speed(self, position, receiver_time: datetime | None, tod_ms: int | None) -> float | None:
        """Speed from the last position when the epoch reports none (GGA- or GLL-only)."""
        if self._last_position_at is None:
            return None
        lat, lon, then = self._last_position_at
        now = receiver_time if isinstance(then, datetime) else tod_ms
        if now is None or type(now) is not type(then):
            return None
        seconds = (now - then).total_seconds() if isinstance(now, datetime) else (now - then) / 1000
        if seconds <= 0 or seconds > 10:
            return None
        return geodesic_distance_m(lat, lon, position[0], position[1]) / seconds


def capture_bytes(path: str | Path) -> bytes:
    """A capture file with its ``#`` comment lines removed (gpsd regression logs have them)."""
    raw = Path(path).read_bytes()
    return b"".join(line for line in raw.splitlines(keepends=True) if not line.startswith(b"#"))


def read_capture(path: str | Path, decoder: GpsDecoder | None = None, chunk: int = 4096) -> Iterator[Fix]:
    """Every fix in a capture file, fed in chunks as a serial port would deliver them."""
    decoder = decoder or GpsDecoder()
    data = capture_bytes(path)
    for start in range(0, len(data), chunk):
        yield from decoder.feed(data[start:start + chunk])
    last = decoder.flush()
    if last:
        yield last


class FixPump:
    """Feeds a decoder from an I/O thread and delivers its fixes; closes an epoch when idle.

    Epochs end when the next one starts, or ``idle_flush_s`` after the last byte: at 1 Hz
    the burst of sentences ends long before the next second, so a fix need not wait for it.
    Shared by the serial reader and the gpsd client (their decoders have the same shape).
    """

    def __init__(self, decoder, on_fix: Callable[[Fix], None], idle_flush_s: float = 0.15, name: str = "gps"):
        self.decoder = decoder
        self._on_fix = on_fix
        self._idle_flush_s = idle_flush_s
        self._lock = threading.Lock()
        self._last_bytes_at = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flush_when_idle, name=f"gps-flush-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self.interrupted()

    def feed(self, data: bytes) -> None:
        with self._lock:
            self._last_bytes_at = time.monotonic()
            fixes = self.decoder.feed(data)
        self._emit(fixes)

    def interrupted(self) -> None:
        """The line broke: finish the open epoch, forget a half-received sentence."""
        with self._lock:
            self.decoder.discard_partial()
            fixes = [self.decoder.flush()]
        self._emit(fixes)

    def counters(self) -> dict[str, int]:
        with self._lock:
            return self.decoder.counters()

    def _flush_when_idle(self) -> None:
        while not self._stop.wait(self._idle_flush_s / 3):
            with self._lock:
                quiet = time.monotonic() - self._last_bytes_at >= self._idle_flush_s
                fixes = [self.decoder.flush()] if quiet and self.decoder.has_open_epoch else []
            self._emit(fixes)

    def _emit(self, fixes: list[Fix | None]) -> None:
        for fix in fixes:
            if fix is not None:
                self._on_fix(fix)


class GpsReader:
    """A receiver on any pyserial URL or device path: fixes to ``on_fix``, reconnects by itself.

    ``state`` is "connected" or "disconnected" (unplugged, not yet there); ``on_state``
    hears every change.
    """

    def __init__(self, url: str, on_fix: Callable[[Fix], None], on_state: Callable[[str], None] = lambda s: None,
                 baudrate: int = 9600, device_id: str = "gps", decoder: GpsDecoder | None = None,
                 idle_flush_s: float = 0.15):
        self.device_id = device_id
        self.decoder = decoder or GpsDecoder(device_id)
        self._on_state = on_state
        self._pump = FixPump(self.decoder, on_fix, idle_flush_s, device_id)
        self.link = SerialLink(url, self._pump.feed, self._on_link_state, baudrate=baudrate, name=device_id)

    @property
    def state(self) -> str:
        return self.link.state

    def start(self) -> GpsReader:
        self._pump.start()
        self.link.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self.link.stop(timeout)
        self._pump.stop(timeout)

    def counters(self) -> dict[str, int]:
        return {**self._pump.counters(), "reconnects": self.link.reconnects}

    def _on_link_state(self, state: str) -> None:
        self._pump.interrupted()
        self._on_state(state)
