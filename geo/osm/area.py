"""Turn raw OpenStreetMap layers into a projected :class:`~geo.studyarea.StudyArea`."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.households import sites_from_features, tag_reason
from geo.grids.mapped import communities_from_osm
from geo.catalogue import Service, load_catalogue, match_services
from geo.crs import choose_crs
from geo.errors import InputError
from geo.i18n import note
from geo.network import build_network
from geo.osm.reader import OsmLayers
from geo.places import with_places
from geo.osm.roads import first_tag, road_class, walkable
from geo.studyarea import StudyArea
from geo.walls import GATE_BARRIERS

_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")
POLYGONAL = ("Polygon", "MultiPolygon")


def parse_number(value: object) -> float:
    """First number in an OSM tag value (``'6'``, ``'18 m'``, ``'5;6'``), else NaN."""
    text = first_tag(value)
    match = _NUMBER.search(text)
    return float(match.group().replace(",", ".")) if match else np.nan


def _osm_ids(frame: pd.DataFrame) -> pd.Series:
    if "element" in frame.columns and "id" in frame.columns:  # osmnx
        return frame["element"].astype(str) + "/" + frame["id"].astype(str)
    if "osm_type" in frame.columns and "id" in frame.columns:  # pyrosm
        return frame["osm_type"].astype(str) + "/" + frame["id"].astype(str)
    return pd.Series([f"feature/{i}" for i in range(len(frame))], index=frame.index)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype=object)


def study_area_from_osm(layers: OsmLayers, *, catalogue: tuple[Service, ...] | None = None,
                        name: str | None = None) -> StudyArea:
    """Project OSM layers into one metric CRS and build every layer of the study area.

    Raises
    ------
    InputError
        If nothing usable is in the data; ``NetworkError`` if no way is walkable.
    """
    catalogue = catalogue or load_catalogue()
    if len(layers.streets) == 0 and len(layers.features) == 0:
        raise InputError("err.empty_area")
    crs = choose_crs(layers.streets if len(layers.streets) else layers.features)

    streets = layers.streets.to_crs(crs)
    streets = streets[streets.geometry.notna() & ~streets.geometry.is_empty]
    roads = gpd.GeoDataFrame({
        "highway": streets["highway"].map(first_tag).to_numpy(),
        "name": _column(streets, "name").map(first_tag).to_numpy(),
        "road_class": road_class(streets["highway"]).to_numpy(),
        "walkable": walkable(streets).to_numpy(),
    }, geometry=streets.geometry.to_numpy(), crs=crs)
    network = build_network(roads[roads["walkable"]], source=layers.source)

    features = layers.features.to_crs(crs).reset_index(drop=True)
    features = features[features.geometry.notna() & ~features.geometry.is_empty].reset_index(drop=True)
    features["osm_id"] = _osm_ids(features).to_numpy()
    geom_type = features.geometry.geom_type
    polygonal = geom_type.isin(POLYGONAL).to_numpy()

    building = _column(features, "building")
    is_building = building.notna().to_numpy() & polygonal & (building.astype(str) != "no").to_numpy()
    b = features[is_building]
    levels = _column(b, "building:levels").map(parse_number)
    height = _column(b, "height").map(parse_number)
    buildings = gpd.GeoDataFrame({
        "building_id": b["osm_id"].to_numpy(),
        "building": _column(b, "building").map(first_tag).to_numpy(),
        "levels": levels.to_numpy(dtype=float),
        "height_m": height.to_numpy(dtype=float),
        "name": _column(b, "name").map(first_tag).to_numpy(),
        "use": tag_reason(b).to_numpy(),  # another use named by the building's other tags
    }, geometry=shapely.make_valid(b.geometry.to_numpy()), crs=crs)
    sites = sites_from_features(features)
    sites = sites.set_geometry(gpd.GeoSeries(shapely.make_valid(sites.geometry.to_numpy()),
                                             index=sites.index, crs=crs))

    landuse = _column(features, "landuse").map(first_tag)
    c = features[(landuse == "residential").to_numpy() & polygonal]
    compounds = gpd.GeoDataFrame({
        "compound_id": c["osm_id"].to_numpy(),
        "name": _column(c, "name").map(first_tag).to_numpy(),
    }, geometry=shapely.make_valid(c.geometry.to_numpy()), crs=crs)

    gates = gates_from_features(features)
    facilities, unmatched = facilities_from_features(features, catalogue)
    facilities = with_places(facilities, roads)  # the nearest named street, for notes
    notes = []
    if unmatched:
        notes.append(note("note.osm_unmatched_schools", count=unmatched))
    parts = [g for g in (roads.total_bounds, buildings.total_bounds if len(buildings) else None,
                         compounds.total_bounds if len(compounds) else None) if g is not None]
    bounds = np.array(parts)
    boundary = shapely.box(np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1]),
                           np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3]))
    return StudyArea(
        name=name or layers.source, crs=crs, boundary=boundary, roads=roads,
        buildings=buildings, compounds=compounds, facilities=facilities, network=network,
        communities=communities_from_osm(features), osm_derived=True, notes=tuple(notes),
        sites=sites, gates=gates)


def gates_from_features(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mapped gates and entrances (points) for the walls of gated compounds."""

    barrier = _column(features, "barrier").map(first_tag)
    entrance = _column(features, "entrance").map(first_tag)
    is_gate = (barrier.isin(GATE_BARRIERS) | (entrance.ne("") & entrance.ne("no"))).to_numpy()
    g = features[is_gate]
    return gpd.GeoDataFrame({"gate_id": g["osm_id"].to_numpy()},
                            geometry=g.geometry.representative_point().to_numpy(),
                            crs=features.crs)


#: OSM tags holding a facility's places or beds, in the order they are read.
CAPACITY_TAGS = ("capacity", "capacity:persons", "beds")


def osm_capacity(features: gpd.GeoDataFrame) -> np.ndarray:
    """Places or beds per feature from ``capacity``, ``capacity:persons`` or ``beds``
    (the first plain whole number from 1 to 100,000; NaN otherwise: a mapped value such
    as ``about 300`` or ``50;60`` is not guessed at)."""
    out = np.full(len(features), np.nan)
    for tag in reversed(CAPACITY_TAGS):
        if tag not in features.columns:
            continue
        text = features[tag].map(first_tag).astype(str).str.strip()
        values = pd.to_numeric(text.where(text.str.fullmatch(r"\d{1,6}"), None),
                               errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(values) & (values >= 1) & (values <= 100_000)
        out[ok] = values[ok]
    return out


def facilities_from_features(features: gpd.GeoDataFrame, catalogue: tuple[Service, ...],
                             *, merge_m: float = 25.0) -> tuple[gpd.GeoDataFrame, int]:
    """Facilities (one point per feature and service) from tagged OSM features.

    A facility mapped twice (a node and the building around it, with the same service and
    name within ``merge_m``) is kept once. Returns the facilities and the number of
    ``amenity=school`` features whose level (primary/middle) could not be told.
    """
    tags = features.drop(columns="geometry")
    matches = match_services(tags, catalogue)
    points = features.geometry.representative_point().to_numpy()
    rows = matches["row"].to_numpy()
    name = _column(features, "name").map(first_tag).to_numpy()
    fac = gpd.GeoDataFrame({
        "osm_id": features["osm_id"].to_numpy()[rows],
        "service": matches["service"].to_numpy(),
        "name": name[rows],
        "source": "osm",
    }, geometry=points[rows], crs=features.crs)
    fac["capacity"] = osm_capacity(features)[rows]
    fac["capacity_source"] = np.where(np.isfinite(fac["capacity"].to_numpy(dtype=float)), "osm",
                                      None)
    if len(fac):
        fac["_cell"] = (fac.geometry.x // merge_m).astype(int).astype(str) + ":" + \
            (fac.geometry.y // merge_m).astype(int).astype(str)
        fac = fac.drop_duplicates(subset=["service", "name", "_cell"]).drop(columns="_cell")
    fac = fac.reset_index(drop=True)
    fac.insert(0, "facility_id", [f"F{k:05d}" for k in range(len(fac))])
    amenity = _column(features, "amenity").map(first_tag)
    school_rows = np.flatnonzero((amenity == "school").to_numpy())
    schools_matched = set(matches.loc[matches["service"].isin(["primary_school", "middle_school"]),
                                      "row"])
    unmatched = int(sum(1 for r in school_rows if r not in schools_matched))
    return fac, unmatched
