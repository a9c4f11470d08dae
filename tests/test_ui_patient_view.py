"""The tablet shows the patient, not the monitor: the header summary, live values on the
active rit only, safe medication, fewer taps, a night switch without reload (issue: "The
tablet shows the patient"). Debian chromium, through the pages alone."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.harness.form_probe import Taps, save
from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, TABLET, box_of, chromium, new_rit, open_tab, sign_in  # noqa: F401
from tests.harness.waiting import wait_until

STABLE_TAP_BUDGET = 20


def in_top(page: Page, locator, pixels: int = 120) -> bool:
    box = box_of(locator)  # the header is swapped in place every second: ask again between renders
    return box["y"] >= 0 and box["y"] + box["height"] <= pixels


def test_trauma_header_shows_recorded_values_scores_and_risk(chromium, monitor, edge_process):  # noqa: F811
    edge = edge_process(monitor_url=str(monitor.link))
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    new_rit(page)
    taps = Taps(page)
    gcs = page.locator("form[data-form=gcs]")
    for name, value in (("eye", "3"), ("motor", "5"), ("verbal", "2")):
        gcs.locator(f"select[name={name}]").select_option(value)
    save(taps, gcs.locator("button"))
    open_tab(page, "Vitale waarden")
    vitals = page.locator("form[data-form=vitaal]")
    for name, value in (("heart_rate", "128"), ("bp_systolic", "75"), ("bp_diastolic", "40")):
        vitals.locator(f"input[name={name}]").fill(value)
    save(taps, vitals.locator("button"))
    page.evaluate("window.scrollTo(0, 600)")  # the header stays on top while the crew scrolls
    header = page.locator("#kop")
    for shown in ("BD 75/40", "HF 128", "GCS 10"):
        value = header.locator(f".kop-waarde:has-text('{shown}'), .score:has-text('{shown}')").first
        expect(value).to_be_visible()
        assert in_top(page, value), f"{shown} not within the first 120 px"
    news2 = header.locator("[data-score=news2]")
    expect(news2).to_have_class(re.compile("risico-hoog"))
    total = int(re.search(r"NEWS2 ≥? ?(\d+)", news2.inner_text()).group(1))
    assert total >= 7 and "hoog risico" in news2.inner_text() and in_top(page, news2)
    page.evaluate("window.scrollTo(0, 0)")
    expect(page.locator(".live-kop")).to_contain_text("Live van de monitor")
    expect(page.locator(".tegel[data-code] .naam").first).to_contain_text("live")


def test_live_values_belong_to_the_active_rit_only(chromium, broker, monitor, edge_process, seh_process):  # noqa: F811
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    page = chromium.new_page(viewport=TABLET)
    board = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    sign_in(page, edge.base_url)

    def announce() -> None:
        open_tab(page, "Overdracht")
        page.click("a:has-text('Vooraankondigen')")
        page.click("button:has-text('Ja, vooraankondigen')")
        page.wait_for_selector(".bericht:has-text('Opgeslagen')")

    first = new_rit(page)
    announce()
    page.goto(edge.base_url + "/")
    expect(page.locator("input[name=ook_nieuw]")).to_be_visible()  # a second open rit is asked first
    page.click("button:has-text('Rit starten')")
    expect(page.locator("#meldingen .fout")).to_contain_text("er loopt al een rit")
    second = new_rit(page, urgency="A2")  # ticks "de nieuwe rit wordt de actieve rit"
    announce()
    expect(page.locator(".tegel[data-code]").first).to_be_visible(timeout=5000)
    page.goto(edge.base_url + "/")  # the list names the active rit, in words with spaces around them
    expect(page.locator(f"a[href='/rits/{second}']")).to_contain_text(" · actief · ")
    assert page.locator(f"a[href='/rits/{second}'] b:text-is('actief')").evaluate(GAP_BEFORE) >= 3  # px, drawn
    assert " actief" not in page.locator(f"a[href='/rits/{first}']").inner_text()
    page.goto(f"{edge.base_url}/rits/{first}")
    expect(page.locator("[data-niet-actief]")).to_be_visible()
    assert page.locator(".tegel[data-code]").count() == 0

    def board_live(rit_id: str) -> str:
        board.goto(seh.base_url + "/")
        return board.locator(f"tr[data-rit='{rit_id}'] [data-kolom=live]").text_content().strip()
    wait_until(lambda: "SpO2" in board_live(second), 15, what="live values on the active rit's row")
    assert board_live(first) == "—"

    page.goto(f"{edge.base_url}/rits/{second}/bevestig/annuleren")  # cancelled: no live values anywhere
    page.click("button:has-text('Ja, annuleren')")
    page.wait_for_selector(".bericht:has-text('Opgeslagen')")
    assert page.locator(".tegel[data-code]").count() == 0 and page.locator("[data-niet-actief]").count() == 0
    wait_until(lambda: board_live(second) == "—", 15, what="no live values on the cancelled rit")
    wait_until(lambda: "SpO2" in board_live(first), 15, what="the open rit is active again")


# Pixels between the end of the "·" before an element and the element: a space, not glued to it
# (flex items drop the spaces between them, so "·actief·" looked like one word).
GAP_BEFORE = """(element) => {
  const text = element.previousSibling;
  const range = document.createRange();
  const dot = text.textContent.lastIndexOf("·");
  range.setStart(text, dot); range.setEnd(text, dot + 1);
  return element.getBoundingClientRect().left - range.getBoundingClientRect().right;
}"""


def test_same_drug_twice_is_asked_and_totalled(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    rit_id = new_rit(page)
    open_tab(page, "Medicatie")
    taps = Taps(page)
    fentanyl = "button:has-text('fentanyl 50 µg')"
    save(taps, fentanyl)
    save(taps, fentanyl)  # a second tap 0.4 s later is not a second dose without a question
    expect(page.locator(".herhaal")).to_contain_text(re.compile(r"Al gegeven om \d\d:\d\d \(50 µg\) — nogmaals"))
    save(taps, "button:has-text('Ja, nogmaals toedienen')")
    expect(page.locator(".totalen")).to_contain_text("fentanyl: totaal 100 µg in 2×")
    save(taps, fentanyl)
    page.click("a:has-text('Nee, niet opnieuw geven')")
    expect(page.locator(".totalen")).to_contain_text("totaal 100 µg in 2×")
    given = [e for e in edge.get(f"/api/v1/rits/{rit_id}/entries").json() if e["kind"] == "medication"]
    assert len(given) == 2


def test_night_switch_applies_at_once_on_the_list_and_the_rit_screen(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    background = "() => getComputedStyle(document.body).backgroundColor"
    for where in ("list", "rit"):
        if where == "rit":
            new_rit(page)
        page.evaluate("window.nietHerladen = true")
        day = page.evaluate(background)
        page.locator("form[data-thema-keuze] button[value=nacht]").first.click()
        expect(page.locator("body")).to_have_class(re.compile("thema-nacht"))
        assert page.evaluate(background) != day
        assert page.evaluate("window.nietHerladen === true")  # no reload
        page.locator("form[data-thema-keuze] button[value=dag]").first.click()
        assert page.evaluate(background) == day
    page.locator("form[data-thema-keuze] button[value=nacht]").first.click()
    page.reload()
    expect(page.locator("body")).to_have_class(re.compile("thema-nacht"))  # remembered


def test_stable_patient_run_within_twenty_taps(chromium, monitor, edge_process):  # noqa: F811
    edge = edge_process(monitor_url=str(monitor.link))
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    taps = Taps(page)
    taps.fill("input[name=reason]", "duizelig, gevallen")
    save(taps, "button:has-text('Rit starten')")
    rit_id = page.url.split("/rits/")[1].split("?")[0]
    save(taps, "button:has-text('ABCDE normaal')")
    taps.click("nav.tabs a:has-text('Vitale waarden')")
    expect(page.locator(".tegel[data-code]").first).to_be_visible(timeout=5000)
    save(taps, "#overnemen")
    taps.click("nav.tabs a:has-text('Werkdiagnose')")
    taps.fill("form[data-form=diagnosis] input[name=text]", "collaps, stabiel")
    save(taps, "form[data-form=diagnosis] button")
    taps.click("nav.tabs a:has-text('Patiënt & melding')")
    save(taps, "button:has-text('Geen behandelgrenzen')")
    taps.click("nav.tabs a:has-text('Overdracht')")
    taps.click("a:has-text('Vooraankondigen')")
    save(taps, "button:has-text('Ja, vooraankondigen')")
    taps.click("main a:has-text('Overdracht')")
    expect(page.locator("input[name=onvolledig]")).to_have_count(0)
    save(taps, "button:has-text('Ja, overdracht versturen')")
    print(f"stable run: {taps.count} taps (budget {STABLE_TAP_BUDGET})")
    assert taps.count <= STABLE_TAP_BUDGET
    kinds = [e["kind"] for e in edge.get(f"/api/v1/rits/{rit_id}/entries").json()]
    assert {"airway", "breathing", "circulation", "disability", "exposure", "vital", "diagnosis"} <= set(kinds)
    assert edge.get(f"/api/v1/rits/{rit_id}").json()["lifecycle"] == "overdracht"


def test_withdraw_is_two_taps_and_keeps_16_px_from_the_next_entry(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    rit_id = new_rit(page)
    open_tab(page, "Medicatie")
    taps = Taps(page)
    save(taps, "button:has-text('paracetamol')")
    save(taps, "button:has-text('acetylsalicylzuur')")
    first, second = page.locator(".invoer .regel").nth(0), page.locator(".invoer .regel").nth(1)
    taps.count = 0
    taps.click(first.locator("summary"))  # tap 1: open
    withdraw = first.locator("form[data-form^=intrekken] button").last
    below, above = box_of(second.locator("summary")), box_of(withdraw)
    gap = below["y"] - (above["y"] + above["height"])
    assert gap >= 16, f"only {gap:.0f} px between a withdraw button and the next entry's control"
    save(taps, first.locator("button:has-text('verkeerd ingevoerd')"))  # tap 2: the reason
    assert taps.count == 2
    expect(page.locator(".regel.gecorrigeerd")).to_have_count(1)
    withdrawn = [e for e in edge.get(f"/api/v1/rits/{rit_id}/entries").json() if e.get("withdrawn")]
    assert len(withdrawn) == 1 and withdrawn[0]["reason"] == "verkeerd ingevoerd"
