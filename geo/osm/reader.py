"""Reading OpenStreetMap data: XML (``.osm``, ``.osm.xml``, ``.osm.bz2``) through osmnx,
PBF (``.osm.pbf``) through pyrosm, and a place name or bounding box through osmnx's
Overpass client (with its disk cache) when the machine is online.

Every reader returns :class:`OsmLayers`: raw layers in WGS84 with their OSM tags, which
:func:`geo.studyarea_osm.study_area_from_osm` turns into a projected study area.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.crs import WGS84
from geo.errors import InputError, NetworkError
from geo.osm.checks import cap_names, check_bounds, plain_osm, scan_osm, sniff_osm
from geo.settings import InputLimits

#: Tags whose features the study area needs besides the street network.
FEATURE_TAGS: dict[str, bool | str | list[str]] = {
    "building": True, "landuse": ["residential", "recreation_ground", "village_green",
                                  "education", "military", "commercial", "retail", "industrial"],
    "amenity": True, "shop": True, "leisure": True, "healthcare": True,
    "social_facility": True, "office": ["government"], "public_transport": True,
    "highway": ["bus_stop"],
    "military": True, "tourism": ["hotel", "hostel", "motel", "guest_house"],
    "boundary": ["administrative"], "place": ["neighbourhood"],  # mapped communities
    # gates and entrances of compounds (geo.walls)
    "barrier": ["gate", "entrance", "lift_gate", "swing_gate", "sliding_gate", "turnstile",
                "kissing_gate", "full-height_turnstile"],
    "entrance": True,
}
#: Way tags kept on street edges (besides osmnx's defaults) to judge walkability.
EXTRA_WAY_TAGS = ("foot", "sidewalk", "footway", "access", "service")
XML_SUFFIXES = (".osm", ".osm.xml", ".xml", ".osm.bz2", ".xml.bz2", ".osm.gz", ".xml.gz")
PBF_SUFFIXES = (".osm.pbf", ".pbf")


@dataclass(frozen=True, eq=False)
class OsmLayers:
    """Raw OpenStreetMap layers in WGS84.

    ``streets`` holds one LineString per street segment (ends at intersections) with
    ``highway`` and access tags; ``features`` every building, compound and point of
    interest with its tags.
    """

    source: str
    streets: gpd.GeoDataFrame
    features: gpd.GeoDataFrame


def _check_file(path: Path) -> None:
    if not path.is_file():
        raise InputError("err.file_missing", path=path)
    if path.stat().st_size == 0:
        raise InputError("err.file_empty", path=path)


def osm_format(path: str | Path) -> str:
    """``'xml'`` or ``'pbf'`` from the file name; :class:`InputError` otherwise."""
    name = Path(path).name.lower()
    if name.endswith(PBF_SUFFIXES):
        return "pbf"
    if name.endswith(XML_SUFFIXES):
        return "xml"
    raise InputError("err.osm_suffix", path=path)


def read_osm(path: str | Path, *, limits: InputLimits = InputLimits()) -> OsmLayers:
    """Read an OpenStreetMap file (XML or PBF, chosen by its name).

    XML is checked first in one streaming pass (:mod:`geo.osm.checks`): its size after
    decompression, duplicate ids, coordinates out of range, missing nodes.

    Raises
    ------
    InputError
        If the file is missing, empty, too large once decompressed, not OSM, truncated,
        holds duplicate ids or impossible coordinates, or has no walkable street.
    """
    path = Path(path)
    kind = osm_format(path)
    _check_file(path)
    if kind == "pbf":
        return _read_pbf(path)
    with plain_osm(path, limits=limits) as plain:
        return _read_xml(plain, shown=path)


def _read_xml(path: Path, *, shown: Path) -> OsmLayers:
    """Read uncompressed OSM XML at ``path`` (``shown`` names the user's file)."""
    import osmnx as ox
    from osmnx._errors import InsufficientResponseError

    sniff_osm(path, shown=shown.name)
    scan_osm(path, shown=shown.name)
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys(saved + list(EXTRA_WAY_TAGS)))
    try:
        graph = ox.graph_from_xml(path, bidirectional=True, simplify=True, retain_all=True)
        try:
            features = ox.features_from_xml(path, tags=FEATURE_TAGS)
        except InsufficientResponseError:  # streets only: no buildings, compounds or POIs
            features = gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=WGS84)
    except (ET.ParseError, EOFError, OSError) as exc:
        raise InputError("err.not_osm", path=shown, detail=exc) from None
    except (ValueError, KeyError, TypeError) as exc:
        # osmnx raises these on files without any usable way or on dangling references
        if "no data elements" in str(exc).lower() or "graph contains no" in str(exc).lower():
            raise NetworkError("err.no_walkable", source=shown.name) from None
        raise InputError("err.not_osm", path=shown, detail=exc) from None
    except Exception as exc:  # noqa: BLE001 - osmnx's parsers fail in many ways on damaged files
        raise InputError("err.not_osm", path=shown, detail=type(exc).__name__) from None
    finally:
        ox.settings.useful_tags_way = saved
    if graph.number_of_edges() == 0:
        raise NetworkError("err.no_walkable", source=shown.name)
    streets = ox.graph_to_gdfs(ox.convert.to_undirected(graph), nodes=False).reset_index()
    keep = [c for c in ("highway", "name", "osmid", *EXTRA_WAY_TAGS, "bridge", "tunnel")
            if c in streets.columns]
    streets = streets[keep + ["geometry"]].copy()
    features = features.reset_index()
    return OsmLayers(source=shown.name, streets=cap_names(streets.to_crs(WGS84)),
                     features=cap_names(features.to_crs(WGS84)))


def _read_pbf(path: Path) -> OsmLayers:
    import pyrosm

    try:
        osm = pyrosm.OSM(str(path))
        network = osm.get_network(network_type="all", nodes=True,
                                  extra_attributes=list(EXTRA_WAY_TAGS))
        streets = network[1] if network is not None else None  # edges split at intersections
        if network is not None and "id" in network[0] and network[0]["id"].duplicated().any():
            dup = network[0]["id"][network[0]["id"].duplicated()]
            raise InputError("err.osm_duplicate_ids", path=path.name, count=len(dup),
                             examples=", ".join(f"node {v}" for v in dup.head(5)))
        frames = [osm.get_buildings(),
                  osm.get_landuse(custom_filter={"landuse": FEATURE_TAGS["landuse"]}),
                  osm.get_pois(custom_filter={k: v for k, v in FEATURE_TAGS.items()
                                              if k not in ("building", "landuse")})]
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - pyrosm's Cython parser raises many types on corrupt data
        raise InputError("err.not_osm", path=path, detail=type(exc).__name__) from None
    if streets is None or len(streets) == 0:
        raise NetworkError("err.no_walkable", source=path.name)
    frames = [f for f in frames if f is not None and len(f)]
    features = (pd.concat(frames, ignore_index=True) if frames
                else gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=WGS84))
    features = gpd.GeoDataFrame(features, geometry="geometry", crs=WGS84)
    if "id" in features.columns:
        features = features.drop_duplicates(subset=["id", "osm_type"] if "osm_type" in features
                                            else ["id"])
    keep = [c for c in ("highway", "name", "id", *EXTRA_WAY_TAGS, "bridge", "tunnel")
            if c in streets.columns]
    streets = gpd.GeoDataFrame(streets[keep + ["geometry"]], geometry="geometry", crs=WGS84)
    streets = streets.explode(index_parts=False, ignore_index=True)
    check_bounds([streets, features], shown=path.name)
    return OsmLayers(source=path.name, streets=cap_names(streets), features=cap_names(features))


def download_osm(place: str | None = None, *, bbox: tuple[float, float, float, float] | None = None,
                 cache_folder: str | Path = "cache/osmnx") -> OsmLayers:
    """Download a place name or ``(west, south, east, north)`` box through osmnx.

    Uses osmnx's own disk cache, so a second call for the same area needs no internet.

    Raises
    ------
    InputError
        If the machine is offline or the place is unknown (the message says which).
    """
    import osmnx as ox
    import requests

    ox.settings.use_cache = True
    ox.settings.cache_folder = str(cache_folder)
    saved = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys(saved + list(EXTRA_WAY_TAGS)))
    label = place or str(bbox)
    try:
        if bbox is not None:
            graph = ox.graph_from_bbox(bbox, network_type="all", retain_all=True)
            features = ox.features_from_bbox(bbox, tags=FEATURE_TAGS)
        else:
            graph = ox.graph_from_place(place, network_type="all", retain_all=True)
            features = ox.features_from_place(place, tags=FEATURE_TAGS)
    except (requests.exceptions.RequestException, ConnectionError, TimeoutError) as exc:
        raise InputError("err.place_offline", place=label, detail=type(exc).__name__) from None
    except (ValueError, TypeError) as exc:  # osmnx: place not found / no data
        raise InputError("err.place_offline", place=label, detail=exc) from None
    finally:
        ox.settings.useful_tags_way = saved
    streets = ox.graph_to_gdfs(ox.convert.to_undirected(graph), nodes=False).reset_index()
    keep = [c for c in ("highway", "name", "osmid", *EXTRA_WAY_TAGS) if c in streets.columns]
    return OsmLayers(source=label, streets=streets[keep + ["geometry"]].to_crs(WGS84),
                     features=features.reset_index().to_crs(WGS84))
