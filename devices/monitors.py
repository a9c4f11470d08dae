"""Which decoder and line settings belong to which monitor protocol, and a reader for one."""

from __future__ import annotations

from collections.abc import Callable

from devices.nonin import NoninDecoder
from devices.observation import Observation
from devices.serial_link import SerialLink

# protocol -> (decoder factory taking a device id, baud rate)
PROTOCOLS: dict[str, tuple[Callable[[str], object], int]] = {
    "nonin": (lambda device_id: NoninDecoder(device_id), 9600),
}


def open_monitor(
    protocol: str,
    url: str,
    device_id: str,
    on_observation: Callable[[Observation], None],
    on_state: Callable[[str], None] = lambda state: None,
) -> SerialLink:
    """Start reading a monitor; every decoded observation goes to ``on_observation``."""
    factory, baudrate = PROTOCOLS[protocol]
    decoder = factory(device_id)

    def on_bytes(data: bytes) -> None:
        for observation in decoder.feed(data):
            on_observation(observation)

    link = SerialLink(url, on_bytes, on_state, baudrate=baudrate, name=device_id)
    link.decoder = decoder  # counters for status pages and the tester CLI
    return link.start()
