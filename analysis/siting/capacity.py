"""Siting that closes shortfalls: new facilities of a given capacity placed where they
serve the most unmet demand (capacitated maximal covering), existing facilities kept.

The unmet demand of each home is what the capacity stage left short (``demand`` −
``supply`` reached, places; :mod:`analysis.capacity.stage`). A new site of capacity ``C``
serves homes within the service's threshold (the coverage model of
:mod:`analysis.siting`, exact network walks), at most ``C`` places in all and at most
each home's unmet demand. Two solvers:

- ``greedy``: add the site whose best allocation serves the most, ``p`` times; every
  allocation is the exact maximum flow of the sites chosen so far (a linear programme);
- ``exact``: one mixed-integer programme (HiGHS through ``scipy.optimize.milp``) over
  sites and flows, with a budget of branch-and-bound nodes (work, never seconds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from analysis.siting.sites import coverage_pairs, make_candidates
from analysis.siting.solvers import NODE_LIMIT
from geo.errors import InputError
from geo.vocabulary import capacity_column

#: ``method="auto"`` solves exactly up to this many (candidate, home) pairs.
AUTO_EXACT_PAIRS = 20_000


def served(cover: sparse.csr_array, need: np.ndarray, site_capacity: float,
           chosen: list[int]) -> tuple[float, np.ndarray]:
    """The most places the ``chosen`` sites can give (each at most ``site_capacity``, each
    home at most its ``need``), and the places each home gets: a maximum flow solved as
    a linear programme."""
    need = np.asarray(need, dtype=float)
    if not chosen:
        return 0.0, np.zeros(need.size)
    sub = sparse.csr_array(cover)[chosen].tocoo()
    n_f = sub.nnz
    if n_f == 0:
        return 0.0, np.zeros(need.size)
    k = np.arange(n_f)
    by_site = sparse.csr_array((np.ones(n_f), (sub.row, k)), shape=(len(chosen), n_f))
    by_home = sparse.csr_array((np.ones(n_f), (sub.col, k)), shape=(need.size, n_f))
    res = linprog(-np.ones(n_f), A_ub=sparse.vstack([by_site, by_home], format="csr"),
                  b_ub=np.concatenate([np.full(len(chosen), float(site_capacity)), need]),
                  bounds=(0, None), method="highs")
    flow = res.x if res.x is not None else np.zeros(n_f)
    got = np.bincount(sub.col, weights=flow, minlength=need.size)
    return float(flow.sum()), got


def greedy_capacitated(cover: sparse.csr_array, need: np.ndarray, site_capacity: float,
                       p: int) -> list[int]:
    """``p`` sites chosen one at a time, each the one whose addition serves the most
    (candidates ranked by the bound min(capacity, unmet demand they reach), checked by
    the exact flow of the sites so far)."""
    cover = sparse.csr_array(cover).astype(float)
    need = np.asarray(need, dtype=float)
    chosen: list[int] = []
    total = 0.0
    left = need.copy()
    for _ in range(p):
        bound = np.minimum(site_capacity, cover @ left)
        bound[chosen] = -1
        best, best_total = None, total
        for c in np.argsort(-bound, kind="stable"):
            if bound[c] <= 1e-9 or bound[c] + total <= best_total + 1e-9:
                break
            value, _ = served(cover, need, site_capacity, chosen + [int(c)])
            if value > best_total + 1e-9:
                best, best_total = int(c), value
        if best is None:
            break
        chosen.append(best)
        total, got = served(cover, need, site_capacity, chosen)
        left = np.maximum(need - got, 0.0)
    return chosen


def exact_capacitated(cover: sparse.csr_array, need: np.ndarray, site_capacity: float,
                      p: int, *, node_limit: int = NODE_LIMIT) -> tuple[list[int], dict]:
    """The best ``p`` sites by mixed-integer programming::

        max Σ f_ch  s.t.  Σ_h f_ch ≤ C·x_c,  Σ_c f_ch ≤ need_h,  Σ x_c ≤ p,
                          f ≥ 0 on covered pairs only, x binary
    """
    cover = sparse.csr_array(cover).tocoo()
    n_c, n_h = cover.shape
    n_f = cover.nnz
    k = np.arange(n_f)
    site_rows = sparse.hstack([sparse.csr_array((np.ones(n_f), (cover.row, k)), shape=(n_c, n_f)),
                               sparse.diags_array(np.full(n_c, -float(site_capacity)))],
                              format="csr")
    home_rows = sparse.hstack([sparse.csr_array((np.ones(n_f), (cover.col, k)), shape=(n_h, n_f)),
                               sparse.csr_array((n_h, n_c))], format="csr")
    count = sparse.csr_array(np.concatenate([np.zeros(n_f), np.ones(n_c)])[None, :])
    res = milp(np.concatenate([-np.ones(n_f), np.zeros(n_c)]),
               constraints=[LinearConstraint(site_rows, -np.inf, 0.0),
                            LinearConstraint(home_rows, -np.inf, np.asarray(need, dtype=float)),
                            LinearConstraint(count, 0, p)],
               integrality=np.concatenate([np.zeros(n_f), np.ones(n_c)]),
               bounds=Bounds(np.zeros(n_f + n_c), np.concatenate([np.full(n_f, np.inf),
                                                                  np.ones(n_c)])),
               options={"node_limit": int(node_limit), "mip_rel_gap": 0.0})
    info = {"status": int(res.status), "optimal": bool(res.status == 0),
            "message": str(res.message)}
    if res.x is None:
        return [], info
    chosen = [int(c) for c in np.flatnonzero(res.x[n_f:] > 0.5)]
    info["objective"] = float(-res.fun)
    return chosen, info


@dataclass(frozen=True, eq=False)
class CapacitySiting:
    """New sites of one capacity and the shortfall they close.

    ``sites``: ``order``, ``candidate``, ``places`` (what the site serves in the best
    allocation of all chosen sites), geometry; ``shortfall_before`` and
    ``shortfall_after`` in places (homes on the network); ``report``: candidates, pairs,
    the solvers' figures."""

    service: str
    p: int
    site_capacity: float
    method: str
    sites: gpd.GeoDataFrame
    shortfall_before: float
    shortfall_after: float
    report: dict = field(default_factory=dict)


def site_for_capacity(index, homes, service: str, p: int, site_capacity: float, *,
                      threshold_m: float, candidates: object = None,
                      method: str = "auto", node_limit: int = NODE_LIMIT) -> CapacitySiting:
    """Place ``p`` new facilities of ``site_capacity`` places where they close most of the
    shortfall the capacity stage found.

    ``homes`` holds ``demand_<service>`` and ``supply_<service>`` per home in the index's
    household order (:attr:`analysis.capacity.stage.Capacity.homes`)."""
    if isinstance(p, bool) or not isinstance(p, int | np.integer) or not 1 <= int(p) <= 1000:
        raise InputError("err.siting_p", p=p, max=1000)
    if method not in ("auto", "greedy", "exact"):
        raise InputError("err.siting_method", method=method)
    if not np.isfinite(site_capacity) or not 1 <= site_capacity <= 100_000:
        raise InputError("err.siting_capacity", most=100_000)
    demand_col, supply_col = capacity_column("demand", service), capacity_column("supply", service)
    if demand_col not in homes.columns or not np.isfinite(homes[demand_col]).any():
        raise InputError("err.siting_capacity_demand", service=service)
    short = np.maximum(np.nan_to_num(homes[demand_col].to_numpy(dtype=float))
                       - homes[supply_col].to_numpy(dtype=float), 0.0)
    on = index.on_network
    who = np.flatnonzero(on & (short > 1e-9))
    cands, report = make_candidates(index, candidates)
    if cands.size == 0:
        raise InputError("err.siting_no_candidates", service=service)
    cover = coverage_pairs(index, cands, who, threshold_m)
    need = short[who]
    report.update({"candidates": cands.size, "demand_points": int(who.size),
                   "pairs": int(cover.nnz)})
    chosen = greedy_capacitated(cover, need, site_capacity, int(p))
    value, _ = served(cover, need, site_capacity, chosen)
    report["greedy_served"] = round(value, 6)
    used = "greedy"
    if method == "exact" or (method == "auto" and cover.nnz <= AUTO_EXACT_PAIRS):
        exact, info = exact_capacitated(cover, need, site_capacity, int(p),
                                        node_limit=node_limit)
        e_value, _ = served(cover, need, site_capacity, exact)
        report["exact"] = info
        report["exact_served"] = round(e_value, 6)
        if e_value >= value - 1e-9:
            chosen, value, used = exact, e_value, "exact"
    places = _per_site(cover, need, site_capacity, chosen)
    arr = np.asarray(chosen, dtype=np.int64)
    sites = gpd.GeoDataFrame({"order": np.arange(1, arr.size + 1),
                              "candidate": cands.label[arr] if arr.size else [],
                              "places": places},
                             geometry=shapely.points(cands.xy[arr]) if arr.size else [],
                             crs=index.network.crs)
    before = float(short[on].sum())
    return CapacitySiting(service=service, p=int(p), site_capacity=float(site_capacity),
                          method=used, sites=sites, shortfall_before=before,
                          shortfall_after=before - value, report=report)


def _per_site(cover, need, site_capacity, chosen) -> np.ndarray:
    """Places each chosen site serves, adding sites in order (each one's increment)."""
    out, last = [], 0.0
    for k in range(len(chosen)):
        value, _ = served(cover, need, site_capacity, chosen[:k + 1])
        out.append(value - last)
        last = value
    return np.asarray(out, dtype=float)


__all__ = ["AUTO_EXACT_PAIRS", "CapacitySiting", "exact_capacitated", "greedy_capacitated",
           "served", "site_for_capacity"]
