"""Live vitals tiles: IEC 60601-1-8 priority classes (high red flashing, medium yellow, low cyan),
always with a text marker, so the priority never rests on colour alone."""

from __future__ import annotations

from devices.observation import Observation
from devices.observation import MDC_HEART_RATE as HEART_RATE
from devices.observation import MDC_SPO2 as SPO2
from devices.observation import MDC_TEMP as TEMPERATURE
from tests.harness.form_api import api  # noqa: F401
from web.pages import templates
from web.view_model import tiles



def rendered(service) -> str:
    values, device_alarms = tiles(service)
    return templates.get_template("_tiles.html").render(tiles=values, device_alarms=device_alarms)


def test_alarm_tiles_carry_priority_class_and_text_marker(api):  # noqa: F811
    api.live.update(Observation("monitor", SPO2, 80.0, "SpO2", "%"))
    api.live.update(Observation("monitor", HEART_RATE, 130.0, "HR", "/min"))
    api.live.update(Observation("monitor", TEMPERATURE, 39.5, "Temp", "Cel"))
    by_code = {t["code"]: t for t in tiles(api.service)[0]}
    assert by_code[SPO2]["alarm"]["priority"] == "high"
    assert by_code[HEART_RATE]["alarm"]["priority"] == "medium"
    assert by_code[TEMPERATURE]["alarm"]["priority"] == "low"
    html = rendered(api.service)
    for priority, words in (("high", "hoog"), ("medium", "middel"), ("low", "laag")):
        assert f"alarm-{priority}" in html
        assert f"{words}:" in html  # the text marker names the priority


def test_normal_values_have_no_alarm_marker(api):  # noqa: F811
    api.live.update(Observation("monitor", SPO2, 97.0, "SpO2", "%"))
    html = rendered(api.service)
    assert "97" in html and "alarm-" not in html and "marker" not in html
