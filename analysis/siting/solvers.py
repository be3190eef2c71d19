"""The solvers of the maximal covering model (:mod:`analysis.siting`): which ``p`` rows of
a boolean cover matrix (candidate × household) cover the most household weight.

- :func:`best_greedy`: lazy greedy (CELF) from a few starts, each improved by single swaps
  (:func:`swap_improve`, Teitz–Bart interchange);
- :func:`exact_cover`: a mixed-integer programme solved by HiGHS through
  ``scipy.optimize.milp``, with a budget of branch-and-bound nodes (never seconds).
"""

from __future__ import annotations

import heapq

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

#: work budget of the exact solver: branch-and-bound nodes (never seconds: a busy machine
#: must give the same sites as a quiet one)
NODE_LIMIT = 5_000


def greedy_cover(cover: sparse.csr_array, weight: np.ndarray, p: int, *,
                 first: int | None = None) -> list[int]:
    """Lazy greedy (CELF) maximal covering: ``p`` rows of ``cover`` covering most weight.

    ``first`` forces the first site (used by the multi-start in :func:`best_greedy`).
    """
    cover = sparse.csr_array(cover)
    indptr, indices = cover.indptr, cover.indices
    gains = cover.astype(float) @ weight.astype(float)
    heap = [(-g, c) for c, g in enumerate(gains) if g > 0]
    heapq.heapify(heap)
    done = np.zeros(cover.shape[1], dtype=bool)
    chosen: list[int] = []
    if first is not None:
        chosen.append(int(first))
        done[indices[indptr[first]:indptr[first + 1]]] = True
        heap = [item for item in heap if item[1] != first]
        heapq.heapify(heap)
    while heap and len(chosen) < p:
        neg, c = heapq.heappop(heap)
        cols = indices[indptr[c]:indptr[c + 1]]
        gain = float(weight[cols][~done[cols]].sum())
        if gain <= 0:
            continue
        if not heap or gain >= -heap[0][0] - 1e-9:
            chosen.append(c)
            done[cols] = True
        else:
            heapq.heappush(heap, (-gain, c))
    return chosen


def best_greedy(cover: sparse.csr_array, weight: np.ndarray, p: int, *,
                starts: int = 8) -> list[int]:
    """Greedy from several starts, each improved by swaps; the best set found.

    The plain greedy start is tried, then greedy runs whose first site is forced to each
    of the next best single sites (a greedy's first choice is often what traps it).
    """
    cover = sparse.csr_array(cover)
    weight = weight.astype(float)
    single = cover.astype(float) @ weight
    best = swap_improve(cover, weight, greedy_cover(cover, weight, p))
    best_value = covered_weight(cover, weight, best)
    if p > 1:
        for first in np.argsort(-single, kind="stable")[1:starts]:
            if single[first] <= 0:
                break
            chosen = swap_improve(cover, weight, greedy_cover(cover, weight, p, first=first))
            value = covered_weight(cover, weight, chosen)
            if value > best_value:
                best, best_value = chosen, value
    return best


def swap_improve(cover: sparse.csr_array, weight: np.ndarray, chosen: list[int], *,
                 max_rounds: int = 20) -> list[int]:
    """Improve a set of sites by single swaps (Teitz–Bart interchange) until none helps.

    Each round tries, for every chosen site, the best replacement among all candidates
    (one sparse matrix–vector product per chosen site), and keeps any swap that covers
    more weight.
    """
    cover = sparse.csr_array(cover).astype(float)
    chosen = list(chosen)
    if not chosen:
        return chosen
    weight = weight.astype(float)
    counts = np.asarray(cover[chosen].sum(axis=0)).ravel()
    current = float(weight[counts > 0].sum())
    for _ in range(max_rounds):
        improved = False
        for pos, site in enumerate(chosen):
            row = cover[[site]].toarray().ravel()
            free = (counts - row) <= 0
            base = float(weight[~free].sum())
            gains = cover @ (weight * free)
            gains[chosen] = -np.inf
            best = int(np.argmax(gains))
            if gains[best] > -np.inf and base + gains[best] > current + 1e-9:
                counts = counts - row + cover[[best]].toarray().ravel()
                chosen[pos] = best
                current = base + float(gains[best])
                improved = True
        if not improved:
            break
    return chosen


def exact_cover(cover: sparse.csr_array, weight: np.ndarray, p: int, *,
                node_limit: int = NODE_LIMIT) -> tuple[list[int], dict]:
    """Optimal maximal covering by mixed-integer programming (HiGHS via scipy).

    max Σ w_h y_h  s.t.  y_h ≤ Σ_{c covers h} x_c,  Σ x_c ≤ p,  x binary, 0 ≤ y ≤ 1.

    The solver's budget is branch-and-bound nodes (work), not seconds, so the same model
    gives the same answer on a busy machine as on a quiet one.
    """
    cover = sparse.csr_array(cover)
    n_c, n_d = cover.shape
    useful = np.flatnonzero(np.asarray(cover.sum(axis=0)).ravel() > 0)
    sub = cover[:, useful].astype(float)
    m = useful.size
    c = np.concatenate([np.zeros(n_c), -weight[useful].astype(float)])
    # rows: y_h − Σ x_c ≤ 0
    a_cover = sparse.hstack([-sub.T, sparse.eye_array(m)], format="csr")
    a_count = sparse.csr_array(np.concatenate([np.ones(n_c), np.zeros(m)])[None, :])
    constraints = [LinearConstraint(a_cover, -np.inf, 0.0), LinearConstraint(a_count, 0, p)]
    integrality = np.concatenate([np.ones(n_c), np.zeros(m)])
    res = milp(c, constraints=constraints, integrality=integrality,
               bounds=Bounds(np.zeros(n_c + m), np.ones(n_c + m)),
               options={"node_limit": int(node_limit), "mip_rel_gap": 0.0})
    info = {"status": int(res.status), "message": str(res.message),
            "optimal": bool(res.status == 0),
            "nodes": int(getattr(res, "mip_node_count", 0) or 0)}
    if res.x is None:
        return [], info
    x = res.x[:n_c]
    chosen = list(np.flatnonzero(x > 0.5))
    chosen.sort(key=lambda k: -float(weight[cover.indices[cover.indptr[k]:cover.indptr[k + 1]]].sum()))
    info["objective"] = float(-res.fun)
    info["bound"] = float(-res.mip_dual_bound) if getattr(res, "mip_dual_bound", None) is not None \
        else None
    return [int(k) for k in chosen], info


def covered_weight(cover: sparse.csr_array, weight: np.ndarray, chosen: list[int]) -> float:
    """The household weight the ``chosen`` rows of ``cover`` cover together."""
    if not chosen:
        return 0
    cols = np.unique(sparse.csr_array(cover)[chosen].indices)
    return weight[cols].sum()


# -------------------------------------------------------------------------------------
# entry point
# -------------------------------------------------------------------------------------


__all__ = ["NODE_LIMIT", "best_greedy", "covered_weight", "exact_cover", "greedy_cover",
           "swap_improve"]
