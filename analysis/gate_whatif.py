"""What one gate edit changes, measured against the same model without the edit.

The page's what-if compares coverage now with coverage after an edit (a gate added or
closed, a compound opened). Both sides are built the same way here (the walls of the
current settings and of the edited ones, each by :func:`geo.walls.build_walls` on the same
network), so that the only difference between them is the edit: a baseline taken from the
page's run could differ in ways that have nothing to do with the edit and would count
households of other compounds as changed. The households of the compound changed are
counted apart (those whose walk changed, and all of them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from analysis.reach import household_minutes
from analysis.reach.walls import minutes_change, reindexed
from geo.vocabulary import minutes_column
from geo.walls import build_walls


def compound_what_if(index, network, compounds, gates, walls_now, walls_after, settings,
                     services, *, outline: shapely.Geometry | None = None) -> tuple[pd.DataFrame, dict]:
    """Coverage per service before and after an edit of the walls.

    Returns
    -------
    (DataFrame, dict)
        Per service ``service``, ``before``, ``after``, ``change`` (shares of households),
        ``households_changed`` (homes anywhere whose walk changed) and ``changed_here``
        (homes inside ``outline`` whose walk changed); and ``{"households_here": n}``,
        the households inside ``outline``.
    """

    services = tuple(index.services if services is None else services)

    def answer(walls_settings):
        walls = build_walls(network, compounds, gates, settings=walls_settings,
                            max_snap_m=index.max_snap_m)
        return household_minutes(reindexed(index, walls, network), settings, services)

    before, after = answer(walls_now), answer(walls_after)
    weight = index.household_weight
    here = (shapely.contains_xy(outline, index.household_xy[:, 0], index.household_xy[:, 1])
            if outline is not None and len(weight) else np.zeros(len(weight), dtype=bool))
    rows = []
    for service in services:
        a = after.minutes[minutes_column(service)].to_numpy()
        b = before.minutes[minutes_column(service)].to_numpy()
        rows.append({"service": service, "before": before.report[service]["coverage"],
                     "after": after.report[service]["coverage"],
                     "change": after.report[service]["coverage"] - before.report[service]["coverage"],
                     "households_changed": minutes_change(a, b, weight)["households"],
                     "changed_here": minutes_change(a[here], b[here], weight[here])["households"]})
    return pd.DataFrame(rows), {"households_here": int(weight[here].sum())}


__all__ = ["compound_what_if"]
