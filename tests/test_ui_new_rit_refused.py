"""A refused "Rit starten" leaves no rit behind (chromium, through the tablet's pages).

An impossible estimated age for an unidentified patient used to be refused only after the
rit had been written: the crew saw the refusal, corrected, tapped again, and had two rits,
the first one without the patient."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.harness.ui_browser import TABLET, chromium, sign_in  # noqa: F401


def test_an_impossible_age_at_the_start_is_refused_and_no_rit_is_made(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    page.check("input[name=urgency][value=A1]", force=True)
    page.check("input[name=onbekend]")
    page.fill("input[name=estimated_age_years]", "500")
    page.click("button:has-text('Rit starten')")
    expect(page.locator("#meldingen .fout")).to_contain_text("onmogelijk")
    assert page.locator("a[href^='/rits/']").count() == 0  # nothing was written
    assert edge.get("/api/v1/rits").json() == []

    page.check("input[name=urgency][value=A1]", force=True)
    if not page.locator("input[name=onbekend]").is_checked():
        page.check("input[name=onbekend]")
    page.fill("input[name=estimated_age_years]", "50")
    page.click("button:has-text('Rit starten')")
    page.wait_for_url("**/rits/**")
    rits = edge.get("/api/v1/rits").json()
    assert len(rits) == 1
    form = edge.get(f"/api/v1/rits/{rits[0]['rit_id']}").json()["form"]
    assert form["patient"]["unidentified"] is True and form["patient"]["estimated_age_years"] == 50
