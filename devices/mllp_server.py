"""ritlink as the MLLP server for HL7 PCD-01 (ritlink listens, the monitor gateway connects).

Each connection gets its own decoder (framing state must not mix between senders) and every
message is acknowledged on the same socket. State is "connected" while at least one sender
is connected. A thread per connection: a gateway opens one or two, not hundreds.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from devices.hl7_pcd01 import Hl7Decoder
from devices.observation import Observation

log = logging.getLogger("ritlink.devices")

MAX_CONNECTIONS = 4
LISTEN_SCHEME = "listen"


def parse_listen_url(url: str) -> tuple[str, int]:
    """``listen://127.0.0.1:2575`` -> ("127.0.0.1", 2575); raises ValueError otherwise."""
    parts = urlsplit(url)
    if parts.scheme != LISTEN_SCHEME or not parts.hostname or parts.port is None:
        raise ValueError(f"not a listen://HOST:PORT address: {url}")
    return parts.hostname, parts.port


class MllpServer:
    def __init__(self, host: str, port: int, device_id: str,
                 on_observation: Callable[[Observation], None],
                 on_state: Callable[[str], None] = lambda state: None,
                 on_activity: Callable[[], None] = lambda: None):
        self.device_id = device_id
        self._on_observation = on_observation
        self._on_state = on_state
        self._on_activity = on_activity
        self._stop = threading.Event()
        self._lock = threading.Lock()
        # Held while a state is computed *and* reported, so two threads (accept, a closing
        # connection) can never deliver "connected"/"disconnected" in the wrong order.
        self._state_lock = threading.Lock()
        self._connections: dict[socket.socket, Hl7Decoder] = {}
        self._closed_counters: dict[str, int] = {}
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.state = "disconnected"
        self.connections_total = 0
        self._thread = threading.Thread(target=self._accept_loop, name=f"mllp-{device_id}", daemon=True)

    @property
    def decoder(self) -> MllpServer:
        """Counters for the tester CLI and status pages (summed over connections)."""
        return self

    def counters(self) -> dict[str, int]:
        with self._lock:
            totals = dict(self._closed_counters)
            for decoder in self._connections.values():
                for key, value in decoder.counters().items():
                    totals[key] = totals.get(key, 0) + value
        totals["connections_total"] = self.connections_total
        return totals

    def start(self) -> MllpServer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._thread.join(timeout)
        self._listener.close()
        with self._lock:
            for conn in list(self._connections):
                _close_quietly(conn)

    def _set_state(self) -> None:
        with self._state_lock:
            with self._lock:
                state = "connected" if self._connections else "disconnected"
                changed = state != self.state
                self.state = state
            if changed:
                log.info("device %s %s", self.device_id, state)
                self._on_state(state)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _addr = self._listener.accept()
            except (TimeoutError, socket.timeout):
                continue
            except OSError:
                return
            with self._lock:
                full = len(self._connections) >= MAX_CONNECTIONS
                if not full:
                    self._connections[conn] = Hl7Decoder(self.device_id)
                    self.connections_total += 1
            if full:
                _close_quietly(conn)
                continue
            # "connected" is reported before the connection's first value can be handed on.
            self._set_state()
            threading.Thread(target=self._serve, args=(conn,), name=f"mllp-conn-{self.device_id}",
                             daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        decoder = self._connections[conn]
        try:
            conn.settimeout(0.2)  # inside the try: stop() may already have closed it
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except (TimeoutError, socket.timeout):
                    continue
                if not data:
                    return
                before = decoder.frames_ok + decoder.messages_bad
                observations = decoder.feed(data)
                if decoder.frames_ok + decoder.messages_bad != before:
                    self._on_activity()
                for observation in observations:
                    self._on_observation(observation)
                # Acknowledge only after the values were handed on.
                while decoder.acks:
                    conn.sendall(decoder.acks.popleft())
        except OSError:
            pass
        finally:
            _close_quietly(conn)
            with self._lock:
                self._connections.pop(conn, None)
                for key, value in decoder.counters().items():
                    self._closed_counters[key] = self._closed_counters.get(key, 0) + value
            self._set_state()


def _close_quietly(conn: socket.socket) -> None:
    try:
        conn.close()
    except OSError:
        pass
