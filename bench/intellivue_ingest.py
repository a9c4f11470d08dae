"""IntelliVue ingest benchmark: can the driver keep up with a saturated 115200 8N1 line?

Feeds a stream of poll results (every numeric the driver knows, as the simulator sends them)
through the full client path (deframe, FCS, decode, observations) and reports frames/s and
the CPU share that a line full of such frames would cost, beside a raw reader that only
buffers the same bytes in the same reads and cuts them at the frame's end flag (same run).
Run: ``python bench/intellivue_ingest.py [--seconds 2] [--smoke] [--results FILE]``.
``bench_intellivue()`` returns the figures for bench/monitor_ingest.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from bench import _report as report  # noqa: E402
from devices import intellivue_messages as msg  # noqa: E402
from devices.intellivue import IntelliVueSession  # noqa: E402
from devices.intellivue_frame import encode_frame  # noqa: E402
from simulators.intellivue import (association_response, mds_create_event, numeric_objects,  # noqa: E402
                                   poll_result, stable_patient)

LINE_BYTES_PER_S = 115200 / 10  # 8N1: start bit, 8 data bits, stop bit
CHUNK = 4096  # what one serial read returns at most under load
BENCH = "intellivue_ingest"


def _poll_result_stream(count: int = 200) -> tuple[bytes, int]:
    clock = datetime(2024, 1, 1, 12, 0, 0)
    frames = [encode_frame(poll_result(i, i, msg.NOM_MOC_VMO_METRIC_NU, numeric_objects(stable_patient(i), clock),
                                       i * msg.RELATIVE_TIME_PER_S, clock)) for i in range(count)]
    return b"".join(frames), count


def bench_intellivue(seconds: float = 2.0) -> dict[str, float]:
    stream, frames_in_stream = _poll_result_stream()
    session = IntelliVueSession("bench")
    session.start(0.0)
    session.feed(encode_frame(association_response()) + encode_frame(mds_create_event(1, 0, datetime.now())), 0.0)
    assert session.associated
    chunk = CHUNK
    frames = observations = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for start in range(0, len(stream), chunk):
            observations += len(session.feed(stream[start : start + chunk], 1.0)[0])
        frames += frames_in_stream
    cpu_s = time.process_time() - started
    bytes_per_s = frames * (len(stream) / frames_in_stream) / cpu_s
    cpu_share = LINE_BYTES_PER_S / bytes_per_s
    return {
        "frames_per_s": frames / cpu_s,
        "observations_per_s": observations / cpu_s,
        "frame_bytes": len(stream) / frames_in_stream,
        "line_frames_per_s": LINE_BYTES_PER_S / (len(stream) / frames_in_stream),
        "cpu_share_at_line_rate": cpu_share,
        "margin": 1 / cpu_share,
        "raw_cpu_ms": report.raw_scan_cpu_ms(stream, chunk, LINE_BYTES_PER_S, seconds, delimiter=b"\xc1"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="CPU seconds of decoding")
    report.add_common_args(parser)
    args = parser.parse_args()
    figures = bench_intellivue(0.3 if args.smoke else args.seconds)
    print(f"intellivue: {figures['frames_per_s']:.0f} poll results/s decoded "
          f"({figures['observations_per_s']:.0f} observations/s, {figures['frame_bytes']:.0f} B per frame)")
    print(f"intellivue: a saturated 115200 8N1 line carries {figures['line_frames_per_s']:.0f} frames/s "
          f"-> CPU share {100 * figures['cpu_share_at_line_rate']:.1f} % of one core, margin {figures['margin']:.0f}x")
    report.emit([report.single(BENCH, "decode poll results: CPU per second of saturated 115200 line",
                               figures["cpu_share_at_line_rate"] * 1000, "ms",
                               "raw reader: same bytes, same reads, cut at the end flag", figures["raw_cpu_ms"])],
                args.results)


if __name__ == "__main__":
    main()
