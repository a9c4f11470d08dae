"""The arrivals board on a 1920x1080 wall screen, read from 3 m: twelve arrivals fit without
scrolling, the key columns are at least 32 px, A1 is said and styled, team alarms are in
words, the ambulance is named and the arrival is "over N min". The arrivals come over the
real broker from simulated vehicles speaking the wire contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from edge.wire.contract import new_id, receipt_topic_filter
from tests.harness.mqtt import TestClient, envelope, form_of, send
from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, chromium  # noqa: F401
from tests.harness.waiting import wait_until

KEY_COLUMNS = ("aankomst", "patient", "diagnose", "alarm", "gelezen")


def _entry(position: int, **data) -> dict:
    return {**data, "clinical_time": "2026-12-02T12:00:00.000Z", "recorded_at": "2026-12-02T12:00:00.000Z",
            "author": "J. de Vries", "source": "manual", "position": position}


def arrival_form(rit_id: str, vehicle: str, urgency: str, minutes: int, alerts: list[str] | None = None) -> dict:
    arrival = (datetime.now(UTC) + timedelta(minutes=minutes, seconds=10)).isoformat().replace("+00:00", "Z")
    form = form_of(rit_id, vehicle, melding={"urgency": urgency},
                   diagnoses={"d1": _entry(1, text="verdenking STEMI inferior" if alerts else "val, heupfractuur")},
                   patient={"identified": False, "sex": "M", "estimated_age_years": 64},
                   vehicle_position={"at": "2026-12-02T12:00:00.000Z", "lat": 52.09, "lon": 5.12,
                                     "seh_id": "seh-umcu", "eta": {"seconds": minutes * 60, "arrival_at": arrival,
                                                                    "distance_m": 5000, "method": "route"}})
    if alerts:
        form["team_alerts"] = {"t1": _entry(2, alerts=alerts, **({"trauma_level": "niveau_1"} if "trauma" in alerts else {}))}
    return form


def test_twelve_arrivals_fit_a_wall_screen_in_large_print(chromium, broker, seh_process):  # noqa: F811
    seh = seh_process()
    vehicle = TestClient(broker.port)
    rits = []
    for i in range(12):
        rit_id, car = new_id(), f"ambu-{i + 10:02d}"
        vehicle.subscribe(receipt_topic_filter(car))
        urgency, alerts = {0: ("A1", ["trauma"]), 1: ("A1", ["stemi"])}.get(i, ("A2" if i % 2 else "B", None))
        send(vehicle, envelope(rit_id, 1, arrival_form(rit_id, car, urgency, 6 + i, alerts), vehicle_id=car))
        rits.append((rit_id, car))
    wait_until(lambda: len(seh.get("/api/v1/rits").json()) == 12, 10, what="twelve arrivals at the SEH")

    board = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    board.goto(seh.base_url + "/?kiosk=1")
    first = board.locator(f"tr[data-rit='{rits[0][0]}']")
    expect(first.locator(".urgentie-bord.u-A1")).to_have_text("A1 spoed")
    expect(first.locator("td[data-kolom=alarm]")).to_contain_text("TRAUMAALARM NIVEAU 1")
    expect(first.locator("[data-kolom=ambulance]")).to_have_text("ambu-10")
    expect(first.locator("td[data-kolom=aankomst]")).to_contain_text("over 6 min")
    second = board.locator(f"tr[data-rit='{rits[1][0]}']")
    expect(second.locator(".urgentie-bord.u-A1")).to_have_text("A1 spoed")
    expect(second.locator("td[data-kolom=alarm]")).to_contain_text("STEMI")
    expect(board.locator("tr[data-rit]")).to_have_count(12)
    fits = board.evaluate("() => document.scrollingElement.scrollHeight <= window.innerHeight"
                          " && document.scrollingElement.scrollWidth <= window.innerWidth")
    assert fits, "twelve arrivals do not fit on the screen without scrolling"
    for column in KEY_COLUMNS:
        size = board.evaluate(f"() => parseFloat(getComputedStyle(document.querySelector("
                              f"'tr[data-rit] td[data-kolom={column}]')).fontSize)")
        assert size >= 32, f"{column}: {size} px"
    assert board.locator("main a.knop, main button").count() == 0  # kiosk: nothing to press
    vehicle.close()
