"""Where the households are: one point per unit (building, compound point or register row)
with a household count and the source of that count (``hh_source``).

In order of trust (DESIGN.md): a register the user gives; residential building footprints
(floor area ÷ dwelling size); residential compounds without enough footprints (area ×
floor-area ratio ÷ dwelling size, spread over points inside the compound so that grids can
be cut inside it). Chinese OpenStreetMap data is mostly the last case.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.households.building_use import (DORMITORY_NAME, HOME_BUILDINGS, building_reasons,
                                         left_out_summary)
from geo.crs import require_projected
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea

#: ``building`` values that are homes wherever they stand (dormitories only when
#: :attr:`HouseholdSettings.include_dormitories` is set; see :mod:`geo.households.building_use`).
RESIDENTIAL_BUILDINGS = HOME_BUILDINGS
HOUSEHOLD_COLUMNS = ("unit_id", "households", "hh_source", "building_id", "compound_id",
                     "floor_area_m2", "geometry")
SOURCES = ("register", "footprint", "compound", "synthetic")


def split_evenly(total: int, n: int) -> np.ndarray:
    """Split a whole number into ``n`` whole parts differing by at most one."""
    base, extra = divmod(int(total), int(n))
    parts = np.full(n, base, dtype=np.int64)
    parts[:extra] += 1
    return parts


def lattice_points(polygon: shapely.Geometry, spacing_m: float) -> np.ndarray:
    """Points on a square lattice inside ``polygon`` (its representative point if none)."""
    x0, y0, x1, y1 = polygon.bounds
    xs = np.arange(x0 + spacing_m / 2, x1, spacing_m)
    ys = np.arange(y0 + spacing_m / 2, y1, spacing_m)
    if xs.size and ys.size:
        gx, gy = np.meshgrid(xs, ys)
        gx, gy = gx.ravel(), gy.ravel()
        inside = shapely.contains_xy(polygon, gx, gy)
        if inside.any():
            return np.column_stack([gx[inside], gy[inside]])
    point = polygon.representative_point()
    return np.array([[point.x, point.y]])


def building_levels(buildings: gpd.GeoDataFrame, settings: HouseholdSettings) -> np.ndarray:
    """Storeys from ``levels``, else ``height_m`` ÷ storey height, else the default."""
    levels = buildings["levels"].to_numpy(dtype=float)
    from_height = np.round(buildings["height_m"].to_numpy(dtype=float) / settings.metres_per_level)
    out = np.where(np.isfinite(levels) & (levels > 0), levels,
                   np.where(np.isfinite(from_height) & (from_height > 0), from_height,
                            settings.default_levels))
    return out


def _disjoint_compounds(compounds: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Remove from each compound the parts covered by smaller compounds (nested 小区)."""
    if len(compounds) < 2:
        return compounds
    out = compounds.assign(_area=compounds.area).sort_values("_area", kind="stable").reset_index(drop=True)
    pairs = out.sindex.query(out.geometry, predicate="intersects")
    geoms = out.geometry.to_numpy().copy()
    for i, j in zip(*pairs):
        if j < i:  # j is smaller (sorted by area)
            geoms[i] = shapely.difference(geoms[i], out.geometry.iloc[j])
    out = out.set_geometry(gpd.GeoSeries(geoms, crs=out.crs)).drop(columns="_area")
    return out[~out.geometry.is_empty]


def estimate_households(area: StudyArea, settings: HouseholdSettings = HouseholdSettings(), *,
                        register: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Household units of the study area, each with its count and its source.

    Parameters
    ----------
    area
        The study area (projected).
    settings
        Dwelling size, default storeys, compound floor-area ratio, ...
    register
        Register points (projected, with a ``households`` column); when given, they
        replace every estimate.

    Returns
    -------
    GeoDataFrame
        Points with ``unit_id``, ``households`` (int ≥ 0), ``hh_source``,
        ``building_id``, ``compound_id``, ``floor_area_m2``.
    """
    if register is not None:
        require_projected(register, what="household register")
        out = register.copy()
        out["hh_source"] = "register"
        if "unit_id" not in out.columns:
            out["unit_id"] = [f"R{k:06d}" for k in range(len(out))]
        for col in ("building_id", "compound_id"):
            if col not in out.columns:
                out[col] = None
        out["floor_area_m2"] = np.nan
        out["households"] = out["households"].astype(np.int64)
        out = out.set_geometry(out.geometry.representative_point())
        return _finish(out, area.crs)
    if area.households is not None:
        out = area.households.copy()
        if "floor_area_m2" not in out.columns:
            out["floor_area_m2"] = np.nan
        return _finish(out, area.crs)

    b, compounds, sparse = _classified(area, settings)
    b = b[b["reason"].isna()]
    b = b[~b["compound_id"].isin(sparse)]

    units = [gpd.GeoDataFrame({
        "unit_id": b["building_id"].astype(str).to_numpy(),
        "households": b["households_if_homes"].to_numpy(),
        "hh_source": "footprint",
        "building_id": b["building_id"].to_numpy(),
        "compound_id": b["compound_id"].to_numpy(),
        "floor_area_m2": b["floor_area_m2"].to_numpy(),
    }, geometry=b.geometry.representative_point().to_numpy(), crs=area.crs)]

    rows = []
    for compound_id, polygon in zip(compounds["compound_id"], compounds.geometry):
        if compound_id not in sparse:
            continue
        total = int(round(polygon.area * settings.compound_households_per_m2))
        xy = lattice_points(polygon, settings.compound_point_spacing_m)
        counts = split_evenly(total, len(xy))
        floor = polygon.area * settings.compound_far / len(xy)
        for k, ((x, y), count) in enumerate(zip(xy, counts)):
            rows.append((f"{compound_id}#{k + 1}", int(count), compound_id, floor, x, y))
    if rows:
        frame = pd.DataFrame(rows, columns=["unit_id", "households", "compound_id",
                                            "floor_area_m2", "x", "y"])
        units.append(gpd.GeoDataFrame({
            "unit_id": frame["unit_id"], "households": frame["households"].astype(np.int64),
            "hh_source": "compound", "building_id": None, "compound_id": frame["compound_id"],
            "floor_area_m2": frame["floor_area_m2"],
        }, geometry=shapely.points(frame[["x", "y"]].to_numpy()), crs=area.crs))
    out = pd.concat(units, ignore_index=True)
    out = out[out["households"] > 0]
    return _finish(gpd.GeoDataFrame(out, geometry="geometry", crs=area.crs), area.crs)


def _classified(area: StudyArea, settings: HouseholdSettings
                ) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, set]:
    """Buildings above the size limit with their compound, floor area, households if they
    were homes, and ``reason`` (why they hold none; None for homes); the disjoint
    compounds; and the compounds too sparsely mapped to count by footprints."""
    require_projected(area.buildings, what="buildings")
    compounds = _disjoint_compounds(_with_columns(area.compounds, ("compound_id", "name")))
    extra = tuple(c for c in ("use", "name") if c in area.buildings.columns)
    b = _with_columns(area.buildings, ("building_id", "building", "levels", "height_m") + extra)
    b["footprint_m2"] = b.area
    b = b[b["footprint_m2"] >= settings.min_building_m2]
    b["compound_id"] = None
    if len(compounds) and len(b):
        centroids = gpd.GeoDataFrame(geometry=b.geometry.representative_point(), crs=b.crs)
        hit = centroids.sjoin(compounds[["compound_id", "geometry"]], predicate="within", how="left")
        hit = hit[~hit.index.duplicated(keep="first")]
        b["compound_id"] = hit["compound_id"].reindex(b.index).to_numpy()
    b["reason"] = building_reasons(b, in_compound=b["compound_id"].notna().to_numpy(),
                                   sites=getattr(area, "sites", None),
                                   include_dormitories=settings.include_dormitories)
    b["floor_area_m2"] = b["footprint_m2"] * building_levels(b, settings)
    b["households_if_homes"] = np.round(b["floor_area_m2"] / settings.dwelling_m2).astype(np.int64)

    # compounds whose footprints are too sparse are estimated from their area instead;
    # homes and dormitories count towards the share (a compound of dormitories is mapped,
    # not empty; one with only a kindergarten and shops mapped is not)
    # (nor do named buildings of another use change it: they are mapped buildings, and a
    # compound does not turn to the area estimate because its canteen holds no homes)
    mapped = b["reason"].isna() | b["reason"].isin(("dormitory", "named"))
    covered = b[mapped].groupby("compound_id")["footprint_m2"].sum()
    compound_area = compounds.set_index("compound_id").area
    share = (covered.reindex(compound_area.index).fillna(0) / compound_area).fillna(0)
    sparse = set(share.index[share < settings.min_footprint_share])
    if not settings.include_dormitories:  # a student-dormitory compound holds no households
        sparse -= dormitory_compounds(compounds)
    return b, compounds, sparse


def dormitory_compounds(compounds: gpd.GeoDataFrame) -> set:
    """Ids of compounds named as student dormitories (学生公寓, 学生宿舍, ...)."""
    if not len(compounds) or "name" not in compounds.columns:
        return set()
    named = compounds["name"].map(lambda v: isinstance(v, str) and bool(DORMITORY_NAME.search(v)))
    return set(compounds.loc[named.astype(bool).to_numpy(), "compound_id"])


def left_out(area: StudyArea, settings: HouseholdSettings = HouseholdSettings()) -> dict:
    """Buildings that hold no households by reason: ``{reason: {"buildings": n,
    "households_if_homes": h}}`` (what their floor area would hold), for the summary and
    the report. Empty when the households came from a register or were given."""
    if area.households is not None or area.buildings is None:
        return {}
    b, compounds, sparse = _classified(area, settings)
    b = b[b["reason"].notna() & ~b["compound_id"].isin(sparse)]
    out = left_out_summary(b["reason"], b, b["households_if_homes"].to_numpy())
    if "named" in out and "name" in b.columns:  # which, as the planner knows them
        named = b[b["reason"] == "named"].sort_values("households_if_homes", ascending=False,
                                                      kind="stable")
        out["named"]["names"] = [str(n) for n in dict.fromkeys(named["name"].dropna())][:8]
    dorms = dormitory_compounds(compounds) if not settings.include_dormitories else set()
    if dorms:
        land = compounds[compounds["compound_id"].isin(dorms)].area.sum()
        entry = out.setdefault("dormitory", {"buildings": 0, "households_if_homes": 0})
        entry["compounds"] = len(dorms)
        entry["households_if_homes"] += int(round(land * settings.compound_households_per_m2))
    return out


def _with_columns(frame: gpd.GeoDataFrame, columns: tuple[str, ...]) -> gpd.GeoDataFrame:
    """A copy of ``frame`` that has at least ``columns`` (an empty layer may have none)."""
    out = frame.copy()
    for col in columns:
        if col not in out.columns:
            out[col] = np.nan if col in ("levels", "height_m") else None
    return out[list(columns) + ["geometry"]]


def _finish(units: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    units = units.to_crs(crs) if units.crs != crs else units
    units = units.reset_index(drop=True)
    extra = [c for c in units.columns if c not in HOUSEHOLD_COLUMNS]
    return units[[c for c in HOUSEHOLD_COLUMNS if c != "geometry"] + extra + ["geometry"]]


def household_summary(units: gpd.GeoDataFrame) -> dict[str, int]:
    """Households by source, for reports: ``{source: households}``."""
    return {k: int(v) for k, v in units.groupby("hh_source")["households"].sum().items()}
