"""Capacitated siting: new facilities of one capacity placed to close the shortfall, the
greedy answer checked against HiGHS and against enumeration on small cases."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from scipy import sparse

from analysis.siting.capacity import (exact_capacitated, greedy_capacitated, served,
                                      site_for_capacity)


def test_served_is_the_maximum_flow_by_hand():
    # site 0 reaches homes 0, 1; site 1 reaches homes 1, 2; each site 100 places
    cover = sparse.csr_array(np.array([[1, 1, 0], [0, 1, 1]], dtype=bool))
    need = np.array([80.0, 80.0, 30.0])
    value, got = served(cover, need, 100, [0, 1])
    assert value == pytest.approx(190)  # 80 + 80 + 30: site 0 gives home 1 twenty
    np.testing.assert_allclose(got, need)
    assert served(cover, need, 100, [1])[0] == pytest.approx(100)
    assert greedy_capacitated(cover, need, 100, 1) in ([0], [1])
    chosen, info = exact_capacitated(cover, need, 100, 1)
    assert info["optimal"] and served(cover, need, 100, chosen)[0] == pytest.approx(100)


@pytest.mark.parametrize("seed", range(12))
def test_exact_equals_enumeration_and_greedy_is_close(seed):
    rng = np.random.default_rng(seed)
    n_c, n_h, p = 7, 14, int(rng.integers(1, 4))
    cover = sparse.csr_array(rng.random((n_c, n_h)) < 0.3)
    need = rng.integers(0, 60, n_h).astype(float)
    cap = float(rng.integers(40, 150))
    best = max(served(cover, need, cap, list(s))[0] for s in combinations(range(n_c), p))
    exact, info = exact_capacitated(cover, need, cap, p)
    assert info["optimal"]
    assert served(cover, need, cap, exact)[0] == pytest.approx(best, abs=1e-6)
    greedy = served(cover, need, cap, greedy_capacitated(cover, need, cap, p))[0]
    assert greedy <= best + 1e-6 and greedy >= 0.75 * best


def test_sites_close_the_shortfall_on_a_generated_district(tmp_path):
    import pandas as pd

    from analysis.capacity.stage import DEFAULT_TABLE, CapacitySettings, capacity_stage
    from analysis.stages import Inputs, Runner
    from geo.synthetic import synthetic_district

    runner = Runner(inputs=Inputs(area=synthetic_district(3000, seed=7), key="site-cap"))
    base, index, walk = runner.get("base"), runner.get("index"), runner.walk
    fac = base.facilities.copy()
    fac["capacity"] = np.where(fac["service"] == "primary_school", 30.0, np.nan)
    fac["capacity_source"] = "given"
    table = pd.read_csv(DEFAULT_TABLE, dtype=str, keep_default_na=False)
    table.loc[table["key"] == "primary_school", "share"] = "0.08"  # a test share
    table.to_csv(tmp_path / "d.csv", index=False)
    cap = capacity_stage(base.households, fac, index, walk,
                         CapacitySettings(table=str(tmp_path / "d.csv")))
    result = site_for_capacity(index, cap.homes, "primary_school", 2, 150.0,
                               threshold_m=walk.threshold_m("primary_school"))
    assert result.shortfall_before > 0
    assert 0 <= result.shortfall_after < result.shortfall_before
    assert result.sites["places"].sum() == pytest.approx(
        result.shortfall_before - result.shortfall_after, abs=1e-6)
    assert (result.sites["places"] <= 150 + 1e-6).all()
    assert result.report["exact_served"] >= result.report["greedy_served"] - 1e-6
    from geo.errors import InputError

    with pytest.raises(InputError):
        site_for_capacity(index, cap.homes, "primary_school", 2, 0,
                          threshold_m=walk.threshold_m("primary_school"))
