"""How every benchmark reports: each figure beside a baseline measured in the same run, and
their ratio. Never a pass/fail on absolute time: the machine decides the absolute figures,
the ratio to the baseline is what travels between machines.

A benchmark collects ``Row``s and calls ``emit``: it prints them as a markdown table and,
with ``--results FILE``, appends them to FILE as JSON lines (bench/run_all.py gathers those
into bench/results.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Row:
    bench: str
    figure: str
    value: str
    baseline: str
    baseline_value: str
    ratio: str


def add_common_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--smoke", action="store_true", help="a few seconds: proves the benchmark still runs")
    parser.add_argument("--results", type=Path, help="append the figures to this file as JSON lines")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def p50_p99(samples_ms: list[float]) -> tuple[float, float]:
    if not samples_ms:
        return float("nan"), float("nan")
    return statistics.median(samples_ms), percentile(samples_ms, 99)


def _ratio(value: float, base: float) -> str:
    if not base or base != base or value != value:  # zero or NaN
        return "n/a"
    ratio = value / base
    return f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x"


def latency(bench: str, figure: str, samples_ms: list[float], baseline: str, base_ms: list[float]) -> Row:
    """p50/p99 of a latency beside the same of its baseline; the ratio of each."""
    (v50, v99), (b50, b99) = p50_p99(samples_ms), p50_p99(base_ms)
    return Row(bench, figure, f"p50 {v50:.2f} / p99 {v99:.2f} ms (n={len(samples_ms)})", baseline,
               f"p50 {b50:.2f} / p99 {b99:.2f} ms (n={len(base_ms)})",
               f"p50 {_ratio(v50, b50)} / p99 {_ratio(v99, b99)}")


def single(bench: str, figure: str, value: float, unit: str, baseline: str, base: float,
           base_unit: str | None = None) -> Row:
    """One measured quantity beside its baseline (a time, a rate or a size)."""
    return Row(bench, figure, f"{_number(value)} {unit}", baseline, f"{_number(base)} {base_unit or unit}",
               _ratio(value, base))


def _number(value: float) -> str:
    if float(value).is_integer() or abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.3g}"


def text(bench: str, figure: str, value: str, baseline: str, baseline_value: str, ratio: str = "") -> Row:
    return Row(bench, figure, value, baseline, baseline_value, ratio)


HEADER = "| benchmark | figure | value | baseline (same run) | baseline value | ratio |\n|---|---|---|---|---|---|"


def markdown(rows: list[Row]) -> str:
    lines = [HEADER]
    for r in rows:
        lines.append(f"| {r.bench} | {r.figure} | {r.value} | {r.baseline} | {r.baseline_value} | {r.ratio} |")
    return "\n".join(lines)


def emit(rows: list[Row], results: Path | None) -> None:
    print()
    print(markdown(rows))
    if results is not None:
        with open(results, "a", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(asdict(row)) + "\n")


def read_rows(path: Path) -> list[Row]:
    if not path.exists():
        return []
    return [Row(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def raw_scan_cpu_ms(stream: bytes, chunk: int, line_bytes_per_s: float, cpu_seconds: float,
                    delimiter: bytes = b"\n") -> float:
    """The baseline for the decoders: CPU ms per second of a saturated line for a reader that
    only buffers the same bytes in the same reads and cuts them at a delimiter (no checks,
    no parsing) -- the least any reader on this line does."""
    processed, cut = 0, 0
    started = time.process_time()
    while time.process_time() - started < cpu_seconds:
        buffer, start = bytearray(), 0
        for offset in range(0, len(stream), chunk):
            scan_from = len(buffer)  # each byte is looked at once: linear, like a real reader
            buffer += stream[offset:offset + chunk]
            while (found := buffer.find(delimiter, scan_from)) >= 0:
                cut += 1
                start = scan_from = found + 1
            if start:
                del buffer[:start]
                start = 0
            elif len(buffer) > 65536:
                buffer.clear()  # no delimiter in 64 KiB: a reader throws it away
        processed += len(stream)
    spent = time.process_time() - started
    return 1000 * line_bytes_per_s / (processed / spent)
