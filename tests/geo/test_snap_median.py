"""geo/snap_numpy.median: the same number as numpy's median (the grid's cell size is the
median segment length, and every snap depends on it), for odd and even sizes, ties, NaN,
sorted and skewed values."""

from __future__ import annotations

import numpy as np
import pytest

from geo import snap_numpy


def _cases(n: int, rng: np.random.Generator) -> list[np.ndarray]:
    half = np.concatenate([np.zeros(n // 2), np.ones(n - n // 2)])
    with_nan = rng.random(n)
    with_nan[n // 3] = np.nan
    most_equal = rng.random(n)
    most_equal[: n // 2 + 1] = 7.0
    return [rng.random(n), rng.integers(0, 5, n).astype(float), np.full(n, 3.0),
            np.sort(rng.normal(60, 10, n)), np.sort(rng.random(n))[::-1].copy(),
            rng.exponential(1.0, n), half, with_nan, most_equal]


@pytest.mark.parametrize("n", [10, snap_numpy.MEDIAN_SAMPLED, snap_numpy.MEDIAN_SAMPLED + 1,
                               200_000, 200_001])
def test_median_is_numpys(n):
    rng = np.random.default_rng(n)
    for values in _cases(n, rng):
        ours, theirs = snap_numpy.median(values), float(np.median(values))
        assert (ours == theirs and np.signbit(ours) == np.signbit(theirs)) or (
            np.isnan(ours) and np.isnan(theirs))
