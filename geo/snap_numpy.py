"""The numpy code of :mod:`geo.snapping` (inputs too small to pay for numba's first load).

It builds the segment grid (for every input: the compiled loops only search it) and finds
the same nearest segments as the compiled loops of :mod:`geo.fast_snap`, with the same
floating-point operations in the same order (tests compare them), in few passes over small
arrays and with little new memory (touching fresh memory is a large share of a small
grid's time on a virtual machine):

- the segments' starts, vectors and squared lengths are the columns of one array (a point's
  candidates are then gathered in one take of rows);
- a piece's box spans at most two cells each way (a few more where rounding says so), so
  its cells are written straight to their places, the first cell of every piece at once,
  then the second of those that have one, and so on, not piece by piece; the registrations
  are put in cell order, pieces in their order within a cell, by a counting sort (a stable
  sort: equal distances are broken by this order, the same on any machine);
- the cells of a point's block in one column are consecutive keys, so its candidates are
  ``m`` runs of registrations, not ``m²`` cells;
- points are taken in the order of their cells, in chunks of a bounded number of (point,
  candidate) pairs, so the temporaries stay in the processor's cache.
"""

from __future__ import annotations

import numpy as np

try:  # the counting sort of scipy.sparse's coordinate to row conversion (C, not public)
    from scipy.sparse._sparsetools import coo_tocsr as _coo_tocsr
except ImportError:  # pragma: no cover - another scipy
    _coo_tocsr = None

#: (point, candidate) pairs handled per vectorised step: small enough for the temporaries
#: to stay in the cache.
CHUNK_PAIRS = 32_768
#: Arrays at least this long have their median found from a sample's bracket
#: (:func:`median`).
MEDIAN_SAMPLED = 65_536


def segments(coords: np.ndarray, which: np.ndarray | None, n_lines: int,
             n_coords: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Straight segments of ``n_lines`` LineStrings from their coordinates and the line of
    each (:func:`shapely.get_coordinates` with ``return_index``; or, ``which`` ``None``,
    the number of coordinates of each line, ``n_coords``), with little new memory:
    ``(rows, bx, by, seg_len, seg_edge, seg_along, low, high)``, ``rows`` as :func:`packed`
    (start x, y, end − start x, y, squared length, the last left to the caller), ``bx, by``
    the ends, ``low, high`` the least and greatest coordinates (``None`` without any)."""
    line = np.arange(n_lines)
    if which is None:
        if coords.shape[0] == 2 * n_lines and (n_coords == 2).all():
            which = line  # not read: every line one segment
        else:
            which = np.repeat(line, n_coords)
    if coords.shape[0] == 2 * n_lines and (which is line or (
            np.array_equal(which[0::2], line) and np.array_equal(which[1::2], line))):
        # every line one segment: starts and ends are every other coordinate
        x0, y0, x1, y1 = coords[0::2, 0], coords[0::2, 1], coords[1::2, 0], coords[1::2, 1]
        seg_edge = line.astype(np.int64)
        # the running sum of the lengths less itself at the line's first segment: 0
        seg_along = np.zeros(n_lines)
    else:
        same = which[1:] == which[:-1]
        x, y = coords[:, 0], coords[:, 1]
        x0, y0, x1, y1 = x[:-1][same], y[:-1][same], x[1:][same], y[1:][same]
        seg_edge = which[:-1][same].astype(np.int64)
        seg_along = None
    rows = np.empty((x0.size, 5))
    rows[:, 0] = x0
    rows[:, 1] = y0
    np.subtract(x1, x0, out=rows[:, 2])
    np.subtract(y1, y0, out=rows[:, 3])
    seg_len = np.hypot(rows[:, 2], rows[:, 3])
    if seg_along is None:
        # the running sum of the lengths before each segment (the same additions as over
        # all vertices with 0 between lines), less its value at the line's first segment
        before = np.empty(seg_len.size)
        if seg_len.size:
            before[0] = 0.0
            np.cumsum(seg_len[:-1], out=before[1:])
        first = np.ones(seg_len.size, dtype=bool)
        first[1:] = seg_edge[1:] != seg_edge[:-1]
        line_start = np.maximum.accumulate(np.where(first, np.arange(seg_len.size), 0))
        seg_along = before - before[line_start]
    if coords.size:
        low = np.array([coords[:, 0].min(), coords[:, 1].min()])
        high = np.array([coords[:, 0].max(), coords[:, 1].max()])
    else:
        low = high = None
    return rows, x1, y1, seg_len, seg_edge, seg_along, low, high


def median(values: np.ndarray) -> float:
    """``np.median(values)`` (the same number: the middle value, or the mean of the two
    middle ones as numpy takes it), for a large array without sorting it all: a strided
    sample brackets the middle, and only the values inside the bracket are partitioned."""
    n = values.size
    if n < MEDIAN_SAMPLED:
        return float(np.median(values))
    sample = np.sort(values[::n // 1024])
    lo, hi = sample[int(0.4 * sample.size)], sample[int(0.6 * sample.size)]
    below = int(np.count_nonzero(values < lo))
    inside = values[(values >= lo) & (values <= hi)]
    first, last = (n - 1) // 2, n // 2  # positions of the middle value(s) in sorted order
    if not (below <= first and last < below + inside.size
            and below + inside.size + int(np.count_nonzero(values > hi)) == n):  # or a NaN
        return float(np.median(values))
    part = np.partition(inside, [first - below, last - below])
    a, b = part[first - below], part[last - below]
    return float(a) if first == last else float(np.mean(np.array([a, b])))


def _cell(v: np.ndarray, o: float, cell_m: float) -> np.ndarray:
    """Column (or row) of the cell holding each coordinate ``v`` (int32; the grid's first
    at ``o``)."""
    c = v - o
    c /= cell_m
    return np.floor(c, out=c).astype(np.int32)


def registrations(rows: np.ndarray, bx: np.ndarray, by: np.ndarray, seg_len: np.ndarray,
                  cell_m: float, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The grid's registrations: ``(cell_start, reg_seg, n_cols, n_rows)``. Each segment
    is cut into pieces no longer than a cell (the short segments first, then the pieces of
    long ones), and each piece registered in its box's cells, piece by piece; a cell's
    registrations keep that order.

    A box's first cell is the least of its ends' cells (a coordinate's cell never
    decreases as the coordinate grows), so each point's cell is found once: a piece of a
    long segment starts where the one before it ends."""
    # (the pieces' cells made in a function of their own: its temporaries are freed before
    # the registrations are made, so that these reuse their memory; fresh memory costs a
    # page fault per 4 KB, about a third of the grid's time in a process that has just
    # given much memory back)
    x0, x1, y0, y1, seg_of_piece = _piece_cells(rows, bx, by, seg_len, cell_m, origin)
    span_x = np.subtract(x1, x0)
    np.abs(span_x, out=span_x)
    lo_x = np.minimum(x0, x1, out=x0)
    span_y = np.subtract(y1, y0)
    np.abs(span_y, out=span_y)
    lo_y = np.minimum(y0, y1, out=y0)
    del x1, y1
    n_pieces = lo_x.size
    n_cols = int((lo_x + span_x).max() + 2) if n_pieces else 1
    n_rows = int((lo_y + span_y).max() + 2) if n_pieces else 1
    wide = int(span_x.max()) + 1 if n_pieces else 1
    tall = int(span_y.max()) + 1 if n_pieces else 1
    # every cell of every piece's box, piece by piece (column by column, a column's cells
    # by row): piece p's first at start[p]
    per = span_y + 1
    per *= span_x + 1
    start = np.cumsum(per, dtype=np.int64)
    total = int(start[-1]) if n_pieces else 0
    start -= per
    base = lo_x  # (in place: lo_x is not read again)
    base *= n_rows
    base += lo_y
    keys = np.empty(total, dtype=np.int32)
    keys[start] = base
    for dx in range(wide):
        for dy in range(tall):
            if dx or dy:
                at = np.flatnonzero((span_x >= dx) & (span_y >= dy))
                keys[start[at] + (span_y[at] + 1) * dx + dy] = base[at] + (dx * n_rows + dy)
    owner = np.repeat(np.arange(n_pieces, dtype=np.int32) if seg_of_piece is None
                      else seg_of_piece, per)
    del seg_of_piece, lo_x, lo_y, span_x, span_y, per, start, base  # before the grouping
    cell_start, reg_seg = group_by_key(keys, owner, n_cols * n_rows)
    return cell_start, reg_seg, n_cols, n_rows


def _piece_cells(rows: np.ndarray, bx: np.ndarray, by: np.ndarray, seg_len: np.ndarray,
                 cell_m: float, origin: np.ndarray) -> tuple[np.ndarray, ...]:
    """The cells of every piece's ends for :func:`registrations`: ``(x0, x1, y0, y1,
    seg_of_piece)`` (``seg_of_piece`` ``None`` where the pieces are the segments)."""
    ax, ay = rows[:, 0], rows[:, 1]
    ox, oy = float(origin[0]), float(origin[1])
    q = seg_len / cell_m
    is_long = q > 1.0  # more than one piece: ceil(q) > 1
    long = np.flatnonzero(is_long)
    if long.size == 0:
        seg_of_piece = None  # the pieces are the segments
        x0, y0 = _cell(ax, ox, cell_m), _cell(ay, oy, cell_m)
        x1, y1 = _cell(bx, ox, cell_m), _cell(by, oy, cell_m)
    else:
        short = np.flatnonzero(~is_long)
        count = np.ceil(q[long]).astype(np.int64)
        first = np.cumsum(count) - count  # each long segment's first piece
        sub = np.repeat(long, count)
        # piece k of p ends at start + (k + 1) / p × vector; it starts where piece k − 1
        # ends (the same sum), the first at the segment's start (start + 0 × vector)
        f1 = np.arange(1, sub.size + 1) - np.repeat(first, count)
        f1 = f1 / np.repeat(count, count)
        sax, say, svx, svy, _ = np.take(rows, sub, axis=0).T  # one take of rows
        seg_of_piece = np.concatenate([short, sub]).astype(np.int32)
        ends = []
        for a, b, s, v, o in ((ax, bx, sax, svx, ox), (ay, by, say, svy, oy)):
            v = v * f1
            v += s
            end = _cell(v, o, cell_m)
            start = np.empty_like(end)
            start[1:] = end[:-1]
            at_a = _cell(a, o, cell_m)  # every segment's start (contiguous, then taken)
            start[first] = at_a[long]
            ends.append((np.concatenate([at_a[short], start]),
                         np.concatenate([_cell(b[short], o, cell_m), end])))
        (x0, x1), (y0, y1) = ends
    return x0, x1, y0, y1, seg_of_piece


def group_by_key(keys: np.ndarray, values: np.ndarray, n_keys: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``values`` grouped by ``keys`` (in ``[0, n_keys)``), in their order within a group:
    ``(start, grouped)``, group ``k`` being ``grouped[start[k]:start[k + 1]]`` (as a stable
    sort of the keys). A counting sort: scipy's conversion of a sparse matrix from
    coordinates to rows, in C (a stable sort of 64-bit keys is a merge sort, several times
    slower); numpy's stable sort where that function is not found."""
    index = np.int32 if max(n_keys, keys.size) < 2**31 - 1 else np.int64
    start = np.zeros(n_keys + 1, dtype=index)
    if _coo_tocsr is not None and keys.size:
        grouped = np.empty(keys.size, dtype=index)
        flags = np.zeros(keys.size, dtype=np.int8)  # the matrix's values: not used
        _coo_tocsr(n_keys, int(values.max()) + 1, keys.size, keys.astype(index, copy=False),
                   values.astype(index, copy=False), flags, start, grouped, flags.copy())
        return start, grouped
    np.cumsum(np.bincount(keys, minlength=n_keys), out=start[1:])
    return start, values[np.argsort(keys, kind="stable")]


def packed(grid) -> np.ndarray:
    """Start x, y, end − start x, y and squared length (1 where 0, the divisor of the
    projection) of every segment, one row each: a point's candidates are gathered in one
    take of rows (five gathers from five arrays cost three times as much). A grid built
    by :func:`geo.snapping.build_segment_grid` holds its segments so; this makes the rows
    of a grid made otherwise."""
    rows = np.empty((grid.start_x.size, 5))
    rows[:, 0] = grid.start_x
    rows[:, 1] = grid.start_y
    rows[:, 2] = grid.vec_x
    rows[:, 3] = grid.vec_y
    rows[:, 4] = grid.len2
    rows[~(grid.len2 > 0), 4] = 1.0
    return rows


def nearest_in_block(grid, xy: np.ndarray, m: int
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest registered segment among the ``m × m`` cells centred on each point.

    Returns segment (-1 if none), parameter along it (0–1) and distance; a result is
    exact when the distance is at most ``(m - 1) / 2 * cell_m`` (the block then holds the
    whole disc of that radius around the point). Of segments exactly as near, the first
    in the block's cells (column by column) and in a cell's order is taken.
    """
    n = xy.shape[0]
    out_seg = np.full(n, -1, dtype=np.int64)
    out_t = np.zeros(n)
    out_d = np.full(n, np.inf)
    if n == 0:
        return out_seg, out_t, out_d
    fx = np.floor((xy[:, 0] - grid.origin[0]) / grid.cell_m - m / 2 + 0.5).astype(np.int64)
    fy = np.floor((xy[:, 1] - grid.origin[1]) / grid.cell_m - m / 2 + 0.5).astype(np.int64)
    n_cols, n_rows = grid.n_cols, grid.n_rows
    n_cells = n_cols * n_rows
    # every block inside the grid (the usual case: the grid has a cell of margin)?
    inside = bool(fx.min() >= 0 and fx.max() + m <= n_cols and fy.min() >= 0
                  and fy.max() + m <= n_rows)
    if inside:
        key = fx * n_rows
        key += fy
    else:
        key = np.clip(fx, 0, n_cols - 1) * n_rows + np.clip(fy, 0, n_rows - 1)
    # the points in the order of their blocks' cells: neighbours share candidates, which
    # the cache then holds (each point's answer does not depend on the order)
    order = (group_by_key(key, np.arange(n), n_cells)[1] if n_cells <= 8 * n
             else np.argsort(key, kind="stable"))
    px, py = xy[order, 0], xy[order, 1]
    # the registrations of the block's cells in column ix: one run per column
    run_lo = np.empty((n, m), dtype=np.int64)
    run_n = np.empty((n, m), dtype=np.int64)
    cs = grid.cell_start
    if inside:  # a column's run: from its first cell's first registration to the next
        first = key[order]  # cell's after its last
        for dx in range(m):
            lo = cs[first]
            run_lo[:, dx] = lo
            run_n[:, dx] = cs[first + m] - lo
            first += n_rows
    else:
        fx, fy = fx[order], fy[order]
        y_lo = np.maximum(fy, 0)
        y_hi = np.minimum(fy + m, n_rows)
        rows_ok = y_hi > y_lo
        for dx in range(m):
            ix = fx + dx
            ok = rows_ok & (ix >= 0) & (ix < n_cols)
            k = np.where(ok, ix * n_rows, 0)
            lo = cs[k + np.where(ok, y_lo, 0)]
            run_lo[:, dx] = lo
            run_n[:, dx] = np.where(ok, cs[k + np.where(ok, y_hi, 0)] - lo, 0)
    per_point = run_n.sum(axis=1)
    ends = np.cumsum(per_point)
    cuts = np.searchsorted(ends, np.arange(CHUNK_PAIRS, int(ends[-1]), CHUNK_PAIRS))
    bounds = np.unique(np.concatenate([[0], cuts, [n]])).tolist()
    best_seg = np.full(n, -1, dtype=np.int64)
    best_t = np.zeros(n)
    best_d = np.full(n, np.inf)
    rows = grid.packed
    # the candidates' rows as taken, and their columns each contiguous (arithmetic on
    # strided columns costs about twice as much)
    size = int(np.diff(ends[np.asarray(bounds[1:]) - 1], prepend=0).max())
    buffers = (np.empty((size, 5)), np.empty((5, size)))
    for i0, i1 in zip(bounds[:-1], bounds[1:]):
        _chunk(grid, rows, buffers, px[i0:i1], py[i0:i1], run_lo[i0:i1].ravel(),
               run_n[i0:i1].ravel(), per_point[i0:i1], best_seg[i0:i1], best_t[i0:i1],
               best_d[i0:i1])
    out_seg[order], out_t[order], out_d[order] = best_seg, best_t, best_d
    return out_seg, out_t, out_d


def _chunk(grid, rows, buffers, px, py, run_lo, run_n, per_point, best_seg, best_t, best_d
           ) -> None:
    """:func:`nearest_in_block` for one chunk of points (results written in place)."""
    total = int(per_point.sum())
    if total == 0:
        return
    reg = np.repeat(run_lo - (np.cumsum(run_n) - run_n), run_n)
    reg += np.arange(total)
    seg = grid.reg_seg[reg]
    cand = np.take(rows, seg, axis=0, out=buffers[0][:total])
    columns = buffers[1][:, :total]
    np.copyto(columns, cand.T)
    ax, ay, vx, vy, len2 = columns
    has = per_point > 0
    every = bool(has.all())
    kept = per_point if every else per_point[has]
    qx = np.repeat(px if every else px[has], kept)
    qy = np.repeat(py if every else py[has], kept)
    # t = ((px - ax) * vx + (py - ay) * vy) / len2 (1 where 0), clipped to [0, 1] (one
    # pass; a t of -0 stays -0, as in the compiled loop: the same feet and distances)
    t = qx - ax
    t *= vx
    w = qy - ay
    w *= vy
    t += w
    t /= len2
    np.clip(t, 0.0, 1.0, out=t)
    # the foot's offset: ax + t * vx - px, ay + t * vy - py
    np.multiply(t, vx, out=w)
    w += ax
    w -= qx
    np.multiply(t, vy, out=qx)
    qx += ay
    qx -= qy
    w *= w
    qx *= qx
    w += qx
    d2 = w
    starts = np.cumsum(kept) - kept
    dmin = np.minimum.reduceat(d2, starts)
    pos = np.flatnonzero(d2 == np.repeat(dmin, kept))
    # the first pair at the least distance of each point
    point = np.searchsorted(starts, pos, side="right") - 1
    first = np.ones(pos.size, dtype=bool)
    first[1:] = point[1:] != point[:-1]
    pick = pos[first]
    who = point[first] if every else np.flatnonzero(has)[point[first]]
    best_seg[who] = seg[pick]
    best_t[who] = t[pick]
    best_d[who] = np.sqrt(d2[pick])
