"""Road classes: which ways are arterial barriers, which are walkable."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: OSM ``highway`` values treated as arterial roads (barriers for grids; GB 50180 calls
#: these 城市干路). Links count as the road they join.
ARTERIAL = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "primary", "primary_link",
    "secondary", "secondary_link", "tertiary", "tertiary_link",
})
#: Ways a pedestrian cannot use, whatever their other tags (after osmnx's "walk" filter).
NOT_WALKABLE = frozenset({
    "motorway", "motorway_link", "abandoned", "bus_guideway", "construction", "cycleway",
    "elevator", "escalator", "proposed", "planned", "platform", "raceway", "razed",
    "busway", "bridleway",
})
_NO = frozenset({"no", "private"})


def first_tag(value: object) -> str:
    """OSM tags read by osmnx may be lists after simplification: take the first."""
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def road_class(highway: pd.Series) -> pd.Series:
    """``'arterial'``, ``'local'`` or ``'path'`` for each ``highway`` value."""
    values = highway.map(first_tag)
    paths = {"footway", "path", "pedestrian", "steps", "living_street", "track", "corridor"}
    out = np.where(values.isin(ARTERIAL), "arterial",
                   np.where(values.isin(paths), "path", "local"))
    return pd.Series(out, index=highway.index, name="road_class")


def walkable(ways: pd.DataFrame) -> pd.Series:
    """Boolean mask of ways a pedestrian may use (highway, foot, access, service tags)."""
    def col(name: str) -> pd.Series:
        if name in ways.columns:
            return ways[name].map(first_tag)
        return pd.Series("", index=ways.index)

    highway = col("highway")
    foot = col("foot")
    access = col("access")
    service = col("service")
    ok = highway.ne("") & ~highway.isin(NOT_WALKABLE)
    ok &= ~foot.isin(_NO) | highway.isin({"footway", "pedestrian", "path", "steps"}) & foot.ne("no")
    ok &= ~(access.isin(_NO) & ~foot.isin({"yes", "designated", "permissive"}))
    ok &= ~service.eq("private")
    return ok.rename("walkable")
