"""Reading the files users upload: household registers, facility lists, community boundaries.

Three readers, one per kind of layer, accept the same formats — CSV (UTF-8 with or
without BOM, GBK, GB18030), XLSX, GeoJSON, GeoPackage, a Shapefile (zipped or not) — and
return a :class:`LayerRead`: the layer (projected to the study area's CRS when one is
given) and everything the user should be told about how it was read: which column was
taken for what, which personal columns were dropped, what was repaired, converted,
skipped or looks wrong.

Files are only read. Anything that must be unpacked or copied (a zipped Shapefile, a
GeoPackage, which SQLite might touch) goes into a fresh temporary folder that is removed
afterwards, so a failed import changes nothing on disk. Every problem a user can cause
raises :class:`~geo.errors.InputError` (or its subclass ``CRSError``) with a message that
says what is wrong and what to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.inputs import columns as cols
from geo.inputs import personal as personal_data
from geo.errors import InputError
from geo.i18n import both, t
from geo.inputs.coords import place
from geo.register_names import AGE_GROUPS, group_counts, place_by_name
from geo.settings import HouseholdSettings, InputLimits
from geo.studyarea import StudyArea
from geo.inputs.uploads import Loaded, load, subset

#: Fields each reader looks for, in the order they are matched.
FIELDS = {
    "households": ("x", "y", "location", "households", "building", "compound", "address",
                   "name", "id", "elderly_60plus", "children_0_6"),
    "facilities": ("x", "y", "location", "name", "type", "service", "address", "id"),
    "communities": ("community_id", "community", "name", "id"),
    # uploaded footprints and compound outlines (geo/inputs/footprints.py)
    "buildings": ("storeys", "height", "use", "households", "name", "building", "id",
                  "elderly_60plus", "children_0_6"),
    "compounds": ("compound", "name", "id"),
}
#: Text columns that may be kept in a layer (everything else is dropped on import).
KEPT_TEXT = {"households": ("building", "compound", "address", "name"),
             "facilities": ("name", "type", "address"),
             "communities": ("community", "name"),
             "buildings": ("name", "building", "use"), "compounds": ("compound", "name")}
#: Free text no model needs: read (an address still marks a register's level and joins
#: its rows) but left out of the layer unless the caller keeps it (``keep_text``).
FREE_TEXT = {"households": ("address", "name"), "facilities": ("address",), "communities": (),
             "buildings": (), "compounds": ()}
_COORD_FIELDS = ("x", "y", "location")
#: In a household register these name a resident, not a building (名称 names a thing).
PERSON_NAME_WORDS = frozenset({"name", "names", "名字"})


@dataclass(frozen=True, eq=False)
class LayerRead:
    """One uploaded layer and what the user should be told about it.

    Attributes
    ----------
    frame
        The layer, in ``area.crs`` when a study area was given, else in WGS84.
    column_map
        ``{field: column in the file}``: which column was read as what (``x``, ``y``,
        ``households``, ``building``, ``compound``, ``address``, ``name``, ``type`` ...),
        for the page to show.
    dropped_personal_columns
        Columns left out because they hold personal data (by name or by content).
    warnings
        Bilingual messages (``中文 / English``) for the command line and logs.
    repaired
        Geometries that were invalid and repaired with ``make_valid`` (or polygon rings
        that had to be closed).
    notes
        The same messages as ``(key, params)`` pairs, to show in one language
        (:meth:`messages`).
    ignored_columns
        Columns that were not used (and not kept).
    crs_name
        The coordinate system the file was read in (``'wgs84'``, ``'gcj02'``, ``'EPSG:4547'``).
    suggested_crs
        A coordinate system that fits the study area's streets much better (offered to
        the user, never applied): read the file again with ``crs=suggested_crs``.
    encoding
        The text encoding a CSV was read in.
    unknown_types
        Facility types that map to no service, with how many facilities had each.
    rows_read
        Data rows (or features) in the file.
    """

    frame: gpd.GeoDataFrame
    column_map: dict[str, str]
    dropped_personal_columns: list[str]
    warnings: list[str]
    repaired: int = 0
    notes: list[tuple[str, dict]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    crs_name: str = ""
    suggested_crs: str | None = None
    encoding: str | None = None
    unknown_types: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0

    def messages(self, lang: str = "zh") -> list[str]:
        """The notes in one language."""
        return [t(key, lang, **params) for key, params in self.notes]


# --------------------------------------------------------------------------- columns


@dataclass(eq=False)
class _Columns:
    column_map: dict[str, str]
    personal: list[str]
    ignored: list[str]
    crs_hint: tuple[str, str] | None
    notes: list[tuple[str, dict]]


def _columns(loaded: Loaded, *, role: str, privacy: bool, shown: str,
             keep: tuple[str, ...] = ()) -> _Columns:
    """Match columns to fields, find personal columns (by name, then by content)."""
    names = [str(c) for c in loaded.attrs.columns]
    match = cols.match_columns(names, FIELDS[role])
    column_map = dict(match.column_map)
    if not loaded.is_table:
        for field in _COORD_FIELDS:  # a layer's coordinates are its geometry
            column_map.pop(field, None)
    personal = list(match.personal)
    if role == "households" and "name" in column_map and \
            cols.normalise_name(column_map["name"])[0] in PERSON_NAME_WORDS:
        personal.append(column_map.pop("name"))  # "name" in a register is a resident's name
    ignored = [c for c in match.ignored if c not in personal]
    ignored += [c for f, c in match.column_map.items() if f not in column_map and c not in personal]
    notes: list[tuple[str, dict]] = []
    if privacy:
        # labels the model needs (building, compound, names, types) are scrubbed, not
        # dropped; free text and unused columns go when their content is personal
        text_fields = [f for f in column_map
                       if (f in FREE_TEXT[role] and f not in keep) or f == "id"]
        candidates = [column_map[f] for f in text_fields] + ignored
        by_content, _ = cols.personal_by_content(loaded.attrs, candidates)
        for col in by_content:
            personal.append(col)
            if col in ignored:
                ignored.remove(col)
            for f in [f for f, c in column_map.items() if c == col]:
                del column_map[f]
        if personal:
            notes.append(("note.input_personal_dropped", {"path": shown, "columns": "、".join(
                personal_data.safe_label(c) for c in personal)}))
    if ignored:
        notes.append(("note.input_ignored_columns", {"path": shown, "columns": "、".join(
            personal_data.safe_label(c) for c in ignored)}))
    hint = match.crs_hint if match.crs_hint and match.crs_hint[1] in column_map.values() else None
    return _Columns(column_map=column_map, personal=personal, ignored=ignored, crs_hint=hint,
                    notes=notes)


def _text(loaded: Loaded, colmap: dict[str, str], field: str, *, privacy: bool,
          shown: str, notes: list) -> np.ndarray:
    """A text field as an object array (``None`` where empty), personal content blanked."""
    col = colmap.get(field)
    if col is None:
        return np.full(len(loaded.attrs), None, dtype=object)
    values = loaded.attrs[col].astype(str).str.strip()
    if privacy:
        values, changed, _ = personal_data.scrub_series(values)
        if changed:
            notes.append(("note.input_personal_scrubbed", {
                "path": shown, "column": personal_data.safe_label(col), "count": changed}))
    out = np.array(values.to_numpy(dtype=object), dtype=object)  # writable copy
    out[values.to_numpy() == ""] = None
    return out


def _safe(value: object) -> str:
    """A cell described in a message by its shape only (``999.9a``): a register's cells
    may be personal, so their content is never quoted."""
    return personal_data.shape_of(value)


def _numbers(loaded: Loaded, column: str, parse, *, error: str, shown: str) -> np.ndarray:
    """Numbers from a text column: pandas for plain numbers, ``parse`` for the rest
    (``1,200户``, ``116°21′E``); NaN where empty. A cell ``parse`` cannot read raises
    ``error`` naming its row."""
    text = loaded.attrs[column].astype(str).str.strip()
    values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)  # writable copy
    slow = ~np.isfinite(values) & (text != "").to_numpy()
    raw = text.to_numpy()
    for k in np.flatnonzero(slow):
        try:
            parsed = parse(raw[k])
        except ValueError:
            raise InputError(error, path=shown, row=int(loaded.rows[k]),
                             value=_safe(raw[k])) from None
        values[k] = np.nan if parsed is None else parsed
    return values


def _table_points(loaded: Loaded, colmap: dict[str, str], *, shown: str) -> np.ndarray:
    """Points from a table's coordinate columns (``None`` where a row has none)."""
    n = len(loaded.attrs)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if "x" in colmap and "y" in colmap:
        x = _numbers(loaded, colmap["x"], cols.parse_coordinate, error="err.table_bad_coords",
                     shown=shown)
        y = _numbers(loaded, colmap["y"], cols.parse_coordinate, error="err.table_bad_coords",
                     shown=shown)
    elif "location" in colmap:
        for k, value in enumerate(loaded.attrs[colmap["location"]].to_numpy()):
            try:
                x[k], y[k] = cols.parse_location(value)
            except ValueError:
                raise InputError("err.table_bad_coords", path=shown, row=int(loaded.rows[k]),
                                 value=_safe(value)) from None
    has = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(n, None, dtype=object)
    geoms[has] = shapely.points(x[has], y[has])
    return geoms


def _counts(loaded: Loaded, column: str, *, shown: str) -> np.ndarray:
    """Whole household counts ≥ 0; an empty or bad cell raises naming its row."""
    values = _numbers(loaded, column, cols.parse_count, error="err.table_bad_households",
                      shown=shown)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values)) | (values > 1e9)
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError("err.table_bad_households", path=shown, row=int(loaded.rows[k]),
                         value=_safe(loaded.attrs[column].iloc[k]))
    return values.astype(np.int64)


def _repair(geoms: np.ndarray, *, polygons: bool) -> tuple[np.ndarray, int]:
    """``make_valid`` on invalid geometries; polygon layers keep only polygonal parts."""
    present = ~shapely.is_missing(geoms)
    out = geoms.copy()
    if not present.any():
        return out, 0
    valid = np.ones(len(geoms), dtype=bool)
    valid[present] = shapely.is_valid(geoms[present].astype(object))
    fix = present & ~valid
    if fix.any():
        out[fix] = shapely.make_valid(geoms[fix].astype(object))
    if polygons:
        for k in np.flatnonzero(present):
            g = out[k]
            if g.geom_type not in ("Polygon", "MultiPolygon"):
                parts = [p for p in shapely.get_parts(g)
                         if p.geom_type in ("Polygon", "MultiPolygon")]
                out[k] = shapely.union_all(parts) if parts else g
    return out, int(fix.sum())


def _placed_frame(loaded: Loaded, geoms: np.ndarray, keep: np.ndarray, *, crs, hint, area,
                  shown: str, limits: InputLimits):
    """Run :func:`geo.inputs.coords.place` on the rows that have a geometry."""
    index = np.flatnonzero(keep)
    raw = gpd.GeoDataFrame({"_pos": index}, geometry=gpd.GeoSeries(list(geoms[index])),
                           crs=loaded.crs)
    return place(raw, loaded.rows[index], crs=crs, hint=hint, area=area, path=shown, limits=limits)


def _finish(frame: gpd.GeoDataFrame, *, loaded: Loaded, columns: _Columns, shown: str,
            notes: list, repaired: int, placed=None, unknown_types=None) -> LayerRead:
    all_notes = list(loaded.notes) + list(columns.notes) + notes
    summary = personal_data.privacy_note(all_notes, columns.personal, shown)
    if summary is not None:
        all_notes.append(summary)
    return LayerRead(
        frame=frame.reset_index(drop=True), column_map=dict(columns.column_map),
        dropped_personal_columns=list(columns.personal),
        warnings=[both(k, **p) for k, p in all_notes], repaired=repaired, notes=all_notes,
        ignored_columns=list(columns.ignored), crs_name=placed.crs_name if placed else "",
        suggested_crs=placed.suggested_crs if placed else None, encoding=loaded.encoding,
        unknown_types=dict(unknown_types or {}), rows_read=len(loaded.attrs))


def _shown(path: Path) -> str:
    return path.name


# --------------------------------------------------------------------------- households


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
    shown = _shown(path)
    loaded = load(path, role="households", fields=FIELDS["households"], limits=limits, layer=layer)
    columns = _columns(loaded, role="households", privacy=privacy, shown=shown, keep=keep_text)
    colmap = columns.column_map
    notes: list[tuple[str, dict]] = []

    total = cols.total_rows(loaded.attrs)
    if total.any():
        notes.append(("note.input_rows_total", {"path": shown, "count": int(total.sum()),
                                                "rows": _some(loaded.rows[total])}))
        loaded = subset(loaded, ~total)
        if len(loaded.attrs) == 0:
            raise InputError("err.layer_empty", path=shown)

    geoms = _table_points(loaded, colmap, shown=shown) if loaded.is_table else loaded.geoms
    geoms, repaired = _repair(np.asarray(geoms, dtype=object), polygons=False)
    repaired += loaded.repaired
    if repaired and not loaded.is_table:
        notes.append(("note.input_repaired", {"path": shown, "count": repaired}))
    if loaded.is_table and not any(f in colmap for f in _COORD_FIELDS) and area is None:
        raise InputError("err.table_no_coords", path=shown, columns=personal_data.column_list(loaded.attrs.columns))

    text = {f: _text(loaded, colmap, f, privacy=privacy, shown=shown,
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

    has_geom = _has_geometry(geoms)
    if not loaded.is_table and (~has_geom).any() and area is None:
        notes.append(("note.input_empty_geometry", {"path": shown, "count": int((~has_geom).sum()),
                                                    "rows": _some(loaded.rows[~has_geom])}))
    placed = None
    parts = []
    if has_geom.any():
        placed = _placed_frame(loaded, geoms, has_geom, crs=crs, hint=columns.crs_hint, area=area,
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
                                                   "rows": _some(loaded.rows[unplaced])}))
    if not parts:
        examples = "、".join(str(v) for v in text["compound"][unplaced][:3] if v) or "—"
        if not any(f in colmap for f in _COORD_FIELDS) and loaded.is_table and area is not None:
            raise InputError("err.households_unplaced", path=shown, examples=examples)
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
    return _finish(frame, loaded=loaded, columns=columns, shown=shown, notes=notes,
                   repaired=repaired, placed=placed)


def _has_geometry(geoms: np.ndarray) -> np.ndarray:
    geoms = np.asarray(geoms, dtype=object)
    return ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def _present(values: np.ndarray) -> np.ndarray:
    return np.array([v is not None for v in values], dtype=bool)


def _some(rows: np.ndarray, n: int = 5) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:n])
    return shown + (" …" if len(rows) > n else "")


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


# --------------------------------------------------------------------------- uploads

def __getattr__(name: str):
    """``read_facilities``, ``read_communities``, ``read_upload`` and ``READERS`` live in
    their own modules (which use this module's helpers), imported on first use."""
    if name == "read_facilities":
        from geo.facility_reader import read_facilities

        return read_facilities
    if name == "read_communities":
        from geo.community_reader import read_communities

        return read_communities
    if name == "read_upload":
        from geo.upload_reader import read_upload

        return read_upload
    if name == "READERS":
        from geo.inputs import footprints  # it imports this module: imported on first use

        return {"households": read_households, "facilities": __getattr__("read_facilities"),
                "communities": __getattr__("read_communities"),
                "buildings": footprints.read_buildings, "compounds": footprints.read_compounds}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
