"""The refusals that do not come from a wrong value: a full store, an expired shift, a service
that does not answer; and typing that survives a tab switch, a reload and a refusal.
All in Debian chromium with JavaScript on, through the pages alone."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.harness.form_probe import await_answer
from tests.harness.ui_browser import TABLET, chromium, new_rit, open_tab, sign_in  # noqa: F401

NOTE = "form[data-form=A] input[name=text]"


def test_full_store_says_opslag_vol_on_the_page(chromium, edge_process):  # noqa: F811
    edge = edge_process(database_max_mb=0.7, store_reserve_mb=0.4)  # full before one form is too large
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    new_rit(page)
    open_tab(page, "Werkdiagnose")
    remark = page.locator("form[data-form=remark]")
    for attempt in range(400):  # each remark is a few kB: the reserve is reached within a few hundred
        remark.locator("input[name=text]").fill(f"{attempt} " + "overdrachtsnotitie " * 200)
        await_answer(page, lambda: remark.locator("button").click())
        if page.locator("#meldingen .fout").count():
            break
    alert = page.locator("#meldingen .fout")
    expect(alert).to_contain_text("Opslag vol")
    expect(alert).to_contain_text("NIET opgeslagen")
    expect(remark.locator(".formfout")).to_contain_text("Opslag vol")
    assert remark.locator("input[name=text]").input_value().startswith(f"{attempt} ")  # the typing is kept


def test_expired_shift_offers_sign_in_and_comes_back_with_the_typing(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    context = chromium.new_context(viewport=TABLET)
    page = context.new_page()
    sign_in(page, edge.base_url)
    rit_id = new_rit(page)
    page.fill(NOTE, "luchtweg vrij, snurkt licht")
    context.clear_cookies()  # the shift's sign-in is gone (expired, or signed out elsewhere)
    await_answer(page, lambda: page.locator("form[data-form=A] button").click())
    expect(page.locator("#meldingen .fout")).to_contain_text("NIET opgeslagen")
    page.click("a:has-text('Opnieuw aanmelden')")
    page.fill("input[name=crew1]", "J. de Vries")
    page.fill("input[name=pin]", "12345")
    page.click("button:has-text('Aanmelden')")
    page.wait_for_url(f"**/rits/{rit_id}**")
    expect(page.locator(NOTE)).to_have_value("luchtweg vrij, snurkt licht")
    context.close()


def test_a_service_that_does_not_answer_is_said_and_nothing_typed_is_lost(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    new_rit(page)
    page.fill(NOTE, "stridor bij inspiratie")
    edge.stop()
    page.locator("form[data-form=A] button").click()
    expect(page.locator("#meldingen .fout")).to_contain_text("Tablet-service reageert niet", timeout=20_000)
    expect(page.locator(NOTE)).to_have_value("stridor bij inspiratie")


def test_typing_survives_a_tab_switch_and_a_reload_and_is_cleared_by_the_save(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    new_rit(page)
    page.fill(NOTE, "half ingevuld")
    page.locator("form[data-form=B] input[value=dyspnoe]").check()
    open_tab(page, "Medicatie")
    open_tab(page, "ABCDE")
    expect(page.locator(NOTE)).to_have_value("half ingevuld")
    expect(page.locator("form[data-form=B] input[value=dyspnoe]")).to_be_checked()
    page.reload()
    expect(page.locator(NOTE)).to_have_value("half ingevuld")
    page.locator("form[data-form=A] select[name=status]").select_option("vrij")
    await_answer(page, lambda: page.locator("form[data-form=A] button").click())
    expect(page.locator(".bericht")).to_have_text("Opgeslagen: A — Luchtweg")
    expect(page.locator(NOTE)).to_have_value("")  # saved: the draft is gone ...
    expect(page.locator("form[data-form=B] input[value=dyspnoe]")).to_be_checked()  # ... the other form's stays
    page.reload()
    expect(page.locator(NOTE)).to_have_value("")


def test_wrong_pin_is_said_on_the_sign_in_page(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    page.goto(edge.base_url + "/aanmelden")
    page.fill("input[name=crew1]", "J. de Vries")
    page.fill("input[name=pin]", "0000")
    await_answer(page, lambda: page.click("button:has-text('Aanmelden')"))
    expect(page.locator("#meldingen .fout")).to_contain_text("juiste pincode")


def test_a_step_no_longer_allowed_is_refused_visibly(chromium, edge_process):  # noqa: F811
    """409: the confirmation was opened in one tab, the rit announced in another."""
    edge = edge_process()
    context = chromium.new_context(viewport=TABLET)
    first, second = context.new_page(), context.new_page()
    sign_in(first, edge.base_url)
    rit_id = new_rit(first)
    first.goto(f"{edge.base_url}/rits/{rit_id}/bevestig/vooraankondigen")
    second.goto(f"{edge.base_url}/rits/{rit_id}/bevestig/vooraankondigen")
    second.click("button:has-text('Ja, vooraankondigen')")
    expect(second.locator(".bericht")).to_have_text("Opgeslagen")
    await_answer(first, lambda: first.click("button:has-text('Ja, vooraankondigen')"))
    expect(first.locator("#meldingen .fout")).to_contain_text("al vooraangekondigd")
    context.close()
