"""The arrivals board says who at the SEH confirmed reading each rit ("Gelezen door harness
14:25") or, in words, that nobody has ("nog niet gelezen"); in large print like the other key
columns, from one query of the access log per board refresh (no query per line)."""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime

from playwright.sync_api import expect

from edge.config import ApiToken
from edge.wire.contract import Envelope, new_id, receipt_topic_filter
from seh.app import create_app
from seh.board import UNREAD_WORDS, read_words
from seh.staff import SehAccess
from seh.store import SehStore
from simulators.processes import AUTH_HEADERS
from tests.harness.mqtt import TestClient as Vehicle
from tests.harness.mqtt import envelope, send
from tests.harness.ui_browser import BOARD, chromium  # noqa: F401
from tests.harness.waiting import wait_until
from tests.test_seh_wall_board import arrival_form

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TOKEN = "board-reads-0123456789abcdef"
HOSTILE = "<b>x</b>"  # an integration's name as configured: shown as text, never as markup


def _store_with_rits(tmp_path, count: int) -> tuple[SehStore, list[str]]:
    store = SehStore(tmp_path / "seh.db", "seh-umcu")
    ids = []
    for i in range(count):
        rit_id, car = new_id(), f"ambu-{i + 10:02d}"
        body = envelope(rit_id, 1, arrival_form(rit_id, car, "A2", 5 + i), vehicle_id=car)
        assert store.apply(Envelope.model_validate(body))[0].type == "delivered"
        ids.append(rit_id)
    return store, ids


def test_one_board_refresh_reads_the_access_log_once_whatever_the_number_of_rits(tmp_path):
    store, ids = _store_with_rits(tmp_path, 12)
    access = SehAccess(store, 12.0, [ApiToken(name="harness", token=TOKEN), ApiToken(name=HOSTILE, token=TOKEN + "x")])
    app = create_app(store, mark_read=lambda rit_id: True, access=access, trusted_hosts=["testserver"])
    nurse = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}"})
    hostile = TestClient(app, headers={"Authorization": f"Bearer {TOKEN}x"})
    for rit_id in ids[:5]:  # five read, one of them twice (the latest reader counts), seven not
        assert nurse.post(f"/api/v1/rits/{rit_id}/read").status_code == 200
    assert hostile.post(f"/api/v1/rits/{ids[0]}/read").status_code == 200
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        page = nurse.get("/bord/rijen?kiosk=1").text
    finally:
        store.db.conn.set_trace_callback(None)
    on_log = [s for s in statements if "seh_access_log" in s and s.lstrip().upper().startswith("SELECT")]
    assert len(on_log) == 1, on_log
    cells = dict(re.findall(r'<tr data-rit="([^"]+)".*?data-kolom="gelezen"><div[^>]*>([^<]*)<', page, re.DOTALL))
    assert len(cells) == 12
    assert cells[ids[0]].startswith("Gelezen door &lt;b&gt;x&lt;/b&gt; ")
    assert all(re.fullmatch(r"Gelezen door harness \d\d:\d\d\s*", cells[i]) for i in ids[1:5]), cells
    assert all(cells[i].strip() == UNREAD_WORDS for i in ids[5:]), cells
    store.close()


def test_a_read_of_an_older_version_says_a_newer_one_came_in():
    now = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    read = {"user": "j.jansen", "at": "2026-12-02T11:58:00.000Z", "seq": 2}
    assert read_words({"seq": 2}, read, now)["read_after"] == ""
    assert read_words({"seq": 3}, read, now)["read_after"] == "gewijzigd na lezen"
    assert read_words({"seq": 3}, None, now) == {"read": False, "read_words": UNREAD_WORDS, "read_after": ""}
    assert read_words({"seq": 3}, {**read, "seq": None}, now)["read_after"] == ""


def test_the_board_names_the_reader_after_the_nurse_taps_gelezen(chromium, broker, seh_process):  # noqa: F811
    seh = seh_process()
    vehicle = Vehicle(broker.port)
    rit_id, car = new_id(), "ambu-21"
    vehicle.subscribe(receipt_topic_filter(car))
    send(vehicle, envelope(rit_id, 1, arrival_form(rit_id, car, "A1", 8, ["stemi"]), vehicle_id=car))
    wait_until(lambda: len(seh.get("/api/v1/rits").json()) == 1, 10, what="the arrival at the SEH")

    board = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    board.goto(seh.base_url + "/")
    cell = board.locator(f"tr[data-rit='{rit_id}'] td[data-kolom=gelezen]")
    expect(cell).to_have_text(UNREAD_WORDS)
    assert float(cell.evaluate("c => parseFloat(getComputedStyle(c).fontSize)")) >= 32
    row = board.locator(f"tr[data-rit='{rit_id}']")
    height = row.evaluate("r => r.getBoundingClientRect().height")

    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    nurse.goto(seh.base_url + f"/rits/{rit_id}")
    # A forged form (someone else's CSRF token) is refused on the page and reads nothing.
    nurse.locator("#gelezen input[name=csrf]").evaluate("i => i.value = 'vervalst'")
    nurse.click("#gelezen button:has-text('Gelezen')")
    expect(nurse.locator("body")).to_contain_text("formulier verlopen")
    board.wait_for_timeout(1500)  # longer than a live refresh of the board: still unread
    expect(cell).to_have_text(UNREAD_WORDS)

    nurse.goto(seh.base_url + f"/rits/{rit_id}")
    nurse.click("#gelezen button:has-text('Gelezen')")
    expect(nurse.locator("#gelezen")).to_contain_text("Gelezen door: harness")
    # The board was not reloaded: its live refresh brings the reader and the (local) time.
    expect(cell).to_have_text(re.compile(r"^Gelezen door harness \d\d:\d\d\s*$"), timeout=5000)
    fits = board.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")
    assert fits, "the read column pushes the board wider than the screen"
    assert row.evaluate("r => r.getBoundingClientRect().height") <= height + 0.5  # twelve still fit
    vehicle.close()
