"""What the crew sees of the sync, in the browser: a calm offline indicator and "in wachtrij"
while the broker is down, ticks that advance when it is back, and the amber receipt banner
with the SEH's phone number and the "SEH gebeld" button."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.harness.ui_browser import TABLET, chromium, new_rit, open_tab, save_abcde, sign_in  # noqa: F401
from tests.test_receipt_timeout import edge_with_short_timeouts


def _announce(page) -> None:
    open_tab(page, "Overdracht")
    page.click("a:has-text('Vooraankondigen')")
    page.click("button:has-text('Ja, vooraankondigen')")


def test_offline_saves_queue_and_ticks_advance_when_back(chromium, broker, edge_process, seh_process):  # noqa: F811
    seh_process()
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    new_rit(page)
    _announce(page)
    expect(page.locator("#sync")).to_contain_text("ontvangen door SEH", timeout=5000)
    expect(page.locator("#offline")).to_have_count(0)

    broker.stop()
    expect(page.locator("#offline")).to_contain_text("Geen verbinding", timeout=8000)
    open_tab(page, "ABCDE")
    save_abcde(page, "C", "bleek")
    expect(page.locator("#sync")).to_contain_text("in wachtrij")
    expect(page.locator(".regel:has-text('bleek')")).to_be_visible()

    broker.start()
    expect(page.locator("#offline")).to_have_count(0, timeout=15000)
    expect(page.locator("#sync")).to_contain_text("ontvangen door SEH", timeout=15000)
    page.close()


def test_receipt_timeout_banner_and_seh_gebeld(chromium, tmp_path, broker, monitor):  # noqa: F811
    edge = edge_with_short_timeouts(tmp_path, broker, monitor)  # no SEH receiver runs at all
    try:
        page = chromium.new_page(viewport=TABLET)
        sign_in(page, edge.base_url)
        rit_id = new_rit(page)
        _announce(page)
        banner = page.locator(".amber")
        expect(banner).to_contain_text("088-755 5555", timeout=8000)
        expect(banner).to_contain_text("Geen ontvangstbevestiging van SEH UMC Utrecht")
        banner.locator("button:has-text('SEH gebeld')").click()
        expect(page.locator(".amber")).to_have_count(0, timeout=3000)
        called = edge.get(f"/api/v1/rits/{rit_id}").json()["form"]["seh_called"]
        (entry,) = called.values()
        assert (entry["seh_id"], entry["warning"], entry["author"]) == ("seh-umcu", "delivered", "J. de Vries")
        page.close()
    finally:
        edge.stop()
