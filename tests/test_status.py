"""`ritlink status` and GET /-/status: devices, broker, outbox, disk, last error."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from ritlink.status import duration, render
from edge.ops.status import DiskWatch, LastErrorHandler, disk_level, outbox_figures, warnings_for
from tests.harness.monitor_sim import nonin_feeding
from tests.harness.procs import run_ritlink
from tests.harness.waiting import wait_until

GB = 1024**3
MB = 1024**2


@pytest.fixture
def monitor(pty_device):
    with nonin_feeding(pty_device("monitor"), interval=0.2) as device:
        yield device


def _status(edge) -> dict:
    response = edge.get("/-/status")
    assert response.status_code == 200, response.text
    return response.json()


def _new_announced_rit(edge) -> str:
    rit_id = edge.post("/api/v1/rits", {"destination_seh": "seh-umcu", "urgency": "A2"}).json()["rit_id"]
    assert edge.post(f"/api/v1/rits/{rit_id}/announce").status_code == 202
    return rit_id


def test_status_while_the_broker_is_down_and_the_monitor_unplugged(monitor, broker, edge_process):
    edge = edge_process(monitor_url=str(monitor.link))
    wait_until(lambda: _status(edge)["broker"]["connected"], 10, what="broker connected")
    wait_until(lambda: _status(edge)["devices"] and _status(edge)["devices"][0]["last_data_age_s"] is not None,
               10, what="monitor data")
    online = _status(edge)
    assert online["devices"] == [{"id": "monitor", "state": "connected", "last_data_age_s": online["devices"][0]["last_data_age_s"]}]
    assert online["devices"][0]["last_data_age_s"] < 2

    _new_announced_rit(edge)  # sent while online: no SEH here, so it waits for its receipt
    wait_until(lambda: _status(edge)["outbox"]["awaiting_receipt"] == 1, 5, what="first message sent")

    broker.stop()
    wait_until(lambda: not _status(edge)["broker"]["connected"], 30, what="broker seen down")
    _new_announced_rit(edge)
    _new_announced_rit(edge)
    monitor.unplug()
    wait_until(lambda: _status(edge)["devices"][0]["state"] == "disconnected", 10, what="monitor seen unplugged")

    status = _status(edge)
    assert status["service"] == "running" and status["vehicle_id"] == "ambu-01"
    assert status["broker"] == {"url": broker.url, "connected": False}
    [device] = status["devices"]
    assert device["id"] == "monitor" and device["state"] == "disconnected" and device["last_data_age_s"] >= 0
    outbox = status["outbox"]
    assert outbox["unsent"] == 2 == edge.get("/-/health").json()["outbox_depth"]
    assert outbox["awaiting_receipt"] == 1 and outbox["rejected"] == 0
    assert 0 <= outbox["oldest_unsent_age_s"] < 30 and outbox["oldest_unsent_at"].endswith("Z")
    assert status["disk"]["free_bytes"] > 0 and status["disk"]["level"] in ("ok", "laag", "kritiek")
    assert status["database"]["size_bytes"] > 0
    assert status["warnings"] == [w for w in status["warnings"] if w.startswith("Schijfruimte")]  # offline is no warning

    shown = run_ritlink("status", "--config", str(edge.config), "--port", str(edge.port))
    assert shown.returncode in (0, 1), shown.stderr  # 1 only if this machine's disk is low
    lines = shown.stdout.splitlines()
    assert len(lines) <= 20
    assert lines[1].startswith("Dienst        draait")
    assert any(line.startswith("Monitor       niet verbonden, laatste gegevens: ") and "geleden" in line for line in lines)
    assert any(line.startswith("Broker        niet verbonden") for line in lines)
    assert any(line.startswith("Wachtrij      2 niet verzonden (oudste ") and "1 wacht op ontvangst" in line
               for line in lines), shown.stdout

    as_json = run_ritlink("status", "--config", str(edge.config), "--port", str(edge.port), "--json")
    data = json.loads(as_json.stdout)
    assert data["outbox"]["unsent"] == 2 and data["devices"][0]["state"] == "disconnected"

    # With the service stopped, the database still tells the outbox depth.
    edge.stop()
    offline = run_ritlink("status", "--config", str(edge.config), "--port", str(edge.port))
    assert offline.returncode == 3
    assert "DRAAIT NIET" in offline.stdout
    assert any(line.startswith("Wachtrij      2 niet verzonden") for line in offline.stdout.splitlines()), offline.stdout


def test_status_of_a_service_that_never_ran(tmp_path):
    config = tmp_path / "edge.toml"
    config.write_text(f'database = "{tmp_path / "none.db"}"\nhttp_port = 9\n')
    shown = run_ritlink("status", "--config", str(config))
    assert shown.returncode == 3
    assert "DRAAIT NIET" in shown.stdout and "Database      ontbreekt" in shown.stdout
    assert not (tmp_path / "none.db").exists()  # status never creates a database


# -- the parts -------------------------------------------------------------------------------------
@pytest.mark.parametrize(("free", "total", "level"), [
    (20 * GB, 32 * GB, "ok"),
    (3 * GB, 32 * GB, "laag"),       # under 10 %
    (900 * MB, 4 * GB, "laag"),      # under 1 GB on a small disk
    (200 * MB, 32 * GB, "kritiek"),  # under 256 MB
    (10 * GB, 1000 * GB, "kritiek"), # under 2 % of a big disk
    (0, 0, "kritiek"),
])
def test_disk_watermark_levels(free, total, level):
    assert disk_level(free, total) == level


def test_disk_watch_warns_once_when_crossing_the_watermark_and_says_when_it_is_ok_again(tmp_path, caplog):
    threshold = {"value": float("inf")}  # every real disk is "low" against this
    watch = DiskWatch(tmp_path / "edge.db", level_of=lambda free, total: "laag" if free < threshold["value"] else "ok")
    with caplog.at_level(logging.INFO, logger="ritlink.status"):
        assert watch.check() == "laag"
        assert watch.check() == "laag"
        threshold["value"] = 0
        assert watch.check() == "ok"
    messages = [(r.levelname, r.getMessage().split(":")[0]) for r in caplog.records]
    assert messages == [("WARNING", "disk space laag"), ("INFO", "disk space ok again")]


def test_last_error_keeps_the_newest_warning_or_error_only():
    handler = LastErrorHandler()
    logger = logging.getLogger("ritlink.test-status")
    logger.addHandler(handler)
    try:
        logger.info("not an error")
        assert handler.last is None
        logger.warning("broker refused connection: %s", "Not authorized")
        logger.error("outbox sender error %d", 3)
        logger.info("fine again")
    finally:
        logger.removeHandler(handler)
    assert handler.last["level"] == "error" and handler.last["message"] == "outbox sender error 3"
    assert handler.last["logger"] == "ritlink.test-status" and handler.last["at"].endswith("Z")


def test_outbox_figures_from_plain_rows():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    rows = {"SELECT state": [{"state": "saved", "n": 4}, {"state": "sent", "n": 2}, {"state": "rejected", "n": 1}],
            "SELECT min(": [{"at": (now - timedelta(minutes=45)).isoformat().replace("+00:00", "Z")}]}
    figures = outbox_figures(lambda sql, params: next(v for k, v in rows.items() if sql.startswith(k)), now)
    assert figures == {"unsent": 4, "oldest_unsent_at": "2025-01-01T11:15:00Z", "oldest_unsent_age_s": 2700.0,
                       "awaiting_receipt": 2, "rejected": 1}
    found = warnings_for({"outbox": figures, "disk": {"level": "ok"}})
    assert found == ["1 bericht(en) geweigerd door de SEH", "Oudste niet-verzonden bericht wacht al 45 min"]


def test_render_fits_one_screen_and_durations_read_naturally():
    assert [duration(s) for s in (None, 4.2, 125, 7300, 200000)] == ["nog nooit", "4 s", "2 min", "2 u 1 min", "2 d 7 u"]
    status = {
        "service": "running", "vehicle_id": "ambu-07", "checked_at": "2025-01-01T12:00:00.000Z",
        "url": "http://127.0.0.1:8080/-/status",
        "devices": [{"id": "monitor", "state": "connected", "last_data_age_s": 0.4},
                    {"id": "gps", "state": "disconnected", "last_data_age_s": None}],
        "broker": {"url": "mqtt://broker:8883", "connected": True},
        "outbox": {"unsent": 0, "oldest_unsent_at": None, "oldest_unsent_age_s": None, "awaiting_receipt": 0, "rejected": 0},
        "disk": {"free_bytes": 900 * MB, "total_bytes": 16 * GB, "free_percent": 5.5, "level": "laag"},
        "database": {"path": "/var/lib/ritlink/ritlink-edge.db", "size_bytes": 31 * MB},
        "last_error": {"at": "2025-01-01T11:59:00Z", "level": "warning", "logger": "ritlink.sync", "message": "x"},
        "warnings": ["Schijfruimte laag: nog 900 MB vrij"],
    }
    text = render(status)
    assert text.splitlines() == [
        "ritlink status  voertuig ambu-07  2025-01-01T12:00:00.000Z",
        "Dienst        draait (http://127.0.0.1:8080)",
        "Monitor       verbonden, laatste gegevens: 0 s geleden",
        "Gps           niet verbonden, laatste gegevens: nog nooit",
        "Broker        verbonden  mqtt://broker:8883",
        "Wachtrij      0 niet verzonden, 0 wacht op ontvangst",
        "Schijf        900.0 MB vrij van 16.0 GB (6 %), laag",
        "Database      /var/lib/ritlink/ritlink-edge.db (31.0 MB)",
        "Laatste fout  2025-01-01T11:59:00Z warning: x",
        "Let op:",
        "  ! Schijfruimte laag: nog 900 MB vrij",
    ]
