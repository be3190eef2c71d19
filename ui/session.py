"""One project at a time: the project the page shows, edits, saves and exports.

The session holds one :class:`Held` project, bound to the area it holds. Each rerun,
:func:`page_run` runs the stage graph for the sidebar's area and settings and makes the
held project follow it:

* a new area starts a new project (switching away from unsaved edits, or from a project
  opened from a file, asks first: :func:`confirm_area`), and what belongs to an area
  (siting request, gap zoom, selection, last edit) resets with it;
* other walking settings re-measure the project's own grids (its edits stay);
* another grid band or household model re-runs the grids around the planner's work:
  locked grids keep their units and ids, the others the previous id they overlap most;
* an opened project replaces the whole page: the sidebar is set to its area and
  settings (:func:`open_into_page`), and the page shows its grids, edits and numbers.

The page then shows the project's layers and summary (grids, coverage, gaps after every
edit, undo or redo), the same ones the exports and the report are made from.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import streamlit as st

from analysis.pipeline import Result
from analysis.project import (Project, area_record, area_source_of, area_title,
                              project_from_result, run_settings_of, same_area,
                              settings_differences, wall_settings_of)
from geo.grids import edits
from geo.i18n import t
from analysis.settings import WalkSettings
from ui import gates_panel, state
from ui.memo import PerObject
from ui.sidebar import BASE_SETTINGS_KEY, HOUSEHOLD_WIDGETS, minutes_option
from analysis.project import json_text
from analysis.project.follow import carried, measured_again, state_digest
from analysis.settings import load_profiles
from analysis.stages import completed
from analysis.stages import prefetch as start
from analysis.stages import stop_prefetch
from geo.catalogue import load_catalogue
from geo.demos import DEMOS

HELD_KEY = "gc_held"
PENDING_KEY = "gc_pending_widgets"
SWITCH_KEY = "gc_switch_to"
OPENED_KEY = "gc_opened_count"
CHANGED_KEY = "gc_settings_changed"  # an opened project's settings the page could not use
#: session state that belongs to one area and resets with it
AREA_STATE = ("siting_request", "gap_zoom", "gap_zoom_kept", "gc_selected", "gc_last_event",
              "gc_last_edit",
              "gc_want_export", "gc_want_report", "gc_want_maps", "gc_want_atlas", "gc_conflict",
              "gc_overwrite_ask", "gc_units_gen",
              "wall_edits", "gates_on",  # gate edits belong to one area's compounds
              CHANGED_KEY, BASE_SETTINGS_KEY)  # an opened project's settings


@dataclass(frozen=True, eq=False)
class Held:
    """The session's project, the area it holds, the grid settings its grids were made
    with, the stage run its numbers came from (``None``: not yet measured on this page)
    and the earlier grids its grid stage kept (``previous``, ``locked``)."""

    project: Project
    area: dict | None
    base: str
    reach_key: tuple | None = None
    kept: tuple | None = None
    run: object = None  # the stage run its numbers came from (to complete it)


def area_of(source: state.Source) -> dict:
    """The area record of a source: its kind, its name as people know it (the demo, the
    uploaded file's own name, the place) and an identity (the uploaded file's content
    hash, not its temporary name)."""
    ident = source.value
    if source.kind == "osm":  # the upload's content hash, as the command line records it
        ident = str(source.value)[:24]
    return area_record(source.kind, source.label or source.value, ident)


def area_label(area: dict | None, lang: str) -> str:
    """An area's name as the page shows it (a demo by its translated name)."""
    return area_title(area, lang)


def default_path(project: Project) -> str:
    """Where a project is saved unless the user says otherwise: its own file, or a file
    named after the area it holds (the demo, the uploaded file's own name, the place)."""
    if project.path is not None:
        return str(project.path)
    fallback = re.sub(r"[^\w\-]+", "_", str(project.meta.get("area") or "")).strip("_")
    stem = file_stem(area_source_of(project.meta), fallback or "gridcircle")
    return str(Path.home() / "gridcircle" / f"{stem}.gpkg")


def file_stem(area: dict | None, fallback: str = "gridcircle") -> str:
    """A file name for an area's project: its name without the file type."""
    name = str((area or {}).get("name") or fallback)
    if (area or {}).get("kind") == "osm":
        name = re.sub(r"(\.osm)?(\.(pbf|bz2|xml|osm))$", "", name, flags=re.I)
    name = re.sub(r"[^\w\-]+", "_", name).strip("_")
    return name or fallback


def base_parts(settings) -> str:
    """The settings the grid stage reads, as the text a project file stores."""

    return json_text({"households": settings.households, "grids": settings.grids})


def _stored_base(project: Project) -> str:
    stored = project.meta.get("settings") or {}
    return json.dumps({"households": stored.get("households"), "grids": stored.get("grids")},
                      ensure_ascii=False)


def held() -> Held | None:
    return st.session_state.get(HELD_KEY)


def project() -> Project | None:
    """The project the panels work on."""
    current = held()
    return current.project if current is not None else None


def hold(project: Project) -> None:
    """Hold ``project`` for an area not known here (the panels used on their own)."""
    st.session_state[HELD_KEY] = Held(project=project, area=area_source_of(project.meta),
                                      base=_stored_base(project))


def store(project: Project) -> None:
    """Keep ``project`` (after an edit, undo, redo or save) as the session's project."""
    current = held()
    if current is not None:
        st.session_state[HELD_KEY] = replace(current, project=project)


def unsaved(current: Held | None) -> bool:
    """Whether the held project has edits that are in no file."""
    if current is None or current.project.session is None:
        return False
    return current.project.path is None and bool(current.project.session.entries)


def widget_scope() -> str:
    """A short name for the held project's area (and each project opened from a file),
    for the keys of widgets that show its grids: a new area or an opened project gets
    fresh widgets, so a browser never keeps showing the previous area's choices."""
    current = held()
    area = (current.area if current is not None else None) or {}
    ident = repr((area.get("kind"), area.get("id"), st.session_state.get(OPENED_KEY, 0)))
    return hashlib.blake2b(ident.encode(), digest_size=5).hexdigest()


def reset_area_state() -> None:
    for key in AREA_STATE:
        st.session_state.pop(key, None)


def grids_digest(project: Project) -> str:
    """Identifies the grids a project shows (for the map caches; kept per grid state: a
    rerun that leaves the grids as they are asks again)."""
    if project.session is None:
        return ""
    grids = project.session.state
    return _DIGESTS.get(grids, lambda: state_digest(grids))


_DIGESTS: PerObject[str] = PerObject()


# ------------------------------------------------------------------ asking first


def widgets_for(meta: dict) -> dict:
    """Sidebar widget values that show a project's area and every setting it was made
    with: the band, the household model, each walking speed and threshold (any value,
    not only the usual choices), whose pace each service is walked at, the services shown
    and the basemap. What the page then still measures otherwise is found by
    :func:`analysis.project.state.settings_differences`."""
    values: dict = {}
    area = area_source_of(meta)
    if area is not None:
        values["source_kind"] = area["kind"]
        if area["kind"] == "demo":
            values["demo"] = area["id"]
        elif area["kind"] == "place":
            values["place"] = area["id"]
    settings = run_settings_of(meta)  # the file's settings, as the run reads them
    values["band"] = settings.grids.band
    for name in HOUSEHOLD_WIDGETS:
        values[name] = getattr(settings.households, name)
    walk = settings.walk
    values.update({f"speed_{key}": float(speed) for key, speed in walk.speeds_mps})
    values.update({f"thr_{key}": minutes_option(m) for key, m in walk.thresholds_min})
    profiles = dict(walk.service_profiles)
    paces = set(profiles.values())
    if profiles == dict(WalkSettings().service_profiles):
        values["walk_profile"] = "catalogue"
    elif len(paces) == 1:
        values["walk_profile"] = paces.pop()
    view = meta.get("view") or {}
    if isinstance(view.get("services"), list):
        values["services"] = [str(k) for k in view["services"]]
    if view.get("basemap") in ("offline", "osm"):
        values["basemap"] = view["basemap"]
    return values


def setting_name(path: str, lang: str) -> str:
    """A setting of :func:`analysis.project.state.settings_differences` by the name the sidebar shows it under."""

    services = {s.key: s.name(lang) for s in load_catalogue()}
    profiles = {p.key: (p.name_zh if lang == "zh" else p.name_en) for p in load_profiles()}
    part, _, rest = path.partition(".")
    name, _, key = rest.partition(".")
    if part == "walk" and name == "thresholds_min" and key in services:
        return t("reopen.threshold", lang, service=services[key])
    if part == "walk" and name == "speeds_mps" and key in profiles:
        return t("page.speed_of", lang, profile=profiles[key])
    if part == "walk" and name == "service_profiles" and key in services:
        return t("reopen.profile_of", lang, service=services[key])
    if part == "grids" and name in ("min_households", "max_households"):
        return t("reopen.band_min" if name == "min_households" else "reopen.band_max", lang)
    if part == "households" and name in HOUSEHOLD_WIDGETS:
        return t(f"page.{name}", lang)
    if part == "walls" and name == "gated":
        return t("gates.on", lang)
    return t("reopen.other", lang, name=path)


def notices(lang: str) -> None:
    """What the page says about the opened project before its numbers: the settings it
    could not use as saved (never a silent change)."""
    changed = st.session_state.get(CHANGED_KEY) or []
    if changed:
        items = "；".join if lang == "zh" else "; ".join
        st.warning(t("reopen.changed", lang, count=len(changed), items=items(
            t("reopen.item", lang, name=setting_name(path, lang), saved=saved, now=now)
            for path, saved, now in changed)))


def waiting_for_file(lang: str) -> str | None:
    """The sentence that asks for an opened project's OSM file by name (and says its
    content will be checked), or ``None`` when no opened project waits for one."""
    current = held()
    if current is None or current.reach_key is not None or current.area is None:
        return None
    if current.area.get("kind") != "osm":
        return None
    return t("reopen.needs_osm", lang, name=area_title(current.area, lang),
             ident=str(current.area.get("id", ""))[:12])


def apply_pending() -> None:
    """Set widget values asked for on the last run (before the sidebar draws them)."""

    for key, value in (st.session_state.pop(PENDING_KEY, None) or {}).items():
        if key == "demo" and value not in DEMOS:  # another size of the synthetic district
            st.query_params["demo"] = value
        st.session_state[key] = value


def open_into_page(project: Project) -> None:
    """Make an opened project the page's: its area and settings go into the sidebar on
    the next run, and what belonged to the previous area resets."""
    reset_area_state()
    st.session_state[OPENED_KEY] = st.session_state.get(OPENED_KEY, 0) + 1
    st.session_state[HELD_KEY] = Held(project=project, area=area_source_of(project.meta),
                                      base=_stored_base(project))
    walls = wall_settings_of(project.meta)  # the planner's gate edits, as saved
    st.session_state[gates_panel.KEY] = walls.as_dict()
    st.session_state[BASE_SETTINGS_KEY] = run_settings_of(project.meta)
    st.session_state[PENDING_KEY] = {**widgets_for(project.meta), "gates_on": walls.gated}
    st.session_state.pop(SWITCH_KEY, None)


def confirm_area(source: state.Source, lang: str) -> bool:
    """Whether the page may show ``source``'s area now. Switching away from unsaved edits,
    or from an opened project not shown yet, asks first (and returns ``False`` while the
    question is on screen)."""
    current = held()
    area = area_of(source)
    if current is None or current.area is None or same_area(current.area, area):
        return True
    waiting = current.reach_key is None and current.project.path is not None
    if not (unsaved(current) or waiting):
        return True
    if st.session_state.get(SWITCH_KEY) == (area["kind"], area["id"]):
        return True
    name = area_label(current.area, lang) or current.project.meta.get("area", "")
    key = "session.switch_opened" if waiting else "session.switch_unsaved"
    other = area_label(area, lang)
    if waiting and current.area.get("kind") == "osm" and area.get("kind") == "osm":
        st.warning(t("reopen.osm_mismatch", lang, name=name, other=other,
                     ident=str(current.area.get("id", ""))[:12],
                     uploaded=str(area.get("id", ""))[:12]))
    else:
        st.warning(t(key, lang, name=name, other=other,
                     count=len(current.project.session.entries) if current.project.session else 0))
    cols = st.columns(2)
    if cols[0].button(t("session.switch_go", lang, other=other), key="gc_switch_go"):
        st.session_state[SWITCH_KEY] = (area["kind"], area["id"])
        st.session_state.pop(HELD_KEY, None)
        reset_area_state()
        st.rerun()
    back = widgets_for({"area_source": current.area}) if current.area else {}
    if current.area and current.area.get("kind") != "osm":
        if cols[1].button(t("session.switch_back", lang, name=name), key="gc_switch_back"):
            st.session_state[PENDING_KEY] = {"source_kind": back.get("source_kind"),
                                             **{k: v for k, v in back.items()
                                                if k in ("demo", "place")}}
            st.rerun()
    return False


# ------------------------------------------------------------------ the page's run


def page_run(page, *, progress: Callable[[str], None] | None = None) -> state.PageRun:
    """The stage run for the page's area and settings, with the session's project
    following it (see the module's description); what the page shows is the project."""

    stop_prefetch()  # what the planner asked for now goes first
    area = area_of(page.source)
    base = base_parts(page.run)
    current = held()
    if current is not None and current.area is None:  # a file from before areas were kept
        current = replace(current, area=area)
    if current is not None and not same_area(current.area, area):
        reset_area_state()
        current = None
    kept = None
    if current is not None:
        kept = current.kept
        if current.base != base and current.reach_key is not None:
            kept = _kept_grids(current.project)
    previous, locked = kept if kept is not None else (None, ())
    run = state.stage_run(page.source, page.run, page.uploads, services=page.services,
                          previous=previous, locked=locked, progress=progress)
    reach_key = run.keys["reach"]
    if current is None:
        made = project_from_result(run.result, area_source=area)
        current = Held(project=made, area=area, base=base, reach_key=reach_key)
    elif current.base != base and current.reach_key is not None:
        made = carried(project_from_result(run.result, area_source=area), current.project)
        current = Held(project=made, area=area, base=base, reach_key=reach_key, kept=kept)
    elif current.reach_key != reach_key:
        if current.reach_key is None:  # an opened project, measured on this page first now
            st.session_state[CHANGED_KEY] = settings_differences(
                current.project.meta.get("settings") or {}, run.result.settings)
        before = current.run.keys if current.run is not None and current.reach_key else None
        made = measured_again(current.project, run.result, run.keys, before=before,
                              area_source=area)  # its own grids kept when the run kept them
        current = replace(current, project=made, base=base, reach_key=reach_key)
    view = {"services": list(page.services), "basemap": page.basemap}
    if current.project.meta.get("view") != view:  # saved with the project, restored on opening
        current = replace(current, project=replace(
            current.project, meta={**current.project.meta, "view": view}))
    st.session_state[HELD_KEY] = replace(current, run=run)
    st.session_state.pop(SWITCH_KEY, None)
    digest = grids_digest(current.project)
    return state.PageRun(result=shown(current.project, run.result), index=run.index,
                         reach=run.reach, base_key=(run.keys["base"], digest),
                         reach_key=(reach_key, digest), project=current.project)


def _kept_grids(project: Project) -> tuple | None:
    """The grids a re-run keeps: every unit's grid and the locked grids (``None`` when
    the planner has neither edited nor locked anything)."""
    if project.session is None:
        return None
    previous, locked = edits.rerun_inputs(project.session.state)
    if not project.session.entries and not locked and project.path is None:
        return None
    return previous, tuple(sorted(locked))


def complete(project: Project) -> Project:
    """``project`` with every service's areas and the households they misclassify, as the
    command line writes them (the page draws only the services it shows): called before
    a project is saved, autosaved, exported or reported."""

    reach = project.summary.get("reach")
    current = held()
    if not isinstance(reach, dict) or "polygon_misclassified_households" in reach:
        return project
    if current is None or current.run is None:
        return project
    full = completed(current.run).result
    layers = {**project.layers, "service_areas": full.layers["service_areas"]}
    figures = full.summary["reach"]["polygon_misclassified_households"]
    summary = {**project.summary, "reach": {**reach, "polygon_misclassified_households":
                                            json.loads(json.dumps(figures, default=int))}}
    done = replace(project, layers=layers, meta={**project.meta, "summary": summary})
    store(done)
    return done


PREFETCH_AFTER_S = 1.5  # the planner's pause before the page makes what may come next


def prefetch() -> None:
    """Once the page is drawn: the service areas of the services not shown yet are made
    in the background (:func:`analysis.stages.prefetch`), so that showing one of them,
    saving or making the report does not wait for them."""

    current = held()
    if current is not None and current.run is not None:
        start(current.run, delay_s=PREFETCH_AFTER_S)


def shown(project: Project, result: Result) -> Result:
    """What the page shows: the run's area and settings with the project's layers and
    summary (so edits show everywhere, as in the exports and the report); the service
    areas are the run's (those shown; they do not depend on grids)."""
    layers = {name: result.layers[name] if name == "service_areas"
              else project.layers.get(name, frame) for name, frame in result.layers.items()}
    summary = {**result.summary, **project.summary, "timings_s": result.summary["timings_s"]}
    return replace(result, layers=layers, summary=summary)


__all__ = ["Held", "apply_pending", "area_label", "area_of", "base_parts", "complete", "confirm_area", "file_stem",
           "grids_digest", "held", "hold", "open_into_page", "page_run", "prefetch", "project", "reset_area_state",
           "shown", "store", "unsaved", "widget_scope", "widgets_for"]
