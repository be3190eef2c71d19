"""Planned gates of compounds: a points file (table with coordinates, or a layer).

Each point adds a gate on the nearest compound outline, or, with a ``status`` column
(状态) that says closed (``closed``, ``close``, ``关``, ``关闭``, ``封闭``, ``0``, ``no``),
closes the access point nearest to it. Read like every other upload (coordinates in WGS84,
GCJ-02, BD-09, CGCS2000 or an EPSG code). :func:`with_gates` puts them into the planner's
wall edits (:class:`geo.walls.WallSettings`), which keep them in WGS84.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import shapely

from geo.crs import WGS84
from geo.errors import InputError
import geo.inputs.personal as personal_data
from geo.inputs.uploads import load
from geo.inputs.layer_parts import (COORD_FIELDS, FIELDS, LayerRead, finish_read, has_geometry,
                                    layer_columns, placed_frame, repair_geometries, shown_name,
                                    table_points, text_field)
from geo.settings import InputLimits
from geo.studyarea import StudyArea

#: ``status`` cells that close an access point (anything else, or none, adds a gate).
CLOSED_WORDS = frozenset({"closed", "close", "shut", "no", "0", "false", "关", "关闭", "封闭",
                          "已关闭", "不通", "否"})


def read_gates(path: str | Path, *, crs: str | None = None, area: StudyArea | None = None,
               limits: InputLimits = InputLimits(), layer: str | None = None) -> LayerRead:
    """Read planned gates.

    Returns
    -------
    LayerRead
        ``frame``: points with ``status`` (``open`` or ``closed``), in ``area.crs``
        when an area was given, else WGS84.
    """
    import geopandas as gpd

    path = Path(path)
    shown = shown_name(path)
    loaded = load(path, role="gates", fields=FIELDS["gates"], limits=limits, layer=layer)
    columns = layer_columns(loaded, role="gates", privacy=True, shown=shown)
    colmap = columns.column_map
    notes: list[tuple[str, dict]] = []
    if loaded.is_table and not any(f in colmap for f in COORD_FIELDS):
        raise InputError("err.table_no_coords", path=shown,
                         columns=personal_data.column_list(loaded.attrs.columns))
    geoms = table_points(loaded, colmap, shown=shown) if loaded.is_table else loaded.geoms
    geoms, repaired = repair_geometries(np.asarray(geoms, dtype=object), polygons=False)
    usable = has_geometry(geoms)
    if not usable.any():
        raise InputError("err.layer_empty", path=shown)
    status = text_field(loaded, colmap, "status", privacy=True, shown=shown, notes=notes)
    placed = placed_frame(loaded, geoms, usable, crs=crs, hint=columns.crs_hint, area=area,
                          shown=shown, limits=limits)
    notes += placed.notes
    pos = placed.frame["_pos"].to_numpy()
    points = placed.frame.geometry.to_numpy()
    points = np.where(shapely.get_type_id(points) == 0, points, shapely.point_on_surface(points))
    closed = [str(status[p] or "").strip().lower() in CLOSED_WORDS for p in pos]
    frame = gpd.GeoDataFrame({"status": ["closed" if c else "open" for c in closed]},
                             geometry=list(points),
                             crs=area.crs if area is not None else "EPSG:4326")
    return finish_read(frame, loaded=loaded, columns=columns, shown=shown, notes=notes,
                       repaired=repaired, placed=placed)


def with_gates(settings, gates):
    """The wall edits ``settings`` (:class:`geo.walls.WallSettings`) with the gates of a
    :func:`read_gates` frame added (``open``) or closed (``closed``); a gate already in
    the edits is not added twice."""
    if gates is None or len(gates) == 0:
        return settings
    frame = gates.to_crs(WGS84) if gates.crs is not None else gates
    xy = shapely.get_coordinates(frame.geometry.to_numpy())
    points = [(round(float(x), 7), round(float(y), 7)) for x, y in xy]
    closed = frame["status"].to_numpy() == "closed"
    added = list(settings.added_gates)
    shut = list(settings.closed_gates)
    for point, is_closed in zip(points, closed):
        target = shut if is_closed else added
        if point not in target:
            target.append(point)
    return dataclasses.replace(settings, added_gates=tuple(added), closed_gates=tuple(shut))
