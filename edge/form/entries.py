"""Entry kinds of the ritformulier: one pydantic model per kind, and their validation.

An entry is one recorded fact: its ``data`` (this module) plus ``entry_id``,
``clinical_time``, ``recorded_at``, ``author`` and ``source`` (added by the service).
Every assessable kind can carry an explicit ``not_state`` instead of values (domain.md:
an empty field and "looked, nothing found" are different facts).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any, ClassVar, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.errors import DomainError, raise_all
from edge.form.plausibility import LIMITS, VITALS, check_all, medication_dose_limit
from edge.form.valuelists import ValueLists
from edge.wire.safe_text import problems as text_problems

NotState = Literal["niet beoordeeld", "niet uitgevoerd", "geweigerd", "niet mogelijk", "niet van toepassing"]
NOT_STATES: tuple[str, ...] = get_args(NotState)
VitalName = Literal[tuple(VITALS)]  # type: ignore[valid-type]
TIME_POINTS = ("melding", "alarmering", "vertrek", "ter_plaatse", "bij_patient", "vertrek_ter_plaatse",
               "aankomst_seh", "overdracht", "vrij")
TimePoint = Literal[TIME_POINTS]  # type: ignore[valid-type]
Code = str
Text = Field(default=None, max_length=4000)
ShortText = Field(default=None, max_length=200)


class EntryData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    CODES: ClassVar[dict[str, str]] = {}  # field -> value list (the field holds a code or a list of codes)
    NUMERIC: ClassVar[dict[str, str]] = {}  # field -> name in plausibility.LIMITS

    def coded(self) -> Iterator[tuple[str, str, str]]:
        """(path, list name, code) for every coded value."""
        for field, list_name in self.CODES.items():
            value = getattr(self, field)
            if isinstance(value, list):
                yield from ((f"{field}.{i}", list_name, code) for i, code in enumerate(value))
            elif value is not None:
                yield field, list_name, value

    def numeric(self, lists: ValueLists) -> Iterator[tuple[str, str, Any, float]]:
        """(path, field name, limit, value) for every number."""
        for field, name in self.NUMERIC.items():
            value = getattr(self, field)
            if isinstance(value, int | float) and not isinstance(value, bool):
                yield field, name, LIMITS[name], value


class Assessable(EntryData):
    # The field naming *what* was not done (the drug refused, the parameter not measurable).
    SUBJECT: ClassVar[str | None] = None
    not_state: NotState | None = Field(default=None, description="expliciet niet-gedaan in plaats van waarden")
    text: str | None = Text

    @model_validator(mode="after")
    def _not_state_alone(self):
        if self.not_state is not None:
            filled = [k for k in type(self).model_fields if k not in ("not_state", "text", self.SUBJECT)
                      and getattr(self, k) not in (None, [], False)]
            if filled:
                raise ValueError("kies óf waarden óf 'niet gedaan', niet allebei")
        return self


# -- administrative kinds (latest value per field wins) --------------------------------------
class CrewMember(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Code | None = None


class IdentificationData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"dispatch_number": "24-118-0457", "crew": [{"name": "J. de Vries", "role": "ambulanceverpleegkundige"}]}]})
    dispatch_number: str | None = Field(default=None, max_length=40)
    crew: list[CrewMember] | None = None

    def coded(self):
        for i, member in enumerate(self.crew or []):
            if member.role is not None:
                yield f"crew.{i}.role", "crew_roles", member.role


class PatientData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"sex": "F"},
                              {"name": "A. Jansen", "date_of_birth": "1948-03-02", "bsn": "111222333"}]})
    CODES = {"sex": "sex"}
    NUMERIC = {"estimated_age_years": "patient.estimated_age_years", "weight_kg": "patient.weight_kg"}
    name: str | None = Field(default=None, max_length=200)
    date_of_birth: date | None = None
    sex: Code | None = None
    bsn: str | None = Field(default=None, pattern=r"^[0-9]{9}$")
    estimated_age_years: float | None = None
    weight_kg: float | None = None
    unidentified: bool | None = Field(default=None, description="onbekende patiënt: identiteit (nog) niet bekend")

    @model_validator(mode="after")
    def _something(self):
        if not self.model_dump(exclude_none=True):
            raise ValueError("geef minstens één patiëntgegeven")
        return self


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")
    address: str | None = Field(default=None, max_length=300)
    lat: float | None = None
    lon: float | None = None


class MeldingData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"urgency": "A1", "reason": "verkeersongeval", "location": {"address": "A12 hmp 45", "lat": 52.07, "lon": 5.1}}]})
    urgency: Literal["A1", "A2", "B"] | None = None
    reason: str | None = ShortText
    location: Location | None = None

    def numeric(self, lists):
        for axis in ("lat", "lon"):
            value = getattr(self.location, axis, None) if self.location else None
            if value is not None:
                yield f"location.{axis}", f"melding.location.{axis}", LIMITS[f"melding.location.{axis}"], value


class TimeData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"which": "ter_plaatse", "at": "2025-03-01T10:15:00+01:00"}]})
    which: TimePoint
    at: datetime


# -- clinical kinds (collections keyed by entry_id) ------------------------------------------
class VitalData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"parameter": "heart_rate", "value": 88}]})
    SUBJECT = "parameter"
    parameter: VitalName
    value: float | None = None

    @model_validator(mode="after")
    def _value_or_not(self):
        if self.value is None and self.not_state is None:
            raise ValueError("geef een waarde of 'niet gedaan'")
        return self

    def numeric(self, lists):
        if self.value is not None:
            yield "value", self.parameter, LIMITS[self.parameter], self.value


class GcsData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"eye": 3, "verbal": 4, "motor": 6},
                              {"eye": 2, "verbal": "niet mogelijk", "motor": 5}]})
    NUMERIC = {"eye": "gcs.eye", "verbal": "gcs.verbal", "motor": "gcs.motor"}
    eye: float | NotState
    verbal: float | NotState
    motor: float | NotState


class PainData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"nrs": 7, "text": "rechter onderbeen"}]})
    NUMERIC = {"nrs": "pain.nrs"}
    nrs: float | None = None


class AirwayData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "vrij"}]})
    CODES = {"status": "airway_status", "findings": "airway_findings", "interventions": "airway_interventions"}
    status: Code | None = None
    findings: list[Code] = []
    interventions: list[Code] = []


class BreathingData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"findings": ["dyspnoe"], "oxygen_device": "non_rebreathing", "oxygen_flow_l_min": 15}]})
    CODES = {"findings": "breathing_findings", "breath_sounds_left": "breath_sounds",
             "breath_sounds_right": "breath_sounds", "oxygen_device": "oxygen_devices"}
    NUMERIC = {"oxygen_flow_l_min": "breathing.oxygen_flow_l_min"}
    findings: list[Code] = []
    breath_sounds_left: Code | None = None
    breath_sounds_right: Code | None = None
    oxygen_device: Code | None = None
    oxygen_flow_l_min: float | None = None


class CirculationData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"skin": ["bleek", "klam"], "capillary_refill_s": 3, "bleeding": "gecontroleerd", "interventions": ["iv"]}]})
    CODES = {"skin": "skin_findings", "bleeding": "bleeding", "interventions": "circulation_interventions"}
    NUMERIC = {"capillary_refill_s": "circulation.capillary_refill_s"}
    skin: list[Code] = []
    capillary_refill_s: float | None = None
    pulse_regular: bool | None = None
    bleeding: Code | None = None
    interventions: list[Code] = []


class DisabilityData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"acvpu": "A", "pupil_left_mm": 3, "pupil_right_mm": 3, "lateralisation": "geen"}]})
    CODES = {"acvpu": "acvpu", "pupil_left_reaction": "pupil_reactions", "pupil_right_reaction": "pupil_reactions",
             "lateralisation": "lateralisation"}
    NUMERIC = {"pupil_left_mm": "disability.pupil_left_mm", "pupil_right_mm": "disability.pupil_right_mm"}
    acvpu: Code | None = None
    pupil_left_mm: float | None = None
    pupil_right_mm: float | None = None
    pupil_left_reaction: Code | None = None
    pupil_right_reaction: Code | None = None
    lateralisation: Code | None = None
    stroke_signs: bool | None = None


class Injury(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Code
    findings: list[Code] = []
    text: str | None = Text


class ExposureData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"injuries": [{"region": "been_rechts", "findings": ["open_fractuur"]}], "burns_tbsa_percent": 0}]})
    CODES = {"skin": "skin_findings"}
    NUMERIC = {"burns_tbsa_percent": "exposure.burns_tbsa_percent"}
    injuries: list[Injury] = []
    burns_tbsa_percent: float | None = None
    skin: list[Code] = []

    def coded(self):
        yield from super().coded()
        for i, injury in enumerate(self.injuries):
            yield f"injuries.{i}.region", "body_regions", injury.region
            yield from ((f"injuries.{i}.findings.{j}", "injury_types", c) for j, c in enumerate(injury.findings))


class SecondaryData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"region": "thorax", "findings": ["pijn"], "text": "drukpijn ribben links"}]})
    SUBJECT = "region"
    CODES = {"region": "body_regions", "findings": "injury_types"}
    region: Code
    findings: list[Code] = []


class SampleData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"signs_symptoms": "pijn op de borst sinds 1 uur", "medication_history": "metoprolol", "events": "in rust"}]})
    signs_symptoms: str | None = Text
    medication_history: str | None = Text
    past_history: str | None = Text
    last_intake: str | None = ShortText
    events: str | None = Text


class MedicationData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"drug": "fentanyl", "dose": 50, "unit": "ug", "route": "iv"}]})
    SUBJECT = "drug"
    CODES = {"drug": "medications", "route": "routes"}
    drug: Code
    dose: float | None = None
    unit: str | None = Field(default=None, max_length=20)
    route: Code | None = None
    given_by: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _dose_unit_route(self):
        if self.not_state is None and (self.dose is None or self.unit is None or self.route is None):
            raise ValueError("een toediening heeft dosis, eenheid en toedieningsweg (of 'niet gegeven')")
        return self

    def numeric(self, lists):
        med = lists.item("medications", self.drug)
        if med is not None and self.dose is not None:
            yield "dose", "medication.dose", medication_dose_limit(med), self.dose


class EcgData(Assessable):
    """A 12-lead ECG as the crew reads it: rhythm, rate, ST elevation per lead, STEMI criteria."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"rhythm": "sinus", "rate": 88, "st_elevation_leads": ["II", "III", "aVF"], "stemi": True,
         "transmitted": True}]})
    CODES = {"rhythm": "ecg_rhythms", "st_elevation_leads": "ecg_leads"}
    NUMERIC = {"rate": "ecg.rate"}
    rhythm: Code | None = None
    rate: float | None = None
    st_elevation_leads: list[Code] = []
    stemi: bool | None = Field(default=None, description="STEMI-criteria: ja / nee")
    transmitted: bool | None = Field(default=None, description="ECG verstuurd naar de cardioloog/PCI-centrum")


class TeamAlertData(EntryData):
    """Team activation asked of the SEH with the vooraankondiging: trauma (with the regional
    level), CVA (with the time last seen well), STEMI, sepsis, reanimatie/ROSC, obstetrie, kind, overig."""
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"alerts": ["trauma"], "trauma_level": "niveau_1"},
        {"alerts": ["cva"], "last_seen_well_at": "2026-12-02T13:05:00Z"}]})
    CODES = {"alerts": "team_alerts", "trauma_level": "trauma_levels"}
    alerts: list[Code] = Field(min_length=1)
    trauma_level: Code | None = None
    last_seen_well_at: datetime | None = Field(default=None, description="CVA: laatst goed gezien")
    text: str | None = ShortText

    @model_validator(mode="after")
    def _details_fit(self):
        if self.trauma_level and "trauma" not in self.alerts:
            raise ValueError("een traumaniveau hoort bij een traumaalarm")
        if self.last_seen_well_at and "cva" not in self.alerts:
            raise ValueError("'laatst goed gezien' hoort bij een CVA-alarm")
        if "overig" in self.alerts and not self.text:
            raise ValueError("beschrijf het overige alarm")
        return self


class ProcedureData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"procedure": "infuus", "result": "gelukt", "attempts": 1}]})
    SUBJECT = "procedure"
    CODES = {"procedure": "procedures", "result": "procedure_results"}
    NUMERIC = {"attempts": "procedure.attempts"}
    procedure: Code
    result: Code | None = None
    attempts: float | None = None


class DiagnosisData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "verdenking ACS"}]})
    text: str = Field(min_length=1, max_length=500)
    snomed: str | None = Field(default=None, pattern=r"^[0-9]{6,18}$")


class TraumaMechanismData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"accident_type": "verkeer_motor"}]})
    CODES = {"accident_type": "accident_types"}
    accident_type: Code | None = None


class IntoxicationData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"substance": "alcohol"}]})
    CODES = {"substance": "intoxications"}
    substance: Code | None = None


class AllergyData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"substance": "penicilline", "reaction": "urticaria"}, {"no_known_allergies": True}]})
    substance: str | None = ShortText
    reaction: str | None = ShortText
    no_known_allergies: bool = False

    @model_validator(mode="after")
    def _one_of(self):
        if self.not_state is None and not self.substance and not self.no_known_allergies:
            raise ValueError("geef een allergie, 'geen bekende allergieën' of 'niet gedaan'")
        if self.substance and self.no_known_allergies:
            raise ValueError("een allergie en 'geen bekende allergieën' sluiten elkaar uit")
        return self


class TreatmentLimitsData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"status": "bekend", "limits": ["niet_reanimeren"], "origin": "penning", "origin_date": "2023-05-01"},
        {"status": "geen"}]})
    CODES = {"limits": "treatment_limits", "origin": "treatment_limit_sources"}
    status: Literal["bekend", "geen", "onbekend"] | None = Field(
        default=None, description="uitgevraagd: behandelgrenzen bekend / geen / niet bekend")
    limits: list[Code] = []
    origin: Code | None = Field(default=None, description="bron van de behandelgrens")
    origin_date: date | None = None

    @model_validator(mode="after")
    def _status(self):
        if self.not_state is None and self.status is None:
            raise ValueError("geef aan of er behandelgrenzen zijn (of 'niet gedaan')")
        if self.status == "bekend" and not self.limits:
            raise ValueError("status 'bekend' vraagt minstens één behandelgrens")
        if self.status in ("geen", "onbekend") and self.limits:
            raise ValueError(f"'{self.status}' gaat niet samen met aangevinkte grenzen")
        return self


class LegalMeasureData(Assessable):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"measure": "wvggz_crisismaatregel"}]})
    CODES = {"measure": "legal_measures"}
    measure: Code | None = None


class RemarkData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"text": "familie volgt met eigen auto"}]})
    text: str = Field(min_length=1, max_length=4000)


class Spo2ScaleData(EntryData):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"scale": 2, "text": "bekend COPD met hypercapnie"}]})
    scale: Literal[1, 2]
    text: str | None = Text


# Kinds the service writes itself (lifecycle and destination follow the stream rules).
class DestinationData(EntryData):
    seh_id: str
    reason: str | None = ShortText
    # Chosen while that SEH announced an SEH-stop: why the crew goes there anyway.
    seh_stop_reason: str | None = ShortText


class LifecycleData(EntryData):
    event: Literal["announce", "overdracht", "cancel"]
    seh_id: str
    reason: str | None = None
    text: str | None = None
    onvolledig: bool | None = None
    missing: list[str] | None = None


class SehCalledData(EntryData):
    """The crew phoned the SEH after a receipt timeout warning (design.md "Timeouts")."""

    seh_id: str
    warning: Literal["delivered", "read"]


CLIENT_KINDS: dict[str, type[EntryData]] = {
    "identification": IdentificationData, "patient": PatientData, "melding": MeldingData, "time": TimeData,
    "vital": VitalData, "gcs": GcsData, "pain": PainData,
    "airway": AirwayData, "breathing": BreathingData, "circulation": CirculationData,
    "disability": DisabilityData, "exposure": ExposureData,
    "secondary": SecondaryData, "sample": SampleData,
    "medication": MedicationData, "procedure": ProcedureData, "ecg": EcgData, "team_alert": TeamAlertData,
    "diagnosis": DiagnosisData, "trauma_mechanism": TraumaMechanismData, "intoxication": IntoxicationData,
    "allergy": AllergyData, "treatment_limits": TreatmentLimitsData, "legal_measure": LegalMeasureData,
    "remark": RemarkData, "spo2_scale": Spo2ScaleData,
}
SYSTEM_KINDS: dict[str, type[EntryData]] = {"destination": DestinationData, "lifecycle": LifecycleData,
                                            "seh_called": SehCalledData}


MOMENT_OUT_OF_RANGE = "tijdstip is onmogelijk (niet tussen 2000 en 2100)"


def moment_in_range(moment: datetime) -> bool:
    """A clinical moment of this century: year 1 or 9999 with an offset cannot even be
    converted to UTC (OverflowError), and neither belongs to a rit."""
    return 2000 <= moment.year <= 2100


def utc_iso(moment: datetime) -> str:
    """Aware datetime -> the one timestamp format of the store (UTC, milliseconds, Z)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_data(kind: str, raw: Any, prefix: str = "data") -> EntryData:
    """Validate raw JSON data for ``kind`` (used for corrections, whose kind comes from the log)."""
    try:
        return CLIENT_KINDS[kind].model_validate(raw)
    except ValidationError as exc:
        raise_all([DomainError(dutch_reason(err), ".".join(p for p in [prefix, *(str(p) for p in err["loc"])] if p),
                               type="validation")
                   for err in exc.errors()])
        raise  # unreachable: errors() is never empty


def dutch_reason(err: Any) -> str:
    """A pydantic validation error as a short Dutch reason (the crew reads it on the tablet)."""
    kind, ctx = err.get("type", ""), err.get("ctx") or {}
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    reasons = {
        "missing": "verplicht",
        "string_too_long": f"te lang (hoogstens {ctx.get('max_length')} tekens)",
        "string_too_short": "mag niet leeg zijn",
        "string_pattern_mismatch": "heeft niet de goede vorm",
        "float_parsing": "is geen getal", "int_parsing": "is geen geheel getal",
        "float_type": "is geen getal", "bool_parsing": "kies ja of nee",
        "literal_error": "kies een van de mogelijkheden", "enum": "kies een van de mogelijkheden",
        "extra_forbidden": "onbekend veld",
        "finite_number": "is geen geldig getal",
    }
    if kind in reasons:
        return reasons[kind]
    if kind.startswith(("date", "datetime")):
        return "geen geldige datum of tijd"
    return "ongeldige invoer"


def validate(data: EntryData, lists: ValueLists, confirm: bool, prefix: str = "data") -> tuple[dict, list[str]]:
    """Check codes against the value lists and numbers against the plausibility limits.

    Returns the data as stored (JSON, no nulls, integral scores as int) and the names of
    unusual values the crew confirmed.
    """
    # Stored once, a NUL or a bidi override would spoil every later message of the rit.
    raise_all([DomainError(words, _join(prefix, path))
               for path, words in text_problems(data.model_dump(mode="json", exclude_defaults=True))])
    errors = []
    for path, list_name, code in data.coded():
        try:
            lists.check(list_name, code, _join(prefix, path))
        except DomainError as exc:
            errors.append(exc)
    raise_all(errors)
    extra_errors, confirmed = _cross_checks(data, lists, prefix)
    raise_all(extra_errors)
    numbers = [(_join(prefix, path), name, limit, value) for path, name, limit, value in data.numeric(lists)]
    confirmed += check_all(numbers, confirm)
    # Defaults ([] lists, None) are left out: the form never holds nulls, and empty is absent.
    stored = data.model_dump(mode="json", exclude_defaults=True)
    if isinstance(data, TimeData):
        stored["at"] = utc_iso(data.at)
    if isinstance(data, TeamAlertData) and data.last_seen_well_at is not None:
        stored["last_seen_well_at"] = utc_iso(data.last_seen_well_at)
    for field, name in data.NUMERIC.items():
        if field in stored and LIMITS[name].integer and isinstance(stored[field], float):
            stored[field] = int(stored[field])
    return stored, confirmed


def _join(prefix: str, path: str) -> str:
    return f"{prefix}.{path}" if prefix else path


def _cross_checks(data: EntryData, lists: ValueLists, prefix: str) -> tuple[list[DomainError], list[str]]:
    errors: list[DomainError] = []
    if isinstance(data, MedicationData) and data.not_state is None:
        med = lists.item("medications", data.drug)
        if data.unit != med["unit"]:
            errors.append(DomainError(f"eenheid voor {med['label']} is {med['unit']}", _join(prefix, "unit")))
        if data.route not in med["routes"]:
            errors.append(DomainError(f"toedieningsweg {(lists.item('routes', data.route) or {}).get('label', data.route)} "
                                      f"is niet voorzien voor {med['label']}",
                                      _join(prefix, "route")))
    if isinstance(data, PatientData):
        if data.bsn is not None and not bsn_valid(data.bsn):
            errors.append(DomainError("BSN klopt niet (elfproef)", _join(prefix, "bsn"), type="plausibility.impossible"))
        if data.date_of_birth is not None:
            today = datetime.now(UTC).date()
            if data.date_of_birth > today or today.year - data.date_of_birth.year > 125:
                errors.append(DomainError("geboortedatum is onmogelijk", _join(prefix, "date_of_birth"),
                                          type="plausibility.impossible"))
    if isinstance(data, TreatmentLimitsData) and data.origin_date is not None and \
            data.origin_date > datetime.now(UTC).date():
        errors.append(DomainError("datum ligt in de toekomst", _join(prefix, "origin_date"),
                                  type="plausibility.impossible"))
    moments: dict[str, datetime | None] = {}
    if isinstance(data, TimeData):
        moments["at"] = data.at
    if isinstance(data, TeamAlertData):
        moments["last_seen_well_at"] = data.last_seen_well_at
    outside = [DomainError(MOMENT_OUT_OF_RANGE, _join(prefix, name), type="plausibility.impossible")
               for name, moment in moments.items() if moment is not None and not moment_in_range(moment)]
    if outside:  # comparing or converting them would overflow
        return errors + outside, []
    if isinstance(data, TeamAlertData) and data.last_seen_well_at is not None and (
            data.last_seen_well_at.tzinfo is None or data.last_seen_well_at > datetime.now(UTC)):
        errors.append(DomainError("'laatst goed gezien' ligt in de toekomst of heeft geen UTC-offset",
                                  _join(prefix, "last_seen_well_at"), type="plausibility.impossible"))
    if isinstance(data, TimeData) and data.at.tzinfo is None:
        errors.append(DomainError("tijdstip zonder UTC-offset", _join(prefix, "at")))
    return errors, []


def bsn_valid(bsn: str) -> bool:
    """The Dutch BSN eleven test: 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is a multiple of 11 (and not 0)."""
    digits = [int(c) for c in bsn]
    total = sum(w * d for w, d in zip(range(9, 1, -1), digits[:8], strict=True)) - digits[8]
    return total % 11 == 0 and total != 0


# -- the vehicle's position (a system kind, written by edge/live/gps_runtime.py) ----------------------
class EtaData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: int = Field(ge=0)
    arrival_at: str
    distance_m: int = Field(ge=0)
    method: Literal["route_speeds", "route", "great_circle"]


class VehiclePositionData(EntryData):
    """Where the vehicle was and its ETA at the destination SEH: at the vooraankondiging and
    whenever the ETA moves by a minute or more (not every fix: each change is a message)."""

    at: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    speed_mps: float | None = None
    track: float | None = None
    seh_id: str | None = None
    eta: EtaData | None = None


SYSTEM_KINDS["vehicle_position"] = VehiclePositionData
