"""Clinical time courses for the monitor simulators: ritlink scenario CSVs and MIMIC replay.

A scenario answers one question: at scenario time ``t``, what does the patient's monitor
show? (``Sample``: one ``Reading`` per parameter plus the last completed NIBP). Values are
rounded to the resolution a monitor displays, so every protocol sends the same numbers.
The CSV format is described in simulators/scenarios/stable.csv and docs/monitors.md.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from devices import observation as mdc
from devices.observation import FLAG_ARTEFACT, FLAG_LOW_PERFUSION, FLAG_PROBE_OFF

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
# The MIMIC numerics record lives beside the project checkout and is read there, never copied.
MIMIC_CSV = (Path(__file__).resolve().parents[2] / "shared" / "conformance" / "vitals" / "timeseries"
             / "mimic_s00001_numerics" / "s00001_numerics_per_minute.csv")

# scenario column -> (MDC code, decimals a monitor shows)
CONTINUOUS: dict[str, tuple[int, int]] = {
    "hr": (mdc.MDC_HEART_RATE, 0),
    "pr": (mdc.MDC_PULSE_RATE, 0),
    "spo2": (mdc.MDC_SPO2, 0),
    "rr": (mdc.MDC_RESP_RATE, 0),
    "etco2": (mdc.MDC_ETCO2, 0),
    "temp": (mdc.MDC_TEMP, 1),
    "pi": (mdc.MDC_PERFUSION_INDEX, 2),
}
NIBP_COLUMNS = ("nibp_sys", "nibp_dia", "nibp_mean")
OXIMETER_CODES = (mdc.MDC_SPO2, mdc.MDC_PULSE_RATE, mdc.MDC_PERFUSION_INDEX)
LOW_PERFUSION_PI = 0.5  # PI below this is shown as low perfusion by oximeters

_VALID, _NOT_MEASURED, _ARTEFACT, _PROBE_OFF = "valid", "not-measured", "artefact", "probe-off"


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Reading:
    value: float | None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Nibp:
    """A completed (or failed: values None) cuff measurement."""

    systolic: float | None
    diastolic: float | None
    mean: float | None
    pulse: float | None
    at: float  # scenario seconds


@dataclass(frozen=True)
class Sample:
    t: float
    readings: dict[int, Reading]
    nibp: Nibp | None = None  # the latest measurement so far


@dataclass(frozen=True)
class _Key:
    t: float
    status: str
    value: float | None


def _parse_cell(cell: str, where: str) -> tuple[str, float | None] | None:
    cell = cell.strip()
    if not cell:
        return None
    if cell == "-":
        return _NOT_MEASURED, None
    if cell.lower() == "off":
        return _PROBE_OFF, None
    status = _ARTEFACT if cell.endswith("?") else _VALID
    try:
        value = float(cell.rstrip("?"))
    except ValueError as exc:
        raise ScenarioError(f"{where}: '{cell}' is not a number, '-', 'off' or 'N?'") from exc
    if not math.isfinite(value) or value < 0:
        raise ScenarioError(f"{where}: '{cell}' is not a plausible value")
    return status, value


def _round(value: float, decimals: int) -> float:
    return float(round(value, decimals)) if decimals else float(math.floor(value + 0.5))


@dataclass
class Scenario:
    """Key points per column, interpolated; NIBP measurements as events."""

    name: str
    keys: dict[str, list[_Key]]
    nibp_events: list[Nibp]
    duration_s: float

    def sample(self, t: float) -> Sample:
        readings: dict[int, Reading] = {}
        for column, keys in self.keys.items():
            code, decimals = CONTINUOUS[column]
            readings[code] = _reading_at(keys, t, decimals)
        readings = _with_perfusion_flags(readings)
        nibp = None
        for event in self.nibp_events:
            if event.at <= t:
                nibp = event
        return Sample(t, readings, nibp)

    @classmethod
    def load(cls, path: Path) -> Scenario:
        text = path.read_text(encoding="utf-8")
        if text.startswith("elapsed_min"):
            raise ScenarioError(f"{path.name} is a MIMIC numerics file: use MimicReplay")
        return cls.parse(text, path.stem)

    @classmethod
    def parse(cls, text: str, name: str) -> Scenario:
        rows = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
        reader = csv.DictReader(io.StringIO("\n".join(rows)))
        columns = reader.fieldnames or []
        if not columns or columns[0] != "time_s":
            raise ScenarioError(f"{name}: the first column must be time_s")
        unknown = set(columns[1:]) - set(CONTINUOUS) - set(NIBP_COLUMNS)
        if unknown:
            raise ScenarioError(f"{name}: unknown columns {sorted(unknown)}")
        keys: dict[str, list[_Key]] = {c: [] for c in columns[1:] if c in CONTINUOUS}
        events: list[Nibp] = []
        last_t = -1.0
        for line_no, row in enumerate(reader, start=2):
            where = f"{name} row {line_no}"
            try:
                t = float(row["time_s"])
            except (TypeError, ValueError) as exc:
                raise ScenarioError(f"{where}: time_s is not a number") from exc
            if t <= last_t:
                raise ScenarioError(f"{where}: time_s must increase")
            last_t = t
            for column in keys:
                parsed = _parse_cell(row.get(column) or "", f"{where} {column}")
                if parsed:
                    keys[column].append(_Key(t, *parsed))
            event = _nibp_event(row, t, keys, where)
            if event:
                events.append(event)
        if last_t < 0:
            raise ScenarioError(f"{name}: no rows")
        return cls(name, keys, events, last_t)


def _nibp_event(row: dict, t: float, keys: dict[str, list[_Key]], where: str) -> Nibp | None:
    cells = [_parse_cell(row.get(column) or "", f"{where} {column}") for column in NIBP_COLUMNS]
    if all(cell is None for cell in cells):
        return None
    if any(cell is None for cell in cells):
        raise ScenarioError(f"{where}: give all three NIBP values (or '-' for a failed measurement)")
    values = [cell[1] for cell in cells]
    pulse_keys = keys.get("pr") or keys.get("hr") or []
    pulse = _reading_at(pulse_keys, t, 0).value if pulse_keys and values[0] is not None else None
    return Nibp(*(None if v is None else _round(v, 0) for v in values), pulse=pulse, at=t)


def _reading_at(keys: list[_Key], t: float, decimals: int) -> Reading:
    before = None
    after = None
    for key in keys:
        if key.t <= t:
            before = key
        else:
            after = key
            break
    if before is None:
        before = keys[0] if keys else None
    if before is None or before.status in (_NOT_MEASURED, _PROBE_OFF):
        flags = (FLAG_PROBE_OFF,) if before is not None and before.status == _PROBE_OFF else ()
        return Reading(None, flags)
    value = before.value
    if after is not None and after.status in (_VALID, _ARTEFACT) and before.t <= t:
        value = before.value + (after.value - before.value) * (t - before.t) / (after.t - before.t)
    flags = (FLAG_ARTEFACT,) if before.status == _ARTEFACT else ()
    return Reading(_round(value, decimals), flags)


def _with_perfusion_flags(readings: dict[int, Reading]) -> dict[int, Reading]:
    """Oximeters flag their values when the perfusion index is low."""
    pi = readings.get(mdc.MDC_PERFUSION_INDEX)
    if pi is None or pi.value is None or pi.value >= LOW_PERFUSION_PI:
        return readings
    updated = dict(readings)
    for code in OXIMETER_CODES:
        if code in updated and updated[code].value is not None:
            updated[code] = Reading(updated[code].value, (*updated[code].flags, FLAG_LOW_PERFUSION))
    return updated


# MIMIC column -> scenario column (ABP is an invasive pressure: ritlink has no parameter for it)
_MIMIC_COLUMNS = {"HR_bpm": "hr", "PULSE_bpm": "pr", "RESP_pm": "rr", "SpO2_pct": "spo2"}
_MIMIC_NIBP = ("NBPSys_mmHg", "NBPDias_mmHg", "NBPMean_mmHg")


@dataclass
class MimicReplay:
    """The MIMIC numerics record, one row per minute; each row is held for its minute.

    In the record 0 means "not measured" (sensor off) and an empty cell "no sample"; both are
    sent as not measured. NIBP is episodic: a row with NIBP values is a completed measurement.
    """

    name: str
    rows: list[tuple[float, dict[int, float | None]]]
    duration_s: float = 0.0
    nibp_events: list[Nibp] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path = MIMIC_CSV) -> MimicReplay:
        if not path.exists():
            raise ScenarioError(f"MIMIC record not found at {path} (shared/conformance beside the checkout)")
        rows = []
        events = []
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                t = float(row["elapsed_min"]) * 60.0
                values: dict[int, float | None] = {}
                for column, scenario_column in _MIMIC_COLUMNS.items():
                    code, decimals = CONTINUOUS[scenario_column]
                    raw = (row.get(column) or "").strip()
                    number = float(raw) if raw else 0.0
                    values[code] = _round(number, decimals) if number > 0 else None
                nibp_raw = [(row.get(c) or "").strip() for c in _MIMIC_NIBP]
                if all(nibp_raw):
                    nibp = tuple(float(v) for v in nibp_raw)
                    if all(v > 0 for v in nibp):
                        events.append(Nibp(*(_round(v, 0) for v in nibp), pulse=values[mdc.MDC_PULSE_RATE], at=t))
                rows.append((t, values))
        if not rows:
            raise ScenarioError(f"{path.name}: no rows")
        return cls("mimic", rows, rows[-1][0] + 60.0, events)

    def sample(self, t: float) -> Sample:
        index = min(max(int(t // 60.0), 0), len(self.rows) - 1)
        _t, values = self.rows[index]
        nibp = None
        for event in self.nibp_events:
            if event.at <= t:
                nibp = event
            else:
                break
        return Sample(t, {code: Reading(value) for code, value in values.items()}, nibp)


def load_source(spec: str) -> Scenario | MimicReplay:
    """``stable`` (a shipped scenario by name), ``mimic``, or a path to a scenario / MIMIC CSV."""
    if spec == "mimic":
        return MimicReplay.load()
    shipped = SCENARIO_DIR / f"{spec}.csv"
    path = shipped if shipped.exists() else Path(spec)
    if not path.is_file():
        names = ", ".join(sorted(p.stem for p in SCENARIO_DIR.glob("*.csv")))
        raise ScenarioError(f"no scenario '{spec}' (shipped: {names}, mimic, or a CSV path)")
    with path.open(encoding="utf-8") as handle:
        first = handle.readline()
    if first.startswith("elapsed_min"):
        return MimicReplay.load(path)
    return Scenario.load(path)


def shipped_scenarios() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.csv"))
