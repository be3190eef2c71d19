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
takes a share, the loops loaded already); the check of the cells' floating unions, which
this process prepares meanwhile, is made there too (the cells' coordinates and boxes
sent, :func:`geo.grids.float_union.ring_arrays`; the child answers first, then
partitions its share), so that this process waits with little in hand. The
labels and the check are those of one process: each community's partition is a pure
function of its graph, each cell's check of its coordinates.

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

import geo.grids.partition as _partition
from geo.grids.float_union import pairs_clear_kernel, ring_arrays, unclear_of
from geo.grids.graph import CellGraph
from geo.grids.parallel import can_fork, chunked
from geo.grids.pass_graph import PassGraph, local_edges
from geo.grids.pass_graph import partition_communities as _partition_here
from geo.grids.settings import GridSettings

_child: list = []  # [(process, connection)] while a child waits for this process's pass
_stages: list[bool] = []  # [True] while a grid stage that may start a child runs here


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
    def of(cls, graph: PassGraph, *, workers: int = 1) -> ArrayGraph | None:
        """The arrays of ``graph``, measured on ``workers`` threads (None when a cell
        has no centroid, an empty one: that pass is partitioned here, as before)."""
        geoms = graph.geoms
        centre = chunked(shapely.centroid, geoms, workers=workers)
        if shapely.is_empty(centre).any() or shapely.is_missing(centre).any():
            return None
        return cls(w=graph.w, xy=shapely.get_coordinates(centre),
                   area=chunked(shapely.area, geoms, workers=workers),
                   perim=chunked(shapely.length, geoms, workers=workers), ai=graph.ai,
                   aj=graph.aj, alen=graph.alen, akind=graph.akind)

    def community(self, nodes: np.ndarray) -> CellGraph:
        """:meth:`geo.grids.pass_graph.PassGraph.community`, from the arrays."""
        keep, loc = local_edges(len(self.w), nodes, self.ai, self.aj)
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
    with ``workers`` > 1 in a stage run by :func:`in_child` (which then partitions the
    pass), here otherwise (:func:`geo.grids.partition.warm_up_soon`)."""
    if workers <= 1 or not _stages or _child or not _partition.compiled_for(cells) or \
            not can_fork() or not _numba_wanted():
        _partition.warm_up_soon(cells)
        return
    context = multiprocessing.get_context("fork")
    here, there = context.Pipe()
    process = context.Process(target=_serve, args=(there, here))
    process.start()
    there.close()
    _child.append((process, here))


def _serve(conn, other) -> None:
    """The child: load the loops, partition the one pass it is sent (answering the
    check of the floating unions first, when asked), send the labels."""
    other.close()
    _partition._warm_up_small()  # pylint: disable=protected-access
    try:
        job = conn.recv()
    except EOFError:  # the stage needed no partition here
        return
    if job is None:
        return
    nodes, keys, settings, fine, workers, check = job
    graph = ArrayGraph(*_recv_arrays(conn))
    answered = []

    def answer() -> None:
        answered.append(True)
        _check(conn)

    found = list(_partition_here(graph, nodes, keys, settings, fine=fine, compiled=True,
                                 workers=workers, then=answer if check else None))
    if check and not answered:  # (partitioned here alone: ``then`` is not run)
        _check(conn)
    conn.send(found)
    conn.close()
    # the forked copy that took a share exits once its pool's thread has told it to: waited
    # for here, since this process's own exit closes the queues that thread writes to first
    for process in multiprocessing.active_children():
        process.join()


def _check(conn) -> None:
    """The child's :func:`geo.grids.float_union.unclear_pairs` of the cells sent (none
    sent: nothing to answer), in the compiled loop."""
    grid_size = conn.recv()
    if grid_size is not None:
        _send_arrays(conn, unclear_of(*_recv_arrays(conn), grid_size=grid_size,
                                      pairs_clear=pairs_clear_kernel()))


def _send_arrays(conn, arrays) -> None:
    """numpy arrays sent as they lie in memory (no pickled copy of them)."""
    arrays = [np.ascontiguousarray(a) for a in arrays]
    conn.send([(a.dtype.str, a.shape) for a in arrays])
    for a in arrays:
        conn.send_bytes(a.reshape(-1).view(np.uint8))


def _recv_arrays(conn) -> list[np.ndarray]:
    """The arrays :func:`_send_arrays` sent, each read into its own new array."""
    out = []
    for dtype, shape in conn.recv():
        a = np.empty(shape, dtype=dtype)
        conn.recv_bytes_into(a.reshape(-1).view(np.uint8))
        out.append(a)
    return out


def partition_communities(graph: PassGraph, nodes: list[np.ndarray], keys: list[str],
                          settings: GridSettings, *, fine: bool, compiled: bool,
                          workers: int = 1, then: Callable[..., None] | None = None
                          ) -> Iterable:
    """:func:`geo.grids.pass_graph.partition_communities`, in the child started by
    :func:`warm_up_soon` when there is one: the same results. ``then`` runs here
    meanwhile, given ``unclear=`` the child's check of the cells' floating unions
    (:meth:`geo.grids.float_union.CellUnions.prepare`); without a child, as
    :func:`geo.grids.pass_graph.partition_communities` runs it."""
    if not _child:
        return _partition_here(graph, nodes, keys, settings, fine=fine, compiled=compiled,
                               workers=workers, then=then)
    process, conn = _child.pop()
    arrays = ArrayGraph.of(graph, workers=workers) if compiled else None
    found = None
    try:
        if arrays is None:
            conn.send(None)
        else:
            conn.send((nodes, keys, settings, fine, workers, then is not None))
            _send_arrays(conn, (arrays.w, arrays.xy, arrays.area, arrays.perim, arrays.ai,
                                arrays.aj, arrays.alen, arrays.akind))
            del arrays
            if then is not None:
                asked = []

                def unclear(geoms, *, grid_size):
                    asked.append(True)
                    conn.send(float(grid_size))
                    _send_arrays(conn, ring_arrays(geoms))
                    return tuple(_recv_arrays(conn))

                then(unclear=unclear)
                then = None
                if not asked:
                    conn.send(None)
            found = conn.recv()
    except (EOFError, OSError):  # the child failed: partitioned here instead
        found = None
    finally:
        conn.close()
    if found is None:
        process.join()
        return _partition_here(graph, nodes, keys, settings, fine=fine, compiled=compiled,
                               workers=workers, then=then)
    return found


def in_child(func: Callable) -> Callable:
    """``func`` (the grid stage) free to partition in a child (see the module's note);
    a child started and not asked is stopped at its end."""
    @wraps(func)
    def run(*args, **kwargs):
        _stages.append(True)
        try:
            return func(*args, **kwargs)
        finally:
            _stages.pop()
            if not _stages:
                while _child:  # started, not asked
                    process, conn = _child.pop()
                    conn.close()
                    process.join()
    return run


__all__ = ["ArrayGraph", "in_child", "partition_communities", "warm_up_soon"]
