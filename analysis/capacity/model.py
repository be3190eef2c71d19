"""Enough, not only near: facility capacity against the demand that reaches it.

Pure functions on arrays (no geometry):

* :func:`decay_weights` — the distance decay of the two-step floating catchment method:
  ``none`` (Luo & Wang 2003: 1 within the catchment), ``stepped`` (the enhanced method of
  Luo & Qi 2009: 1 / 0.68 / 0.22 in three equal bands of the catchment) or ``gaussian``
  (Dai 2010; Wan, Zou & Sternberg 2012: ``(e^{-½(d/d₀)²} − e^{-½}) / (1 − e^{-½})``).
* :func:`two_step` — ``Rⱼ = Sⱼ / Σₖ Pₖ·Wₖⱼ`` and ``Aᵢ = Σⱼ Rⱼ·Wᵢⱼ``; ``Σᵢ Pᵢ·Aᵢ`` equals
  the supply of every facility that some demand reaches (a test checks it).
* :func:`nearest_free` — places assigned nearest first: each home's demand fills the
  nearest facility with free places, then the next (how a shortfall is told to a committee).
* :func:`by_area` — demand, supply reached and shortfall per grid or community.

Where the pairs come from (bounded walks from each facility) is
:mod:`analysis.capacity.pairs`; the stage that runs both on a district is
:mod:`analysis.capacity.stage`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analysis.capacity.pairs import Pairs
from geo.vocabulary import capacity_column

DECAYS = ("none", "stepped", "gaussian")
METHODS = ("2sfca", "nearest_free")
#: Weights of the enhanced method's three bands (Luo & Qi 2009, from a Gaussian).
STEP_WEIGHTS = (1.0, 0.68, 0.22)


def _exp(x: np.ndarray) -> np.ndarray:
    """``e**x`` from the C library, element by element: numpy's own ``exp`` runs other code
    on AVX-512 machines, and its last bit differs from machine to machine."""
    return np.frompyfunc(math.exp, 1, 1)(x).astype(float)


def decay_weights(walk_m: np.ndarray, limit_m: float, decay: str = "none") -> np.ndarray:
    """The weight of each walk within a catchment of ``limit_m`` metres (0 beyond it)."""
    if decay not in DECAYS:
        raise ValueError(f"decay must be one of {DECAYS}, not {decay!r}")
    d = np.asarray(walk_m, dtype=float)
    inside = d <= limit_m
    if decay == "none":
        return inside.astype(float)
    if decay == "stepped":
        # bands closed above: (0, d₀/3] → 1, (d₀/3, 2d₀/3] → 0.68, (2d₀/3, d₀] → 0.22
        band = np.ceil(d * 3 / limit_m) - 1 if limit_m > 0 else np.zeros(d.shape)
        band = np.clip(np.nan_to_num(band), 0, 2).astype(np.int64)
        return np.where(inside, np.asarray(STEP_WEIGHTS)[band], 0.0)
    floor = math.exp(-0.5)
    g = (_exp(-0.5 * (d / limit_m) ** 2) - floor) / (1.0 - floor) if limit_m > 0 else \
        np.ones(d.shape)
    return np.where(inside, g, 0.0)


def two_step(pairs: Pairs, demand: np.ndarray, supply: np.ndarray, *, limit_m: float,
             decay: str = "none") -> tuple[np.ndarray, np.ndarray]:
    """The two-step floating catchment method (Luo & Wang 2003) on given pairs.

    Parameters
    ----------
    pairs
        (facility, home, walk) within the catchment.
    demand
        ``Pᵢ`` per home (persons or places needed; ``(n_homes,)``).
    supply
        ``Sⱼ`` per facility (places; ``(n_facilities,)``; NaN counts as 0).
    limit_m
        The catchment ``d₀``.
    decay
        One of :data:`DECAYS`.

    Returns
    -------
    ratio, access
        ``Rⱼ`` per facility (0 where no demand reaches it) and ``Aᵢ`` per home (places
        per unit of demand; 0 where no facility reaches it).
    """
    demand = np.asarray(demand, dtype=float)
    supply = np.nan_to_num(np.asarray(supply, dtype=float))
    w = decay_weights(pairs.walk_m, limit_m, decay)
    load = np.bincount(pairs.facility, weights=demand[pairs.home] * w,
                       minlength=pairs.n_facilities)
    ratio = np.divide(supply, load, out=np.zeros_like(supply), where=load > 0)
    access = np.bincount(pairs.home, weights=ratio[pairs.facility] * w, minlength=pairs.n_homes)
    return ratio, access


def nearest_free(pairs: Pairs, demand: np.ndarray, supply: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Places assigned nearest first within the catchment.

    The pairs are taken from the shortest walk up (ties: home, then facility); each gives
    its home as many places as it still needs and the facility still has. Returns the
    places each home got and the places each facility gave."""
    need = np.asarray(demand, dtype=float).copy()
    free = np.nan_to_num(np.asarray(supply, dtype=float)).copy()
    got = np.zeros(pairs.n_homes)
    order = np.lexsort((pairs.facility, pairs.home, pairs.walk_m))
    for f, h in zip(pairs.facility[order].tolist(), pairs.home[order].tolist()):
        if need[h] <= 0 or free[f] <= 0:
            continue
        take = need[h] if need[h] < free[f] else free[f]
        need[h] -= take
        free[f] -= take
        got[h] += take
    given = np.nan_to_num(np.asarray(supply, dtype=float)) - free
    return got, given


def by_area(area_id: pd.Series, demand: np.ndarray, supply: np.ndarray,
            service: str) -> pd.DataFrame:
    """``demand_<service>``, ``supply_<service>`` and ``shortfall_<service>`` summed per
    area (grid or community); demand NaN (no cited need rate) leaves demand and shortfall
    NaN."""
    frame = pd.DataFrame({"area": area_id.to_numpy(), "demand": np.asarray(demand, dtype=float),
                          "supply": np.asarray(supply, dtype=float)})
    frame = frame[frame["area"].notna()]
    sums = frame.groupby("area").agg(demand=("demand", lambda s: s.sum(min_count=1)),
                                     supply=("supply", "sum"))
    sums["shortfall"] = (sums["demand"] - sums["supply"]).clip(lower=0)
    return sums.rename(columns={c: column(c, service) for c in sums.columns})


def column(kind: str, service: str) -> str:
    """The name of a capacity column (CONTRACT.md): ``demand_<service>`` and so on."""
    return capacity_column(kind, service)


__all__ = ["DECAYS", "METHODS", "STEP_WEIGHTS", "by_area", "column", "decay_weights",
           "nearest_free", "two_step"]
