"""The tablet's entry forms as data: one table from which every form is drawn and read back.

Each form names its entry kind, the tab it lives on, and its fields (label, widget, value
list, unit, a typical value as placeholder). One template macro draws any form, one
function turns a posted form into entry data, so a new kind gets a screen by adding a
row here, and a test can check that every client kind has one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from edge.errors import DomainError
from web.words import LOCAL, UNIT_FROM_WORDS

NOT_STATES = ("niet beoordeeld", "niet mogelijk", "geweigerd", "niet uitgevoerd")
# GCS components: (score, words) as the crew scores them.
GCS_EYE = [(4, "4 spontaan"), (3, "3 op aanspreken"), (2, "2 op pijn"), (1, "1 geen reactie")]
GCS_VERBAL = [(5, "5 georiënteerd"), (4, "4 verward"), (3, "3 inadequaat"), (2, "2 onverstaanbaar"), (1, "1 geen")]
GCS_MOTOR = [(6, "6 gehoorzaamt"), (5, "5 lokaliseert"), (4, "4 trekt terug"), (3, "3 abnormaal buigen"),
             (2, "2 strekken"), (1, "1 geen")]
YES_NO = [("ja", "ja"), ("nee", "nee")]
INLINE_CHOICES: dict[str, list[tuple[Any, str]]] = {
    "gcs_eye": GCS_EYE + [("niet mogelijk", "niet te beoordelen")],
    "gcs_verbal": GCS_VERBAL + [("niet mogelijk", "niet te beoordelen (bijv. geïntubeerd)")],
    "gcs_motor": GCS_MOTOR + [("niet mogelijk", "niet te beoordelen")],
    "nrs": [(n, str(n)) for n in range(11)],
    "yes_no": YES_NO,
    "limits_status": [("bekend", "behandelgrenzen bekend"), ("geen", "geen behandelgrenzen"),
                      ("onbekend", "niet bekend (uitgevraagd, niemand weet het)")],
    "spo2_scale": [(1, "schaal 1 (normaal)"), (2, "schaal 2 (bekende hypercapnie)")],
}


@dataclass(frozen=True)
class Field:
    name: str  # the entry data field; "a.b" for a nested one
    label: str
    widget: str  # select | multi | number | text | date | clock (UU:MM today) | yesno | radio | check
    choices: str | None = None  # a value list name, or a key of INLINE_CHOICES
    unit: str = ""
    example: str = ""  # a typical value (data-voorbeeld); never shown in the field, where it could pass for a reading
    required: bool = False


@dataclass(frozen=True)
class EntryForm:
    form_id: str
    kind: str
    tab: str
    title: str
    fields: tuple[Field, ...] = ()
    button: str = "Opslaan"
    not_states: bool = False  # offers "niet beoordeeld / niet mogelijk / geweigerd / niet uitgevoerd"
    text: str | None = "Toelichting"  # a free-text field, with this label
    fixed: dict[str, Any] = field(default_factory=dict)  # a one-tap form: these values, nothing typed
    single_fact: bool = False  # a second entry corrects the first instead of adding one
    letter: str | None = None  # ABCDE letter (kept as data-letter for the crew's muscle memory)
    quick: bool = False  # drawn as one big button


def _one_tap(form_id: str, kind: str, tab: str, button: str, letter: str | None = None, **fixed: Any) -> EntryForm:
    return EntryForm(form_id, kind, tab, button, button=button, text=None, fixed=fixed, letter=letter, quick=True)


F = Field
FORMS: list[EntryForm] = [
    # -- Teamalarm (with the vooraankondiging) ------------------------------------------------
    EntryForm("team_alert", "team_alert", "overdracht", "Teamalarm voor de SEH", (
        F("alerts", "Alarm", "multi", "team_alerts", required=True),
        F("trauma_level", "Traumaniveau", "select", "trauma_levels"),
        F("last_seen_well_at", "CVA: laatst goed gezien om (UU:MM)", "clock"),
        F("text", "Overig: welk alarm", "text")), button="Teamalarm opslaan", text=None),
    # -- Patiënt & melding -----------------------------------------------------------------
    EntryForm("patient", "patient", "patient", "Patiënt", (
        F("unidentified", "Onbekende patiënt", "check"), F("sex", "Geslacht", "select", "sex"),
        F("estimated_age_years", "Leeftijd (geschat)", "number", unit="jaar", example="60"),
        F("name", "Naam", "text"), F("date_of_birth", "Geboortedatum", "date"),
        F("bsn", "BSN (9 cijfers)", "text", example="111222333"), F("weight_kg", "Gewicht", "number", unit="kg", example="75")),
        button="Patiënt opslaan", text=None, single_fact=True),
    EntryForm("melding", "melding", "patient", "Melding", (
        F("reason", "Reden melding", "text"), F("location.address", "Adres incident", "text")),
        button="Melding opslaan", text=None, single_fact=True),
    EntryForm("identification", "identification", "patient", "Ritnummer", (
        F("dispatch_number", "Ritnummer meldkamer", "text", example="24-123456", required=True),),
        button="Ritnummer opslaan", text=None, single_fact=True),
    _one_tap("geen-behandelgrenzen", "treatment_limits", "patient", "Geen behandelgrenzen", status="geen"),
    EntryForm("treatment_limits", "treatment_limits", "patient", "Behandelgrenzen", (
        F("status", "Uitgevraagd", "radio", "limits_status", required=True),
        F("limits", "Grenzen", "multi", "treatment_limits"), F("origin", "Bron", "select", "treatment_limit_sources"),
        F("origin_date", "Vastgelegd op", "date")), button="Behandelgrenzen opslaan", not_states=True),
    EntryForm("legal_measure", "legal_measure", "patient", "Juridische maatregel", (
        F("measure", "Maatregel", "select", "legal_measures", required=True),), button="Maatregel opslaan"),
    # -- ABCDE -----------------------------------------------------------------------------
    _one_tap("A-normaal", "airway", "abcde", "A: vrij", "A", status="vrij"),
    EntryForm("A", "airway", "abcde", "A — Luchtweg", (
        F("status", "Status luchtweg", "select", "airway_status"), F("findings", "Bevindingen", "multi", "airway_findings"),
        F("interventions", "Interventies", "multi", "airway_interventions")),
        button="A opslaan", not_states=True, letter="A"),
    _one_tap("B-normaal", "breathing", "abcde", "B: normale ademhaling", "B", findings=["normaal"]),
    EntryForm("B", "breathing", "abcde", "B — Ademhaling", (
        F("findings", "Bevinding", "multi", "breathing_findings"),
        F("oxygen_device", "Zuurstof", "select", "oxygen_devices"),
        F("oxygen_flow_l_min", "Zuurstof", "number", unit="L/min", example="15"),
        F("breath_sounds_left", "Ademgeruis links", "select", "breath_sounds"),
        F("breath_sounds_right", "Ademgeruis rechts", "select", "breath_sounds")),
        button="B opslaan", not_states=True, letter="B"),
    _one_tap("C-normaal", "circulation", "abcde", "C: geen bijzonderheden", "C", skin=["normaal"], bleeding="geen"),
    EntryForm("C", "circulation", "abcde", "C — Circulatie", (
        F("skin", "Huid", "multi", "skin_findings"),
        F("capillary_refill_s", "Capillaire refill", "number", unit="s", example="2"),
        F("pulse_regular", "Pols regulair", "yesno", "yes_no"), F("bleeding", "Bloeding", "select", "bleeding"),
        F("interventions", "Interventies", "multi", "circulation_interventions")),
        button="C opslaan", not_states=True, letter="C"),
    _one_tap("D-normaal", "disability", "abcde", "D: alert", "D", acvpu="A"),
    EntryForm("D", "disability", "abcde", "D — Neurologie", (
        F("acvpu", "ACVPU", "select", "acvpu"),
        F("pupil_left_mm", "Pupil links", "number", unit="mm", example="4"),
        F("pupil_left_reaction", "Reactie links", "select", "pupil_reactions"),
        F("pupil_right_mm", "Pupil rechts", "number", unit="mm", example="4"),
        F("pupil_right_reaction", "Reactie rechts", "select", "pupil_reactions"),
        F("lateralisation", "Lateralisatie", "select", "lateralisation"),
        F("stroke_signs", "FAST positief", "yesno", "yes_no")), button="D opslaan", not_states=True, letter="D"),
    EntryForm("gcs", "gcs", "abcde", "EMV (GCS)", (
        F("eye", "E — ogen", "select", "gcs_eye", required=True),
        F("motor", "M — motoriek", "select", "gcs_motor", required=True),
        F("verbal", "V — verbaal", "select", "gcs_verbal", required=True)), button="EMV opslaan", text=None),
    _one_tap("E-normaal", "exposure", "abcde", "E: geen afwijkingen", "E", skin=["normaal"]),
    EntryForm("E", "exposure", "abcde", "E — Exposure", (
        F("skin", "Huid", "multi", "skin_findings"),
        F("burns_tbsa_percent", "Verbrand oppervlak", "number", unit="%", example="10")),
        button="E opslaan", not_states=True, letter="E"),
    EntryForm("pain", "pain", "abcde", "Pijnscore", (
        F("nrs", "Pijn (NRS 0–10)", "select", "nrs"),), button="Pijnscore opslaan", not_states=True),
    # -- Vitale waarden (the manual vitals form is drawn by the tab itself) -------------------
    EntryForm("ecg", "ecg", "vitals", "12-afleidingen-ECG", (
        F("rhythm", "Ritme", "select", "ecg_rhythms"),
        F("rate", "Frequentie", "number", unit="/min", example="80"),
        F("st_elevation_leads", "ST-elevatie in", "multi", "ecg_leads"),
        F("stemi", "STEMI-criteria", "yesno", "yes_no"), F("transmitted", "ECG verstuurd", "yesno", "yes_no")),
        button="ECG opslaan", not_states=True),
    EntryForm("spo2_scale", "spo2_scale", "vitals", "SpO2-schaal voor NEWS2", (
        F("scale", "Schaal", "radio", "spo2_scale", required=True),), button="Schaal opslaan"),
    # -- Trauma & intoxicatie (MIST: mechanism, injuries; signs and treatment have their tabs) -
    EntryForm("trauma_mechanism", "trauma_mechanism", "trauma", "M — Mechanisme", (
        F("accident_type", "Ongevalstype", "select", "accident_types", required=True),),
        button="Mechanisme opslaan"),
    EntryForm("letsel", "exposure", "trauma", "I — Letsel", (
        F("injuries.region", "Regio", "select", "body_regions", required=True),
        F("injuries.findings", "Letsel", "multi", "injury_types")), button="Letsel opslaan"),
    EntryForm("intoxication", "intoxication", "trauma", "Intoxicatie", (
        F("substance", "Middel", "select", "intoxications", required=True),), button="Intoxicatie opslaan",
        not_states=True),
    # -- Secundair & SAMPLE ----------------------------------------------------------------------
    EntryForm("sample", "sample", "secundair", "SAMPLE (S, M, P, L, E)", (
        F("signs_symptoms", "S — Klachten", "text"), F("medication_history", "M — Medicatie", "text"),
        F("past_history", "P — Voorgeschiedenis", "text"), F("last_intake", "L — Laatste inname", "text"),
        F("events", "E — Gebeurtenis", "text")), button="SAMPLE opslaan", text=None),
    _one_tap("geen-allergieen", "allergy", "secundair", "A — Geen bekende allergieën", no_known_allergies=True),
    EntryForm("allergy", "allergy", "secundair", "A — Allergie", (
        F("substance", "Allergie voor", "text", required=True), F("reaction", "Reactie", "text")),
        button="Allergie opslaan", text=None),
    EntryForm("secondary", "secondary", "secundair", "Secundair onderzoek (kop-teen)", (
        F("region", "Regio", "select", "body_regions", required=True),
        F("findings", "Bevindingen", "multi", "injury_types")), button="Bevinding opslaan", not_states=True),
    # -- Verrichtingen, werkdiagnose -----------------------------------------------------------
    EntryForm("procedure", "procedure", "verrichtingen", "Verrichting", (
        F("procedure", "Verrichting", "select", "procedures", required=True),
        F("result", "Resultaat", "select", "procedure_results"),
        F("attempts", "Pogingen", "number", example="1")), button="Verrichting opslaan", not_states=True),
    EntryForm("diagnosis", "diagnosis", "diagnose", "Werkdiagnose", (
        F("text", "Werkdiagnose", "text", required=True),), button="Werkdiagnose opslaan", text=None,
        single_fact=True),
    EntryForm("remark", "remark", "diagnose", "Opmerking", (
        F("text", "Opmerking", "text", required=True),), button="Opmerking opslaan", text=None),
]
FORMS_BY_ID = {f.form_id: f for f in FORMS}
# The only fields a tablet form sends more than once (a checkbox group); any other repeated
# field is refused (web/pages.py posted) instead of being stored as "['a', 'b']".
MULTI_FIELDS = frozenset(f.name for form in FORMS for f in form.fields if f.widget == "multi")
# Kinds drawn by a tab of their own rather than by this table (the test counts them too).
TAB_DRAWN_KINDS = {"vital": "vitals", "medication": "medicatie", "time": "patient"}
SINGLE_FACT_KINDS = {f.kind for f in FORMS if f.single_fact} | {"time"}


def forms_for(tab: str) -> list[EntryForm]:
    return [f for f in FORMS if f.tab == tab]


def _number(value: str, label: str, name: str) -> float:
    try:
        return float(value.replace(",", "."))
    except ValueError:
        raise DomainError(f"{label}: '{value[:20]}' is geen getal", name) from None


def _set(data: dict[str, Any], dotted: str, value: Any) -> None:
    head, _, rest = dotted.partition(".")
    if rest:
        data.setdefault(head, {})
        _set(data[head], rest, value)
    else:
        data[head] = value


def data_from_fields(form: EntryForm, posted: dict[str, Any]) -> dict[str, Any]:
    """A posted form as entry data: numbers parsed, yes/no as booleans, empty fields left out."""
    if form.fixed:
        return dict(form.fixed)
    if form.not_states and posted.get("not_state"):
        state = str(posted["not_state"])
        if state not in NOT_STATES:
            raise DomainError("kies een geldige reden waarom het niet gedaan is", "not_state")
        data: dict[str, Any] = {"not_state": state}
        if posted.get("text"):
            data["text"] = posted["text"]
        return data
    data = {}
    for f in form.fields:
        raw = posted.get(f.name)
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        values = [str(v).strip() for v in values if str(v).strip()]
        if not values:
            continue
        if f.widget == "multi":
            value: Any = values
        elif f.widget == "number":
            value = _number(values[0], f.label, f.name)
        elif f.widget == "clock":
            value = _clock(values[0], f.name).isoformat()
        elif f.widget in ("yesno", "check"):
            value = values[0] in ("ja", "1", "on", "true")
        elif f.choices in INLINE_CHOICES and isinstance(INLINE_CHOICES[f.choices][0][0], int):
            value = int(values[0]) if values[0].isdigit() else values[0]
        else:
            value = values[0]
        _set(data, f.name, value)
    if "injuries" in data:  # one injury per save: region and its findings
        data["injuries"] = [data["injuries"]]
    if form.text and posted.get("text"):
        data["text"] = posted["text"]
    if not data:
        first = form.fields[0].name if form.fields else "text"
        raise DomainError("vul iets in of kies waarom het niet gedaan is", first)
    return data


def _clock(value: str, name: str) -> datetime:
    try:
        return clock_time(value)
    except DomainError as exc:
        raise DomainError(exc.message, name) from None


def medication_data(posted: dict[str, Any], drugs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The medication form: the unit comes from the drug list unless the crew typed one."""
    drug = str(posted.get("drug") or "")
    if drug not in drugs:
        raise DomainError("kies een middel uit de lijst", "drug")
    data: dict[str, Any] = {"drug": drug, "unit": drugs[drug]["unit"]}
    if posted.get("dose"):
        data["dose"] = _number(str(posted["dose"]), "Dosis", "dose")
    if posted.get("unit"):
        data["unit"] = UNIT_FROM_WORDS.get(str(posted["unit"]).strip().lower(), str(posted["unit"]).strip())
    data["route"] = str(posted.get("route") or drugs[drug]["routes"][0])
    return data


def clock_time(value: str, now: datetime | None = None) -> datetime:
    """"om HH:MM" (local time) as an aware moment: today, or yesterday when today's HH:MM is
    still ahead (a run past midnight); never in the future."""
    now = (now or datetime.now(UTC)).astimezone(LOCAL)
    try:
        hours, minutes = (int(p) for p in value.strip().replace(".", ":").split(":"))
        moment = now.replace(hour=hours, minute=minutes, second=0, microsecond=0)
    except ValueError:
        raise DomainError(f"'{value[:10]}' is geen tijd; schrijf UU:MM, bijv. 14:05", "at") from None
    if moment > now + timedelta(minutes=1):
        if now - (moment - timedelta(days=1)) > timedelta(hours=12):
            raise DomainError(f"{value} ligt in de toekomst", "at")
        moment -= timedelta(days=1)
    elif now - moment > timedelta(hours=12):
        raise DomainError(f"{value} ligt meer dan 12 uur terug; kies een tijd van deze rit", "at")
    return moment.astimezone(UTC)
