"""Which decoder, transport and line settings belong to which monitor protocol; open one.

Every protocol is a pure decoder (bytes in, Observations out, never raises) plus a thin
transport: a pyserial URL or device path (SerialLink), or for HL7 also ``listen://HOST:PORT``
(ritlink is the MLLP server and acknowledges every message). A protocol whose device must
be talked to (association, polling) brings its own ``open_link``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.ansarb import AnsarBDecoder
from devices.hl7_pcd01 import Hl7Decoder
from devices.masimo import MasimoDecoder
from devices.mllp_server import LISTEN_SCHEME, MllpServer, parse_listen_url
from devices.nonin import NoninDecoder
from devices.observation import Observation
from devices.serial_link import SerialLink

# open_link(url, device_id, on_observation, on_state, on_activity, baudrate) -> a started link
# with .stop(), .state and .decoder (.counters()).
LinkOpener = Callable[..., Any]


def _no_file_decoder(device_id: str) -> Any:
    raise ValueError("intellivue is a conversation (association, polls), not a capture: use --url")


def _open_intellivue(url, device_id, on_observation, on_state, on_activity, baudrate) -> Any:
    from devices.intellivue import open_intellivue

    def observed(observation: Observation) -> None:
        on_activity()  # every poll result proves the association is alive
        on_observation(observation)

    return open_intellivue(url, device_id, observed, on_state)


@dataclass(frozen=True)
class MonitorProtocol:
    name: str
    decoder_factory: Callable[[str], Any]
    baudrate: int
    # Silence longer than this (no complete frame) means the monitor is lost, even when the
    # serial adapter stays present (cable pulled between adapter and monitor).
    silence_timeout_s: float
    open_link: LinkOpener | None = None
    description: str = ""


PROTOCOLS: dict[str, MonitorProtocol] = {
    "nonin": MonitorProtocol("nonin", NoninDecoder, 9600, 2.5, description="Nonin-style ASCII oximeter lines"),
    "masimo": MonitorProtocol("masimo", MasimoDecoder, 9600, 2.5, description="Masimo-style KEY=VALUE oximeter lines"),
    # HL7 gateways may send every few seconds: a longer silence before "monitor niet verbonden".
    "hl7": MonitorProtocol("hl7", Hl7Decoder, 115200, 15.0, description="HL7 v2 ORU^R01 (IHE PCD-01) over MLLP"),
    "ansarb": MonitorProtocol("ansarb", AnsarBDecoder, 9600, 2.5, description="Ivy ANSAR-B binary + ASCII frames"),
    # The IntelliVue must be talked to (association, polls, keep-alive): its own link.
    "intellivue": MonitorProtocol("intellivue", _no_file_decoder, 115200, 3.0, open_link=_open_intellivue,
                                  description="Philips IntelliVue Data Export over MIB/RS232"),
}


def register_protocol(protocol: MonitorProtocol) -> None:
    PROTOCOLS[protocol.name] = protocol


def open_monitor(
    protocol: str,
    url: str,
    device_id: str,
    on_observation: Callable[[Observation], None],
    on_state: Callable[[str], None] = lambda state: None,
    *,
    on_activity: Callable[[], None] = lambda: None,
    baudrate: int | None = None,
) -> Any:
    """Start reading a monitor; every decoded observation goes to ``on_observation``.

    ``on_state`` gets "connected"/"disconnected"; ``on_activity`` is called for every
    complete frame (even one without values), which is what a silence watchdog needs.
    Returns the started link (``.stop()``, ``.state``, ``.decoder.counters()``).
    """
    spec = PROTOCOLS[protocol]
    if spec.open_link is not None:
        return spec.open_link(url, device_id, on_observation, on_state, on_activity, baudrate or spec.baudrate)
    if url.startswith(LISTEN_SCHEME + "://"):
        if protocol != "hl7":
            raise ValueError(f"{protocol}: listen:// is only for hl7")
        host, port = parse_listen_url(url)
        return MllpServer(host, port, device_id, on_observation, on_state, on_activity).start()
    decoder = spec.decoder_factory(device_id)

    def on_bytes(data: bytes) -> None:
        before = decoder.frames_ok
        observations = decoder.feed(data)
        if decoder.frames_ok != before:
            on_activity()
        for observation in observations:
            on_observation(observation)

    link = SerialLink(url, on_bytes, on_state, baudrate=baudrate or spec.baudrate, name=device_id)
    link.decoder = decoder  # counters for status pages and the tester CLI
    return link.start()
