"""Short messages both ways, driven through both UIs in chromium over the real broker
(issue 19, "Messages"): the crew sends a preset and free text, the SEH page shows them in
order and confirms reading, the SEH answers with a quick reply, the tablet header shows it
unmissably, the crew acknowledges with one tap, and each sender sees "gelezen". An empty and
a too long text are refused visibly. An unread message warns its sender after the
configured time, on both sides."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, TABLET, chromium, new_rit, open_tab, sign_in  # noqa: F401
from tests.harness.waiting import wait_until


def _announced_rit(tablet, seh, edge) -> str:
    sign_in(tablet, edge.base_url)
    rit_id = new_rit(tablet)
    open_tab(tablet, "Overdracht")
    tablet.click("a:has-text('Vooraankondigen')")
    tablet.click("button:has-text('Ja, vooraankondigen')")
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="the vooraankondiging")
    return rit_id


def test_messages_both_ways_with_read_receipts(chromium, broker, edge_process, seh_process):  # noqa: F811
    seh = seh_process()
    edge = edge_process()
    tablet = chromium.new_page(viewport=TABLET)
    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    rit_id = _announced_rit(tablet, seh, edge)

    tablet.click("a[data-berichten]")
    tablet.wait_for_url(f"**/rits/{rit_id}/berichten")
    tablet.click("button[data-voorinstelling='is de CT vrij?']")
    expect(tablet.locator(".bericht-regel.eigen")).to_have_count(1)
    # Wrong values first: nothing and too much are refused where the crew looks, nothing stored.
    tablet.click("#vrij-bericht button")
    expect(tablet.locator("#bericht-fout")).to_contain_text("Leeg bericht")
    tablet.fill("#vrij-bericht input[name=text]", "x" * 281)
    tablet.click("#vrij-bericht button")
    expect(tablet.locator("#bericht-fout")).to_contain_text("te lang")
    expect(tablet.locator(".bericht-regel.eigen")).to_have_count(1)
    tablet.fill("#vrij-bericht input[name=text]", "  patiënt   80 kg, reanimatie loopt  ")
    tablet.click("#vrij-bericht button")
    expect(tablet.locator(".bericht-regel.eigen")).to_have_count(2)
    expect(tablet.locator(".bericht-regel.eigen").last).to_contain_text("patiënt 80 kg, reanimatie loopt")

    wait_until(lambda: len(seh.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]) == 2, 10,
               what="both messages at the SEH")
    nurse.goto(f"{seh.base_url}/")  # the board marks the rit's row
    expect(nurse.locator(f"tr[data-rit='{rit_id}'] [data-berichten-ongelezen]")).to_contain_text("2 berichten")
    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    lines = nurse.locator("#berichten .bericht-regel.van-ambulance")
    expect(lines).to_have_count(2, timeout=8000)
    assert [lines.nth(i).get_attribute("data-seq") for i in range(2)] == ["1", "2"]
    expect(lines.first).to_contain_text("is de CT vrij?")
    expect(nurse.locator("[data-ongelezen]")).to_contain_text("2 ongelezen")
    # A refused text at the SEH is said on the page too.
    nurse.fill("#vrij-bericht input[name=text]", "   ")
    nurse.click("#vrij-bericht button")
    expect(nurse.locator("#bericht-fout")).to_contain_text("Leeg bericht")
    nurse.click("button[data-berichten-gelezen]")
    expect(nurse.locator("[data-ongelezen]")).to_have_count(0)
    expect(tablet.locator(".bericht-regel.eigen[data-state=read]")).to_have_count(2, timeout=8000)
    expect(tablet.locator(".bericht-regel.eigen").first).to_contain_text("gelezen door SEH")

    nurse.click("button[data-voorinstelling='begrepen']")
    tablet.goto(f"{edge.base_url}/rits/{rit_id}")
    banner = tablet.locator("[data-bericht-nieuw]")
    expect(banner).to_contain_text("begrepen", timeout=8000)
    expect(nurse.locator("#berichten .bericht-regel.eigen")).to_contain_text("ontvangen door ambulance", timeout=8000)
    banner.locator("button").click()
    tablet.wait_for_url(f"**/rits/{rit_id}/berichten")
    expect(tablet.locator("[data-bericht-nieuw]")).to_have_count(0)
    expect(tablet.locator(".bericht-regel.van-seh")).to_contain_text("begrepen")
    expect(nurse.locator("#berichten .bericht-regel.eigen")).to_contain_text("gelezen door ambulance", timeout=8000)

    # Kept in the rit's record on both sides, and each opening of the messages is on the access log.
    at_seh = seh.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]
    assert [(m["direction"], m["seq"], m["text"]) for m in at_seh] == [
        ("to_seh", 1, "is de CT vrij?"), ("to_seh", 2, "patiënt 80 kg, reanimatie loopt"), ("to_vehicle", 1, "begrepen")]
    actions = [row["action"] for row in edge.get(f"/api/v1/rits/{rit_id}/audit").json()]
    assert actions.count("bericht.send") == 2 and actions.count("bericht.read") == 1
    assert actions.count("berichten.view") == 4  # the page's 4 openings (refusals re-render it), no refresh
    seh_log = [r["action"] for r in seh.get(f"/api/v1/rits/{rit_id}/access").json()]
    assert "bericht.read" in seh_log and "bericht.send" in seh_log
    # One row per opening of the rit page (each redirect after a form opens it again), none per refresh.
    assert seh_log.count("berichten.view") == seh_log.count("rit.view") >= 4 and "berichten.view.api" in seh_log
    print("seh access:", json.dumps({a: seh_log.count(a) for a in sorted(set(seh_log))}))


@pytest.mark.serial  # a deadline: the warning after message_unread_warn_s
def test_an_unread_message_warns_its_sender(chromium, broker, edge_process, seh_process):  # noqa: F811
    seh = seh_process(message_unread_warn_s=2)
    edge = edge_process(message_unread_warn_s=2)
    tablet = chromium.new_page(viewport=TABLET)
    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    rit_id = _announced_rit(tablet, seh, edge)
    tablet.goto(f"{edge.base_url}/rits/{rit_id}/berichten")
    tablet.click("button[data-voorinstelling='ETA 5 min']")
    tablet.goto(f"{edge.base_url}/rits/{rit_id}")
    warning = tablet.locator("[data-kind=bericht-ongelezen]")
    expect(warning).to_contain_text("ETA 5 min", timeout=6000)
    expect(warning).to_contain_text("088-755 5555")

    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    nurse.click("button[data-voorinstelling='traumakamer 2']")
    expect(nurse.locator("#berichten [data-kind=bericht-ongelezen]")).to_contain_text("traumakamer 2", timeout=8000)
    nurse.click("button[data-berichten-gelezen]")  # the SEH reads the crew's: the tablet's warning goes
    expect(warning).to_have_count(0, timeout=8000)
    tablet.locator("[data-bericht-nieuw] button").click()  # the crew reads the SEH's: the SEH's goes
    expect(nurse.locator("#berichten [data-kind=bericht-ongelezen]")).to_have_count(0, timeout=8000)
