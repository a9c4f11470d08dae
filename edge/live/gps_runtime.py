"""The GPS in the running edge: track, proposed run times, ETA, live topic, position in the form.

One receiver (devices.gps.GpsReader on a serial URL, or devices.gpsd_client.GpsdClient)
feeds ``on_fix`` on its reader thread. Per open rit (concept or announced, not handed over
or cancelled) the track is stored at most one point per 5 s and the run times ter plaatse
and aankomst SEH are proposed for the crew to confirm. Per announced rit the destination
SEH gets the live topic (latest vitals + position, at most once per 5 s), and the form
gets the position and ETA at the vooraankondiging, whenever the ETA moves by a minute or
more, and at least once a minute while driving (heading straight for the SEH the arrival
time hardly moves, yet the SEH must see the vehicle come closer): every form change is an
MQTT message, so not on every fix.

Without fixes (no GPS configured, unplugged, a tunnel) a ticker still sends the live topic,
with the vitals and the last known position (or none).

Locks: fixes arrive on two threads (reader, idle flush), serialised by ``_fix_lock``, under
which the store is written. ``position_entry`` runs inside the announce transaction
(holding the store lock), so it reads only snapshots swapped in whole, never a lock of
ours: the other order would deadlock.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from devices.gps import Fix, GpsReader
from devices.gpsd_client import GpsdClient
from edge.store import track_store
from edge.store.audit import Actor
from edge.config import EdgeSettings
from edge.wire.contract import new_id
from edge.wire.contract import utc_now
from edge.form.entries import VehiclePositionData, utc_iso
from edge.errors import DomainError
from edge.form.model import ACTIVE_STATUSES, CONCEPT
from edge.live.position import (
    STATIONARY_MPS,
    STOP_RESETS_AVERAGE_S,
    Eta,
    EtaEstimator,
    Geofence,
    RunTimeProposer,
    TrackDownsampler,
    fix_moment,
    live_position,
)
from edge.service import EdgeService
from edge.store.rit_store import RitNotFound, Tx

log = logging.getLogger("ritlink.gps")

GPS_DEVICE_ID = "gps"
LIVE_EVERY_S = 5.0  # design.md: the live topic at most once per 5 s
ETA_CHANGE_S = 60.0  # a new ETA goes into the form when it moved by at least this much
FORM_REFRESH_S = 60.0  # while driving, the form's position and ETA are at most this old (fix time)
RITS_REFRESH_S = 1.0  # how often the list of open rits is read again
TICK_S = 1.0  # without fixes the live topic is still sent (vitals), checked this often
FIX_FRESH_S = 3.0
POSITION_STALE_S = 30.0  # an older position is not put into a vooraankondiging
DEFAULT_GEOFENCE_M = 150.0  # an SEH with coordinates but no geofence_m: its grounds and entrance
OPEN_STATUSES = (CONCEPT, *ACTIVE_STATUSES)
COUNTERS = ("fixes", "fixes_with_position", "track_points", "proposals", "form_updates", "live_published")


def parse_utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class Proposal:
    """A run time the GPS suggests; it becomes a time only when the crew confirms it."""

    kind: str  # ter_plaatse or aankomst_seh (the TimeData ``which``)
    at: datetime
    proposed_at: datetime
    lat: float
    lon: float
    seh_id: str | None = None
    id: str = field(default_factory=new_id)
    state: str = "open"  # open, confirming, confirmed, superseded (the crew entered the time)
    confirm_key: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"id": self.id, "kind": self.kind, "at": utc_iso(self.at), "proposed_at": utc_iso(self.proposed_at),
                "lat": round(self.lat, 6), "lon": round(self.lon, 6), "state": self.state}
        if self.seh_id:
            data["seh_id"] = self.seh_id
        return data


@dataclass
class RitWatch:
    """What the GPS follows of one open rit."""

    rit_id: str
    proposer: RunTimeProposer
    status: str = CONCEPT
    seh_id: str | None = None
    sha: str | None = None
    track: TrackDownsampler = field(default_factory=TrackDownsampler)
    times: dict[str, str] = field(default_factory=dict)
    proposals: list[Proposal] = field(default_factory=list)
    # What the form holds now: a position at all, for which SEH, with which arrival time.
    has_position: bool = False
    written_seh: str | None = None
    written_arrival: datetime | None = None
    written_at: datetime | None = None  # the fix time of the position in the form


class GpsRuntime:
    def __init__(self, settings: EdgeSettings, service: EdgeService,
                 publish_live: Callable[[str, dict], bool] = lambda seh_id, payload: False,
                 monotonic: Callable[[], float] = time.monotonic):
        self.settings = settings
        self.service = service
        self.store = service.store
        self._publish_live = publish_live
        self._monotonic = monotonic
        located = [s for s in settings.sehs if s.lat is not None and s.lon is not None]
        self.fences = [Geofence(s.id, s.lat, s.lon, s.geofence_m or DEFAULT_GEOFENCE_M) for s in located]
        self._estimators = {s.id: EtaEstimator((s.lat, s.lon)) for s in located}
        self._fix_lock = threading.Lock()
        self._proposal_lock = threading.Lock()
        self._watches: dict[str, RitWatch] = {}
        self._refreshed_at = float("-inf")
        self._live_sent_at: dict[str, float] = {}
        # Swapped in whole on every fix, read without a lock (see the module docstring).
        self._latest: tuple[Fix, datetime, float] | None = None
        self._etas: dict[str, Eta | None] = {}
        self._stopped_since: datetime | None = None
        # Every key from the start: the API copies it while the fix thread counts.
        self.counters: Counter[str] = Counter(dict.fromkeys(COUNTERS, 0))
        self.state = "disconnected" if settings.gps_enabled else "not_configured"
        self.reader: GpsReader | GpsdClient | None = None
        self._last_epoch: tuple[bool, float] | None = None  # (had a position, monotonic time)
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, name="gps-live", daemon=True)

    # -- the receiver ----------------------------------------------------------------------
    def start(self) -> GpsRuntime:
        s = self.settings
        if s.gps_source == "gpsd":
            self.reader = GpsdClient(self.on_fix, self._on_state, s.gpsd_host, s.gpsd_port, GPS_DEVICE_ID)
        elif s.gps_url:
            self.reader = GpsReader(s.gps_url, self.on_fix, self._on_state, baudrate=s.gps_baud,
                                    device_id=GPS_DEVICE_ID)
        if self.reader is not None:
            self.reader.start()
            log.info("GPS reading from %s", self.source)
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self.reader is not None:
            self.reader.stop()
        if self._ticker.is_alive():
            self._ticker.join(2)

    def _tick(self) -> None:
        """The live topic also without fixes (no GPS, unplugged, a tunnel): the vitals go on."""
        while not self._stop.wait(TICK_S):
            with self._fix_lock:
                try:
                    self._refresh_rits()
                    self._send_live()
                except Exception:
                    log.exception("GPS: live tick failed")

    @property
    def source(self) -> str | None:
        s = self.settings
        if s.gps_source == "gpsd":
            return f"gpsd {s.gpsd_host}:{s.gpsd_port}"
        return s.gps_url

    def _on_state(self, state: str) -> None:
        self.state = state
        log.info("GPS %s", state)

    def device_states(self) -> dict[str, str]:
        """For the health check: the GPS next to the monitors (when one is configured)."""
        return {GPS_DEVICE_ID: self.state} if self.settings.gps_enabled else {}

    def on_fix(self, fix: Fix) -> None:
        received_at = datetime.now(UTC)
        with self._fix_lock:
            try:
                self.handle_fix(fix, received_at)
            except Exception:  # the reader thread must live on whatever one fix does
                log.exception("GPS fix handling failed")

    # -- per fix ---------------------------------------------------------------------------
    def handle_fix(self, fix: Fix, received_at: datetime) -> None:
        at = fix_moment(fix, received_at)
        self.counters["fixes"] += 1
        self._last_epoch = (fix.has_position, self._monotonic())
        if fix.has_position:
            self.counters["fixes_with_position"] += 1
            for estimator in self._estimators.values():
                estimator.update(fix, at)
            self._etas = {} if self._standing(fix, at) else {s: e.estimate() for s, e in self._estimators.items()}
            self._latest = (fix, at, self._monotonic())
        self._refresh_rits()
        for watch in list(self._watches.values()):
            try:
                self._follow(watch, fix, at)
            except RitNotFound:
                self._watches.pop(watch.rit_id, None)  # purged meanwhile
            except Exception:
                log.exception("GPS: rit %s not updated", watch.rit_id)
        self._send_live()

    def _standing(self, fix: Fix, at: datetime) -> bool:
        """Parked for 20 s or more (on scene, at the post): the ETA is unknown, not "later every
        second". A traffic light keeps it."""
        if fix.speed_mps is not None:
            moving = fix.speed_mps >= STATIONARY_MPS
            self._stopped_since = None if moving else (self._stopped_since or at)
        return self._stopped_since is not None and (at - self._stopped_since).total_seconds() >= STOP_RESETS_AVERAGE_S

    def _refresh_rits(self) -> None:
        now = self._monotonic()
        if now - self._refreshed_at < RITS_REFRESH_S:
            return
        self._refreshed_at = now
        # The small part of the current form (rit_heads), or the whole form of a rit saved
        # before there was one: both hold the melding, the times and the position as they are now.
        rows = self.store.query(
            "SELECT r.rit_id, lifecycle, destination_seh, form_sha256,"
            " json_extract(coalesce(h.head_json, r.form_json), '$.melding.location.lat') AS incident_lat,"
            " json_extract(coalesce(h.head_json, r.form_json), '$.melding.location.lon') AS incident_lon,"
            " json_extract(coalesce(h.head_json, r.form_json), '$.times') AS times,"
            " json_extract(coalesce(h.head_json, r.form_json), '$.vehicle_position') AS vehicle_position"
            " FROM rits r LEFT JOIN rit_heads h USING (rit_id)"
            f" WHERE lifecycle IN ({','.join('?' * len(OPEN_STATUSES))})", list(OPEN_STATUSES))
        with self._proposal_lock:
            self._watches = {row["rit_id"]: self._watch_from(row) for row in rows}

    def _watch_from(self, row: dict[str, Any]) -> RitWatch:
        watch = self._watches.get(row["rit_id"]) or RitWatch(row["rit_id"], RunTimeProposer(None, self.fences))
        if watch.sha == row["form_sha256"]:
            return watch
        watch.sha, watch.status, watch.seh_id = row["form_sha256"], row["lifecycle"], row["destination_seh"]
        incident = (row["incident_lat"], row["incident_lon"])
        if None not in incident and incident != watch.proposer.incident:
            watch.proposer.set_incident(*incident)  # dispatch moved the address: look again
            watch.proposals = [p for p in watch.proposals if p.kind != "ter_plaatse" or p.state != "open"]
        watch.times = json.loads(row["times"] or "{}")
        if "ter_plaatse" in watch.times:
            watch.proposer.mark_on_scene(parse_utc(watch.times["ter_plaatse"]))
        for proposal in watch.proposals:
            if proposal.state == "open" and proposal.kind in watch.times:
                proposal.state = "superseded"
        position = json.loads(row["vehicle_position"] or "{}")
        watch.has_position = bool(position)
        watch.written_seh = position.get("seh_id")
        eta = position.get("eta")
        watch.written_arrival = parse_utc(eta["arrival_at"]) if eta else None
        watch.written_at = parse_utc(position["at"]) if position.get("at") else None
        return watch

    def _follow(self, watch: RitWatch, fix: Fix, at: datetime) -> None:
        point = watch.track.offer(fix, at)
        if point is not None:
            with self.store.write() as db:
                if track_store.add_point(db, watch.rit_id, point):
                    self.counters["track_points"] += 1
        for found in watch.proposer.update(fix, at):
            if found.kind in watch.times:
                continue  # the crew was first
            proposal = Proposal(found.kind, found.at, found.proposed_at, found.lat, found.lon, found.seh_id)
            with self._proposal_lock:
                watch.proposals.append(proposal)
            self.counters["proposals"] += 1
            log.info("GPS proposes %s for rit %s", found.kind, watch.rit_id)
        if watch.status in ACTIVE_STATUSES and fix.has_position and watch.rit_id == self.service.active_rit_id():
            self._update_form(watch, fix, at)  # position and ETA belong to the rit the crew works on

    def _update_form(self, watch: RitWatch, fix: Fix, at: datetime) -> None:
        eta = self._etas.get(watch.seh_id) if watch.seh_id else None
        if watch.has_position and watch.written_seh == watch.seh_id:
            if eta is None or fix.speed_mps is None or fix.speed_mps < STATIONARY_MPS:
                return  # stopped or just left: the form keeps its ETA until we drive with a new one
            fresh = watch.written_at is not None and (at - watch.written_at).total_seconds() < FORM_REFRESH_S
            if fresh and watch.written_arrival is not None and \
                    abs((eta.arrival_at - watch.written_arrival).total_seconds()) < ETA_CHANGE_S:
                return
        result = self.service.record_vehicle_position(watch.rit_id, self._entry_data(fix, at, watch.seh_id, eta), at)
        if result.get("written"):
            watch.has_position, watch.written_seh = True, watch.seh_id
            watch.written_arrival = eta.arrival_at if eta else None
            watch.written_at = at
            self.counters["form_updates"] += 1

    @staticmethod
    def _entry_data(fix: Fix, at: datetime, seh_id: str | None, eta: Eta | None) -> dict[str, Any]:
        data = {**live_position(fix, at, eta), "seh_id": seh_id}
        return VehiclePositionData.model_validate(data).model_dump(mode="json", exclude_none=True)

    def _send_live(self) -> None:
        """The live topic to the SEH of the active rit, when it is announced: live values belong
        to the rit the crew works on, never to every rit of the vehicle."""
        targets: dict[str, list[str]] = {}
        active = self.service.active_rit_id()
        for watch in self._watches.values():
            if watch.status in ACTIVE_STATUSES and watch.seh_id and watch.rit_id == active:
                targets.setdefault(watch.seh_id, []).append(watch.rit_id)
        now = self._monotonic()
        for seh_id, rit_ids in targets.items():
            if now - self._live_sent_at.get(seh_id, float("-inf")) < LIVE_EVERY_S:
                continue
            payload = {"vehicle_id": self.settings.vehicle_id, "sent_at": utc_now(), "rit_ids": sorted(rit_ids),
                       "vitals": self.service.live.snapshot(), "position": self._live_position(seh_id),
                       "gps": {"state": self.state, "fix": self._has_fix(now)}}
            if self._publish_live(seh_id, payload):
                self._live_sent_at[seh_id] = now
                self.counters["live_published"] += 1

    def _has_fix(self, now: float) -> bool:
        """The receiver's newest epoch, at most 3 s ago, had a position."""
        return self._last_epoch is not None and self._last_epoch[0] and now - self._last_epoch[1] <= FIX_FRESH_S

    def _live_position(self, seh_id: str) -> dict | None:
        latest = self._latest
        if latest is None:
            return None
        fix, at, _ = latest
        return live_position(fix, at, self._etas.get(seh_id))

    # -- for the service and the API -------------------------------------------------------
    def position_entry(self, seh_id: str | None) -> tuple[dict[str, Any], datetime] | None:
        """Position + ETA to ``seh_id`` for the vooraankondiging; None without a recent fix.

        Called inside the announce transaction: lock-free on purpose."""
        latest, etas = self._latest, self._etas
        if latest is None or self._monotonic() - latest[2] > POSITION_STALE_S:
            return None
        fix, at, _ = latest
        return self._entry_data(fix, at, seh_id, etas.get(seh_id) if seh_id else None), at

    def status(self) -> dict[str, Any]:
        """GET /api/v1/position: the latest fix, the receiver's state and counters."""
        latest, etas = self._latest, self._etas
        fix, eta_by_seh = None, {}
        if latest is not None:
            last, at, seen = latest
            fix = {**last.to_dict(), "at": utc_iso(at), "age_s": round(self._monotonic() - seen, 1)}
            eta_by_seh = {seh_id: live_position(last, at, eta).get("eta") for seh_id, eta in etas.items()}
        reader = self.reader.counters() if self.reader is not None else {}
        return {
            "configured": self.settings.gps_enabled, "source": self.source, "state": self.state, "fix": fix,
            "eta": eta_by_seh, "counters": {**reader, **self.counters}, "open_rits": len(self._watches),
        }

    def proposals(self, rit_id: str, *, actor: Actor) -> list[dict[str, Any]]:
        self._logged_read(rit_id, actor, "proposals.read")
        with self._proposal_lock:
            watch = self._watches.get(rit_id)
            return [p.to_dict() for p in watch.proposals] if watch else []

    def confirm(self, rit_id: str, proposal_id: str, *, actor: Actor, idempotency=None) -> dict[str, Any]:
        """The crew takes a proposed time: it is set through the service like a typed one."""
        with self._proposal_lock:
            watch = self._watches.get(rit_id)
            proposal = next((p for p in watch.proposals if p.id == proposal_id), None) if watch else None
        if proposal is None:
            self.store.rit(rit_id)  # RitNotFound for an unknown rit
            raise DomainError("voorstel niet gevonden (of vervallen)", status=404, type="not_found")
        with self._proposal_lock:
            replay = proposal.state == "confirmed" and idempotency is not None and \
                proposal.confirm_key == idempotency.key
            if proposal.state != "open" and not replay:
                raise DomainError(f"voorstel is niet meer open ({proposal.state})", status=409, type="proposal")
            previous, proposal.state = proposal.state, "confirming"
        try:
            result = self.service.set_time(rit_id, proposal.kind, proposal.at, actor=actor, idempotency=idempotency)
        except BaseException:
            with self._proposal_lock:
                proposal.state = previous
            raise
        with self._proposal_lock:
            proposal.state = "confirmed"
            proposal.confirm_key = idempotency.key if idempotency is not None else None
        return {**result, "proposal": proposal.to_dict()}

    def track(self, rit_id: str, *, actor: Actor) -> list[dict[str, Any]]:
        def op(tx: Tx) -> dict:
            tx.row(rit_id)
            points = track_store.track_of(tx.db, rit_id)
            tx.audit_detail = {"points": len(points)}
            return {"points": points}

        return self.store.transact(op, actor, "track.read", rit_id)["points"]

    def _logged_read(self, rit_id: str, actor: Actor, action: str) -> None:
        self.store.transact(lambda tx: {"rit_id": tx.row(rit_id)["rit_id"]}, actor, action, rit_id)

