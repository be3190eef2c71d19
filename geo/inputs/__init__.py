"""Reading what users upload: household registers, facility lists, community boundaries.

The package turns a file of any supported format into attribute text plus geometries,
and places those geometries in a known coordinate system. Its modules:

``uploads``   :func:`load` any format (CSV, XLSX, GeoJSON, GeoPackage, Shapefile, zip)
              into a :class:`Loaded`; :func:`subset` keeps some of its rows.
``tables``    CSV in the encodings Chinese offices use, and XLSX, as rows of text.
``geojson``   a strict GeoJSON reader.
``safezip``   opening zip files (and .xlsx) without path tricks or zip bombs.
``columns``   recognising column names; personal columns by name and content; parsing
              coordinates and household counts.
``personal``  scrubbing ID numbers, phone numbers and names from the labels kept;
              describing cells in messages without quoting them.
``coords``    placing coordinates: which system they are in, converting them once,
              catching swapped axes, metres as degrees and shifted web-map systems.

What other packages may use is listed in ``__all__`` below; everything else is internal.
The layer readers (:mod:`geo.layers`) are the main callers.
"""

from geo.inputs.columns import (ColumnMatch, match_columns, normalise_name, normalise_text,
                                parse_coordinate, parse_count, parse_location)
from geo.inputs.coords import Placed, place
from geo.inputs.personal import scrub_series, scrub_text, shape_of
from geo.inputs.tables import RawTable, read_table
from geo.inputs.uploads import Loaded, load, subset

__all__ = [
    "ColumnMatch", "Loaded", "Placed", "RawTable", "load", "match_columns", "normalise_name",
    "normalise_text", "parse_coordinate", "parse_count", "parse_location", "place",
    "read_table", "scrub_series", "scrub_text", "shape_of", "subset",
]
