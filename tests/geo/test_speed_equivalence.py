"""Speed work changes no result: digests of the grids and walking minutes, recorded from
the code before the speed work (commit 1b45364) and kept as constants here.

Each digest is the first 16 hex digits of SHA-256 over sorted text lines: ``unit_id`` →
``grid_id``; ``grid_id`` → grid polygon area rounded to 0.1 m²; and every household's
walking minutes per service rounded to 1e-6 (NaN kept as ``nan``). A faster grid or
reach step must reproduce all of them exactly.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

#: demo → (assignment, grid areas, walking minutes, units, grids), from commit 1b45364
DEMO_DIGESTS = {
    "synthetic:3000": ("007e22c1c14d8496", "67bf1ba630218789", "c62c8cf785b3a04b", 68, 12),
    "synthetic:20000": ("797fe7ce38f0b40e", "a0618f37876bd723", "d17e8f4d4316e74e", 448, 80),
    "helsinki": ("f8e05bbf71131a4b", "ee037ace2bf56c7d", "0a69af3323f96d3e", 99, 20),
}
#: the benchmark's city (entrance-level units, derived communities), 30,000 households:
#: (assignment, grid areas, units, grids, mean Polsby–Popper to 1e-6), from commit 1b45364
CITY_DIGESTS = {30_000: ("a8e06c7b0d7dc2a4", "c200975248c1a887", 1179, 120, 0.714303)}


def _digest(lines) -> str:
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:16]


def _assignment(unit_ids, grid_ids) -> str:
    return _digest(f"{u}\t{g}" for u, g in sorted(zip(map(str, unit_ids), map(str, grid_ids))))


def _areas(grids) -> str:
    g = grids.sort_values("grid_id")
    return _digest(f"{i}\t{a:.1f}" for i, a in
                   zip(g["grid_id"].astype(str), np.round(g.geometry.area.to_numpy(), 1)))


def _minutes(households) -> str:
    rows = households.sort_values("unit_id")
    parts = []
    for column in sorted(c for c in rows.columns if c.startswith("walk_min_")):
        values = np.round(rows[column].to_numpy(dtype=float), 6)
        parts.append(column + ":" + ",".join("nan" if not np.isfinite(x) else f"{x:.6f}"
                                             for x in values))
    return _digest(parts)


@pytest.mark.parametrize("demo", sorted(DEMO_DIGESTS))
def test_demo_grids_and_minutes_are_unchanged(demo):
    from analysis.pipeline import RunSettings, load_area
    from analysis.stages import Inputs, Runner

    assign, areas, minutes, n_units, n_grids = DEMO_DIGESTS[demo]
    runner = Runner(inputs=Inputs(area=load_area(demo=demo)), settings=RunSettings())
    base = runner.get("base")
    assert (len(base.households), len(base.grids)) == (n_units, n_grids)
    assert _assignment(base.households["unit_id"], base.households["grid_id"]) == assign
    assert _areas(base.grids) == areas
    households = runner.get("reach").measured.households
    assert sum(c.startswith("walk_min_") for c in households.columns) == 13
    assert _minutes(households) == minutes


@pytest.mark.parametrize("households", sorted(CITY_DIGESTS))
def test_benchmark_city_grids_are_unchanged(households):
    from benchmarks.units import entrance_units
    from geo.grids import GridSettings, make_grids
    from geo.grids.communities import derive_communities
    from geo.synthetic import synthetic_district

    assign, areas, n_units, n_grids, pp = CITY_DIGESTS[households]
    area = synthetic_district(households, seed=1)
    units = entrance_units(area)
    communities = derive_communities(units, area.roads, area.boundary)
    result = make_grids(units, communities, area.roads, settings=GridSettings())
    assert (len(result.assignment), len(result.grids)) == (n_units, n_grids)
    assert _assignment(result.assignment.index, result.assignment.to_numpy()) == assign
    assert _areas(result.grids) == areas
    assert round(result.report["mean_polsby_popper"], 6) == pp
    assert result.report["share_in_band"] == 1.0
