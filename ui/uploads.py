"""Uploaded layers (household register, facilities, community boundaries) read through the
same readers as the command line (``geo.inputs``), so both accept the same files."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.studyarea import StudyArea
from geo.inputs import read_upload

LAYER_KINDS = ("households", "facilities", "communities", "buildings", "compounds")
UPLOAD_TYPES = {
    "osm": ["osm", "xml", "bz2", "gz", "pbf"],
    "households": ["csv", "xlsx", "geojson", "json", "gpkg", "zip"],
    "facilities": ["csv", "xlsx", "geojson", "json", "gpkg", "zip"],
    "communities": ["geojson", "json", "gpkg", "zip"],
    "buildings": ["geojson", "json", "gpkg", "zip"],
    "compounds": ["geojson", "json", "gpkg", "zip"],
    # counts planners hold (analysis/planner_data.py, as --population / --household-totals)
    "population": ["tif", "tiff", "geojson", "json", "gpkg", "zip"],
    "household_totals": ["csv", "xlsx"],
}
COUNT_KINDS = ("population", "household_totals")
CRS_CHOICES = ("auto", "wgs84", "gcj02", "bd09", "cgcs2000")


@contextmanager
def private_copy(data: bytes, name: str) -> Iterator[Path]:
    """A private copy of uploaded bytes for readers that need a path (osmnx, pyrosm for
    ``.osm.pbf``): a file of mode 0600 in a fresh folder of mode 0700, named like the
    upload (suffixes kept), removed as soon as the block ends, whatever happens."""
    plain = Path(str(name).replace("\\", "/")).name
    suffixes = "".join(s.lower() for s in Path(plain).suffixes[-2:])
    suffixes = suffixes if re.fullmatch(r"(\.[a-z0-9]{1,8}){0,2}", suffixes) else ""
    stem = re.sub(r"[^\w\-]+", "_", plain[: len(plain) - len(suffixes)])[:60] or "upload"
    folder = Path(tempfile.mkdtemp(prefix="gridcircle-"))
    try:
        path = folder / f"{stem}{suffixes}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def read_layer(kind: str, data: bytes, name: str, *, crs: str | None, area: StudyArea):
    """Read one uploaded layer from its bytes; returns ``geo.inputs.LayerRead``.

    Raises
    ------
    geo.errors.InputError
        With one message that names the file and says what to do.
    """

    options = {"area": area}
    if crs:
        options["crs"] = crs
    return read_upload(data, name, kind=kind, **options)
