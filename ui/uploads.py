"""Uploaded layers (household register, facilities, community boundaries) read through the
same readers as the command line (``geo.layers``), so both accept the same files."""

from __future__ import annotations

import importlib.util

from geo.studyarea import StudyArea

LAYER_KINDS = ("households", "facilities", "communities", "buildings", "compounds")
UPLOAD_TYPES = {
    "osm": ["osm", "xml", "bz2", "pbf"],
    "households": ["csv", "xlsx", "geojson", "json", "gpkg", "zip"],
    "facilities": ["csv", "xlsx", "geojson", "json", "gpkg", "zip"],
    "communities": ["geojson", "json", "gpkg", "zip"],
    "buildings": ["geojson", "json", "gpkg", "zip"],
    "compounds": ["geojson", "json", "gpkg", "zip"],
}
CRS_CHOICES = ("auto", "wgs84", "gcj02", "bd09", "cgcs2000")


def layer_readers_available() -> bool:
    """Whether ``geo.layers`` (the upload readers) is present in this build."""
    return importlib.util.find_spec("geo.layers") is not None


def upload_limit_mb() -> float:
    """The largest upload accepted (``InputLimits.max_file_mb``; Streamlit's default 200 MB
    where the limits are not defined)."""
    try:
        from geo.settings import InputLimits
    except ImportError:
        return 200.0
    return float(InputLimits().max_file_mb)


def read_layer(kind: str, data: bytes, name: str, *, crs: str | None, area: StudyArea):
    """Read one uploaded layer from its bytes; returns ``geo.layers.LayerRead``.

    Raises
    ------
    geo.errors.InputError
        With one message that names the file and says what to do.
    """
    from geo.layers import read_upload

    options = {"area": area}
    if crs:
        options["crs"] = crs
    return read_upload(data, name, kind=kind, **options)
