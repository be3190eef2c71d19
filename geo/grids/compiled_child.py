"""The compiled partition loops kept out of the grid stage's own process: a forked child
loads them while the cells are built, then partitions the pass's communities there.

numba and LLVM cost a process some 120 MB (LLVM's code, numba's typing tables, the
loaded loops), which a million-household run's main process would carry to its end,
its peak. With more than one core, the stage forks one child (:func:`warm_up_soon`)
beside the cells' own processes, where the partition's warm-up thread ran before: the
child loads the loops and waits. Once the pass's graph is known, this process sends it
as arrays (:class:`ArrayGraph`: the same per-community graphs as
:class:`geo.grids.pass_graph.PassGraph` cuts, with each cell's centroid, area and
perimeter measured here element by element) and the child partitions the communities on
the same cores (:func:`geo.grids.pass_graph.partition_communities`: a forked copy of it
takes a share, the loops loaded already); this process does its other work meanwhile
(the check of the cells' floating unions, in numpy). The labels are those of one
process: each community's partition is a pure function of its graph.

Without a child (one core, no ``fork``, small runs, ``GRIDCIRCLE_NO_NUMBA``) or if the
child fails, :func:`partition_communities` runs the partition here as before.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps

import numpy as np
import shapely

from geo.compiled import keep_out as _keep_out
from geo.compiled import kept_out
import geo.grids.partition as _partition
from geo.grids.graph import CellGraph
from geo.grids.parallel import can_fork
from geo.grids.pass_graph import PassGraph
from geo.grids.pass_graph import partition_communities as _partition_here
from geo.grids.settings import GridSettings

_child: list = []  # [(process, connection)] while a child waits for this process's pass


@dataclass(frozen=True, eq=False)
class ArrayGraph:
    """:class:`geo.grids.pass_graph.PassGraph` with each cell's centroid, area and
    perimeter measured already (arrays only: sent to the child whole)."""

    w: np.ndarray
    xy: np.ndarray
    area: np.ndarray
    perim: np.ndarray
    ai: np.ndarray
    aj: np.ndarray
    alen: np.ndarray
    akind: np.ndarray

    @classmethod
    def of(cls, graph: PassGraph) -> ArrayGraph | None:
        """The arrays of ``graph`` (None when a cell has no centroid: an empty cell,
        which the pass graph's own cut drops)."""
        centre = shapely.centroid(graph.geoms)
        if shapely.is_empty(centre).any() or shapely.is_missing(centre).any():
            return None
        return cls(w=graph.w, xy=shapely.get_coordinates(centre), area=shapely.area(graph.geoms),
                   perim=shapely.length(graph.geoms), ai=graph.ai, aj=graph.aj,
                   alen=graph.alen, akind=graph.akind)

    def community(self, nodes: np.ndarray) -> CellGraph:
        """:meth:`geo.grids.pass_graph.PassGraph.community`, from the arrays."""
        mask = np.zeros(len(self.w), dtype=bool)
        mask[nodes] = True
        keep = mask[self.ai] & mask[self.aj]
        loc = np.full(len(self.w), -1)
        loc[nodes] = np.arange(len(nodes))
        return CellGraph.build(w=self.w[nodes], xy=self.xy[nodes], area=self.area[nodes],
                               perim=self.perim[nodes], ei=loc[self.ai[keep]],
                               ej=loc[self.aj[keep]], elen=self.alen[keep],
                               ekind=self.akind[keep])


def _numba_wanted() -> bool:
    """numba is installed, not turned off and not loaded here already (a process that
    has it, a page's, saves nothing by a child: it partitions here as before)."""
    return "numba" not in sys.modules and \
        os.environ.get("GRIDCIRCLE_NO_NUMBA", "") in ("", "0") and \
        importlib.util.find_spec("numba") is not None


def warm_up_soon(cells: int, workers: int) -> None:
    """Load the compiled loops for a pass of about ``cells`` cells: in a forked child
    with ``workers`` > 1 (which then partitions the pass), here otherwise
    (:func:`geo.grids.partition.warm_up_soon`)."""
    if workers <= 1 or not kept_out() or _child or not _partition.compiled_for(cells) or \
            "numba" in sys.modules:
        _partition.warm_up_soon(cells)
        return
    here, there = multiprocessing.get_context("fork").Pipe()
    process = multiprocessing.get_context("fork").Process(target=_serve, args=(there, here))
    process.start()
    there.close()
    _child.append((process, here))


def _serve(conn, other) -> None:
    """The child: load the loops, partition the one pass it is sent, send the result."""
    other.close()
    _partition._warm_up_small()  # pylint: disable=protected-access
    try:
        job = conn.recv()
    except EOFError:  # the stage needed no partition here
        return
    if job is None:
        return
    graph, nodes, keys, settings, fine, workers = job
    found = list(_partition_here(graph, nodes, keys, settings, fine=fine, compiled=True,
                                 workers=workers))
    conn.send(found)
    conn.close()


def partition_communities(graph: PassGraph, nodes: list[np.ndarray], keys: list[str],
                          settings: GridSettings, *, fine: bool, compiled: bool,
                          workers: int = 1, then: Callable[[], None] | None = None
                          ) -> Iterable:
    """:func:`geo.grids.pass_graph.partition_communities`, in the child started by
    :func:`warm_up_soon` when there is one (``then`` runs here meanwhile): the same
    results."""
    if not _child:
        return _partition_here(graph, nodes, keys, settings, fine=fine, compiled=compiled,
                               workers=workers, then=then)
    process, conn = _child.pop()
    arrays = ArrayGraph.of(graph) if compiled else None
    found = None
    try:
        if arrays is not None:
            conn.send((arrays, nodes, keys, settings, fine, workers))
            if then is not None:
                then()
                then = None
            found = conn.recv()
        else:
            conn.send(None)
    except (EOFError, OSError):  # the child failed: partitioned here instead
        found = None
    finally:
        conn.close()
    if found is None:
        process.join()
        return _partition_here(graph, nodes, keys, settings, fine=fine, compiled=compiled,
                               workers=workers, then=then)
    return found


def keep_out(func: Callable) -> Callable:
    """``func`` (the grid stage) with the compiled partition loaded in a child (see the
    module's note) while it runs, if it is given ``workers`` > 1."""
    @wraps(func)
    def run(*args, **kwargs):
        if kwargs.get("workers", 1) <= 1 or kept_out() or not can_fork() or \
                not _numba_wanted():
            return func(*args, **kwargs)
        _keep_out(True)
        try:
            return func(*args, **kwargs)
        finally:
            _keep_out(False)
            while _child:  # started, not used
                process, conn = _child.pop()
                conn.close()
                process.join()
    return run


__all__ = ["ArrayGraph", "keep_out", "partition_communities", "warm_up_soon"]
