"""Push every applied update to the hospital's FHIR server (its integration engine, HAPI FHIR, …).

An outbox of its own: each version the receiver applied (``seh_versions``) becomes one row;
a worker on its own thread POSTs the rit's transaction bundle (PUTs with stable ids, so a
repeat is harmless) in seq order per rit, retries with backoff while the server is away and
keeps the server's answer as the receipt. The MQTT receiver never waits for it: it only
writes ``seh_versions`` as it always did, and this thread reads them.
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlite_utils

from edge.wire.contract import utc_now

if TYPE_CHECKING:  # seh.store lists this module's migration: no import back at run time
    from seh.store import SehStore

log = logging.getLogger("ritlink.seh.fhir")
FHIR_JSON = "application/fhir+json"


def migrate_fhir(db: sqlite_utils.Database) -> None:
    """SEH migration: the push outbox and the access log of the FHIR endpoint."""
    db.execute(
        """CREATE TABLE seh_fhir_outbox (
            rit_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT NOT NULL,
            last_error TEXT,
            outcome TEXT,
            done_at TEXT,
            status_code INTEGER,
            receipt_json TEXT,
            PRIMARY KEY (rit_id, seq)
        )"""
    )
    db.execute("CREATE INDEX seh_fhir_outbox_due ON seh_fhir_outbox(done_at, next_attempt_at)")
    db.execute(
        """CREATE TABLE seh_fhir_access (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            who TEXT NOT NULL,
            action TEXT NOT NULL,
            rit_id TEXT,
            client TEXT
        )"""
    )


def _later(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class FhirPusher:
    """The push worker. ``run_once`` does one pass (tests call it); ``start`` runs passes on a thread."""

    def __init__(self, store: "SehStore", url: str, token: str | None = None, seh_name: str | None = None,
                 retry_max_s: float = 60.0, poll_s: float = 0.5, timeout_s: float = 10.0):
        self.store, self.url = store, url.rstrip("/")
        self.token, self.seh_name = token, seh_name
        self.retry_max_s, self.poll_s, self.timeout_s = retry_max_s, poll_s, timeout_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="seh-fhir-push", daemon=True)
        self._queued_up_to = 0  # seh_versions.id already queued (INSERT OR IGNORE covers a restart)

    def start(self) -> FhirPusher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.timeout_s + 2)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("FHIR push pass failed")
            self._stop.wait(self.poll_s)

    def run_once(self) -> int:
        """Queue newly applied versions, then send what is due; returns how many were sent."""
        now = utc_now()
        with self.store.write() as db:
            # Only the versions applied since the last pass (ids grow): no scan of the history.
            top = db.execute("SELECT coalesce(max(id), 0) FROM seh_versions").fetchone()[0]
            db.execute("INSERT OR IGNORE INTO seh_fhir_outbox (rit_id, seq, created_at, next_attempt_at)"
                       " SELECT rit_id, seq, applied_at, ? FROM seh_versions WHERE id > ? AND id <= ?",
                       [now, self._queued_up_to, top])
            self._queued_up_to = top
        sent = 0
        for row in self.store.query(
                "SELECT o.rit_id, o.seq, o.attempts FROM seh_fhir_outbox o"
                " JOIN seh_versions v USING (rit_id, seq)"
                " WHERE o.done_at IS NULL AND o.next_attempt_at <= ?"
                " AND o.seq = (SELECT min(seq) FROM seh_fhir_outbox p WHERE p.rit_id = o.rit_id AND p.done_at IS NULL)"
                " ORDER BY o.created_at, o.rit_id", [now]):
            if self._stop.is_set():
                break
            sent += self._push(row)
        return sent

    def _push(self, row: dict) -> int:
        from edge.wire.fhir import FhirInvalid, rit_bundle  # the FHIR models load only where pushing is on

        rit_id, seq = row["rit_id"], row["seq"]
        try:
            # versions are stored as the messages that made them: rebuilt here (seh/versions.py)
            bundle = rit_bundle(self.store.version_form(rit_id, seq), bundle_type="transaction", seh_name=self.seh_name,
                                version=seq)
        except (FhirInvalid, KeyError, ValueError) as exc:
            # A form the mapping cannot express will not improve by waiting: record and go on.
            self._done(rit_id, seq, "unmappable", None, {"error": type(exc).__name__})
            log.error("FHIR push of rit %s seq %d: bundle not built (%s)", rit_id, seq, type(exc).__name__)
            return 0
        headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, json.dumps(bundle).encode("utf-8"), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                status, body = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
            if status in (408, 429) or status >= 500:
                return self._retry(rit_id, seq, row["attempts"], f"HTTP {status}")
            self._done(rit_id, seq, "rejected", status, _receipt(body))
            log.warning("FHIR push of rit %s seq %d rejected: HTTP %d", rit_id, seq, status)
            return 0
        except (OSError, urllib.error.URLError) as exc:
            return self._retry(rit_id, seq, row["attempts"], type(exc).__name__)
        self._done(rit_id, seq, "sent", status, _receipt(body))
        log.info("FHIR push of rit %s seq %d: HTTP %d", rit_id, seq, status)
        return 1

    def _retry(self, rit_id: str, seq: int, attempts: int, error: str) -> int:
        delay = min(self.retry_max_s, 0.5 * 2 ** min(attempts, 16))
        with self.store.write() as db:
            db.execute("UPDATE seh_fhir_outbox SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?"
                       " WHERE rit_id = ? AND seq = ?", [_later(delay), error, rit_id, seq])
        log.info("FHIR push of rit %s seq %d failed (%s): retry in %.1f s", rit_id, seq, error, delay)
        return 0

    def _done(self, rit_id: str, seq: int, outcome: str, status: int | None, receipt: dict) -> None:
        with self.store.write() as db:
            db.execute("UPDATE seh_fhir_outbox SET outcome = ?, done_at = ?, status_code = ?, receipt_json = ?,"
                       " attempts = attempts + 1 WHERE rit_id = ? AND seq = ?",
                       [outcome, utc_now(), status, json.dumps(receipt), rit_id, seq])

    def receipts(self, rit_id: str) -> list[dict]:
        """The push history of one rit: seq, outcome, HTTP status, attempts, when (no bundle content)."""
        return self.store.query("SELECT seq, outcome, status_code, attempts, last_error, done_at, receipt_json"
                                " FROM seh_fhir_outbox WHERE rit_id = ? ORDER BY seq", [rit_id])


def _receipt(body: bytes) -> dict:
    """What the server answered, reduced to statuses and locations (its resources are ours anyway)."""
    try:
        answer = json.loads(body or b"{}")
    except ValueError:
        return {"body": "not JSON"}
    if not isinstance(answer, dict):
        return {}
    if answer.get("resourceType") == "Bundle":
        return {"entries": [{k: e.get("response", {}).get(k) for k in ("status", "location")}
                            for e in answer.get("entry", [])]}
    if answer.get("resourceType") == "OperationOutcome":
        return {"issues": [i.get("code") for i in answer.get("issue", [])]}
    return {"resourceType": answer.get("resourceType")}

