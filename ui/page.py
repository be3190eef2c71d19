"""The page's frame: running the analysis with progress, the map, and the tabs beside it.

Everything here is Streamlit glue; the numbers come from ``analysis``/``geo`` through
:mod:`ui.state` (caching), :mod:`ui.panels` (tables and charts) and :mod:`ui.mapview`.
"""

from __future__ import annotations

import streamlit as st

from analysis.pipeline import OSM_CREDIT
from geo.errors import GridcircleError
from geo.grids.heap import few_collections
from geo.i18n import t, table
from ui import (capacity_panel, edit_panel, export_panel, gates_panel, mapframe, mapview, panels,
                session, siting, state, widgets)
from ui.sidebar import PageSettings

MAP_HEIGHT = 640
MAP_WIDTH = 560  # the map column on a laptop screen (a view fitted to it fits wider ones)

# Python's cycle collector goes through every object the server holds (the cached layers
# of the areas shown: millions of coordinates) whenever it collects its oldest generation:
# half a second of a first page run, a few tenths of some edits. While the page's parts
# below run, it skips the objects made before them (:func:`geo.grids.heap.few_collections`:
# they are frozen, then handed back as they were); nothing is collected that would not be
# later.


def step_label(key: str, lang: str) -> str:
    """A progress step's name (the pipeline passes translation keys ``step.<name>``)."""
    known = table()
    if key in known:
        return t(key, lang)
    own = "page." + key
    return t(own, lang) if own in known else key


@few_collections()
def compute(page: PageSettings) -> state.PageRun:
    """The run for the page's settings (the stage graph, with the session's project and
    its edits: :func:`ui.session.page_run`), with a progress box naming each step while
    it computes; a problem the user can fix is shown as one message and stops the page.

    The box is drawn at the first step that actually runs, so a rerun served from the
    caches draws none (Streamlit pauses briefly whenever it opens or closes one)."""
    lang = page.lang
    holder = st.empty()
    box = None

    def progress(key: str) -> None:
        nonlocal box
        if box is None:
            box = holder.status(t("page.working", lang), expanded=False)
        box.update(label=step_label(key, lang))
        box.write(step_label(key, lang))

    try:
        run = session.page_run(page, progress=progress)
    except GridcircleError as exc:
        holder.empty()
        st.error(widgets.plain(state.user_message(exc, lang)))
        st.stop()
    holder.empty()
    return run


@few_collections()
def show_map(run: state.PageRun, page: PageSettings, *, focus: tuple | None = None,
             sites: dict | None = None) -> None:
    """The folium map through streamlit-folium; the page reads nothing back from it
    (``returned_objects=[]``), so panning and clicking never rerun the script.

    The map is sent in parts, each built and rendered only when what it shows changes
    (:mod:`ui.state`): the base (roads, buildings, communities), which keys the map in
    the browser, and the groups that streamlit-folium swaps into the map already on
    screen, so that an edit or another service keeps the planner's view: the grid part
    (grids, their numbers, households), which follows the grids; the service part
    (service areas, facilities, sites, the legend), which follows the services shown,
    the walking settings and the proposed sites; and the gaps, which follow both (a
    gap's place names its grid). Zooming to a gap only moves the view."""
    lang = page.lang
    result = run.result
    area_key = run.base_key[0]  # the base stage: what grid edits leave as it was
    area = state.map_area(area_key, lang, _result=result)
    data = mapview.with_grids(area, state.map_grids(run.base_key, lang, page.band,
                                                    _result=result))
    minutes = tuple(page.run.walk.minutes)

    names = panels.service_names(result, lang)
    named = tuple(sorted(names.items()))  # for the parts' keys
    reach_stage = run.reach_key[0]  # the walking minutes: what grid edits leave as they were

    def gaps():
        return tuple(state.map_gaps(run.reach_key, s, _result=result, lang=lang)
                     for s in page.services)

    def build_services():  # the legend lists the gaps too (whether a service has gaps
        # depends on the walking minutes only)
        services = tuple(mapview.ServiceData(service=s, gaps=g.gaps, areas=state.map_areas(
            reach_stage, s, _result=result).areas) for s, g in zip(page.services, gaps()))
        return mapview.service_groups(data, services, lang=lang, band=page.band,
                                      names=names, minutes=minutes, sites=sites,
                                      with_gaps=False)

    base_key = ("main", area_key, lang, page.basemap)
    rendered = state.rendered_map(
        base_key, lambda: mapview.base_map(area, lang=lang, basemap=page.basemap))
    # rendered apart: an edit renders the grids and the gaps (their places name grids)
    # again, a service or speed the services and gaps
    grid_part = state.rendered_part(("grids", base_key, run.base_key, page.band), rendered,
                                    lambda: mapview.grid_groups(data, lang=lang))
    drawn = (data.grids is not None, data.households is not None, bool(data.household_heat))
    service_part = state.rendered_part(
        ("services", base_key, drawn, page.band, reach_stage, page.services, minutes,
         sites, named),
        rendered, build_services, first=mapview.SERVICE_GROUPS_FROM)
    gap_part = state.rendered_part(
        ("gaps", base_key, run.reach_key, page.services, named),
        rendered, lambda: mapview.gap_groups(gaps(), lang=lang, names=names),
        first=mapview.GAP_GROUPS_FROM)
    groups = state.rendered_groups(rendered, (grid_part, service_part, gap_part))
    # a gap zoom moves the view; choosing none again moves it back to the whole area once
    # (streamlit-folium moves the map only when the view it is given changes)
    center = zoom = None
    was_zoomed = st.session_state.get("gc_map_focused", False)
    st.session_state["gc_map_focused"] = focus is not None
    if focus is not None or was_zoomed:
        center, zoom = mapview.view_of(focus if focus is not None else data.view,
                                       width_px=MAP_WIDTH, height_px=MAP_HEIGHT)
    mapframe.show(rendered, key="map", height=MAP_HEIGHT, use_container_width=True,
                  returned_objects=[], center=center, zoom=zoom, groups=groups)
    credit = [OSM_CREDIT] if (result.area.osm_derived or page.basemap == "osm") else []
    st.caption(" · ".join(credit + list(data.notes)))


def map_choices(run: state.PageRun, page: PageSettings) -> tuple[tuple | None, dict | None]:
    """What the map shows from the tabs beside it: the gap chosen for zooming and the
    proposed sites of the siting request. Read before the tabs are drawn, so that the
    map comes first: the browser draws it while the numbers beside it are made."""
    return (panels.gap_focus(run.result, page.services, page.lang),
            siting.sites_for_map(run, page))


SIDE_TABS = ("coverage", "grids", "heat", "gaps", "capacity", "siting", "notes", "gates")
TAB_KEY = "gc_side_tab"  # the open tab beside the map, by its name in SIDE_TABS


def open_tab() -> str:
    """The tab open beside the map (the first until the planner opens another)."""
    name = st.session_state.get(TAB_KEY)
    return name if name in SIDE_TABS else SIDE_TABS[0]


def _tab_opened(key: str, labels: list[str]) -> None:
    label = st.session_state.get(key)
    if label in labels:
        st.session_state[TAB_KEY] = SIDE_TABS[labels.index(label)]


@few_collections()
def side_tabs(run: state.PageRun, page: PageSettings) -> None:
    """The numbers beside the map, a tab each. Only the open tab is drawn: opening
    another reruns the page, which draws that one; every other rerun (an edit, a
    setting) draws one tab instead of seven. The open tab is kept by name, so a
    language switch keeps it."""
    lang = page.lang
    result = run.result
    labels = [t(f"page.tab_{name}", lang) for name in SIDE_TABS]
    key = f"gc_side_tabs_{lang}"  # the labels change with the language; the name stays
    tabs = st.tabs(labels, key=key, default=labels[SIDE_TABS.index(open_tab())],
                   on_change=_tab_opened, args=(key, labels))
    draw = {"coverage": lambda: panels.coverage_panel(result, page.services, lang),
            "grids": lambda: panels.grids_panel(result, page.band, lang),
            "heat": lambda: panels.heat_table(result, page.services, lang),
            "gaps": lambda: panels.gaps_panel(result, page.services, lang),
            "capacity": lambda: capacity_panel.panel(result, lang),
            "siting": lambda: siting_panel(run, page),
            "notes": lambda: panels.notes_panel(result, lang),
            "gates": lambda: gates_panel.panel(run, page)}
    for name, tab in zip(SIDE_TABS, tabs):
        if tab.open:
            with tab:
                draw[name]()


def siting_panel(run: state.PageRun, page: PageSettings) -> None:
    """Siting what-if: add facilities of a service, see them and the coverage they add."""
    if run.index is None:
        st.info(t("page.no_siting", page.lang))
        return
    siting.panel(run, page)


@few_collections()
def project_panels(run: state.PageRun, page: PageSettings) -> None:
    """Grid editing (:mod:`ui.edit_panel`), then saving, opening, exports and the report
    (:mod:`ui.export_panel`), all on the session's one project."""
    edit_panel.page_run_started()
    status = edit_panel.panel(run.result, page)
    export_panel.panel(run.result, page)
    if status is not None:  # after a save in this run: one consistent save status
        edit_panel.save_status(status, page.lang)
