"""What the upload readers share (:mod:`geo.inputs` offers the readers themselves).

The fields each kind of layer looks for, the :class:`LayerRead` every reader returns, and
the steps they have in common: matching columns to fields and finding personal ones,
reading text and number columns, points from coordinate columns, repairing geometries,
placing them in the study area's coordinate system and gathering what the user is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from geo.i18n import BOTH, note_text
import geo.inputs.columns as cols
import geo.inputs.personal as personal_data
from geo.inputs.coords import place
from geo.inputs.uploads import Loaded
from geo.settings import InputLimits

#: Fields each reader looks for, in the order they are matched.
FIELDS = {
    "households": ("x", "y", "location", "households", "building", "compound", "address",
                   "name", "id", "elderly_60plus", "children_0_6"),
    "facilities": ("x", "y", "location", "name", "type", "service", "address", "id",
                   "capacity", "classes"),
    "communities": ("community_id", "community", "name", "id"),
    # uploaded footprints and compound outlines (geo/inputs/footprints.py)
    "buildings": ("storeys", "height", "use", "households", "name", "building", "id",
                  "elderly_60plus", "children_0_6"),
    "compounds": ("compound", "name", "id"),
    # planned gates of compounds (geo/inputs/gates.py)
    "gates": ("x", "y", "location", "status", "name", "id"),
}
#: Text columns that may be kept in a layer (everything else is dropped on import).
KEPT_TEXT = {"households": ("building", "compound", "address", "name"),
             "facilities": ("name", "type", "address"),
             "communities": ("community", "name"),
             "buildings": ("name", "building", "use"), "compounds": ("compound", "name"),
             "gates": ("name",)}
#: Free text no model needs: read (an address still marks a register's level and joins
#: its rows) but left out of the layer unless the caller keeps it (``keep_text``).
FREE_TEXT = {"households": ("address", "name"), "facilities": ("address",), "communities": (),
             "buildings": (), "compounds": (), "gates": ()}
#: Fields that hold a table's coordinates.
COORD_FIELDS = ("x", "y", "location")
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
    repaired
        Geometries that were invalid and repaired with ``make_valid`` (or polygon rings
        that had to be closed).
    notes
        What the user should know about how the file was read, as ``(key, params)``
        notes, shown in one language by :meth:`messages` (in both, for the command line
        and logs, by :attr:`warnings`).
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
    repaired: int = 0
    notes: list[tuple[str, dict]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    crs_name: str = ""
    suggested_crs: str | None = None
    encoding: str | None = None
    unknown_types: dict[str, int] = field(default_factory=dict)
    rows_read: int = 0

    def messages(self, lang: str = "zh") -> list[str]:
        """The notes in one language (:data:`geo.i18n.BOTH`: both, for the command line)."""
        return [note_text(n, lang) for n in self.notes]

    @property
    def warnings(self) -> list[str]:
        """The notes in both languages, one line each (the command line's)."""
        return self.messages(BOTH)


# --------------------------------------------------------------------------- columns


@dataclass(eq=False)
class LayerColumns:
    """Which column was taken for what, and what was left out (:func:`layer_columns`)."""

    column_map: dict[str, str]
    personal: list[str]
    ignored: list[str]
    crs_hint: tuple[str, str] | None
    notes: list[tuple[str, dict]]


def layer_columns(loaded: Loaded, *, role: str, privacy: bool, shown: str,
                  keep: tuple[str, ...] = ()) -> LayerColumns:
    """Match columns to fields, find personal columns (by name, then by content)."""
    names = [str(c) for c in loaded.attrs.columns]
    match = cols.match_columns(names, FIELDS[role])
    column_map = dict(match.column_map)
    if not loaded.is_table:
        for coord in COORD_FIELDS:  # a layer's coordinates are its geometry
            column_map.pop(coord, None)
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
    return LayerColumns(column_map=column_map, personal=personal, ignored=ignored, crs_hint=hint,
                        notes=notes)


def text_field(loaded: Loaded, colmap: dict[str, str], field: str, *, privacy: bool,
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


def safe_cell(value: object) -> str:
    """A cell described in a message by its shape only (``999.9a``): a register's cells
    may be personal, so their content is never quoted."""
    return personal_data.shape_of(value)


def parse_numbers(loaded: Loaded, column: str, parse, *, error: str, shown: str) -> np.ndarray:
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
                             value=safe_cell(raw[k])) from None
        values[k] = np.nan if parsed is None else parsed
    return values


def table_points(loaded: Loaded, colmap: dict[str, str], *, shown: str) -> np.ndarray:
    """Points from a table's coordinate columns (``None`` where a row has none)."""
    n = len(loaded.attrs)
    x = np.full(n, np.nan)
    y = np.full(n, np.nan)
    if "x" in colmap and "y" in colmap:
        x = parse_numbers(loaded, colmap["x"], cols.parse_coordinate, error="err.table_bad_coords",
                          shown=shown)
        y = parse_numbers(loaded, colmap["y"], cols.parse_coordinate, error="err.table_bad_coords",
                          shown=shown)
    elif "location" in colmap:
        for k, value in enumerate(loaded.attrs[colmap["location"]].to_numpy()):
            try:
                x[k], y[k] = cols.parse_location(value)
            except ValueError:
                raise InputError("err.table_bad_coords", path=shown, row=int(loaded.rows[k]),
                                 value=safe_cell(value)) from None
    has = np.isfinite(x) & np.isfinite(y)
    geoms = np.full(n, None, dtype=object)
    geoms[has] = shapely.points(x[has], y[has])
    return geoms


def repair_geometries(geoms: np.ndarray, *, polygons: bool) -> tuple[np.ndarray, int]:
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


def placed_frame(loaded: Loaded, geoms: np.ndarray, keep: np.ndarray, *, crs, hint, area,
                 shown: str, limits: InputLimits):
    """Run :func:`geo.inputs.coords.place` on the rows that have a geometry."""
    index = np.flatnonzero(keep)
    raw = gpd.GeoDataFrame({"_pos": index}, geometry=gpd.GeoSeries(list(geoms[index])),
                           crs=loaded.crs)
    return place(raw, loaded.rows[index], crs=crs, hint=hint, area=area, path=shown, limits=limits)


def finish_read(frame: gpd.GeoDataFrame, *, loaded: Loaded, columns: LayerColumns, shown: str,
                notes: list, repaired: int, placed=None, unknown_types=None) -> LayerRead:
    all_notes = list(loaded.notes) + list(columns.notes) + notes
    summary = personal_data.privacy_note(all_notes, columns.personal, shown)
    if summary is not None:
        all_notes.append(summary)
    return LayerRead(
        frame=frame.reset_index(drop=True), column_map=dict(columns.column_map),
        dropped_personal_columns=list(columns.personal),
        repaired=repaired, notes=all_notes,
        ignored_columns=list(columns.ignored), crs_name=placed.crs_name if placed else "",
        suggested_crs=placed.suggested_crs if placed else None, encoding=loaded.encoding,
        unknown_types=dict(unknown_types or {}), rows_read=len(loaded.attrs))


def shown_name(path: Path) -> str:
    """How a file is named in messages (its name, never its folder)."""
    return path.name


def has_geometry(geoms: np.ndarray) -> np.ndarray:
    """Whether each geometry is present and not empty."""
    geoms = np.asarray(geoms, dtype=object)
    return ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)


def some_rows(rows: np.ndarray, n: int = 5) -> str:
    """The first ``n`` row numbers for a message (`` …`` when there are more)."""
    shown = ", ".join(str(int(r)) for r in rows[:n])
    return shown + (" …" if len(rows) > n else "")


__all__ = ["COORD_FIELDS", "FIELDS", "FREE_TEXT", "KEPT_TEXT", "PERSON_NAME_WORDS",
           "LayerColumns", "LayerRead", "finish_read", "has_geometry", "layer_columns",
           "parse_numbers", "placed_frame", "repair_geometries", "safe_cell", "shown_name",
           "some_rows", "table_points", "text_field"]
