"""Compiled loops of :mod:`geo.snapping`: cutting lines into segments and pieces, listing
the grid cells of each piece, ordering points by cell, and finding each point's nearest
segment among the cells around it (:class:`geo.compiled.Kernel` each: ``.get()`` gives the compiled function).

Each loop computes what the vectorised numpy code of :mod:`geo.snapping` computes, with the
same floating-point operations in the same order, so both give the same edges, positions
and distances (tests compare them); these run without building the large temporary arrays
of every (point, candidate) pair. ``.get()`` is ``None`` when numba is not available.
"""

from __future__ import annotations

import numpy as np

from geo.compiled import kernel


def _segments(coords, which):  # pragma: no cover - compiled
    """Straight segments of the lines (see :func:`geo.snap_numpy.segments`)."""
    nv = coords.shape[0]
    k = 0
    for i in range(nv - 1):
        if which[i + 1] == which[i]:
            k += 1
    a = np.empty((k, 2))
    b = np.empty((k, 2))
    vec = np.empty((k, 2))
    seg_len = np.empty(k)
    seg_edge = np.empty(k, np.int64)
    seg_along = np.empty(k)
    cum = 0.0       # the running sum over all vertices, as numpy's cumsum adds it
    line_cum = 0.0  # its value at the current line's first vertex
    j = 0
    for i in range(nv - 1):
        if i == 0 or which[i] != which[i - 1]:
            line_cum = cum
        if which[i + 1] == which[i]:
            dx = coords[i + 1, 0] - coords[i, 0]
            dy = coords[i + 1, 1] - coords[i, 1]
            a[j, 0] = coords[i, 0]
            a[j, 1] = coords[i, 1]
            b[j, 0] = coords[i + 1, 0]
            b[j, 1] = coords[i + 1, 1]
            vec[j, 0] = dx
            vec[j, 1] = dy
            seg_len[j] = np.hypot(dx, dy)
            seg_edge[j] = which[i]
            seg_along[j] = cum - line_cum
            cum = cum + np.hypot(dx, dy)
            j += 1
        else:
            cum = cum + 0.0
    return a, b, vec, seg_len, seg_edge, seg_along


def _pieces(a, b, vec, seg_len, cell_m, origin):  # pragma: no cover - compiled
    """Pieces no longer than a cell and their boxes' cells (see
    :func:`geo.snap_numpy.registrations`)."""
    n = seg_len.size
    pieces = np.empty(n, np.int64)
    n_short = 0
    total = 0
    for s in range(n):
        p = max(1, np.int64(np.ceil(seg_len[s] / cell_m)))
        pieces[s] = p
        total += p
        if p == 1:
            n_short += 1
    seg_of_piece = np.empty(total, np.int64)
    lo = np.empty((total, 2), np.int64)
    hi = np.empty((total, 2), np.int64)
    q = 0
    for s in range(n):  # short segments first, then the pieces of long ones
        if pieces[s] == 1:
            seg_of_piece[q] = s
            for c in range(2):
                x0 = a[s, c]
                x1 = b[s, c]
                lo[q, c] = np.int64(np.floor((min(x0, x1) - origin[c]) / cell_m))
                hi[q, c] = np.int64(np.floor((max(x0, x1) - origin[c]) / cell_m))
            q += 1
    for s in range(n):
        p = pieces[s]
        if p == 1:
            continue
        for k in range(p):
            seg_of_piece[q] = s
            f0 = k / p
            f1 = (k + 1) / p
            for c in range(2):
                x0 = a[s, c] + f0 * vec[s, c]
                x1 = a[s, c] + f1 * vec[s, c]
                lo[q, c] = np.int64(np.floor((min(x0, x1) - origin[c]) / cell_m))
                hi[q, c] = np.int64(np.floor((max(x0, x1) - origin[c]) / cell_m))
            q += 1
    return seg_of_piece, lo, hi


def _cell_keys(lo, hi, n_rows):  # pragma: no cover - compiled
    """Every cell of every piece's box, piece by piece (see
    :func:`geo.snap_numpy.registrations`)."""
    k = lo.shape[0]
    total = 0
    for p in range(k):
        total += (hi[p, 0] - lo[p, 0] + 1) * (hi[p, 1] - lo[p, 1] + 1)
    keys = np.empty(total, np.int64)
    piece = np.empty(total, np.int64)
    j = 0
    for p in range(k):
        for ix in range(lo[p, 0], hi[p, 0] + 1):
            for iy in range(lo[p, 1], hi[p, 1] + 1):
                keys[j] = ix * n_rows + iy
                piece[j] = p
                j += 1
    return keys, piece


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
    cache (while the segment grid's sort runs)."""
    order, near = point_order.get(), nearest.get()
    if order is None or near is None:
        return
    xy = np.zeros((1, 2))
    none = np.zeros(0, np.int64)
    order(xy, none, 0.0, 0.0, 1.0, 1, 1)
    real = np.zeros(0)
    near(xy, none, 0.0, 0.0, 1.0, 1, 1, np.zeros(2, np.int64), none, real, real, real, real,
         real, np.zeros(1, np.int64), 1.0, none, real, real, np.zeros(0, dtype=bool))


segments = kernel(_segments)
pieces = kernel(_pieces)
cell_keys = kernel(_cell_keys)
point_order = kernel(_point_order)
nearest = kernel(_nearest)
