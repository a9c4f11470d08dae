"""GPS ingest benchmark: can the NMEA reader keep up with a saturated 115200-baud line?

1. Decode: the full decoder (framer + pynmea2 check=True + epoch assembly) over the largest
   gpsd log, in 4 KiB reads, for a few seconds of CPU time: CPU ms per second of a saturated
   line, beside a raw reader that only cuts the same bytes into lines (same run).
2. Live: ``ritlink sim gps --replay`` in its own process floods a pty at 115200 baud; the
   serial reader in this process reads it; this process's CPU time / wall time is the
   share of one core the reader needs at line rate, beside a plain pyserial read loop on
   the same pty in the same run.

Usage: python bench/gps_ingest.py [--seconds 5] [--smoke] [--results FILE]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import serial  # noqa: E402

from bench import _report as report  # noqa: E402
from devices.gps import GpsDecoder, GpsReader, capture_bytes  # noqa: E402

GPSD_LOGS = REPO.parent / "shared" / "conformance" / "gps" / "gpsd"
BAUD = 115200
LINE_BYTES_PER_S = BAUD / 10  # 8N1: 10 bits a byte
BENCH = "gps_ingest"


def largest_log() -> Path:
    return max(GPSD_LOGS.glob("*.log"), key=lambda p: p.stat().st_size)


def decode_throughput(data: bytes, cpu_seconds: float) -> tuple[float, float, dict]:
    sentences = processed = 0
    started = time.process_time()
    counters: dict = {}
    while time.process_time() - started < cpu_seconds:
        decoder = GpsDecoder()
        for offset in range(0, len(data), 4096):
            decoder.feed(data[offset:offset + 4096])
        decoder.flush()
        counters = decoder.counters()
        sentences += decoder.sentences_ok + decoder.bad_checksum + decoder.malformed
        processed += len(data)
    spent = time.process_time() - started
    return sentences / spent, processed / spent, counters


def raw_pty_share(link: Path, seconds: float) -> float:
    """CPU share of a plain pyserial loop that reads the pty and throws the bytes away."""
    port = serial.serial_for_url(str(link), baudrate=BAUD, timeout=0.1)
    try:
        port.read(4096)
        cpu0, wall0 = time.process_time(), time.monotonic()
        while time.monotonic() - wall0 < seconds:
            port.read(4096)
        return (time.process_time() - cpu0) / (time.monotonic() - wall0)
    finally:
        port.close()


def live_cpu_share(log: Path, seconds: float) -> tuple[float, int, float, float]:
    with tempfile.TemporaryDirectory() as folder:
        link = Path(folder) / "gps"
        env_path = str(REPO)
        sim = subprocess.Popen(
            [sys.executable, "-m", "ritlink", "sim", "gps", "--link", str(link), "--replay", str(log),
             "--rate", "1000", "--baud", str(BAUD), "--loop"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=env_path,
            env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"})
        try:
            deadline = time.monotonic() + 10
            while not link.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            raw_share = raw_pty_share(link, seconds)
            fixes = []
            reader = GpsReader(str(link), fixes.append, baudrate=BAUD).start()
            time.sleep(1.0)  # connected and streaming
            cpu0, wall0, ok0 = time.process_time(), time.monotonic(), reader.counters()["sentences_ok"]
            time.sleep(seconds)
            cpu1, wall1, ok1 = time.process_time(), time.monotonic(), reader.counters()["sentences_ok"]
            reader.stop()
        finally:
            sim.terminate()
            sim.wait(5)
    return (cpu1 - cpu0) / (wall1 - wall0), ok1 - ok0, (ok1 - ok0) / (wall1 - wall0), raw_share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="CPU seconds of decoding and wall seconds live")
    report.add_common_args(parser)
    args = parser.parse_args()
    if args.smoke:
        args.seconds = 0.5
    log = largest_log()
    data = capture_bytes(log)
    per_sentence = len(data) / max(1, data.count(b"\n"))
    rate, byte_rate, counters = decode_throughput(data, args.seconds)
    line_sentences = LINE_BYTES_PER_S / per_sentence
    share = LINE_BYTES_PER_S / byte_rate
    print(f"log: {log.name} ({len(data)} bytes, {counters['sentences_ok']} sentences, {per_sentence:.0f} bytes/sentence)")
    print(f"decode: {rate:,.0f} sentences/s, {byte_rate / 1000:,.0f} kB/s (one core, CPU time)")
    print(f"115200 baud saturated: {line_sentences:,.0f} sentences/s, {LINE_BYTES_PER_S / 1000:.1f} kB/s")
    print(f"decode CPU share at 115200 baud: {share * 100:.2f} % of one core (margin {1 / share:,.0f}x)")
    raw_ms = report.raw_scan_cpu_ms(data, 4096, LINE_BYTES_PER_S, args.seconds)
    live_share, live_sentences, live_rate, raw_share = live_cpu_share(log, args.seconds)
    print(f"live reader on a pty flooded at 115200 baud: {live_rate:,.0f} sentences/s read, "
          f"{live_share * 100:.2f} % of one core (margin {1 / max(live_share, 1e-9):,.0f}x); "
          f"a plain read loop: {raw_share * 100:.2f} %")
    report.emit([
        report.single(BENCH, "decode: CPU per second of saturated 115200 line", share * 1000, "ms",
                      "raw reader: same bytes, same reads, cut into lines", raw_ms),
        report.single(BENCH, "live GpsReader on a pty at 115200: share of one core", live_share * 100, "%",
                      "plain pyserial read loop on the same pty", raw_share * 100),
    ], args.results)
    return 0 if live_sentences > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
