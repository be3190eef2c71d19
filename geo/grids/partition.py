"""The partition: a solver apart from geometry, as spopt keeps its regionalisation
solvers apart from the maps. It takes a community's cell graph and a band and returns one
grid label per cell, in named phases:

1. **zones** — areas enclosed by arterial roads, joined where one cannot meet the band;
2. **construction** — recursive bisection of each zone (:mod:`geo.grids.construction`);
3. **attach** — cells of household-free zones join the neighbour they share most with;
4. **improvement** — compactness re-splits of neighbouring pairs (:mod:`geo.grids.improvement`);
5. **repair** — cells moved off the dead ends of arterial roads (:mod:`geo.grids.repair`).

Every phase is bounded by counted work and draws randomness from a stream seeded by the
settings' seed and the caller's key, so the same graph gives the same labels on every
run and machine.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass

import numpy as np

from geo.grids.construction import _straight_cuts, partition_zone, zones_of
from geo.grids.fast_construction import kernels as construction_kernels
from geo.grids.graph import CellGraph, Zone
from geo.grids.improvement import ImproveStats, best_resplit, compiled_for, improve, kernels
from geo.grids.repair import attach_empty, repair_crossings
from geo.grids.settings import GridSettings


@dataclass
class Partition:
    """Labels ``0…k-1`` per cell (-1: no grid), the zones, and each label's zone."""

    labels: np.ndarray
    zones: list[Zone]
    zone_of_label: np.ndarray
    improvement: ImproveStats
    repair_moves: int

    @property
    def unassigned(self) -> int:
        return int((self.labels < 0).sum())


def rng_for(settings: GridSettings, key: str) -> np.random.Generator:
    """The random stream of one community: the settings' seed and a stable hash of its id."""
    return np.random.default_rng([settings.seed, zlib.crc32(key.encode())])


def partition(g: CellGraph, settings: GridSettings, *, key: str, relax: bool,
              compiled: bool = False) -> Partition | None:
    """Grid labels of the cells of ``g``.

    Parameters
    ----------
    g
        One community's cell graph (:class:`CellGraph`).
    settings
        Band and work budgets.
    key
        Names the random stream (the community id).
    relax
        Without it, None when some zone finds no in-band partition (the caller then tries
        finer units); with it, the band is widened step by step and the zone flagged.
    compiled
        Run the construction's and the improvement's sums in compiled loops (the same
        labels, faster on large runs: :func:`geo.grids.improvement.compiled_for`).
    """
    rng = rng_for(settings, key)
    compiled = compiled and bool(np.isfinite(g.xy).all())  # the loops sort without NaN
    fast = construction_kernels() if compiled else None
    zones = zones_of(g, settings) if g.n else []
    labels = np.full(g.n, -1, dtype=np.int64)
    zone_of_label: list[int] = []
    for z_pos, zone in enumerate(zones):
        if zone.status == "empty":
            continue
        parts = partition_zone(g, zone, settings, rng, relax=relax, fast=fast)
        if parts is None:
            return None
        for part in parts:
            labels[part] = len(zone_of_label)
            zone_of_label.append(z_pos)
    zl = np.asarray(zone_of_label, dtype=np.int64)
    labels = attach_empty(g, labels)
    labels, stats = improve(g, labels, zl, zones, settings, kernels(compiled))
    labels, moves = repair_crossings(g, labels, zl, zones, settings)
    return Partition(labels=labels, zones=zones, zone_of_label=zl, improvement=stats,
                     repair_moves=moves)


def warm_up(g: CellGraph) -> None:
    """Load the compiled loops in this process with the argument types of ``g`` (before
    worker processes are forked, so that each of them does not load them again)."""
    fast, cuts = kernels(True), construction_kernels()
    if g.n < 2 or fast is None or cuts is None:
        return
    nodes = np.arange(2, dtype=np.int64)
    best_resplit(g, nodes, 0.0, 1.0, 0.5, (nodes[:1], nodes[1:]), fast)
    list(_straight_cuts(g, nodes, 2, 0.0, 1.0, 0.5, cuts))
    cuts["connected"](np.zeros(g.n, dtype=bool), *g.undirected)


_warming: list[threading.Thread] = []  # a warm-up under way in this process


def warm_up_soon(cells: int) -> None:
    """Start loading (or, the first time, compiling) the compiled loops in a background
    thread when a run of about ``cells`` cells will use them, while its cells are built."""
    if compiled_for(cells) and not _warming:
        thread = threading.Thread(target=_warm_up_small, daemon=True)
        thread.start()
        _warming.append(thread)


def ready(cells: int) -> bool:
    """:func:`geo.grids.improvement.compiled_for`, once a warm-up started by
    :func:`warm_up_soon` has finished (so that no thread holds numba's compiler when the
    worker processes are forked; they find the loops loaded)."""
    while _warming:
        _warming.pop().join()
    return compiled_for(cells)


def _warm_up_small() -> None:
    # a graph of three cells with the argument types of a community's graph
    g = CellGraph.build(w=np.ones(3, dtype=np.int64),
                        xy=np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]]), area=np.ones(3),
                        perim=np.full(3, 4.0), ei=np.array([0, 1], dtype=np.int64),
                        ej=np.array([1, 2], dtype=np.int64), elen=np.ones(2),
                        ekind=np.zeros(2, dtype=np.int64))
    warm_up(g)
