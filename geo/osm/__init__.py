"""OpenStreetMap: reading a file or a place name, checking it, and turning its raw layers
into a projected study area.

Its modules:

``reader``   :func:`read_osm` (XML through osmnx, PBF through pyrosm) and
             :func:`download_osm` (a place name or bounding box through Overpass) return
             :class:`OsmLayers`: raw layers in WGS84 with their tags.
``checks``   checking an XML file before osmnx reads it (size, compression ratio,
             duplicate ids, coordinates out of range, over-long names).
``area``     :func:`study_area_from_osm`: raw layers → :class:`~geo.studyarea.StudyArea`
             (buildings, compounds, facilities, gates, walking network) in one metric CRS.
``roads``    road classes from ``highway`` tags: arterial barriers, walkable ways.

What other packages may use is listed in ``__all__``; everything else is internal.
"""

from geo.osm.area import (facilities_from_features, gates_from_features, osm_capacity,
                          parse_number, study_area_from_osm)
from geo.osm.reader import OsmLayers, download_osm, osm_format, read_osm
from geo.osm.roads import road_class, walkable

__all__ = [
    "OsmLayers", "download_osm", "facilities_from_features", "gates_from_features",
    "osm_capacity", "osm_format", "parse_number", "read_osm", "road_class",
    "study_area_from_osm", "walkable",
]
