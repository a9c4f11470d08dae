"""Request bodies of the JSON API (pydantic, with examples for the OpenAPI page).

The entry bodies are generated from edge.form.entries.CLIENT_KINDS: one model per kind,
discriminated by ``kind``, so a new entry kind appears in the API and its docs at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from edge.form.entries import CLIENT_KINDS, TIME_POINTS, Location, NotState

SOURCE_PATTERN = r"^(manual|device:[a-z0-9-]{1,40})$"


class NewRit(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"destination_seh": "seh-umcu", "urgency": "A1"},
        {"destination_seh": "seh-umcu", "urgency": "A2", "reason": "pijn op de borst",
         "location": {"address": "Oudegracht 1, Utrecht", "lat": 52.09, "lon": 5.12}}]})
    destination_seh: str = Field(min_length=1)
    urgency: Literal["A1", "A2", "B"]
    reason: str | None = Field(default=None, max_length=200)
    location: Location | None = None


class EntryEnvelope(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clinical_time: datetime | None = Field(default=None, description="wanneer waargenomen/gegeven (met UTC-offset); standaard nu")
    confirm: bool = Field(default=False, description="bevestigt ongebruikelijke (maar mogelijke) waarden")
    confirm_repeat: bool = Field(default=False, description="medicatie: hetzelfde middel binnen het herhaalvenster "
                                                            "bewust nogmaals gegeven")
    nagekomen: bool = Field(default=False, description="nagekomen aanvulling na de overdracht")
    source: str = Field(default="manual", pattern=SOURCE_PATTERN)


def _entry_model(kind: str, data_model: type[BaseModel]) -> type[EntryEnvelope]:
    name = "".join(part.capitalize() for part in kind.split("_"))
    examples = (data_model.model_config.get("json_schema_extra") or {}).get("examples", [])

    class WithExamples(EntryEnvelope):
        model_config = ConfigDict(extra="forbid", json_schema_extra={
            "examples": [{"kind": kind, "data": e} for e in examples]} if examples else None)

    return create_model(f"New{name}Entry", __base__=WithExamples, kind=(Literal[kind], ...), data=(data_model, ...))


ENTRY_MODELS = [_entry_model(kind, model) for kind, model in CLIENT_KINDS.items()]
NewEntry = Annotated[Union[tuple(ENTRY_MODELS)], Field(discriminator="kind")]  # noqa: UP007


class CorrectEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"data": {"parameter": "heart_rate", "value": 92}, "reason": "verkeerd afgelezen"},
        {"withdraw": True, "reason": "bij verkeerde patiënt ingevoerd"}]})
    data: dict[str, Any] | None = Field(default=None, description="de volledige nieuwe data (zelfde soort)")
    withdraw: bool = Field(default=False, description="trekt de invoer in zonder vervanging")
    reason: str = Field(min_length=1, max_length=500)
    clinical_time: datetime | None = None
    confirm: bool = False
    nagekomen: bool = False


VitalValue = float | NotState | None


class VitalsSet(BaseModel):
    """Vital signs measured together; each is a number or a not-state."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"heart_rate": 88, "bp_systolic": 135, "bp_diastolic": 85, "spo2": 97, "resp_rate": 16, "temperature": 37.2},
        {"resp_rate": 4, "bp_systolic": "niet mogelijk", "confirm": True}]})
    heart_rate: VitalValue = None
    pulse_rate: VitalValue = None
    spo2: VitalValue = None
    bp_systolic: VitalValue = None
    bp_diastolic: VitalValue = None
    bp_mean: VitalValue = None
    resp_rate: VitalValue = None
    etco2: VitalValue = None
    temperature: VitalValue = None
    glucose: VitalValue = None
    clinical_time: datetime | None = None
    confirm: bool = False
    nagekomen: bool = False
    source: str = Field(default="manual", pattern=SOURCE_PATTERN)

    def values(self) -> dict[str, float | str]:
        meta = {"clinical_time", "confirm", "nagekomen", "source"}
        return {k: v for k, v in self.model_dump(exclude_none=True).items() if k not in meta}


class SetTime(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"which": "ter_plaatse", "at": "2025-03-01T10:15:00+01:00"}]})
    which: Literal[TIME_POINTS]  # type: ignore[valid-type]
    at: datetime
    nagekomen: bool = False


class AcceptVitals(BaseModel):
    model_config = ConfigDict(extra="forbid")
    author: str | None = Field(default=None, min_length=1, max_length=80,
                               description="genegeerd: de auteur is wie is aangemeld")
    codes: list[int] | None = Field(default=None, description="MDC codes to take over; all fresh values if absent")
    confirm: bool = False


class Overdracht(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}, {"onvolledig": True}]})
    onvolledig: bool = Field(default=False, description="overdragen ondanks ontbrekende onderdelen")


class Cancel(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reason": "vervoer_weigering", "text": "patiënt wilsbekwaam, weigert"}]})
    reason: str = Field(min_length=1, description="code uit de lijst cancel_reasons")
    text: str | None = Field(default=None, max_length=500)


class Destination(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"seh_id": "seh-antonius", "reason": "SEH-stop UMC"}]})
    seh_id: str = Field(min_length=1)
    reason: str | None = Field(default=None, max_length=200)


class SehCalled(BaseModel):
    """The crew phoned the SEH about a missing receipt (clears the amber banner)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"seh_id": "seh-umcu", "warning": "read"}]})
    seh_id: str = Field(min_length=1)
    warning: Literal["delivered", "read"]
