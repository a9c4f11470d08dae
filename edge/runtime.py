"""The edge process: store + device readers + MQTT sync around one EdgeService."""

from __future__ import annotations

import logging
import threading

from devices.monitors import PROTOCOLS, open_monitor
from edge.config import EdgeSettings
from edge.live.gps_runtime import GpsRuntime
from edge.live.vitals import LiveVitals
from edge.service import EdgeService
from edge.store.rit_store import EdgeStore
from edge.sync.sender import MqttSync

log = logging.getLogger("ritlink.edge")

MONITOR_DEVICE_ID = "monitor"
PURGE_EVERY_S = 600.0  # retention is in hours: a check every 10 minutes is plenty


class EdgeRuntime:
    def __init__(self, settings: EdgeSettings):
        self.settings = settings
        max_bytes = int(settings.database_max_mb * 2**20) if settings.database_max_mb else None
        self.store = EdgeStore(settings.database, max_bytes)
        self.live = LiveVitals(settings.alarm_limits_by_code(), self._store_trend_point)
        self.service = EdgeService(settings, self.store, self.live)
        self.sync = MqttSync(self.store, settings)
        self.service.on_outbox_write = self.sync.wake
        self.service.messages.on_write = self.sync.wake
        self.service.broker_connected = self.sync.connected.is_set
        self.service.sync_health = self.sync.health
        self.devices = []
        self._stop = threading.Event()
        self._housekeeping = threading.Thread(target=self._purge_loop, name="retention", daemon=True)

    def start(self) -> EdgeRuntime:
        # Always there (proposals and /api/v1/position answer without a GPS); reads only when configured.
        self.service.position = GpsRuntime(self.settings, self.service, self.sync.publish_live).start()
        self.devices.append(self.service.position)
        if self.settings.monitor_url:
            protocol = self.settings.monitor_protocol
            self.live.watch_device(MONITOR_DEVICE_ID, PROTOCOLS[protocol].silence_timeout_s)
            self.devices.append(
                open_monitor(
                    protocol,
                    self.settings.monitor_url,
                    MONITOR_DEVICE_ID,
                    self.live.update,
                    lambda state: self.live.set_device_state(MONITOR_DEVICE_ID, state),
                    on_activity=lambda: self.live.activity(MONITOR_DEVICE_ID),
                )
            )
        self.sync.start()
        self._housekeeping.start()
        log.info("edge started for vehicle %s", self.settings.vehicle_id)
        return self

    def _store_trend_point(self, observation) -> None:
        if self.store.space_left() < self.settings.store_reserve_mb * 2**20:
            return  # the reserve is for sending what is stored, not for more trend
        try:
            self.store.add_trend_point(observation.device_id, observation.code, observation.received_at,
                                       observation.value, getattr(observation, "status", "valid"))
        except Exception:  # a full disk must not stop the live values; the save path says it loudly
            log.warning("trend point not stored (device %s)", observation.device_id)

    def _purge_loop(self) -> None:
        """Finished rits leave the tablet after the retention time (design.md, Privacy)."""
        while not self._stop.wait(PURGE_EVERY_S):
            try:
                purged = self.service.purge_expired()
                if purged:
                    log.info("retention: purged %d finished rit(s)", len(purged))
                self.store.purge_trend(self.settings.retention_hours)
            except Exception:
                log.exception("retention purge failed")

    def stop(self) -> None:
        self._stop.set()
        for device in self.devices:
            device.stop()
        self.sync.stop()
        self.store.close()
