"""The siting what-if: add p facilities of one service where they cover the most households
now outside its walking threshold; the proposed sites go on the map and the coverage
before and after is shown. The choice is made by ``analysis.siting``."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.export import neutral_frame
from geo.errors import GridcircleError, InputError
from geo.i18n import t
from ui import capacity_panel, mapview, state, widgets
from ui.panels import service_names
from ui.places import places_of
from ui.sidebar import PageSettings
from analysis.siting import site_facilities

MAX_NEW = 20


def proposal(run: state.PageRun, service: str, p: int):
    """The sites for (run, service, p), computed once per reach result."""

    return state.stage_cache().get(
        "siting", (run.reach_key, service, p),
        lambda: site_facilities(run.index, run.reach, service, p))


def request() -> tuple[str, int] | None:
    """The siting request of this session: the form's choice when it was just submitted
    (read before the form is drawn, so that the map, drawn first, shows its sites)."""
    if st.session_state.get("siting_go") and "siting_service" in st.session_state:
        st.session_state["siting_request"] = (st.session_state["siting_service"],
                                              int(st.session_state.get("siting_p", 2)))
        st.session_state["siting_places_request"] = int(st.session_state.get("siting_places", 0))
    return st.session_state.get("siting_request")


def chosen_for(run: state.PageRun, service: str, p: int):
    """The request's answer: sites closing the shortfall when places per new facility
    were given and the service has a demand (capacity mode), else sites covering the
    most households (``(answer, capacity mode)``)."""
    places = int(st.session_state.get("siting_places_request", 0) or 0)
    if places > 0:
        if not capacity_panel.has_demand(run.result, service):
            raise InputError("err.siting_capacity_demand", service=service)
        return capacity_panel.capacity_proposal(run, service, p, places), True
    return proposal(run, service, p), False


def sites_for_map(run: state.PageRun, page: PageSettings) -> dict | None:
    """The proposed sites of the session's request as GeoJSON for the map (``None``
    without a request or when it cannot be met: the panel says why)."""
    asked = request() if run.index is not None else None
    if not asked:
        return None
    service, p = asked
    try:
        chosen, _ = chosen_for(run, service, p)
    except GridcircleError:
        return None
    sites = _ordered(chosen.sites)
    if not len(sites):
        return None
    return mapview.sites_json(sites.assign(service=service),
                              places=places_of(sites, run.result, page.lang))


def _ordered(sites):
    if len(sites) and "order" not in sites.columns:
        return sites.assign(order=range(1, len(sites) + 1))
    return sites


def panel(run: state.PageRun, page: PageSettings) -> None:
    """The siting form and what the request adds (its sites are on the map:
    :func:`sites_for_map`)."""
    lang = page.lang
    result = run.result
    names = service_names(result, lang)
    keys = list(names)
    first = next((s for s in page.services if s in names), keys[0])
    with st.form("siting"):
        widgets.selectbox(t("page.siting_service", lang), keys, lang=lang,
                          index=keys.index(first), key="siting_service",
                          format_func=lambda k: names[k])
        st.number_input(t("page.siting_p", lang), 1, MAX_NEW, 2, 1, key="siting_p")
        st.number_input(t("capacity.siting_places", lang), 0, 100_000, 0, 50, key="siting_places",
                        help=t("capacity.siting_places_help", lang))
        st.form_submit_button(t("page.siting_go", lang), key="siting_go")
    asked = request()
    if not asked:
        st.caption(t("page.siting_hint", lang))
        return
    service, p = asked
    try:
        with st.spinner(t("page.siting_working", lang)):
            chosen, by_capacity = chosen_for(run, service, p)
    except GridcircleError as exc:
        st.error(widgets.plain(state.user_message(exc, lang)))
        return
    if by_capacity:
        capacity_panel.siting_result(chosen, result, names[service], lang)
        return
    cols = st.columns(2)
    cols[0].metric(widgets.plain(t("page.siting_before", lang, service=names[service])),
                   f"{chosen.coverage_before:.1%}")
    delta = (chosen.coverage_after - chosen.coverage_before) * 100
    cols[1].metric(t("page.siting_after", lang, p=p), f"{chosen.coverage_after:.1%}",
                   delta=t("page.siting_delta", lang, pp=f"{delta:+.1f}"))
    st.caption(t("page.siting_added", lang,
                 added=f"{chosen.covered_after - chosen.covered_before:,}",
                 total=f"{chosen.households_total:,}")
               + " " + t("page.siting_exact" if chosen.method == "exact"
                         else "page.siting_heuristic", lang))
    sites = _ordered(chosen.sites)
    if not len(sites):
        st.info(t("page.siting_none", lang))
        return
    where = places_of(sites, result, lang)
    table = pd.DataFrame({
        t("map.rank", lang): sites["order"].to_numpy(),
        t("map.added", lang): sites["added_households"].astype(int).to_numpy(),
        t("map.place", lang): where,
    })
    # in order of what each adds (the order of choice: each adds the most of those left)
    st.dataframe(neutral_frame(table), hide_index=True, width="stretch", column_config={
        t("map.place", lang): st.column_config.TextColumn(width="large",
                                                          help=t("help.site_place", lang)),
        t("map.added", lang): st.column_config.NumberColumn(help=t("help.site_added", lang))})


__all__ = ["MAX_NEW", "chosen_for", "panel", "proposal", "request", "sites_for_map"]
