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


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def tag_values(value: object) -> list[str]:
    """Every value of one OSM tag, sorted: osmnx joins the tags of the ways it merges into
    a list whose order comes from a Python set (so it changes from run to run with the
    hash seed); sorting makes every reading of it the same on every run."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return sorted({str(v) for v in value if _present(v)})
    return [str(value)] if _present(value) else []


def first_tag(value: object) -> str:
    """One value of an OSM tag that osmnx may have made a list: the first in sorted order
    (never the list's own order, which is not stable between runs)."""
    values = tag_values(value)
    return values[0] if values else ""


_PATHS = frozenset({"footway", "path", "pedestrian", "steps", "living_street", "track",
                    "corridor"})


def _class_of(value: object) -> str:
    """The strongest class among a way's ``highway`` values (a merged way that is partly
    arterial is an arterial: it is a barrier for grids)."""
    values = tag_values(value)
    if any(v in ARTERIAL for v in values):
        return "arterial"
    if values and all(v in _PATHS for v in values):
        return "path"
    return "local"


def road_class(highway: pd.Series) -> pd.Series:
    """``'arterial'``, ``'local'`` or ``'path'`` for each ``highway`` value."""
    out = [_class_of(v) for v in highway.to_numpy()]
    return pd.Series(out, index=highway.index, name="road_class", dtype=object)


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
