"""A form on the SEH's rit page posted twice (a double click, a replayed post) sends one
message to the vehicle: "team geactiveerd" and a short message went twice before."""

from __future__ import annotations

from playwright.sync_api import expect

from simulators.processes import AUTH_HEADERS
from tests.harness.ui_browser import BOARD, chromium  # noqa: F401
from tests.harness.waiting import wait_until


def _fields(page, form: str) -> dict[str, str]:
    inputs = {name: page.locator(f"{form} input[name={name}]") for name in ("csrf", "idem")}
    return {name: (found.first.get_attribute("value") or "") if found.count() else "" for name, found in inputs.items()}


def test_team_activation_and_a_message_posted_twice_are_sent_once(chromium, edge_process, seh_process):  # noqa: F811
    seh, edge = seh_process(), edge_process()
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").status_code == 200, 10, what="the vooraankondiging")
    nurse = chromium.new_page(viewport=BOARD, extra_http_headers=AUTH_HEADERS)
    nurse.goto(f"{seh.base_url}/rits/{rit_id}")

    team = _fields(nurse, "#team") | {"room": "traumakamer 2"}
    message = _fields(nurse, "#vrij-bericht") | {"text": "traumakamer 2 staat klaar"}
    assert team["idem"] and message["idem"] and team["idem"] != message["idem"]
    for _ in range(2):
        assert nurse.request.post(f"{seh.base_url}/rits/{rit_id}/team-geactiveerd", form=team).ok
        assert nurse.request.post(f"{seh.base_url}/rits/{rit_id}/berichten", form=message).ok
    nurse.goto(f"{seh.base_url}/rits/{rit_id}")
    expect(nurse.locator("[data-team]")).to_have_count(1)
    sent = seh.get(f"/api/v1/rits/{rit_id}/berichten").json()["messages"]
    assert [m["text"] for m in sent] == ["traumakamer 2 staat klaar"]
