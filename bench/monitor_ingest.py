"""How fast each monitor driver decodes, and what share of one CPU a saturated 115200 baud
line would cost it. Prints one line per driver; needs no hardware.

    python bench/monitor_ingest.py [--frames N] [--chunk BYTES] [--smoke] [--results FILE]

A 115200 8N1 line carries at most 11,520 bytes/s. The stream for each driver is its
simulator's output for the hypovolaemic-shock scenario (with 5 % garbage between frames, so
resync is part of the cost), fed in serial-read-sized chunks. Margin = decode capacity /
line rate (the design asks for > 10x; printed, not enforced: the figure depends on the
machine). The baseline, measured in the same run: a raw reader that only buffers the same
bytes in the same reads and cuts them at newlines.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _report as report  # noqa: E402
from devices.monitors import PROTOCOLS  # noqa: E402
from simulators.monitor import ENCODERS, EncoderState, garbage_between_frames  # noqa: E402
from simulators.scenario import load_source  # noqa: E402

LINE_BYTES_PER_S = 115200 / 10  # 8N1: 10 bits per byte
DESIGN_MARGIN = 10.0
BENCH = "monitor_ingest"


def simulator_stream(protocol: str, frames: int) -> bytes:
    source = load_source("hypovolaemic_shock")
    state = EncoderState()
    rng = random.Random(1)
    parts = []
    for index in range(frames):
        if rng.random() < 0.05:
            parts.append(garbage_between_frames(rng, protocol))
        parts.append(ENCODERS[protocol](source.sample(index % int(source.duration_s)), state).data)
    return b"".join(parts)


# name -> (decoder factory, stream builder). Another driver adds itself here, e.g.
# BENCH_DRIVERS["intellivue"] = (IntelliVueDecoder, intellivue_poll_reply_stream)
BENCH_DRIVERS: dict[str, tuple[Callable[[str], object], Callable[[int], bytes]]] = {
    name: (PROTOCOLS[name].decoder_factory, lambda frames, name=name: simulator_stream(name, frames))
    for name in ENCODERS
}


def measure(decoder_factory, stream: bytes, chunk: int) -> dict[str, float]:
    decoder = decoder_factory("bench")
    observations = 0
    cpu_started = time.process_time()
    for start in range(0, len(stream), chunk):
        observations += len(decoder.feed(stream[start:start + chunk]))
    cpu = max(time.process_time() - cpu_started, 1e-9)
    bytes_per_s = len(stream) / cpu
    frames = decoder.frames_ok
    line_frames_per_s = LINE_BYTES_PER_S * frames / len(stream)
    return {
        "frames": frames, "observations": observations, "bytes": len(stream), "cpu_s": cpu,
        "frames_per_s": frames / cpu, "bytes_per_s": bytes_per_s, "line_frames_per_s": line_frames_per_s,
        "cpu_share": LINE_BYTES_PER_S / bytes_per_s, "margin": bytes_per_s / LINE_BYTES_PER_S,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=5000, help="frames per driver (default 5000)")
    parser.add_argument("--chunk", type=int, default=64, help="bytes per read (default 64)")
    report.add_common_args(parser)
    args = parser.parse_args(argv)
    if args.smoke:
        args.frames = 300
    rows, silent = [], []  # silent: drivers that decoded nothing (a broken benchmark, not a slow one)
    print(f"monitor ingest: {args.frames} frames per driver, {args.chunk}-byte reads, "
          f"115200 8N1 line = {LINE_BYTES_PER_S:.0f} B/s")
    print(f"{'driver':<11}{'frame B':>9}{'frames/s':>11}{'obs/s':>11}{'kB/s':>9}"
          f"{'line fr/s':>11}{'CPU @115200':>13}{'margin':>9}")
    failed = []
    for name, (factory, build) in BENCH_DRIVERS.items():
        stream = build(args.frames)
        r = measure(factory, stream, args.chunk)
        print(f"{name:<11}{r['bytes'] / max(r['frames'], 1):>9.0f}{r['frames_per_s']:>11.0f}"
              f"{r['observations'] / r['cpu_s']:>11.0f}{r['bytes_per_s'] / 1000:>9.0f}"
              f"{r['line_frames_per_s']:>11.1f}{r['cpu_share'] * 100:>12.2f}%{r['margin']:>8.0f}x")
        if not r["frames"]:
            silent.append(name)
        if r["margin"] <= DESIGN_MARGIN:
            failed.append(name)
        raw_ms = report.raw_scan_cpu_ms(stream, args.chunk, LINE_BYTES_PER_S, max(r["cpu_s"], 0.05))
        rows.append(report.single(BENCH, f"{name}: decode CPU per second of saturated 115200 line",
                                  r["cpu_share"] * 1000, "ms", "raw reader: same bytes, same reads, cut at newlines",
                                  raw_ms))
    print("all drivers keep up with > 10x margin" if not failed else f"below 10x margin: {', '.join(failed)}")
    report.emit(rows, args.results)
    return 0 if not silent else 1


if __name__ == "__main__":
    sys.exit(main())
