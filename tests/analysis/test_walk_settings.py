"""WalkSettings: defaults from the bundled tables, validation, variations."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analysis.settings import WalkSettings, load_profiles
from geo.catalogue import load_catalogue
from geo.errors import GridcircleError, SettingsError

DATA = Path(__file__).resolve().parents[2] / "data"


def test_defaults_come_from_the_tables():
    settings = WalkSettings()
    with (DATA / "walk_profiles.csv").open(encoding="utf-8") as handle:
        speeds = {row["key"]: float(row["speed_mps"]) for row in csv.DictReader(handle)}
    assert dict(settings.speeds_mps) == speeds
    for service in load_catalogue():
        assert settings.threshold_min(service.key) == service.threshold_min
        assert settings.speed_mps(service.key) == speeds[service.profile]
        assert settings.threshold_m(service.key) == pytest.approx(
            service.threshold_min * 60 * speeds[service.profile])
    assert settings.speed_mps("elderly_care") == 1.0 and settings.speed_mps("health") == 1.2
    assert all(p.source for p in load_profiles())  # every default cites its source
    assert settings.max_snap_m == 150 and settings.minutes == (5, 10, 15)


def test_settings_are_frozen_and_hashable():
    a, b = WalkSettings(), WalkSettings()
    assert a == b and hash(a) == hash(b)
    with pytest.raises(AttributeError):
        a.max_snap_m = 10
    c = a.with_speed(1.4)
    assert c.speed_mps("health") == 1.4 and c.speed_mps("elderly_care") == 1.0
    assert a.speed_mps("health") == 1.2 and c != a
    assert a.with_threshold("park", 15).threshold_min("park") == 15
    assert WalkSettings(speeds_mps={"adult": 1.2, "elderly": 1.0, "frail": 0.9}) == a


@pytest.mark.parametrize("kwargs", [
    {"max_snap_m": 0},
    {"max_snap_m": 1e6},
    {"minutes": (10, 5)},
    {"minutes": ()},
    {"horizon_min": 10},
    {"speeds_mps": (("adult", 0.0), ("elderly", 1.0), ("frail", 0.9))},
    {"speeds_mps": (("adult", 1.2), ("adult", 1.0))},
    {"thresholds_min": (("health", 0),)},
    {"service_profiles": (("health", "runner"),)},
    {"speeds_mps": "fast"},
])
def test_bad_settings_raise_settings_error(kwargs):
    with pytest.raises(SettingsError) as err:
        WalkSettings(**kwargs)
    assert err.value.message("zh") and err.value.message("en")


def test_unknown_service_and_profile():
    with pytest.raises(GridcircleError):
        WalkSettings().threshold_min("spa")
    with pytest.raises(SettingsError):
        WalkSettings().with_speed(1.0, profile="runner")


def test_from_catalogue_and_as_dict():
    settings = WalkSettings.from_catalogue(load_catalogue(), max_snap_m=100)
    assert settings.max_snap_m == 100 and settings.services == WalkSettings().services
    d = settings.as_dict()
    assert d["thresholds_min"]["health"] == 15 and d["speeds_mps"]["adult"] == 1.2
