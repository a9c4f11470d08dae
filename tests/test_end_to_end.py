"""The walking skeleton end to end, with real processes: monitor pty -> edge -> broker -> SEH -> receipt."""

from __future__ import annotations

import sqlite3
import time

import pytest

from tests.harness.waiting import wait_until


def _new_rit(edge) -> str:
    response = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A1"})
    assert response.status_code == 201, response.text
    return response.json()["rit_id"]


def _accept_live_vitals(edge, rit_id: str) -> None:
    wait_until(lambda: len(edge.get("/api/v1/vitals/live").json()["values"]) >= 2, 10, what="live monitor values")
    response = edge.post(f"/api/v1/rits/{rit_id}/vitals/accept")
    assert response.status_code == 200, response.text


def _states(edge, rit_id: str) -> list[str]:
    return [m["state"] for m in edge.get(f"/api/v1/rits/{rit_id}").json()["messages"]]


def _applied_count(seh_db, msg_id: str) -> int:
    with sqlite3.connect(f"file:{seh_db}?mode=ro", uri=True) as conn:
        return conn.execute("SELECT count(*) FROM seh_versions WHERE msg_id = ?", [msg_id]).fetchone()[0]


@pytest.mark.serial
def test_vital_sign_reaches_seh_with_same_hash_and_delivered_within_2s(monitor, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    rit_id = _new_rit(edge)
    _accept_live_vitals(edge, rit_id)
    wait_until(lambda: edge.get("/-/health").json()["broker"] == "connected", 10, what="edge connected")

    started = time.monotonic()
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    wait_until(lambda: _states(edge, rit_id) == ["delivered"], 2.0, what="delivered receipt")
    elapsed = time.monotonic() - started

    at_edge = edge.get(f"/api/v1/rits/{rit_id}").json()
    at_seh = seh.get(f"/api/v1/rits/{rit_id}").json()
    assert at_seh["form_sha256"] == at_edge["form_sha256"]
    assert at_seh["form"] == at_edge["form"]
    vitals = at_seh["form"]["vitals"].values()
    assert {v["code"] for v in vitals} == {150456, 149530}  # SpO2 and pulse rate, by MDC code
    assert all(v["source"] == "device:monitor" for v in vitals)
    assert elapsed < 2.0


def test_broker_down_at_announce_queues_then_delivers_once(tmp_path, monitor, broker, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    rit_id = _new_rit(edge)
    _accept_live_vitals(edge, rit_id)

    broker.stop()
    wait_until(lambda: edge.get("/-/health").json()["broker"] == "disconnected", 30, what="edge sees broker down")
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    assert _states(edge, rit_id) == ["queued"]

    broker.start()
    wait_until(lambda: _states(edge, rit_id) == ["delivered"], 20, what="delivered after broker is back")
    msg_id = edge.get(f"/api/v1/rits/{rit_id}").json()["messages"][0]["msg_id"]
    assert _applied_count(tmp_path / "seh.db", msg_id) == 1
    assert seh.get(f"/api/v1/rits/{rit_id}").json()["form_sha256"] == edge.get(f"/api/v1/rits/{rit_id}").json()["form_sha256"]


@pytest.mark.parametrize("broker_up_at_kill", [True, False], ids=["broker-up", "broker-down"])
def test_edge_sigkill_right_after_announce_sends_exactly_once(tmp_path, monitor, broker, edge_process, seh_process,
                                                               broker_up_at_kill):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    rit_id = _new_rit(edge)
    _accept_live_vitals(edge, rit_id)
    if not broker_up_at_kill:
        broker.stop()
        wait_until(lambda: edge.get("/-/health").json()["broker"] == "disconnected", 30, what="broker down")

    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    edge.kill9()
    if not broker_up_at_kill:
        broker.start()
    edge.start()

    wait_until(lambda: _states(edge, rit_id) == ["delivered"], 20, what="delivered after restart")
    view = edge.get(f"/api/v1/rits/{rit_id}").json()
    assert _applied_count(tmp_path / "seh.db", view["messages"][0]["msg_id"]) == 1
    assert seh.get(f"/api/v1/rits/{rit_id}").json()["form_sha256"] == view["form_sha256"]


def test_reading_the_rit_at_the_seh_sends_read(monitor, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    rit_id = _new_rit(edge)
    _accept_live_vitals(edge, rit_id)
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    wait_until(lambda: _states(edge, rit_id) == ["delivered"], 10, what="delivered")
    page = seh.get(f"/rits/{rit_id}")
    assert page.status_code == 200 and rit_id[:8] in page.text
    time.sleep(0.5)  # opening the page alone is not "read": a nurse says so with the Gelezen button
    assert _states(edge, rit_id) == ["delivered"]
    assert seh.post(f"/api/v1/rits/{rit_id}/read").status_code == 200
    wait_until(lambda: _states(edge, rit_id) == ["read"], 5, what="read receipt at the tablet")
    log = seh.get(f"/api/v1/rits/{rit_id}/access").json()
    assert [(r["user"], r["action"]) for r in log][:2] == [("harness", "rit.view"), ("harness", "rit.read_receipt")]
    assert seh.post(f"/api/v1/rits/{'0' * 8}/read").status_code == 404


def test_late_additions_after_overdracht_reach_the_seh(monitor, edge_process, seh_process):
    seh = seh_process()
    edge = edge_process(monitor_url=str(monitor.link))
    rit_id = _new_rit(edge)
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    assert edge.post(f"/api/v1/rits/{rit_id}/overdracht", {"onvolledig": True}).status_code == 202
    late = edge.post(f"/api/v1/rits/{rit_id}/entries",
                     {"kind": "remark", "data": {"text": "familie ingelicht"}, "nagekomen": True})
    assert late.status_code == 201, late.text
    entry_id = late.json()["entry_ids"][0]
    wait_until(lambda: seh.get(f"/api/v1/rits/{rit_id}").json()["form_sha256"]
               == edge.get(f"/api/v1/rits/{rit_id}").json()["form_sha256"], 5, what="nagekomen at the SEH")
    at_seh = seh.get(f"/api/v1/rits/{rit_id}").json()
    assert at_seh["status"] == "overdracht" and at_seh["form"]["remarks"][entry_id]["nagekomen"] is True
