"""A full store at the edge: the save is refused loudly (507, the reason in words), the form
stays readable, and everything stored before is still sent to the SEH."""

from __future__ import annotations

from tests.harness.waiting import wait_until


def test_full_store_refuses_saves_and_still_sends_what_is_stored(monitor, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link), database_max_mb=1.0, store_reserve_mb=0.4)
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    wait_until(lambda: edge.get("/api/v1/vitals/live").json()["values"], 10, what="live values")
    refused = None
    for _ in range(3000):
        response = edge.post(f"/api/v1/rits/{rit_id}/vitals/accept")
        if response.status_code != 200:
            refused = response
            break
    assert refused is not None, "the store never filled"
    assert refused.status_code == 507
    assert "Opslag vol" in refused.json()["detail"][0]["msg"] and "NIET opgeslagen" in refused.json()["detail"][0]["msg"]

    view = edge.get(f"/api/v1/rits/{rit_id}")
    assert view.status_code == 200  # the crew can still read the form
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["form_sha256"] == view.json()["form_sha256"], 20,
               what="everything stored reached the SEH")
    assert edge.post(f"/api/v1/rits/{rit_id}/vitals/accept").status_code == 507  # still refused, still loud
    assert "store full" in edge.log_text()


def test_full_store_is_said_on_the_tablet_page(monitor, edge_process):
    import re

    from tests.test_ui_forms import _signed_in_client

    edge = edge_process(monitor_url=str(monitor.link), database_max_mb=1.0, store_reserve_mb=0.4)
    client, token = _signed_in_client(edge)
    made = client.post("/ritten", data={"csrf": token, "idem": "r1", "urgency": "A1", "destination_seh": "seh-umcu"})
    rit_id = re.search(r"/rits/([0-9a-f-]+)", made.headers["location"]).group(1)
    wait_until(lambda: edge.get("/api/v1/vitals/live").json()["values"], 10, what="live values")
    for _ in range(3000):
        if edge.post(f"/api/v1/rits/{rit_id}/vitals/accept").status_code == 507:
            break
    form = {"csrf": token, "idem": "med-1", "drug": "fentanyl", "dose": "50", "unit": "ug", "route": "iv"}
    page = client.post(f"/rits/{rit_id}/medicatie", data=form, follow_redirects=False)
    assert page.status_code == 507
    assert "Opslag vol" in page.text and "NIET opgeslagen" in page.text
