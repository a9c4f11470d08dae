"""The scenario file of ``ritlink sim scenario``: one timeline for a whole ambulance run.

A TOML file with one section per actor (vehicle, patient, link, SEH, crew) and the
expectations, all timed in scenario seconds from the start. The pydantic models below are
the single source of the format: they validate a file (errors name the key) and give the
JSON Schema printed in docs/scenarios.md (``ritlink sim scenario --schema``).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

SCENARIOS_DIR = Path(__file__).resolve().parent / "scenarios"
MONITOR_PROTOCOLS = ("nonin", "masimo", "ansarb")
MESSAGE_STATES = ("sent", "delivered", "read")
MONITOR_PARAMETERS = ("hr", "pr", "spo2", "rr", "etco2", "temp")
SEH_STATUSES = ("aangekondigd", "update", "overdracht", "geannuleerd")


class ScenarioFileError(ValueError):
    """A scenario file that cannot be played, worded as one line naming the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Meta(_Strict):
    name: str = Field(min_length=1, description="shown at the top of the report")
    description: str = ""
    duration_s: float = Field(gt=0, description="end of the timeline in scenario seconds")
    speed: float = Field(default=1.0, gt=0, le=200, description="scenario seconds per real second (--speed overrides)")


class Timed(_Strict):
    at: float = Field(ge=0, description="scenario seconds from the start")


class Lasting(Timed):
    for_s: float = Field(gt=0, description="how long the fault lasts (scenario seconds)")


class GpsFault(Lasting):
    fault: Literal["no_fix", "unplug", "garbage"]


class Vehicle(_Strict):
    route: str | None = Field(default=None, description="shipped route (utrecht-city, rural) or a route file")
    replay: str | None = Field(default=None, description="an NMEA capture to replay instead of a route")
    from_s: float = Field(default=0, ge=0, description="start the drive this many route seconds in (skip what went before)")
    seed: int = 1
    faults: list[GpsFault] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_source(self):
        if (self.route is None) == (self.replay is None):
            raise ValueError("give exactly one of route or replay")
        return self


class Keyframe(_Strict):
    t: float = Field(ge=0, description="scenario seconds; values in between are interpolated")
    hr: float | None = Field(default=None, ge=0, le=350)
    spo2: float | None = Field(default=None, ge=0, le=100)
    rr: float | None = Field(default=None, ge=0, le=120)
    etco2: float | None = Field(default=None, ge=0, le=150)
    temp: float | None = Field(default=None, ge=20, le=45)
    pi: float | None = Field(default=None, ge=0, le=20)
    nibp: str | None = Field(default=None, pattern=r"^(\d{2,3}/\d{2,3}|-)$",
                             description="a completed cuff measurement at t: 'SYS/DIA', or '-' (failed)")
    event: str | None = Field(default=None, max_length=80,
                              description="a clinical event (rhythm change, ROSC ...): shown in the report timeline")


class PatientFault(Lasting):
    fault: Literal["probe_off", "cable_pull", "reboot", "garbage"]


class Patient(_Strict):
    protocol: Literal[MONITOR_PROTOCOLS] = "ansarb"  # type: ignore[valid-type]
    course: str | None = Field(default=None, description="shipped monitor course (stable, hypoxia ...) or a CSV file")
    keyframes: list[Keyframe] = Field(default_factory=list)
    faults: list[PatientFault] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_course(self):
        if (self.course is None) == (not self.keyframes):
            raise ValueError("give exactly one of course or keyframes")
        times = [k.t for k in self.keyframes]
        if times != sorted(set(times)):
            raise ValueError("keyframes: t must increase")
        return self


class LinkEvent(Timed):
    action: Literal["cut", "blackhole", "delay", "throttle"]
    for_s: float = Field(gt=0, description="then the link is restored (delay and throttle back to 0)")
    delay_ms: int | None = Field(default=None, gt=0)
    bytes_per_s: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _amount(self):
        if self.action == "delay" and self.delay_ms is None:
            raise ValueError("delay needs delay_ms")
        if self.action == "throttle" and self.bytes_per_s is None:
            raise ValueError("throttle needs bytes_per_s")
        return self


class SehDown(_Strict):
    from_s: float = Field(ge=0)
    to_s: float = Field(gt=0)


class SehFeedback(Timed):
    rit: str = "rit"
    diagnosis: str = Field(min_length=1)
    disposition: str = Field(min_length=1, description="e.g. opname, ic, ok, ontslag (seh/feedback.py)")
    remarks: str = ""


class Seh(_Strict):
    read_after_s: float | None = Field(default=None, ge=0,
                                       description="a nurse opens the rit this long after its vooraankondiging arrived")
    never_reads: bool = False
    down: list[SehDown] = Field(default_factory=list)
    feedback: list[SehFeedback] = Field(default_factory=list)

    @model_validator(mode="after")
    def _reads(self):
        if self.never_reads and self.read_after_s is not None:
            raise ValueError("give read_after_s or never_reads, not both")
        return self


class Tablet(_Strict):
    """Product settings of the private tablet service (ignored against a running stack)."""

    delivered_timeout_s: float = Field(default=30, gt=0, description="receipt timeouts, scenario seconds")
    read_timeout_s: float = Field(default=120, gt=0)


class Location(_Strict):
    address: str | None = None
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class _Crew(Timed):
    rit: str = Field(default="rit", description="which rit of the scenario (a label of your choice)")


class StartRit(_Crew):
    action: Literal["start_rit"]
    urgency: Literal["A1", "A2", "B"] = "A1"
    seh: str = "seh-umcu"
    reason: str | None = None
    location: Location | None = Field(default=None, description="the incident (dispatch's address): lets the GPS "
                                                                  "propose ter plaatse")


class AcceptVitals(_Crew):
    action: Literal["accept_vitals", "accept_nibp"]
    confirm: bool = Field(default=True, description="confirm unusual (but possible) values, as the crew does")
    parameters: list[Literal[MONITOR_PARAMETERS]] | None = Field(  # type: ignore[valid-type]
        default=None, description="accept_vitals: only these monitor values (default: every fresh one)")


class Entry(_Crew):
    action: Literal["entry"]
    kind: str = Field(min_length=1, description="an entry kind of the form API (docs/form.md)")
    data: dict[str, Any]
    confirm: bool = True


class Vitals(_Crew):
    action: Literal["vitals"]
    values: dict[str, float | str]
    confirm: bool = True


class Simple(_Crew):
    action: Literal["announce", "confirm_arrival", "confirm_on_scene"]


class Handover(_Crew):
    action: Literal["overdracht"]
    onvolledig: bool = True


class CancelRit(_Crew):
    action: Literal["cancel"]
    reason: str = "niet_vervoerd"
    text: str | None = None


class SehCalled(_Crew):
    action: Literal["seh_called"]
    warning: Literal["delivered", "read"] = "read"


CrewAction = Annotated[Union[StartRit, AcceptVitals, Entry, Vitals, Simple, Handover, CancelRit,  # noqa: UP007
                             SehCalled], Field(discriminator="action")]


class _Expect(_Strict):
    name: str | None = Field(default=None, description="how the report names it (default: generated)")
    rit: str = "rit"
    after: float = Field(default=0, ge=0, description="not before this scenario second")
    by: float | None = Field(default=None, gt=0, description="deadline (scenario s); default: the end")
    within_s: float | None = Field(default=None, gt=0, description="deadline relative to after")

    @model_validator(mode="after")
    def _deadline(self):
        if self.by is not None and self.within_s is not None:
            raise ValueError("give by or within_s, not both")
        if self.by is not None and self.by < self.after:
            raise ValueError("by must not be before after")
        return self

    @property
    def deadline(self) -> float | None:
        return self.after + self.within_s if self.within_s is not None else self.by


class SehHasForm(_Expect):
    what: Literal["seh_has_form"]
    status: Literal[SEH_STATUSES] | None = None  # type: ignore[valid-type]


class MessageState(_Expect):
    what: Literal["message_state"]
    state: Literal[MESSAGE_STATES] = "delivered"  # type: ignore[valid-type]


class Banner(_Expect):
    what: Literal["banner"]
    text: str = Field(min_length=1, description="words on the rit screen's header strip")
    absent: bool = Field(default=False, description="expect the words NOT to be shown from after to the deadline")


class AlarmExpect(_Expect):
    what: Literal["alarm"]
    text: str = Field(min_length=1, description="part of the alarm message, e.g. 'SpO2 te laag'")
    priority: Literal["high", "medium", "low"] | None = None


class DeviceState(_Expect):
    what: Literal["device"]
    device: str = Field(default="monitor", description="monitor or gps")
    state: Literal["connected", "disconnected"] = "connected"


class BrokerState(_Expect):
    what: Literal["broker"]
    state: Literal["connected", "disconnected"] = "connected"


class SehVital(_Expect):
    what: Literal["seh_vital"]
    parameter: str = Field(description="heart_rate, spo2, resp_rate, etco2, bp_systolic ...")
    below: float | None = None
    above: float | None = None

    @model_validator(mode="after")
    def _bound(self):
        if (self.below is None) == (self.above is None):
            raise ValueError("give below or above")
        return self


class EtaExpect(_Expect):
    what: Literal["eta"]
    tolerance_pct: float = Field(default=15, gt=0, le=100)


class NoLoss(_Expect):
    what: Literal["no_loss"]


class Proposal(_Expect):
    what: Literal["proposal"]
    which: Literal["ter_plaatse", "aankomst_seh"] = "aankomst_seh"


class TabletFeedback(_Expect):
    what: Literal["tablet_feedback"]


Expectation = Annotated[Union[SehHasForm, MessageState, Banner, AlarmExpect, DeviceState, BrokerState,  # noqa: UP007
                              SehVital, EtaExpect, NoLoss, Proposal, TabletFeedback], Field(discriminator="what")]


class ScenarioFile(_Strict):
    """A whole run. Every time is in scenario seconds from the start of the run."""

    scenario: Meta
    vehicle: Vehicle | None = None
    patient: Patient | None = None
    link: list[LinkEvent] = Field(default_factory=list)
    seh: Seh = Field(default_factory=Seh)
    tablet: Tablet = Field(default_factory=Tablet)
    crew: list[CrewAction] = Field(default_factory=list)
    expect: list[Expectation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self):
        started = {c.rit for c in self.crew if c.action == "start_rit"}
        for index, action in enumerate(self.crew):
            if action.action != "start_rit" and action.rit not in started:
                raise ValueError(f"crew[{index}]: rit '{action.rit}' is never started (start_rit)")
        for index, item in enumerate(self.expect):
            if item.rit not in started and item.what in ("seh_has_form", "message_state", "banner", "seh_vital",
                                                          "no_loss", "proposal", "tablet_feedback"):
                raise ValueError(f"expect[{index}]: rit '{item.rit}' is never started (start_rit)")
            if item.what == "eta" and (self.vehicle is None or self.vehicle.route is None):
                raise ValueError(f"expect[{index}]: eta needs a vehicle route")
        for down in self.seh.down:
            if down.to_s <= down.from_s:
                raise ValueError("seh.down: to_s must be after from_s")
        return self


def schema() -> dict[str, Any]:
    return ScenarioFile.model_json_schema()


def schema_json() -> str:
    return json.dumps(schema(), indent=2, ensure_ascii=False)


def resolve(spec: str, base: Path) -> Path:
    """A shipped scenario by name (``stemi_tunnel``) or a path to a TOML file."""
    shipped = SCENARIOS_DIR / f"{spec}.toml"
    path = Path(spec)
    if not path.is_absolute() and not path.exists() and shipped.exists():
        return shipped
    return path if path.is_absolute() else base / path


def shipped() -> list[str]:
    return sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml"))


def load(path: Path) -> ScenarioFile:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ScenarioFileError(f"{path}: no such file (shipped: {', '.join(shipped())})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioFileError(f"{path}: not valid TOML: {exc}") from None
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top)"
        more = len(exc.errors()) - 1
        raise ScenarioFileError(f"{path.name}: '{where}': {first['msg']}" + (f" (and {more} more)" if more else "")) \
            from None
