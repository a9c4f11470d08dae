"""An in-process tablet (service, store, MQTT sender) on a real broker, wired as
edge/runtime.py wires it: for tests that look inside the sender or count the store's commits."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from edge.config import SehDestination, load_edge_settings
from edge.live.vitals import LiveVitals
from edge.service import EdgeService
from edge.store.rit_store import EdgeStore
from edge.sync.sender import MqttSync

SEHS = [SehDestination(id="seh-umcu", name="SEH UMC Utrecht", phone="088-755 5555"),
        SehDestination(id="seh-antonius", name="SEH St. Antonius", phone="088-320 3000")]


@contextmanager
def online_edge(folder: Path, broker_url: str) -> Iterator[tuple[EdgeService, MqttSync]]:
    settings = load_edge_settings(None, vehicle_id="ambu-01", broker_url=broker_url,
                                  database=folder / "edge.db", sehs=SEHS)
    store = EdgeStore(settings.database)
    service = EdgeService(settings, store, LiveVitals())
    sync = MqttSync(store, settings)
    service.on_outbox_write, service.broker_connected = sync.wake, sync.connected.is_set  # as edge/runtime.py
    sync.start()
    try:
        assert sync.connected.wait(10), "the sender did not connect to the broker"
        yield service, sync
    finally:
        sync.stop()
        store.close()
