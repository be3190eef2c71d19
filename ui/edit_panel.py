"""Grid editing on the page: pick units by clicking or drawing, move / merge / split /
lock / rename, undo and redo, and see what each edit did to the grids it touched.

The page calls :func:`panel` (``panel(result, page)``). The project being edited lives in
``st.session_state`` (one per run, so switching areas never drops unsaved edits), and is
autosaved after every edit when it is bound to a file (see :mod:`ui.export_panel`).
Everything that is not drawing widgets happens in :mod:`geo.grids.edits` and
:mod:`analysis.project`; the small helpers here that build the editing map and read its
events are plain functions, tested without Streamlit.

The map draws with Leaflet.draw, vendored under ``static/vendor/leaflet-draw`` and served
by the page's static file serving like Leaflet itself, so drawing works offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Hashable

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st
from folium.plugins import Draw

from analysis.pipeline import OSM_CREDIT, Result
from analysis.project import (Project, autosave, edit_project, project_from_result,
                              redo_project, undo_project)
from geo.grids import edits
from geo.errors import GridcircleError
from geo.i18n import t
from ui import assets, mapframe, mapview
from ui.state import rendered_map

STATE_KEY = "gc_projects"
ACTIVE_KEY = "gc_active_project"
AUTHOR_KEY = "gc_author"
LAST_EDIT_KEY = "gc_last_edit"
MAX_UNIT_MARKERS = 20_000
OPS = ("move", "merge", "split", "lock", "rename")


# ------------------------------------------------------------ the project in the session


def run_key(result: Result, page: object) -> Hashable:
    """Identifies the run a project was made from (the page's own cache key parts)."""
    parts = tuple(getattr(page, name, None) for name in ("source", "uploads", "run"))
    return ("run", parts) if any(p is not None for p in parts) else ("result", id(result))


def current_project(result: Result, page: object) -> Project:
    """The project the panels work on: an opened file, or the page's run (with its edits)."""
    projects = st.session_state.setdefault(STATE_KEY, {})
    key = run_key(result, page)
    active = st.session_state.get(ACTIVE_KEY)
    if active is not None and active[0] == "file" and active[1] == key and active in projects:
        return projects[active]
    if key not in projects:
        projects[key] = project_from_result(result)
    st.session_state[ACTIVE_KEY] = key
    return projects[key]


def set_project(result: Result, page: object, project: Project, *, opened: bool = False) -> None:
    """Make ``project`` the one the panels work on (``opened``: a file the user opened)."""
    projects = st.session_state.setdefault(STATE_KEY, {})
    key = run_key(result, page)
    active = st.session_state.get(ACTIVE_KEY)
    if opened:
        active = ("file", key, str(project.path))
    elif active is None or active[0] != "file" or active[1] != key:
        active = key
    projects[active] = project
    st.session_state[ACTIVE_KEY] = active


def leave_file(result: Result, page: object) -> None:
    """Go back from an opened file to the page's own run."""
    st.session_state[ACTIVE_KEY] = run_key(result, page)


# ------------------------------------------------------------------ the editing map


ROAD_STYLE = {"arterial": ("#d9a441", 3.0)}  # every other class: thin grey


def edit_map(project: Project, *, lang: str = "zh", selected: list[str] = (),
             highlight: list[str] = ()) -> folium.Map:
    """The editing map: grids (flagged ones outlined red), units, a drawing tool.

    ``selected`` units are drawn larger; ``highlight`` grids get a thick outline. Roads
    are merged into one feature per class and every layer carries its style in its
    features (as on the page's main map, :mod:`ui.mapview`), so the map stays light.
    """
    state = project.session.state
    grids = state.grids
    x0, y0, x1, y1 = gpd.GeoSeries(grids.geometry, crs=state.crs).to_crs(4326).total_bounds
    fmap = folium.Map(tiles=None, control_scale=True, prefer_canvas=True)
    fmap.get_root().html.add_child(folium.Element(
        "<style>.leaflet-container{background:#f4f1ea;}</style>"))
    fmap.fit_bounds([[y0, x0], [y1, x1]])
    fmap.get_bounds = lambda: [[y0, x0], [y1, x1]]  # known: no need to walk every vertex
    roads = project.layers.get("roads")
    if isinstance(roads, gpd.GeoDataFrame) and len(roads) and len(roads) <= 50_000:
        features = []
        arterial = roads["road_class"] == "arterial"
        for part, (colour, weight) in ((roads[arterial], ROAD_STYLE["arterial"]),
                                       (roads[~arterial], ("#b8b8b8", 1.0))):
            if len(part):
                one = mapview.merged(part)
                features += mapview.geojson(one, simplify_m=1.5, style=[
                    {"color": colour, "weight": weight, "opacity": 0.9}] * len(one))["features"]
        folium.GeoJson({"type": "FeatureCollection", "features": features},
                       name=t("map.roads", lang)).add_to(fmap)
    highlight = set(highlight)
    data = grids[["grid_id", "name", "households", "in_band", "contiguous", "arterial_crossings",
                  "locked", "geometry"]].copy()
    flag = ((data["in_band"].astype(int) == 0) | (data["contiguous"].astype(int) == 0)
            | (data["arterial_crossings"].astype(int) > 0)).to_numpy()
    lit = data["grid_id"].isin(highlight).to_numpy()
    data["locked"] = data["locked"].astype(bool).map({True: "🔒", False: ""})
    palette = ("#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada",
               "#80b1d3", "#fccde5", "#ccebc5")
    style = [{"fillColor": palette[k % len(palette)], "fillOpacity": 0.45,
              "color": "#e31a1c" if f else "#333333", "weight": 4 if h else 2 if f else 1}
             for k, (f, h) in enumerate(zip(flag, lit))]
    folium.GeoJson(
        mapview.geojson(data, ["grid_id", "name", "households", "locked"], style=style),
        name=t("edit.map_grids", lang),
        tooltip=folium.GeoJsonTooltip(
            fields=["grid_id", "name", "households", "locked"],
            aliases=[t("edit.col.grid", lang), t("edit.col.name", lang),
                     t("edit.col.households", lang), ""])).add_to(fmap)
    cells = state.cells
    has = pd.notna(cells["unit_id"]).to_numpy()
    if 0 < has.sum() <= MAX_UNIT_MARKERS:
        units = cells["unit_id"].to_numpy()[has]
        hh = cells["households"].to_numpy()[has]
        grid = state.grid_of_cell[has]
        chosen = set(selected)
        on = np.array([u in chosen for u in units], dtype=bool)
        unit = t("map.hh_unit", lang)
        points = gpd.GeoDataFrame(
            {"label": [f"{u} · {n} {unit} · {g}" for u, n, g in zip(units, hh, grid)]},
            geometry=shapely.point_on_surface(cells.geometry.to_numpy()[has]), crs=state.crs)
        style = [{"radius": 7, "color": "#08306b", "weight": 2} if o else
                 {"radius": 3, "color": "#555555", "weight": 0.5} for o in on]
        folium.GeoJson(mapview.geojson(points, ["label"], style=style),
                       name=t("map.households", lang),
                       marker=folium.CircleMarker(radius=3, fill=True, fill_opacity=0.9),
                       tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)).add_to(fmap)
    Draw(export=False, position="topleft",
         draw_options={"polyline": False, "circle": False, "marker": False,
                       "circlemarker": False, "polygon": True, "rectangle": True},
         edit_options={"edit": False, "remove": True}).add_to(fmap)
    credit = project.credit or "Gridcircle"
    fmap.get_root().html.add_child(folium.Element(
        f'<div style="position:absolute;bottom:20px;right:4px;z-index:9999;'
        f'background:rgba(255,255,255,.8);font-size:11px;padding:1px 4px">{credit}</div>'))
    return assets.localise(fmap)


def map_key(project: Project, *, lang: str, selected: list[str] = (),
            highlight: list[str] = ()) -> tuple:
    """Everything :func:`edit_map` draws, as a short hashable key: a digest of the grids,
    the cells and their assignment, and the roads, with the language and the selection.
    (A project made again for the same grids, e.g. after a walking-speed change, has the
    same key, so its map is not drawn again.)"""
    state = project.session.state
    digest = hashlib.blake2b(digest_size=16)
    frames = [state.grids, state.cells[["unit_id", "households", "geometry"]]]
    roads = project.layers.get("roads")
    if isinstance(roads, gpd.GeoDataFrame):
        frames.append(roads[["road_class", "geometry"]])
    for frame in frames:
        plain = pd.DataFrame(frame.drop(columns="geometry"))
        digest.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
        digest.update(b"".join(shapely.to_wkb(frame.geometry.to_numpy())))
    digest.update(np.asarray(state.grid_of_cell).astype(str).tobytes())
    digest.update(str((project.credit, str(state.crs))).encode())
    return (digest.hexdigest(), lang, tuple(selected), tuple(highlight))


def units_from_event(project: Project, event: dict | None) -> list[str]:
    """Units chosen on the map: every unit inside the last drawn shape, or the unit under
    the last click. ``event`` is what ``st_folium`` returned (or ``None``)."""
    if not event or project.session is None:
        return []
    state = project.session.state
    drawing = event.get("last_active_drawing")
    if drawing and drawing.get("geometry"):
        shape = shapely.geometry.shape(drawing["geometry"])
        if shape.geom_type in ("Polygon", "MultiPolygon"):
            return edits.units_in_polygon(state, shape, crs=4326)
    click = event.get("last_object_clicked")
    if click and "lat" in click and "lng" in click:
        unit = edits.nearest_unit(state, float(click["lng"]), float(click["lat"]), crs=4326)
        return [unit] if unit else []
    return []


def grid_choices(project: Project) -> list[str]:
    return project.session.state.grid_ids() if project.session else []


def grid_label(project: Project, lang: str):
    table = project.session.state.grids.set_index("grid_id")

    def label(gid: str) -> str:
        if gid not in table.index:
            return gid
        row = table.loc[gid]
        name = f" {row['name']}" if row["name"] else ""
        lock = " 🔒" if row["locked"] else ""
        return f"{gid}{name} · {int(row['households'])} {t('map.hh_unit', lang)}{lock}"

    return label


def edit_table(edit: edits.Edit, lang: str) -> pd.DataFrame:
    """The before/after table of one edit with the page's column names."""
    table = edits.before_after(edit.entry)
    names = {"grid_id": t("edit.col.grid", lang)}
    for col in ("households", "in_band", "contiguous", "arterial_crossings", "polsby_popper", "locked"):
        for when in ("before", "after"):
            names[f"{col}_{when}"] = t("edit.col.change", lang, what=t(f"edit.col.{col}", lang),
                                       when=t(f"edit.{when}", lang))
    return table.rename(columns=names)


# ------------------------------------------------------------------------- the panel


def _units_key() -> str:
    """Key of the unit multiselect; a new one after each move clears the selection."""
    return f"gc_units_{st.session_state.get('gc_units_gen', 0)}"


def _store(result: Result, page: object, project: Project, edit: edits.Edit | None,
           lang: str) -> None:
    author = st.session_state.get(AUTHOR_KEY, "")
    note = None
    if project.path is not None:
        try:
            project, note = autosave(project, author=author)
        except GridcircleError as exc:
            st.session_state["gc_autosave_error"] = exc.message(lang)
    set_project(result, page, project)
    st.session_state[LAST_EDIT_KEY] = (edit, note)


def panel(result: Result, page: object) -> None:
    """The grid editing panel (called by the page with its result and settings)."""
    lang = getattr(page, "lang", "zh")
    st.subheader(t("edit.title", lang))
    project = current_project(result, page)
    if project.session is None:
        st.info(t("edit.no_grids", lang))
        return
    author = st.text_input(t("edit.author", lang), key=AUTHOR_KEY,
                           placeholder=t("edit.author_hint", lang))
    session = project.session
    cols = st.columns([1, 1, 4])
    if cols[0].button(t("edit.undo", lang), disabled=not session.can_undo, key="gc_undo",
                      use_container_width=True):
        _store(result, page, undo_project(project), None, lang)
        st.rerun()
    if cols[1].button(t("edit.redo", lang), disabled=not session.can_redo, key="gc_redo",
                      use_container_width=True):
        _store(result, page, redo_project(project), None, lang)
        st.rerun()
    cols[2].caption(t("edit.position", lang, done=session.position, total=len(session.entries)))

    op = st.radio(t("edit.operation", lang), OPS, horizontal=True, key="gc_op",
                  format_func=lambda o: t(f"edit.op.{o}", lang))
    selected = st.session_state.get("gc_selected", [])
    drawn = rendered_map(("edit", map_key(project, lang=lang, selected=selected)),
                         lambda: edit_map(project, lang=lang, selected=selected))
    event = mapframe.show(drawn, key="gc_edit_map", height=520, use_container_width=True,
                          returned_objects=["last_active_drawing", "last_object_clicked"])
    # st_folium keeps returning the last drawing or click; act on each one once
    signature = repr(sorted((event or {}).items()))
    if signature != st.session_state.get("gc_last_event"):
        st.session_state["gc_last_event"] = signature
        picked = units_from_event(project, event)
        if picked:
            st.session_state["gc_selected"] = picked
            st.session_state[_units_key()] = picked  # the multiselect below shows them
            selected = picked
    label = grid_label(project, lang)
    grids = grid_choices(project)
    try:
        if op == "move":
            st.caption(t("edit.move_hint", lang))
            options = sorted(project.session.state.unit_grid().index)
            known = set(options)
            if any(u not in known for u in st.session_state.get(_units_key(), [])):
                st.session_state[_units_key()] = [u for u in st.session_state[_units_key()] if u in known]
            chosen = st.multiselect(t("edit.units", lang), options, key=_units_key())
            new = "__new__"
            target = st.selectbox(t("edit.target", lang), [new] + grids, key="gc_target",
                                  format_func=lambda g: t("edit.new_grid", lang) if g == new else label(g))
            if st.button(t("edit.apply_move", lang), key="gc_apply_move", disabled=not chosen):
                work, edit = edit_project(project, edits.move_units, chosen,
                                          None if target == new else target, author=author)
                st.session_state["gc_selected"] = []
                st.session_state["gc_units_gen"] = st.session_state.get("gc_units_gen", 0) + 1
                _store(result, page, work, edit, lang)
                st.rerun()
        elif op == "merge":
            keep = st.selectbox(t("edit.keep", lang), grids, key="gc_keep", format_func=label)
            absorb = st.selectbox(t("edit.absorb", lang), [g for g in grids if g != keep],
                                  key="gc_absorb", format_func=label)
            if st.button(t("edit.apply_merge", lang), key="gc_apply_merge", disabled=absorb is None):
                work, edit = edit_project(project, edits.merge_grids, keep, absorb, author=author)
                _store(result, page, work, edit, lang)
                st.rerun()
        elif op == "split":
            grid = st.selectbox(t("edit.split_grid", lang), grids, key="gc_split", format_func=label)
            if st.button(t("edit.apply_split", lang), key="gc_apply_split"):
                work, edit = edit_project(project, edits.split_grid, grid, author=author)
                _store(result, page, work, edit, lang)
                st.rerun()
        elif op == "lock":
            chosen = st.multiselect(t("edit.lock_grids", lang), grids, key="gc_lock", format_func=label)
            c1, c2 = st.columns(2)
            for locked, column, key in ((True, c1, "gc_apply_lock"), (False, c2, "gc_apply_unlock")):
                if column.button(t("edit.apply_lock" if locked else "edit.apply_unlock", lang),
                                 key=key, disabled=not chosen):
                    work, edit = edit_project(project, edits.set_locked, chosen, locked, author=author)
                    _store(result, page, work, edit, lang)
                    st.rerun()
        else:
            grid = st.selectbox(t("edit.rename_grid", lang), grids, key="gc_rename", format_func=label)
            name = st.text_input(t("edit.new_name", lang), key="gc_new_name")
            if st.button(t("edit.apply_rename", lang), key="gc_apply_rename"):
                work, edit = edit_project(project, edits.rename_grid, grid, name, author=author)
                _store(result, page, work, edit, lang)
                st.rerun()
    except GridcircleError as exc:
        st.error(exc.message(lang))

    last = st.session_state.get(LAST_EDIT_KEY)
    if last:
        edit, note = last
        if edit is not None:
            st.markdown(t("edit.last", lang, op=t(f"edit.op.{edit.entry.op}", lang)))
            st.dataframe(edit_table(edit, lang), hide_index=True, use_container_width=True)
            for text in edit.entry.warning_texts(lang):
                st.warning(text)
        if note is not None:
            st.warning(t(note[0], lang, **note[1]))
    failure = st.session_state.pop("gc_autosave_error", None)
    if failure:
        st.error(failure)
    if project.path is not None:
        st.caption(t("edit.autosaved", lang, path=str(project.path), revision=project.revision))
    else:
        st.caption(t("edit.not_saved", lang))
    with st.expander(t("edit.journal", lang, count=len(session.entries))):
        rows = [{t("edit.col.time", lang): e.time_utc, t("edit.col.author", lang): e.author,
                 t("edit.col.op", lang): t(f"edit.op.{e.op}", lang),
                 t("edit.col.grids", lang): ", ".join(e.touched()),
                 t("edit.col.applied", lang): "✓" if k < session.position else "↶"}
                for k, e in enumerate(session.entries)]
        if rows:
            st.dataframe(pd.DataFrame(rows), hide_index=True, use_container_width=True)
    if project.credit:
        st.caption(OSM_CREDIT)


__all__ = ["current_project", "edit_map", "edit_table", "leave_file", 
           "panel", "set_project", "units_from_event"]
