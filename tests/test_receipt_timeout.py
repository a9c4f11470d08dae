"""Receipt timeout with real processes: SEH receiver down -> amber warning with the SEH's phone
number after the configured time; SEH back -> receipt arrives and the warning clears;
"SEH gebeld" is recorded in the form and clears the warning too."""

from __future__ import annotations

from tests.conftest import SEHS
from tests.harness.procs import RitlinkProcess
from tests.harness.waiting import wait_until


def edge_with_short_timeouts(tmp_path, broker, monitor) -> RitlinkProcess:
    config = tmp_path / "edge.toml"
    sehs = "".join(f'[[sehs]]\nid = "{s["id"]}"\nname = "{s["name"]}"\nphone = "{s["phone"]}"\n' for s in SEHS)
    config.write_text(
        f'vehicle_id = "ambu-01"\nbroker_url = "{broker.url}"\ndatabase = "{tmp_path / "edge.db"}"\n'
        f'monitor_url = "{monitor.link}"\n{sehs}'
        "[receipt_timeouts.A1]\ndelivered_s = 2\nread_s = 600\n"
    )
    return RitlinkProcess("serve", config, tmp_path / "edge.log").start()


def test_missing_delivered_receipt_warns_then_clears(tmp_path, broker, monitor, seh_process):
    seh = seh_process()
    edge = edge_with_short_timeouts(tmp_path, broker, monitor)
    try:
        rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
        seh.stop()
        assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
        view = lambda: edge.get(f"/api/v1/rits/{rit_id}").json()  # noqa: E731
        assert view()["warnings"] == []
        warning = wait_until(lambda: view()["warnings"], 8, what="receipt warning")[0]
        assert warning["kind"] == "delivered" and warning["phone"] == "088-755 5555"
        assert warning["text"] == "Geen ontvangstbevestiging van SEH UMC Utrecht — bel 088-755 5555"

        seh.start()  # the broker kept the message for the SEH's persistent session
        wait_until(lambda: view()["messages"][0]["state"] == "delivered", 15, what="delivered after SEH is back")
        assert view()["warnings"] == []
    finally:
        edge.stop()


def test_seh_gebeld_is_recorded_and_clears_the_warning(tmp_path, broker, monitor, seh_process):
    edge = edge_with_short_timeouts(tmp_path, broker, monitor)  # no SEH receiver at all
    try:
        rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"}).json()["rit_id"]
        assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
        wait_until(lambda: edge.get(f"/api/v1/rits/{rit_id}").json()["warnings"], 8, what="warning")
        bad = edge.post(f"/api/v1/rits/{rit_id}/seh-called", {"seh_id": "seh-umcu", "warning": "soon"})
        assert bad.status_code == 422 and "warning" in str(bad.json()["detail"])
        assert edge.post(f"/api/v1/rits/{rit_id}/seh-called", {"seh_id": "seh-umcu", "warning": "delivered"},
                         headers={"X-Ritlink-User": "J. de Vries"}).status_code == 200
        view = edge.get(f"/api/v1/rits/{rit_id}").json()
        assert view["warnings"] == []
        (called,) = view["form"]["seh_called"].values()
        assert (called["seh_id"], called["warning"], called["author"]) == ("seh-umcu", "delivered", "J. de Vries")
    finally:
        edge.stop()


def test_seh_gebeld_tapped_twice_from_the_page_records_once(tmp_path, broker, monitor):
    import re

    from tests.test_ui_forms import _signed_in_client

    edge = edge_with_short_timeouts(tmp_path, broker, monitor)
    try:
        client, token = _signed_in_client(edge)
        made = client.post("/ritten", data={"csrf": token, "idem": "r1", "urgency": "A1",
                                            "destination_seh": "seh-umcu"})
        rit_id = re.search(r"/rits/([0-9a-f-]+)", made.headers["location"]).group(1)
        assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
        page = wait_until(lambda: (t := client.get(f"/rits/{rit_id}").text) and "seh-gebeld" in t and t, 8,
                          what="banner on the page")
        form = re.search(r'action="/rits/[^"]+/seh-gebeld".*?</form>', page, re.S).group(0)
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
        for _ in range(2):  # the strip re-renders between taps; the key stays the same
            client.get(f"/rits/{rit_id}")
            assert client.post(f"/rits/{rit_id}/seh-gebeld", data=fields, follow_redirects=False).status_code == 303
        assert len(edge.get(f"/api/v1/rits/{rit_id}").json()["form"]["seh_called"]) == 1
    finally:
        edge.stop()
