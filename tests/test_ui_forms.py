"""Form saves: a double tap records once, a POST without this shift's CSRF token is refused,
and the crew can do a whole rit without JavaScript (plain forms, POST/redirect)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import httpx
from playwright.sync_api import expect

from tests.harness.ui_browser import TABLET, chromium, new_rit, open_tab, save_abcde, sign_in  # noqa: F401

VENDOR = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor"


def _entries(edge, rit_id: str, kind: str) -> list[dict]:
    return [e for e in edge.get(f"/api/v1/rits/{rit_id}/entries").json() if e["kind"] == kind]


def _signed_in_client(edge) -> tuple[httpx.Client, str]:
    client = edge.signed_in("J. de Vries")
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
    return client, token


def test_double_tap_on_save_records_one_entry(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    rit_id = new_rit(page)
    page.locator("form[data-letter=A] select").first.select_option("vrij")
    page.locator("form[data-letter=A] button").dblclick()
    page.wait_for_selector(".bericht:has-text('Opgeslagen')")
    page.wait_for_load_state("networkidle")
    assert len(_entries(edge, rit_id, "airway")) == 1
    page.close()


def test_same_idempotency_key_twice_records_once_and_missing_csrf_is_403(edge_process):
    edge = edge_process()
    client, token = _signed_in_client(edge)
    made = client.post("/ritten", data={"csrf": token, "idem": "r1", "urgency": "A2", "destination_seh": "seh-umcu"})
    rit_id = re.search(r"/rits/([0-9a-f-]+)", made.headers["location"]).group(1)
    form = {"csrf": token, "idem": "tap-1", "drug": "fentanyl", "dose": "50", "unit": "ug", "route": "iv"}
    for _ in range(2):
        assert client.post(f"/rits/{rit_id}/medicatie", data=form, follow_redirects=False).status_code == 303
    assert len(_entries(edge, rit_id, "medication")) == 1

    no_token = {k: v for k, v in form.items() if k != "csrf"} | {"idem": "tap-2"}
    assert client.post(f"/rits/{rit_id}/medicatie", data=no_token).status_code == 403
    assert client.post(f"/rits/{rit_id}/medicatie", data=no_token | {"csrf": "0" * 64}).status_code == 403
    stranger = httpx.post(f"{edge.base_url}/rits/{rit_id}/medicatie", data=form | {"idem": "tap-3"})
    assert stranger.status_code == 403  # a valid token without the shift's cookie is worthless
    assert len(_entries(edge, rit_id, "medication")) == 1


def test_whole_rit_without_javascript(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    context = chromium.new_context(java_script_enabled=False, viewport=TABLET)
    page = context.new_page()
    sign_in(page, edge.base_url)
    rit_id = new_rit(page, urgency="A2")
    save_abcde(page, "B", "dyspnoe")
    open_tab(page, "Overdracht")
    page.click("a:has-text('Overdracht')>>nth=-1")
    page.check("input[name=onvolledig]")
    page.click("button:has-text('Ja, overdracht versturen')")
    expect(page.locator(".bericht")).to_have_text("Opgeslagen")
    assert len(_entries(edge, rit_id, "breathing")) == 1
    assert edge.get(f"/api/v1/rits/{rit_id}").json()["lifecycle"] == "overdracht"
    context.close()


def test_vendored_assets_match_their_pinned_sha256():
    pinned = {}
    for line in (VENDOR / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        pinned[name.lstrip("*")] = digest
    assert {"htmx-2.0.11.min.js", "htmx-ext-sse-2.2.4.min.js", "axe-core-4.10.2.min.js"} <= set(pinned)
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    assert {p.name for p in VENDOR.glob("*.js")} == set(pinned)  # nothing unpinned beside them


def test_a_save_with_javascript_answers_with_the_screen_and_keeps_the_address(chromium, edge_process):  # noqa: F811
    """htmx saves get the screen itself plus HX-Push-Url (one round trip less); plain POSTs 303."""
    edge = edge_process()
    client, token = _signed_in_client(edge)
    made = client.post("/ritten", data={"csrf": token, "urgency": "A2", "destination_seh": "seh-umcu"})
    rit_id = made.headers["location"].split("/rits/")[1].split("?")[0]
    form = {"csrf": token, "drug": "fentanyl", "dose": "50", "unit": "ug", "route": "iv"}
    plain = client.post(f"/rits/{rit_id}/medicatie?tab=medicatie", data=form, follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].startswith(f"/rits/{rit_id}?tab=medicatie&melding=")
    boosted = client.post(f"/rits/{rit_id}/medicatie?tab=medicatie", data=form | {"herhaal": "1"},
                          headers={"HX-Request": "true"}, follow_redirects=False)
    assert boosted.status_code == 200, boosted.status_code
    assert boosted.headers["HX-Push-Url"].startswith(f"/rits/{rit_id}?tab=medicatie&melding=")
    assert "Opgeslagen" in boosted.text

    # In the browser: the address after a save is the screen's, so a reload shows the same screen.
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    rit_id = new_rit(page)
    save_abcde(page, "A", "vrij")
    assert f"/rits/{rit_id}?tab=abcde&melding=" in page.url, page.url
    page.reload()
    expect(page.locator("form[data-letter=A] + ul .regel")).to_have_count(1)
    page.close()


def test_a_message_form_sent_twice_sends_one_message(chromium, edge_process):  # noqa: F811
    """A double tap on Versturen, or the same post replayed, is one message to the SEH."""
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    rit_id = new_rit(page)
    page.goto(f"{edge.base_url}/rits/{rit_id}/berichten")
    page.fill("#vrij-bericht input[name=text]", "is de CT vrij?")
    page.locator("#vrij-bericht button").dblclick()
    page.wait_for_selector(".bericht:has-text('Bericht opgeslagen')")
    page.wait_for_load_state("networkidle")
    texts = lambda: [m["text"] for m in edge.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]]  # noqa: E731
    assert texts() == ["is de CT vrij?"]

    client, token = _signed_in_client(edge)
    form = {"csrf": token, "idem": "bericht-1", "text": "traumakamer?"}
    for _ in range(2):
        assert client.post(f"/rits/{rit_id}/berichten", data=form, follow_redirects=False).status_code == 303
    assert texts() == ["is de CT vrij?", "traumakamer?"]
    other = client.post(f"/rits/{rit_id}/berichten", data=form | {"text": "iets anders"}, follow_redirects=False)
    assert other.status_code == 422 and "andere tekst" in other.text
    assert texts() == ["is de CT vrij?", "traumakamer?"]


def test_correcting_the_melding_keeps_its_reason_apart_from_the_correction_reason(chromium, edge_process):  # noqa: F811
    """The melding has a field "reason" of its own; its correction form used the same name for
    the correction's reason, so the correction stored "['CVA', 'typfout']" as its reason."""
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    rit_id = new_rit(page)
    open_tab(page, "Patiënt & melding")  # the melding stands from the start (urgency): a correction
    form = page.locator("form[data-form=melding]")
    form.locator("input[name=reason]").fill("CVA, laatst goed gezien 10:05")
    form.locator("button:has-text('Correctie opslaan')").click()  # no correction reason yet
    expect(page.locator("#fout-melding-correctie_reden")).to_be_visible()
    form = page.locator("form[data-form=melding]")
    form.locator("input[name=reason]").fill("CVA, laatst goed gezien 10:05")
    form.locator("input[name=correctie_reden]").fill("typfout")
    form.locator("button:has-text('Correctie opslaan')").click()
    page.wait_for_selector(".bericht:has-text('Opgeslagen')")
    meldingen = _entries(edge, rit_id, "melding")
    newest = max(meldingen, key=lambda e: e["position"])
    assert newest["data"]["reason"] == "CVA, laatst goed gezien 10:05" and newest["reason"] == "typfout"
