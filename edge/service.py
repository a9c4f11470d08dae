"""What the tablet can do, in domain words. web/ calls this and nothing lower.

No MQTT or serial code is imported here: the runtime (edge/runtime.py) wires the device
readers and the MQTT sync around one EdgeService, and web/ gets the instance.

Every method that reads or changes a rit takes the ``actor`` (who, role, client) and runs
in one store transaction with its access-log row; writes also take an optional
idempotency key. Validation (value lists, plausibility) happens before anything is
written; the lifecycle rules live in edge/store/lifecycle.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from edge.store import audit, lifecycle, retention
from edge.store.audit import Actor
from edge.config import EdgeSettings
from edge.store.db import StoreFullError
from edge.form.entries import (CLIENT_KINDS, MOMENT_OUT_OF_RANGE, NOT_STATES, EntryData, TimeData, moment_in_range,
                                parse_data, utc_iso, validate)
from edge.errors import DomainError, raise_all
from edge.form.model import ACTIVE_STATUSES, CANCELLED, CONCEPT, HANDED_OVER, URGENCIES, missing_for_overdracht
from edge.live.vitals import LiveVitals
from edge.sync.receipt_watch import parse_time, receipt_warnings
from edge.sync import seh_status_inbox
from edge.form.plausibility import LIMITS, VITAL_BY_MDC, VITALS, check_all, in_form_unit
from edge.store.rit_store import EdgeStore, IdempotencyKey, RitNotFound, Tx
from edge.store.messages_store import MessageDesk
from edge.form.valuelists import ValueLists, load_value_lists

__all__ = ["EdgeService", "RitNotFound", "DomainError", "Actor", "IdempotencyKey", "StoreFullError"]

log = logging.getLogger("ritlink.edge")

STORE_FULL_TEXT = ("Opslag vol: deze wijziging is NIET opgeslagen. Alles wat eerder is opgeslagen blijft bewaard "
                   "en wordt verzonden. Noteer op papier en meld het aan de technische dienst.")

# A clinical time this far ahead of the tablet's clock is a typo, not clock drift.
FUTURE_TOLERANCE = timedelta(minutes=5)


class EdgeService:
    def __init__(self, settings: EdgeSettings, store: EdgeStore, live: LiveVitals,
                 value_lists: ValueLists | None = None):
        self.settings = settings
        self.store = store
        self.live = live
        self.lists = value_lists or load_value_lists(settings.value_lists_file)
        # Set by the runtime: wakes the MQTT sender after a write; reports the link state.
        self.on_outbox_write: Callable[[], None] = lambda: None
        self.broker_connected: Callable[[], bool] = lambda: False
        store.link_up = lambda: self.broker_connected()
        # The MQTT side's own state: its threads alive, dead letters (edge/sync/sender.MqttSync.health).
        self.sync_health: Callable[[], dict[str, Any]] = lambda: {}
        # Set by the runtime when a GPS is configured (edge/gps_runtime.GpsRuntime): the
        # vehicle's position and ETA for the vooraankondiging, proposals, the GPS state.
        self.position: Any = None
        self._active_rit: str | None = None
        # Short messages with the SEH (edge/store/messages_store.py); the runtime wakes the sync.
        self.messages = MessageDesk(store, settings)

    # -- helpers ----------------------------------------------------------------------------
    def _write(self, fn: Callable[[Tx], dict], actor: Actor, action: str, rit_id: str | None,
               idempotency: IdempotencyKey | None) -> dict[str, Any]:
        if self.store.space_left() < self.settings.store_reserve_mb * 2**20:
            # Refuse before the disk is truly full: what is stored must still be sendable.
            log.error("store full: %s refused (rit %s)", action, rit_id)
            raise StoreFullError(STORE_FULL_TEXT)
        result = self.store.transact(fn, actor, action, rit_id, idempotency)
        self.on_outbox_write()
        return result

    @staticmethod
    def _clinical_time(value: datetime | None, field: str = "clinical_time") -> str:
        if value is None:
            return utc_iso(datetime.now(UTC))
        if value.tzinfo is None:
            raise DomainError("tijdstip zonder UTC-offset", field)
        if not moment_in_range(value):
            raise DomainError(MOMENT_OUT_OF_RANGE, field, type="plausibility.impossible")
        if value - datetime.now(UTC) > FUTURE_TOLERANCE:
            raise DomainError("tijdstip ligt in de toekomst", field, type="plausibility.impossible")
        return utc_iso(value)

    @staticmethod
    def _check_open(form: dict[str, Any], nagekomen: bool) -> None:
        """After the overdracht only marked late additions; the flag means nothing before it."""
        if form["status"] == HANDED_OVER and not nagekomen:
            raise DomainError("de rit is overgedragen: alleen nagekomen aanvullingen (nagekomen: true)",
                              "nagekomen", status=409, type="closed")
        if form["status"] != HANDED_OVER and nagekomen:
            raise DomainError("nagekomen kan pas na de overdracht", "nagekomen")

    def _validated(self, kind: str, data: EntryData, confirm: bool, actor: Actor,
                   prefix: str = "data") -> tuple[dict[str, Any], list[str]]:
        stored, confirmed = validate(data, self.lists, confirm, prefix)
        if kind == "vital":
            stored = _vital_data(stored["parameter"], stored)
        if kind == "medication" and "given_by" not in stored and "not_state" not in stored:
            stored["given_by"] = actor.user
        return stored, confirmed

    @staticmethod
    def _entry(kind: str, data: dict, actor: Actor, clinical_time: str, source: str = "manual",
               confirmed: list[str] | None = None, nagekomen: bool = False, **extra: Any) -> dict[str, Any]:
        return {"kind": kind, "data": data, "clinical_time": clinical_time, "author": actor.user, "source": source,
                "confirmed_unusual": confirmed or [], "nagekomen": nagekomen, **extra}

    # -- rits -------------------------------------------------------------------------------
    def create_rit(self, destination_seh: str, urgency: str, *, actor: Actor,
                   melding: dict[str, Any] | None = None, idempotency: IdempotencyKey | None = None,
                   beside_open_rit: bool = True, seh_stop_reason: str | None = None,
                   first_entries: Sequence[tuple[str, EntryData]] = ()) -> dict[str, Any]:
        """``beside_open_rit=False``: refuse while another rit is open (the tablet asks the crew first).
        ``first_entries`` (kind, data), e.g. the crew and an unidentified patient, are checked
        before anything is written and stored with the rit in one transaction: a refused
        start leaves no rit behind (the crew corrects and taps again)."""
        if self.settings.seh(destination_seh) is None:
            raise DomainError(f"onbekende SEH '{destination_seh}'", field="destination_seh")
        if urgency not in URGENCIES:
            raise DomainError("urgentie moet A1, A2 of B zijn", field="urgency")
        # The melding's extra fields sit at the top of the request body, hence no prefix.
        stored, confirmed = validate(parse_data("melding", {"urgency": urgency, **(melding or {})}, ""),
                                     self.lists, False, "")
        stop_reason = self._seh_stop_reason(destination_seh, seh_stop_reason)
        now = utc_iso(datetime.now(UTC))
        first = [self._entry("melding", stored, actor, now, confirmed=confirmed),
                 self._entry("destination", {"seh_id": destination_seh,
                                             **({"seh_stop_reason": stop_reason} if stop_reason else {})}, actor, now)]
        for kind, data in first_entries:
            if kind not in CLIENT_KINDS or not isinstance(data, CLIENT_KINDS[kind]):
                raise DomainError(f"onbekende soort invoer '{kind}'", "kind")
            checked, unusual = self._validated(kind, data, False, actor)
            first.append(self._entry(kind, checked, actor, now, confirmed=unusual))

        def op(tx: Tx) -> dict:
            if not beside_open_rit and tx.db.execute(
                    "SELECT 1 FROM rits WHERE lifecycle NOT IN (?, ?) LIMIT 1", [HANDED_OVER, CANCELLED]).fetchone():
                raise DomainError("er loopt al een rit: rond die eerst af, of vink aan dat de nieuwe rit de actieve "
                                  "rit wordt (de lopende blijft open)", "ook_nieuw", status=409, type="second_rit")
            rit_id = tx.create_rit(self.settings.vehicle_id, first)
            tx.audit_detail = {"entry_ids": [e["entry_id"] for e in first]}
            return {"rit_id": rit_id, "form_sha256": tx.sha(rit_id)}

        made = self._write(op, actor, "rit.create", None, idempotency)
        self._active_rit = made["rit_id"]  # a new rit is the one the crew works on
        return made

    def add_entry(self, rit_id: str, kind: str, data: EntryData, *, actor: Actor,
                  clinical_time: datetime | None = None, confirm: bool = False, nagekomen: bool = False,
                  source: str = "manual", idempotency: IdempotencyKey | None = None,
                  confirm_repeat: bool = False) -> dict[str, Any]:
        """``confirm_repeat``: the crew confirmed giving a drug again within the repeat window."""
        if kind not in CLIENT_KINDS or not isinstance(data, CLIENT_KINDS[kind]):
            raise DomainError(f"onbekende soort invoer '{kind}'", "kind")
        stored, confirmed = self._validated(kind, data, confirm, actor)
        if isinstance(data, TimeData):  # a run time is its own clinical time
            when = self._clinical_time(data.at, "data.at")
        else:
            when = self._clinical_time(clinical_time)
        entry = self._entry(kind, stored, actor, when, source, confirmed, nagekomen)
        check = None
        if kind == "medication" and "not_state" not in stored and not confirm_repeat:
            check = lambda form: self._check_repeat(form, stored["drug"], when)  # noqa: E731
        return self._append(rit_id, [entry], actor, f"entry.add.{kind}", nagekomen, idempotency, check)

    # -- the active rit: live values, position and ETA belong to it alone --------------------
    def open_rit_ids(self) -> list[str]:
        """Rits not yet handed over or cancelled, newest first."""
        return [r["rit_id"] for r in self.store.query(
            "SELECT rit_id FROM rits WHERE lifecycle NOT IN (?, ?) ORDER BY created_at DESC", [HANDED_OVER, CANCELLED])]

    def active_rit_id(self) -> str | None:
        """The rit the crew works on: the one they made active, while it is open; else the newest open one.
        (Kept in memory: after a restart the newest open rit is active again.)"""
        open_ids = self.open_rit_ids()
        if self._active_rit in open_ids:
            return self._active_rit
        return open_ids[0] if open_ids else None

    def activate(self, rit_id: str, *, actor: Actor) -> dict[str, Any]:
        if rit_id not in self.open_rit_ids():
            raise DomainError("alleen een rit die nog loopt kan de actieve rit zijn", status=409, type="lifecycle")
        self._active_rit = rit_id
        log.info("rit %s is the active rit", rit_id)
        return {"rit_id": rit_id, "active": True}

    def _check_active(self, rit_id: str) -> None:
        if rit_id != self.active_rit_id() and self.store.query("SELECT 1 FROM rits WHERE rit_id = ?", [rit_id]):
            raise DomainError("monitorwaarden horen bij de actieve rit; maak deze rit eerst actief", status=409,
                              type="not_active")

    def _check_repeat(self, form: dict[str, Any], drug: str, when: str) -> None:
        """The same drug again within the window is asked, never recorded twice by a stray tap."""
        window = timedelta(minutes=self.settings.medication_repeat_window_min)
        moment = parse_time(when)
        for item in (form.get("medications") or {}).values():
            if item.get("drug") != drug or item.get("corrected_by") or item.get("withdrawn") or "not_state" in item:
                continue
            if abs(moment - parse_time(item["clinical_time"])) <= window:
                label = (self.lists.item("medications", drug) or {}).get("label", drug)
                raise DomainError(f"{label} is al gegeven om {item['clinical_time']}; nogmaals toedienen?", "drug",
                                  type="medication.repeat",
                                  ctx={"given_at": item["clinical_time"], "dose": item.get("dose"),
                                       "unit": item.get("unit"), "drug": drug})

    def _append(self, rit_id: str, entries: list[dict], actor: Actor, action: str, nagekomen: bool,
                idempotency: IdempotencyKey | None, check: Callable[[dict], None] | None = None) -> dict[str, Any]:
        def op(tx: Tx) -> dict:
            self._check_open(tx.form(rit_id), nagekomen)
            if check is not None:
                check(tx.form(rit_id))
            tx.append(rit_id, entries)
            ids = [e["entry_id"] for e in entries]
            tx.audit_detail = {"entry_ids": ids}
            return {"rit_id": rit_id, "entry_ids": ids, "form_sha256": tx.sha(rit_id)}

        return self._write(op, actor, action, rit_id, idempotency)

    def set_time(self, rit_id: str, which: str, at: datetime, *, actor: Actor,
                 idempotency: IdempotencyKey | None = None, nagekomen: bool = False) -> dict[str, Any]:
        return self.add_entry(rit_id, "time", TimeData(which=which, at=at), actor=actor, nagekomen=nagekomen,
                              idempotency=idempotency)

    def add_vitals(self, rit_id: str, values: dict[str, float | str], *, actor: Actor,
                   clinical_time: datetime | None = None, confirm: bool = False, nagekomen: bool = False,
                   source: str = "manual", idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        """A set of vital signs measured together: one entry per parameter, same clinical time.

        Errors name the parameter (``loc: ["body", "heart_rate"]``).
        """
        if not values:
            raise DomainError("geef minstens één vitale parameter", "values")
        errors, numbers = [], []
        for name, value in values.items():
            if name not in VITALS:
                errors.append(DomainError(f"onbekende parameter '{name}'", name))
            elif isinstance(value, str):
                if value not in NOT_STATES:
                    errors.append(DomainError(f"'{value}' is geen getal of niet-status", name))
            else:
                numbers.append((name, name, LIMITS[name], float(value)))
        sys_, dia = values.get("bp_systolic"), values.get("bp_diastolic")
        if isinstance(sys_, int | float) and isinstance(dia, int | float) and dia >= sys_:
            errors.append(DomainError("diastolische bloeddruk moet lager zijn dan de systolische", "bp_diastolic",
                                      type="plausibility.impossible"))
        raise_all(errors)
        confirmed = set(check_all(numbers, confirm))
        when = self._clinical_time(clinical_time)
        entries = []
        for name, value in values.items():
            data = {"parameter": name, "not_state" if isinstance(value, str) else "value": value}
            entries.append(self._entry("vital", _vital_data(name, data), actor, when, source,
                                       [name] if name in confirmed else [], nagekomen))
        result = self._append(rit_id, entries, actor, "vitals.add", nagekomen, idempotency)
        return {**result, "by_parameter": dict(zip(values, result["entry_ids"], strict=True))}

    def accept_nibp(self, rit_id: str, proposal_id: str, *, actor: Actor, confirm: bool = False,
                    idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        """Take one proposed NIBP measurement into the form, timed when it was measured."""
        self._check_active(rit_id)
        proposal = next((p for p in self.live.nibp_proposals() if p["id"] == proposal_id), None)
        if proposal is None:
            raise DomainError("deze NIBP-meting wordt niet meer aangeboden", "proposal_id", status=404)
        entries, numbers = [], []
        for code_text, value in sorted(proposal["values"].items()):
            known = VITAL_BY_MDC[int(code_text)]
            numbers.append((f"nibp.{known.name}", known.name, LIMITS[known.name], value))
            entries.append(self._entry("vital", _vital_data(known.name, {"value": value}), actor,
                                       proposal["measured_at"], f"device:{proposal['device_id']}"))

        def op(tx: Tx) -> dict:
            self._check_open(tx.form(rit_id), False)
            confirmed = set(check_all(numbers, confirm))
            for entry in entries:
                entry["confirmed_unusual"] = [entry["data"]["parameter"]] if entry["data"]["parameter"] in confirmed else []
            tx.append(rit_id, entries)
            tx.audit_detail = {"entry_ids": [e["entry_id"] for e in entries], "proposal": proposal_id}
            return {"rit_id": rit_id, "accepted": entries, "form_sha256": tx.sha(rit_id)}

        return self._write(op, actor, "vitals.accept_nibp", rit_id, idempotency)

    def accept_vitals(self, rit_id: str, *, actor: Actor, codes: list[int] | None = None,
                      confirm: bool = False, idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        """Take the latest fresh monitor values into the form, as device-sourced entries."""
        self._check_active(rit_id)
        values = self.live.fresh(self.settings.vitals_max_age_s)
        if codes is not None:
            values = [v for v in values if v.code in codes]
        converted = {v.code: in_form_unit(v.value, v.unit, VITAL_BY_MDC[v.code].unit)
                     for v in values if v.code in VITAL_BY_MDC and v.value is not None}
        values = [v for v in values if v.code not in converted or converted[v.code] is not None]
        numbers = [(f"device.{VITAL_BY_MDC[v.code].name}", VITAL_BY_MDC[v.code].name,
                    LIMITS[VITAL_BY_MDC[v.code].name], converted[v.code]) for v in values if v.code in converted]
        entries = []
        for v in values:
            known = VITAL_BY_MDC.get(v.code)
            data = {"code": v.code, "label": v.label, "value": v.value, "unit": v.unit}
            if known is not None:
                data = _vital_data(known.name, {"value": converted.get(v.code, v.value)})
            entries.append(self._entry("vital", data, actor, v.received_at, f"device:{v.device_id}"))

        def op(tx: Tx) -> dict:
            self._check_open(tx.form(rit_id), False)  # 404 before 409
            if not entries:
                raise DomainError("geen actuele monitorwaarden om over te nemen", status=409)
            confirmed = set(check_all(numbers, confirm))
            for entry in entries:
                name = entry["data"].get("parameter")
                entry["confirmed_unusual"] = [name] if name in confirmed else []
            tx.append(rit_id, entries)
            tx.audit_detail = {"entry_ids": [e["entry_id"] for e in entries]}
            return {"rit_id": rit_id, "accepted": entries, "form_sha256": tx.sha(rit_id)}

        return self._write(op, actor, "vitals.accept", rit_id, idempotency)

    def correct_entry(self, rit_id: str, entry_id: str, *, actor: Actor, reason: str,
                      data: dict[str, Any] | None = None, withdraw: bool = False,
                      clinical_time: datetime | None = None, confirm: bool = False, nagekomen: bool = False,
                      idempotency: IdempotencyKey | None = None, reason_field: str = "reason") -> dict[str, Any]:
        """Append an entry that replaces ``entry_id``; the old one stays, marked corrected.
        ``reason_field``: the name a refused reason is reported under (the caller's form field)."""
        if not reason.strip():
            raise DomainError("geef de reden van de correctie", reason_field)
        if len(reason) > 500:
            raise DomainError("reden is te lang (hoogstens 500 tekens)", reason_field)
        if withdraw == (data is not None):
            raise DomainError("geef nieuwe data of withdraw: true (niet beide)", "data")

        def op(tx: Tx) -> dict:
            old = tx.entry(rit_id, entry_id)
            if old is None:
                tx.row(rit_id)  # 404 for an unknown rit first
                raise DomainError("te corrigeren invoer bestaat niet in deze rit", status=404)
            kind = old["kind"]
            if kind not in CLIENT_KINDS:
                raise DomainError("deze invoer volgt uit de rit-status en is niet te corrigeren", status=409)
            self._check_open(tx.form(rit_id), nagekomen)
            stored, confirmed = {}, []
            if data is not None:
                stored, confirmed = self._validated(kind, parse_data(kind, data), confirm, actor)
                if kind == "vital" and stored.get("parameter") != old["data"].get("parameter"):
                    raise DomainError("een correctie houdt dezelfde parameter; trek de invoer anders in",
                                      "data.parameter")
            when = (stored.get("at") if kind == "time" and stored else None) or (
                self._clinical_time(clinical_time) if clinical_time else old["clinical_time"])
            entry = self._entry(kind, stored, actor, when, "manual", confirmed, nagekomen,
                                replaces=entry_id, reason=reason.strip(), withdrawn=withdraw)
            tx.append(rit_id, [entry])
            tx.audit_detail = {"entry_ids": [entry["entry_id"]], "replaces": entry_id}
            return {"rit_id": rit_id, "entry_ids": [entry["entry_id"]], "replaces": entry_id,
                    "form_sha256": tx.sha(rit_id)}

        return self._write(op, actor, "entry.correct", rit_id, idempotency)

    # -- lifecycle --------------------------------------------------------------------------
    def announce(self, rit_id: str, *, actor: Actor, idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        def op(tx: Tx) -> dict:
            self._position_for_announce(tx, rit_id)
            return lifecycle.announce(tx, rit_id, self._now_entry(actor))

        return self._write(op, actor, "rit.announce", rit_id, idempotency)

    def _position_for_announce(self, tx: Tx, rit_id: str) -> None:
        """The vooraankondiging carries where the vehicle is and its ETA (when the GPS knows)."""
        form = tx.form(rit_id)
        if self.position is None or form["status"] != CONCEPT:
            return  # no GPS; or lifecycle.announce refuses it anyway
        found = self.position.position_entry(form["destination_seh"])
        if found is not None:
            data, at = found
            tx.append(rit_id, [self._entry("vehicle_position", data, audit.SYSTEM, utc_iso(at), "device:gps")],
                      notify=False)

    def record_vehicle_position(self, rit_id: str, data: dict[str, Any], at: datetime) -> dict[str, Any]:
        """A new position and ETA into an announced rit's form (the GPS runtime decides when:
        every form change is a message to the SEH). Nothing is written for another status."""
        entry = self._entry("vehicle_position", data, audit.SYSTEM, utc_iso(at), "device:gps")

        def op(tx: Tx) -> dict:
            if tx.form(rit_id)["status"] not in ACTIVE_STATUSES:
                return {"rit_id": rit_id, "written": False}
            tx.append(rit_id, [entry])
            tx.audit_detail = {"entry_ids": [entry["entry_id"]]}
            return {"rit_id": rit_id, "written": True, "entry_ids": [entry["entry_id"]],
                    "form_sha256": tx.sha(rit_id)}

        return self._write(op, audit.SYSTEM, "rit.vehicle_position", rit_id, None)

    def overdracht(self, rit_id: str, *, actor: Actor, onvolledig: bool = False,
                   idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        return self._write(lambda tx: lifecycle.overdracht(tx, rit_id, self._now_entry(actor), onvolledig),
                           actor, "rit.overdracht", rit_id, idempotency)

    def cancel(self, rit_id: str, reason: str, *, actor: Actor, text: str | None = None,
               idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        self.lists.check("cancel_reasons", reason, "reason")
        return self._write(lambda tx: lifecycle.cancel(tx, rit_id, self._now_entry(actor), reason, text),
                           actor, "rit.cancel", rit_id, idempotency)

    def change_destination(self, rit_id: str, seh_id: str, *, actor: Actor, reason: str | None = None,
                           idempotency: IdempotencyKey | None = None,
                           seh_stop_reason: str | None = None) -> dict[str, Any]:
        if self.settings.seh(seh_id) is None:
            raise DomainError(f"onbekende SEH '{seh_id}'", "seh_id")
        if reason is not None and len(reason) > 200:
            raise DomainError("reden is te lang (hoogstens 200 tekens)", "reason")
        stop = self._seh_stop_reason(seh_id, seh_stop_reason)
        return self._write(lambda tx: lifecycle.change_destination(tx, rit_id, self._now_entry(actor), seh_id, reason,
                                                                   stop), actor, "rit.destination", rit_id, idempotency)

    # -- SEH-status (edge/sync/seh_status_inbox.py) ----------------------------------------
    def destination_choices(self) -> list[dict[str, Any]]:
        """Each configured SEH with its status in words, the age of that status and the ETA."""
        etas = (self.position.status().get("eta") or {}) if self.position is not None else {}
        return seh_status_inbox.choices(self.sehs(), seh_status_inbox.known(self.store), etas,
                                        self.settings.seh_status_stale_minutes * 60)

    def _seh_stop_reason(self, seh_id: str, reason: str | None) -> str | None:
        """The crew's reason to go to an SEH under SEH-stop: required then, dropped otherwise."""
        choice = next((c for c in self.destination_choices() if c["id"] == seh_id), None)
        if choice is None or choice["state"] != "seh-stop":
            return None
        reason = (reason or "").strip()
        if not reason:
            raise DomainError(f"{choice['name']} heeft een SEH-stop: geef de reden om er toch heen te gaan",
                              "seh_stop_reason")
        if len(reason) > 200:
            raise DomainError("reden is te lang (hoogstens 200 tekens)", "seh_stop_reason")
        return reason

    def _now_entry(self, actor: Actor) -> Callable[..., dict[str, Any]]:
        """A factory for the service's own entries (lifecycle, times), all at this moment."""
        now = utc_iso(datetime.now(UTC))
        return lambda kind, data: self._entry(kind, data, actor, now)

    # -- reading (every read of a rit is on the access log) --------------------------------
    def _read(self, fn: Callable[[Tx], dict], actor: Actor, action: str, rit_id: str | None) -> dict[str, Any]:
        try:
            return self.store.transact(fn, actor, action, rit_id)
        except StoreFullError:
            log.error("store full: access log entry for %s of rit %s could not be written", action, rit_id)
            return self.store.read_unlogged(fn)

    def rit_view(self, rit_id: str, *, actor: Actor, audit: bool = True) -> dict[str, Any]:
        """One rit as the crew sees it. ``audit=False`` is for a refresh of what is already on
        screen (the page header polls every second): the opening of the view is on the access
        log, its refreshes are not (docs/form.md, "Access log"), and a refresh writes nothing."""
        if not audit:
            return self.store.read_unlogged(lambda tx: self._view(tx, rit_id))
        return self._read(lambda tx: self._view(tx, rit_id), actor, "rit.read", rit_id)

    def _view(self, tx: Tx, rit_id: str) -> dict[str, Any]:
        form, sha = tx.form_copy(rit_id)
        online = self.broker_connected()
        messages = []
        for m in self.store.messages(rit_id):
            state = "queued" if m["state"] == "saved" and not online else m["state"]
            messages.append({**m, "state": state})
        return {"rit_id": rit_id, "lifecycle": form["status"], "form": form, "form_sha256": sha,
                "messages": messages, "warnings": self._receipt_warnings(form, messages),
                "feedback": self.store.feedback_for(rit_id)}

    def _receipt_warnings(self, form: dict[str, Any], messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The amber banner: receipts overdue per SEH, unless the crew phoned since."""
        urgency = form.get("melding", {}).get("urgency", "A1")
        phoned: dict[str, datetime] = {}
        for item in form.get("seh_called", {}).values():
            at = parse_time(item["clinical_time"])
            phoned[item["seh_id"]] = max(at, phoned.get(item["seh_id"], at))
        sehs = {s.id: s for s in self.settings.sehs}
        return receipt_warnings(messages, self.settings.timeouts_for(urgency), datetime.now(UTC), sehs, phoned)

    def seh_called(self, rit_id: str, seh_id: str, warning: str, *, actor: Actor,
                   idempotency: IdempotencyKey | None = None) -> dict[str, Any]:
        """Record in the form that the crew phoned the SEH about a missing receipt."""
        if warning not in ("delivered", "read"):
            raise DomainError("warning moet 'delivered' of 'read' zijn", "warning")
        if self.settings.seh(seh_id) is None:
            raise DomainError(f"onbekende SEH '{seh_id}'", "seh_id")
        entry = self._now_entry(actor)("seh_called", {"seh_id": seh_id, "warning": warning})

        def op(tx: Tx) -> dict:
            tx.append(rit_id, [entry])
            tx.audit_detail = {"entry_ids": [entry["entry_id"]], "seh_id": seh_id}
            return {"rit_id": rit_id, "entry_ids": [entry["entry_id"]], "form_sha256": tx.sha(rit_id)}

        return self._write(op, actor, "rit.seh_called", rit_id, idempotency)

    def rits(self, *, actor: Actor) -> list[dict[str, Any]]:
        def op(tx: Tx) -> dict:
            views = []
            for rit_id in self.store.rit_ids():
                views.append(self._view(tx, rit_id))
                audit.append(tx.db, actor, rit_id, "rit.read", {"via": "list"})
            tx.audit_detail = {"count": len(views)}
            return {"rits": views}

        return self._read(op, actor, "rit.list", None)["rits"]

    def entries(self, rit_id: str, *, actor: Actor) -> list[dict[str, Any]]:
        def op(tx: Tx) -> dict:
            tx.row(rit_id)
            return {"entries": self.store.entries(rit_id)}

        return self._read(op, actor, "entries.read", rit_id)["entries"]

    def overdracht_missing(self, rit_id: str, *, actor: Actor) -> dict[str, Any]:
        def op(tx: Tx) -> dict:
            form, _ = tx.form_copy(rit_id)
            return {"rit_id": rit_id, "status": form["status"], "missing": missing_for_overdracht(form)}

        return self._read(op, actor, "overdracht.missing", rit_id)

    def access_log(self, rit_id: str, *, actor: Actor) -> list[dict[str, Any]]:
        def op(tx: Tx) -> dict:
            tx.row(rit_id)
            return {"log": audit.entries(tx.db, rit_id)}

        return self._read(op, actor, "audit.read", rit_id)["log"]

    # -- retention --------------------------------------------------------------------------
    def purge_expired(self, now: datetime | None = None) -> list[str]:
        """Purge every finished rit past its retention; returns the purged rit ids."""
        with self.store.lock:
            expired = retention.expired_rits(self.store.db, self.settings.retention_hours, now)
        purged = []
        for rit_id in expired:
            def op(tx: Tx, rit_id: str = rit_id) -> dict:
                if rit_id not in retention.expired_rits(tx.db, self.settings.retention_hours, now):
                    return {"purged": False}  # changed since the scan
                tx.audit_detail = retention.purge(tx.db, rit_id)
                return {"purged": True}

            if self.store.transact(op, audit.SYSTEM, "rit.purge", rit_id)["purged"]:
                self.store.forget_cached(rit_id)
                purged.append(rit_id)
        return purged

    # -- reference data ---------------------------------------------------------------------
    def sehs(self) -> list[dict[str, str]]:
        return [s.model_dump() for s in self.settings.sehs]

    def value_lists(self) -> dict[str, list[dict[str, Any]]]:
        return self.lists.as_dict()

    def health(self) -> dict[str, Any]:
        sync = self.sync_health()
        return {
            "status": "failing" if "dead" in (sync.get("mqtt_thread"), sync.get("sender_thread")) else "ok",
            "vehicle_id": self.settings.vehicle_id,
            "broker": "connected" if self.broker_connected() else "disconnected",
            "mqtt_thread": sync.get("mqtt_thread"),
            "dead_letters": sync.get("dead_letters", 0),
            "devices": {**self.live.device_states(),
                        **(self.position.device_states() if self.position is not None else {})},
            "outbox_depth": self.store.outbox_depth(),
        }


def _vital_data(name: str, data: dict[str, Any]) -> dict[str, Any]:
    """A vital's stored data: the parameter with its MDC code (or LOINC), label and UCUM unit."""
    vital = VITALS[name]
    out = {"parameter": name, "label": vital.label, "unit": vital.unit, **data}
    if vital.mdc is not None:
        out["code"] = vital.mdc
    elif vital.loinc:
        out["loinc"] = vital.loinc
    return out

