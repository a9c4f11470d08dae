"""A monitor value in another unit than the form keeps is converted when taken over (etCO2:
mmHg on the monitor, kPa in the form), never stored as the wrong number."""

from __future__ import annotations

from devices.observation import MDC_ETCO2, Observation
from tests.harness.form_api import api  # noqa: F401 (api is a fixture)


def test_monitor_etco2_in_mmhg_is_taken_over_in_kpa(api):  # noqa: F811
    rit_id = api.new_rit()
    api.live.update(Observation.of("monitor", MDC_ETCO2, 34.0, unit="mm[Hg]"))
    api.post(f"/api/v1/rits/{rit_id}/vitals/accept", status=200)
    (etco2,) = [v for v in api.form(rit_id)["vitals"].values() if v["parameter"] == "etco2"]
    assert etco2["unit"] == "kPa" and abs(etco2["value"] - 4.53) < 0.01


def test_a_value_in_a_unit_that_cannot_be_converted_is_not_taken_over(api):  # noqa: F811
    rit_id = api.new_rit()
    api.live.update(Observation.of("monitor", MDC_ETCO2, 5.0, unit="%"))
    api.post(f"/api/v1/rits/{rit_id}/vitals/accept", status=409)  # nothing fresh that can be taken
    assert api.form(rit_id)["vitals"] == {}
