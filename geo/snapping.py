"""Fast exact snapping of many points to the nearest of many line edges.

``shapely.STRtree.query_nearest`` costs about 20 µs per point on a city-sized network,
which makes snapping a million homes take longer than everything else in the analysis.
Here edges are cut into straight segments registered in a uniform grid of square cells;
a point's candidates are the segments registered in a small block of cells centred on it,
and the nearest of them is exact whenever it is no farther than the block's half-width
(every segment within that distance crosses one of those cells). Points not settled that way
(far from every street) fall back to the STRtree. All steps are vectorised.
"""

from __future__ import annotations

from collections.abc import Callable
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

from geo import compiled as compiled_code
from geo import fast_snap, snap_numpy

#: Widths (in cells) of the square blocks searched in turn before falling back to the
#: STRtree; a block of m cells settles points within (m − 1) / 2 cells of an edge.
BLOCKS = (2, 3, 6)
#: Points × cells handled per vectorised step (bounds temporary memory; a step costs a
#: pass over the grid's cells too, so a district's homes are one step).
BLOCK_PAIRS = 200_000
#: Most cells in a grid (the cell grows for very large areas).
MAX_CELLS = 4_000_000


@dataclass(frozen=True, eq=False)
class SegmentGrid:
    """Straight segments of every edge, registered in square cells of ``cell_m``."""

    cell_m: float
    origin: np.ndarray
    n_cols: int
    n_rows: int
    cell_start: np.ndarray  # registrations of cell k: reg_seg[cell_start[k]:cell_start[k + 1]]
    reg_seg: np.ndarray     # segment of each registration, grouped by cell
    start_x: np.ndarray     # segment start
    start_y: np.ndarray
    vec_x: np.ndarray       # segment end − start
    vec_y: np.ndarray
    len2: np.ndarray        # squared segment length
    seg_edge: np.ndarray    # edge of each segment
    seg_along: np.ndarray   # distance along the edge at the segment start

    @cached_property
    def packed(self) -> np.ndarray:
        """The segments' rows for the numpy search (:func:`geo.snap_numpy.packed`)."""
        return snap_numpy.packed(self)


def build_segment_grid(geoms: np.ndarray, *, cell_m: float | None = None,
                       lines: tuple[np.ndarray, np.ndarray] | None = None) -> SegmentGrid:
    """Register the straight segments of LineStrings ``geoms`` in a grid.

    ``cell_m`` defaults to the median segment length, kept within 20–200 m. The grid is
    built in numpy (:mod:`geo.snap_numpy`); for a network large enough for the compiled
    snapping loops, numba is imported first and the loops are loaded in a thread meanwhile
    (numpy's loops release the interpreter lock; the load took about as long as the build,
    one after the other). ``lines``: ``geoms``' coordinates (:func:`shapely.get_coordinates`)
    and the number of each line's, when already at hand (:func:`geo.network.build_network`
    reads them to find the nodes).
    """
    if lines is None:
        coords, which = shapely.get_coordinates(geoms, return_index=True)
        n_coords = None
    else:
        (coords, n_coords), which = lines, None
    loading = None
    if coords.shape[0] >= compiled_code.MIN_ITEMS and compiled_code.available():
        # numba's import holds the interpreter lock (it runs here, first); loading the
        # loops mostly runs in LLVM without it
        loading = threading.Thread(target=fast_snap.warm, daemon=True)
        loading.start()
    try:
        rows, bx, by, seg_len, seg_edge, seg_along, low, high = snap_numpy.segments(
            coords, which, len(geoms), n_coords)
        if cell_m is None:
            cell_m = float(np.clip(snap_numpy.median(seg_len) if seg_len.size else 50.0, 20.0,
                                   200.0))
        if low is not None:
            cell_m = max(cell_m, float(np.sqrt(np.prod(high - low + 1.0) / MAX_CELLS)))
        origin = low - cell_m if low is not None else np.zeros(2)
        cell_start, reg_seg, n_cols, n_rows = snap_numpy.registrations(
            rows, bx, by, seg_len, cell_m, origin)
    finally:
        if loading is not None:  # no thread outlives the build (worker processes may fork)
            loading.join()
    len2 = np.square(seg_len, out=rows[:, 4])
    grid = SegmentGrid(cell_m=float(cell_m), origin=origin, n_cols=n_cols, n_rows=n_rows,
                       cell_start=cell_start, reg_seg=reg_seg, start_x=rows[:, 0],
                       start_y=rows[:, 1], vec_x=rows[:, 2], vec_y=rows[:, 3],
                       len2=len2 if (len2 > 0).all() else len2.copy(), seg_edge=seg_edge,
                       seg_along=seg_along)
    rows[~(len2 > 0), 4] = 1.0  # the divisor of the projection
    grid.__dict__["packed"] = rows
    return grid


def _snap_compiled(grid: SegmentGrid, xy: np.ndarray, todo: np.ndarray, max_snap_m: float,
                   edge: np.ndarray, along: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """The block search of :func:`snap_to_segments` compiled (in place); returns the points
    left for the STRtree."""
    xy = np.ascontiguousarray(xy, dtype=float)
    # points in cell order, so that neighbours share the candidates held in the cache
    todo = fast_snap.point_order.get()(xy, todo, float(grid.origin[0]), float(grid.origin[1]),
                                       grid.cell_m, grid.n_cols, grid.n_rows)
    seg = np.full(todo.size, -1, dtype=np.int64)
    t = np.zeros(todo.size)
    d = np.full(todo.size, np.inf)
    left = np.zeros(todo.size, dtype=bool)
    # the grid's int32 registrations and its segments' columns (views of one array, the
    # squared lengths 1 where 0 as the kernel takes them), the types fast_snap.warm loads
    rows = grid.packed
    args = (float(grid.origin[0]), float(grid.origin[1]), grid.cell_m, grid.n_cols, grid.n_rows,
            grid.cell_start, grid.reg_seg, rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3],
            rows[:, 4], np.asarray(BLOCKS, dtype=np.int64), float(max_snap_m))
    nearest = fast_snap.nearest.get()
    # the kernel releases the GIL: one slice of the points per core
    cut = np.linspace(0, todo.size, compiled_code.threads(todo.size // 100_000) + 1).astype(int)
    parts = [slice(a, b) for a, b in zip(cut[:-1], cut[1:])]
    with ThreadPoolExecutor(max_workers=len(parts)) as pool:
        for future in [pool.submit(nearest, xy, todo[p], *args, seg[p], t[p], d[p], left[p])
                       for p in parts]:
            future.result()
    done = seg >= 0
    hit, s = todo[done], seg[done]
    edge[hit] = grid.seg_edge[s]
    along[hit] = grid.seg_along[s] + t[done] * np.sqrt(grid.len2[s])
    offset[hit] = d[done]
    return todo[left]


def snap_to_segments(grid: SegmentGrid, geoms: np.ndarray, xy: np.ndarray,
                     max_snap_m: float, tree: Callable[[], shapely.STRtree] | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge, distance along it and distance to it for every point.

    Points farther than ``max_snap_m`` from every edge get edge −1 and NaN. ``tree``
    returns an STRtree of ``geoms`` for the few points far from every edge (built here
    when not given).
    """
    n = xy.shape[0]
    edge = np.full(n, -1, dtype=np.int64)
    along = np.full(n, np.nan)
    offset = np.full(n, np.nan)
    todo = np.flatnonzero(np.isfinite(xy[:, 0]) & np.isfinite(xy[:, 1]))
    compiled = compiled_code.use_compiled(todo.size)
    if compiled:
        todo = _snap_compiled(grid, xy, todo, max_snap_m, edge, along, offset)
    for m in () if compiled else BLOCKS:
        if todo.size == 0:
            break
        reach = (m - 1) / 2 * grid.cell_m
        step = max(1, BLOCK_PAIRS // (m * m))
        left = []
        for start in range(0, todo.size, step):
            block = todo[start:start + step]
            seg, t, d = snap_numpy.nearest_in_block(grid, xy[block], m)
            done = (seg >= 0) & (d <= reach)
            hit = block[done]
            s = seg[done]
            edge[hit] = grid.seg_edge[s]
            along[hit] = grid.seg_along[s] + t[done] * np.sqrt(grid.len2[s])
            offset[hit] = d[done]
            left.append(block[~done])
        todo = np.concatenate(left) if left else todo[:0]
        if reach >= max_snap_m:
            todo = todo[:0]
    if todo.size:
        tree = shapely.STRtree(geoms) if tree is None else tree()
        points = shapely.points(xy[todo])
        (src, tgt), dist = tree.query_nearest(points, max_distance=max_snap_m,
                                              return_distance=True, all_matches=False)
        edge[todo[src]] = tgt
        offset[todo[src]] = dist
        along[todo[src]] = shapely.line_locate_point(geoms[tgt], points[src])
    far = offset > max_snap_m
    edge[far], along[far], offset[far] = -1, np.nan, np.nan
    return edge, along, offset

