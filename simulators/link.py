"""A TCP link cutter between an MQTT client and the broker (``ritlink sim link``).

Faults, switchable at any time from another thread or by schedule:
- ``cut``: drop every connection and refuse new ones (tunnel: the TCP stack says so at once);
- ``blackhole``: keep connections open but pass nothing, no RST (dead radio: only keep-alive
  timeouts notice);
- ``delay_ms`` and ``throttle_bps`` on both directions;
- ``drop_publishes(n)``: drop the next n QoS 1 PUBLISH packets from the client and answer
  them with a PUBACK itself, as a broker that acknowledges and then loses a message would.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass

log = logging.getLogger("ritlink.link")

MQTT_PUBLISH = 3


@dataclass
class LinkStats:
    connections: int = 0
    bytes_up: int = 0
    bytes_down: int = 0
    cuts: int = 0
    dropped_publishes: int = 0


def _read_varint(buffer: bytes | bytearray, start: int) -> tuple[int, int] | None:
    """MQTT remaining length: returns (value, bytes used) or None when incomplete."""
    value, shift = 0, 0
    for used in range(4):
        if start + used >= len(buffer):
            return None
        byte = buffer[start + used]
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, used + 1
        shift += 7
    raise ValueError("malformed MQTT remaining length")


def split_mqtt_packets(buffer: bytearray) -> list[bytes]:
    """Remove and return every complete MQTT packet at the front of ``buffer``."""
    packets = []
    while len(buffer) >= 2:
        length = _read_varint(buffer, 1)
        if length is None:
            break
        remaining, used = length
        total = 1 + used + remaining
        if len(buffer) < total:
            break
        packets.append(bytes(buffer[:total]))
        del buffer[:total]
    return packets


def publish_packet_id(packet: bytes) -> int | None:
    """The packet id of a QoS 1/2 PUBLISH, else None."""
    if packet[0] >> 4 != MQTT_PUBLISH or (packet[0] >> 1) & 0x03 == 0:
        return None
    _, used = _read_varint(packet, 1)
    at = 1 + used
    topic_length = int.from_bytes(packet[at:at + 2], "big")
    at += 2 + topic_length
    return int.from_bytes(packet[at:at + 2], "big")


def puback(packet_id: int) -> bytes:
    return bytes([0x40, 0x02]) + packet_id.to_bytes(2, "big")


class LinkCutter:
    def __init__(self, listen_port: int, target_host: str, target_port: int, listen_host: str = "127.0.0.1"):
        self.listen = (listen_host, listen_port)
        self.target = (target_host, target_port)
        self.stats = LinkStats()
        self.mode = "up"  # up | cut | blackhole
        self.delay_ms = 0
        self.throttle_bps = 0
        self._drop_publishes = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    # -- control (any thread) ---------------------------------------------------------
    def start(self) -> LinkCutter:
        self._thread = threading.Thread(target=self._run_loop, name="link-cutter", daemon=True)
        self._thread.start()
        if not self._ready.wait(5):
            raise RuntimeError("link cutter did not start")
        return self

    def stop(self) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)

    def cut(self) -> None:
        self.mode = "cut"
        self.stats.cuts += 1
        self._call(self._close_all)

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def restore(self) -> None:
        self.mode = "up"

    def drop_publishes(self, count: int = 1) -> None:
        self._drop_publishes += count

    def _call(self, fn) -> None:
        if self._loop:
            self._loop.call_soon_threadsafe(fn)

    # -- the proxy (its own event loop thread) ----------------------------------------
    def _run_loop(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._accept, *self.listen))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            self._close_all()
            tasks = asyncio.all_tasks(self._loop)
            for task in tasks:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            self._loop.close()

    def _close_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()  # RST: the client notices at once
        self._writers.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.mode == "cut":
            client_writer.transport.abort()
            return
        try:
            broker_reader, broker_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.stats.connections += 1
        self._writers |= {client_writer, broker_writer}
        try:
            await asyncio.gather(
                self._pump(client_reader, broker_writer, client_writer, upstream=True),
                self._pump(broker_reader, client_writer, broker_writer, upstream=False),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            pass  # the cutter is stopping
        for writer in (client_writer, broker_writer):
            self._writers.discard(writer)
            writer.transport.abort()

    async def _pump(self, reader, writer, back_writer, upstream: bool) -> None:
        pending = bytearray()
        while True:
            data = await reader.read(65536)
            if not data:
                return
            if self.mode == "blackhole":
                continue  # swallowed: no error, no RST
            if self.delay_ms:
                await asyncio.sleep(self.delay_ms / 1000)
            if self.throttle_bps:
                await asyncio.sleep(len(data) / self.throttle_bps)
            if upstream and self._drop_publishes:
                pending += data
                data = self._filter_publishes(pending, back_writer)
            if upstream:
                self.stats.bytes_up += len(data)
            else:
                self.stats.bytes_down += len(data)
            writer.write(data)
            await writer.drain()

    def _filter_publishes(self, pending: bytearray, back_writer) -> bytes:
        kept = bytearray()
        for packet in split_mqtt_packets(pending):
            packet_id = publish_packet_id(packet)
            if packet_id is not None and self._drop_publishes > 0:
                self._drop_publishes -= 1
                self.stats.dropped_publishes += 1
                back_writer.write(puback(packet_id))
                log.info("dropped a PUBLISH (packet id %d) and acknowledged it", packet_id)
                continue
            kept += packet
        if not self._drop_publishes:
            kept += pending  # nothing more to drop: pass the rest through unparsed
            pending.clear()
        return bytes(kept)


def run_schedule(cutter: LinkCutter, stop: threading.Event, cut_every_s: float, cut_for_s: float,
                 mode: str = "cut") -> None:
    """Cut (or black-hole) the link for ``cut_for_s`` every ``cut_every_s`` until ``stop``."""
    while not stop.wait(cut_every_s):
        cutter.cut() if mode == "cut" else cutter.blackhole()
        log.info("link %s for %.1f s", mode, cut_for_s)
        if stop.wait(cut_for_s):
            break
        cutter.restore()
        log.info("link restored")
    cutter.restore()

