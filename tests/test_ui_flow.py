"""The crew's whole rit in a real browser against real `ritlink serve` and `ritlink seh`
processes, with the SEH board open in a second page (acceptance 1 and 4 of the UI issue)."""

from __future__ import annotations

import time

from playwright.sync_api import expect

from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import (BOARD, TABLET, LoopbackRecorder, chromium, new_rit, open_tab,  # noqa: F401
                                      save_abcde, sign_in)
from tests.harness.waiting import wait_until

SEEN_WITHIN_MS = 2000


def test_full_crew_flow_seen_on_the_seh_board(chromium, broker, monitor, edge_process, seh_process):  # noqa: F811
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    recorder = LoopbackRecorder()
    tablet = recorder.attach(chromium.new_page(viewport=TABLET))
    board = recorder.attach(chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS))

    sign_in(tablet, edge.base_url)
    rit_id = new_rit(tablet)
    save_abcde(tablet, "A", "vrij", "geen bijzonderheden")

    # Live vitals arrive over SSE from the simulated oximeter.
    expect(tablet.locator(".tegel[data-code]").first).to_be_visible(timeout=5000)
    open_tab(tablet, "Vitale waarden")
    tablet.click("#overnemen")
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    expect(tablet.locator(".invoer .regel").first).to_contain_text("monitor")

    open_tab(tablet, "Medicatie")
    tablet.locator("form button.groot").first.click()
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    assert tablet.locator(".invoer .regel").count() == 1

    # Announce (confirm step) -> the board shows the rit within 2 s, the tablet sees the receipt.
    open_tab(tablet, "Overdracht")
    tablet.click("a:has-text('Vooraankondigen')")
    tablet.click("button:has-text('Ja, vooraankondigen')")
    board.goto(seh.base_url + "/")
    expect(board.locator(f"tr[data-rit='{rit_id}']")).to_be_visible(timeout=SEEN_WITHIN_MS)
    expect(tablet.locator("#sync")).to_contain_text("ontvangen door SEH", timeout=5000)

    # Correct the A entry: the board updates its row (new seq) within 2 s, by SSE.
    seq_before = int(board.locator(f"tr[data-rit='{rit_id}']").get_attribute("data-seq"))
    open_tab(tablet, "ABCDE")
    row = tablet.locator("form[data-letter=A] + ul .regel").first
    row.locator("summary").click()
    row.locator("input[name=reason]").fill("verkeerd genoteerd")
    row.locator("input[name=text]").fill("snurkende ademweg")
    row.locator("button:has-text('Correctie opslaan')").click()
    tablet.wait_for_selector(".regel.gecorrigeerd")
    expect(board.locator(f"tr[data-rit='{rit_id}']")).not_to_have_attribute(
        "data-seq", str(seq_before), timeout=SEEN_WITHIN_MS)

    # Opening the rit shows the corrected entry as corrected; the nurse's "Gelezen" sends `read`.
    board.click(f"tr[data-rit='{rit_id}'] a")
    expect(board.locator(".regel.gecorrigeerd")).to_be_visible()
    board.click("button:has-text('Gelezen')")
    expect(board.locator("#gelezen")).to_contain_text("Gelezen door: harness")
    expect(tablet.locator("#sync")).to_contain_text("gelezen door SEH", timeout=5000)

    # Overdracht (the form is incomplete: the crew says so explicitly).
    board.goto(seh.base_url + "/")
    open_tab(tablet, "Overdracht")
    tablet.click("a:has-text('Overdracht')>>nth=-1")
    tablet.check("input[name=onvolledig]")
    tablet.click("button:has-text('Ja, overdracht versturen')")
    expect(board.locator(f"tr[data-rit='{rit_id}']")).to_have_attribute("data-status", "overdracht",
                                                                        timeout=SEEN_WITHIN_MS)
    assert edge.get(f"/api/v1/rits/{rit_id}").json()["lifecycle"] == "overdracht"

    # The SEH page marks what is new since the last look; the version history keeps every message.
    board.click(f"tr[data-rit='{rit_id}'] a")
    expect(board.locator(".regel.nieuw").first).to_be_visible()
    board.fill("input[name=diagnosis]", "CVA links")
    board.select_option("select[name=disposition]", "opgenomen verpleegafdeling")
    board.click("button:has-text('Terugkoppeling versturen')")
    expect(board.locator(".terugkoppeling")).to_contain_text("CVA links")
    board.goto(f"{seh.base_url}/rits/{rit_id}/versies?seq=1")
    expect(board.locator("h2:has-text('Versie #1')")).to_be_visible()

    # The crew sees the SEH's diagnosis beside its own werkdiagnose.
    wait_until(lambda: edge.get(f"/api/v1/rits/{rit_id}").json()["feedback"], 10,
               what="SEH-terugkoppeling on the tablet")
    open_tab(tablet, "Werkdiagnose")
    expect(tablet.locator(".terugkoppeling")).to_contain_text("CVA links · opgenomen verpleegafdeling")
    assert recorder.foreign() == [], recorder.foreign()
