"""Uploaded polygons planners hold: building footprints (with storeys) and compound outlines.

* :func:`read_buildings`: footprints with storeys (层数/楼层/floors/``building:levels``) or a
  height, optional use (用途: only residential ones hold households), households (户数) and
  name. :func:`with_buildings` puts them into a study area: within their extent (the
  convex hull of the footprints) they replace OpenStreetMap's buildings; elsewhere OSM's
  stay. Households per building are footprint × storeys ÷ dwelling size (the household
  model, :mod:`geo.households`) unless the file gives 户数 (:func:`given_counts`).
* :func:`read_compounds`: compound (小区) outlines with names; they replace OSM's compounds
  within their extent and are walls with gates (:mod:`geo.walls`).

Both are read like every other upload (GeoPackage, GeoJSON, zipped Shapefile; WGS84,
GCJ-02, BD-09, CGCS2000 or EPSG codes; the same repairs, messages and privacy rules as
the household register: only the needed columns are kept, personal content is blanked).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
import geo.inputs.columns as cols
from geo.inputs.layer_parts import (FIELDS, LayerRead, finish_read, layer_columns, parse_numbers,
                                    placed_frame, repair_geometries, shown_name, text_field)
from geo.inputs.register_names import AGE_GROUPS, group_counts
from geo.settings import InputLimits
from geo.inputs.uploads import load
from geo.studyarea import StudyArea

BUILDING_FIELDS = FIELDS["buildings"]
COMPOUND_FIELDS = FIELDS["compounds"]
#: Words in a use (用途) cell that mean homes; anything else holds no households.
RESIDENTIAL_WORDS = ("住宅", "居住", "住房", "公寓", "宿舍", "民居", "居民", "商住",
                     "residential", "apartment", "apartments", "house", "housing",
                     "dormitory", "terrace", "detached")
#: Storey height used to turn a height into storeys (as for OSM ``height``).
METRES_PER_STOREY = 3.0


def is_residential(use: object) -> bool:
    """Whether a use (用途) cell names homes. The one rule for uploaded buildings (the
    household model's own rule applies to OSM tags)."""
    text = str(use or "").strip().lower()
    return any(word in text for word in RESIDENTIAL_WORDS)


def _polygons(path: Path, *, role: str, fields: tuple[str, ...], crs, area, limits, layer):
    shown = shown_name(path)
    loaded = load(path, role=role, fields=fields, limits=limits, layer=layer)
    if loaded.is_table:
        raise InputError("err.upload_not_polygons", path=shown, kinds="table")
    columns = layer_columns(loaded, role=role, privacy=True, shown=shown)
    notes: list[tuple[str, dict]] = []
    geoms, repaired = repair_geometries(np.asarray(loaded.geoms, dtype=object), polygons=True)
    repaired += loaded.repaired
    if repaired:
        notes.append(("note.input_repaired", {"path": shown, "count": repaired}))
    polygonal = np.array([g is not None and not g.is_empty and
                          g.geom_type in ("Polygon", "MultiPolygon") for g in geoms], dtype=bool)
    if not polygonal.any():
        kinds = sorted({g.geom_type if g is not None else "None" for g in geoms})
        raise InputError("err.upload_not_polygons", path=shown, kinds="、".join(kinds))
    if (~polygonal).any():
        notes.append(("note.upload_not_polygons", {"path": shown,
                                                    "count": int((~polygonal).sum())}))
    placed = placed_frame(loaded, geoms, polygonal, crs=crs, hint=None, area=area, shown=shown,
                          limits=limits)
    notes += placed.notes
    polys, _ = repair_geometries(placed.frame.geometry.to_numpy().astype(object), polygons=True)
    return shown, loaded, columns, notes, repaired, placed, placed.frame["_pos"].to_numpy(), polys


def read_buildings(path: str | Path, *, crs: str | None = None, area: StudyArea | None = None,
                   limits: InputLimits = InputLimits(), layer: str | None = None) -> LayerRead:
    """Read building footprints.

    Returns
    -------
    LayerRead
        ``frame``: ``building_id``, ``building`` (``residential`` or the use given),
        ``levels`` (storeys, NaN if unknown), ``height_m``, ``households`` (given 户数,
        NaN where not given), ``name``, and the age-group counts the file gives
        (``elderly_60plus``, ``children_0_6``: persons, never ages); polygons in
        ``area.crs`` (else WGS84).
    """
    shown, loaded, columns, notes, repaired, placed, pos, polys = _polygons(
        Path(path), role="buildings", fields=BUILDING_FIELDS, crs=crs, area=area,
        limits=limits, layer=layer)
    colmap = columns.column_map
    n = len(loaded.attrs)

    def numbers(field: str, parse, error: str) -> np.ndarray:
        if field not in colmap:
            return np.full(n, np.nan)
        return parse_numbers(loaded, colmap[field], parse, error=error, shown=shown)

    levels = numbers("storeys", _storeys, "err.buildings_bad_storeys")[pos]
    height = numbers("height", _storeys, "err.buildings_bad_storeys")[pos]
    given = numbers("households", cols.parse_count, "err.table_bad_households")[pos]
    with np.errstate(invalid="ignore"):
        bad = (levels <= 0) | (levels > 200) | (height <= 0) | (height > 1000) | (given < 0)
    levels[bad & np.isfinite(levels)] = np.nan
    if "use" in colmap:
        use = text_field(loaded, colmap, "use", privacy=True, shown=shown, notes=notes)[pos]
        kind = np.array(["residential" if is_residential(u) else (u or "yes") for u in use],
                        dtype=object)
    else:  # a survey of homes: without a use column every footprint holds households
        kind = np.full(pos.size, "residential", dtype=object)
        notes.append(("note.buildings_no_use", {"path": shown}))
    name_field = "name" if "name" in colmap else "building"
    names = text_field(loaded, colmap, name_field, privacy=True, shown=shown, notes=notes)[pos]
    if not (np.isfinite(levels) | np.isfinite(height) | np.isfinite(given)).any():
        notes.append(("note.buildings_no_storeys", {"path": shown}))
    frame = gpd.GeoDataFrame({
        "building_id": [f"upload/{k + 1}" for k in range(pos.size)],
        "building": kind, "levels": levels, "height_m": height, "households": given,
        "name": names, "source": "upload",
        **{g: v[pos] for g, v in group_counts(loaded, colmap, shown=shown).items()},
    }, geometry=list(polys), crs=area.crs if area is not None else "EPSG:4326")
    return finish_read(frame, loaded=loaded, columns=columns, notes=notes, repaired=repaired,
                       placed=placed, shown=shown)


def _storeys(value: object) -> float | None:
    """``'6'``, ``'6层'``, ``'18F'``, ``'45 m'`` → a number; ``None`` if empty."""
    text = str(value).strip().lower()
    for suffix in ("层", "f", "m", "米", "floors", "floor"):
        text = text.removesuffix(suffix).strip()
    if not text:
        return None
    return float(text)


def read_compounds(path: str | Path, *, crs: str | None = None, area: StudyArea | None = None,
                   limits: InputLimits = InputLimits(), layer: str | None = None) -> LayerRead:
    """Read compound (小区) outlines with names (GCJ-02/BD-09 AOI exports accepted).

    Returns
    -------
    LayerRead
        ``frame``: ``compound_id`` (``upload/N``), ``name`` (the file's name, or the id),
        ``source = 'upload'``; polygons in ``area.crs`` (else WGS84).
    """
    shown, loaded, columns, notes, repaired, placed, pos, polys = _polygons(
        Path(path), role="compounds", fields=COMPOUND_FIELDS, crs=crs, area=area,
        limits=limits, layer=layer)
    colmap = columns.column_map
    field = "compound" if "compound" in colmap else "name"
    names = text_field(loaded, colmap, field, privacy=True, shown=shown, notes=notes)[pos]
    ids = [f"upload/{k + 1}" for k in range(pos.size)]
    frame = gpd.GeoDataFrame({"compound_id": ids,
                              "name": [n if n else i for n, i in zip(names, ids)],
                              "source": "upload"},
                             geometry=list(polys), crs=area.crs if area is not None else "EPSG:4326")
    return finish_read(frame, loaded=loaded, columns=columns, notes=notes, repaired=repaired,
                       placed=placed, shown=shown)


# --------------------------------------------------------------------------- into the area
def _replace_within(osm: gpd.GeoDataFrame, upload: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """OSM rows outside the upload's extent (convex hull), then the upload."""
    coords = shapely.get_coordinates(upload.to_crs(osm.crs).geometry.to_numpy())
    hull = shapely.convex_hull(shapely.multipoints(coords))  # no union: cheap for 100k
    keep = osm
    if len(osm):
        points = osm.geometry.representative_point()
        keep = osm[~shapely.intersects(hull, points.to_numpy())]
    frame = gpd.pd.concat([keep, upload.to_crs(osm.crs)], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=osm.crs)


def with_buildings(area: StudyArea, buildings: gpd.GeoDataFrame) -> StudyArea:
    """The area with uploaded footprints replacing OSM's within their extent."""
    if buildings is None or len(buildings) == 0:
        return area
    return dataclasses.replace(area, buildings=_replace_within(area.buildings, buildings))


def with_compounds(area: StudyArea, compounds: gpd.GeoDataFrame) -> StudyArea:
    """The area with uploaded compound outlines replacing OSM's within their extent."""
    if compounds is None or len(compounds) == 0:
        return area
    return dataclasses.replace(area, compounds=_replace_within(area.compounds, compounds))


def given_counts(households: gpd.GeoDataFrame, buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Household units of uploaded buildings: 户数 where the file gives it, else the
    model's estimate; ``hh_source`` ``buildings`` for every unit of an uploaded footprint."""
    if buildings is None or len(buildings) == 0 or "building_id" not in households.columns:
        return households
    given = buildings.set_index("building_id")["households"]
    out = households.copy()
    bid = out["building_id"]
    mine = bid.isin(given.index).to_numpy()
    counts = bid[mine].map(given).to_numpy(dtype=float)
    known = np.isfinite(counts)
    rows = np.flatnonzero(mine)
    out.loc[out.index[rows[known]], "households"] = counts[known].astype(np.int64)
    out.loc[out.index[rows], "hh_source"] = "buildings"
    for group in AGE_GROUPS:  # persons per age group, on the building's unit
        if group in buildings.columns:
            persons = bid.map(buildings.set_index("building_id")[group])
            out[group] = pd.to_numeric(persons, errors="coerce").fillna(0).astype(np.int64)
    return out
