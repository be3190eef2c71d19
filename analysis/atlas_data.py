"""What each page of the grid atlas says, computed once for every grid: households and
buildings by compound, facilities inside, the nearest facility of each service with the
walking minutes of the grid's homes, the grid's gaps, and its A/B workers.

All from the project's own layers (metric CRS in memory); no drawing here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.vocabulary import minutes_column

MAX_COMPOUNDS = 8


@dataclass
class ServiceLine:
    service: str
    nearest: str  # the nearest facility's name ("" when it has none)
    nearest_m: float  # straight line from the grid's centre, metres (nan: no facility)
    median_min: float  # households' median walking minutes (nan: none reachable)
    max_min: float
    share: float  # households within the service's threshold (nan: unknown)
    inside: int  # facilities of this service inside the grid


@dataclass
class GridFacts:
    grid_id: str
    households: int
    buildings: int
    compounds: list[tuple[str, int, int]] = field(default_factory=list)  # name, bldgs, hh
    services: list[ServiceLine] = field(default_factory=list)
    facilities_inside: list[tuple[str, str]] = field(default_factory=list)  # service, name
    gaps: list[tuple[str, int, float]] = field(default_factory=list)  # service, hh, minutes
    workers: dict[str, tuple[str, str]] = field(default_factory=dict)  # post → (name, phone)
    backup_of: str = ""  # the grid whose B post this grid's A worker holds


def _compound_names(layers: dict) -> dict[str, str]:
    names: dict[str, str] = {}
    for layer in ("compound_walls", "compounds"):
        frame = layers.get(layer)
        if isinstance(frame, pd.DataFrame) and {"compound_id", "name"} <= set(frame.columns):
            for cid, name in zip(frame["compound_id"].astype(str), frame["name"]):
                if isinstance(name, str) and name.strip():
                    names.setdefault(cid, name.strip())
    return names


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    ok = np.isfinite(values) & (weights > 0)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    return float(v[order][np.searchsorted(cum, cum[-1] / 2)])


def grid_facts(layers: dict, services: list[str], thresholds: dict[str, float],
               *, other_label: str = "", unnamed_label: str = "") -> dict[str, GridFacts]:
    """Facts of every grid, by grid id."""
    grids = layers["grids"]
    hh = layers["households"]
    ids = grids["grid_id"].astype(str).to_numpy()
    facts = {g: GridFacts(g, 0, 0) for g in ids}
    weights = pd.to_numeric(hh["households"], errors="coerce").fillna(0).to_numpy()
    gid = hh["grid_id"].astype(str).to_numpy() if "grid_id" in hh else np.full(len(hh), "")
    comp_names = _compound_names(layers)
    frame = pd.DataFrame({"grid": gid, "hh": weights,
                          "building": hh["building_id"].astype(str).where(hh["building_id"].notna(), None)
                          if "building_id" in hh else None,
                          "compound": hh["compound_id"].astype(str).where(hh["compound_id"].notna(), None)
                          if "compound_id" in hh else None})
    frame = frame[frame["grid"].isin(facts)]
    for g, part in frame.groupby("grid", sort=False):
        f = facts[g]
        f.households = int(part["hh"].sum())
        f.buildings = int(part["building"].dropna().nunique())
        comp = part.assign(compound=part["compound"].fillna("")).groupby("compound", sort=False) \
            .agg(b=("building", "nunique"), h=("hh", "sum")).sort_values("h", ascending=False,
                                                                         kind="stable")
        rows = [(comp_names.get(c, unnamed_label or c) if c else other_label, int(r.b), int(r.h))
                for c, r in comp.iterrows()]
        if len(rows) > MAX_COMPOUNDS:
            rest = rows[MAX_COMPOUNDS - 1:]
            rows = rows[:MAX_COMPOUNDS - 1] + [("…", sum(r[1] for r in rest), sum(r[2] for r in rest))]
        f.compounds = rows
    _services(facts, layers, grids, frame.index, hh, weights, gid, services, thresholds)
    _gaps(facts, layers, thresholds, services)
    _workers(facts, layers.get("workers"))
    return facts


def _services(facts, layers, grids, rows, hh, weights, gid, services, thresholds) -> None:
    fac = layers.get("facilities")
    geoms = grids.geometry.to_numpy()
    ids = grids["grid_id"].astype(str).to_numpy()
    centres = shapely.points(shapely.get_coordinates(grids.geometry.representative_point().to_numpy()))
    inside: dict[tuple[str, str], list[str]] = {}
    trees = {}
    if isinstance(fac, gpd.GeoDataFrame) and len(fac):
        names = fac["name"].fillna("").astype(str).to_numpy() if "name" in fac else np.full(len(fac), "")
        svc = fac["service"].astype(str).to_numpy()
        fg = fac.geometry.to_numpy()
        pi, gi = shapely.STRtree(geoms).query(fg, predicate="within")
        for p, g in zip(pi, gi):
            inside.setdefault((ids[g], svc[p]), []).append(names[p])
            facts[ids[g]].facilities_inside.append((svc[p], names[p]))
        for s in services:
            sel = np.flatnonzero(svc == s)
            if len(sel):
                trees[s] = (shapely.STRtree(fg[sel]), sel, names)
    by_grid = pd.Series(np.arange(len(hh)))[np.isin(gid, ids)].groupby(gid[np.isin(gid, ids)]).apply(list) \
        if len(hh) else pd.Series(dtype=object)
    for s in services:
        col = minutes_column(s)
        minutes = pd.to_numeric(hh[col], errors="coerce").to_numpy(dtype=float) if col in hh \
            else np.full(len(hh), np.nan)
        near = np.full(len(ids), -1)
        dist = np.full(len(ids), np.nan)
        if s in trees:
            tree, sel, names = trees[s]
            (ci, fi), d = tree.query_nearest(centres, return_distance=True, all_matches=False)
            near[ci], dist[ci] = sel[fi], d
        thr = float(thresholds.get(s, np.nan))
        for k, g in enumerate(ids):
            pos = np.asarray(by_grid.get(g, []), dtype=int)
            m, w = minutes[pos], weights[pos]
            total = w.sum()
            share = float(w[np.isfinite(m) & (m <= thr)].sum() / total) if total > 0 else float("nan")
            ok = np.isfinite(m) & (w > 0)
            facts[g].services.append(ServiceLine(
                service=s, nearest=(trees[s][2][near[k]] if near[k] >= 0 else ""),
                nearest_m=float(dist[k]), median_min=_weighted_median(m, w),
                max_min=float(m[ok].max()) if ok.any() else float("nan"), share=share,
                inside=len(inside.get((g, s), []))))


def _gaps(facts, layers, thresholds, services) -> None:
    cov = layers.get("coverage")
    if not isinstance(cov, pd.DataFrame) or not len(cov):
        return
    cov = cov[cov["service"].isin(services)]
    miss = pd.to_numeric(cov["households"], errors="coerce").fillna(0) \
        - pd.to_numeric(cov["covered"], errors="coerce").fillna(0)
    for g, s, m in zip(cov["grid_id"].astype(str), cov["service"].astype(str), miss):
        if g in facts and m > 0:
            facts[g].gaps.append((s, int(m), float(thresholds.get(s, np.nan))))
    for f in facts.values():
        f.gaps.sort(key=lambda x: -x[1])


def _workers(facts, workers) -> None:
    if not isinstance(workers, pd.DataFrame) or not len(workers):
        return
    own = {}
    for wid, name, phone, g, post in zip(workers["worker_id"], workers["name"], workers["phone"],
                                         workers["grid_id"], workers["post"]):
        if isinstance(g, str) and g in facts and post in ("A", "B"):
            facts[g].workers[post] = (str(name or ""), str(phone or ""))
            if post == "A":
                own[wid] = g
    for wid, g, post in zip(workers["worker_id"], workers["grid_id"], workers["post"]):
        if post == "B" and wid in own and isinstance(g, str):
            facts[own[wid]].backup_of = g


__all__ = ["GridFacts", "ServiceLine", "grid_facts"]
