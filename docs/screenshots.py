"""Screenshots of the main screens for docs/ui.md, taken from a running demo (so they stay
current): tablet 1280x800 and SEH board 1920x1080, Day and Night themes.

Run: PYTHONPATH=. .venv/bin/python docs/screenshots.py   (writes docs/img/*.png)
"""

from __future__ import annotations

from pathlib import Path

from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, TABLET, new_rit, open_tab, save_abcde, sign_in
from tests.harness.ui_demo import ui_demo

OUT = Path(__file__).parent / "img"


def fill_demo_rit(page) -> str:
    rit_id = new_rit(page)
    open_tab(page, "Patiënt & melding")
    page.select_option("form[data-form=patient] select[name=sex]", "F")
    page.fill("form[data-form=patient] input[name=estimated_age_years]", "74")
    page.click("button:has-text('Patiënt opslaan')")
    page.wait_for_selector(".bericht")
    page.click("button:has-text('Geen behandelgrenzen')")
    page.wait_for_selector(".bericht")
    open_tab(page, "Werkdiagnose")
    page.fill("form[data-form=diagnosis] input[name=text]", "verdenking CVA")
    page.click("button:has-text('Werkdiagnose opslaan')")
    page.wait_for_selector(".bericht")
    open_tab(page, "ABCDE")
    save_abcde(page, "A", "vrij")
    save_abcde(page, "B", "dyspnoe", "spreekt in korte zinnen")
    page.wait_for_selector(".tegel[data-code]", timeout=10000)
    open_tab(page, "Vitale waarden")
    page.click("#overnemen")
    page.wait_for_selector(".bericht")
    open_tab(page, "Medicatie")
    page.locator("form button.groot").first.click()
    page.wait_for_selector(".bericht")
    open_tab(page, "Overdracht")
    page.click("a:has-text('Vooraankondigen')")
    page.click("button:has-text('Ja, vooraankondigen')")
    page.wait_for_selector("#sync:has-text('ontvangen door SEH')", timeout=10000)
    return rit_id


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with ui_demo() as (edge, seh, browser):
        for theme in ("dag", "nacht"):
            context = browser.new_context(viewport=TABLET)
            context.add_cookies([{"name": "ritlink_thema", "value": theme, "url": edge.base_url}])
            page = context.new_page()
            page.goto(edge.base_url + "/aanmelden")
            page.screenshot(path=OUT / f"tablet-aanmelden-{theme}.png")
            sign_in(page, edge.base_url)
            rit_id = fill_demo_rit(page)
            for tab in ("patient", "abcde", "vitals", "trauma", "medicatie", "overdracht"):
                page.goto(f"{edge.base_url}/rits/{rit_id}?tab={tab}")
                page.wait_for_selector(".tegel[data-code]", timeout=10000)
                page.screenshot(path=OUT / f"tablet-{tab}-{theme}.png")
            page.goto(f"{edge.base_url}/rits/{rit_id}?tab=medicatie")  # a refusal, said beside its field
            page.select_option("form[data-form=medicatie] select[name=drug]", "heparine")
            page.fill("form[data-form=medicatie] input[name=dose]", "50000")
            page.click("form[data-form=medicatie] button")
            page.wait_for_selector("form[data-form=medicatie] .formfout")
            page.locator("form[data-form=medicatie]").scroll_into_view_if_needed()
            page.screenshot(path=OUT / f"tablet-weigering-{theme}.png")
            page.goto(f"{edge.base_url}/rits/{rit_id}/bevestig/overdracht")
            page.screenshot(path=OUT / f"tablet-bevestig-overdracht-{theme}.png")
            context.close()
            board = browser.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
            board.goto(f"{seh.base_url}/?thema={theme}")
            board.wait_for_selector("tr[data-rit]")
            board.screenshot(path=OUT / f"bord-{theme}.png")
            board.goto(f"{seh.base_url}/rits/{rit_id}?thema={theme}")
            board.screenshot(path=OUT / f"bord-rit-{theme}.png", full_page=True)
            board.close()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
