"""The check of :mod:`geo.grids.float_union` in numpy, for tables too small to load the
compiled loop for (numba's import costs more than a small table's snapped unions).

:func:`pairs_clear` answers what :func:`geo.grids.float_union._pairs_clear` answers, pair
by pair, with the same arithmetic on every vertex–segment and segment–segment pair of
the two rings at once (arrays instead of loops; no pair is skipped that the loop tests).
"""

from __future__ import annotations

import numpy as np

#: Pairs of rings checked at once (about 25 vertex–segment pairs each at ~1,000 cells).
AT_ONCE = 8000


def _on_axis(px, py, ax, ay, bx, by):
    """:func:`geo.grids.float_union._on_axis_segment`, element by element."""
    flat = (ay == by) & (py == ay)
    inside_x = (np.minimum(ax, bx) < px) & (px < np.maximum(ax, bx))
    inside_y = (ax == bx) & (px == ax) & (np.minimum(ay, by) < py) & (py < np.maximum(ay, by))
    return np.where(flat, inside_x, inside_y)


def _near(px, py, ax, ay, bx, by, near):
    """:func:`geo.grids.float_union._near_segment`, element by element."""
    abx, aby = bx - ax, by - ay
    apx, apy = px - ax, py - ay
    den = abx * abx + aby * aby
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(den > 0, (apx * abx + apy * aby) / np.where(den > 0, den, 1.0), 0.0)
    t = np.minimum(1.0, np.maximum(0.0, t))
    dx, dy = apx - t * abx, apy - t * aby
    return dx * dx + dy * dy < near * near


def _apart(ax, ay, bx, by, cx, cy, dx, dy, side_m):
    """:func:`geo.grids.float_union._apart`, element by element."""
    ux, uy = bx - ax, by - ay
    tol = side_m * np.sqrt(ux * ux + uy * uy)
    s1 = ux * (cy - ay) - uy * (cx - ax)
    s2 = ux * (dy - ay) - uy * (dx - ax)
    return ((s1 > tol) & (s2 > tol)) | ((s1 < -tol) & (s2 < -tol))


def pairs_clear(x, y, start, count, box, pi, pj, near, *, side_m: float) -> np.ndarray:
    """:func:`geo.grids.float_union._pairs_clear` over arrays: per pair of rings (``pi[k]
    == pj[k]``: a ring with itself), whether their snapped and floating noding agree
    (``side_m``: :data:`geo.grids.float_union.SIDE_M`).

    Every segment ``p`` of one ring meets every segment ``q`` of the other in one array;
    the vertices of a ring are its segments' first ends, so the loop's vertex tests are
    ``p``'s first end against ``q`` and (two rings) ``q``'s against ``p``. The boxes are
    compared first and only the pairs they keep are tested further, with the loop's
    arithmetic. ``box`` (the rings' boxes) is taken for the compiled loop's signature and
    not read: the segments' own boxes are compared here."""
    pi, pj = np.asarray(pi, dtype=np.int64), np.asarray(pj, dtype=np.int64)
    start, count = np.asarray(start, dtype=np.int64), np.asarray(count, dtype=np.int64)
    if len(pi) > AT_ONCE:  # in runs of pairs, to bound the tables' memory
        return np.concatenate([pairs_clear(x, y, start, count, box, pi[lo:lo + AT_ONCE],
                                           pj[lo:lo + AT_ONCE], near, side_m=side_m)
                               for lo in range(0, len(pi), AT_ONCE)])
    ok = np.ones(len(pi), dtype=bool)
    if len(pi) == 0:
        return ok
    # every segment of ring pi[k] (first end p) against every one of ring pj[k] (q)
    seg_i, seg_j = count[pi] - 1, count[pj] - 1
    combos = seg_i * seg_j
    k = np.repeat(np.arange(len(pi)), combos)
    r = np.arange(int(combos.sum())) - np.repeat(np.cumsum(combos) - combos, combos)
    per = seg_j[k]
    p = start[pi][k] + r // per
    q = start[pj][k] + r % per
    x1, y1 = np.append(x[1:], 0.0), np.append(y[1:], 0.0)  # each vertex's next
    lo_x, hi_x = np.minimum(x, x1), np.maximum(x, x1)
    lo_y, hi_y = np.minimum(y, y1), np.maximum(y, y1)
    two = pi[k] != pj[k]
    # the vertex tests (geo.grids.float_union._vertices_clear), both ways round
    for v, s, way in ((p, q, None), (q, p, two)):
        keep = ~((x[v] < lo_x[s] - near) | (x[v] > hi_x[s] + near)
                 | (y[v] < lo_y[s] - near) | (y[v] > hi_y[s] + near))
        if way is not None:
            keep &= way
        at = np.flatnonzero(keep)
        v, s, kk = v[at], s[at], k[at]
        px, py, ax, ay, bx, by = x[v], y[v], x[s], y[s], x1[s], y1[s]
        vi, ni = start[pi[kk]], count[pi[kk]]
        skip_same = (s == v) | (s == v - 1) | ((v == vi) & (s == vi + ni - 2))
        at_end = ((px == ax) & (py == ay)) | ((px == bx) & (py == by))
        skip_other = at_end | _on_axis(px, py, ax, ay, bx, by)
        test = np.where(pi[kk] == pj[kk], ~skip_same, ~skip_other)
        ok[kk[test & _near(px, py, ax, ay, bx, by, near)]] = False
    # the crossings (geo.grids.float_union._no_crossing)
    meet = ~((hi_x[p] < lo_x[q]) | (hi_x[q] < lo_x[p]) | (hi_y[p] < lo_y[q]) | (hi_y[q] < lo_y[p]))
    at = np.flatnonzero(meet)
    p, q, k = p[at], q[at], k[at]
    ax, ay, bx, by = x[p], y[p], x1[p], y1[p]
    cx, cy, dx, dy = x[q], y[q], x1[q], y1[q]
    shared = (((ax == cx) & (ay == cy)) | ((ax == dx) & (ay == dy))
              | ((bx == cx) & (by == cy)) | ((bx == dx) & (by == dy)))
    at = np.flatnonzero(~shared)
    ax, ay, bx, by, cx, cy, dx, dy, k = (a[at] for a in (ax, ay, bx, by, cx, cy, dx, dy, k))
    test = ~(_apart(ax, ay, bx, by, cx, cy, dx, dy, side_m)
             | _apart(cx, cy, dx, dy, ax, ay, bx, by, side_m))
    test &= ~(_on_axis(ax, ay, cx, cy, dx, dy) | _on_axis(bx, by, cx, cy, dx, dy)
              | _on_axis(cx, cy, ax, ay, bx, by) | _on_axis(dx, dy, ax, ay, bx, by))
    ok[k[test]] = False
    return ok


__all__ = ["pairs_clear"]
