"""A Gridcircle project in memory: every layer, the settings, the summary and the grid edit
session, and what follows from an edit (grids, households' grids, coverage, gaps and the
summary's grid figures, re-counted by the stage graph's edit stages,
:data:`analysis.stages.EDIT_STAGES`). Saving and opening are in :mod:`analysis.project.file`.

A project also records which area it holds (``meta["area_source"]``: the kind of source,
its name as people know it, and an identity: the demo's or place's name, or the uploaded
file's content hash), so that saving one area over another area's file can ask first.
"""

from __future__ import annotations

import json
from pathlib import Path
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from analysis.edit_stage import recount, walk_settings_of
from analysis.run_types import OSM_CREDIT, Result, RunSettings
from analysis.settings import WalkSettings
from analysis.stages import recount_edits
from geo.grids import edits
from geo.grids import state as grid_state
from geo.errors import GridcircleError, InputError
from geo.vocabulary import DEFAULT_BAND
from analysis.capacity.stage import CapacitySettings
from analysis.gridsystem import GRID_SYSTEM_COLUMNS
from geo.demos import demo_name
from geo.grids import GridSettings
from geo.settings import HouseholdSettings
from geo.walls import WallSettings


def _json_default(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "__dict__"):
        return value.__dict__
    return str(value)


def json_text(value: object) -> str:
    """``value`` as the JSON text a project file stores (Chinese kept as written; sets,
    numpy numbers and settings objects as plain values)."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


# --------------------------------------------------------------------------- in memory


@dataclass(frozen=True, eq=False)
class Project:
    """A project held in memory.

    Attributes
    ----------
    layers
        Layer name → frame, spatial layers in the study area's metric CRS (``meta["crs"]``);
        ``coverage`` has no geometry.
    meta
        ``area``, ``crs``, ``settings``, ``summary``, ``credit``, ``band``, ... as stored
        in the meta table.
    session
        The grid edit session (state and journal), or ``None`` when there are no grids.
    path
        The file this project was opened from or last saved to.
    revision
        The file's revision when it was opened or last saved (0: never saved).
    notes
        ``(translation key, params)`` pairs the user should see (e.g. an older format).
    """

    layers: dict[str, pd.DataFrame]
    meta: dict
    session: edits.EditSession | None = None
    path: Path | None = None
    revision: int = 0
    notes: tuple[tuple[str, dict], ...] = field(default_factory=tuple)

    @property
    def crs(self) -> str:
        return self.meta["crs"]

    @property
    def summary(self) -> dict:
        return self.meta.get("summary") or {}

    @property
    def credit(self) -> str:
        """The OpenStreetMap credit where OSM data was used, else an empty string."""
        return str(self.meta.get("credit") or "")

    @property
    def band(self) -> tuple[int, int]:
        band = self.meta.get("band") or DEFAULT_BAND
        return int(band[0]), int(band[1])


def area_source_of(meta: dict) -> dict | None:
    """The area a project holds (``kind``, ``name``, ``id``), or ``None`` for a project
    saved before projects recorded it."""
    found = meta.get("area_source")
    return dict(found) if isinstance(found, dict) and found.get("id") else None


def area_record(kind: str, name: str, ident: str) -> dict:
    """What a project stores about the area it holds: the kind of source (``demo``,
    ``osm``, ``place``), its name as people know it and its identity (the demo's or the
    place's name, an OSM file's content hash :func:`file_identity`)."""
    return {"kind": str(kind), "name": str(name), "id": str(ident)}


def area_title(area: dict | None, lang: str) -> str:
    """An area's name as the page shows it: a demo by its translated name, an uploaded
    file or a place by the name people know it by ("" for none)."""
    if not area:
        return ""
    if area.get("kind") == "demo":

        return demo_name(str(area.get("id")), lang)
    return str(area.get("name") or area.get("id") or "")


def file_identity(data: bytes) -> str:
    """An input file's identity: the start of its content's SHA-256 (the page names an
    upload the same way)."""
    import hashlib

    return hashlib.sha256(data).hexdigest()[:24]


def same_area(a: dict | None, b: dict | None) -> bool:
    """Whether two area records name the same area (unknown never matches)."""
    return bool(a and b and (a.get("kind"), a.get("id")) == (b.get("kind"), b.get("id")))


def basemap_layers(area: object) -> dict[str, gpd.GeoDataFrame]:
    """The area's roads, buildings and boundary, kept so reports need no other input."""
    roads = area.roads
    keep = [c for c in ("highway", "name", "road_class") if c in roads.columns]
    buildings = area.buildings
    bkeep = [c for c in ("building_id", "building", "name", "levels") if c in buildings.columns]
    return {
        "roads": gpd.GeoDataFrame(roads[keep], geometry=roads.geometry, crs=roads.crs),
        "buildings": gpd.GeoDataFrame(buildings[bkeep], geometry=buildings.geometry,
                                      crs=buildings.crs),
        "study_area": gpd.GeoDataFrame({"name": [area.name]}, geometry=[area.boundary],
                                       crs=area.crs),
    }


def _arterials(layers: dict[str, pd.DataFrame]) -> gpd.GeoDataFrame | None:
    roads = layers.get("roads")
    if roads is None or "road_class" not in roads:
        return None
    return roads[roads["road_class"] == "arterial"]


def session_from_layers(layers: dict[str, pd.DataFrame], band: tuple[int, int], *,
                        entries: tuple[edits.JournalEntry, ...] = (), position: int | None = None,
                        known_ids: tuple[str, ...] = ()) -> edits.EditSession | None:
    """The edit session of a project's layers (``None`` when it has no grids yet)."""
    grids, households = layers.get("grids"), layers.get("households")
    if grids is None or households is None or not len(grids) or "grid_id" not in households:
        return None
    if households["grid_id"].isna().all():
        return None
    # the grid system's columns (codes, 四至) follow from the grids: not part of the state

    grids = grids.drop(columns=[c for c in GRID_SYSTEM_COLUMNS if c in grids.columns])
    state = grid_state.state_from_layers(households, grids, band=band, cells=layers.get("cells"),
                                         arterials=_arterials(layers), known_ids=known_ids)
    position = len(entries) if position is None else position
    return edits.EditSession(state=state, entries=tuple(entries), position=position)


def meta_of(result: Result) -> dict:
    """What a project's meta records of the run it was made from (area, settings,
    summary, credit, band, thresholds), as plain JSON values."""
    return {
        "area": result.area.name,
        "crs": result.area.crs.to_string(),
        "settings": json.loads(json_text(result.settings)),
        "summary": json.loads(json_text(result.summary)),
        "credit": result.summary.get("credit", OSM_CREDIT if result.area.osm_derived else ""),
        "osm_derived": bool(result.area.osm_derived),
        "band": list(result.settings.grids.band),
        "thresholds_min": dict(result.summary.get("thresholds_min") or {}),
    }


def project_from_result(result: Result, *, area_source: dict | None = None) -> Project:
    """A fresh (unsaved) project from a pipeline run; ``area_source`` records the area it
    holds (see :func:`area_source_of`)."""
    layers = {name: frame for name, frame in result.layers.items() if frame is not None}
    for name, frame in basemap_layers(result.area).items():
        layers.setdefault(name, frame)
    band = result.settings.grids.band
    meta = meta_of(result)
    if area_source:
        meta["area_source"] = dict(area_source)
    session = session_from_layers(layers, band)
    project = Project(layers=layers, meta=meta, session=session)
    return with_session(project, session, counted=True) if session is not None else project


def wall_settings_of(meta: dict):
    """The gate edits a project was made with (``settings.walls``: gates added or closed,
    compounds opened, walls on or off), or the defaults when a file does not record them
    or records something unusable."""

    stored = (meta.get("settings") or {}).get("walls") if isinstance(meta, dict) else None
    try:
        return WallSettings.from_dict(stored if isinstance(stored, dict) else None)
    except (TypeError, ValueError, IndexError):
        return WallSettings()


def run_settings_of(meta: dict) -> RunSettings:
    """The settings a project was made with, as the run's settings object: each part
    the file records (household model, grid band and its work budget, walking speeds,
    thresholds, paces, snapping distance, minute levels, gate edits), the defaults for a
    part it does not record or records in a form this version cannot use."""

    stored = meta.get("settings") if isinstance(meta, dict) else None
    stored = stored if isinstance(stored, dict) else {}
    parts: dict = {"walls": wall_settings_of(meta)}
    capacity = stored.get("capacity") if isinstance(stored.get("capacity"), dict) else {}
    households = stored.get("households")
    if isinstance(households, dict) and "persons_per_household" in capacity:
        # files of before persons per household became the household model's
        households = {"persons_per_household": capacity["persons_per_household"], **households}
    for name, kind, value in (("households", HouseholdSettings, households),
                              ("grids", GridSettings, stored.get("grids")),
                              ("capacity", CapacitySettings, {  # the table is named, not kept
                                  k: v for k, v in capacity.items() if k in ("method", "decay")})):
        if isinstance(value, dict):
            try:
                parts[name] = kind(**value)
            except (TypeError, ValueError, GridcircleError):
                pass
    walk = stored.get("walk")
    if isinstance(walk, dict):
        try:
            parts["walk"] = WalkSettings(**walk)
        except (TypeError, ValueError, GridcircleError):
            parts["walk"] = walk_settings_of(meta.get("summary") or {})
    else:
        parts["walk"] = walk_settings_of(meta.get("summary") or {})
    return RunSettings(**parts)


def settings_differences(saved: dict, run_settings: object) -> list[tuple[str, object, object]]:
    """Where a run's settings differ from those a project was saved with: one
    ``(path, saved, now)`` per differing value, the path naming the part and the value
    (``walk.thresholds_min.health``, ``grids.min_households``); pairs are compared as
    mappings. Parts the saved settings do not record are not compared (older files)."""
    now = json.loads(json_text(run_settings)) if not isinstance(run_settings, dict) else run_settings
    found: list[tuple[str, object, object]] = []

    def plain(value: object) -> object:
        if isinstance(value, (list, tuple)) and value and all(
                isinstance(v, (list, tuple)) and len(v) == 2 and isinstance(v[0], str)
                for v in value):
            return {k: v for k, v in value}
        return list(value) if isinstance(value, tuple) else value

    def same(a: object, b: object) -> bool:
        if isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
                not isinstance(a, bool) and not isinstance(b, bool):
            return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
        return a == b

    def walk(path: str, a: object, b: object) -> None:
        a, b = plain(a), plain(b)
        if isinstance(a, dict) and isinstance(b, dict):
            for key in a:
                walk(f"{path}.{key}" if path else str(key), a[key], b.get(key))
        elif not same(a, b):
            found.append((path, a, b))

    for part, value in (saved or {}).items():
        if isinstance(now, dict) and part in now:
            walk(str(part), value, now[part])
    return found


def coverage_by_grid(households: pd.DataFrame, summary: dict) -> pd.DataFrame | None:
    """The ``coverage`` layer (per grid and service) from the households' walking minutes,
    counted exactly as the coverage stage counts it (:func:`analysis.circles.count`).
    ``None`` when the households carry no minutes."""
    counted = recount(households, summary)
    return None if counted is None else counted[0]


def with_session(project: Project, session: edits.EditSession, *,
                 counted: bool = False) -> Project:
    """The project after edits: grids, households' grid_id and cells follow the session's
    state; coverage, coverage levels and gaps are re-counted by the coverage stage's own
    function, and the summary's grid figures by the result stage's own. The stage graph
    makes it (:data:`analysis.stages.EDIT_STAGES`, functions in
    :mod:`analysis.edit_stage`). ``counted=True``: the layers already follow the state (a
    project just made from a run)."""
    return recount_edits(project, session, counted=counted)


def edit_project(project: Project, fn, *args, author: str = "", **kwargs) -> tuple[Project, edits.Edit]:
    """Apply one grid edit (a :mod:`geo.grids.edits` function) to a project and record it.

    Raises
    ------
    InputError
        If the project has no grids, or the edit cannot be carried out.
    """
    if project.session is None:
        raise InputError("err.edit_no_grid_layer")
    session, edit = edits.apply_edit(project.session, fn, *args, author=author, **kwargs)
    return with_session(project, session), edit


def undo_project(project: Project) -> Project:
    """The project with its last grid edit undone (unchanged when there is none)."""
    if project.session is None or not project.session.can_undo:
        return project
    return with_session(project, edits.undo(project.session))


def redo_project(project: Project) -> Project:
    """The project with its last undone grid edit redone (unchanged when there is none)."""
    if project.session is None or not project.session.can_redo:
        return project
    return with_session(project, edits.redo(project.session))



__all__ = ["DEFAULT_BAND", "Project", "area_record", "area_source_of", "file_identity", "basemap_layers", "coverage_by_grid",
           "edit_project", "json_text", "meta_of", "project_from_result", "recount",
           "redo_project", "same_area", "session_from_layers", "undo_project",
           "walk_settings_of", "with_session"]
