"""What the tablet can do, in domain words. web/ calls this and nothing lower.

No MQTT or serial code is imported here: the runtime (edge/runtime.py) wires the device
readers and the MQTT sync around one EdgeService, and web/ gets the instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edge.config import EdgeSettings
from edge.form import URGENCIES
from edge.live_vitals import LiveVitals
from edge.outbox import StreamExistsError
from edge.store import EdgeStore, RitNotFound

__all__ = ["EdgeService", "RitNotFound", "DomainError"]


class DomainError(Exception):
    """A request the domain refuses; ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class EdgeService:
    def __init__(self, settings: EdgeSettings, store: EdgeStore, live: LiveVitals):
        self.settings = settings
        self.store = store
        self.live = live
        # Set by the runtime: wakes the MQTT sender after a write; reports the link state.
        self.on_outbox_write: Callable[[], None] = lambda: None
        self.broker_connected: Callable[[], bool] = lambda: False

    # -- rits -------------------------------------------------------------------------
    def create_rit(self, destination_seh: str, urgency: str) -> str:
        if self.settings.seh(destination_seh) is None:
            raise DomainError(f"onbekende SEH '{destination_seh}'", field="destination_seh")
        if urgency not in URGENCIES:
            raise DomainError("urgentie moet A1, A2 of B zijn", field="urgency")
        return self.store.create_rit(self.settings.vehicle_id, destination_seh, urgency)

    def accept_vitals(self, rit_id: str, author: str, codes: list[int] | None = None) -> list[dict[str, Any]]:
        """Take the latest fresh monitor values into the form, as device-sourced entries."""
        self.store.rit(rit_id)  # 404 before 409
        values = self.live.fresh(self.settings.vitals_max_age_s)
        if codes is not None:
            values = [v for v in values if v.code in codes]
        if not values:
            raise DomainError("geen actuele monitorwaarden om over te nemen", status=409)
        entries = [
            {
                "kind": "vital",
                "data": {"code": v.code, "label": v.label, "value": v.value, "unit": v.unit},
                "clinical_time": v.received_at,
                "author": author,
                "source": f"device:{v.device_id}",
            }
            for v in values
        ]
        self.store.add_entries(rit_id, entries)
        self.on_outbox_write()
        return entries

    def announce(self, rit_id: str) -> dict[str, Any]:
        try:
            msg_id = self.store.announce(rit_id)
        except StreamExistsError:
            raise DomainError("deze rit is al vooraangekondigd", status=409) from None
        self.on_outbox_write()
        return {"msg_id": msg_id}

    def rit_view(self, rit_id: str) -> dict[str, Any]:
        rit = self.store.rit(rit_id)
        online = self.broker_connected()
        messages = []
        for m in self.store.messages(rit_id):
            state = m["state"]
            if state == "saved" and not online:
                state = "queued"
            messages.append({**m, "state": state})
        return {
            "rit_id": rit_id,
            "lifecycle": rit["lifecycle"],
            "form": rit["form"],
            "form_sha256": rit["form_sha256"],
            "messages": messages,
        }

    def rits(self) -> list[dict[str, Any]]:
        return [self.rit_view(rit_id) for rit_id in self.store.rit_ids()]

    def sehs(self) -> list[dict[str, str]]:
        return [s.model_dump() for s in self.settings.sehs]

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "vehicle_id": self.settings.vehicle_id,
            "broker": "connected" if self.broker_connected() else "disconnected",
            "devices": self.live.device_states(),
            "outbox_depth": self.store.outbox_depth(),
        }
