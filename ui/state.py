"""Caching for the page: the one place that holds Streamlit caches (core functions stay pure).

* ``st.cache_resource`` holds the read-only study area (roads, buildings, the walking
  network's arrays), keyed by a small frozen :class:`Source`, and a
  :class:`analysis.stages.StageCache` of stage values under the keys the stage graph
  derives (see :func:`stage_run`); nothing downstream mutates them.
* the map's GeoJSON pieces, keyed by the run's key, the language and the band, so that
  switching language or the services shown does not redo geometry, and each rendered map
  (:func:`rendered_map`), keyed by everything it shows, so that a rerun which leaves a
  map as it was sends the browser the same map without rendering it; the page's map comes
  in two such parts (:func:`rendered_groups`: the layers that follow the services shown
  and the walking settings, rendered for a base map). These are
  ``st.cache_resource`` too: they are read-only (frozen dataclasses of GeoJSON
  dictionaries and strings that nothing changes), and ``st.cache_data`` would unpickle a
  copy of every coordinate on every rerun (0.2 s of each Helsinki rerun).

Streamlit hashes the keys; arguments starting with ``_`` (the result objects themselves)
are not hashed, so every cached function also receives the hashable key that identifies
its unhashed argument.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st

from analysis.assembly import Assembled, Given, assemble, with_footprints
from analysis.pipeline import Result, RunSettings, load_area
from analysis.stages import Inputs, StageCache, StageRun, run_stages
from geo.errors import GridcircleError, InputError
from geo.i18n import t
from geo.settings import HouseholdSettings
from geo.studyarea import StudyArea
from ui import mapframe, mapview
from analysis.planner_data import read_totals
from geo.inputs import read_population
from ui.uploads import private_copy
from ui.uploads import read_layer

CACHE_ENTRIES = 6
UPLOADS_HELD = 4  # one per kind of upload (OSM, households, facilities, communities)


@dataclass(frozen=True)
class Source:
    """Where the study area comes from: a bundled demo, an uploaded OSM file (by content
    hash) or a place name."""

    kind: str  # "demo" | "osm" | "place"
    value: str
    label: str = ""


@dataclass(frozen=True)
class Upload:
    """An uploaded file, identified by its content hash. Its bytes stay in this session's
    memory (:func:`upload_bytes`); a reader that needs a path gets a private copy that is
    deleted as soon as it has been read (:func:`ui.uploads.private_copy`)."""

    name: str
    sha256: str
    crs: str | None = None


@dataclass(frozen=True)
class Uploads:
    """The optional uploaded layers of a run."""

    households: Upload | None = None
    facilities: Upload | None = None
    communities: Upload | None = None
    buildings: Upload | None = None  # footprints and compound outlines (geo.inputs.footprints)
    compounds: Upload | None = None
    population: Upload | None = None  # persons per cell (raster) or per polygon/point
    household_totals: Upload | None = None  # households per community, or one total


def save_upload(name: str, data: bytes, *, crs: str | None = None) -> Upload:
    """Keep an uploaded file's bytes in this session's memory, named by their hash (a
    register holds personal data: it is never written to a shared folder)."""
    digest = hashlib.sha256(data).hexdigest()
    held = st.session_state.setdefault("gc_upload_bytes", {})
    held.pop(digest, None)
    held[digest] = data
    while len(held) > UPLOADS_HELD:  # the oldest uploads go first
        held.pop(next(iter(held)))
    return Upload(name=name, sha256=digest, crs=crs)


def upload_bytes(digest: str) -> bytes:
    """The bytes of an upload of this session (by content hash)."""
    try:
        return st.session_state["gc_upload_bytes"][digest]
    except KeyError:
        raise InputError("err.upload_gone") from None


def _read_privately(data: bytes, name: str, read):
    """``read(path)`` on a private copy of ``data`` (deleted right after); messages that
    name the copy are mapped back to ``name`` (:func:`user_message`)."""

    with private_copy(data, name) as path:
        st.session_state.setdefault("upload_names", {})[str(path)] = name
        return read(path)


def user_message(exc: GridcircleError, lang: str) -> str:
    """The error's message with uploaded files named as the user named them (not by the
    temporary file that holds their bytes)."""
    params = {}
    for key, value in exc.params.items():
        text = str(value)
        for path, name in st.session_state.get("upload_names", {}).items():
            text = text.replace(path, name)
        params[key] = text if isinstance(value, str) or text != str(value) else value
    return t(exc.key, lang, **params)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES)
def area_for(source: Source) -> StudyArea:
    """The study area of a source (read once per server, shared by all sessions)."""
    if source.kind == "demo":
        return load_area(demo=source.value)
    if source.kind == "osm":  # value: the upload's content hash; label: its name
        return _read_privately(upload_bytes(source.value), source.label,
                               lambda path: load_area(osm=str(path)))
    return load_area(place=source.value)


@st.cache_resource(show_spinner=False)
def stage_cache() -> StageCache:
    """The stage values of every session of this server (keys from the stage graph)."""
    return StageCache(entries=CACHE_ENTRIES * 16)


@dataclass(frozen=True, eq=False)
class PageRun:
    """What the page shows: the result (with the session's grid edits applied), the
    reach objects a siting what-if needs, the project behind it, and keys that identify
    what the map shows (the stage graph's keys plus the grids' digest)."""

    result: Result
    index: object | None
    reach: object | None
    base_key: tuple
    reach_key: tuple
    project: object = None


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 2)
def counts_for(kind: str, upload: Upload, source: Source, footprints: Uploads | None = None):
    """A population count (``PopulationCells``) or a table of household totals, read by
    the command line's readers from a private copy of the upload, checked against the
    study area (with the uploaded footprints put in, when given)."""

    if kind == "household_totals":
        return _read_privately(upload_bytes(upload.sha256), upload.name, read_totals)
    area = footprint_area(source, footprints) if footprints is not None else area_for(source)
    return _read_privately(upload_bytes(upload.sha256), upload.name,
                           lambda path: read_population(path, crs=upload.crs, area=area))


def _footprints(uploads: Uploads) -> Uploads | None:
    if uploads.buildings is None and uploads.compounds is None:
        return None
    return Uploads(buildings=uploads.buildings, compounds=uploads.compounds)


def _given(source: Source, uploads: Uploads) -> Given:
    """The uploads as the readers of :func:`analysis.assembly.assemble`: each read (and
    kept) by this module's caches, layers against the area with the uploaded footprints,
    as the command line reads its files."""
    put_in = _footprints(uploads)

    def layer(kind: str, footprints: Uploads | None):
        upload = getattr(uploads, kind)
        if upload is None:
            return None
        return lambda _area: layer_for(kind, upload, source, footprints=footprints).frame

    return Given(
        buildings=layer("buildings", None), compounds=layer("compounds", None),
        register=layer("households", put_in), facilities=layer("facilities", put_in),
        communities=layer("communities", put_in),
        population=(None if uploads.population is None else
                    lambda _area: counts_for("population", uploads.population, source, put_in)),
        totals=(None if uploads.household_totals is None else
                lambda: counts_for("household_totals", uploads.household_totals, source)))


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES)
def footprint_area(source: Source, footprints: Uploads) -> StudyArea:
    """The study area with uploaded buildings and compound outlines put in (step 1 of
    :func:`analysis.assembly.assemble`; the other uploads are read against it)."""
    return with_footprints(area_for(source), _given(source, footprints))


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES)
def assembled(source: Source, uploads: Uploads,
              households: HouseholdSettings = HouseholdSettings()) -> Assembled:
    """The study area with the uploads put in and the layers the run takes from them, by
    the command line's assembly (:func:`analysis.assembly.assemble`), made once per
    source, uploads and household settings. Its first step, the footprints, is the cached
    :func:`footprint_area` the other uploads were read against (not made a second time)."""
    put_in = _footprints(uploads)
    if put_in is None:
        return assemble(area_for(source), _given(source, uploads), households)
    given = replace(_given(source, uploads), buildings=None, compounds=None)
    return assemble(footprint_area(source, put_in), given, households)


def stage_run(source: Source, settings: RunSettings, uploads: Uploads, *,
              services: tuple[str, ...] | None = None,
              previous: pd.Series | None = None, locked: tuple[str, ...] = (),
              progress: Callable[[str], None] | None = None) -> StageRun:
    """The analysis for the page, through the stage graph (:mod:`analysis.stages`) with
    the server's stage cache: each stage is looked up under the key the graph derives
    from what it depends on, so a change of walking speed re-runs only the reach stages
    and the band re-runs grids onwards. Only the ``services`` shown get their areas drawn
    (:func:`analysis.stages.completed` adds the others when a project is saved or
    exported). ``previous``/``locked`` keep the planner's grids."""
    counted = uploads.population is not None or uploads.household_totals is not None
    # the household model's settings shape the area only through a count or totals
    made = assembled(source, uploads, settings.households if counted else HouseholdSettings())
    inputs = Inputs(area=made.area, register=made.register, facilities=made.facilities,
                    communities=made.communities,
                    key=(source, uploads, settings.households if counted else None),
                    previous=previous, locked=tuple(locked))
    return run_stages(inputs, settings, services=services, cache=stage_cache(),
                      progress=progress, workers=2)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 3)
def layer_for(kind: str, upload: Upload, source: Source, *, footprints: Uploads | None = None):
    """An uploaded layer read and checked against the study area (``geo.inputs.LayerRead``;
    with ``footprints``: the area with those uploaded buildings and compounds put in)."""

    data = upload_bytes(upload.sha256)
    area = footprint_area(source, footprints) if footprints is not None else area_for(source)
    return read_layer(kind, data, upload.name, crs=upload.crs, area=area)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 2)
def map_area(area_key: Hashable, lang: str, _result: Result) -> mapview.MapData:
    """GeoJSON of the map's layers that grid edits do not change (roads, buildings,
    communities, facilities), for the run's base stage ``area_key``."""
    return mapview.area_data(_result, lang=lang)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 4)
def map_grids(grids_key: Hashable, lang: str, band: tuple[int, int],
              _result: Result) -> mapview.GridData:
    """GeoJSON of the map's grid layers (grids, their numbers, households) for the grids
    ``grids_key`` identifies (the base stage and the edits' digest)."""
    return mapview.grid_data(_result, lang=lang, band=band)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 16)
def map_areas(reach_key: Hashable, service: str, _result: Result) -> mapview.ServiceData:
    """GeoJSON of one service's service areas, for the reach stage ``reach_key`` (grid
    edits do not change them)."""
    return mapview.service_data(_result, service, gaps=False)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 16)
def map_gaps(gaps_key: Hashable, service: str, _result: Result,
             lang: str | None = None) -> mapview.ServiceData:
    """GeoJSON of one service's gaps (places in ``lang``), for ``gaps_key``: the reach
    stage and the grids (a gap's place names its grid)."""
    return mapview.service_data(_result, service, lang=lang, areas=False)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 2)
def rendered_map(key: Hashable, _build: Callable[[], object]) -> mapframe.RenderedMap:
    """A folium map rendered for the page (:func:`ui.mapframe.render`): ``_build()`` makes
    the map only when ``key`` (everything the map shows) is new, so a rerun that leaves a
    map unchanged neither builds nor renders it again."""
    return mapframe.render(_build())


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 8)
def rendered_part(key: Hashable, _rendered: mapframe.RenderedMap,
                  _build: Callable[[], list], first: int = 0) -> mapframe.RenderedGroups:
    """One part of a map's feature groups (:func:`ui.mapframe.render_groups`, numbered
    from ``first``) rendered for the base map ``_rendered``; ``key`` must identify that
    base map as well as what the groups show. ``_build()`` makes the groups only when
    ``key`` is new: an edit renders the grid part again, not the service part."""
    return mapframe.render_groups(_rendered, _build(), first=first)


def rendered_groups(rendered: mapframe.RenderedMap,
                    parts: tuple[mapframe.RenderedGroups, ...]) -> mapframe.RenderedGroups:
    """The parts of a map's feature groups sent as one, with the page's layer control
    (:func:`ui.mapframe.joined`; cheap: the parts are rendered already)."""
    return mapframe.joined(rendered, parts, mapview.layer_control())
