"""Wire-contract messages of realistic rits, made fast enough to load a receiver: a snapshot
(vooraankondiging), then updates that each add one clinical entry (a merge patch of a few
hundred bytes), then the handover. The whole-form hash of each message comes from the
canonical cache (edge/wire/form_hash.py), so making message n does not cost O(n)."""

from __future__ import annotations

import json
import random
import uuid

from edge.form.model import new_form
from edge.wire.contract import SCHEMA, utc_now
from edge.wire.form_hash import CanonicalForm

VITAL_CODES = ((147842, "/min", 40, 180), (150456, "%", 80, 100), (151562, "/min", 8, 40), (150344, "Cel", 35, 40))


class RitStream:
    """One rit's stream of messages to one SEH, as a tablet would send it."""

    def __init__(self, vehicle_id: str, seh_id: str = "seh-umcu", seed: int = 0, rit_id: str | None = None):
        self.rng = random.Random(seed)
        self.rit_id = rit_id or str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        self.vehicle_id, self.seh_id = vehicle_id, seh_id
        self.form = new_form({"rit_id": self.rit_id, "vehicle_id": vehicle_id, "created_at": utc_now()})
        self.form["status"] = "vooraankondiging"
        self.form["melding"] = {"urgency": "A1", "complaint": "pijn op de borst"}
        self.canonical = CanonicalForm()
        self.seq = 0
        self.entries = 0

    def _envelope(self, kind: str, status: str, body: dict) -> dict:
        self.seq += 1
        return {"schema": SCHEMA, "msg_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "rit_id": self.rit_id, "vehicle_id": self.vehicle_id, "seh_id": self.seh_id, "seq": self.seq,
                "kind": kind, "status": status, "body": body, "form_sha256": self.canonical.sha256(self.form)[1],
                "sent_at": utc_now()}

    def snapshot(self) -> dict:
        return self._envelope("snapshot", "vooraankondiging", json.loads(json.dumps(self.form)))

    def entry(self) -> dict:
        code, unit, low, high = self.rng.choice(VITAL_CODES)
        self.entries += 1
        now = utc_now()
        return {"code": code, "value": round(self.rng.uniform(low, high), 1), "unit": unit, "clinical_time": now,
                "recorded_at": now, "author": "verpleegkundige", "source": "device:monitor-1",
                "position": self.entries}

    def update(self) -> dict:
        """One new vital-signs entry: the patch holds only that entry."""
        entry_id = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        item = self.entry()
        self.form["vitals"][entry_id] = item
        return self._envelope("patch", "update", {"vitals": {entry_id: item}})

    def handover(self) -> dict:
        self.form["status"] = "overdracht"
        return self._envelope("patch", "overdracht", {"status": "overdracht"})

    def grow(self, entries: int) -> None:
        """Entries recorded before the stream is announced (a form that is already long)."""
        for _ in range(entries):
            self.form["vitals"][str(uuid.UUID(int=self.rng.getrandbits(128), version=4))] = self.entry()


def wire(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":")).encode("utf-8")
