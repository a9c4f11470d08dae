"""A tablet database as it looks after one busy week without purging (for start-up checks).

Sizing, on the generous side: 20 rits a day for 7 days (140), each with 150 accepted vital
signs (a long run with values taken every few minutes, several parameters) and 60 outbox
messages (one snapshot, coalesced patches, overdracht), all streams delivered and read
except the newest rits, whose last messages are still unsent. The schema comes from the real
migrations; rows are written in bulk through plain SQL so that generating takes ~1 s.
"""

from __future__ import annotations

import json
import random
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge.wire.canonical import form_sha256
from edge.store.rit_store import EdgeStore

VITALS = [(150456, "SpO2", "%"), (149530, "Polsfrequentie", "/min"), (147842, "Hartfrequentie", "/min"),
          (150021, "NIBP systolisch", "mm[Hg]"), (150022, "NIBP diastolisch", "mm[Hg]"),
          (151562, "Ademfrequentie", "/min"), (151728, "etCO2", "mm[Hg]")]


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_week_database(path: Path, rits: int = 140, vitals_per_rit: int = 150, messages_per_rit: int = 60,
                       unsent_rits: int = 3, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    EdgeStore(path).close()  # the real schema
    start = datetime.now(UTC) - timedelta(days=7)
    rit_rows, entry_rows, stream_rows, outbox_rows = [], [], [], []
    for r in range(rits):
        rit_id = str(uuid.UUID(int=rng.getrandbits(128)))
        created = start + timedelta(minutes=72 * r)
        form = {"rit_id": rit_id, "vehicle_id": "ambu-01", "created_at": _iso(created),
                "melding": {"urgency": rng.choice(["A1", "A2", "B"])}, "destination_seh": "seh-umcu", "vitals": {}}
        for v in range(vitals_per_rit):
            code, label, unit = VITALS[v % len(VITALS)]
            at = _iso(created + timedelta(seconds=20 * v))
            entry_id = str(uuid.UUID(int=rng.getrandbits(128)))
            data = {"code": code, "label": label, "value": rng.randint(40, 140), "unit": unit}
            entry_rows.append((entry_id, rit_id, v + 1, "vital", json.dumps(data), at, at, "crew", "device:monitor"))
            form["vitals"][entry_id] = {**data, "clinical_time": at, "recorded_at": at, "author": "crew",
                                        "source": "device:monitor"}
        form_json, digest = json.dumps(form), form_sha256(form)
        updated = _iso(created + timedelta(minutes=60))
        rit_rows.append((rit_id, "ambu-01", form["melding"]["urgency"], "seh-umcu", "aangekondigd", _iso(created),
                         updated, form_json, digest))
        stream_rows.append((rit_id, "seh-umcu", messages_per_rit + 1, "overdracht", 0, _iso(created), form_json))
        unsent_from = messages_per_rit - 2 if r >= rits - unsent_rits else messages_per_rit
        vitals = list(form["vitals"].items())
        for seq in range(1, messages_per_rit + 1):
            at = _iso(created + timedelta(seconds=60 * seq))
            if seq == 1:
                kind, status, body = "snapshot", "vooraankondiging", {**form, "vitals": dict(vitals[:7])}
            else:
                chunk = vitals[(seq - 1) * 2:(seq - 1) * 2 + 3]
                kind, status, body = "patch", "overdracht" if seq == messages_per_rit else "update", {"vitals": dict(chunk)}
            sent = seq <= unsent_from
            outbox_rows.append((str(uuid.UUID(int=rng.getrandbits(128))), rit_id, "seh-umcu", seq, kind, status,
                                json.dumps(body), digest, "read" if sent else "saved", at, at,
                                at if sent else None, at if sent else None, at if sent else None, at if sent else None))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany("INSERT INTO rits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rit_rows)
        conn.executemany("INSERT INTO entries (entry_id, rit_id, position, kind, data_json, clinical_time,"
                         " recorded_at, author, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", entry_rows)
        conn.executemany("INSERT INTO streams VALUES (?, ?, ?, ?, ?, ?, ?)", stream_rows)
        conn.executemany("INSERT INTO outbox (msg_id, rit_id, seh_id, seq, kind, status, body_json, form_sha256, state,"
                         " created_at, updated_at, published_at, sent_at, delivered_at, read_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", outbox_rows)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return {"rits": len(rit_rows), "entries": len(entry_rows), "messages": len(outbox_rows),
            "bytes": path.stat().st_size}
