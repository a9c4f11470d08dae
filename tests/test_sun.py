"""The automatic theme's sun: dark at night and in the winter evening, light at noon (Utrecht)."""

from datetime import UTC, datetime

from web.sun import is_dark, sun_elevation

UTRECHT = (52.09, 5.12)


def test_noon_is_light_and_midnight_dark():
    assert not is_dark(*UTRECHT, datetime(2026, 12, 2, 11, 45, tzinfo=UTC))
    assert is_dark(*UTRECHT, datetime(2026, 12, 2, 23, 0, tzinfo=UTC))


def test_a_december_evening_is_dark_by_six_and_a_june_evening_not():
    assert is_dark(*UTRECHT, datetime(2026, 12, 2, 17, 0, tzinfo=UTC))  # 18:00 local
    assert not is_dark(*UTRECHT, datetime(2026, 6, 21, 19, 0, tzinfo=UTC))  # 21:00 local


def test_midsummer_noon_elevation_is_about_61_degrees():
    assert 60.0 < sun_elevation(*UTRECHT, datetime(2026, 6, 21, 11, 40, tzinfo=UTC)) < 62.5
