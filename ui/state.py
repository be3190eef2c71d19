"""Caching for the page: the one place that holds Streamlit caches (core functions stay pure).

* ``st.cache_resource`` holds the read-only study area (roads, buildings, the walking
  network's arrays) and each run, keyed by a small frozen :class:`Source` and the frozen
  settings; nothing downstream mutates them.
* ``st.cache_data`` holds the map's GeoJSON pieces, keyed by the run's key, the language
  and the band, so that switching language or the services shown does not redo geometry.

Streamlit hashes the keys; arguments starting with ``_`` (the result objects themselves)
are not hashed, so every cached function also receives the hashable key that identifies
its unhashed argument.
"""

from __future__ import annotations

import hashlib
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from analysis.pipeline import Result, RunSettings, load_area, run
from geo.errors import GridcircleError
from geo.i18n import t
from geo.studyarea import StudyArea
from ui import mapview

CACHE_ENTRIES = 6


@dataclass(frozen=True)
class Source:
    """Where the study area comes from: a bundled demo, an uploaded OSM file (by content
    hash) or a place name."""

    kind: str  # "demo" | "osm" | "place"
    value: str
    label: str = ""


@dataclass(frozen=True)
class Upload:
    """An uploaded file, identified by its content hash; the bytes live in a temp file."""

    name: str
    sha256: str
    path: str
    crs: str | None = None


@dataclass(frozen=True)
class Uploads:
    """The optional uploaded layers of a run."""

    households: Upload | None = None
    facilities: Upload | None = None
    communities: Upload | None = None


def save_upload(name: str, data: bytes, *, crs: str | None = None) -> Upload:
    """Keep an uploaded file's bytes in a temporary file named by their hash."""
    digest = hashlib.sha256(data).hexdigest()
    folder = Path(tempfile.gettempdir()) / "gridcircle_uploads"
    folder.mkdir(parents=True, exist_ok=True)
    suffix = "".join(Path(name).suffixes[-2:]) if name.lower().endswith((".osm.pbf", ".osm.bz2", ".osm.xml")) else Path(name).suffix
    path = folder / f"{digest[:24]}{suffix.lower()}"
    if not path.exists():
        tmp = path.with_suffix(path.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    st.session_state.setdefault("upload_names", {})[str(path)] = name
    return Upload(name=name, sha256=digest, path=str(path), crs=crs)


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
    if source.kind == "osm":
        return load_area(osm=source.value)
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


def result_for(source: Source, settings: RunSettings, uploads: Uploads, *,
               progress: Callable[[str], None] | None = None) -> Result:
    """One run of the pipeline for a source, its uploads and the settings."""

    def make() -> Result:
        area = area_for(source)
        given = {}
        for kind, argument in (("households", "register"), ("facilities", "facilities"),
                               ("communities", "communities")):
            upload = getattr(uploads, kind)
            if upload is not None:
                given[argument] = layer_for(kind, upload, source).frame
        return run(area, settings, progress=progress, **given)

    return stage_cache().get("run", (source, settings, uploads), make)


@st.cache_resource(show_spinner=False, max_entries=CACHE_ENTRIES * 3)
def layer_for(kind: str, upload: Upload, source: Source):
    """An uploaded layer read and checked against the study area (``geo.layers.LayerRead``)."""
    from ui.uploads import read_layer

    return read_layer(kind, upload.path, crs=upload.crs, area=area_for(source))


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES * 2)
def map_base(run_key: tuple, lang: str, band: tuple[int, int], _result: Result) -> mapview.MapData:
    """GeoJSON of the map's base layers (roads, buildings, grids, households, facilities)."""
    return mapview.base_data(_result, lang=lang, band=band)


@st.cache_data(show_spinner=False, max_entries=CACHE_ENTRIES * 16)
def map_service(run_key: tuple, service: str, _result: Result) -> mapview.ServiceData:
    """GeoJSON of one service's service areas and gaps."""
    return mapview.service_data(_result, service)
