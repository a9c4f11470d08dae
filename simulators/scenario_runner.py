"""``ritlink sim scenario``: play one scenario file against a private stack (or a running one).

The runner expands the file into one list of timed events (crew actions, link faults, SEH
behaviour, clinical notes), starts the devices on the scenario clock, and then loops: do
what is due, take a snapshot of what the tablet and the SEH show, note what changed in the
timeline, and let every expectation look at the snapshot. The report lists each
expectation (met at what time, or missed with what was seen), the timeline, and ends with
exit code 0 (all met, every action accepted) or 1.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from devices import observation as mdc
from simulators.scenario_devices import (
    Faults,
    GpsPlayer,
    MonitorPlayer,
    ScenarioClock,
    arrival_at_seh,
    load_course,
    load_vehicle_route,
)
from simulators.scenario_expect import Snapshot, Verdict, name_of
from simulators.scenario_file import ScenarioFile
from simulators.scenario_report import Report
from simulators.scenario_stack import (
    SEH_ID,
    ActionError,
    PrivateStack,
    RunningStack,
    SehDesk,
    SehPlace,
    StackError,
    Tablet,
)
from simulators.scenario_wire import WireWatch

log = logging.getLogger("ritlink.scenario")

MDC_BY_NAME = {"hr": mdc.MDC_HEART_RATE, "pr": mdc.MDC_PULSE_RATE, "spo2": mdc.MDC_SPO2, "rr": mdc.MDC_RESP_RATE,
               "etco2": mdc.MDC_ETCO2, "temp": mdc.MDC_TEMP}
POLL_S = 0.2  # real seconds between snapshots
READY_TIMEOUT_S = 20.0


@dataclass(order=True)
class Event:
    at: float
    order: int
    what: str = field(compare=False)
    run: Callable[[], str | None] = field(compare=False)  # returns a timeline line (or None)


class ScenarioRun:
    def __init__(self, scenario: ScenarioFile, base: Path, speed: float | None = None,
                 running: RunningStack | None = None, data_dir: Path | None = None,
                 stop: threading.Event | None = None, out: Callable[[str], None] = print):
        self.scenario, self.base = scenario, base
        self.clock = ScenarioClock(speed or scenario.scenario.speed)
        self.stop = stop or threading.Event()
        self.out = out
        self.report = Report(scenario.scenario.name, self.clock.speed)
        self.rit_ids: dict[str, str] = {}
        self.rit_seh: dict[str, str] = {}
        self.events: list[Event] = []
        self.context: dict = {"seh_id": SEH_ID}
        self.verdicts = [Verdict(e, name_of(e), e.deadline if e.deadline is not None else scenario.scenario.duration_s)
                         for e in scenario.expect]
        self.stack = running or self._private_stack(data_dir)
        self.tablet: Tablet | None = None
        self.desk: SehDesk | None = None
        self.wire: WireWatch | None = None
        self._threads: list[threading.Thread] = []
        self._seh_seen: set[str] = set()

    # -- set-up ------------------------------------------------------------------------------
    def _private_stack(self, data_dir: Path | None) -> PrivateStack:
        s = self.scenario
        place = SehPlace()
        if s.vehicle is not None and s.vehicle.route:
            route = load_vehicle_route(s.vehicle, self.base)
            if route.seh is not None:
                place = SehPlace(route.seh.lat, route.seh.lon, route.seh_radius_m)
            self.context["arrival_s"] = arrival_at_seh(route, s.vehicle)
        timeouts = (self.clock.real_s(s.tablet.delivered_timeout_s), self.clock.real_s(s.tablet.read_timeout_s))
        return PrivateStack.create(data_dir, monitor_protocol=s.patient.protocol if s.patient else "nonin",
                                   seh_place=place, timeouts=timeouts, with_gps=s.vehicle is not None)

    def note(self, source: str, text: str) -> None:
        self.report.add(self.clock.now(), source, text)

    def _schedule(self, at: float, what: str, run: Callable[[], str | None]) -> None:
        self.events.append(Event(at, len(self.events), what, run))

    def _plan(self) -> None:
        s = self.scenario
        for action in s.crew:
            self._schedule(action.at, f"crew {action.action}", lambda a=action: self._crew(a))
        control = self.stack.controllable
        for link in s.link:
            if control:
                self._schedule(link.at, f"link {link.action}", lambda e=link: self._link(e, True))
                self._schedule(link.at + link.for_s, "link up", lambda e=link: self._link(e, False))
            else:
                self.report.skip(f"link {link.action} op {link.at:g} s (de draaiende stack heeft geen link-cutter)")
        for down in s.seh.down:
            if control:
                self._schedule(down.from_s, "SEH uit", lambda: (self.stack.seh_down(), "SEH-ontvanger gestopt")[1])
                self._schedule(down.to_s, "SEH aan", lambda: (self.stack.seh_up(), "SEH-ontvanger gestart")[1])
            else:
                self.report.skip(f"SEH uit {down.from_s:g}-{down.to_s:g} s (niet bij een draaiende stack)")
        for feedback in s.seh.feedback:
            self._schedule(feedback.at, "SEH terugkoppeling", lambda f=feedback: self._feedback(f))
        if s.patient is not None:
            for key in s.patient.keyframes:
                if key.event:
                    self._schedule(key.t, "patient", lambda k=key: f"patiënt: {k.event}")
            for fault in s.patient.faults:
                self._schedule(fault.at, "monitor", lambda f=fault: f"monitor: {f.fault} ({f.for_s:g} s)")
        if s.vehicle is not None:
            for fault in s.vehicle.faults:
                self._schedule(fault.at, "gps", lambda f=fault: f"GPS: {f.fault} ({f.for_s:g} s)")
        self.events.sort()

    def _start_devices(self) -> None:
        s = self.scenario
        if not self.stack.controllable:
            for part in ("patient", "vehicle"):
                if getattr(s, part) is not None:
                    self.report.skip(f"{part}: de draaiende stack heeft eigen simulatoren")
            return
        if s.patient is not None:
            player = MonitorPlayer(self.stack.monitor_device, s.patient.protocol, load_course(s.patient, self.base),
                                   Faults(self.clock, s.patient.faults), self.clock, self.note)
            self._thread(player.run, "scenario-monitor")
        if s.vehicle is not None:
            player = GpsPlayer(self.stack.gps_device, s.vehicle, self.base, Faults(self.clock, s.vehicle.faults),
                               self.clock, self.note)
            self._thread(player.run, "scenario-gps")

    def _thread(self, target, name: str) -> None:
        def guarded(stop: threading.Event) -> None:
            try:
                target(stop)
            except Exception as exc:  # a dead simulator makes the whole run meaningless: say so
                log.exception("%s stopped", name)
                self.report.failed_action(self.clock.now(), name, f"{type(exc).__name__}: {exc}")

        thread = threading.Thread(target=guarded, args=(self.stop,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _wait_ready(self) -> None:
        """The tablet is connected to the broker (and its devices talk) before the clock starts."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        wanted = {"monitor"} if self.scenario.patient and self.stack.controllable else set()
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                health = self.tablet.get("/-/health")
            except (httpx.HTTPError, ActionError):
                health = {}
            devices = health.get("devices") or {}
            if health.get("broker") == "connected" and all(devices.get(d) == "connected" for d in wanted):
                return
            self.stop.wait(0.2)
        if not self.stop.is_set():
            raise StackError("the tablet did not connect to the broker (and its monitor) in time")

    # -- actions -----------------------------------------------------------------------------
    def _rit(self, label: str) -> str:
        if label not in self.rit_ids:
            raise ActionError(f"rit '{label}' is not started")
        return self.rit_ids[label]

    def _crew(self, a) -> str:
        tablet = self.tablet
        if a.action == "start_rit":
            self.rit_ids[a.rit] = tablet.start_rit(a.seh, a.urgency, a.reason)
            self.rit_seh[a.rit] = a.seh
            if a.location is not None:  # the address from dispatch, as the crew types it into the melding
                tablet.post(f"/rits/{self.rit_ids[a.rit]}/entries",
                            {"kind": "melding", "data": {"location": a.location.model_dump(exclude_none=True)}},
                            "meldingsadres")
            return f"bemanning: nieuwe rit '{a.rit}' ({a.urgency}, {a.seh}) {self.rit_ids[a.rit][:8]}"
        rit_id = self._rit(a.rit)
        path = f"/rits/{rit_id}"
        if a.action == "accept_vitals":
            body = {"confirm": a.confirm}
            if a.parameters is not None:
                body["codes"] = [MDC_BY_NAME[name] for name in a.parameters]
            accepted = tablet.post(path + "/vitals/accept", body, "vitals overnemen")["accepted"]
            return f"bemanning: {len(accepted)} monitorwaarden overgenomen"
        if a.action == "accept_nibp":
            proposals = tablet.get("/api/v1/vitals/nibp")
            if not proposals:
                raise ActionError("geen NIBP-meting om over te nemen")
            tablet.post(f"{path}/vitals/nibp/{proposals[0]['id']}/accept", {"confirm": a.confirm}, "NIBP overnemen")
            return "bemanning: NIBP overgenomen"
        if a.action == "entry":
            tablet.post(path + "/entries", {"kind": a.kind, "data": a.data, "confirm": a.confirm,
                                            "confirm_repeat": a.confirm}, f"invoer {a.kind}")
            return f"bemanning: invoer {a.kind}"
        if a.action == "vitals":
            tablet.post(path + "/vitals", {**a.values, "confirm": a.confirm}, "vitale parameters")
            return f"bemanning: vitale parameters ({len(a.values)})"
        if a.action == "announce":
            tablet.post(path + "/announce", None, "vooraankondigen")
            return "bemanning: vooraankondiging"
        if a.action == "overdracht":
            tablet.post(path + "/overdracht", {"onvolledig": a.onvolledig}, "overdracht")
            return "bemanning: overdracht"
        if a.action == "cancel":
            tablet.post(path + "/cancel", {"reason": a.reason, "text": a.text}, "annuleren")
            return f"bemanning: rit geannuleerd ({a.reason})"
        if a.action == "seh_called":
            tablet.post(path + "/seh-called", {"seh_id": self.rit_seh[a.rit], "warning": a.warning}, "SEH gebeld")
            return "bemanning: SEH gebeld"
        which = "aankomst_seh" if a.action == "confirm_arrival" else "ter_plaatse"
        open_ones = [p for p in tablet.get(f"/api/v1{path}/proposals") if p["kind"] == which and p["state"] == "open"]
        if not open_ones:
            raise ActionError(f"geen voorstel {which} van de GPS")
        tablet.post(f"{path}/proposals/{open_ones[0]['id']}/confirm", None, f"{which} bevestigen")
        return f"bemanning: {which} bevestigd"

    def _link(self, event, begin: bool) -> str:
        cutter = self.stack.cutter
        if not begin:
            cutter.delay_ms = cutter.throttle_bps = 0
            cutter.restore()
            return "link: hersteld"
        if event.action == "cut":
            cutter.cut()
        elif event.action == "blackhole":
            cutter.blackhole()
        elif event.action == "delay":
            cutter.delay_ms = event.delay_ms
        else:
            cutter.throttle_bps = event.bytes_per_s
        return f"link: {event.action} ({event.for_s:g} s)"

    def _feedback(self, f) -> str:
        self.desk.feedback(self._rit(f.rit), f.diagnosis, f.disposition, f.remarks)
        return "SEH: terugkoppeling verstuurd"

    def _read(self, label: str) -> str:
        self.desk.open_rit(self._rit(label))
        return f"SEH: verpleegkundige opent rit '{label}'"

    # -- watching ----------------------------------------------------------------------------
    def _get(self, fetch, default=None):
        try:
            return fetch()
        except (httpx.HTTPError, ActionError, KeyError, ValueError):
            return default

    def snapshot(self) -> Snapshot:
        snap = Snapshot(self.clock.now())
        open_needs = set().union(*(v.needs for v in self.verdicts if v.met is None)) if self.verdicts else set()
        snap.health = self._get(lambda: self.tablet.get("/-/health"))
        snap.alarms = self._get(lambda: self.tablet.get("/api/v1/vitals/live")["alarms"], [])
        for label, rit_id in self.rit_ids.items():
            snap.rits[label] = self._get(lambda: self.tablet.get(f"/api/v1/rits/{rit_id}"))
            snap.seh[label] = self._get(lambda: self.desk.rit(rit_id))
            if "header" in open_needs:
                snap.headers[label] = self._get(lambda: self.tablet.header_words(rit_id))
            if "entries" in open_needs:
                snap.entries[label] = self._get(lambda: self.tablet.get(f"/api/v1/rits/{rit_id}/entries"))
            if "proposals" in open_needs:
                snap.proposals[label] = self._get(lambda: self.tablet.get(f"/api/v1/rits/{rit_id}/proposals"), [])
        if "position" in open_needs:
            snap.position = self._get(lambda: self.tablet.get("/api/v1/position"))
        # Stamped when complete: what it shows was true by then (never earlier than a cause).
        snap.t = self.clock.now()
        return snap

    def _seh_reads(self, snap: Snapshot) -> None:
        """The SEH opens each rit ``read_after_s`` after its vooraankondiging arrived."""
        after = self.scenario.seh.read_after_s
        for label, row in snap.seh.items():
            if row is not None and label not in self._seh_seen:
                self._seh_seen.add(label)
                if after is not None and not self.scenario.seh.never_reads:
                    self._schedule(snap.t + after, "SEH leest", lambda l=label: self._read(l))
                    self.events.sort()

    def _do_due(self) -> None:
        while self.events and self.events[0].at <= self.clock.now():
            event = self.events.pop(0)
            try:
                line = event.run()
            except (ActionError, httpx.HTTPError, StackError) as exc:
                self.report.failed_action(self.clock.now(), event.what, str(exc))
                self.note("fout", f"{event.what} mislukt: {exc}")
                continue
            if line:
                self.note(event.what.split()[0], line)

    def _settled(self) -> bool:
        return all(v.met is not None for v in self.verdicts) and not any(
            e.what.startswith(("crew", "SEH", "link")) for e in self.events)

    # -- the run -----------------------------------------------------------------------------
    def run(self) -> int:
        try:
            self.out(f"scenario '{self.scenario.scenario.name}', snelheid {self.clock.speed:g}x: stack starten ...")
            self.stack.start()
            self.out(f"tablet {self.stack.edge_url}  SEH {self.stack.seh_url}"
                     + (f"  data {self.stack.data_dir}" if self.stack.data_dir else ""))
            self.tablet = Tablet(self.stack.edge_url)
            self.tablet.sign_in()
            self.desk = SehDesk(self.stack.seh_url)
            if self.stack.broker_address is not None:
                self.wire = WireWatch(*self.stack.broker_address, self.note).start()
            self._plan()
            self._start_devices()
            self._wait_ready()
            self.clock.start()
            self.report.started()
            self._loop()
        except (StackError, ActionError) as exc:
            self.report.aborted(str(exc))
        finally:
            self.stop.set()
            for thread in self._threads:
                thread.join(3)
            for verdict in self.verdicts:
                verdict.close()
            if self.wire is not None:
                self.report.wire = self.wire.summary()
                self.wire.stop()
            for client in (self.tablet, self.desk):
                if client is not None:
                    client.close()
            self.stack.stop()
        self.report.verdicts = self.verdicts
        return self.report.exit_code()

    def _loop(self) -> None:
        previous: Snapshot | None = None
        # The timeline ends at duration_s, but an expectation may be given longer to come true.
        end = max([self.scenario.scenario.duration_s, *(v.deadline for v in self.verdicts)])
        while not self.stop.is_set():
            self._do_due()
            snap = self.snapshot()
            self.report.changes(previous, snap, self.rit_ids)
            previous = snap
            self._seh_reads(snap)
            for verdict in self.verdicts:
                was = verdict.met
                verdict.observe(snap, self.context)
                if verdict.met is not None and was is None:
                    self.note("verwacht", f"{'GEHAALD' if verdict.met else 'GEMIST'}: {verdict.name}")
            if snap.t >= end or self._settled():
                break
            next_event = self.events[0].at if self.events else end
            wait = min(POLL_S, max(0.0, self.clock.real_s(next_event - self.clock.now())))
            self.stop.wait(wait)
        if self.stop.is_set() and (previous is None or previous.t < end) and not self._settled():
            self.report.aborted("onderbroken (Ctrl-C)")
