"""Code tables of the FHIR export: Nictiz profile URLs, LOINC/SNOMED/UCUM per form item.

Facts from Nictiz's public profile sources (zib 2020 / nl-core, the draft ambu-* referral
profiles, MP9 MedicationAdministration2); docs/fhir.md says which of them are drafts.
ritlink's own codes travel as a second coding under ``LOCAL`` so a receiver that knows the
Nictiz codes reads those, and the round trip back to the form loses nothing.
"""

from __future__ import annotations

NICTIZ = "http://nictiz.nl/fhir/StructureDefinition/"
LOINC, SNOMED, UCUM = "http://loinc.org", "http://snomed.info/sct", "http://unitsofmeasure.org"
MDC = "urn:iso:std:iso:11073:10101"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
DATA_ABSENT_EXT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
BSN = "http://fhir.nl/fhir/NamingSystem/bsn"
# Ritnummer (IncidentNumber) as the Acute Zorg referral identifies it.
INCIDENT_NUMBER = "urn:oid:2.16.840.1.113883.2.4.3.32.5"

# ritlink's own code systems and identifiers (URNs: they resolve nowhere, by design).
LOCAL = "urn:ritlink:"
ENTRY_ID = LOCAL + "entry-id"
RIT_ID = LOCAL + "rit-id"
USER = LOCAL + "user"
VEHICLE = LOCAL + "vehicle"
SEH = LOCAL + "seh"
NOT_STATE = LOCAL + "not-state"
RIT_STATUS = LOCAL + "rit-status"
KIND = LOCAL + "kind"
SECTION = LOCAL + "section"
EXT = LOCAL + "fhir:extension:"
EXT_RUN_TIME = EXT + "run-time:"  # + time point, valueDateTime (no Acute Zorg element for run times yet)
EXT_ESTIMATED_AGE = EXT + "estimated-age"
EXT_UNIDENTIFIED = EXT + "unidentified"
EXT_NAGEKOMEN = EXT + "nagekomen"
EXT_CORRECTION_REASON = EXT + "correction-reason"
EXT_ONVOLLEDIG = EXT + "onvolledig"


def local_system(list_name: str) -> str:
    """The code system of one ritlink value list (edge/form/valuelists.py)."""
    return f"{LOCAL}valuelist:{list_name}"


PROFILES = {
    "Task": NICTIZ + "ambu-ReferralTask",
    "ServiceRequest": NICTIZ + "ambu-ReferralServiceRequest",
    "Composition": NICTIZ + "ambu-ReferralComposition",
    "Communication": NICTIZ + "ambu-Communication",
    "Patient": NICTIZ + "nl-core-Patient",
    "Practitioner": NICTIZ + "nl-core-HealthProfessional-Practitioner",
    "PractitionerRole": NICTIZ + "nl-core-HealthProfessional-PractitionerRole",
    "Organization": NICTIZ + "nl-core-HealthcareProvider-Organization",
    "Encounter": NICTIZ + "nl-core-Encounter",
    "Condition": NICTIZ + "nl-core-Problem",
    "LegalStatus": NICTIZ + "nl-core-LegalSituation-LegalStatus",
    "Procedure": NICTIZ + "nl-core-Procedure-event",
    "AllergyIntolerance": NICTIZ + "nl-core-AllergyIntolerance",
    "Consent": NICTIZ + "nl-core-TreatmentDirective2",
    "Flag": NICTIZ + "nl-core-Alert",
    "MedicationAdministration": NICTIZ + "mp-MedicationAdministration2",
    "GlasgowComaScale": NICTIZ + "nl-core-GlasgowComaScale",
    "PainScore": NICTIZ + "nl-core-PainScore",
    "BodyWeight": NICTIZ + "nl-core-BodyWeight",
}
# Vital signs: parameter -> (profile, LOINC, display, UCUM). Respiratory rate and etCO2 have no
# usable Nictiz profile (AWAITING_NICTIZ below): they carry the HL7 FHIR core vital-signs profiles.
VITAL_CODES: dict[str, tuple[str, str, str, str]] = {
    "heart_rate": (NICTIZ + "nl-core-HeartRate", "8867-4", "Heart rate", "/min"),
    "pulse_rate": (NICTIZ + "nl-core-PulseRate.PulseRateValue", "8893-0", "Heart rate Peripheral artery by palpation",
                   "/min"),
    "spo2": (NICTIZ + "nl-core-O2Saturation", "2708-6", "Oxygen saturation in Arterial blood", "%"),
    "bp_systolic": (NICTIZ + "nl-core-BloodPressure", "8480-6", "Systolic blood pressure", "mm[Hg]"),
    "bp_diastolic": (NICTIZ + "nl-core-BloodPressure", "8462-4", "Diastolic blood pressure", "mm[Hg]"),
    "bp_mean": (NICTIZ + "nl-core-BloodPressure", "8478-0", "Mean blood pressure", "mm[Hg]"),
    "resp_rate": ("http://hl7.org/fhir/StructureDefinition/resprate", "9279-1", "Respiratory rate", "/min"),
    "etco2": ("http://hl7.org/fhir/StructureDefinition/vitalsigns", "19889-5",
              "Carbon dioxide [Partial pressure] in Exhaled gas --at end expiration", "kPa"),
    "temperature": (NICTIZ + "nl-core-BodyTemperature", "8310-5", "Body temperature", "Cel"),
    "glucose": (NICTIZ + "nl-core-LaboratoryTestResult", "15074-8", "Glucose [Moles/volume] in Blood", "mmol/L"),
}
SPO2_PULSE_OXIMETRY = "59408-5"  # second LOINC coding next to the zib's 2708-6
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
# Blocked by the standard (docs/fhir.md, "Blocked by the standard"): parameter -> the Nictiz profile
# that will fit once Nictiz releases it, or None where Nictiz has no profile at all, not even a draft.
# Respiratory rate: zib Respiration v3.2 (zib 2020) has BreathingFrequency, but its R4 profile exists
# only as an abstract draft on an unreleased branch of Nictiz-R4-zib2020 (in no package up to
# nl-core 0.12.1-beta.1). etCO2: no zib (2020 or 2024) and no Nictiz profile has the concept.
AWAITING_NICTIZ: dict[str, str | None] = {
    "resp_rate": NICTIZ + "nl-core-Respiration.BreathingFrequency",
    "etco2": None,
}
NON_NICTIZ_PROFILES = frozenset(VITAL_CODES[name][0] for name in AWAITING_NICTIZ)

GCS_TOTAL = ("35088-4", "Glasgow coma scale")
# component -> (SNOMED, zib code system OID, prefix of its codes)
GCS_PARTS = {
    "eye": ("281395000", "urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.2.1", "E"),
    "motor": ("281396004", "urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.2.2", "M"),
    "verbal": ("281397008", "urn:oid:2.16.840.1.113883.2.4.3.11.60.40.4.2.3", "V"),
}
PAIN_SCORE = ("225908003", "pijnscore")
BODY_WEIGHT = ("29463-7", "Body weight")

# "Not" states: the nearest data-absent-reason, and the exact state as a local coding.
NOT_STATE_ABSENT = {"niet beoordeeld": "not-performed", "niet uitgevoerd": "not-performed",
                    "geweigerd": "asked-declined", "niet mogelijk": "unknown", "niet van toepassing": "not-applicable"}

GENDER = {"M": "male", "F": "female", "UN": "other", "UNK": "unknown"}
# Urgency -> ServiceRequest.priority (A1 lights and sirens, A2 urgent, B planned).
PRIORITY = {"A1": "stat", "A2": "urgent", "B": "routine"}
# ritlink status -> (Task.status, ServiceRequest.status = bestemmingsstatus, Encounter.status)
STATUS = {
    "concept": ("draft", "draft", "planned"),
    "vooraankondiging": ("requested", "active", "in-progress"),
    "update": ("in-progress", "active", "in-progress"),
    "overdracht": ("completed", "completed", "finished"),
    "geannuleerd": ("cancelled", "revoked", "cancelled"),
}
REFERRAL = ("3457005", "verwijzen van patiënt")
REFERRAL_NOTE = ("57133-1", "Referral note")
DIAGNOSIS_CATEGORY = ("282291009", "diagnose")
MEDICATION_ADMINISTRATION = ("18629005", "toediening van medicatie")
NO_KNOWN_ALLERGY = ("716186003", "geen allergie bekend")
TREATMENT_DIRECTIVE = ("129125009", "verrichting met expliciete context")
LEGAL_STATUS = ("303186005", "juridische status")
# Behandelgrenzen: form code -> SNOMED code in zib TreatmentDirective2's BehandelingCodelijst
# (the others travel as NullFlavor OTH with their text).
TREATMENT_CODES = {"niet_reanimeren": ("89666000", "cardiopulmonale resuscitatie"),
                   "niet_beademen": ("40617009", "kunstmatige beademing"),
                   "geen_ic": ("305351004", "opname op intensive care"),
                   "geen_ziekenhuisopname": ("32485007", "opname in ziekenhuis")}
# UCUM codes of the medication units the value lists use, as they are (mg, ug, [iU], mL, g).
UCUM_UNITS = frozenset({"mg", "ug", "[iU]", "mL", "g", "kg", "/min", "%", "mm[Hg]", "Cel", "kPa", "mmol/L"})

# The Composition's sections, in the order of the handover (MIST, then ABCDE, treatment, limits).
SECTIONS = (
    ("melding", "Melding en reden van inzet"),
    ("vitals", "Vitale parameters en scores"),
    ("airway", "A — Luchtweg"),
    ("breathing", "B — Ademhaling"),
    ("circulation", "C — Circulatie"),
    ("disability", "D — Neurologie"),
    ("exposure", "E — Exposure"),
    ("secondary", "Secundair onderzoek"),
    ("sample", "SAMPLE-anamnese"),
    ("trauma_mechanism", "Traumamechanisme"),
    ("intoxication", "Intoxicaties"),
    ("ecg", "12-afleidingen-ECG"),
    ("medication", "Toegediende medicatie"),
    ("procedure", "Verrichtingen"),
    ("diagnosis", "Werkdiagnose"),
    ("allergy", "Allergieën"),
    ("treatment_limits", "Behandelgrenzen"),
    ("legal_measure", "Juridische situatie"),
    ("remark", "Opmerkingen"),
)
# Kinds told only in a Composition section's narrative: no released nl-core profile structures
# these findings (docs/fhir.md, "Not mapped").
NARRATIVE_KINDS = ("airway", "breathing", "circulation", "disability", "exposure", "secondary", "sample",
                   "trauma_mechanism", "intoxication", "ecg", "spo2_scale")
# Form fields that do not travel as structured FHIR (each is listed in docs/fhir.md).
NOT_MAPPED = {
    "*": ("recorded_at", "position", "confirmed_unusual"),
    "vital": ("label", "unit", "code", "loinc"),  # derived from the parameter again
    "melding": ("location.lat", "location.lon"),
    "procedure": ("attempts",),
}

# Dutch words for the fields in the Composition's narrative (the SEH staff read these).
FIELD_WORDS = {
    "status": "status", "findings": "bevindingen", "interventions": "interventies", "breath_sounds_left":
    "ademgeruis links", "breath_sounds_right": "ademgeruis rechts", "oxygen_device": "zuurstof",
    "oxygen_flow_l_min": "zuurstof l/min", "skin": "huid", "capillary_refill_s": "capillaire refill (s)",
    "pulse_regular": "pols regulair", "bleeding": "bloeding", "acvpu": "bewustzijn (ACVPU)",
    "pupil_left_mm": "pupil links (mm)", "pupil_right_mm": "pupil rechts (mm)", "pupil_left_reaction": "reactie links",
    "pupil_right_reaction": "reactie rechts", "lateralisation": "lateralisatie", "stroke_signs": "FAST positief",
    "injuries": "letsel", "burns_tbsa_percent": "verbrand oppervlak (%)", "region": "regio",
    "signs_symptoms": "S — klachten", "medication_history": "M — medicatie", "past_history": "P — voorgeschiedenis",
    "last_intake": "L — laatste inname", "events": "E — gebeurtenis", "drug": "middel", "dose": "dosis",
    "unit": "eenheid", "route": "toediening", "given_by": "gegeven door", "procedure": "verrichting",
    "result": "resultaat", "attempts": "pogingen", "rhythm": "ritme", "rate": "frequentie",
    "st_elevation_leads": "ST-elevatie in", "stemi": "STEMI-criteria", "transmitted": "ECG verstuurd",
    "text": "toelichting", "snomed": "SNOMED", "accident_type": "mechanisme", "substance": "middel",
    "reaction": "reactie", "no_known_allergies": "geen bekende allergieën", "limits": "grenzen", "origin": "bron",
    "origin_date": "vastgelegd op", "measure": "maatregel", "scale": "SpO2-schaal", "not_state": "niet gedaan",
    "value": "waarde", "nrs": "pijnscore (NRS)", "eye": "E", "motor": "M", "verbal": "V",
}
