"""Compiled loops of the partition: the improvement's re-split of a pair of grids
(:func:`geo.grids.improvement.best_resplit`: every straight cut's score, the pair's
objective as it stands, the best cut keeping both sides connected) and the construction's
table of straight bisections (:mod:`geo.grids.fast_construction`).

Each loop computes what the numpy code computes, with the
same floating-point operations in the same order (cumulative sums run row by row as
numpy's ``cumsum`` does, ``bincount`` sums edge by edge, and whole-array sums follow
numpy's pairwise summation, :func:`geo.grids.fast_helpers.pairwise_sums`), so both give
the same cuts and the same
grids, bit for bit (tests compare them). Only runs large enough to repay numba's import
use them (:func:`geo.grids.improvement.compiled_for`); ``.get()`` is ``None`` without
numba.
"""

from __future__ import annotations

import numpy as np

from geo.compiled import kernel
from geo.grids.fast_helpers import codes, pairwise_sums, stable_argsort


def _pair_objective(w, area, perim, face, ei, ej, elen, ekind, nx, ny, e, lo, hi, mid,
                    four_pi, mid_weight, crossing_weight, block_weight, arterial,
                    block_kind):  # pragma: no cover - compiled
    """:func:`geo.grids.improvement._pair_objective` (``e``: the edges inside the union)."""
    n = w.size
    in_x = np.zeros(n, np.bool_)
    for v in nx:
        in_x[v] = True
    m = e.size
    ex = np.empty(m, np.bool_)
    ey = np.empty(m, np.bool_)
    for k in range(m):
        ex[k] = in_x[ei[e[k]]]
        ey[k] = in_x[ej[e[k]]]
    # the sums numpy takes, one after another in one buffer: per side its areas, perimeters
    # and inner edge lengths; the block edges cut; the union's areas
    size = 3 * (nx.size + ny.size) + 3 * m
    buf = np.empty(size)
    starts = np.zeros(9, np.int64)
    along = np.zeros(2, np.bool_)
    pos = 0
    for side in range(2):
        nodes = nx if side == 0 else ny
        for k in range(nodes.size):
            buf[pos] = area[nodes[k]]
            pos += 1
        starts[3 * side + 1] = pos
        for k in range(nodes.size):
            buf[pos] = perim[nodes[k]]
            pos += 1
        starts[3 * side + 2] = pos
        for k in range(m):
            inside = (ex[k] and ey[k]) if side == 0 else (not ex[k] and not ey[k])
            if inside:
                buf[pos] = elen[e[k]]
                pos += 1
                if ekind[e[k]] == arterial:
                    along[side] = True
        starts[3 * side + 3] = pos
    for k in range(m):
        if ex[k] != ey[k] and ekind[e[k]] == block_kind:
            buf[pos] = elen[e[k]]
            pos += 1
    starts[7] = pos
    for k in range(nx.size):
        buf[pos] = area[nx[k]]
        pos += 1
    for k in range(ny.size):
        buf[pos] = area[ny[k]]
        pos += 1
    starts[8] = pos
    sums = np.empty(8)
    _PAIRWISE_SUMS(buf, starts, sums)
    band = max(hi - lo, 1.0)
    total = 0.0
    for side in range(2):
        nodes = nx if side == 0 else ny
        a = sums[3 * side]
        p = sums[3 * side + 1] - 2 * sums[3 * side + 2]
        f = np.sort(face[nodes])
        faces = -1
        for i in range(f.size):
            if i == 0 or f[i] != f[i - 1]:
                faces += 1
        wsum = 0
        for k in range(nodes.size):
            wsum += w[nodes[k]]
        crossing = max(faces, 1 if along[side] else 0)
        pp = 0.0
        if p > 0:
            q = max(p, 1e-9)
            pp = four_pi * a / (q * q)
        total += pp - mid_weight * abs(wsum - mid) / band - crossing_weight * crossing
    return total - block_weight * sums[6] / np.sqrt(max(sums[7], 1.0))


def _resplit_scores(order, w, area, perim, face, eu, ev, elen, ekind, total, area_total,
                    perim_total, low, high, mid, band, root_area, four_pi, mid_weight,
                    block_weight, crossing_weight, arterial,
                    block_kind):  # pragma: no cover - compiled
    """Score and band check of every straight cut (row: prefix length - 1, column:
    direction), as :func:`geo.grids.improvement.best_resplit` computes them."""
    n, n_dir = order.shape
    m = eu.size
    rank = np.empty((n, n_dir), np.int64)
    for d in range(n_dir):
        for i in range(n):
            rank[order[i, d], d] = i
    b0 = np.zeros((n + 1, n_dir))  # edge lengths by higher end's rank
    b1 = np.zeros((n + 1, n_dir))  # by lower end's rank
    b2 = np.zeros((n + 1, n_dir))  # block lengths by lower rank + 1
    b3 = np.zeros((n + 1, n_dir))  # by higher rank + 1
    b4 = np.zeros((n + 1, n_dir))  # arterial edges by higher rank
    b5 = np.zeros((n + 1, n_dir))  # by lower rank
    has_art = False
    for k in range(m):
        if ekind[k] == arterial:
            has_art = True
    for k in range(m):
        length = elen[k]
        blk = length if ekind[k] == block_kind else 0.0
        art = 1.0 if ekind[k] == arterial else 0.0
        for d in range(n_dir):
            ru, rv = rank[eu[k], d], rank[ev[k], d]
            r1, r2 = min(ru, rv), max(ru, rv)
            b0[r2, d] += length
            b1[r1, d] += length
            b2[r1 + 1, d] += blk
            b3[r2 + 1, d] += blk
            if has_art:
                b4[r2, d] += art
                b5[r1, d] += art
    score = np.empty((n - 1, n_dir))
    ok = np.zeros((n - 1, n_dir), np.bool_)
    inside2 = np.empty(n - 1)
    for d in range(n_dir):
        # sums over the higher ranks, from the far end (numpy's reversed cumsum)
        in2 = b1[n, d]
        for p in range(n - 2, -1, -1):
            in2 = in2 + b1[p + 1, d]
            inside2[p] = in2
        cw = w[order[0, d]]
        a1 = area[order[0, d]]
        s1 = perim[order[0, d]]
        in1 = b0[0, d]
        cb = b2[0, d] - b3[0, d]
        for p in range(n - 1):
            v = order[p, d]
            if p > 0:
                cw = cw + w[v]
                a1 = a1 + area[v]
                s1 = s1 + perim[v]
                in1 = in1 + b0[p, d]
            cb = cb + (b2[p + 1, d] - b3[p + 1, d])
            fw = float(cw)
            ok[p, d] = (fw >= low - 1e-9) and (fw <= high + 1e-9)
            p1 = s1 - 2 * in1
            p2 = perim_total - s1 - 2 * inside2[p]
            pp1 = 0.0
            if p1 > 0:
                q = max(p1, 1e-9)
                pp1 = four_pi * a1 / (q * q)
            pp2 = 0.0
            if p2 > 0:
                q = max(p2, 1e-9)
                pp2 = four_pi * (area_total - a1) / (q * q)
            score[p, d] = pp1 + pp2 \
                - mid_weight * (abs(fw - mid) + abs(total - fw - mid)) / band \
                - block_weight * cb / root_area
    if has_art:
        fcode, n_faces = _CODES(face)
        count1 = np.zeros(n_faces, np.int64)
        count2 = np.zeros(n_faces, np.int64)
        seen = np.zeros(n - 1, np.bool_)
        along2 = np.zeros(n - 1, np.bool_)
        for d in range(n_dir):
            count1[:] = 0
            count2[:] = 0
            for i in range(n):
                count2[fcode[order[i, d]]] += 1
            f1 = 0
            f2 = 0
            for c in range(n_faces):
                if count2[c] > 0:
                    f2 += 1
            # arterial edges on each side, by prefix (forward) and suffix (backward)
            al1 = 0.0
            for p in range(n - 1):
                al1 = b4[0, d] if p == 0 else al1 + b4[p, d]
                seen[p] = al1 > 0
            al2 = b5[n, d]
            for p in range(n - 2, -1, -1):
                al2 = al2 + b5[p + 1, d]
                along2[p] = al2 > 0
            for p in range(n - 1):
                c = fcode[order[p, d]]
                if count1[c] == 0:
                    f1 += 1
                count1[c] += 1
                count2[c] -= 1
                if count2[c] == 0:
                    f2 -= 1
                x1 = max(float(f1) - 1.0, 1.0 if seen[p] else 0.0)
                x2 = max(float(f2) - 1.0, 1.0 if along2[p] else 0.0)
                score[p, d] = score[p, d] - crossing_weight * (x1 + x2)
    return score, ok


def _inside(nodes, n_all, ei, ej, out_ptr, out_edges):  # pragma: no cover - compiled
    """Each cell's position in ``nodes`` (-1 elsewhere) and the edges inside ``nodes``, in
    the order :meth:`geo.grids.graph.CellGraph.local` lists them."""
    n = nodes.size
    loc = np.full(n_all, -1, np.int64)
    for k in range(n):
        loc[nodes[k]] = k
    cnt = 0
    e = np.empty(ei.size, np.int64)
    if n * 8 > n_all:
        for k in range(ei.size):
            if loc[ei[k]] >= 0 and loc[ej[k]] >= 0:
                e[cnt] = k
                cnt += 1
    else:
        for k in range(n):
            v = nodes[k]
            for idx in range(out_ptr[v], out_ptr[v + 1]):
                edge = out_edges[idx]
                if loc[ej[edge]] >= 0:
                    e[cnt] = edge
                    cnt += 1
    return loc, e[:cnt]


def _connected(mask, nb_ptr, nb):  # pragma: no cover - compiled
    """:meth:`geo.grids.graph.CellGraph.connected`: whether the cells under ``mask`` form
    one connected piece (``nb_ptr``, ``nb``: :attr:`~geo.grids.graph.CellGraph.undirected`)."""
    members = 0
    start = -1
    for v in range(mask.size):
        if mask[v]:
            members += 1
            if start < 0:
                start = v
    if members <= 1:
        return members == 1
    seen = np.zeros(mask.size, np.bool_)
    stack = np.empty(members, np.int64)
    seen[start] = True
    stack[0] = start
    top, reached = 1, 1
    while top > 0:
        top -= 1
        v = stack[top]
        for idx in range(nb_ptr[v], nb_ptr[v + 1]):
            u = nb[idx]
            if mask[u] and not seen[u]:
                seen[u] = True
                stack[top] = u
                top += 1
                reached += 1
    return reached == members


def _resplit(proj, nodes, n_all, w, area, perim, face, ei, ej, elen, ekind, out_ptr,
             out_edges, nb_ptr, nb, nx, ny, has_pair, current, lo, hi, mid, four_pi,
             mid_weight, block_weight, crossing_weight, arterial,
             block_kind):  # pragma: no cover - compiled
    """:func:`geo.grids.improvement.best_resplit` but the projections (``proj``, numpy's
    product): ``(side, score, True)``, or ``(_, _, False)`` when no cut beats
    ``current`` (the pair ``nx``, ``ny``'s objective when ``has_pair``)."""
    n = nodes.size
    n_dir = proj.shape[1]
    loc, e = _INSIDE(nodes, n_all, ei, ej, out_ptr, out_edges)
    cnt = e.size
    if has_pair:
        current = _PAIR_OBJECTIVE(w, area, perim, face, ei, ej, elen, ekind, nx, ny, e, lo,
                                  hi, mid, four_pi, mid_weight, crossing_weight,
                                  block_weight, arterial, block_kind)
    order = np.empty((n, n_dir), np.int64)
    for d in range(n_dir):
        order[:, d] = _STABLE_ARGSORT(proj[:, d])
    wl = np.empty(n, w.dtype)
    buf = np.empty(2 * n)
    total_w = 0
    for k in range(n):
        wl[k] = w[nodes[k]]
        total_w += w[nodes[k]]
        buf[k] = area[nodes[k]]
        buf[n + k] = perim[nodes[k]]
    starts = np.array([0, n, 2 * n], np.int64)
    sums = np.empty(2)
    _PAIRWISE_SUMS(buf, starts, sums)
    area_total, perim_total = sums[0], sums[1]
    total = float(total_w)
    low = max(lo, total - hi)
    high = min(hi, total - lo)
    eu = np.empty(cnt, np.int64)
    ev = np.empty(cnt, np.int64)
    for k in range(cnt):
        eu[k] = loc[ei[e[k]]]
        ev[k] = loc[ej[e[k]]]
    score, ok = _RESPLIT_SCORES(order, wl, buf[:n], buf[n:], face[nodes], eu, ev, elen[e],
                                ekind[e], total, area_total, perim_total, low, high, mid,
                                max(hi - lo, 1.0), np.sqrt(max(area_total, 1.0)), four_pi,
                                mid_weight, block_weight, crossing_weight, arterial,
                                block_kind)
    none = np.empty(0, np.int64)
    if not ok.any():
        return none, 0.0, False
    # good cuts in row-major order, best first (stable), at most 40 tried
    rows = np.empty(score.size, np.int64)
    cols = np.empty(score.size, np.int64)
    neg = np.empty(score.size)
    m = 0
    for p in range(n - 1):
        for d in range(n_dir):
            if ok[p, d] and score[p, d] > current + 1e-6:
                rows[m], cols[m], neg[m] = p, d, -score[p, d]
                m += 1
    if m == 0:
        return none, 0.0, False
    ranked = _STABLE_ARGSORT(neg[:m])[:40]
    side = np.zeros(n_all, np.bool_)
    stack = np.empty(n, np.int64)
    seen = np.zeros(n_all, np.bool_)
    for r in ranked:
        p, d = rows[r], cols[r]
        side[:] = False
        for k in range(p + 1):
            side[nodes[order[k, d]]] = True
        both = True
        for part in range(2):   # side 1 (p + 1 cells), then the rest of the union
            size = p + 1 if part == 0 else n - p - 1
            start = nodes[order[0, d]] if part == 0 else nodes[order[n - 1, d]]
            seen[:] = False
            seen[start] = True
            stack[0] = start
            top, reached = 1, 1
            while top > 0:
                top -= 1
                v = stack[top]
                for idx in range(nb_ptr[v], nb_ptr[v + 1]):
                    u = nb[idx]
                    if loc[u] >= 0 and side[u] == (part == 0) and not seen[u]:
                        seen[u] = True
                        stack[top] = u
                        top += 1
                        reached += 1
            if reached != size:
                both = False
                break
        if both:
            out = np.empty(p + 1, np.int64)
            c = 0
            for v in range(n_all):
                if side[v]:
                    out[c] = v
                    c += 1
            return out, score[p, d], True
    return none, 0.0, False


#: Kernels in the order they are compiled, each bound to the name the later ones read.
_CHAIN = (("_PAIRWISE_SUMS", kernel(pairwise_sums)),
          ("_STABLE_ARGSORT", kernel(stable_argsort)),
          ("_CODES", kernel(codes)),
          ("_INSIDE", kernel(_inside)),
          ("_CONNECTED", kernel(_connected)),

          ("_PAIR_OBJECTIVE", kernel(_pair_objective)),
          ("_RESPLIT_SCORES", kernel(_resplit_scores)),
          ("_RESPLIT", kernel(_resplit)))


def kernels() -> dict | None:
    """The compiled ``pair_objective``, ``resplit_scores`` and ``resplit``, or None
    without numba (each compiled after those it calls, which are bound to the names it
    reads: no recursion, so numba's cache keeps them all)."""
    found = {}
    for name, k in _CHAIN:
        compiled = k.get()
        if compiled is None:
            return None
        globals()[name] = found[name] = compiled
    return {"pair_objective": found["_PAIR_OBJECTIVE"], "inside": found["_INSIDE"],
            "connected": found["_CONNECTED"], "stable_argsort": found["_STABLE_ARGSORT"],
            "codes": found["_CODES"],
            "resplit_scores": found["_RESPLIT_SCORES"], "resplit": found["_RESPLIT"]}


# bound to their compiled versions by kernels()
_PAIRWISE_SUMS = pairwise_sums
_STABLE_ARGSORT = stable_argsort
_CODES = codes
_INSIDE = _inside
_CONNECTED = _connected
_PAIR_OBJECTIVE = _pair_objective
_RESPLIT_SCORES = _resplit_scores
_RESPLIT = _resplit
