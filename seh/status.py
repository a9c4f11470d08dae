"""SEH-status at the hospital: kept in the SEH database, published retained on the status topic
(edge/wire/seh_status.py), published again on every (re)connect so the broker always holds the
latest, and fed by a person on the status page (seh/status_page.py) or by the source adapter.

The adapter boundary: ``read_source`` turns a file or an http(s) URL holding JSON or CSV into
the status fields (docs/sync.md "SEH-status"); ``SourcePoller`` reads it every interval and
publishes a change. A broken source is logged without its content, the last status stays, and
the problem is shown on the status page.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from edge.sync.mqtt_client import connect_async, loop_alive, make_client
from edge.wire import safe_json
from edge.wire import seh_status as ws
from edge.wire.contract import utc_now

log = logging.getLogger("ritlink.seh.status")

MAX_SOURCE_BYTES = 64 * 1024
SOURCE_TIMEOUT_S = 10.0
BY_SOURCE = "bron"


def migrate_status(db: sqlite_utils.Database) -> None:
    db.execute(
        """CREATE TABLE seh_status_current (
            seh_id TEXT PRIMARY KEY,
            body_json TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at TEXT NOT NULL
        )"""
    )


class StatusKeeper:
    """The SEH's current status: stored, then published retained (QoS 1) on its own MQTT client."""

    def __init__(self, store, seh_id: str, host: str, port: int, instance: str = "1", tls=None):
        self.store, self.seh_id = store, seh_id
        self.host, self.port, self.tls = host, port, tls
        self.client = make_client(f"ritlink-seh-{seh_id}-status-{instance}")
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *a: self.connected.clear()
        self.connected = threading.Event()
        self._lock = threading.Lock()
        self.source_problem: str | None = None  # shown on the status page; no source content
        self.source_checked_at: str | None = None
        self.published = 0

    def start(self) -> StatusKeeper:
        connect_async(self.client, self.host, self.port, self.tls)
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def alive(self) -> bool:
        return loop_alive(self.client)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("broker refused the status client: %s", reason_code)
            return
        self.connected.set()
        try:
            self._publish()  # the broker may have lost its retained copy: it always holds the latest
        except Exception as exc:  # never into paho's thread
            log.error("status republish failed: %s", type(exc).__name__)

    def current(self) -> tuple[ws.SehStatus | None, dict[str, Any]]:
        rows = self.store.query("SELECT body_json, set_by, set_at FROM seh_status_current WHERE seh_id = ?",
                                [self.seh_id])
        if not rows:
            return None, {}
        return ws.check(json.loads(rows[0]["body_json"]), self.seh_id), {"set_by": rows[0]["set_by"],
                                                                         "set_at": rows[0]["set_at"]}

    def set(self, fields: dict[str, Any], set_by: str) -> ws.SehStatus:
        """Check, store and publish a status (StatusError names the refused field)."""
        status = ws.check({**fields, "seh_id": self.seh_id, "updated_at": fields.get("updated_at") or utc_now()},
                          self.seh_id)
        with self._lock:
            with self.store.write() as db:
                db.execute("INSERT OR REPLACE INTO seh_status_current (seh_id, body_json, set_by, set_at)"
                           " VALUES (?, ?, ?, ?)",
                           [self.seh_id, json.dumps(status.to_dict()), set_by[:80], utc_now()])
            self._publish()
        log.info("status %s set by %s", status.state, "bron" if set_by == BY_SOURCE else "medewerker")
        return status

    def _publish(self) -> None:
        status, _ = self.current()
        if status is None:
            return
        data = json.dumps(status.to_dict(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        self.client.publish(ws.status_topic(self.seh_id), data, qos=1, retain=True)
        self.published += 1

    def health(self) -> dict[str, Any]:
        status, meta = self.current()
        return {"state": status.state if status else None, "updated_at": status.updated_at if status else None,
                "set_by": meta.get("set_by"), "broker": "connected" if self.connected.is_set() else "disconnected",
                "source_problem": self.source_problem, "source_checked_at": self.source_checked_at}


# -- the source adapter -------------------------------------------------------------------
def read_source(source: str, fmt: str = "auto") -> dict[str, Any]:
    """The status fields from a file path or an http(s) URL, JSON or CSV (ValueError if unreadable)."""
    if source.startswith(("http://", "https://")):
        with urllib.request.urlopen(source, timeout=SOURCE_TIMEOUT_S) as response:  # noqa: S310 (configured URL)
            raw = response.read(MAX_SOURCE_BYTES + 1)
    else:
        with open(Path(source), "rb") as handle:
            raw = handle.read(MAX_SOURCE_BYTES + 1)
    if len(raw) > MAX_SOURCE_BYTES:
        raise ValueError("too_large: source over 64 KiB")
    if fmt == "csv" or (fmt == "auto" and not raw.lstrip().startswith(b"{")):
        return _from_csv(raw)
    try:
        body = safe_json.loads_object(raw, max_bytes=MAX_SOURCE_BYTES, max_depth=ws.MAX_DEPTH)
    except safe_json.PayloadError as exc:
        raise ValueError(exc.reason) from None
    return body


def _from_csv(raw: bytes) -> dict[str, Any]:
    """A header line and one line of values: state, reason, until, updated_at and the counts."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError("malformed: not UTF-8") from None
    rows = [r for r in csv.DictReader(io.StringIO(text)) if any((v or "").strip() for v in r.values())]
    if len(rows) != 1:
        raise ValueError("malformed: CSV needs a header and exactly one line of values")
    row = {(k or "").strip(): (v or "").strip() for k, v in rows[0].items()}
    out: dict[str, Any] = {k: row[k] for k in ("state", "reason", "until", "updated_at", "schema", "seh_id")
                           if row.get(k)}
    counts = {}
    for name in ws.COUNT_MAX:
        if row.get(name):
            if not row[name].isdigit() or len(row[name]) > 6:
                raise ValueError(f"malformed: {name} is not a whole number")
            counts[name] = int(row[name])
    unknown = set(row) - set(out) - set(ws.COUNT_MAX) - {"state", "reason", "until", "updated_at"}
    if unknown:
        raise ValueError(f"malformed: unknown column {sorted(unknown)[0][:40]!r}")
    return {**out, **({"counts": counts} if counts else {})}


class SourcePoller:
    """Reads the source every ``interval_s``; publishes when what it says changes, and confirms
    (a fresh updated_at) a status that came from the source when it still says the same."""

    def __init__(self, keeper: StatusKeeper, source: str, fmt: str = "auto", interval_s: float = 300.0):
        self.keeper, self.source, self.fmt, self.interval_s = keeper, source, fmt, interval_s
        self._stop = threading.Event()
        self._last: str | None = None
        self._failing_since: datetime | None = None
        self._thread = threading.Thread(target=self._run, name="seh-status-source", daemon=True)
        self.counters = {"reads": 0, "changes": 0, "failures": 0}

    def start(self) -> SourcePoller:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(3)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval_s)

    def poll_once(self) -> None:
        self.counters["reads"] += 1
        self.keeper.source_checked_at = utc_now()
        try:
            fields = read_source(self.source, self.fmt)
            fields.pop("schema", None)
            if fields.pop("seh_id", self.keeper.seh_id) != self.keeper.seh_id:
                raise ws.StatusError("topic: the source is about another SEH")
            said = json.dumps(fields, sort_keys=True)
            status, meta = self.keeper.current()
            from_source = meta.get("set_by") == BY_SOURCE
            if said == self._last and not from_source:
                self.keeper.source_problem = None
                return  # unchanged, and a person's status stands until the source changes
            if said == self._last and status is not None and "updated_at" in fields:
                self.keeper.source_problem = None
                return  # the source dates its own status: nothing newer to say
            self.keeper.set(fields, BY_SOURCE)
            if said != self._last:
                self.counters["changes"] += 1
            self._last = said
            self.keeper.source_problem = None
        except Exception as exc:  # a broken source never stops the poller; no content in the log
            self.counters["failures"] += 1
            reason = getattr(exc, "reason", None) or (str(exc)[:80] if isinstance(exc, ValueError) else "")
            reason = reason if isinstance(exc, (ValueError, ws.StatusError)) else type(exc).__name__
            log.warning("status source unreadable: %s", type(exc).__name__)
            since = self._failing_since = self._failing_since or datetime.now(UTC)
            self.keeper.source_problem = (f"Bron onleesbaar sinds {since:%H:%M:%S} UTC ({reason}); "
                                          "de laatste status blijft staan")
            return
        self._failing_since = None
