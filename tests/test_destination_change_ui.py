"""Changing the destination on the Overdracht tab, as a crew sees it in chromium.

A tablet configured with one SEH used to show an empty "Andere bestemming" box with a reason
field and a button that could only be refused."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.conftest import SEHS
from tests.harness.procs import RitlinkProcess, write_toml
from tests.harness.ui_browser import TABLET, chromium, new_rit, open_tab, sign_in  # noqa: F401


def test_with_one_seh_configured_the_tab_says_so_instead_of_an_empty_choice(chromium, broker, tmp_path):  # noqa: F811
    config = write_toml(tmp_path / "edge.toml", {"vehicle_id": "ambu-01", "broker_url": broker.url,
                                                 "database": str(tmp_path / "edge.db")}, sehs=SEHS[:1])
    edge = RitlinkProcess("serve", config, tmp_path / "edge.log").start()
    try:
        tablet = chromium.new_page(viewport=TABLET)
        sign_in(tablet, edge.base_url)
        new_rit(tablet)
        open_tab(tablet, "Overdracht")
        expect(tablet.locator("[data-geen-andere-seh]")).to_contain_text("geen andere SEH ingesteld")
        assert tablet.locator("form[data-form=bestemming]").count() == 0
        assert tablet.locator("button:has-text('Bestemming wijzigen')").count() == 0
        expect(tablet.locator("a:has-text('Vooraankondigen')")).to_be_visible()  # the rest of the tab stays
    finally:
        edge.stop()


def test_with_two_seh_the_other_one_is_offered_and_a_change_without_reason_is_refused_visibly(
        chromium, edge_process):  # noqa: F811
    edge = edge_process()
    tablet = chromium.new_page(viewport=TABLET)
    sign_in(tablet, edge.base_url)
    new_rit(tablet)  # to SEH UMC Utrecht
    open_tab(tablet, "Overdracht")
    assert tablet.locator("[data-geen-andere-seh]").count() == 0
    form = tablet.locator("form[data-form=bestemming]")
    expect(form.locator("input[name=seh_id]")).to_have_count(1)  # St. Antonius, not the current one
    form.locator("input[name=seh_id][value=seh-antonius]").check()
    form.locator("button:has-text('Bestemming wijzigen')").click()
    expect(tablet.locator("#fout-bestemming-reason")).to_be_visible()
    form = tablet.locator("form[data-form=bestemming]")
    form.locator("input[name=seh_id][value=seh-antonius]").check()
    form.locator("input[name=reason]").fill("dichterbij")
    form.locator("button:has-text('Bestemming wijzigen')").click()
    expect(tablet.locator("header")).to_contain_text("SEH St. Antonius")
