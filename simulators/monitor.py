"""Monitor simulators: speak the device side of a protocol on a pty (``ritlink sim monitor``)."""

from __future__ import annotations

import math
import threading
import time

from devices.nonin import format_nonin_line
from simulators.pty_device import PtyDevice


def stable_patient(t: float) -> dict[str, int]:
    """A calm adult: SpO2 96-98 %, pulse 68-76 /min, varying slowly so changes are visible."""
    return {"spo2": 97 + round(math.sin(t / 20)), "pulse": 72 + round(4 * math.sin(t / 15))}


def run_nonin(device: PtyDevice, stop: threading.Event, interval_s: float = 1.0,
              unplug_after_s: float | None = None, replug_after_s: float = 2.0) -> None:
    """Write one Nonin line per interval until ``stop``; optionally pull the cable once."""
    started = time.monotonic()
    unplugged_at = None
    while not stop.is_set():
        elapsed = time.monotonic() - started
        if unplug_after_s is not None and unplugged_at is None and elapsed >= unplug_after_s:
            device.unplug()
            unplugged_at = elapsed
        if unplugged_at is not None and not device.plugged and elapsed >= unplugged_at + replug_after_s:
            device.plug()
        values = stable_patient(elapsed)
        device.write(format_nonin_line(values["spo2"], values["pulse"]))
        stop.wait(interval_s)
