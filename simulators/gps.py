"""GPS receiver simulator (``ritlink sim gps``): NMEA 0183 on a pty, from a route or a capture.

Route mode drives along waypoints (simulators/gps_route.py) and speaks like a multi-GNSS
receiver (GN RMC/VTG/GGA/GSA/GLL/ZDA, GP/GL/GA/GB GSV) with realistic position noise.
Replay mode plays a capture (``#`` lines skipped) paced by the receiver's own clock.
Both write no faster than the configured baud rate allows and can inject faults: garbage
bytes, bad checksums, dropped sentences, a pulled cable, a tunnel without fix.
"""

from __future__ import annotations

import logging
import math
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from devices.gps import KNOT_MPS, capture_bytes, parse_time_of_day
from simulators.gps_route import Drive, DriveTick, Route
from simulators.pty_device import PtyDevice

log = logging.getLogger("ritlink.simulators")

REPLUG_AFTER_S = 2.0
MAX_REPLAY_GAP_S = 5.0  # a capture with a minutes-long hole is replayed with a short pause


def nmea(body: str) -> bytes:
    """``GPRMC,...`` -> ``$GPRMC,...*hh\\r\\n``."""
    checksum = 0
    for char in body.encode("ascii"):
        checksum ^= char
    return f"${body}*{checksum:02X}\r\n".encode("ascii")


def _lat(value: float) -> str:
    degrees = int(abs(value))
    return f"{degrees:02d}{(abs(value) - degrees) * 60:08.5f},{'N' if value >= 0 else 'S'}"


def _lon(value: float) -> str:
    degrees = int(abs(value))
    return f"{degrees:03d}{(abs(value) - degrees) * 60:08.5f},{'E' if value >= 0 else 'W'}"


@dataclass
class Faults:
    garbage_rate: float = 0.0  # chance per sentence of a burst of random bytes before it
    bad_checksum_rate: float = 0.0  # chance per sentence of a wrong checksum
    drop_rate: float = 0.0  # chance per sentence that it is lost
    no_fix_after_s: float = 30.0  # route mode: when the tunnel starts...
    no_fix_for_s: float = 0.0  # ...and how long it lasts

    def apply(self, sentences: list[bytes], rng: random.Random) -> bytes:
        out = bytearray()
        for sentence in sentences:
            if self.drop_rate and rng.random() < self.drop_rate:
                continue
            if self.garbage_rate and rng.random() < self.garbage_rate:
                out += bytes(rng.randrange(256) for _ in range(rng.randint(1, 24)))
            if self.bad_checksum_rate and rng.random() < self.bad_checksum_rate:
                sentence = _spoil_checksum(sentence, rng)
            out += sentence
        return bytes(out)


def _spoil_checksum(sentence: bytes, rng: random.Random) -> bytes:
    star = sentence.rfind(b"*")
    try:
        right = int(sentence[star + 1:star + 3], 16)
    except ValueError:
        return sentence  # no checksum to spoil
    wrong = right ^ rng.randint(1, 255)
    return sentence[:star + 1] + f"{wrong:02X}".encode() + sentence[star + 3:]


class ReceiverNoise:
    """A receiver's error: a slowly wandering offset of a few metres, jittery speed."""

    def __init__(self, rng: random.Random, sigma_m: float = 2.0):
        self.rng, self.sigma_m = rng, sigma_m
        self.north_m = self.east_m = 0.0

    def step(self, dt: float) -> tuple[float, float]:
        keep = math.exp(-dt / 30.0)  # the error decorrelates over half a minute
        spread = self.sigma_m * math.sqrt(1 - keep * keep)
        self.north_m = self.north_m * keep + self.rng.gauss(0, spread)
        self.east_m = self.east_m * keep + self.rng.gauss(0, spread)
        return self.north_m, self.east_m

    def speed(self, true_mps: float) -> float:
        if true_mps <= 0:
            return abs(self.rng.gauss(0, 0.12))  # a parked receiver still "moves" a little
        return max(0.0, true_mps + self.rng.gauss(0, 0.15))


class RouteReceiver:
    """The NMEA a multi-GNSS receiver would send while driving the route."""

    def __init__(self, route: Route, hz: float = 1.0, seed: int = 1, start: datetime | None = None,
                 faults: Faults | None = None):
        self.route = route
        self.hz = hz
        self.truth = Drive(route, hz, seed).run()
        self.start = start or datetime.now(UTC).replace(microsecond=0)
        self.faults = faults or Faults()
        self._rng = random.Random(seed + 1)
        self._noise = ReceiverNoise(self._rng)

    def epochs(self) -> Iterator[tuple[DriveTick, datetime, list[bytes]]]:
        """(true state, receiver UTC, sentences) for every epoch of the drive."""
        dt = 1.0 / self.hz
        tunnel_from = self.faults.no_fix_after_s
        tunnel_to = tunnel_from + self.faults.no_fix_for_s
        for tick in self.truth.ticks:
            when = self.start + timedelta(seconds=round(tick.t_s, 3))
            north, east = self._noise.step(dt)
            if tunnel_from <= tick.t_s < tunnel_to:
                yield tick, when, self.no_fix_sentences(when, tick)
                continue
            lat = tick.lat + north / 111_320.0
            lon = tick.lon + east / (111_320.0 * math.cos(math.radians(tick.lat)))
            yield tick, when, self.fix_sentences(when, lat, lon, self._noise.speed(tick.speed_mps), tick)

    def _with_sky(self, when: datetime, tick: DriveTick, sentences: list[bytes], fix: bool) -> list[bytes]:
        whole_second = abs(when.microsecond) < 1000
        return sentences + (self._sky(tick.t_s, fix) if whole_second else [])

    def fix_sentences(self, when: datetime, lat: float, lon: float, speed: float, tick: DriveTick) -> list[bytes]:
        hms = when.strftime("%H%M%S.") + f"{when.microsecond // 10000:02d}"
        ymd = when.strftime("%d%m%y")
        knots, track = speed / KNOT_MPS, tick.track
        sats, hdop = 14 + int(2 * math.sin(tick.t_s / 97)), 0.7 + 0.2 * abs(math.sin(tick.t_s / 53))
        altitude = 4.0 + 1.5 * math.sin(tick.t_s / 40)
        sentences = [
            nmea(f"GNRMC,{hms},A,{_lat(lat)},{_lon(lon)},{knots:.3f},{track:.2f},{ymd},,,A"),
            nmea(f"GNVTG,{track:.2f},T,,M,{knots:.3f},N,{speed * 3.6:.3f},K,A"),
            nmea(f"GNGGA,{hms},{_lat(lat)},{_lon(lon)},1,{sats:02d},{hdop:.2f},{altitude:.1f},M,47.0,M,,"),
            nmea(f"GNGSA,A,3,02,05,07,13,15,18,20,29,30,,,,{hdop * 1.6:.2f},{hdop:.2f},{hdop * 1.3:.2f},1"),
            nmea(f"GNGSA,A,3,67,68,77,78,82,,,,,,,,{hdop * 1.6:.2f},{hdop:.2f},{hdop * 1.3:.2f},2"),
        ]
        sentences = self._with_sky(when, tick, sentences, True)
        return sentences + [
            nmea(f"GNGLL,{_lat(lat)},{_lon(lon)},{hms},A,A"),
            nmea(f"GNZDA,{hms},{when:%d},{when:%m},{when:%Y},00,00"),
        ]

    def no_fix_sentences(self, when: datetime, tick: DriveTick) -> list[bytes]:
        hms = when.strftime("%H%M%S.") + f"{when.microsecond // 10000:02d}"
        sentences = [
            nmea(f"GNRMC,{hms},V,,,,,,,{when:%d%m%y},,,N"),
            nmea("GNVTG,,T,,M,,N,,K,N"),
            nmea(f"GNGGA,{hms},,,,,0,00,99.99,,,,,,"),
            nmea("GNGSA,A,1,,,,,,,,,,,,,99.99,99.99,99.99,1"),
        ]
        sentences = self._with_sky(when, tick, sentences, False)
        return sentences + [nmea(f"GNGLL,,,,,{hms},V,N"), nmea(f"GNZDA,{hms},{when:%d},{when:%m},{when:%Y},00,00")]

    @staticmethod
    def _sky(t_s: float, fix: bool) -> list[bytes]:
        """GSV per constellation (GPS, GLONASS, Galileo, BeiDou); SNR drops in a tunnel."""
        out = []
        constellations = (("GP", [2, 5, 7, 13, 15, 18, 20, 29, 30]), ("GL", [67, 68, 77, 78, 82]),
                          ("GA", [3, 5, 13, 15, 27]), ("GB", [19, 20, 29, 35]))
        for talker, prns in constellations:
            pages = [prns[i:i + 4] for i in range(0, len(prns), 4)]
            for page_no, page in enumerate(pages, 1):
                fields = []
                for prn in page:
                    elevation = (prn * 7) % 80 + 5
                    azimuth = (prn * 37 + int(t_s / 60)) % 360
                    snr = f"{30 + prn % 17}" if fix else ""
                    fields.append(f"{prn:02d},{elevation:02d},{azimuth:03d},{snr}")
                out.append(nmea(f"{talker}GSV,{len(pages)},{page_no},{len(prns):02d}," + ",".join(fields)))
        return out


class PacedLine:
    """Writes to the pty like a UART at ``baud`` (10 bits a byte), optionally pulling the cable once."""

    def __init__(self, device: PtyDevice, stop: threading.Event, baud: int = 9600,
                 unplug_after_s: float | None = None):
        self.device, self.stop, self.baud = device, stop, baud
        self.unplug_after_s = unplug_after_s
        self.started = time.monotonic()
        self.unplugged_at: float | None = None
        self.bytes_written = 0

    def write(self, data: bytes) -> None:
        self._cable()
        chunk = max(1, self.baud // 100)  # ~10 ms of line time per write
        for start in range(0, len(data), chunk):
            if self.stop.is_set():
                return
            part = data[start:start + chunk]
            self.device.write(part)
            self.bytes_written += len(part)
            self.stop.wait(len(part) * 10 / self.baud)

    def wait(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.stop.is_set() and (left := deadline - time.monotonic()) > 0:
            self.stop.wait(min(left, 0.1))
            self._cable()

    def _cable(self) -> None:
        elapsed = time.monotonic() - self.started
        if self.unplug_after_s is not None and self.unplugged_at is None and elapsed >= self.unplug_after_s:
            self.device.unplug()
            self.unplugged_at = elapsed
        if self.unplugged_at is not None and not self.device.plugged and elapsed >= self.unplugged_at + REPLUG_AFTER_S:
            self.device.plug()


def run_route(line: PacedLine, receiver: RouteReceiver, rate: float = 1.0, seed: int = 1, loop: bool = False) -> int:
    """Send the drive epoch by epoch in (accelerated) real time; returns the epochs sent."""
    rng = random.Random(seed + 2)
    period = 1.0 / receiver.hz / rate
    sent = 0
    warned = False
    while True:
        next_at = time.monotonic()
        for _, _, sentences in receiver.epochs():
            if line.stop.is_set():
                return sent
            data = receiver.faults.apply(sentences, rng)
            if not warned and len(data) * 10 / line.baud > period:
                # Like a real receiver set too fast for its port: the output falls behind.
                log.warning("%d bytes an epoch do not fit %d baud at this rate: raise --baud", len(data), line.baud)
                warned = True
            line.write(data)
            sent += 1
            next_at += period
            line.wait(next_at - time.monotonic())
        if not loop:
            return sent
        receiver = RouteReceiver(receiver.route, receiver.hz, seed, faults=receiver.faults)


def _sentence_time_ms(line: bytes) -> int | None:
    """Time of day of an RMC/GGA/GNS/ZDA/GLL line, to pace a replay by the receiver's clock."""
    text = line.lstrip(b"$").decode("ascii", "replace")
    fields = text.split(",")
    kind = fields[0][2:5] if len(fields[0]) == 5 else ""
    index = {"RMC": 1, "GGA": 1, "GNS": 1, "ZDA": 1, "GLL": 5}.get(kind)
    if index is None or len(fields) <= index:
        return None
    return parse_time_of_day(fields[index].split("*")[0])


def replay_lines(path: str | Path) -> list[tuple[float, bytes]]:
    """(pause before the line, line) for a capture; pauses follow the receiver's clock."""
    paced: list[tuple[float, bytes]] = []
    previous: int | None = None
    for raw in capture_bytes(path).splitlines(keepends=True):
        at = _sentence_time_ms(raw)
        pause = 0.0
        if at is not None and previous is not None and at != previous:
            gap = ((at - previous) % 86_400_000) / 1000
            pause = gap if gap <= MAX_REPLAY_GAP_S else 1.0
        if at is not None:
            previous = at
        paced.append((pause, raw))
    return paced


def run_replay(line: PacedLine, path: str | Path, rate: float = 1.0, faults: Faults | None = None,
               seed: int = 1, loop: bool = False) -> int:
    """Play a capture byte for byte (faults aside), paced at ``rate`` x real time."""
    faults = faults or Faults()
    rng = random.Random(seed)
    paced = replay_lines(path)
    sent = 0
    while not line.stop.is_set():
        for pause, raw in paced:
            if line.stop.is_set():
                break
            if pause:
                line.wait(pause / rate)
            line.write(faults.apply([raw], rng))
            sent += 1
        if not loop:
            break
    return sent
