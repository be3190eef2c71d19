"""Grid editing on the page: pick units by clicking or drawing, move / merge / split /
lock / rename, undo and redo, and see what each edit did to the grids it touched.

The page calls :func:`panel` (``panel(result, page)``). The project being edited is the
session's one project (:mod:`ui.session`; switching area with unsaved edits asks first),
and is autosaved after every edit when it is bound to a file (see :mod:`ui.export_panel`).
Everything that is not drawing widgets happens in :mod:`geo.grids.edits` and
:mod:`analysis.project`; the small helpers here that build the editing map and read its
events are plain functions, tested without Streamlit.

The map draws with Leaflet.draw, vendored under ``static/vendor/leaflet-draw`` and served
by the page's static file serving like Leaflet itself, so drawing works offline.
"""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from analysis.export import neutral_frame
from analysis.pipeline import OSM_CREDIT, Result
from analysis.project import (Project, autosave, edit_project, project_from_result,
                              redo_project, undo_project)
from geo.grids import edits
from geo.errors import GridcircleError
from geo.grids.heap import few_collections
from geo.i18n import t
from ui import lazy, mapframe, restore, session, widgets
from ui.editmap import (MAX_UNIT_MARKERS, edit_base, edit_groups, edit_map, grids_touch,
                        neighbour_grid, selection_households, unit_names)
from ui.memo import PerObject
from ui.sidebar import PageSettings
from ui.state import rendered_map, rendered_part

AUTHOR_KEY = "gc_author"
LAST_EDIT_KEY = "gc_last_edit"
EDITED_KEY = "gc_edited"  # an edit was applied: the whole page shows it (see panel)
OPS = ("move", "merge", "split", "lock", "rename")


# ------------------------------------------------------------ the project in the session


def current_project(result: Result, page: PageSettings) -> Project:
    """The session's one project (:mod:`ui.session`): the page's run with its edits, or
    the project file the planner opened."""
    held = session.project()
    if held is None:  # the panels on their own (without the page's run)
        held = project_from_result(result)
        session.hold(held)
    return held


def set_project(result: Result, page: PageSettings, project: Project, *,
                opened: bool = False) -> None:
    """Keep ``project`` as the session's project (``opened``: a file the planner opened,
    which replaces the whole page)."""
    if opened:
        session.open_into_page(project)
    else:
        session.store(project)


# ------------------------------------------------------------------ the editing map


def _digest(frames, *more: object) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for frame in frames:
        plain = pd.DataFrame(frame.drop(columns="geometry"))
        digest.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
        digest.update(b"".join(shapely.to_wkb(frame.geometry.to_numpy())))
    for value in more:
        digest.update(value if isinstance(value, bytes) else str(value).encode())
    return digest.hexdigest()


_BASE_KEYS: PerObject[str] = PerObject()


def base_key(project: Project, *, lang: str) -> tuple:
    """Everything :func:`ui.editmap.edit_base` draws, as a short hashable key: the roads,
    the units' outlines, the credit and the area (what grid edits leave as it is), with
    the language. Kept per roads layer and cells: it is asked for on every rerun."""
    state = project.session.state
    roads = project.layers.get("roads")
    ident = (id(state.cells), str(state.crs), project.credit, project.meta.get("area"))

    def make() -> str:
        frames = [state.cells[["geometry"]]]
        if isinstance(roads, gpd.GeoDataFrame):
            frames.append(roads[["road_class", "geometry"]])
        return _digest(frames, str(ident[1:]))
    return (_BASE_KEYS.get(roads, make, extra=ident), lang)


def map_key(project: Project, *, lang: str, selected: list[str] = (),
            highlight: list[str] = ()) -> tuple:
    """Everything :func:`ui.editmap.edit_groups` draws, as a short hashable key: a digest
    of the grids, the cells and their assignment, with the language and the selection.
    (A project made again for the same grids, e.g. after a walking-speed change, has the
    same key, so its map is not drawn again.)"""
    state = project.session.state
    digest = _MAP_KEYS.get(state, lambda: _digest(  # kept per grid state (asked every rerun)
        [state.grids, state.cells[["unit_id", "households", "geometry"]]],
        np.asarray(state.grid_of_cell).astype(str).tobytes(), str(state.crs)))
    return (digest, lang, tuple(selected), tuple(highlight))


_MAP_KEYS: PerObject[str] = PerObject()


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
    """A grid's name in the edit panel's lists (made for every grid at once: the lists
    ask for each of hundreds of grids on every rerun)."""
    table = project.session.state.grids
    unit = t("map.hh_unit", lang)
    labels = {gid: f"{gid}{f' {name}' if name else ''} · {int(hh)} {unit}{' 🔒' if locked else ''}"
              for gid, name, hh, locked in zip(table["grid_id"], table["name"],
                                                table["households"], table["locked"])}
    return lambda gid: labels.get(gid, gid)


def edit_table(edit: edits.Edit, lang: str) -> pd.DataFrame:
    """The before/after table of one edit with the page's column names."""
    table = edits.before_after(edit.entry)
    yes_no = {True: t("edit.yes", lang), False: t("edit.no", lang)}
    for col in table.columns:
        if col.startswith(("in_band_", "contiguous_", "locked_")):
            table[col] = table[col].map(lambda v: "–" if v is None or pd.isna(v)
                                        else yes_no[bool(v)]).astype(str)
        elif col.startswith("polsby_popper_"):
            table[col] = table[col].map(lambda v: "–" if v is None or pd.isna(v)
                                        else f"{float(v):.2f}").astype(str)
        elif col != "grid_id":
            table[col] = table[col].map(lambda v: "–" if v is None or pd.isna(v)
                                        else f"{int(v):,}").astype(str)
    names = {"grid_id": t("edit.col.grid", lang)}
    for col in ("households", "in_band", "contiguous", "arterial_crossings", "polsby_popper", "locked"):
        for when in ("before", "after"):
            names[f"{col}_{when}"] = t("edit.col.change", lang, what=t(f"edit.col.{col}", lang),
                                       when=t(f"edit.{when}", lang))
    return table.rename(columns=names)


def local_time(stamp: object) -> str:
    """An ISO time stamp (UTC) as the reader's local time, to the minute."""
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return str(stamp)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------------- the panel


def wkey(name: str) -> str:
    """The key of an edit-panel widget that shows the project's grids or units: one per
    area and opened project (:func:`ui.session.widget_scope`), so a new area gets fresh
    widgets (a browser keeps a drawn widget's labels for as long as its key lives)."""
    return f"{name}@{session.widget_scope()}"


def _units_key() -> str:
    """Key of the unit multiselect; a new one after each move clears the selection."""
    return wkey(f"gc_units_{st.session_state.get('gc_units_gen', 0)}")


def _store(project: Project, edit: edits.Edit | None, lang: str) -> None:
    author = st.session_state.get(AUTHOR_KEY, "")
    note = None
    if project.path is not None:
        try:
            project, note = autosave(session.complete(project), author=author)
        except GridcircleError as exc:
            st.session_state["gc_autosave_error"] = exc.message(lang)
    else:  # not saved yet: a copy survives a reload of the page (ui/restore.py)
        restore.keep(project, author)
    session.store(project)
    st.session_state[LAST_EDIT_KEY] = (edit, note)


NEW_GRID = "__new__"


def _edit_of(op: str, project: Project, author: str) -> tuple[Project, edits.Edit | None]:
    """The edit ``op`` with the choices now in the panel's widgets."""
    chosen = st.session_state.get
    if op == "undo":
        return undo_project(project), None
    if op == "redo":
        return redo_project(project), None
    if op == "move":
        target = chosen(wkey("gc_target"))
        return edit_project(project, edits.move_units, list(chosen(_units_key()) or []),
                            None if target == NEW_GRID else target, author=author)
    if op == "merge":
        return edit_project(project, edits.merge_grids, chosen(wkey("gc_keep")),
                            chosen(wkey("gc_absorb")), author=author)
    if op == "split":
        return edit_project(project, edits.split_grid, chosen(wkey("gc_split")), author=author)
    if op in ("lock", "unlock"):
        return edit_project(project, edits.set_locked, list(chosen(wkey("gc_lock")) or []),
                            op == "lock", author=author)
    return edit_project(project, edits.rename_grid, chosen(wkey("gc_rename")),
                        chosen(wkey("gc_new_name"), ""), author=author)


@few_collections()  # the edit and its re-count (see ui/page.py)
def _apply(op: str, lang: str) -> None:
    """A button's action (Streamlit calls it before the page is drawn again): the edit
    ``op`` is applied to the session's project, so the run that follows the click shows
    it everywhere at once (numbers, tables, both maps) instead of drawing the page once
    more after the edit."""
    project = session.project()
    if project is None or project.session is None:
        return
    try:
        work, edit = _edit_of(op, project, st.session_state.get(AUTHOR_KEY, ""))
    except GridcircleError as exc:
        st.session_state["gc_edit_error"] = exc.message(lang)
        return
    if op == "move":
        st.session_state["gc_selected"] = []
        st.session_state["gc_units_gen"] = st.session_state.get("gc_units_gen", 0) + 1
    if op == "merge":
        st.session_state.pop(wkey("gc_merge_apart_ok"), None)
    _store(work, edit, lang)
    st.session_state[EDITED_KEY] = True


def _move(project: Project, grids: list[str], label, lang: str) -> None:
    """Move: the units chosen (named as people name them, with their total households)
    into a grid, by default the neighbouring grid the selection touches."""
    st.caption(t("edit.move_hint", lang))
    named = unit_names(project, lang)
    options = sorted(project.session.state.unit_grid().index, key=lambda u: (named.get(u, u), u))
    known = set(options)
    if any(u not in known for u in st.session_state.get(_units_key(), [])):
        st.session_state[_units_key()] = [u for u in st.session_state[_units_key()] if u in known]
    chosen = widgets.multiselect(t("edit.units", lang), options, key=_units_key(), lang=lang,
                                 format_func=lambda u: named.get(u, u))
    neighbour = neighbour_grid(project, chosen) if chosen else None
    if chosen:
        st.caption(t("edit.selection_total", lang, units=len(chosen),
                     households=f"{selection_households(project, chosen):,}"))
    targets = grids + [NEW_GRID]
    if neighbour is not None and st.session_state.get("gc_target_for") != tuple(chosen):
        # a new selection: its neighbouring grid becomes the target
        st.session_state["gc_target_for"] = tuple(chosen)
        st.session_state[wkey("gc_target")] = neighbour
    target = widgets.selectbox(
        t("edit.target", lang), targets, key=wkey("gc_target"), lang=lang,
        index=targets.index(neighbour) if neighbour in targets else 0,
        format_func=lambda g: t("edit.new_grid", lang) if g == NEW_GRID else label(g))
    if neighbour is not None and target == neighbour:
        st.caption(t("edit.target_neighbour", lang, grid=neighbour))
    _button("move", "edit.apply_move", lang, disabled=not chosen)


def _button(op: str, label_key: str, lang: str, *, where=None, key: str | None = None,
            **kwargs) -> None:
    """The button that applies ``op`` (:func:`_apply`, as the click's callback)."""
    (where or st).button(t(label_key, lang), key=key or f"gc_apply_{op}", on_click=_apply,
                         args=(op, lang), **kwargs)


def save_status(where, lang: str) -> None:
    """Whether the session's project is in a file, drawn into the placeholder ``where``.
    The page draws it again after the project panel (which may save in the same run), so
    "not saved yet" never stands above "saved to …"."""
    project = session.project()
    if project is None:
        where.empty()
    elif project.path is not None:
        where.caption(widgets.plain(t("edit.autosaved", lang, path=str(project.path),
                                      revision=project.revision)))
    else:
        where.caption(t("edit.not_saved", lang))


def page_run_started() -> None:
    """Called by the page on each of its runs, before :func:`panel`: the run shows any
    edit applied (so the panel asks for no second one)."""
    st.session_state.pop(EDITED_KEY, None)


@st.fragment
def panel(result: Result, page: PageSettings):
    """The grid editing panel (called by the page with its result and settings). Returns
    the placeholder of the save status, for :func:`save_status` after saving.

    A fragment: choosing an operation, units, grids or a map selection reruns only this
    panel, not the page; an edit (:func:`_apply`, a button's callback) reruns the whole
    page, whose numbers, tables and main map show it."""
    if st.session_state.pop(EDITED_KEY, False):
        st.rerun()  # the page, from this panel's run of the edit's click
    lang = page.lang
    st.subheader(t("edit.title", lang))
    project = current_project(result, page)
    if project.session is None:
        st.info(t("edit.no_grids", lang))
        return None
    restore.offer(project, lang)
    # (the name is read back from the session by AUTHOR_KEY when an edit is applied)
    st.text_input(t("edit.author", lang), key=AUTHOR_KEY, max_chars=edits.MAX_AUTHOR,
                  placeholder=t("edit.author_hint", lang))
    session = project.session
    cols = st.columns([1, 1, 4])
    _button("undo", "edit.undo", lang, where=cols[0], key="gc_undo",
            disabled=not session.can_undo, width="stretch")
    _button("redo", "edit.redo", lang, where=cols[1], key="gc_redo",
            disabled=not session.can_redo, width="stretch")
    cols[2].caption(t("edit.position", lang, done=session.position, total=len(session.entries)))

    op = widgets.radio(t("edit.operation", lang), OPS, horizontal=True, key="gc_op",
                       format_func=lambda o: t(f"edit.op.{o}", lang))
    selected = st.session_state.get("gc_selected", [])
    # the base once per area; the grids and units swapped into the map on screen, which
    # keeps the planner's view (an edit or a selection renders only them)
    shown = ("edit", base_key(project, lang=lang))
    drawn = rendered_map(shown, lambda: edit_base(project, lang=lang))
    groups = rendered_part((shown, map_key(project, lang=lang, selected=selected)), drawn,
                           lambda: edit_groups(project, lang=lang, selected=selected))
    event = mapframe.show(drawn, key=wkey("gc_edit_map"), height=520, use_container_width=True,
                          returned_objects=["last_active_drawing", "last_object_clicked"],
                          groups=groups)
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
    if op == "move":
        _move(project, grids, label, lang)
    elif op == "merge":
        keep = widgets.selectbox(t("edit.keep", lang), grids, key=wkey("gc_keep"), lang=lang,
                                 format_func=label)
        absorb = widgets.selectbox(t("edit.absorb", lang), [g for g in grids if g != keep],
                                   key=wkey("gc_absorb"), lang=lang, format_func=label)
        apart = absorb is not None and keep is not None and not grids_touch(project, keep, absorb)
        confirmed = True
        if apart:
            st.warning(t("edit.merge_apart", lang, keep=keep, absorb=absorb))
            confirmed = st.checkbox(t("edit.merge_confirm", lang), key=wkey("gc_merge_apart_ok"))
        _button("merge", "edit.apply_merge", lang, disabled=absorb is None or not confirmed)
    elif op == "split":
        widgets.selectbox(t("edit.split_grid", lang), grids, key=wkey("gc_split"), lang=lang,
                          format_func=label)
        _button("split", "edit.apply_split", lang)
    elif op == "lock":
        chosen = widgets.multiselect(t("edit.lock_grids", lang), grids, key=wkey("gc_lock"),
                                     lang=lang, format_func=label)
        c1, c2 = st.columns(2)
        _button("lock", "edit.apply_lock", lang, where=c1, disabled=not chosen)
        _button("unlock", "edit.apply_unlock", lang, where=c2, disabled=not chosen)
    else:
        widgets.selectbox(t("edit.rename_grid", lang), grids, key=wkey("gc_rename"), lang=lang,
                          format_func=label)
        st.text_input(t("edit.new_name", lang), key=wkey("gc_new_name"),
                      max_chars=edits.MAX_GRID_NAME)
        _button("rename", "edit.apply_rename", lang)
    failed = st.session_state.pop("gc_edit_error", None)
    if failed:
        st.error(widgets.plain(failed))

    last = st.session_state.get(LAST_EDIT_KEY)
    if last:
        edit, note = last
        if edit is not None:
            st.markdown(t("edit.last", lang, op=t(f"edit.op.{edit.entry.op}", lang)))
            st.dataframe(neutral_frame(edit_table(edit, lang)), hide_index=True, width="stretch")
            for text in edit.entry.warning_texts(lang):
                st.warning(widgets.plain(text))
        if note is not None:
            st.warning(widgets.plain(t(note[0], lang, **note[1])))
    failure = st.session_state.pop("gc_autosave_error", None)
    if failure:
        st.error(widgets.plain(failure))
    status = st.empty()
    save_status(status, lang)
    box, is_open = lazy.expander(t("edit.journal", lang, count=len(session.entries)),
                                 key="gc_journal_shown")
    if is_open:  # drawn only while open (ui/lazy.py)
        rows = [{t("edit.time_local", lang): local_time(e.time_utc), t("edit.col.author", lang): e.author,
                 t("edit.col.op", lang): t(f"edit.op.{e.op}", lang),
                 t("edit.col.grids", lang): ", ".join(e.touched()),
                 t("edit.col.applied", lang): "✓" if k < session.position else "↶"}
                for k, e in enumerate(session.entries)]
        if rows:
            box.dataframe(neutral_frame(pd.DataFrame(rows)), hide_index=True, width="stretch")
    if project.credit:
        st.caption(OSM_CREDIT)
    return status


__all__ = ["MAX_UNIT_MARKERS", "base_key", "current_project", "edit_map", "edit_table",
           "panel", "save_status", "set_project", "units_from_event"]
