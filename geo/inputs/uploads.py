"""Opening an uploaded file of any supported format as attributes plus geometries.

CSV and XLSX (through :mod:`geo.inputs.tables`), GeoJSON (through the strict reader in
:mod:`geo.inputs.geojson`), GeoPackage and Shapefile (through pyogrio), and zip files holding
any of these (through :mod:`geo.inputs.safezip`). Every format comes back the same way — a
:class:`Loaded` with all attribute cells as text, one geometry per row (``None`` where a
table row has none yet), the file's own CRS and the row numbers the user sees — so that
:mod:`geo.inputs` reads households, facilities and communities alike from all of them.

Files are only read. A GeoPackage or Shapefile is copied, and a zip extracted, into a
fresh temporary folder first, which is removed afterwards.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely

import geo.inputs.columns as cols
from geo.errors import InputError
from geo.inputs.geojson import read_geojson
from geo.inputs.safezip import extract_members, open_checked
from geo.settings import InputLimits
from geo.inputs.tables import (CSV_SUFFIXES, LEGACY_EXCEL_SUFFIXES, XLSX_SUFFIXES, cell_text,
                               check_file, read_table)

GEOJSON_SUFFIXES = (".geojson", ".json")
GPKG_SUFFIXES = (".gpkg",)
SHP_SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass(eq=False)
class Loaded:
    """A file as read, before its coordinates are placed."""

    attrs: pd.DataFrame            # all cells as text ('' when empty)
    geoms: np.ndarray              # shapely geometries, None where missing
    crs: pyproj.CRS | None
    rows: np.ndarray               # row or feature numbers as the user sees them
    is_table: bool
    repaired: int = 0
    encoding: str | None = None
    notes: list[tuple[str, dict]] = field(default_factory=list)


def load(path: Path, *, role: str, fields: tuple[str, ...], limits: InputLimits,
         layer: str | None) -> Loaded:
    """Open ``path`` by its suffix; ``role`` (``households`` ...) picks among several
    layers, ``fields`` finds the header row of a table."""
    check_file(path, limits=limits)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES + XLSX_SUFFIXES + LEGACY_EXCEL_SUFFIXES:
        return _load_table(path, fields=fields, limits=limits)
    return _check_vertices(_load_layer(path, suffix, role=role, fields=fields, limits=limits,
                                       layer=layer), shown=path.name, limits=limits)


def _check_vertices(loaded: Loaded, *, shown: str, limits: InputLimits) -> Loaded:
    """Refuse a feature with more than ``limits.max_feature_vertices`` vertices (any
    format; GeoJSON is refused while it is read)."""
    geoms = np.asarray(loaded.geoms, dtype=object)
    present = np.flatnonzero(~shapely.is_missing(geoms)) if len(geoms) else np.array([], int)
    if present.size:
        counts = shapely.get_num_coordinates(geoms[present])
        over = np.flatnonzero(counts > limits.max_feature_vertices)
        if over.size:
            raise InputError("err.feature_too_many_vertices", path=shown,
                             row=int(np.asarray(loaded.rows)[present[over[0]]]),
                             limit=f"{limits.max_feature_vertices:,}")
    return loaded


def _load_layer(path: Path, suffix: str, *, role: str, fields: tuple[str, ...],
                limits: InputLimits, layer: str | None) -> Loaded:
    if suffix in GEOJSON_SUFFIXES:
        return _load_geojson(path, limits=limits)
    if suffix in GPKG_SUFFIXES or suffix == ".shp":
        with tempfile.TemporaryDirectory(prefix="gridcircle-") as tmp:
            copy = _copy_for_reading(path, Path(tmp))
            return _load_ogr(copy, shown=path.name, role=role, limits=limits, layer=layer)
    if suffix == ".zip":
        return _load_zip(path, role=role, fields=fields, limits=limits, layer=layer)
    raise InputError("err.layer_format", path=path.name)


def _copy_for_reading(path: Path, folder: Path) -> Path:
    """Copy a GeoPackage (or a Shapefile and its sidecars) into ``folder``, so that
    nothing GDAL or SQLite does while reading can touch the user's file."""
    if path.suffix.lower() == ".gpkg":
        with path.open("rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise InputError("err.layer_unreadable", path=path.name,
                                 detail="not a GeoPackage (SQLite) file")
        target = folder / "layer.gpkg"
        shutil.copyfile(path, target)
        wal = path.with_name(path.name + "-wal")  # a GeoPackage in WAL mode keeps recent edits here
        if wal.is_file():
            shutil.copyfile(wal, folder / "layer.gpkg-wal")
        return target
    stem = path.stem.lower()
    for sibling in path.parent.iterdir():
        ext = sibling.suffix.lower()
        if sibling.stem.lower() == stem and ext in SHP_SIDECARS and sibling.is_file():
            shutil.copyfile(sibling, folder / f"layer{ext}")
    return folder / "layer.shp"


def _load_table(path: Path, *, fields: tuple[str, ...], limits: InputLimits) -> Loaded:
    table = read_table(path, limits=limits)
    rows = table.rows
    if not rows:
        raise InputError("err.layer_empty", path=path.name)
    header_at = cols.find_header([[c.strip() for c in r] for r in rows[:10]], fields)
    if not cols.match_columns([c.strip() for c in rows[header_at] if c.strip()],
                              fields).column_map:
        # no header row: its first row is data (names, ID numbers), never quoted
        raise InputError("err.table_no_header", path=path.name)
    header = cols.unique_headers([c.strip() for c in rows[header_at]])
    body = pd.DataFrame(rows[header_at + 1:], dtype=object)  # ragged rows padded with None
    body = body.reindex(columns=range(len(header))).fillna("")
    body.columns = header
    for col in header:
        body[col] = body[col].astype(str).str.strip().astype(object)
    numbers = np.arange(len(body)) + header_at + 2
    filled = (body != "").any(axis=1).to_numpy() if len(header) else np.zeros(len(body), bool)
    body, numbers = body[filled].reset_index(drop=True), numbers[filled]
    if len(body) > limits.max_rows:
        raise InputError("err.table_too_many_rows", path=path.name, limit=limits.max_rows)
    if not len(body):
        raise InputError("err.layer_empty", path=path.name)
    attrs = body
    geoms = np.full(len(attrs), None, dtype=object)
    return Loaded(attrs=attrs, geoms=geoms, crs=None, rows=np.asarray(numbers), is_table=True,
                   encoding=table.encoding, notes=list(table.notes))


def _load_geojson(path: Path, *, limits: InputLimits) -> Loaded:
    read = read_geojson(path, max_features=limits.max_rows,
                        max_vertices=limits.max_feature_vertices)
    attrs = read.attrs.map(cell_text) if len(read.attrs.columns) else read.attrs
    return Loaded(attrs=attrs.astype(object), geoms=read.geoms, crs=read.crs, rows=read.rows,
                   is_table=False, repaired=read.closed_rings, notes=list(read.notes))


def _gdal_detail(exc: Exception, folder: Path | None) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if folder is not None:
        text = text.replace(str(folder), "")
    return text[:160]


def _dbf_encoding(dbf: Path) -> str | None:
    """The text encoding of a .dbf without a .cpg: UTF-8 if its records decode as such,
    else GB18030 if they do (GBK is the usual case for Chinese Shapefiles)."""
    try:
        data = dbf.read_bytes()
    except OSError:
        return None
    if len(data) < 32:
        return None
    start = int.from_bytes(data[8:10], "little")
    records = data[start:]
    if records.isascii():
        return None
    for encoding in ("utf-8", "gb18030"):
        try:
            records.decode(encoding)
            return encoding.upper()
        except UnicodeDecodeError:
            continue
    return None


def _load_ogr(path: Path, *, shown: str, role: str, limits: InputLimits,
              layer: str | None) -> Loaded:
    """Read a GeoPackage or Shapefile (already in a temporary folder) through pyogrio."""
    import pyogrio

    folder = path.parent
    notes: list[tuple[str, dict]] = []
    if path.suffix.lower() == ".shp":
        missing = [ext for ext in (".shp", ".shx", ".dbf") if not path.with_suffix(ext).is_file()]
        if missing:
            raise InputError("err.shp_incomplete", name=shown, missing="、".join(missing))
    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:  # noqa: BLE001 - GDAL raises several types on damaged files
        raise InputError("err.layer_unreadable", path=shown,
                         detail=_gdal_detail(exc, folder)) from None
    if len(layers) == 0:
        raise InputError("err.layer_empty", path=shown)
    names = [str(n) for n in layers[:, 0]]
    kinds = {str(n): g for n, g in layers}
    if layer is not None:
        if layer not in names:
            raise InputError("err.layer_unreadable", path=shown,
                             detail=f"no layer {layer!r}; layers: {', '.join(names)}")
        chosen = layer
    else:
        with_geometry = [n for n in names if kinds[n] is not None] or names
        chosen = next((n for n in with_geometry if role.rstrip("s") in n.lower()), with_geometry[0])
        if len(names) > 1:
            notes.append(("note.input_layer_chosen", {"path": shown, "layers": "、".join(names),
                                                      "layer": chosen}))
    if kinds[chosen] is None:
        raise InputError("err.layer_no_geometry", path=shown, layer=chosen)
    encoding = None
    if path.suffix.lower() == ".shp" and not path.with_suffix(".cpg").is_file():
        encoding = _dbf_encoding(path.with_suffix(".dbf"))
    try:
        info = pyogrio.read_info(path, layer=chosen)
        if info.get("features", 0) > limits.max_rows:
            raise InputError("err.table_too_many_rows", path=shown, limit=limits.max_rows)
        frame = pyogrio.read_dataframe(path, layer=chosen, encoding=encoding, force_2d=True,
                                       on_invalid="ignore", use_arrow=False)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - GDAL raises several types on damaged files
        raise InputError("err.layer_unreadable", path=shown,
                         detail=_gdal_detail(exc, folder)) from None
    if len(frame) == 0:
        raise InputError("err.layer_empty", path=shown)
    attrs = frame.drop(columns=frame.geometry.name)
    attrs = attrs.map(cell_text).astype(object) if len(attrs.columns) else attrs
    return Loaded(attrs=attrs.reset_index(drop=True), geoms=frame.geometry.to_numpy(),
                   crs=frame.crs, rows=np.arange(1, len(frame) + 1), is_table=False,
                   encoding=encoding, notes=notes)


def _load_zip(path: Path, *, role: str, fields: tuple[str, ...], limits: InputLimits,
              layer: str | None) -> Loaded:
    with open_checked(path, limits=limits) as archive:
        members = [i for i in archive.infolist() if not i.is_dir()
                   and not i.filename.startswith("__MACOSX/")
                   and not Path(i.filename).name.startswith("._")]
        by_ext: dict[str, list] = {}
        for info in members:
            name = info.filename.replace("\\", "/")
            lower = name.lower()
            ext = next((e for e in SHP_SIDECARS + GEOJSON_SUFFIXES + GPKG_SUFFIXES + CSV_SUFFIXES
                        + XLSX_SUFFIXES if lower.endswith(e)), None)
            if ext is not None:
                by_ext.setdefault(ext, []).append((lower[: -len(ext)], info))
        with tempfile.TemporaryDirectory(prefix="gridcircle-") as tmp:
            folder = Path(tmp)
            if by_ext.get(".shp"):
                stems = [s for s, _ in by_ext[".shp"]]
                stem = next((s for s in stems if role.rstrip("s") in s.rsplit("/", 1)[-1]),
                            stems[0])
                shown = f"{path.name}:{stem.rsplit('/', 1)[-1]}.shp"
                wanted = {f"layer{ext}": info for ext in SHP_SIDECARS
                          for s, info in by_ext.get(ext, []) if s == stem}
                missing = [e for e in (".shx", ".dbf") if f"layer{e}" not in wanted]
                if missing:
                    raise InputError("err.shp_incomplete", name=shown, missing="、".join(missing))
                extract_members(archive, wanted, folder, path=path, limits=limits)
                loaded = _load_ogr(folder / "layer.shp", shown=shown, role=role, limits=limits,
                                   layer=None)
                if len(stems) > 1:
                    loaded.notes.append(("note.input_layer_chosen", {
                        "path": path.name, "layers": "、".join(s.rsplit("/", 1)[-1] for s in stems),
                        "layer": stem.rsplit("/", 1)[-1]}))
                return loaded
            for ext in GPKG_SUFFIXES + GEOJSON_SUFFIXES + CSV_SUFFIXES + XLSX_SUFFIXES:
                if by_ext.get(ext):
                    stem, info = by_ext[ext][0]
                    target = extract_members(archive, {f"layer{ext}": info}, folder, path=path,
                                             limits=limits)[f"layer{ext}"]
                    if ext in GPKG_SUFFIXES:
                        return _load_ogr(target, shown=path.name, role=role, limits=limits,
                                         layer=layer)
                    if ext in GEOJSON_SUFFIXES:
                        return _load_geojson(target, limits=limits)
                    return _load_table(target, fields=fields, limits=limits)
    raise InputError("err.zip_no_layer", path=path.name)


def subset(loaded: Loaded, keep: np.ndarray) -> Loaded:
    """The rows of ``loaded`` where ``keep`` is true."""
    return Loaded(attrs=loaded.attrs[keep].reset_index(drop=True), geoms=loaded.geoms[keep],
                   crs=loaded.crs, rows=loaded.rows[keep], is_table=loaded.is_table,
                   repaired=loaded.repaired, encoding=loaded.encoding, notes=list(loaded.notes))
