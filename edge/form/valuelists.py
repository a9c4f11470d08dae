"""Structured value lists (pick-lists) of the ritformulier, with Dutch defaults.

Every coded field of an entry names the list its code must come from. The defaults below
are sensible starting points, not a formulary: an ambulance service replaces any list by
naming it in a TOML or JSON file (setting ``value_lists_file``). A list in the file
replaces the default list of that name entirely, so what the crew sees is exactly what
the file says. Codes are stable ASCII ids; labels are what the crew and the SEH read.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from edge.config import ConfigError
from edge.errors import DomainError


def _items(*pairs: str) -> list[dict[str, Any]]:
    """``"code=Label"`` strings to list items."""
    out = []
    for pair in pairs:
        code, label = pair.split("=", 1)
        out.append({"code": code, "label": label})
    return out


def _med(code: str, label: str, dose: float, unit: str, max_dose: float, routes: list[str]) -> dict[str, Any]:
    # max_single_dose: above it a dose is unusual and needs confirm; 10x above it is impossible.
    return {"code": code, "label": label, "standard_dose": dose, "unit": unit, "max_single_dose": max_dose,
            "routes": routes}


DEFAULT_LISTS: dict[str, list[dict[str, Any]]] = {
    "sex": _items("M=man", "F=vrouw", "UN=ongedifferentieerd", "UNK=onbekend"),
    "crew_roles": _items("ambulanceverpleegkundige=ambulanceverpleegkundige",
                         "ambulancechauffeur=ambulancechauffeur", "physician_assistant=physician assistant",
                         "arts=arts", "student=student"),
    "accident_types": _items(
        "verkeer_auto=verkeersongeval auto", "verkeer_motor=verkeersongeval motor/scooter",
        "verkeer_fiets=verkeersongeval fiets", "verkeer_voetganger=aanrijding voetganger",
        "val_hoogte=val van hoogte", "val_gelijkvloers=val gelijkvloers", "val_trap=val van trap",
        "geweld_steek=steekverwonding", "geweld_schot=schotverwonding", "geweld_slag=mishandeling/slag",
        "brand=brand/verbranding", "verdrinking=(bijna-)verdrinking", "elektrocutie=elektrocutie",
        "explosie=explosie", "sport=sportletsel", "bedrijf=bedrijfsongeval", "beet=beet/steek dier",
        "beknelling=beknelling", "overig=overig ongeval"),
    "breathing_findings": _items(
        "normaal=normale ademhaling", "dyspnoe=dyspnoe", "tachypneu=tachypneu", "bradypneu=bradypneu",
        "hulpademhalingsspieren=gebruik hulpademhalingsspieren", "intrekkingen=intrekkingen",
        "neusvleugelen=neusvleugelen", "stridor=stridor", "piepend=piepende ademhaling",
        "asymmetrie=asymmetrische thoraxexcursie", "paradoxaal=paradoxale ademhaling", "apneu=apneu",
        "kussmaul=Kussmaul-ademhaling", "spreken_zinnen=kan geen hele zinnen spreken"),
    "breath_sounds": _items("normaal=normaal", "verminderd=verminderd", "afwezig=afwezig", "piepend=piepend",
                            "crepitaties=crepitaties", "rhonchi=rhonchi"),
    "oxygen_devices": _items("kamerlucht=kamerlucht (geen O2)", "neusbril=neusbril", "kapje=zuurstofkapje",
                             "non_rebreathing=non-rebreathing masker", "venturi=venturimasker",
                             "ballon=beademingsballon", "beademing=beademingsapparaat", "cpap=CPAP"),
    "skin_findings": _items(
        "normaal=normaal", "bleek=bleek", "grauw=grauw", "cyanotisch=cyanotisch", "rood=rood",
        "gemarmerd=gemarmerd", "klam=klam", "zweterig=zweterig", "koud=koud", "warm=warm", "droog=droog",
        "icterisch=icterisch", "petechien=petechiën", "urticaria=urticaria", "oedeem=oedeem"),
    "airway_status": _items("vrij=vrij", "bedreigd=bedreigd", "partiele_obstructie=partiële obstructie",
                            "volledige_obstructie=volledige obstructie"),
    "airway_findings": _items("stridor=stridor", "snurken=snurken", "gorgelen=gorgelen",
                              "braaksel_bloed=braaksel/bloed in mond-keelholte", "zwelling=zwelling",
                              "vreemd_voorwerp=vreemd voorwerp", "inhalatieletsel=verdenking inhalatieletsel"),
    "airway_interventions": _items(
        "kinlift=kinlift/jaw thrust", "uitzuigen=uitzuigen", "opa=mayotube (OPA)", "npa=neustube (NPA)",
        "supraglottisch=supraglottische luchtweg", "intubatie=endotracheale intubatie",
        "coniotomie=coniotomie", "heimlich=Heimlich/rugslagen", "cervicale_immobilisatie=cervicale immobilisatie"),
    "bleeding": _items("geen=geen uitwendige bloeding", "gecontroleerd=bloeding gecontroleerd",
                       "ongecontroleerd=bloeding niet gecontroleerd"),
    "circulation_interventions": _items(
        "drukverband=drukverband", "tourniquet=tourniquet", "hemostatisch=hemostatisch gaas",
        "bekkenband=bekkenband", "iv=perifeer infuus", "io=intraossale toegang", "vocht=vochttoediening",
        "reanimatie=thoraxcompressies", "defibrillatie=defibrillatie"),
    "acvpu": _items("A=alert", "C=nieuwe verwardheid", "V=reageert op aanspreken", "P=reageert op pijn",
                    "U=reageert niet"),
    "pupil_reactions": _items("normaal=normaal reagerend", "traag=traag reagerend", "lichtstijf=lichtstijf"),
    "lateralisation": _items("geen=geen", "links=links", "rechts=rechts"),
    "body_regions": _items(
        "hoofd=hoofd", "gelaat=gelaat", "hals=hals", "thorax=thorax", "abdomen=abdomen", "bekken=bekken",
        "rug=rug", "wervelkolom=wervelkolom", "arm_links=arm links", "arm_rechts=arm rechts",
        "been_links=been links", "been_rechts=been rechts", "huid=huid", "genitalia=genitalia"),
    "injury_types": _items(
        "geen_afwijkingen=geen afwijkingen", "pijn=pijn/drukpijn", "kneuzing=kneuzing", "schaafwond=schaafwond",
        "snijwond=snijwond", "steekwond=steekwond", "schotwond=schotwond", "fractuur=verdenking fractuur",
        "open_fractuur=open fractuur", "luxatie=luxatie", "deformiteit=deformiteit", "brandwond=brandwond",
        "amputatie=amputatie", "bloeding=bloeding", "instabiel=instabiliteit", "crepitus=crepitus"),
    "intoxications": _items(
        "alcohol=alcohol", "cannabis=cannabis", "cocaine=cocaïne", "amfetamine=amfetamine/XTC", "ghb=GHB",
        "opiaten=opiaten", "benzodiazepinen=benzodiazepinen", "paracetamol=paracetamol",
        "antidepressiva=antidepressiva", "koolmonoxide=koolmonoxide", "rook=rookinhalatie",
        "bijtend=bijtende stof", "bestrijdingsmiddel=bestrijdingsmiddel", "onbekend=onbekende stof"),
    "routes": _items("iv=intraveneus", "io=intraossaal", "im=intramusculair", "sc=subcutaan",
                     "in=intranasaal", "po=oraal", "sl=sublinguaal", "inh=vernevelen/inhalatie", "rect=rectaal"),
    "medications": [
        _med("adrenaline", "adrenaline (epinefrine)", 1, "mg", 1, ["iv", "io", "im"]),
        _med("amiodaron", "amiodaron", 300, "mg", 300, ["iv", "io"]),
        _med("acetylsalicylzuur", "acetylsalicylzuur", 160, "mg", 320, ["po", "iv"]),
        _med("clopidogrel", "clopidogrel", 600, "mg", 600, ["po"]),
        _med("heparine", "heparine", 5000, "[iU]", 5000, ["iv"]),
        _med("nitroglycerine", "nitroglycerine", 0.4, "mg", 0.8, ["sl"]),
        _med("morfine", "morfine", 5, "mg", 10, ["iv", "im", "sc"]),
        _med("fentanyl", "fentanyl", 50, "ug", 150, ["iv", "in"]),
        _med("paracetamol", "paracetamol", 1000, "mg", 1000, ["po", "iv", "rect"]),
        _med("glucose", "glucose", 10, "g", 25, ["iv", "po"]),
        _med("midazolam", "midazolam", 5, "mg", 10, ["iv", "im", "in"]),
        _med("naloxon", "naloxon", 0.4, "mg", 2, ["iv", "im", "in"]),
        _med("salbutamol", "salbutamol", 5, "mg", 10, ["inh"]),
        _med("ipratropium", "ipratropium", 0.5, "mg", 0.5, ["inh"]),
        _med("ondansetron", "ondansetron", 4, "mg", 8, ["iv"]),
        _med("metoclopramide", "metoclopramide", 10, "mg", 10, ["iv", "im"]),
        _med("clemastine", "clemastine", 2, "mg", 2, ["iv", "im"]),
        _med("hydrocortison", "hydrocortison", 100, "mg", 200, ["iv", "im"]),
        _med("tranexaminezuur", "tranexaminezuur", 1000, "mg", 1000, ["iv"]),
        _med("nacl", "NaCl 0,9%", 500, "mL", 1000, ["iv", "io"]),
        _med("ringerlactaat", "Ringerlactaat", 500, "mL", 1000, ["iv", "io"]),
        _med("esketamine", "esketamine", 12.5, "mg", 50, ["iv", "in"]),
    ],
    "procedures": _items(
        "infuus=perifeer infuus", "io=intraossale toegang", "ecg12=12-afleidingen-ECG",
        "intubatie=endotracheale intubatie", "supraglottisch=supraglottische luchtweg",
        "beademing=beademing (ballon/apparaat)", "cpap=CPAP", "reanimatie=reanimatie (thoraxcompressies)",
        "defibrillatie=defibrillatie", "cardioversie=elektrische cardioversie", "pacing=externe pacing",
        "tourniquet=tourniquet", "bekkenband=bekkenband", "vacuummatras=vacuümmatras",
        "wervelkolom_immobilisatie=wervelkolomimmobilisatie", "spalk=spalk", "tractiespalk=tractiespalk",
        "naaldthoracocentese=naaldthoracocentese", "wondverzorging=wondverzorging", "uitzuigen=uitzuigen",
        "repositie=repositie", "koelen=koelen brandwond", "glucosemeting=glucosemeting"),
    "team_alerts": _items(
        "trauma=traumaalarm", "cva=CVA / beroerte", "stemi=STEMI", "sepsis=sepsis", "reanimatie=reanimatie / ROSC",
        "obstetrie=obstetrie", "kind=kind", "overig=overig"),
    "trauma_levels": _items("niveau_1=traumaalarm niveau 1", "niveau_2=traumaalarm niveau 2"),
    "ecg_rhythms": _items(
        "sinus=sinusritme", "sinustachycardie=sinustachycardie", "sinusbradycardie=sinusbradycardie",
        "af=atriumfibrilleren", "afl=atriumflutter", "svt=supraventriculaire tachycardie",
        "vt=ventrikeltachycardie", "vf=ventrikelfibrilleren", "avblok2=AV-blok 2e graad", "avblok3=AV-blok 3e graad",
        "pacemaker=pacemakerritme", "asystolie=asystolie", "pea=PEA", "anders=ander ritme"),
    "ecg_leads": _items("I=I", "II=II", "III=III", "aVR=aVR", "aVL=aVL", "aVF=aVF", "V1=V1", "V2=V2", "V3=V3",
                        "V4=V4", "V5=V5", "V6=V6"),
    "procedure_results": _items("gelukt=gelukt", "mislukt=mislukt", "gedeeltelijk=gedeeltelijk gelukt",
                                "gestaakt=gestaakt"),
    "treatment_limits": _items(
        "niet_reanimeren=niet reanimeren", "niet_beademen=niet beademen", "niet_intuberen=niet intuberen",
        "geen_defibrillatie=geen defibrillatie", "geen_ic=geen IC-opname",
        "geen_ziekenhuisopname=geen ziekenhuisopname", "palliatief=palliatief beleid"),
    "treatment_limit_sources": _items(
        "patient=patiënt", "vertegenwoordiger=familie/vertegenwoordiger", "wilsverklaring=schriftelijke wilsverklaring",
        "penning=niet-reanimeren-penning", "huisarts=huisarts", "behandelaar=behandelaar/medisch dossier",
        "verpleeghuis=zorginstelling"),
    "legal_measures": _items(
        "wzd_zorgmachtiging=Wzd: rechterlijke machtiging", "wzd_ibs=Wzd: inbewaringstelling",
        "wzd_art21=Wzd: artikel 21-besluit", "wvggz_crisismaatregel=Wvggz: crisismaatregel",
        "wvggz_machtiging_crisis=Wvggz: machtiging voortzetting crisismaatregel",
        "wvggz_zorgmachtiging=Wvggz: zorgmachtiging",
        "wvggz_tijdelijke_verplichte_zorg=Wvggz: tijdelijke verplichte zorg voorafgaand aan crisismaatregel"),
    "cancel_reasons": _items(
        "niet_vervoerd=patiënt niet vervoerd", "vervoer_weigering=patiënt weigert vervoer",
        "andere_bestemming=bestemming gewijzigd", "overleden=overleden ter plaatse",
        "ander_vervoer=vervoer door andere eenheid", "loos_alarm=loos alarm", "anders=anders"),
}


class ValueLists:
    def __init__(self, lists: dict[str, list[dict[str, Any]]]):
        self.lists = lists
        self._index = {name: {item["code"]: item for item in items} for name, items in lists.items()}

    def item(self, name: str, code: str) -> dict[str, Any] | None:
        return self._index[name].get(code)

    def check(self, name: str, code: str, field: str) -> dict[str, Any]:
        """The list item for ``code``; a 422 naming ``field`` when the code is not on the list."""
        item = self.item(name, code)
        if item is None:
            raise DomainError(f"'{code}' staat niet in de lijst {name}", field, type="value_list",
                              ctx={"list": name})
        return item

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return self.lists


_MED_KEYS = {"code", "label", "standard_dose", "unit", "max_single_dose", "routes"}


def _validate(lists: dict[str, Any], source: str) -> None:
    for name, items in lists.items():
        if name not in DEFAULT_LISTS:
            raise ConfigError(f"value list file {source}: unknown list '{name}'")
        if not isinstance(items, list) or not items:
            raise ConfigError(f"value list file {source}: list '{name}' must be a non-empty array")
        codes = set()
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("code"), str) or not item.get("label"):
                raise ConfigError(f"value list file {source}: every item of '{name}' needs code and label")
            if item["code"] in codes:
                raise ConfigError(f"value list file {source}: duplicate code '{item['code']}' in '{name}'")
            codes.add(item["code"])
            if name == "medications":
                missing = _MED_KEYS - item.keys()
                if missing:
                    raise ConfigError(f"value list file {source}: medication '{item['code']}' lacks "
                                      + ", ".join(sorted(missing)))
                if not (0 < item["standard_dose"] <= item["max_single_dose"]):
                    raise ConfigError(f"value list file {source}: medication '{item['code']}' needs "
                                      "0 < standard_dose <= max_single_dose")


def load_value_lists(path: Path | None = None) -> ValueLists:
    """The defaults, with every list named in ``path`` (TOML or JSON) replacing its default."""
    lists = {name: [dict(i) for i in items] for name, items in DEFAULT_LISTS.items()}
    if path is None:
        return ValueLists(lists)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"value list file {path} cannot be read: {exc.strerror}") from None
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"value list file {path} is not valid: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"value list file {path}: top level must be a table of lists")
    _validate(data, str(path))
    lists.update(data)
    routes = {r["code"] for r in lists["routes"]}
    for med in lists["medications"]:
        if unknown := set(med["routes"]) - routes:
            raise ConfigError(f"value list file {path}: medication '{med['code']}' has unknown route(s) "
                              + ", ".join(sorted(unknown)))
    return ValueLists(lists)
