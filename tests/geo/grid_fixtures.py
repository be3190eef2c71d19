"""Checks shared by the tests that run the grid stage on several processes."""

from __future__ import annotations

import numpy as np
import shapely


def same_geoms(a: np.ndarray, b: np.ndarray) -> bool:
    """The same geometries, bit for bit, on the same precision grids."""
    return bool((shapely.to_wkb(a) == shapely.to_wkb(b)).all()
                and np.array_equal(shapely.get_precision(a), shapely.get_precision(b),
                                   equal_nan=True))


def assert_same_run(serial, both) -> None:
    """Two :func:`geo.grids.make_grids` results alike: assignment, adjacency, cells, grids
    and their table, and the improvement's work."""
    assert serial.assignment.equals(both.assignment)
    assert serial.adjacency.equals(both.adjacency)
    assert same_geoms(serial.cells.geometry.to_numpy(), both.cells.geometry.to_numpy())
    assert same_geoms(serial.grids.geometry.to_numpy(), both.grids.geometry.to_numpy())
    assert serial.grids.drop(columns="geometry").equals(both.grids.drop(columns="geometry"))
    assert serial.report["improvement"] == both.report["improvement"]
