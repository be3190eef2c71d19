"""Caching for the page: the one place that holds Streamlit caches (core functions stay pure).

* ``st.cache_resource`` holds the read-only study area (roads, buildings, the walking
  network's arrays), keyed by a small frozen :class:`Source`, and a :class:`StageCache`
  of pipeline stages keyed by the frozen settings each stage depends on (see
  :func:`page_run`); nothing downstream mutates them.
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
import threading
from concurrent.futures import ThreadPoolExecutor
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import streamlit as st

from analysis.pipeline import Result, RunSettings, load_area
from geo.errors import GridcircleError, InputError
from geo.i18n import t
from geo.studyarea import StudyArea
from ui import mapframe, mapview

CACHE_ENTRIES = 6
UPLOADS_HELD = 8


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
    from ui.uploads import private_copy

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


class StageCache:
    """A small thread-safe least-recently-used store of pipeline results, one per stage.

    ``st.cache_resource`` cannot wrap a function that draws progress (Streamlit would
    replay the drawing on every hit), so runs are kept here instead; the store itself is a
    cache resource, shared by all sessions of the server.
    """

    def __init__(self, entries: int = CACHE_ENTRIES) -> None:
        self.entries = entries
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self.misses: dict[str, int] = {}

    def __contains__(self, stage_key: tuple[str, Hashable]) -> bool:
        with self._lock:
            return stage_key in self._items

    def get(self, stage: str, key: Hashable, make: Callable[[], object]) -> object:
        """The value of ``stage`` for ``key``, made by ``make()`` on a miss."""
        full = (stage, key)
        with self._lock:
            if full in self._items:
                self._items.move_to_end(full)
                return self._items[full]
        value = make()
        with self._lock:
            self.misses[stage] = self.misses.get(stage, 0) + 1
            self._items[full] = value
            while len(self._items) > self.entries * 4:
                self._items.popitem(last=False)
        return value


@st.cache_resource(show_spinner=False)
def stage_cache() -> StageCache:
    return StageCache()


@dataclass(frozen=True, eq=False)
class PageRun:
    """What the page shows: the assembled result, plus the reach objects a siting what-if
    needs and the keys that identify each stage (for the map caches)."""

    result: Result
    index: object | None
    reach: object | None
    base_key: tuple
    reach_key: tuple


def _with_footprints(area: StudyArea, source: Source, uploads: Uploads) -> StudyArea:
    """The area with uploaded buildings and compound outlines put in."""
    from geo.inputs import footprints

    for kind, put in (("buildings", footprints.with_buildings),
                      ("compounds", footprints.with_compounds)):
        upload = getattr(uploads, kind, None)
        if upload is not None:
            area = put(area, layer_for(kind, upload, source).frame)
    return area


def _given_layers(source: Source, uploads: Uploads) -> dict:
    given = {}
    for kind, argument in (("households", "register"), ("facilities", "facilities"),
                           ("communities", "communities")):
        upload = getattr(uploads, kind)
        if upload is not None:
            given[argument] = layer_for(kind, upload, source).frame
    return given


def area_key(speed_of: Callable[[str], float], service: str, walk) -> tuple:
    """What one service's service areas depend on: its walking speed and the minute levels
    (not its threshold, which only decides coverage)."""
    return (service, float(speed_of(service)), tuple(walk.minutes), float(walk.max_snap_m))


def page_run(source: Source, settings: RunSettings, uploads: Uploads,
             services: tuple[str, ...], *,
             progress: Callable[[str], None] | None = None) -> PageRun:
    """The run for the page, stage by stage, each stage cached on what it depends on.

    * households, communities and grids: the area, the uploads, the household model and
      the grid band;
    * the reach index (homes and facilities snapped to the network): the above and the
      snap distance;
    * walking minutes, coverage and gaps: the above and the walking settings;
    * service areas, per service shown: the index, that service's speed and the minute
      levels.

    So a change of walking speed re-runs only the reach stages, a change of the services
    shown computes only the missing service areas, and the band re-runs grids onwards.
    """
    from analysis import pipeline

    cache = stage_cache()
    if not hasattr(pipeline, "stage_base"):  # a pipeline without stages: one cached run
        key = (source, uploads, settings)
        result = cache.get("run", key, lambda: pipeline.run(
            area_for(source), settings, progress=progress, **_given_layers(source, uploads)))
        return PageRun(result=result, index=None, reach=None, base_key=key, reach_key=key)

    area = _with_footprints(area_for(source), source, uploads)
    base_key = (source, uploads, settings.households, getattr(settings, "grids", None))
    base = cache.get("base", base_key, lambda: pipeline.stage_base(
        area, settings, progress=progress, **_given_layers(source, uploads)))
    walk = settings.walk
    index_key = (base_key, walk.max_snap_m, getattr(settings, "walls", None))
    index = cache.get("index", index_key,
                      lambda: pipeline.stage_index(area, base, settings, progress=progress))
    reach_key = (index_key, walk)

    def areas_key(service: str) -> tuple:
        return (index_key, area_key(walk.speed_mps, service, walk))

    def areas_of(service: str):
        return cache.get("service_areas", areas_key(service),
                         lambda: pipeline.stage_service_areas(index, settings, (service,)))

    # Walking minutes and service areas both start from the index and not from each
    # other: they run side by side (shapely and the network searches release the GIL).
    # Progress is drawn here, from the script's thread, for the stages that will run.
    if progress is not None:
        if ("reach", reach_key) not in cache:
            progress("step.reach")
        if any(("service_areas", areas_key(s)) not in cache for s in services):
            progress("step.service_areas")
    with ThreadPoolExecutor(max_workers=2) as pool:
        measured = pool.submit(cache.get, "reach", reach_key,
                               lambda: pipeline.stage_reach(base, index, settings))
        parts = list(pool.map(areas_of, services))
        reach = measured.result()
    areas = (gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=area.crs) if parts
             else gpd.GeoDataFrame({"service": [], "minutes": []}, geometry=[], crs=area.crs))
    result = pipeline.assemble(area, settings, None, base, reach, areas)
    if getattr(index, "walls", None) is not None:  # compound walls and gates layers
        from analysis.reach_walls import wall_layers

        result.layers.update(wall_layers(index))
    return PageRun(result=result, index=index, reach=reach.reach, base_key=base_key,
                   reach_key=reach_key)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 3)
def layer_for(kind: str, upload: Upload, source: Source):
    """An uploaded layer read and checked against the study area (``geo.layers.LayerRead``)."""
    from ui.uploads import read_layer

    data = upload_bytes(upload.sha256)
    return read_layer(kind, data, upload.name, crs=upload.crs, area=area_for(source))


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 2)
def map_base(base_key: tuple, lang: str, band: tuple[int, int], _result: Result) -> mapview.MapData:
    """GeoJSON of the map's base layers (roads, buildings, grids, households, facilities)."""
    return mapview.base_data(_result, lang=lang, band=band)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 16)
def map_service(reach_key: tuple, service: str, _result: Result) -> mapview.ServiceData:
    """GeoJSON of one service's service areas and gaps."""
    return mapview.service_data(_result, service)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 2)
def rendered_map(key: Hashable, _build: Callable[[], object]) -> mapframe.RenderedMap:
    """A folium map rendered for the page (:func:`ui.mapframe.render`): ``_build()`` makes
    the map only when ``key`` (everything the map shows) is new, so a rerun that leaves a
    map unchanged neither builds nor renders it again."""
    return mapframe.render(_build())


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 4)
def rendered_groups(key: Hashable, _rendered: mapframe.RenderedMap,
                    _build: Callable[[], list]) -> mapframe.RenderedGroups:
    """Feature groups and a layer control rendered for the base map ``_rendered``
    (:func:`ui.mapframe.render_groups`); ``key`` must identify that base map as well as
    what the groups show. ``_build()`` makes the groups only when ``key`` is new."""
    import folium

    return mapframe.render_groups(_rendered, _build(), folium.LayerControl(collapsed=False))
