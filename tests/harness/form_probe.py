"""Probe a form on a page as a crew member in a hurry would: wrong values first, then right ones.

The forms are found on the page, never listed by hand: every form with a control the crew
can type into or choose in is probed. A wrong value is one no patient can have (99999, a
4,100-character text, 99:99, a date in 2999) or a required choice left empty; a right value
is the form's own example (``data-voorbeeld``), the first choice of a list, a time a few
minutes ago. Actions are counted as taps (a click, a choice, a tick or a field filled).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Locator, Page

HUGE_TEXT = "x" * 4100
LOCAL = ZoneInfo("Europe/Amsterdam")
# Controls that are not data: the confirmation of a refusal is the crew's answer to it.
NOT_DATA = ("csrf", "idem", "nagekomen", "withdraw", "not_state", "confirm")


class Taps:
    """Counts what a person does with a finger: clicks, choices, ticks, fields filled."""

    def __init__(self, page: Page):
        self.page = page
        self.count = 0

    def click(self, target: Locator | str) -> None:
        self.count += 1
        (self.page.locator(target) if isinstance(target, str) else target).click()

    def fill(self, target: Locator | str, value: str) -> None:
        self.count += 1
        (self.page.locator(target) if isinstance(target, str) else target).fill(value)

    def select(self, target: Locator | str, value: str | None = None, label: str | None = None) -> None:
        self.count += 1
        locator = self.page.locator(target) if isinstance(target, str) else target
        locator.select_option(value=value) if label is None else locator.select_option(label=label)

    def check(self, target: Locator | str) -> None:
        self.count += 1
        (self.page.locator(target) if isinstance(target, str) else target).check()


def form_identity(form: Locator) -> str:
    """One probe per kind of form: every entry's correction form is the same form."""
    name = form.get_attribute("data-form") or form.get_attribute("action") or "?"
    return "corrigeer" if name.startswith("corrigeer-") else name


def probe_forms(page: Page) -> list[Locator]:
    """Forms in the main part of the page that take typed or chosen input."""
    found = []
    forms = page.locator("main form")
    for i in range(forms.count()):
        form = forms.nth(i)
        controls = form.locator("input:not([type=hidden]):not([type=submit]), select, textarea")
        if controls.count():
            found.append(form)
    return found


def open_form(form: Locator) -> None:
    details = form.locator("xpath=ancestor::details[1]")
    if details.count() and details.get_attribute("open") is None:
        details.locator("summary").first.click()


def _controls(form: Locator) -> list[Locator]:
    items = form.locator("input:not([type=hidden]):not([type=submit]), select, textarea")
    return [items.nth(i) for i in range(items.count())]


def fill_wrong(form: Locator) -> dict[str, str]:
    """Values no patient can have; returns what was typed (name -> value) to check it is kept."""
    typed = {}
    for control in _controls(form):
        name = control.get_attribute("name") or ""
        kind = (control.get_attribute("type") or control.evaluate("e => e.tagName")).lower()
        if name in NOT_DATA or kind in ("checkbox", "radio", "select"):
            continue
        if name in ("at", "om"):
            value = "99:99"
        elif kind == "date":
            value = "2999-01-01"
        elif control.get_attribute("inputmode") in ("decimal", "numeric"):
            value = "99999"
        else:
            value = HUGE_TEXT
        control.fill(value)
        typed[name] = control.input_value()  # what the field holds: a maxlength keeps less than was typed
    return typed


def past_clock(minutes: int = 5) -> str:
    return (datetime.now(LOCAL) - timedelta(minutes=minutes)).strftime("%H:%M")


def fill_right(form: Locator) -> None:
    """A plausible value in every field, the first choice of every list."""
    ticked_groups = set()
    for control in _controls(form):
        name = control.get_attribute("name") or ""
        kind = (control.get_attribute("type") or control.evaluate("e => e.tagName")).lower()
        if name in NOT_DATA:
            continue
        if kind == "select":
            values = [v for v in control.locator("option").evaluate_all("os => os.map(o => o.value)") if v]
            control.select_option(values[0])
        elif kind in ("checkbox", "radio"):
            if name not in ticked_groups:
                control.check()
                ticked_groups.add(name)
        elif name in ("at", "om"):
            control.fill(past_clock())
        elif kind == "date":
            control.fill("2001-02-03")
        elif control.get_attribute("data-voorbeeld"):
            control.fill(control.get_attribute("data-voorbeeld"))
        elif control.get_attribute("inputmode") in ("decimal", "numeric"):
            control.fill("")  # an optional number without an example: left to its default
        else:
            control.fill("proef")


def await_answer(page: Page, act: Callable[[], object]) -> None:
    """Do ``act`` (a tap) and wait for this tap's own answer, not the one before: the page
    carries a mark until htmx has put the answer in its place."""
    page.evaluate("document.querySelector('main').dataset.probe = 'voor'")
    act()
    page.wait_for_function("() => document.querySelector('main') && !document.querySelector('main[data-probe]')",
                           timeout=10_000)


def save(taps: Taps, target: Locator | str, must_save: bool = False) -> None:
    """Tap a save button once it is on screen and wait for its own answer; ``must_save``: the
    answer must be "Opgeslagen" (else the page's message is the failure)."""
    page = taps.page
    locator = page.locator(target) if isinstance(target, str) else target
    locator.wait_for(state="visible")  # the page that holds the button is the one on screen
    await_answer(page, lambda: taps.click(locator))
    if must_save and not page.locator(".bericht:has-text('Opgeslagen')").count():
        raise AssertionError(f"not saved: {page.locator('#meldingen').inner_text()!r} at {page.url}")


def submit(form: Locator) -> None:
    """The form's save button (a form with a "nu" button saves by the typed time instead), and
    wait until the answer has replaced the page."""
    buttons = form.locator("button")
    await_answer(form.page, lambda: buttons.nth(buttons.count() - 1).click())
