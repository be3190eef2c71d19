"""A strict GeoJSON reader for uploads.

GeoJSON is parsed here with :mod:`json` and checked by hand rather than handed to GDAL,
which picks a driver by content (a file named ``.geojson`` could be read as something
else) and says little about where a file is broken. Each malformed feature is skipped and
counted with its number; a file that is not JSON at all, or not GeoJSON, is refused with
the line and column of the problem. ``NaN``/``Infinity`` literals and absurd nesting are
refused too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyproj
import shapely

from geo.errors import CRSError, InputError
from geo.inputs.tables import binary_kind
from geo.inputs.personal import column_list

_MAX_DEPTH = 6  # GeometryCollections inside GeometryCollections beyond this are refused


class _Malformed(Exception):
    """One feature cannot be read; the message says why (English, for the note)."""


@dataclass(frozen=True, eq=False)
class GeoJSONRead:
    """Features as read: attributes, geometries (``None`` where missing), CRS, notes."""

    attrs: pd.DataFrame
    geoms: np.ndarray
    crs: pyproj.CRS | None
    rows: np.ndarray
    closed_rings: int = 0
    notes: list[tuple[str, dict]] = field(default_factory=list)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in GeoJSON")


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Malformed("a coordinate is not a number")
    number = float(value)
    if not np.isfinite(number):
        raise _Malformed("coordinate is not finite")
    return number


def _position(value: object) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) < 2:
        raise _Malformed("a position needs at least two numbers")
    return _number(value[0]), _number(value[1])


class _TooManyVertices(Exception):
    """A feature with more vertices than the limit (raised before they are converted)."""


def _positions(value: object, *, minimum: int,
               counter: list[int] | None = None) -> list[tuple[float, float]]:
    """Positions of a coordinate list; ``counter[1:3]`` (when given) are the vertices of
    the feature so far and its limit (0: none)."""
    if not isinstance(value, list):
        raise _Malformed("coordinates must be a list")
    if counter is not None and len(counter) >= 3:
        counter[1] += len(value)
        if counter[2] and counter[1] > counter[2]:
            raise _TooManyVertices
    out = [_position(v) for v in value]
    if len(out) < minimum:
        raise _Malformed(f"needs at least {minimum} positions")
    return out


def _ring(value: object, counter: list[int]) -> list[tuple[float, float]]:
    ring = _positions(value, minimum=3, counter=counter)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
        counter[0] += 1
    if len(ring) < 4:
        raise _Malformed("a polygon ring needs at least four positions")
    return ring


def _polygon(value: object, counter: list[int]) -> shapely.Polygon:
    if not isinstance(value, list) or not value:
        raise _Malformed("a polygon needs at least one ring")
    rings = [_ring(r, counter) for r in value]
    return shapely.Polygon(rings[0], rings[1:])


def geometry_from_geojson(obj: object, counter: list[int] | None = None, depth: int = 0):
    """A shapely geometry from a GeoJSON geometry object; ``None`` for ``null``.

    Raises ``_Malformed`` (internal) when the object is not valid GeoJSON geometry.
    ``counter[0]`` is increased for each polygon ring that had to be closed.
    """
    counter = counter if counter is not None else [0]
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise _Malformed("geometry is not an object")
    kind = obj.get("type")
    if kind == "GeometryCollection":
        parts = obj.get("geometries")
        if depth >= _MAX_DEPTH or not isinstance(parts, list):
            raise _Malformed("bad GeometryCollection")
        geoms = [geometry_from_geojson(p, counter, depth + 1) for p in parts]
        return shapely.GeometryCollection([g for g in geoms if g is not None])
    coords = obj.get("coordinates")
    if kind == "Point":
        return shapely.Point(_position(coords))
    if kind == "MultiPoint":
        return (shapely.MultiPoint(_positions(coords, minimum=0, counter=counter)) if coords
                else shapely.MultiPoint())
    if kind == "LineString":
        return shapely.LineString(_positions(coords, minimum=2, counter=counter))
    if kind == "MultiLineString":
        if not isinstance(coords, list):
            raise _Malformed("coordinates must be a list")
        return shapely.MultiLineString([_positions(c, minimum=2, counter=counter)
                                        for c in coords])
    if kind == "Polygon":
        return _polygon(coords, counter)
    if kind == "MultiPolygon":
        if not isinstance(coords, list):
            raise _Malformed("coordinates must be a list")
        return shapely.MultiPolygon([_polygon(c, counter) for c in coords])
    raise _Malformed(f"unknown geometry type {str(kind)[:30]!r}")


def _crs_member(doc: dict) -> pyproj.CRS | None:
    """The legacy ``crs`` member (GeoJSON 2008), if any."""
    member = doc.get("crs")
    if member is None:
        return None
    name = None
    if isinstance(member, dict) and isinstance(member.get("properties"), dict):
        props = member["properties"]
        if member.get("type") == "name":
            name = props.get("name")
        elif member.get("type") == "EPSG" and "code" in props:
            name = f"EPSG:{props.get('code')}"
    if not isinstance(name, str):
        raise CRSError("err.unknown_crs", crs=str(member)[:80])
    try:
        crs = pyproj.CRS.from_user_input(name)
    except pyproj.exceptions.CRSError:
        raise CRSError("err.unknown_crs", crs=name[:80]) from None
    if crs.to_epsg() is not None:
        crs = pyproj.CRS.from_epsg(crs.to_epsg())
    if crs.is_geographic and crs.to_epsg() in (None, 4326):
        return pyproj.CRS.from_epsg(4326)  # CRS84 and EPSG:4326 alike are lon/lat here
    return crs


def _scalars(props: dict, nested: dict[str, int]) -> dict[str, object]:
    """A feature's properties with non-scalar values (objects, lists) dropped, never
    stringified: an object such as ``{"name": …, "phone": …}`` would carry personal data
    into a label. ``nested`` counts the dropped values per property."""
    out = {}
    for key, value in props.items():
        if isinstance(value, (dict, list)):
            nested[str(key)] = nested.get(str(key), 0) + 1
            value = None
        out[str(key)] = value
    return out


def read_geojson(path: Path, *, max_features: int, max_vertices: int = 0) -> GeoJSONRead:
    """Read a GeoJSON file strictly (see the module docstring).

    Raises
    ------
    InputError
        ``err.geojson_parse`` (not JSON), ``err.geojson_structure`` (not GeoJSON),
        ``err.layer_empty`` (no features), ``err.table_too_many_rows``.
    CRSError
        An unreadable ``crs`` member.
    """
    data = path.read_bytes()
    kind = binary_kind(data)
    if kind is not None:
        raise InputError("err.layer_unreadable", path=path.name, detail=kind)
    text = None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise InputError("err.geojson_parse", path=path.name, line=1, col=1,
                         detail="not UTF-8 text")
    try:
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError("err.geojson_parse", path=path.name, line=exc.lineno, col=exc.colno,
                         detail=exc.msg) from None
    except ValueError as exc:
        raise InputError("err.geojson_parse", path=path.name, line="?", col="?",
                         detail=exc) from None
    except RecursionError:
        raise InputError("err.geojson_parse", path=path.name, line="?", col="?",
                         detail="nested too deeply") from None
    if not isinstance(doc, dict):
        raise InputError("err.geojson_structure", path=path.name,
                         detail=f"the top level is a {type(doc).__name__}")
    top = doc.get("type")
    if top == "FeatureCollection":
        features = doc.get("features")
        if not isinstance(features, list):
            raise InputError("err.geojson_structure", path=path.name,
                             detail="'features' is not a list")
    elif top == "Feature":
        features = [doc]
    elif top in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                 "MultiPolygon", "GeometryCollection"):
        features = [{"type": "Feature", "geometry": doc, "properties": {}}]
    else:
        raise InputError("err.geojson_structure", path=path.name,
                         detail=f"type is {str(top)[:40]!r}")
    if len(features) > max_features:
        raise InputError("err.table_too_many_rows", path=path.name, limit=max_features)
    crs = _crs_member(doc)
    records, geoms, rows = [], [], []
    bad, bad_example, counter = 0, None, [0]
    nested: dict[str, int] = {}
    for number, feature in enumerate(features, start=1):
        try:
            if not isinstance(feature, dict):
                raise _Malformed("a feature is not an object")
            props = feature.get("properties")
            if props is not None and not isinstance(props, dict):
                raise _Malformed("'properties' is not an object")
            counter[1:3] = [0, max_vertices]  # the feature's vertices and limit (0: none)
            geom = geometry_from_geojson(feature.get("geometry"), counter)
        except _TooManyVertices:
            raise InputError("err.feature_too_many_vertices", path=path.name, row=number,
                             limit=f"{max_vertices:,}") from None
        except (_Malformed, RecursionError, ValueError, shapely.errors.GEOSException) as exc:
            # ValueError/GEOSException: shapely refusing coordinates that passed the checks
            bad += 1
            bad_example = bad_example or (number, str(exc) or "nested too deeply")
            continue
        records.append(_scalars(props or {}, nested))
        geoms.append(geom)
        rows.append(number)
    notes = []
    if bad:
        notes.append(("note.input_bad_features", {
            "path": path.name, "count": bad, "rows": bad_example[0], "detail": bad_example[1]}))
    if nested:

        notes.append(("note.input_nested_dropped", {
            "path": path.name, "count": sum(nested.values()), "columns": column_list(nested)}))
    if not records:
        raise InputError("err.layer_empty", path=path.name)
    attrs = (pd.DataFrame.from_records(records) if any(records)
             else pd.DataFrame(index=range(len(records))))
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    return GeoJSONRead(attrs=attrs.reset_index(drop=True), geoms=out, crs=crs,
                       rows=np.asarray(rows), closed_rings=counter[0], notes=notes)
