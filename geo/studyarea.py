"""The study area: every layer of one district in one metric CRS, plus its walking network."""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import pyproj
import shapely

from geo.network import WalkNetwork


@dataclass(frozen=True, eq=False)
class StudyArea:
    """All inputs of one district, projected to ``crs`` (metres).

    Attributes
    ----------
    roads
        ``highway``, ``name``, ``road_class`` (``arterial``/``local``/``path``), ``walkable``.
    buildings
        ``building_id``, ``building``, ``levels`` (may be NaN), ``height_m``, ``name``.
    compounds
        Residential compounds (小区, ``landuse=residential``): ``compound_id``, ``name``.
    facilities
        ``facility_id``, ``service`` (catalogue key), ``name``, ``source``.
    communities
        Given community boundaries (``community_id``, ``name``) or ``None``.
    households
        Households already known (a register, or the synthetic district) or ``None``,
        in which case :func:`geo.households.estimate_households` derives them.
    sites
        Sites of another use than housing (campuses, hospitals, military areas, hotels,
        commercial and industrial land: ``site_id``, ``reason``, ``name``) or ``None``;
        buildings inside them hold no households (:mod:`geo.households.building_use`).
    gates
        Mapped gates and entrances (points: ``barrier=gate`` …, ``entrance=*``), the access
        points of walled compounds (:mod:`geo.walls`), or ``None``.
    osm_derived
        Whether OpenStreetMap data was used (its credit must then be shown).
    notes
        Things the user should know about how the inputs were read (notes,
        :func:`geo.i18n.note`, translated where shown).
    """

    name: str
    crs: pyproj.CRS
    boundary: shapely.Geometry
    roads: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    network: WalkNetwork
    communities: gpd.GeoDataFrame | None = None
    households: gpd.GeoDataFrame | None = None
    gates: gpd.GeoDataFrame | None = None
    osm_derived: bool = True
    sites: gpd.GeoDataFrame | None = None
    notes: tuple[dict, ...] = field(default_factory=tuple)
