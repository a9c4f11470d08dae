"""Every entry kind the crew can record reaches the SEH's rit page, end to end: each kind is
recorded through its own form on the tablet in chromium (the first plausible value of every
field), the rit is announced over the real broker, and the SEH's rit page in chromium shows a
section for each kind. A kind that the tablet records but the SEH never shows fails here."""

from __future__ import annotations

from playwright.sync_api import expect

from edge.form.entries import CLIENT_KINDS
from simulators.processes import AUTH_HEADERS
from tests.harness.form_probe import fill_right, open_form, probe_forms, submit
from tests.harness.ui_browser import BOARD, TABLET, chromium, form_tab_links, new_rit, sign_in  # noqa: F401
from tests.harness.waiting import wait_until


def test_every_kind_recorded_on_the_tablet_is_on_the_seh_rit_page(chromium, broker, edge_process,  # noqa: F811
                                                                     seh_process):
    seh = seh_process()
    edge = edge_process()
    tablet = chromium.new_page(viewport=TABLET)
    sign_in(tablet, edge.base_url)
    rit_id = new_rit(tablet)
    recorded: set[str] = set()
    for _name, href in form_tab_links(tablet):
        tablet.goto(edge.base_url + href)
        for _ in range(40):  # bounded: each round records one kind not yet recorded on this tab
            todo = [f for f in probe_forms(tablet)
                    if f.get_attribute("data-kind") in CLIENT_KINDS and f.get_attribute("data-kind") not in recorded
                    and not (f.get_attribute("data-form") or "").startswith(("corrigeer-", "intrekken-"))]
            if not todo:
                break
            form, kind = todo[0], todo[0].get_attribute("data-kind")
            open_form(form)
            fill_right(form)
            submit(form)
            saved = tablet.locator(".bericht:has-text('Opgeslagen')")
            assert saved.count(), f"{kind}: {tablet.locator('#meldingen').inner_text()[:300]}"
            recorded.add(kind)
    print(f"recorded through the tablet's forms: {len(recorded)} kinds")
    assert recorded == set(CLIENT_KINDS), f"kinds without a form that saves: {sorted(set(CLIENT_KINDS) - recorded)}"
    tablet.goto(f"{edge.base_url}/rits/{rit_id}?tab=overdracht")

    tablet.click("a:has-text('Vooraankondigen')")
    tablet.click("button:has-text('Ja, vooraankondigen')")
    tablet.wait_for_selector(".bericht:has-text('Opgeslagen')")
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="the vooraankondiging")

    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    expect(nurse.locator("#overdracht-samenvatting")).to_be_visible()
    on_page = set(nurse.locator("[data-kind]").evaluate_all("es => es.map(e => e.dataset.kind)"))
    not_shown = sorted(recorded - on_page)
    assert not_shown == [], f"recorded on the tablet, not on the SEH's rit page: {not_shown}"
    tablet.close()
    nurse.close()
