""""Team geactiveerd" from the SEH reaches the crew's header within 2 s over the real broker,
and reaches a tablet that was off at the time once it is back, once (issue: "The SEH reads
the handover at a glance", acceptance 2). The nurse uses the SEH page, the crew the tablet."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, TABLET, chromium, new_rit, open_tab, sign_in  # noqa: F401
from tests.harness.waiting import wait_until


@pytest.mark.serial
def test_team_activation_reaches_the_tablet_header_now_and_after_an_outage(chromium, broker, edge_process,  # noqa: F811
                                                                         seh_process):
    seh = seh_process()
    edge = edge_process()
    tablet = chromium.new_page(viewport=TABLET)
    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    sign_in(tablet, edge.base_url)
    rit_id = new_rit(tablet)
    open_tab(tablet, "Overdracht")
    tablet.locator("form[data-form=team_alert] input[value=trauma]").check()
    tablet.locator("form[data-form=team_alert] button").click()
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    tablet.click("a:has-text('Vooraankondigen')")
    tablet.click("button:has-text('Ja, vooraankondigen')")
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10,
               what="the vooraankondiging at the SEH")

    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    expect(nurse.locator("#overdracht-samenvatting")).to_contain_text("TRAUMAALARM")
    nurse.fill("form#team input[name=room]", "traumakamer 2")
    started = time.monotonic()
    nurse.click("form#team button")
    expect(tablet.locator("[data-team-klaar]")).to_contain_text("traumakamer 2 — team staat klaar", timeout=2000)
    took = time.monotonic() - started
    print(f"team geactiveerd on the tablet after {took * 1000:.0f} ms")
    assert took < 2.0
    expect(nurse.locator("[data-team]").first).to_contain_text("ontvangen door ambulance", timeout=5000)

    edge.stop()  # the tablet is off while the SEH moves the team
    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    nurse.fill("form#team input[name=room]", "CT-kamer")
    nurse.click("form#team button")
    expect(nurse.locator("[data-team]").last).to_contain_text("nog niet ontvangen door ambulance")
    edge.start()
    sign_in(tablet, edge.base_url)  # a restart without a configured session secret signs the shift out
    tablet.goto(f"{edge.base_url}/rits/{rit_id}")
    expect(tablet.locator("[data-team-klaar]")).to_contain_text("CT-kamer — team staat klaar", timeout=20_000)
    time.sleep(12)  # past the SEH's resend interval: a resent message is kept once
    team = [f for f in edge.get(f"/api/v1/rits/{rit_id}").json()["feedback"] if f["kind"] == "team"]
    assert [f["room"] for f in team] == ["traumakamer 2", "CT-kamer"]
