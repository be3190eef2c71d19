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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import shapely

from geo import compiled as compiled_code
from geo import fast_snap

#: Widths (in cells) of the square blocks searched in turn before falling back to the
#: STRtree; a block of m cells settles points within (m − 1) / 2 cells of an edge.
BLOCKS = (2, 3, 6)
#: Points × cells handled per vectorised step (bounds temporary memory).
BLOCK_PAIRS = 100_000
#: Most cells in a grid (the cell grows for very large areas).
MAX_CELLS = 4_000_000
#: Registrations from which a grid's sort runs in a thread beside the rest of the build.
THREADED_SORT = 100_000


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


def build_segment_grid(geoms: np.ndarray, *, cell_m: float | None = None) -> SegmentGrid:
    """Register the straight segments of LineStrings ``geoms`` in a grid.

    ``cell_m`` defaults to the median segment length, kept within 20–200 m.
    """
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    compiled = coords.shape[0] > 1 and compiled_code.use_compiled(coords.shape[0])
    if compiled:
        a, b, vec, seg_len, seg_edge, seg_along = fast_snap.segments.get()(coords, which)
    else:
        a, b, vec, seg_len, seg_edge, seg_along = _segments(coords, which)
    if cell_m is None:
        cell_m = float(np.clip(np.median(seg_len) if seg_len.size else 50.0, 20.0, 200.0))
    if coords.size:
        low, high = _bounds(coords)
        cell_m = max(cell_m, float(np.sqrt(np.prod(high - low + 1.0) / MAX_CELLS)))
    origin = low - cell_m if coords.size else np.zeros(2)
    # cut long segments into pieces no longer than a cell; each piece registers its bbox
    if compiled and seg_len.size:
        seg_of_piece, lo, hi = fast_snap.pieces.get()(a, b, vec, seg_len, cell_m, origin)
    else:
        seg_of_piece, lo, hi = _pieces(a, b, vec, seg_len, cell_m, origin)
    n_cols = int(hi[:, 0].max() + 2) if hi.size else 1
    n_rows = int(hi[:, 1].max() + 2) if hi.size else 1
    if compiled and lo.size:
        keys, piece = fast_snap.cell_keys.get()(lo, hi, n_rows)
    else:
        keys, piece = _cell_keys(lo, hi, n_rows)
    # a stable sort: which of two segments exactly as near a point is taken follows this
    # order, so it must not depend on the machine (numpy's default sort orders equal keys
    # differently with AVX-512, AVX2 or neither). It releases the GIL: on a large grid it
    # runs in a thread while the rest is made here (and, compiled, the snapping loops
    # loaded); a small one sorts in less time than a thread takes to start
    pool = ThreadPoolExecutor(max_workers=1) if keys.size >= THREADED_SORT else None
    sorting = pool.submit(np.argsort, keys, kind="stable") if pool is not None else None
    try:
        # a segment may sit twice in one cell (two of its pieces): a repeated candidate
        cell_start = np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n_cols * n_rows))])
        reg = seg_of_piece[piece]
        start_x, start_y = a[:, 0].copy(), a[:, 1].copy()
        vec_x, vec_y, len2 = vec[:, 0].copy(), vec[:, 1].copy(), seg_len ** 2
        if compiled:
            fast_snap.warm()
        order = np.argsort(keys, kind="stable") if sorting is None else sorting.result()
    finally:
        if pool is not None:
            pool.shutdown()
    return SegmentGrid(cell_m=float(cell_m), origin=origin, n_cols=n_cols, n_rows=n_rows,
                       cell_start=cell_start, reg_seg=reg[order], start_x=start_x,
                       start_y=start_y, vec_x=vec_x, vec_y=vec_y, len2=len2,
                       seg_edge=seg_edge, seg_along=seg_along)


def _segments(coords: np.ndarray, which: np.ndarray) -> tuple[np.ndarray, ...]:
    """Straight segments of the lines: start, end, end − start, length, edge and distance
    along the edge at the start (as :func:`geo.fast_snap.segments`)."""
    same = which[1:] == which[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    seg_edge = which[:-1][same].astype(np.int64)
    vec = b - a
    seg_len = np.hypot(vec[:, 0], vec[:, 1])
    # the running sum of the lengths before each segment (the same additions as over all
    # vertices with 0 between lines), less its value at the first segment of the line
    before = np.empty(seg_len.size)
    if seg_len.size:
        before[0] = 0.0
        np.cumsum(seg_len[:-1], out=before[1:])
    first = np.ones(seg_len.size, dtype=bool)
    first[1:] = seg_edge[1:] != seg_edge[:-1]
    line_start = np.maximum.accumulate(np.where(first, np.arange(seg_len.size), 0))
    seg_along = before - before[line_start]
    return a, b, vec, seg_len, seg_edge, seg_along


def _pieces(a: np.ndarray, b: np.ndarray, vec: np.ndarray, seg_len: np.ndarray, cell_m: float,
            origin: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments cut into pieces no longer than a cell: the segment of each piece and the
    first and last cell (column, row) of its box (as :func:`geo.fast_snap.pieces`)."""
    pieces = np.maximum(1, np.ceil(seg_len / cell_m)).astype(np.int64)
    long = np.flatnonzero(pieces > 1)
    seg_of_piece = np.concatenate([np.flatnonzero(pieces == 1), np.repeat(long, pieces[long])])
    p0 = a[seg_of_piece]
    p1 = b[seg_of_piece]
    if long.size:  # the pieces of long segments follow the short ones
        n_short = seg_of_piece.size - int(pieces[long].sum())
        sub = seg_of_piece[n_short:]
        k = np.arange(sub.size) - np.repeat(np.cumsum(pieces[long]) - pieces[long], pieces[long])
        f0 = (k / pieces[sub])[:, None]
        f1 = ((k + 1) / pieces[sub])[:, None]
        p0[n_short:] = a[sub] + f0 * vec[sub]
        p1[n_short:] = a[sub] + f1 * vec[sub]
    lo = np.floor((np.minimum(p0, p1) - origin) / cell_m).astype(np.int64)
    hi = np.floor((np.maximum(p0, p1) - origin) / cell_m).astype(np.int64)
    return seg_of_piece, lo, hi


def _bounds(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest x and y (column by column: a reduction along axis 0 of an
    ``(n, 2)`` array is several times slower)."""
    return (np.array([coords[:, 0].min(), coords[:, 1].min()]),
            np.array([coords[:, 0].max(), coords[:, 1].max()]))


def _cell_keys(lo: np.ndarray, hi: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Every cell of every piece's box, piece by piece: ``(cell, piece)`` (as
    :func:`geo.fast_snap.cell_keys`)."""
    span = hi - lo + 1
    count = span[:, 0] * span[:, 1]
    piece = np.repeat(np.arange(count.size), count)
    j = np.arange(piece.size) - np.repeat(np.cumsum(count) - count, count)
    ix = lo[piece, 0] + j // span[piece, 1]
    iy = lo[piece, 1] + j % span[piece, 1]
    return ix * n_rows + iy, piece


def _nearest_in_block(grid: SegmentGrid, xy: np.ndarray, m: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest registered segment among the ``m × m`` cells centred on each point.

    Returns segment (-1 if none), parameter along it (0–1) and distance; a result is
    exact when the distance is at most ``(m - 1) / 2 * cell_m`` (the block then holds
    the whole disc of that radius around the point).
    """
    n = xy.shape[0]
    q = (xy - grid.origin) / grid.cell_m
    first_cell = np.floor(q - m / 2 + 0.5).astype(np.int64)
    offsets = np.arange(m)
    dx, dy = np.meshgrid(offsets, offsets, indexing="ij")
    ix = first_cell[:, 0, None] + dx.ravel()[None, :]
    iy = first_cell[:, 1, None] + dy.ravel()[None, :]
    valid = ((ix >= 0) & (ix < grid.n_cols) & (iy >= 0) & (iy < grid.n_rows)).ravel()
    cells = np.where(valid, (ix * grid.n_rows + iy).ravel(), 0)
    lo = grid.cell_start[cells]
    hi = np.where(valid, grid.cell_start[cells + 1], lo)
    count = hi - lo
    point = np.repeat(np.repeat(np.arange(n), m * m), count)
    total = int(count.sum())
    best_seg = np.full(n, -1, dtype=np.int64)
    best_t = np.zeros(n)
    best_d = np.full(n, np.inf)
    if total == 0:
        return best_seg, best_t, best_d
    reg = np.repeat(lo - (np.cumsum(count) - count), count) + np.arange(total)
    seg = grid.reg_seg[reg]
    px, py = xy[point, 0], xy[point, 1]
    ax, ay = grid.start_x[seg], grid.start_y[seg]
    vx, vy = grid.vec_x[seg], grid.vec_y[seg]
    len2 = grid.len2[seg]
    t = ((px - ax) * vx + (py - ay) * vy) / np.where(len2 > 0, len2, 1.0)
    np.clip(t, 0.0, 1.0, out=t)
    fx = ax + t * vx - px
    fy = ay + t * vy - py
    d2 = fx * fx + fy * fy
    # pairs are grouped by point: the per-point minimum without sorting
    per_point = np.bincount(point, minlength=n)
    has = per_point > 0
    starts = (np.cumsum(per_point) - per_point)[has]
    dmin = np.minimum.reduceat(d2, starts)
    full_min = np.empty(n)
    full_min[has] = dmin
    pos = np.flatnonzero(d2 == full_min[point])
    first = np.ones(pos.size, dtype=bool)
    first[1:] = point[pos][1:] != point[pos][:-1]
    pick = pos[first]
    who = point[pick]
    best_seg[who] = seg[pick]
    best_t[who] = t[pick]
    best_d[who] = np.sqrt(d2[pick])
    return best_seg, best_t, best_d


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
    args = (float(grid.origin[0]), float(grid.origin[1]), grid.cell_m, grid.n_cols, grid.n_rows,
            grid.cell_start, grid.reg_seg, grid.start_x, grid.start_y, grid.vec_x, grid.vec_y,
            grid.len2, np.asarray(BLOCKS, dtype=np.int64), float(max_snap_m))
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
    todo = np.flatnonzero(np.isfinite(xy).all(axis=1))
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
            seg, t, d = _nearest_in_block(grid, xy[block], m)
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
