"""Coverage tables, life-circle completeness and coverage gaps, from per-household minutes.

Everything here works on a household table that already holds ``walk_min_<service>``
columns and ``on_network`` (:meth:`analysis.reach.HouseholdReach.frame` joined to the
households). Coverage is counted per household from those minutes — never by testing
points against drawn service areas.

Households whose home lies farther than the snap cap from any street are "not on the
network": they are counted in ``off_network``, not as uncovered, and shares are taken over
the households on the network.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from analysis.settings import WalkSettings
from geo.crs import require_projected
from geo.errors import InputError
from geo.vocabulary import GAP_MAX_MINUTES, GAP_MEDIAN_MINUTES, minutes_column

COVERAGE_COLUMNS = ("service", "households", "off_network", "covered", "share")


def _services(households: pd.DataFrame, settings: WalkSettings,
              services: tuple[str, ...] | None) -> tuple[str, ...]:
    services = settings.services if services is None else tuple(services)
    needed = [minutes_column(s) for s in services] + ["on_network"]
    missing = [c for c in needed if c not in households.columns]
    if missing:
        raise InputError("err.coverage_columns", columns=", ".join(missing))
    return services


def _weights(households: pd.DataFrame) -> np.ndarray:
    if "households" in households.columns:
        return households["households"].to_numpy(dtype=np.int64)
    return np.ones(len(households), dtype=np.int64)


def covered_mask(households: pd.DataFrame, settings: WalkSettings, service: str) -> np.ndarray:
    """Whether each household is on the network and within the service's threshold."""
    minutes = households[minutes_column(service)].to_numpy(dtype=float)
    on = households["on_network"].to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        return on & (minutes <= settings.threshold_min(service) + 1e-9)


def coverage_table(households: pd.DataFrame, settings: WalkSettings, *, by: str | None = None,
                   services: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Households, covered households and share per service (and per ``by`` unit).

    Parameters
    ----------
    households
        One row per household point with ``households`` (count), ``on_network`` and
        ``walk_min_<service>`` columns, plus ``by`` when given.
    settings
        Thresholds.
    by
        Column to group by (``grid_id``, ``community_id``); ``None`` for the whole area.
    services
        Service keys (default: every service of the settings).

    Returns
    -------
    DataFrame
        ``[by,] service, households, off_network, covered, share`` where ``share`` =
        covered ÷ households on the network (NaN where no household is on the network;
        0 for a service with no facility at all).
    """
    services = _services(households, settings, services)
    w = _weights(households)
    on = households["on_network"].to_numpy(dtype=bool)
    keys = (households[by].to_numpy() if by is not None else np.zeros(len(households), dtype=int))
    codes, uniques = pd.factorize(keys, use_na_sentinel=False)
    n_groups = len(uniques)
    total = np.bincount(codes, weights=w, minlength=n_groups).astype(np.int64)
    off = np.bincount(codes, weights=w * ~on, minlength=n_groups).astype(np.int64)
    frames = []
    for service in services:
        covered = np.bincount(codes, weights=w * covered_mask(households, settings, service),
                              minlength=n_groups).astype(np.int64)
        base = total - off
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(base > 0, covered / np.maximum(base, 1), np.nan)
        frame = pd.DataFrame({"service": service, "households": total, "off_network": off,
                              "covered": covered, "share": share})
        if by is not None:
            frame.insert(0, by, uniques)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
        columns=([by] if by else []) + list(COVERAGE_COLUMNS))
    return out


def coverage_tables(households: pd.DataFrame, settings: WalkSettings, *,
                    by: tuple[str, ...] = ("grid_id", "community_id"),
                    services: tuple[str, ...] | None = None) -> dict[str, pd.DataFrame]:
    """Coverage per grid, per community and for the whole area.

    Returns ``{column: table}`` for each ``by`` column present in ``households`` and
    ``"area"`` for the whole area (see :func:`coverage_table`).
    """
    out = {col: coverage_table(households, settings, by=col, services=services)
           for col in by if col in households.columns}
    out["area"] = coverage_table(households, settings, services=services)
    return out


def coverage_summary(households: pd.DataFrame, settings: WalkSettings, *,
                     services: tuple[str, ...] | None = None) -> dict[str, float]:
    """``{service: share}`` for the whole area (the summary's ``coverage``); 0 if undefined."""
    table = coverage_table(households, settings, services=services)
    return {s: float(0.0 if np.isnan(v) else v) for s, v in zip(table["service"], table["share"])}


#: Age groups a register or building layer may count (persons, never ages), and the
#: services whose coverage is also given for them: elderly care for people aged 60 and
#: over, kindergartens for children aged 0–6.
GROUP_SERVICES = {"elderly_60plus": ("elderly_care",), "children_0_6": ("kindergarten",)}


def coverage_groups(households: pd.DataFrame, settings: WalkSettings, *,
                    services: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
    """Coverage for age groups, from the same per-household minutes as :func:`coverage_table`.

    For each group column present with any persons (``elderly_60plus``, ``children_0_6``),
    ``{service: share}`` for its services (:data:`GROUP_SERVICES`) that were measured:
    persons of the group living on the network within the service's threshold ÷ persons of
    the group on the network (0 when none is on the network). Groups absent from the layer
    are left out, so the dict is empty for data without age groups.
    """
    services = _services(households, settings, services)
    on = households["on_network"].to_numpy(dtype=bool)
    out: dict[str, dict[str, float]] = {}
    for group, wanted in GROUP_SERVICES.items():
        if group not in households.columns:
            continue
        persons = pd.to_numeric(households[group], errors="coerce").fillna(0).to_numpy(float)
        if persons.sum() <= 0:
            continue
        on_total = float(persons[on].sum())
        out[group] = {s: (float(persons[covered_mask(households, settings, s)].sum() / on_total)
                          if on_total else 0.0)
                      for s in wanted if s in services}
        if not out[group]:
            del out[group]
    return out


# -------------------------------------------------------------------------------------
# life-circle completeness
# -------------------------------------------------------------------------------------
def life_circle_scores(households: pd.DataFrame, settings: WalkSettings, *,
                       services: tuple[str, ...] | None = None) -> pd.DataFrame:
    """How complete each household's 5-, 10- and 15-minute life circles are.

    The services required at level ``L`` are those whose life-circle level is at most
    ``L`` (GB 50180-2018 nests the circles: a 15-minute circle includes the 10- and
    5-minute facilities). For each level the table gives the number of required services
    within their own thresholds and the share of them; ``life_circle_score`` is the share
    at the highest level. NaN for households not on the network.

    Returns
    -------
    DataFrame
        Indexed like ``households``: ``services_ok_<L>min``, ``services_required_<L>min``,
        ``complete_<L>min`` for each level, and ``life_circle_score``.
    """
    services = _services(households, settings, services)
    on = households["on_network"].to_numpy(dtype=bool)
    ok = {s: covered_mask(households, settings, s) for s in services}
    out = {}
    last = None
    for level in settings.minutes:
        label = f"{level:g}min"
        required = [s for s in services if settings.level(s) <= level + 1e-9]
        count = np.zeros(len(households), dtype=np.int64)
        for s in required:
            count += ok[s]
        share = np.where(on, count / len(required), np.nan) if required else np.full(
            len(households), np.nan)
        out[f"services_ok_{label}"] = count
        out[f"services_required_{label}"] = len(required)
        out[f"complete_{label}"] = share
        last = share
    out["life_circle_score"] = last if last is not None else np.full(len(households), np.nan)
    return pd.DataFrame(out, index=households.index)


def life_circle_table(households: pd.DataFrame, settings: WalkSettings, *,
                      by: str | None = "grid_id",
                      services: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Household-weighted life-circle completeness per ``by`` unit (or the whole area).

    Returns
    -------
    DataFrame
        ``[by,] households, complete_<L>min`` (mean share of required services within
        threshold, weighted by households on the network), ``fully_served`` (share of
        households with every service within its threshold) and ``life_circle_score``.
    """
    scores = life_circle_scores(households, settings, services=services)
    w = _weights(households).astype(float)
    on = households["on_network"].to_numpy(dtype=bool)
    keys = households[by].to_numpy() if by is not None else np.zeros(len(households), dtype=int)
    codes, uniques = pd.factorize(keys, use_na_sentinel=False)
    n = len(uniques)
    won = w * on
    base = np.bincount(codes, weights=won, minlength=n)
    out = {"households": np.bincount(codes, weights=w, minlength=n).astype(np.int64)}
    cols = [c for c in scores.columns if c.startswith("complete_")] + ["life_circle_score"]
    for col in cols:
        values = np.nan_to_num(scores[col].to_numpy(dtype=float))
        with np.errstate(invalid="ignore", divide="ignore"):
            out[col] = np.where(base > 0, np.bincount(codes, weights=won * values, minlength=n)
                                / np.maximum(base, 1e-12), np.nan)
    full = np.nan_to_num(scores["life_circle_score"].to_numpy(dtype=float)) >= 1 - 1e-9
    with np.errstate(invalid="ignore", divide="ignore"):
        out["fully_served"] = np.where(base > 0, np.bincount(codes, weights=won * full,
                                                             minlength=n) / np.maximum(base, 1e-12),
                                       np.nan)
    frame = pd.DataFrame(out)
    if by is not None:
        frame.insert(0, by, uniques)
    return frame


# -------------------------------------------------------------------------------------
# gaps
# -------------------------------------------------------------------------------------
GAP_COLUMNS = ("service", "rank", "households", "units", "grids", "n_grids",
               GAP_MEDIAN_MINUTES, GAP_MAX_MINUTES, "unreachable_households", "geometry")


def find_gaps(households: gpd.GeoDataFrame, settings: WalkSettings, *,
              services: tuple[str, ...] | None = None, link_m: float = 120.0,
              min_households: int = 1, grid_column: str = "grid_id") -> gpd.GeoDataFrame:
    """Cluster uncovered households into gap areas, per service, ranked by households.

    Uncovered household points (on the network, beyond the threshold or unreachable)
    closer than ``link_m`` to each other fall into the same gap (single linkage, like
    DBSCAN with one point per core). A gap's polygon is the union of discs of radius
    ``link_m / 2`` around its points, so it follows the shape of the uncovered area.

    Parameters
    ----------
    households
        Points with ``households``, ``on_network``, ``walk_min_<service>`` and
        optionally ``grid_column``; projected.
    settings
        Thresholds.
    services
        Service keys (default: every service of the settings).
    link_m
        Largest distance between two uncovered points of one gap.
    min_households
        Gaps with fewer households are left out.
    grid_column
        Column naming each household's grid (listed per gap when present).

    Returns
    -------
    GeoDataFrame
        One row per gap: ``service``, ``rank`` (1 = most households, per service),
        ``households``, ``units`` (points), ``grids`` (comma-separated grid ids),
        ``n_grids``, ``walk_min_median`` / ``walk_min_max`` (walk to the nearest existing
        facility; NaN if none is reachable), ``unreachable_households``, geometry.
    """
    require_projected(households, what="households")
    services = _services(households, settings, services)
    w = _weights(households)
    on = households["on_network"].to_numpy(dtype=bool)
    xy = shapely.get_coordinates(households.geometry.representative_point().to_numpy())
    grids = None
    if grid_column in households.columns:
        column = households[grid_column]
        grids = np.where(column.notna().to_numpy(), column.astype(object).astype(str).to_numpy(),
                         "")
    rows = []
    for service in services:
        minutes = households[minutes_column(service)].to_numpy(dtype=float)
        gap = on & (w > 0) & ~covered_mask(households, settings, service)
        pos = np.flatnonzero(gap)
        if pos.size == 0:
            continue
        labels = _single_linkage(xy[pos], link_m)
        n_clusters = int(labels.max()) + 1
        hh = np.bincount(labels, weights=w[pos], minlength=n_clusters).astype(np.int64)
        units = np.bincount(labels, minlength=n_clusters)
        unreachable = np.bincount(labels, weights=w[pos] * np.isnan(minutes[pos]),
                                  minlength=n_clusters).astype(np.int64)
        order = np.argsort(labels, kind="stable")
        bounds = np.searchsorted(labels[order], np.arange(n_clusters + 1))
        shapes = _gap_shapes(xy[pos][order], labels[order], link_m)
        for k in range(n_clusters):
            if hh[k] < min_households:
                continue
            members = pos[order[bounds[k]:bounds[k + 1]]]
            m = minutes[members]
            finite = m[np.isfinite(m)]
            grid_ids = sorted(set(grids[members]) - {""}) if grids is not None else []
            rows.append({
                "service": service, "households": int(hh[k]), "units": int(units[k]),
                "grids": ",".join(grid_ids), "n_grids": len(grid_ids),
                GAP_MEDIAN_MINUTES: float(np.median(finite)) if finite.size else np.nan,
                GAP_MAX_MINUTES: float(finite.max()) if finite.size else np.nan,
                "unreachable_households": int(unreachable[k]),
                "geometry": shapes[k],
            })
    if not rows:
        return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS if c != "geometry"},
                                geometry=[], crs=households.crs)
    frame = pd.DataFrame(rows)
    frame = frame.sort_values(["service", "households"], ascending=[True, False], kind="stable")
    frame["rank"] = frame.groupby("service").cumcount() + 1
    frame = frame.reset_index(drop=True)[list(GAP_COLUMNS)]
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=households.crs)


_SHAPES: OrderedDict = OrderedDict()
_SHAPES_LOCK = threading.Lock()
_SHAPES_HELD = 32


def _gap_shapes(xy: np.ndarray, labels: np.ndarray, link_m: float) -> np.ndarray:
    """Each cluster's polygon: the union of discs of radius ``link_m / 2`` around its
    points (``xy`` ordered by ``labels``): each point's disc, united per cluster (the
    shape GEOS makes as the buffer of the cluster's multipoint, to a few 1e-8 m², in
    about half the time on large gaps). Kept for the last few point sets, so that a
    grid edit, which counts the gaps again with the same points and coverage, does not
    draw their polygons again."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (np.ascontiguousarray(xy, dtype=float), np.ascontiguousarray(labels),
                 np.float64(link_m)):
        digest.update(np.asarray(part).tobytes())
    key = digest.digest()
    with _SHAPES_LOCK:
        if key in _SHAPES:
            _SHAPES.move_to_end(key)
            return _SHAPES[key]
    discs = shapely.buffer(shapely.points(xy), link_m / 2, quad_segs=4)
    bounds = np.searchsorted(labels, np.arange(int(labels.max()) + 2))
    shapes = np.empty(bounds.size - 1, dtype=object)
    for k in range(shapes.size):
        shapes[k] = shapely.union_all(discs[bounds[k]:bounds[k + 1]])
    with _SHAPES_LOCK:
        _SHAPES[key] = shapes
        while len(_SHAPES) > _SHAPES_HELD:
            _SHAPES.popitem(last=False)
    return shapes


def _single_linkage(xy: np.ndarray, link_m: float) -> np.ndarray:
    """Cluster labels: points closer than ``link_m`` (directly or by a chain) share one."""
    n = xy.shape[0]
    if n == 1:
        return np.zeros(1, dtype=np.int64)
    pairs = cKDTree(xy).query_pairs(link_m, output_type="ndarray")
    graph = coo_array((np.ones(pairs.shape[0]), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    return labels.astype(np.int64)
