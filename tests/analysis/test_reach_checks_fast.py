"""The reach input checks read facilities as arrays (issue 23): duplicates found with one
tree for all services are those a tree per service finds, repeated ids those pandas
finds, and the households without a facility on their piece of network those
``np.isin`` counts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from analysis import reach as R
from geo.network import build_network
from tests.analysis.reach_fixtures import lines_frame, points_frame


def _reference(fac: pd.DataFrame, service: str) -> tuple[int, int]:
    """Duplicates (by place per service, or by id) the way of a tree per service."""
    xy = fac[["x", "y"]].to_numpy()
    mine = (fac["service"] == service).to_numpy()
    rows = np.flatnonzero(mine)
    dup_xy = np.zeros(len(fac), dtype=bool)
    if rows.size > 1:
        pairs = cKDTree(xy[rows]).query_pairs(1.0, output_type="ndarray")
        dup_xy[rows[pairs.ravel()]] = True
    dup_id = mine & pd.Series(fac["facility_id"].to_numpy()).duplicated(keep=False).to_numpy()
    return int((dup_id | dup_xy).sum()), int(dup_xy.sum())


def test_duplicates_and_pieces_as_per_service_checks():
    rng = np.random.default_rng(7)
    # two pieces of network: the main one and a small one far away
    segs = [(x, 0, x + 100, 0) for x in range(0, 1000, 100)] + [(9000, 0, 9100, 0)]
    net = build_network(lines_frame(segs))
    n = 60
    xy = np.column_stack([rng.uniform(0, 1000, n), rng.uniform(-20, 20, n)])
    xy[10:20] = xy[:10] + rng.uniform(-0.6, 0.6, (10, 2))  # close pairs
    xy[20:23] = (9050.0, 1.0)  # on the small piece
    services = rng.choice(["health", "school", "park"], n)
    ids = [f"F{k % 45}" for k in range(n)]  # some repeated ids
    homes = points_frame(np.array([[50.0, 5.0], [9050.0, 5.0], [500.0, 3.0]]),
                         households=[3, 4, 5])
    fac = points_frame(xy, service=list(services), facility_id=ids, name=[""] * n)
    for only in (None, "health"):  # with and without a service missing on the small piece
        f = fac if only is None else fac[(fac["service"] != only) | (np.arange(n) < 20)]
        index = R.prepare_reach(net, homes, f, services=("health", "school", "park"))
        found = 0
        for service in ("health", "school", "park"):
            info = index.report["facilities"][service]
            want, by_place = _reference(index.facilities, service)
            assert info["duplicates"] == want
            found += by_place
            comp = net.components
            fac_rows = index.facilities
            used = ((fac_rows["service"] == service) & (fac_rows["edge"] >= 0)).to_numpy()
            served = np.unique(comp[net.edge_u[fac_rows["edge"].to_numpy()[used]]])
            hh_comp = comp[net.edge_u[index.household_snap.edge]]
            without = int(index.household_weight[~np.isin(hh_comp, served)].sum())
            assert info["households_on_islands_without"] == (without if used.any() else 0)
        assert found > 0  # the close pairs were looked at

