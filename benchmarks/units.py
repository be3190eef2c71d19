"""Benchmark inputs: entrance-level household units and the adjacency both solvers share."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.households import split_evenly
from geo.studyarea import StudyArea


def entrance_units(area: StudyArea, *, households_per_unit: int = 25) -> gpd.GeoDataFrame:
    """Split every building of a synthetic district into entrance-level units.

    Each building's households are shared evenly over ``round(h / households_per_unit)``
    points spaced along the building's long side (its entrances), so that a district of
    125,000 households has about 5,000 units, as in the published max-p comparisons.
    """
    hh = area.households.set_index("building_id")["households"]
    b = area.buildings[area.buildings["building_id"].isin(hh.index)]
    counts = hh.reindex(b["building_id"]).to_numpy()
    bounds = shapely.bounds(b.geometry.to_numpy())
    rows = []
    for bid, total, (x0, y0, x1, y1) in zip(b["building_id"], counts, bounds):
        n = max(1, int(round(total / households_per_unit)))
        parts = split_evenly(int(total), n)
        if x1 - x0 >= y1 - y0:
            xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
            ys = np.full(n, (y0 + y1) / 2)
        else:
            ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
            xs = np.full(n, (x0 + x1) / 2)
        for k in range(n):
            rows.append((f"{bid}-{k + 1}", int(parts[k]), xs[k], ys[k], bid))
    ids, counts, xs, ys, bids = zip(*rows)
    return gpd.GeoDataFrame({"unit_id": list(ids), "households": np.asarray(counts, np.int64),
                             "hh_source": "synthetic", "building_id": list(bids)},
                            geometry=shapely.points(np.column_stack([xs, ys])), crs=area.crs)
