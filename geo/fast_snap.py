"""Compiled loops of :mod:`geo.snapping`: ordering points by cell, and finding each point's
nearest segment among the cells around it (:class:`geo.compiled.Kernel` each: ``.get()``
gives the compiled function). The grid itself is built in numpy (:mod:`geo.snap_numpy`).

Each loop computes what the vectorised numpy code of :mod:`geo.snap_numpy` computes, with the
same floating-point operations in the same order, so both give the same edges, positions
and distances (tests compare them); these run without building the large temporary arrays
of every (point, candidate) pair. ``.get()`` is ``None`` when numba is not available.
"""

from __future__ import annotations

import numpy as np

from geo.compiled import kernel


def _point_order(xy, todo, origin_x, origin_y, cell_m, n_cols, n_rows):  # pragma: no cover
    """``todo`` in the order of their cells (a counting sort; points outside the grid with
    its border cells), so that neighbours share the candidates held in the cache (each
    point's answer does not depend on the order)."""
    n_cells = n_cols * n_rows
    cell = np.empty(todo.size, np.int64)
    start = np.zeros(n_cells + 1, np.int64)
    for i in range(todo.size):
        p = todo[i]
        ix = min(max(np.int64(np.floor((xy[p, 0] - origin_x) / cell_m)), 0), n_cols - 1)
        iy = min(max(np.int64(np.floor((xy[p, 1] - origin_y) / cell_m)), 0), n_rows - 1)
        c = ix * n_rows + iy
        cell[i] = c
        start[c + 1] += 1
    for c in range(n_cells):
        start[c + 1] += start[c]
    out = np.empty(todo.size, np.int64)
    for i in range(todo.size):
        c = cell[i]
        out[start[c]] = todo[i]
        start[c] += 1
    return out


def _nearest(xy, todo, origin_x, origin_y, cell_m, n_cols, n_rows, cell_start, reg_seg,
             start_x, start_y, vec_x, vec_y, len2, blocks, max_snap_m, seg_out, t_out, d_out,
             left):  # pragma: no cover - compiled
    """For each point ``todo[i]``, the nearest segment within the first block of
    ``blocks`` (cells, centred on the point) that settles it (distance at most the block's
    half-width); ``left[i]`` is True where none does and the cap still allows farther
    edges (the caller asks the STRtree)."""
    for i in range(todo.size):
        p = todo[i]
        px = xy[p, 0]
        py = xy[p, 1]
        qx = (px - origin_x) / cell_m
        qy = (py - origin_y) / cell_m
        left[i] = True
        for b in range(blocks.size):
            m = blocks[b]
            reach = (m - 1) / 2 * cell_m
            fx0 = np.int64(np.floor(qx - m / 2 + 0.5))
            fy0 = np.int64(np.floor(qy - m / 2 + 0.5))
            best_seg = -1
            best_t = 0.0
            best_d2 = np.inf
            for dx in range(m):
                ix = fx0 + dx
                if ix < 0 or ix >= n_cols:
                    continue
                for dy in range(m):
                    iy = fy0 + dy
                    if iy < 0 or iy >= n_rows:
                        continue
                    c = ix * n_rows + iy
                    for r in range(cell_start[c], cell_start[c + 1]):
                        s = reg_seg[r]
                        ax = start_x[s]
                        ay = start_y[s]
                        vx = vec_x[s]
                        vy = vec_y[s]
                        l2 = len2[s]
                        t = ((px - ax) * vx + (py - ay) * vy) / (l2 if l2 > 0 else 1.0)
                        if t < 0.0:
                            t = 0.0
                        elif t > 1.0:
                            t = 1.0
                        fx = ax + t * vx - px
                        fy = ay + t * vy - py
                        d2 = fx * fx + fy * fy
                        if d2 < best_d2:
                            best_d2 = d2
                            best_seg = s
                            best_t = t
            d = np.sqrt(best_d2)
            if best_seg >= 0 and d <= reach:
                seg_out[i] = best_seg
                t_out[i] = best_t
                d_out[i] = d
                left[i] = False
                break
            if reach >= max_snap_m:
                left[i] = False  # farther than the cap from every edge
                seg_out[i] = -1
                break


def warm() -> None:
    """Load the loops that snap points (:data:`point_order`, :data:`nearest`) with empty
    inputs of the types :func:`geo.snapping.snap_to_segments` gives them, from numba's
    cache (while the segment grid is built)."""
    order, near = point_order.get(), nearest.get()
    if order is None or near is None:
        return
    xy = np.zeros((1, 2))
    none = np.zeros(0, np.int64)
    order(xy, none, 0.0, 0.0, 1.0, 1, 1)
    real = np.zeros(0)
    rows = np.zeros((2, 5))[:, 0]  # the grid's segment columns: strided views of one array
    near(xy, none, 0.0, 0.0, 1.0, 1, 1, np.zeros(2, np.int32), np.zeros(0, np.int32), rows,
         rows, rows, rows, rows, np.zeros(1, np.int64), 1.0, none, real, real,
         np.zeros(0, dtype=bool))


point_order = kernel(_point_order)
nearest = kernel(_nearest)
