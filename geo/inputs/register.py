"""Reading a household register (per building, per compound or per address point).
Shares its column, text, repair and placing helpers with the other upload readers
(:mod:`geo.inputs.layer_parts`); :mod:`geo.inputs` offers every reader."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
import geo.inputs.columns as cols
import geo.inputs.personal as personal_data
from geo.inputs.uploads import Loaded, load, subset
from geo.inputs.layer_parts import (COORD_FIELDS, FIELDS, FREE_TEXT, KEPT_TEXT, LayerRead,
                                    finish_read, has_geometry, layer_columns, parse_numbers,
                                    placed_frame, repair_geometries, safe_cell, shown_name,
                                    some_rows, table_points, text_field)
from geo.inputs.register_names import AGE_GROUPS, group_counts, place_by_name
from geo.settings import HouseholdSettings, InputLimits
from geo.studyarea import StudyArea


def read_households(path: str | Path, *, crs: str | None = None, area: StudyArea | None = None,
                    privacy: bool = True, limits: InputLimits = InputLimits(),
                    layer: str | None = None,
                    settings: HouseholdSettings = HouseholdSettings(),
                    keep_text: tuple[str, ...] = ()) -> LayerRead:
    """Read a household register: per building, per compound or per address point.

    Parameters
    ----------
    path
        CSV, XLSX, GeoJSON, GeoPackage, Shapefile or zipped Shapefile.
    crs
        The coordinate system of the file (``wgs84``, ``gcj02``, ``bd09``, ``cgcs2000``,
        ``EPSG:NNNN``); overrides the file's own. Without it, a column name such as
        ``经度(GCJ02)`` or the file's CRS is used, else WGS84 is assumed (and said).
    area
        The study area: the result is projected to ``area.crs``, checked against it, and
        rows without coordinates are placed by compound (or building) name, the
        compound's households spread evenly over points inside it.
    privacy
        Drop personal columns (names, ID numbers, phone numbers ...) and blank personal
        content in the columns that are kept. On by default.
    keep_text
        Free-text fields to keep in the layer (``'address'``, ``'name'``); by default
        only building and compound labels are kept, scrubbed of personal data.
    limits
        Size limits for uploads.
    layer
        The layer to read from a GeoPackage with several.
    settings
        Spacing of the points a compound's households are spread over.

    Returns
    -------
    LayerRead
        ``frame``: points with ``unit_id``, ``households`` (int ≥ 0), ``register_level``
        (``building``/``compound``/``address``/``point``), ``building``, ``compound``,
        ``address``, ``name``, ``compound_id`` and ``building_id`` (when placed by name).

    Raises
    ------
    InputError
        A file that cannot be used, with a message saying why and what to do.
    """
    path = Path(path)
    shown = shown_name(path)
    loaded = load(path, role="households", fields=FIELDS["households"], limits=limits, layer=layer)
    columns = layer_columns(loaded, role="households", privacy=privacy, shown=shown, keep=keep_text)
    colmap = columns.column_map
    notes: list[tuple[str, dict]] = []

    total = cols.total_rows(loaded.attrs)
    if total.any():
        notes.append(("note.input_rows_total", {"path": shown, "count": int(total.sum()),
                                                "rows": some_rows(loaded.rows[total])}))
        loaded = subset(loaded, ~total)
        if len(loaded.attrs) == 0:
            raise InputError("err.layer_empty", path=shown)

    geoms = table_points(loaded, colmap, shown=shown) if loaded.is_table else loaded.geoms
    geoms, repaired = repair_geometries(np.asarray(geoms, dtype=object), polygons=False)
    repaired += loaded.repaired
    if repaired and not loaded.is_table:
        notes.append(("note.input_repaired", {"path": shown, "count": repaired}))
    if loaded.is_table and not any(f in colmap for f in COORD_FIELDS) and area is None:
        raise InputError("err.table_no_coords", path=shown, columns=personal_data.column_list(loaded.attrs.columns))

    text = {f: text_field(loaded, colmap, f, privacy=privacy, shown=shown,
                          notes=notes if f not in FREE_TEXT["households"] or f in keep_text else [])
            for f in KEPT_TEXT["households"]}
    counted_rows = "households" not in colmap
    if counted_rows:
        if not any(f in colmap for f in ("building", "compound", "address")):
            raise InputError("err.table_no_households", path=shown,
                             columns=personal_data.column_list(loaded.attrs.columns))
        counts = np.ones(len(loaded.attrs), dtype=np.int64)
    else:
        counts = _counts(loaded, colmap["households"], shown=shown)
    groups = group_counts(loaded, colmap, shown=shown)

    has_geom = has_geometry(geoms)
    if not loaded.is_table and (~has_geom).any() and area is None:
        notes.append(("note.input_empty_geometry", {"path": shown, "count": int((~has_geom).sum()),
                                                    "rows": some_rows(loaded.rows[~has_geom])}))
    placed = None
    parts = []
    if has_geom.any():
        placed = placed_frame(loaded, geoms, has_geom, crs=crs, hint=columns.crs_hint, area=area,
                              shown=shown, limits=limits)
        notes += placed.notes
        pos = placed.frame["_pos"].to_numpy()
        points = placed.frame.geometry.to_numpy()
        polygonal = ~np.isin(shapely.get_type_id(points), [0])
        if polygonal.any():
            notes.append(("note.input_to_points", {"path": shown, "count": int(polygonal.sum())}))
            points = shapely.point_on_surface(points)
        level = np.select([_present(text["building"][pos]), _present(text["address"][pos]),
                           _present(text["compound"][pos])], ["building", "address", "compound"],
                          default="point")
        kept_personal = {} if privacy else {c: loaded.attrs[c].to_numpy()[pos]
                                            for c in columns.personal}
        parts.append(pd.DataFrame({
            "households": counts[pos], "register_level": level,
            **{f: text[f][pos] for f in KEPT_TEXT["households"]},
            "compound_id": None, "building_id": None, **{g: v[pos] for g, v in groups.items()},
            **kept_personal, "geometry": points}))
    unplaced = np.flatnonzero(~has_geom)
    if unplaced.size and area is not None:
        named, rest, named_notes = place_by_name(loaded, text, counts, unplaced, area=area,
                                                 settings=settings, shown=shown,
                                                 kept=KEPT_TEXT["households"], groups=groups)
        notes += named_notes
        if len(named):
            parts.append(named)
        unplaced = rest
    if unplaced.size and parts and (loaded.is_table or area is not None):
        notes.append(("note.input_rows_unplaced", {"path": shown, "count": int(unplaced.size),
                                                   "rows": some_rows(loaded.rows[unplaced])}))
    if not parts:
        if not any(f in colmap for f in COORD_FIELDS) and loaded.is_table and area is not None:
            # rows by number and shape only: a register's cells may hold names and phones
            shapes = "、".join(personal_data.shape_of(text["compound"][k] or text["building"][k])
                              for k in unplaced[:3] if text["compound"][k] or text["building"][k])
            raise InputError("err.households_unplaced_rows", path=shown,
                             rows=some_rows(loaded.rows[unplaced]), shapes=shapes or "—")
        raise InputError("err.layer_empty", path=shown)
    frame = pd.concat(parts, ignore_index=True)
    out_crs = area.crs if area is not None else "EPSG:4326"
    frame = gpd.GeoDataFrame(frame, geometry="geometry", crs=out_crs)
    if counted_rows:
        frame = _merge_rows(frame)
        notes.append(("note.input_counted_rows", {"path": shown,
                                                  "households": int(frame["households"].sum()),
                                                  "units": len(frame)}))
    frame.insert(0, "unit_id", [f"R{k + 1:06d}" for k in range(len(frame))])
    frame["households"] = frame["households"].astype(np.int64)
    frame = personal_data.drop_free_text(frame, FREE_TEXT["households"], keep=keep_text,
                                         colmap=colmap, notes=notes, shown=shown)
    return finish_read(frame, loaded=loaded, columns=columns, shown=shown, notes=notes,
                       repaired=repaired, placed=placed)


def _counts(loaded: Loaded, column: str, *, shown: str) -> np.ndarray:
    """Whole household counts ≥ 0; an empty or bad cell raises naming its row."""
    values = parse_numbers(loaded, column, cols.parse_count, error="err.table_bad_households",
                           shown=shown)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values)) | (values > 1e9)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError("err.table_bad_households", path=shown, row=int(loaded.rows[k]),
                         value=safe_cell(loaded.attrs[column].iloc[k]))
    return values.astype(np.int64)


def _present(values: np.ndarray) -> np.ndarray:
    return np.array([v is not None for v in values], dtype=bool)


def _merge_rows(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One unit per place: rows of a one-row-per-household register at the same point
    with the same building, compound and address are added up."""
    keys = frame[["building", "compound", "address", "register_level"]].astype(str)
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    keys = keys.assign(_x=np.round(xy[:, 0], 1), _y=np.round(xy[:, 1], 1))
    group = keys.groupby(list(keys.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(frame))).groupby(group).first().to_numpy()
    out = frame.iloc[first].copy()
    for col in ("households", *[g for g in AGE_GROUPS if g in frame.columns]):
        out[col] = pd.Series(frame[col].to_numpy()).groupby(group).sum().to_numpy()
    return out.reset_index(drop=True)
