"""Reading a facility list (an Amap or Baidu export, a planner's table or layer): each
facility's type mapped to catalogue services. Shares its column, text, repair and placing
helpers with the other upload readers (:mod:`geo.inputs`)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.catalogue import Service, load_catalogue
from geo.errors import InputError
from geo.inputs.facility_types import (DEFAULT_TYPES, check_types, facility_services,
                                       load_facility_types)
import geo.inputs.personal as personal_data
from geo.inputs.uploads import Loaded, load
from geo.inputs.layer_parts import (COORD_FIELDS, FIELDS, FREE_TEXT, KEPT_TEXT, LayerRead,
                                    finish_read, has_geometry, layer_columns, placed_frame,
                                    repair_geometries, shown_name, some_rows, table_points,
                                    text_field)
from geo.settings import InputLimits
from geo.studyarea import StudyArea


def read_facilities(path: str | Path, *, crs: str | None = None, area: StudyArea | None = None,
                    catalogue: tuple[Service, ...] | None = None,
                    limits: InputLimits = InputLimits(), layer: str | None = None,
                    types_path: str | Path = DEFAULT_TYPES,
                    keep_text: tuple[str, ...] = ()) -> LayerRead:
    """Read a facility list (an Amap or Baidu export, a planner's table or layer).

    Each facility's type (``类型``; else its name) is mapped to catalogue services through
    ``data/facility_types.csv`` (``幼儿园`` → ``kindergarten``, ``卫生服务站`` → ``health``,
    ``九年一贯制学校`` → both school services). Facilities whose type is unknown are
    listed in ``unknown_types`` and the warnings, and left out.

    Parameters are as for :func:`read_households`; ``catalogue`` is the service
    catalogue (the bundled one by default).

    Returns
    -------
    LayerRead
        ``frame``: points with ``facility_id`` (``U…``), ``service``, ``name``,
        ``source`` (``'user'``), ``type`` (as written in the file), and ``address``
        only when ``keep_text`` holds it.
    """
    path = Path(path)
    shown = shown_name(path)
    catalogue = catalogue or load_catalogue()
    types = load_facility_types(types_path)
    check_types(types, catalogue, Path(types_path))
    loaded = load(path, role="facilities", fields=FIELDS["facilities"], limits=limits, layer=layer)
    columns = layer_columns(loaded, role="facilities", privacy=True, shown=shown, keep=keep_text)
    colmap = columns.column_map
    notes: list[tuple[str, dict]] = []
    if loaded.is_table and not any(f in colmap for f in COORD_FIELDS):
        raise InputError("err.table_no_coords", path=shown, columns=personal_data.column_list(loaded.attrs.columns))
    if not any(f in colmap for f in ("type", "service", "name")):
        raise InputError("err.facility_no_type", path=shown, columns=personal_data.column_list(loaded.attrs.columns))
    geoms = table_points(loaded, colmap, shown=shown) if loaded.is_table else loaded.geoms
    geoms, repaired = repair_geometries(np.asarray(geoms, dtype=object), polygons=False)
    repaired += loaded.repaired
    if repaired and not loaded.is_table:
        notes.append(("note.input_repaired", {"path": shown, "count": repaired}))
    text = {f: text_field(loaded, colmap, f, privacy=True, shown=shown,
                          notes=notes if f not in FREE_TEXT["facilities"] or f in keep_text else [])
            for f in KEPT_TEXT["facilities"]}
    given = text_field(loaded, colmap, "service", privacy=True, shown=shown, notes=[])
    capacity = {f: _capacity_cells(loaded, colmap, f, shown=shown) for f in ("capacity", "classes")}

    services: list[tuple[str, ...] | None] = []
    from_names, unknown = 0, {}
    for k in range(len(loaded.attrs)):
        found = None
        for source in (given[k], text["type"][k]):
            found = facility_services(source, catalogue, types=types) if source else None
            if found is not None:
                break
        if found is None and text["name"][k]:
            found = facility_services(text["name"][k], catalogue, types=types)
            from_names += found is not None and bool(found)
        if not found:
            label = text["type"][k] or given[k] or text["name"][k] or "—"
            unknown[label] = unknown.get(label, 0) + 1
        services.append(found or None)
    known = np.array([s is not None for s in services], dtype=bool)
    if from_names:
        notes.append(("note.input_types_from_names", {"path": shown, "count": from_names}))
    if unknown:
        listed = "、".join(f"{personal_data.scrub_text(str(name))[0][:30]} ({n})" for name, n in
                          sorted(unknown.items(), key=lambda kv: -kv[1])[:15])
        notes.append(("note.input_unknown_types", {"path": shown, "count": int((~known).sum()),
                                                   "types": listed}))
    if not known.any():
        raise InputError("err.facility_none_known", path=shown,
                         examples="、".join(personal_data.scrub_text(str(u))[0][:30]
                                       for u in list(unknown)[:5]),
                         choices=", ".join(s.key for s in catalogue))
    has_geom = has_geometry(geoms)
    usable = known & has_geom
    lost = known & ~has_geom
    if lost.any():
        key = "note.input_rows_unplaced" if loaded.is_table else "note.input_empty_geometry"
        notes.append((key, {"path": shown, "count": int(lost.sum()),
                            "rows": some_rows(loaded.rows[lost])}))
    if not usable.any():
        raise InputError("err.layer_empty", path=shown)
    placed = placed_frame(loaded, geoms, usable, crs=crs, hint=columns.crs_hint, area=area,
                          shown=shown, limits=limits)
    notes += placed.notes
    pos = placed.frame["_pos"].to_numpy()
    points = placed.frame.geometry.to_numpy()
    polygonal = shapely.get_type_id(points) != 0
    if polygonal.any():
        notes.append(("note.input_to_points", {"path": shown, "count": int(polygonal.sum())}))
        points = shapely.point_on_surface(points)
    ids = _facility_ids(loaded, colmap, pos, notes=notes, shown=shown)
    records = []
    for p, point, base in zip(pos, points, ids):
        keys = services[p]
        for service in keys:
            records.append({"facility_id": base if len(keys) == 1 else f"{base}-{service}",
                            "service": service, "name": text["name"][p] or "", "source": "user",
                            "type": text["type"][p], "address": text["address"][p],
                            "capacity": capacity["capacity"][p], "classes": capacity["classes"][p],
                            "capacity_source": "given" if np.isfinite(capacity["capacity"][p])
                            else None, "geometry": point})
    frame = gpd.GeoDataFrame(pd.DataFrame(records, columns=[
        "facility_id", "service", "name", "source", "type", "address", "capacity", "classes",
        "capacity_source", "geometry"]),
        geometry="geometry", crs=area.crs if area is not None else "EPSG:4326")
    frame = personal_data.drop_free_text(frame, FREE_TEXT["facilities"], keep=keep_text,
                                         colmap=colmap, notes=notes, shown=shown)
    return finish_read(frame, loaded=loaded, columns=columns, shown=shown, notes=notes,
                       repaired=repaired, placed=placed, unknown_types=unknown)


#: The most places, beds or classes one facility may have (more is a typing error).
MAX_CAPACITY = 100_000
MAX_CLASSES = 1_000


def _capacity_cells(loaded: Loaded, colmap: dict, field: str, *, shown: str) -> np.ndarray:
    """A facility list's capacity (学位/床位/…) or class count per row: whole numbers ≥ 0,
    NaN where empty or absent. A cell that is not a number, negative, fractional or absurd
    is refused naming its row only (a cell's text is never quoted)."""
    col = colmap.get(field)
    n = len(loaded.attrs)
    if col is None:
        return np.full(n, np.nan)
    raw = loaded.attrs[col]
    text = raw.astype(str).str.strip().str.replace(",", "", regex=False).mask(raw.isna(), "")
    text = text.str.replace(r"\s*(个|张|座|人|床|班|places|beds)$", "", regex=True)
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)
    top = MAX_CAPACITY if field == "capacity" else MAX_CLASSES
    with np.errstate(invalid="ignore"):
        bad = (text != "").to_numpy() & (~np.isfinite(values) | (values < 0)
                                         | (values != np.round(values)) | (values > top))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(f"err.facility_bad_{field}", path=shown, row=int(loaded.rows[k]),
                         most=top)
    return values


_SAFE_ID = re.compile(r"^[\w.-]{1,40}$")


def _facility_ids(loaded: Loaded, colmap: dict, pos: np.ndarray, *, notes: list,
                  shown: str) -> list[str]:
    """``U`` + the file's own ids when they are short, unique and plain; else numbers."""
    col = colmap.get("id")
    if col is not None:
        raw = [str(v).strip() for v in loaded.attrs[col].to_numpy()[pos]]
        if all(_SAFE_ID.match(v) for v in raw) and len(set(raw)) == len(raw):
            return [f"U{v}" for v in raw]
        notes.append(("note.input_duplicate_ids", {"path": shown}))
    return [f"U{k + 1:05d}" for k in range(len(pos))]
