"""The construction's covariance of a community's cells is numpy's, to the bit
(geo.grids.construction._cov)."""

from __future__ import annotations

import numpy as np

from geo.grids.construction import _cov


def test_the_constructions_covariance_is_numpys():
    rng = np.random.default_rng(4)
    for _ in range(300):
        n = int(rng.integers(3, 200))
        xy = rng.random((n, 2)) * 10 ** rng.uniform(0, 6) + rng.uniform(-1e6, 1e6)
        m = xy[rng.permutation(n)].T  # a transposed view, as the construction passes it
        assert _cov(m).tobytes() == np.cov(m).tobytes()
