import numpy as np
import pytest

from geo.catalogue import REQUIRED_KEYS
from geo.errors import SettingsError
from geo.synthetic import synthetic_district


@pytest.mark.parametrize("households", [2_000, 37_123])
def test_exact_total_and_all_services(households):
    area = synthetic_district(households, seed=3)
    assert area.households["households"].sum() == households
    assert set(area.facilities["service"]) == set(REQUIRED_KEYS)
    assert (area.households["hh_source"] == "synthetic").all()
    assert area.network.report["components"] == 1


def test_seeded_and_arterials_every_300_to_500_m():
    a, b = synthetic_district(30_000, seed=5), synthetic_district(30_000, seed=5)
    assert a.households.geometry.equals(b.households.geometry)
    arterial = a.roads[a.roads["road_class"] == "arterial"]
    xs = np.unique(np.round([g.coords[0][0] for g in arterial.geometry
                             if g.coords[0][0] == g.coords[-1][0]], 3))
    gaps = np.diff(xs)
    assert ((gaps >= 300) & (gaps <= 500)).all()


def test_some_towers_exceed_a_grid_band():
    area = synthetic_district(100_000, seed=0)
    assert (area.households["households"] > 300).any()


def test_size_is_checked():
    with pytest.raises(SettingsError):
        synthetic_district(10)
