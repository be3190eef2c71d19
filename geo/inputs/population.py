"""Reading a population upload: a raster of persons per cell (GeoTIFF, any CRS, read with
rasterio) or a polygon/point layer with a population column (人口, 常住人口, population ...).

Either way the result is :class:`PopulationCells`: one row per cell, polygon or point with
at least one person, in the study area's CRS, clipped to the study area. Only the counts
and the geometry are kept (no other column of the file).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from geo.errors import InputError
import geo.inputs.columns as cols
from geo.settings import InputLimits
from geo.inputs.layer_parts import placed_frame, repair_geometries
from geo.inputs.uploads import load

RASTER_SUFFIXES = (".tif", ".tiff", ".geotiff")
#: Most raster cells read at once (a 1,000 × 1,000 grid is 1e6; WorldPop 100 m over a
#: city is well below this).
MAX_CELLS = 25_000_000


@dataclass(frozen=True, eq=False)
class PopulationCells:
    """Persons per cell in the study area's CRS.

    ``cells``: ``persons`` (float ≥ 0) and geometry (cell polygons, or points for a point
    layer); ``kind``: ``raster``, ``polygons`` or ``points``; ``total_in_file``: persons in
    the whole file (before clipping to the area).
    """

    cells: gpd.GeoDataFrame
    kind: str
    total_in_file: float
    notes: tuple[tuple[str, dict], ...] = ()


def read_population(path: str | Path, *, crs: str | None = None, area=None,
                    limits: InputLimits = InputLimits(), layer: str | None = None
                    ) -> PopulationCells:
    """Read a population raster or layer (see the module text).

    Raises
    ------
    InputError
        If the file is missing, unreadable, has no CRS (rasters) or no population column.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("err.file_missing", path=path)
    if path.name.lower().endswith(RASTER_SUFFIXES):
        return _read_raster(path, area)
    return _read_layer(path, crs=crs, area=area, limits=limits, layer=layer)


def _read_raster(path: Path, area) -> PopulationCells:
    import rasterio
    from rasterio.errors import RasterioError
    from rasterio.windows import Window, from_bounds

    try:
        src = rasterio.open(path)
    except RasterioError as exc:
        raise InputError("err.population_raster", path=path.name, detail=str(exc)[:120]) from None
    with src:
        if src.crs is None:
            raise InputError("err.population_no_crs", path=path.name)
        file_crs = pyproj.CRS.from_user_input(src.crs.to_wkt())
        window = Window(0, 0, src.width, src.height)
        if area is not None:  # only the cells over the study area
            west, south, east, north = gpd.GeoSeries([area.boundary], crs=area.crs) \
                .to_crs(file_crs).total_bounds
            window = from_bounds(west, south, east, north, transform=src.transform)
            window = window.round_offsets().round_lengths().intersection(
                Window(0, 0, src.width, src.height)) if _overlaps(window, src) else None
            if window is None:
                raise InputError("err.population_outside", path=path.name)
        if window.width * window.height > MAX_CELLS:
            raise InputError("err.population_too_large", path=path.name,
                             cells=int(window.width * window.height), limit=MAX_CELLS)
        data = src.read(1, window=window, masked=True).astype(float)
        total = float(np.nansum(src.read(1, masked=True).filled(0).astype(float).clip(0)))
        transform = src.window_transform(window)
    values = np.where(np.ma.getmaskarray(data), 0.0, np.ma.getdata(data))
    values = np.where(np.isfinite(values) & (values > 0), values, 0.0)
    rows, colsx = np.nonzero(values)
    persons = values[rows, colsx]
    # cell corners → polygons in the file's CRS, then the area's
    a, b, c, d, e, f = transform.a, transform.b, transform.c, transform.d, transform.e, transform.f
    x0 = c + colsx * a + rows * b
    y0 = f + colsx * d + rows * e
    boxes = shapely.polygons(np.stack([
        np.column_stack([x0, y0]), np.column_stack([x0 + a, y0 + d]),
        np.column_stack([x0 + a + b, y0 + d + e]), np.column_stack([x0 + b, y0 + e]),
        np.column_stack([x0, y0])], axis=1))
    cells = gpd.GeoDataFrame({"persons": persons}, geometry=boxes, crs=file_crs)
    return PopulationCells(cells=_clip(cells, area), kind="raster", total_in_file=total)


def _overlaps(window, src) -> bool:
    return (window.col_off < src.width and window.row_off < src.height and
            window.col_off + window.width > 0 and window.row_off + window.height > 0)


def _read_layer(path: Path, *, crs, area, limits, layer) -> PopulationCells:

    fields = ("population", "name", "id")
    loaded = load(path, role="population", fields=fields, limits=limits, layer=layer)
    if loaded.is_table:
        raise InputError("err.population_no_geometry", path=path.name)
    match = cols.match_columns([str(c) for c in loaded.attrs.columns], fields)
    column = match.column_map.get("population")
    if column is None:
        raise InputError("err.population_no_column", path=path.name,
                         columns="、".join(map(str, loaded.attrs.columns))[:200])
    text = loaded.attrs[column].astype(str).str.strip().str.replace(",", "")
    persons = np.array(gpd.pd.to_numeric(text, errors="coerce"), dtype=float)
    persons = np.where(np.isfinite(persons) & (persons > 0), persons, 0.0)
    geoms, _ = repair_geometries(np.asarray(loaded.geoms, dtype=object), polygons=False)
    ok = np.array([g is not None and not g.is_empty for g in geoms]) & (persons > 0)
    placed = placed_frame(loaded, geoms, ok, crs=crs, hint=None, area=area, shown=path.name,
                          limits=limits)
    pos = placed.frame["_pos"].to_numpy()
    frame = gpd.GeoDataFrame({"persons": persons[pos]},
                             geometry=placed.frame.geometry.to_numpy(), crs=placed.frame.crs)
    kinds = set(frame.geometry.geom_type)
    kind = "points" if kinds <= {"Point", "MultiPoint"} else "polygons"
    return PopulationCells(cells=_clip(frame, area), kind=kind, total_in_file=float(persons.sum()),
                           notes=tuple(placed.notes))


def _clip(cells: gpd.GeoDataFrame, area) -> gpd.GeoDataFrame:
    """Cells in the area's CRS whose centre lies inside the study area (all of a cell's
    persons count where its centre is: no cell is split)."""
    if area is None:
        return cells.reset_index(drop=True)
    cells = cells.to_crs(area.crs)
    centre = shapely.centroid(cells.geometry.to_numpy())
    inside = shapely.intersects(area.boundary, centre)
    return cells[inside].reset_index(drop=True)
