"""Live monitor values at the tablet service: alarms with priority and text marker, a trend,
and the technical alarm "monitor niet verbonden" when the cable is pulled."""

from __future__ import annotations

from tests.harness.waiting import wait_until


def test_cable_pull_raises_technical_alarm_within_3s_and_clears_on_replug(monitor, edge_process):
    edge = edge_process(monitor_url=str(monitor.link))
    live = lambda: edge.get("/api/v1/vitals/live").json()  # noqa: E731
    wait_until(lambda: live()["devices"].get("monitor") == "connected" and live()["values"], 10, what="values")
    assert live()["alarms"] == []
    trend = edge.get("/api/v1/vitals/trend").json()
    assert any(key.endswith("/150456") for key in trend)  # SpO2 trend points

    monitor.unplug()
    alarm = wait_until(lambda: live()["alarms"], 3.0, what="technical alarm")[0]
    assert "monitor niet verbonden" in str(alarm).lower()
    monitor.plug()
    wait_until(lambda: live()["alarms"] == [] and live()["devices"]["monitor"] == "connected", 10,
               what="alarm cleared after replug")


def test_trend_is_stored_and_survives_a_restart(monitor, edge_process):
    edge = edge_process(monitor_url=str(monitor.link))
    spo2 = lambda: edge.get("/api/v1/vitals/trend").json().get("monitor/150456", [])  # noqa: E731
    first = wait_until(spo2, 10, what="a stored SpO2 trend point")
    edge.kill9()
    edge.start()
    assert spo2()[: len(first)] == first  # still there after an unclean stop
    points = wait_until(lambda: len(spo2()) >= len(first) + 1 and spo2(), 12, what="a later point")
    times = [p["time"] for p in points]
    assert times == sorted(times)
