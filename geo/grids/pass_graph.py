"""The cell graph of one gridding pass, cut into one graph per community, and the
partition of every community, on several cores with the result of one.

Communities are independent: each one's grids come from its own graph alone
(:func:`geo.grids.partition.partition`, a pure function). With ``workers`` > 1 the
communities are cut into runs of about as many cells; this process partitions the first
run while forked processes take the others (:func:`geo.grids.parallel.spread`), each
cutting its communities' graphs from the pass's arrays it finds in memory, so that only
the grid labels travel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grids.graph import KIND_CODE, CellGraph
import geo.grids.parallel as parallel
from geo.grids.partition import partition
from geo.grids.settings import GridSettings

#: The share of the cells this process leaves to the others when it has other work first
#: (the check of the cells' floating unions, about a tenth of the partition's time at 1M).
THEN_SHARE = 0.03

_INPUTS: tuple | None = None  # what the forked processes read (set before forking)


def local_edges(n: int, nodes: np.ndarray, ai: np.ndarray, aj: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Which of the edges ``(ai, aj)`` among ``n`` cells join two of ``nodes``, and each
    cell's position among ``nodes`` (-1 for the others)."""
    mask = np.zeros(n, dtype=bool)
    mask[nodes] = True
    loc = np.full(n, -1)
    loc[nodes] = np.arange(len(nodes))
    return mask[ai] & mask[aj], loc


@dataclass(frozen=True, eq=False)
class PassGraph:
    """The cells and adjacency of one pass as arrays, cut into one graph per community
    (each cell's centroid, area and perimeter measured with its community's graph, by
    the process that partitions it)."""

    w: np.ndarray
    geoms: np.ndarray
    ai: np.ndarray
    aj: np.ndarray
    alen: np.ndarray
    akind: np.ndarray

    @classmethod
    def of(cls, cells: gpd.GeoDataFrame, adj: pd.DataFrame) -> PassGraph:
        return cls(w=cells["households"].to_numpy(dtype=np.int64),
                   geoms=cells.geometry.to_numpy(),
                   ai=adj["i"].to_numpy(), aj=adj["j"].to_numpy(),
                   alen=adj["shared_m"].to_numpy(), akind=_kind_codes(adj["kind"]))

    def community(self, nodes: np.ndarray) -> CellGraph:
        """The cell graph of ``nodes`` (positions local to them)."""
        keep, loc = local_edges(len(self.w), nodes, self.ai, self.aj)
        geoms = self.geoms[nodes]
        return CellGraph.build(w=self.w[nodes], xy=shapely.get_coordinates(shapely.centroid(geoms)),
                               area=shapely.area(geoms),
                               perim=shapely.length(geoms), ei=loc[self.ai[keep]],
                               ej=loc[self.aj[keep]], elen=self.alen[keep],
                               ekind=self.akind[keep])


def _kind_codes(kind: pd.Series) -> np.ndarray:
    """``kind.map(KIND_CODE).to_numpy()``: each distinct kind looked up once (a text
    column's own map costs some 30 ms at 1M households)."""
    codes, uniques = pd.factorize(kind)
    if len(codes) and (codes >= 0).all() and all(u in KIND_CODE for u in uniques):
        return np.array([KIND_CODE[u] for u in uniques], dtype=np.int64)[codes]
    return kind.map(KIND_CODE).to_numpy()


def partition_communities(graph: PassGraph, nodes: list[np.ndarray], keys: list[str],
                          settings: GridSettings, *, fine: bool, compiled: bool,
                          workers: int = 1, then: Callable[[], None] | None = None
                          ) -> Iterable:
    """:func:`geo.grids.partition.partition` of the graph of each community's ``nodes``
    (``relax=fine``), in order, on ``workers`` processes: the same results as one.
    ``then``: other work this process does first once the others are forked, for which
    its run is smaller (:data:`THEN_SHARE`); not done at all when the communities are
    partitioned in this process alone."""
    global _INPUTS
    if workers <= 1 or len(keys) < parallel.MIN_JOBS or not parallel.can_fork():
        return (_one(graph, k, settings, fine, compiled, nodes, keys) for k in range(len(keys)))
    size = np.cumsum([len(n) for n in nodes])
    first = 1 / workers - (THEN_SHARE if then is not None else 0.0)
    share = first + (1 - first) * np.arange(workers - 1) / (workers - 1)
    cuts = np.searchsorted(size, size[-1] * share, side="right")
    bounds = np.unique(np.r_[0, np.clip(cuts, 1, len(keys) - 1), len(keys)])
    _INPUTS = (graph, nodes, keys, settings, fine, compiled)
    try:
        runs = parallel.spread(_run, [(int(lo), int(hi))
                                      for lo, hi in zip(bounds[:-1], bounds[1:])],
                               workers=workers, then=then)
    finally:
        _INPUTS = None
    return [found for run in runs for found in run]


def _one(graph, k, settings, fine, compiled, nodes, keys):
    return partition(graph.community(nodes[k]), settings, key=keys[k], relax=fine,
                     compiled=compiled)


def _run(lo: int, hi: int) -> list:
    graph, nodes, keys, settings, fine, compiled = _INPUTS
    return [_one(graph, k, settings, fine, compiled, nodes, keys) for k in range(lo, hi)]


__all__ = ["PassGraph", "local_edges", "partition_communities"]
