"""Every form on the rit screen refuses a wrong value visibly and keeps what was typed; the
right value then lands in the list (acceptance 1 and 2 of "no save refused in silence").

The forms are found by crawling the tabs in Debian chromium with JavaScript on (htmx), so a
form added without an error path fails here. A second test enumerates the entry kinds of
the domain and fails when one has no form on the tablet.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from edge.form.entries import CLIENT_KINDS
from tests.harness.form_probe import fill_right, fill_wrong, form_identity, open_form, probe_forms, submit
from tests.harness.ui_browser import TABLET, chromium, form_tab_links, new_rit, sign_in  # noqa: F401

ENTRY_COUNT = "li.regel, .waarde-tijd"


def test_every_form_shows_its_refusal_keeps_the_typing_and_then_saves(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    new_rit(page)
    probed: list[str] = []
    for name, href in form_tab_links(page):
        page.goto(edge.base_url + href)
        seen_here: set[str] = set()
        while True:  # a save can add forms (a correction form per entry): crawl again after each
            todo = [f for f in probe_forms(page) if form_identity(f) not in seen_here]
            if not todo:
                break
            form = todo[0]
            identity = form_identity(form)
            seen_here.add(identity)
            data_form = form.get_attribute("data-form")
            assert data_form, f"{name}: a form without data-form cannot name its refusal ({form.get_attribute('action')})"

            open_form(form)
            typed = fill_wrong(form)
            submit(form)
            form = page.locator(f"form[data-form='{data_form}']")
            refusal = form.locator(".veldfout, .formfout").first
            expect(refusal, f"{name} / {identity}: no refusal beside the form").to_be_visible(timeout=5000)
            assert refusal.inner_text().strip(), identity
            expect(page.locator("#meldingen .fout")).to_be_visible()
            for field, value in typed.items():
                kept = form.locator(f"[name='{field}']").first
                assert kept.input_value() == value, f"{name} / {identity}: '{field}' lost what was typed"

            before = page.locator(ENTRY_COUNT).count()
            fill_right(form)
            submit(form)
            saved = page.locator(".bericht:has-text('Opgeslagen')")
            assert saved.count(), f"{name} / {identity}: refused: {page.locator('#meldingen').inner_text()[:300]}"
            assert page.locator(ENTRY_COUNT).count() > before, f"{name} / {identity}: nothing new in the list"
            probed.append(f"{name} / {identity}")
    print(f"probed {len(probed)} forms: " + ", ".join(probed))
    assert len(probed) >= 30, probed
    page.close()


def test_every_client_entry_kind_has_a_form_on_the_tablet(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    new_rit(page)
    on_screen: dict[str, str] = {}
    for name, href in form_tab_links(page):
        page.goto(edge.base_url + href)
        kinds = page.locator("main form[data-kind]").evaluate_all("fs => fs.map(f => f.dataset.kind)")
        on_screen.update({kind: name for kind in kinds})
    missing = sorted(set(CLIENT_KINDS) - set(on_screen))
    assert missing == [], f"entry kinds without a screen on the tablet: {missing}"
    page.close()


def test_new_rit_with_an_impossible_age_is_refused_on_the_page(chromium, edge_process):  # noqa: F811
    edge = edge_process()
    page = chromium.new_page(viewport=TABLET)
    sign_in(page, edge.base_url)
    page.check("input[name=onbekend]")
    page.fill("input[name=estimated_age_years]", "400")
    page.click("button:has-text('Rit starten')")
    expect(page.locator("#meldingen .fout")).to_contain_text(re.compile("leeftijd", re.I))
    assert page.locator("input[name=estimated_age_years]").input_value() == "400"
    page.close()
