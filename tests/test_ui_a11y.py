"""Accessibility in the browser: axe-core (vendored) finds no serious or critical violation on
the main pages in both themes (with the 7:1 contrast rule switched on), and every clickable element on the tablet is at least 48x48 CSS
px, primary actions at least 64 px."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, TABLET, chromium, new_rit, sign_in  # noqa: F401

AXE = Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "axe-core-4.10.2.min.js"
TABLET_TABS = ("melding", "abcde", "secundair", "vitals", "medicatie", "verrichtingen", "diagnose", "overdracht")

# Every clickable element with its box; a checkbox or radio counts by the label the finger hits.
MEASURE = """() => [...document.querySelectorAll('a[href], button, select, input, summary, [hx-get], [onclick]')]
  .filter(el => el.type !== 'hidden' && el.getClientRects().length)
  .map(el => {
    const target = (el.type === 'checkbox' || el.type === 'radio') ? el.closest('label') : el;
    const box = target.getBoundingClientRect();
    return {what: el.outerHTML.slice(0, 80), w: box.width, h: box.height,
            primary: target.classList.contains('primair') || target.classList.contains('tab')};
  })"""


def axe_problems(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations'], rules: {'color-contrast-enhanced': {enabled: true}}})).violations")
    return [f"{v['id']} ({v['impact']}): {v['nodes'][0]['html'][:100]}" for v in result
            if v["impact"] in ("serious", "critical")]


def too_small(page) -> list[str]:
    out = []
    for el in page.evaluate(MEASURE):
        floor = 64 if el["primary"] else 48
        if el["w"] < floor - 0.5 or el["h"] < floor - 0.5:
            out.append(f"{el['w']:.0f}x{el['h']:.0f} < {floor}: {el['what']}")
    return out


@pytest.mark.parametrize("theme", ["dag", "nacht"])
def test_main_pages_pass_axe_and_touch_sizes(chromium, theme, broker, edge_process, seh_process):  # noqa: F811
    seh = seh_process()
    edge = edge_process()
    context = chromium.new_context(viewport=TABLET)
    context.add_cookies([{"name": "ritlink_thema", "value": theme, "url": edge.base_url}])
    page = context.new_page()
    page.goto(edge.base_url + "/aanmelden")
    problems = {"aanmelden": axe_problems(page) + too_small(page)}
    sign_in(page, edge.base_url)
    problems["ritten"] = axe_problems(page) + too_small(page)
    rit_id = new_rit(page)
    for tab in TABLET_TABS:
        page.goto(f"{edge.base_url}/rits/{rit_id}?tab={tab}")
        page.wait_for_selector(".tegels")
        problems[tab] = axe_problems(page) + too_small(page)
    # The header strip never scrolls away.
    page.goto(f"{edge.base_url}/rits/{rit_id}?tab=abcde")
    page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
    assert page.evaluate("() => window.scrollY") > 200
    assert page.evaluate("() => document.querySelector('#kop').getBoundingClientRect().top") == 0
    for step in ("vooraankondigen", "overdracht", "annuleren"):
        page.goto(f"{edge.base_url}/rits/{rit_id}/bevestig/{step}")
        problems[step] = axe_problems(page) + too_small(page)
    page.goto(f"{edge.base_url}/rits/{rit_id}/bevestig/vooraankondigen")
    page.click("button:has-text('Ja, vooraankondigen')")
    page.wait_for_selector(".bericht")

    board = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    board.goto(f"{seh.base_url}/?thema={theme}")
    board.wait_for_selector(f"tr[data-rit='{rit_id}']", timeout=5000)
    problems["bord"] = axe_problems(board)
    board.goto(f"{seh.base_url}/rits/{rit_id}?thema={theme}")
    problems["seh-rit"] = axe_problems(board)
    assert seh.get(f"/rits/{rit_id}/versies").status_code == 200
    context.close()
    board.close()
    assert {k: v for k, v in problems.items() if v} == {}
