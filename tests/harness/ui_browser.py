"""Debian chromium driven by Playwright for the UI tests: no browser download, loopback only.

``browser_session`` launches /usr/bin/chromium once per test module; ``LoopbackRecorder``
records every request a page makes so a test can assert none left 127.0.0.1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
TABLET = {"width": 1280, "height": 800}
BOARD = {"width": 1920, "height": 1080}
CREW = ("J. de Vries", "P. Bakker")
PIN = "12345"  # the harness and demo PIN (simulators/processes.py)


def launch(playwright) -> Browser:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


class LoopbackRecorder:
    """Every URL a page requested; ``foreign()`` lists those not on 127.0.0.1."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def attach(self, page: Page) -> Page:
        page.on("request", lambda request: self.urls.append(request.url))
        return page

    def foreign(self) -> list[str]:
        return [u for u in self.urls if urlparse(u).scheme not in ("data", "blob", "about")
                and urlparse(u).hostname != "127.0.0.1"]


def sign_in(page: Page, base_url: str) -> None:
    page.goto(base_url + "/aanmelden")
    page.fill("input[name=crew1]", CREW[0])
    page.fill("input[name=crew2]", CREW[1])
    page.fill("input[name=pin]", PIN)
    page.click("button:has-text('Aanmelden')")
    page.wait_for_url(base_url + "/")


def new_rit(page: Page, urgency: str = "A1", seh_label: str = "SEH UMC Utrecht") -> str:
    page.check(f"input[name=urgency][value={urgency}]", force=True)
    page.select_option("select[name=destination_seh]", label=seh_label)
    if page.locator("input[name=ook_nieuw]").count():
        page.check("input[name=ook_nieuw]")
    page.click("button:has-text('Rit starten')")
    page.wait_for_url(re.compile(r".*/rits/[0-9a-f-]+\?tab=abcde.*"))
    return urlparse(page.url).path.split("/")[2]


def open_tab(page: Page, label: str) -> None:
    page.click(f"nav.tabs a:has-text('{label}')")
    page.wait_for_selector("nav.tabs a.actief:has-text('" + label + "')")


def save_abcde(page: Page, letter: str, value: str, text: str = "") -> None:
    form = page.locator(f"form[data-letter={letter}]")
    box = form.locator(f"input[type=checkbox][value='{value}']")
    if box.count():  # a finding among several (checkboxes), else the letter's main choice
        box.first.check()
    else:
        form.locator("select").first.select_option(value)
    if text:
        form.locator("input[name=text]").fill(text)
    form.locator("button").click()
    page.wait_for_selector(".bericht:has-text('Opgeslagen')")


def form_tab_links(page: Page) -> list[tuple[str, str]]:
    """(name, href) of the rit screen's form tabs; the Berichten page is not a form tab
    (test_messages_ui probes its refusals)."""
    links = page.locator("nav.tabs a:not([data-berichten])")
    return [(links.nth(i).inner_text(), links.nth(i).get_attribute("href")) for i in range(links.count())]


def sync_words(page: Page) -> str:
    return page.locator("#sync").inner_text()


def box_of(locator, attempts: int = 20) -> dict:
    """The element's bounding box once it is laid out. A page that refreshes itself (the SEH's
    live pages swap on every change) can be between two renders for a moment: ask again."""
    for _ in range(attempts):
        locator.wait_for(state="visible", timeout=5000)
        box = locator.bounding_box()
        if box is not None:
            return box
    raise AssertionError(f"{locator} never had a bounding box")
