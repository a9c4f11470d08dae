"""Whole runs recorded through the tablet's pages alone, as a crew in a hurry would, announced
and handed over complete; the SEH page shows every item, and no page shows a code, a UCUM
unit or an ISO time (acceptance 3 and 5 of "no save refused in silence").

Taps are counted (a click, a choice, a tick, a field filled) and printed; the STEMI run has a
budget of 45. Nothing is set up through the API: it is only read, to check the outcome.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.harness import form_probe
from tests.harness.form_probe import Taps
from tests.harness.raw_text import raw_words
from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, TABLET, box_of, chromium, sign_in  # noqa: F401
from tests.harness.waiting import wait_until

STEMI_TAP_BUDGET = 45


def save(taps: Taps, target) -> None:
    form_probe.save(taps, target, must_save=True)


def tab(taps: Taps, name: str) -> None:
    taps.click(f"nav.tabs a:has-text('{name}')")
    taps.page.wait_for_selector(f"nav.tabs a.actief:has-text('{name}')")


def form(page: Page, data_form: str):
    return page.locator(f"form[data-form='{data_form}']")


def announce_and_hand_over(taps: Taps, alert: str | None = None) -> None:
    page = taps.page
    tab(taps, "Overdracht")
    if alert:  # the team alarm goes out with the vooraankondiging
        taps.check(f"form[data-form=team_alert] input[name=alerts][value={alert}]")
        save(taps, "form[data-form=team_alert] button")
    taps.click("a:has-text('Vooraankondigen')")
    save(taps, "button:has-text('Ja, vooraankondigen')")
    taps.click("main a:has-text('Overdracht')")
    expect(page.locator("input[name=onvolledig]")).to_have_count(0)  # complete: nothing to tick away
    save(taps, "button:has-text('Ja, overdracht versturen')")


def scan_pages(page: Page, urls: list[str]) -> dict[str, list[str]]:
    found = {}
    for url in urls:
        page.goto(url)
        raw = raw_words(page.locator("body").inner_text())
        if raw:
            found[url] = raw
    return found


def seh_rit_text(board: Page, seh, rit_id: str) -> str:
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["status"] == "overdracht", 10,
               what="the handover at the SEH")
    board.goto(f"{seh.base_url}/rits/{rit_id}")
    return board.locator("body").inner_text()


def check_all_pages(tablet: Page, board: Page, edge, seh, rit_id: str) -> None:
    tabs = ["patient", "abcde", "vitals", "trauma", "secundair", "medicatie", "verrichtingen", "diagnose",
            "overdracht"]
    urls = [f"{edge.base_url}/", *(f"{edge.base_url}/rits/{rit_id}?tab={t}" for t in tabs),
            f"{edge.base_url}/rits/{rit_id}/bevestig/annuleren"]
    raw = scan_pages(tablet, urls)
    raw |= scan_pages(board, [f"{seh.base_url}/", f"{seh.base_url}/rits/{rit_id}",
                              f"{seh.base_url}/rits/{rit_id}/versies?seq=1"])
    assert raw == {}, raw


def test_stemi_run_complete_within_the_tap_budget(chromium, broker, monitor, edge_process, seh_process):  # noqa: F811
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    page = chromium.new_page(viewport=TABLET)
    board = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    sign_in(page, edge.base_url)
    taps = Taps(page)

    taps.fill("input[name=reason]", "pijn op de borst")  # A1 and the first SEH are preselected
    taps.click("button:has-text('Rit starten')")
    page.wait_for_url("**/rits/**")
    rit_id = page.url.split("/rits/")[1].split("?")[0]
    for button in ("A: vrij", "B: normale ademhaling", "C: geen bijzonderheden", "D: alert", "E: geen afwijkingen"):
        save(taps, f"button:has-text('{button}')")

    tab(taps, "Vitale waarden")
    expect(page.locator(".tegel[data-code]").first).to_be_visible(timeout=5000)
    save(taps, "#overnemen")
    vitals = form(page, "vitaal")
    taps.fill(vitals.locator("input[name=bp_systolic]"), "150")
    taps.fill(vitals.locator("input[name=bp_diastolic]"), "95")
    save(taps, vitals.locator("button"))
    ecg = form(page, "ecg")
    taps.select(ecg.locator("select[name=rhythm]"), "sinus")
    taps.fill(ecg.locator("input[name=rate]"), "88")
    for lead in ("II", "III", "aVF"):
        taps.check(ecg.locator(f"input[name=st_elevation_leads][value={lead}]"))
    taps.select(ecg.locator("select[name=stemi]"), "ja")
    taps.select(ecg.locator("select[name=transmitted]"), "ja")
    save(taps, ecg.locator("button"))

    tab(taps, "Medicatie")
    save(taps, "button:has-text('acetylsalicylzuur')")
    save(taps, "button:has-text('nitroglycerine')")
    medication = form(page, "medicatie")
    taps.select(medication.locator("select[name=drug]"), "heparine")  # fills its standard dose, unit and route
    expect(medication.locator("input[name=dose]")).to_have_value("5000")
    save(taps, medication.locator("button"))

    tab(taps, "Patiënt & melding")
    patient = form(page, "patient")
    taps.select(patient.locator("select[name=sex]"), "M")
    taps.fill(patient.locator("input[name=estimated_age_years]"), "64")
    save(taps, patient.locator("button"))
    save(taps, "button:has-text('Geen behandelgrenzen')")

    tab(taps, "Secundair & SAMPLE")
    save(taps, "button:has-text('Geen bekende allergieën')")

    tab(taps, "Werkdiagnose")
    taps.fill(form(page, "diagnosis").locator("input[name=text]"), "STEMI inferior")
    save(taps, form(page, "diagnosis").locator("button"))

    announce_and_hand_over(taps, alert="stemi")
    print(f"STEMI run: {taps.count} taps (budget {STEMI_TAP_BUDGET})")
    assert taps.count <= STEMI_TAP_BUDGET

    handover = [e for e in edge.get(f"/api/v1/rits/{rit_id}/entries").json()
                if e["kind"] == "lifecycle" and e["data"]["event"] == "overdracht"]
    assert len(handover) == 1 and not handover[0]["data"].get("onvolledig")
    text = seh_rit_text(board, seh, rit_id)
    for shown in ("pijn op de borst", "geslacht: man", "leeftijd (geschat): 64 jaar", "luchtweg: vrij",
                  "bevindingen: normale ademhaling", "bewustzijn (ACVPU): alert", "bloeddruk systolisch: 150 mmHg",
                  "bloeddruk diastolisch: 95 mmHg", "SpO2:", "ritme: sinusritme", "frequentie: 88 /min",
                  "ST-elevatie in: II, III, aVF", "STEMI-criteria: ja", "ECG verstuurd: ja",
                  "middel: acetylsalicylzuur; dosis: 160 mg; toediening: oraal",
                  "middel: nitroglycerine; dosis: 0,4 mg; toediening: sublinguaal",
                  "middel: heparine; dosis: 5000 IE; toediening: intraveneus",
                  "behandelgrenzen: geen behandelgrenzen", "geen bekende allergieën", "werkdiagnose: STEMI inferior",
                  "overgedragen", "Teamalarm", "alarm: STEMI"):
        assert shown in text, shown
    check_all_pages(page, board, edge, seh, rit_id)


def test_trauma_run_unidentified_then_identified(chromium, broker, edge_process, seh_process):  # noqa: F811
    seh = seh_process()
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    board = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    sign_in(page, edge.base_url)
    taps = Taps(page)

    taps.fill("input[name=reason]", "motorrijder tegen boom")
    taps.check("input[name=onbekend]")
    taps.select("select[name=sex]", "M")
    taps.fill("input[name=estimated_age_years]", "30")
    taps.click("button:has-text('Rit starten')")
    page.wait_for_url("**/rits/**")
    rit_id = page.url.split("/rits/")[1].split("?")[0]

    save(taps, "button:has-text('A: vrij')")
    breathing = form(page, "B")
    taps.check(breathing.locator("input[value=tachypneu]"))
    taps.select(breathing.locator("select[name=oxygen_device]"), "non_rebreathing")
    taps.fill(breathing.locator("input[name=oxygen_flow_l_min]"), "15")
    save(taps, breathing.locator("button"))
    circulation = form(page, "C")
    taps.check(circulation.locator("input[name=skin][value=bleek]"))
    taps.fill(circulation.locator("input[name=capillary_refill_s]"), "4")
    taps.select(circulation.locator("select[name=bleeding]"), "gecontroleerd")
    save(taps, circulation.locator("button"))
    gcs = form(page, "gcs")
    taps.select(gcs.locator("select[name=eye]"), "3")
    taps.select(gcs.locator("select[name=motor]"), "5")
    taps.select(gcs.locator("select[name=verbal]"), "2")
    save(taps, gcs.locator("button"))
    pain = form(page, "pain")
    taps.select(pain.locator("select[name=nrs]"), "8")
    taps.fill(pain.locator("input[name=text]"), "linkerbeen")
    save(taps, pain.locator("button"))

    tab(taps, "Trauma & intox")
    taps.select(form(page, "trauma_mechanism").locator("select"), "verkeer_motor")
    save(taps, form(page, "trauma_mechanism").locator("button"))
    injury = form(page, "letsel")
    taps.select(injury.locator("select[name='injuries.region']"), "been_links")
    taps.check(injury.locator("input[value=open_fractuur]"))
    save(taps, injury.locator("button"))

    tab(taps, "Vitale waarden")
    vitals = form(page, "vitaal")
    for name, value in (("heart_rate", "128"), ("bp_systolic", "75"), ("bp_diastolic", "40"), ("resp_rate", "28"),
                        ("spo2", "94")):
        taps.fill(vitals.locator(f"input[name={name}]"), value)
    save(taps, vitals.locator("button"))

    tab(taps, "Medicatie")
    save(taps, "button:has-text('fentanyl')")
    tab(taps, "Verrichtingen")
    procedure = form(page, "procedure")
    taps.select(procedure.locator("select[name=procedure]"), "bekkenband")
    taps.select(procedure.locator("select[name=result]"), "gelukt")
    save(taps, procedure.locator("button"))

    tab(taps, "Patiënt & melding")  # identified on the way: a correction of the unidentified start
    patient = form(page, "patient")
    expect(patient.locator("button")).to_have_text("Correctie opslaan")
    taps.fill(patient.locator("input[name=name]"), "K. Visser")
    taps.fill(patient.locator("input[name=correctie_reden]"), "geïdentificeerd via rijbewijs")
    save(taps, patient.locator("button"))
    limits = form(page, "treatment_limits")
    taps.check(limits.locator("input[name=status][value=bekend]"))
    taps.check(limits.locator("input[name=limits][value=niet_reanimeren]"))
    taps.select(limits.locator("select[name=origin]"), "penning")
    save(taps, limits.locator("button"))
    tab(taps, "Secundair & SAMPLE")
    save(taps, "button:has-text('Geen bekende allergieën')")
    tab(taps, "Werkdiagnose")
    taps.fill(form(page, "diagnosis").locator("input[name=text]"), "polytrauma, open fractuur linkerbeen")
    save(taps, form(page, "diagnosis").locator("button"))

    announce_and_hand_over(taps)
    print(f"trauma run: {taps.count} taps")
    text = seh_rit_text(board, seh, rit_id)
    for shown in ("motorrijder tegen boom", "onbekende patiënt", "naam: K. Visser", "geïdentificeerd via rijbewijs",
                  "mechanisme: verkeersongeval motor/scooter", "letsel: been links: open fractuur",
                  "EMV E3 M5 V2 = 10", "pijnscore (NRS): 8 /10", "hartfrequentie: 128 /min",
                  "bloeddruk systolisch: 75 mmHg", "zuurstof: non-rebreathing masker", "zuurstof: 15 L/min",
                  "capillaire refill: 4 s", "middel: fentanyl; dosis: 50 µg", "verrichting: bekkenband",
                  "grenzen: niet reanimeren", "bron: niet-reanimeren-penning", "geen bekende allergieën",
                  "polytrauma, open fractuur linkerbeen"):
        assert shown in text, shown
    assert board.locator(".regel.gecorrigeerd").count() >= 1  # the unidentified start, struck through
    # The first screen (1920x1080, no scrolling) is the handover in ATMIST order.
    first_screen = board.locator("#overdracht-samenvatting")
    box = box_of(first_screen)
    assert box["y"] + box["height"] <= BOARD["height"], "the handover summary needs scrolling"
    summary = first_screen.inner_text()
    for shown in ("K. Visser, man, ca. 30 jaar", "verkeersongeval motor/scooter", "open fractuur",
                  "hartfrequentie 128 /min", "bloeddruk 75/40 mmHg", "NEWS2", "GCS 10", "E3M5V2", "50 µg",
                  "bekkenband", "niet reanimeren", "polytrauma, open fractuur linkerbeen"):
        assert shown in summary, shown
    assert [first_screen.locator("dt").nth(i).inner_text() for i in range(6)] == ["A", "T", "M", "I", "S", "T"]
    check_all_pages(page, board, edge, seh, rit_id)
