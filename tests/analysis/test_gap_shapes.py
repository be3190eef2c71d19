"""A gap's polygon is the union of discs around its points: made disc by disc and united
per cluster, it is the shape of the buffer of the cluster's multipoint (the way it was
made before, twice as slow on large gaps), to floating-point noise."""

from __future__ import annotations

import numpy as np
import shapely

import analysis.coverage as C


def test_gap_shapes_are_the_buffer_of_each_cluster_s_points():
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 5000, size=(12, 2))
    xy = np.concatenate([c + rng.normal(0, 150, size=(n, 2))
                         for c, n in zip(centres, rng.integers(1, 400, size=12))])
    xy = np.concatenate([xy, xy[:5]])  # the same point twice (two units in one building)
    labels = C._single_linkage(xy, 120.0)
    order = np.argsort(labels, kind="stable")
    xy, labels = xy[order], labels[order]
    C._SHAPES.clear()
    shapes = C._gap_shapes(xy, labels, 120.0)
    before = shapely.buffer(shapely.multipoints(xy, indices=labels), 60.0, quad_segs=4)
    assert shapes.size == before.size == labels.max() + 1 > 12
    assert list(shapely.get_type_id(shapes)) == list(shapely.get_type_id(before))
    assert shapely.area(shapely.symmetric_difference(shapes, before)).max() < 1e-6
    np.testing.assert_allclose(shapely.area(shapes), shapely.area(before), rtol=1e-12)
    inside = shapely.contains_xy(shapes[labels], xy[:, 0], xy[:, 1])
    assert inside.all()  # every point lies in its own gap
