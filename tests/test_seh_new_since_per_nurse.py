""""Nieuw sinds uw vorige blik" is per staff member: one nurse opening a rit used to move the
mark for everyone, so a colleague coming back saw nothing marked new."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.harness.procs import run_ritlink
from tests.harness.ui_browser import BOARD, chromium  # noqa: F401
from tests.harness.waiting import wait_until

PASSWORD = "een-lang-wachtwoord"


def _nurse(chromium, seh, name: str) -> Page:  # noqa: F811
    page = chromium.new_context(viewport=BOARD).new_page()  # own cookies: own sign-in
    page.goto(f"{seh.base_url}/")
    page.fill("input[name=naam]", name)
    page.fill("input[name=wachtwoord]", PASSWORD)
    page.click("button:has-text('Aanmelden')")
    page.wait_for_url(f"{seh.base_url}/")
    return page


def test_what_is_new_since_my_last_look_is_mine(chromium, edge_process, seh_process, tmp_path):  # noqa: F811
    for name in ("a.verpleeg", "b.verpleeg"):
        added = run_ritlink("seh-users", "add", name, "--database", str(tmp_path / "seh.db"), input=PASSWORD + "\n")
        assert added.returncode == 0, added.stderr
    seh, edge = seh_process(), edge_process()
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="the vooraankondiging")
    first, second = _nurse(chromium, seh, "a.verpleeg"), _nurse(chromium, seh, "b.verpleeg")

    first.goto(f"{seh.base_url}/rits/{rit_id}")  # A looks
    expect(first.locator("#overdracht-samenvatting")).to_be_visible()
    seq = seh.get(f"/api/v1/rits/{rit_id}").json()["seq"]
    assert edge.post(f"/api/v1/rits/{rit_id}/vitals", {"heart_rate": 128}).status_code == 201
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["seq"] > seq, 10, what="the new value at the SEH")
    second.goto(f"{seh.base_url}/rits/{rit_id}")  # B looks for the first time: nothing is "new" to B
    expect(second.locator("#overdracht-samenvatting")).to_be_visible()
    assert second.locator(".regel.nieuw").count() == 0

    first.goto(f"{seh.base_url}/rits/{rit_id}")  # A comes back: the heart rate is new to A
    expect(first.locator(".regel.nieuw").first).to_contain_text("128")
