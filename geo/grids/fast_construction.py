"""Compiled loop of the construction (:func:`geo.grids.construction._straight_cuts`): the
straight bisections of a region, scored and ranked, in one call.

It computes what the numpy code computes, with the same floating-point operations in the
same order (see :mod:`geo.grids.fast_partition`), so both give the same candidates in the
same order and so the same grids (tests compare them).
"""

from __future__ import annotations

import numpy as np

from geo.compiled import kernel
from geo.grids.fast_helpers import codes, stable_argsort
from geo.grids.fast_partition import _inside
from geo.grids.fast_partition import kernels as partition_kernels


def _feasible(t, lo, hi):  # pragma: no cover - compiled
    """:func:`geo.grids.construction.feasible_vec` of one total."""
    return t > 0 and np.ceil(t / hi - 1e-9) <= np.floor(t / lo + 1e-9)


def _cut_table(proj, nodes, n_all, w, face, ei, ej, elen, ekind, cut_cost, out_ptr,
               out_edges, total, scale, k, a_values, low, high, lo, hi, mid, balance_weight,
               crossing_weight):  # pragma: no cover - compiled
    """The straight bisections of ``nodes`` as :func:`geo.grids.construction._straight_cuts`
    ranks them: the sweep orders (one column per direction) and, best first, each
    candidate's direction, parts on side 1 and cells on side 1."""
    n, n_dir = proj.shape
    loc, e = _INSIDE(nodes, n_all, ei, ej, out_ptr, out_edges)
    order = np.empty((n, n_dir), np.int64)
    for d in range(n_dir):
        order[:, d] = _STABLE_ARGSORT(proj[:, d])
    rank = np.empty((n, n_dir), np.int64)
    for d in range(n_dir):
        for i in range(n):
            rank[order[i, d], d] = i
    m = e.size
    cost = np.empty(m)
    for q in range(m):
        cost[q] = elen[e[q]] * cut_cost[ekind[e[q]]]
    # cut profiles: each direction's starts, then its ends, summed edge by edge
    cut = np.empty((max(n - 1, 0), n_dir))
    diff = np.empty(n + 1)
    for d in range(n_dir):
        diff[:] = 0.0
        for q in range(m):
            r1 = min(rank[loc[ei[e[q]]], d], rank[loc[ej[e[q]]], d])
            diff[r1 + 1] += cost[q]
        for q in range(m):
            r2 = max(rank[loc[ei[e[q]]], d], rank[loc[ej[e[q]]], d])
            diff[r2 + 1] += -cost[q]
        c = diff[0]
        for p in range(1, n):
            c = c + diff[p]
            cut[p - 1, d] = c / scale
    cw = np.empty((max(n - 1, 0), n_dir))
    for d in range(n_dir):
        acc = 0
        for p in range(n - 1):
            acc += w[nodes[order[p, d]]]
            cw[p, d] = float(acc)
    # face fragments too small for grids of their own, per position and direction
    forced = np.zeros((max(n - 1, 0), n_dir))
    fl = face[nodes]
    code, n_f = _CODES(fl)
    if n_f >= 2:
        fw = np.zeros(n_f)
        fn = np.zeros(n_f, np.int64)
        for i in range(n):
            fw[code[i]] += float(w[nodes[i]])
            fn[code[i]] += 1
        w1 = np.empty(n_f)
        c1 = np.empty(n_f, np.int64)
        for d in range(n_dir):
            w1[:] = 0.0
            c1[:] = 0
            for p in range(n - 1):
                v = order[p, d]
                w1[code[v]] += float(w[nodes[v]])
                c1[code[v]] += 1
                sides1 = sides2 = 0
                bad1 = bad2 = 0
                for f in range(n_f):
                    if c1[f] > 0:
                        sides1 += 1
                        if not _FEASIBLE(w1[f], lo, hi):
                            bad1 += 1
                    if fn[f] - c1[f] > 0:
                        sides2 += 1
                        if not _FEASIBLE(fw[f] - w1[f], lo, hi):
                            bad2 += 1
                forced[p, d] = float(bad1 if sides1 > 1 else 0) + float(bad2 if sides2 > 1 else 0)
    # candidates in the order direction, side count, position; then sorted by score
    n_a = a_values.size
    size = n_dir * n_a * max(n - 1, 0)
    cand_o = np.empty(size, np.int64)
    cand_a = np.empty(size, np.int64)
    cand_p = np.empty(size, np.int64)
    score = np.empty(size)
    band = max(hi - lo, 1.0)
    c = 0
    for d in range(n_dir):
        for ai in range(n_a):
            av = float(a_values[ai])
            for p in range(n - 1):
                cp = cw[p, d]
                if cp >= low[ai] - 1e-9 and cp <= high[ai] + 1e-9:
                    avg1 = cp / av
                    avg2 = (total - cp) / (k - av)
                    spread = max(abs(avg1 - mid), abs(avg2 - mid)) / band
                    score[c] = cut[p, d] + balance_weight * spread + crossing_weight * forced[p, d]
                    cand_o[c], cand_a[c], cand_p[c] = d, a_values[ai], p + 1
                    c += 1
    best = _STABLE_ARGSORT(score[:c])
    return order, cand_o[best], cand_a[best], cand_p[best]


_FEASIBLE_KERNEL = kernel(_feasible)
_CUT_TABLE_KERNEL = kernel(_cut_table)


def kernels() -> dict | None:
    """``{"cut_table": …, "connected": …}`` compiled, or None without numba (the loops it
    calls are compiled first and bound to the names it reads)."""
    global _INSIDE, _FEASIBLE, _STABLE_ARGSORT, _CODES
    partition = partition_kernels()
    feasible = _FEASIBLE_KERNEL.get()
    if partition is None or feasible is None:
        return None
    _INSIDE, _FEASIBLE = partition["inside"], feasible
    _STABLE_ARGSORT, _CODES = partition["stable_argsort"], partition["codes"]
    table = _CUT_TABLE_KERNEL.get()
    return None if table is None else {"cut_table": table, "connected": partition["connected"]}


# bound to their compiled versions by kernels()
_INSIDE = _inside
_FEASIBLE = _feasible
_STABLE_ARGSORT = stable_argsort
_CODES = codes
