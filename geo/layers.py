"""Reading the files users upload: household registers, facility lists, community boundaries.

Three readers, one per kind of layer, accept the same formats — CSV (UTF-8 with or
without BOM, GBK, GB18030), XLSX, GeoJSON, GeoPackage, a Shapefile (zipped or not) — and
return a :class:`LayerRead`: the layer (projected to the study area's CRS when one is
given) and everything the user should be told about how it was read: which column was
taken for what, which personal columns were dropped, what was repaired, converted,
skipped or looks wrong.

Files are only read. Anything that must be unpacked or copied (a zipped Shapefile, a
GeoPackage, which SQLite might touch) goes into a fresh temporary folder that is removed
afterwards, so a failed import changes nothing on disk. Every problem a user can cause
raises :class:`~geo.errors.InputError` (or its subclass ``CRSError``) with a message that
says what is wrong and what to do.

This module offers them all; each lives in its own module — :mod:`geo.household_reader`,
:mod:`geo.facility_reader`, :mod:`geo.community_reader`, :mod:`geo.inputs.footprints`
(building footprints and compound outlines) and :mod:`geo.upload_reader` (an upload held
in memory) — and the steps they share in :mod:`geo.layer_parts`.
"""

from __future__ import annotations

from geo.community_reader import read_communities
from geo.facility_reader import read_facilities
from geo.household_reader import read_households
from geo.inputs.footprints import read_buildings, read_compounds
from geo.layer_parts import FIELDS, FREE_TEXT, KEPT_TEXT, PERSON_NAME_WORDS, LayerRead
from geo.upload_reader import READERS, read_upload

__all__ = ["FIELDS", "FREE_TEXT", "KEPT_TEXT", "PERSON_NAME_WORDS", "READERS", "LayerRead",
           "read_buildings", "read_communities", "read_compounds", "read_facilities",
           "read_households", "read_upload"]
