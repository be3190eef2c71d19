"""Reading what users upload: household registers, facility lists, community boundaries,
building footprints, compound outlines, population counts and planned gates.

Every reader accepts the same formats — CSV (UTF-8 with or without BOM, GBK, GB18030),
XLSX, GeoJSON, GeoPackage, a Shapefile (zipped or not) — and returns a :class:`LayerRead`:
the layer (projected to the study area's CRS when one is given) and everything the user
should be told about how it was read: which column was taken for what, which personal
columns were dropped, what was repaired, converted, skipped or looks wrong.

Files are only read. Anything that must be unpacked or copied (a zipped Shapefile, a
GeoPackage, which SQLite might touch) goes into a fresh temporary folder that is removed
afterwards, so a failed import changes nothing on disk. Every problem a user can cause
raises :class:`~geo.errors.InputError` (or its subclass ``CRSError``) with a message that
says what is wrong and what to do.

The readers, one module per kind of layer:

``register``        :func:`read_households`, a household register (``register_names``:
                    rows placed by compound name, age-group columns).
``facilities``      :func:`read_facilities`, a facility list (``facility_types``: the
                    types' table of services).
``communities``     :func:`read_communities`, community boundaries.
``footprints``      :func:`read_buildings` and :func:`read_compounds`.
``population``      :func:`read_population`, persons per cell (raster or layer).
``gates``           :func:`read_gates`, planned gates of compounds.
``readers``         :data:`READERS` by kind and :func:`read_upload` (an upload in memory).
``layer_parts``     the steps the readers share (:class:`LayerRead`, column matching,
                    placing, repairs).

Below them, turning a file of any format into text and geometries:

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
No module of the package imports the package itself (only its sibling modules).
"""

from geo.inputs.columns import (ColumnMatch, match_columns, normalise_name, normalise_text,
                                parse_coordinate, parse_count, parse_location)
from geo.inputs.communities import read_communities
from geo.inputs.coords import Placed, place
from geo.inputs.facilities import read_facilities
from geo.inputs.footprints import read_buildings, read_compounds
from geo.inputs.gates import read_gates
from geo.inputs.layer_parts import FIELDS, FREE_TEXT, KEPT_TEXT, PERSON_NAME_WORDS, LayerRead
from geo.inputs.personal import scrub_series, scrub_text, shape_of
from geo.inputs.population import read_population
from geo.inputs.readers import READERS, read_upload
from geo.inputs.register import read_households
from geo.inputs.tables import RawTable, read_table
from geo.inputs.uploads import Loaded, load, subset

__all__ = [
    "FIELDS", "FREE_TEXT", "KEPT_TEXT", "PERSON_NAME_WORDS", "READERS", "ColumnMatch",
    "LayerRead", "Loaded", "Placed", "RawTable", "load", "match_columns", "normalise_name",
    "normalise_text", "parse_coordinate", "parse_count", "parse_location", "place",
    "read_buildings", "read_communities", "read_compounds", "read_facilities", "read_gates",
    "read_households", "read_population", "read_table", "read_upload", "scrub_series",
    "scrub_text", "shape_of", "subset",
]
