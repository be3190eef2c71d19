"""The 容量与缺口 / Capacity tab: shortfall by grid (a small map and the table) and the method
and standards used. Thin: every figure comes from the run's layers and its summary's
``capacity`` (:mod:`analysis.capacity.stage`), the same as the command line writes."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analysis.export import neutral_frame
from geo.i18n import t
from ui import widgets
from ui.places import community_names
from geo.vocabulary import capacity_column
from analysis.capacity.stage import table_digest
from analysis.siting.capacity import site_for_capacity
from ui import state
from ui.places import places_of

SERVICE_KEY = "gc_capacity_service"


def shortfall_table(result, service: str, lang: str) -> pd.DataFrame | None:
    """Grids with their demand, supply reached and shortfall (largest first)."""
    grids = result.layers.get("grids")
    cols = [f"{k}_{service}" for k in ("demand", "supply", "shortfall")]
    if grids is None or not len(grids) or cols[1] not in grids.columns:
        return None
    out = pd.DataFrame({"grid_id": grids["grid_id"].astype(str).to_numpy()})
    if "community_id" in grids.columns:
        named = community_names(result.layers.get("communities"), lang)
        out["community"] = [named.get(str(c), str(c)) for c in grids["community_id"]]
    for col in cols:
        out[col] = pd.to_numeric(grids[col], errors="coerce").round(0).to_numpy() \
            if col in grids.columns else float("nan")
    out = out.sort_values([cols[2], cols[1]], ascending=[False, True], kind="stable",
                          na_position="last")
    labels = {"grid_id": t("map.grid_id", lang), "community": t("page.col_community_name", lang),
              cols[0]: t("capacity.col_demand", lang), cols[1]: t("capacity.col_supply", lang),
              cols[2]: t("capacity.col_shortfall", lang)}
    return out.rename(columns=labels)


def _map(result, service: str, lang: str) -> None:
    import altair as alt  # loaded with the first capacity map, not at the page's start

    grids = result.layers.get("grids")
    col = capacity_column("shortfall", service)
    if grids is None or col not in grids.columns or not pd.notna(grids[col]).any():
        col = capacity_column("supply", service)
    shown = grids[["grid_id", col, "geometry"]].to_crs(4326)
    shown = shown.rename(columns={col: "value"})
    shown["grid_id"] = shown["grid_id"].astype(str)
    title = t("capacity.col_shortfall" if col.startswith("shortfall") else "capacity.col_supply",
              lang)
    chart = alt.Chart(shown).mark_geoshape(stroke="#555555", strokeWidth=0.4).encode(
        color=alt.Color("value:Q", title=title, scale=alt.Scale(scheme="oranges")),
        tooltip=[alt.Tooltip("grid_id:N", title=t("map.grid_id", lang)),
                 alt.Tooltip("value:Q", title=title, format=",.0f")],
    ).project("mercator").properties(height=260)
    st.altair_chart(chart, width="stretch")


def panel(result, lang: str) -> None:
    """The tab: a service chosen among those with capacities, its figures, map and table."""
    summary = (result.summary or {}).get("capacity") or {}
    if not summary:
        st.info(t("capacity.none", lang))
        return
    names = {s.key: s.name(lang) for s in result.catalogue}
    services = list(summary)
    if st.session_state.get(SERVICE_KEY) not in services:
        st.session_state[SERVICE_KEY] = services[0]
    service = st.selectbox(t("capacity.service", lang), services, key=SERVICE_KEY,
                           format_func=lambda k: names.get(k, k))
    s = summary[service]
    number = lambda v: "–" if v is None else f"{v:,.0f}"  # noqa: E731
    cols = st.columns(4)
    cols[0].metric(t("capacity.supply", lang), number(s["supply"]))
    cols[1].metric(t("capacity.supply_reached", lang), number(s["supply_reached"]))
    cols[2].metric(t("capacity.demand", lang), number(s["demand"]))
    cols[3].metric(t("capacity.shortfall", lang), number(s["shortfall"]))
    _map(result, service, lang)
    table = shortfall_table(result, service, lang)
    if table is not None:
        st.dataframe(neutral_frame(table), hide_index=True, width="stretch", height=280)
    st.caption(widgets.plain(method_text(s, lang)))  # the sources come from a user table


def has_demand(result, service: str) -> bool:
    """Whether the run computed a demand in places for ``service`` (capacity siting needs it)."""
    s = ((result.summary or {}).get("capacity") or {}).get(service) or {}
    return s.get("demand") is not None


def capacity_proposal(run, service: str, p: int, places: int):
    """Sites of ``places`` each that close most of the shortfall, once per reach result."""

    def make():
        homes = run.result.layers["households"].reindex(run.index.household_index)
        return site_for_capacity(run.index, homes, service, p, float(places),
                                 threshold_m=run.reach.settings.threshold_m(service))

    key = (run.reach_key, service, p, places, table_digest())
    return state.stage_cache().get("siting_capacity", key, make)


def siting_result(chosen, result, service_name: str, lang: str) -> None:
    """Shortfall before and after the new sites, and what each serves."""

    cols = st.columns(2)
    cols[0].metric(t("capacity.siting_before", lang, service=service_name),
                   f"{chosen.shortfall_before:,.0f}")
    cols[1].metric(t("capacity.siting_after", lang, p=chosen.p, places=f"{chosen.site_capacity:,.0f}"),
                   f"{chosen.shortfall_after:,.0f}",
                   delta=f"{chosen.shortfall_after - chosen.shortfall_before:,.0f}",
                   delta_color="inverse")
    st.caption(t("capacity.siting_exact" if chosen.method == "exact"
                 else "capacity.siting_heuristic", lang))
    sites = chosen.sites
    if not len(sites):
        st.info(t("page.siting_none", lang))
        return
    table = pd.DataFrame({t("map.rank", lang): sites["order"].to_numpy(),
                          t("capacity.siting_served", lang): sites["places"].round(0).to_numpy(),
                          t("map.place", lang): places_of(sites, result, lang)})
    st.dataframe(neutral_frame(table), hide_index=True, width="stretch")


def method_text(s: dict, lang: str) -> str:
    """The method and standards used, with the sources and what is missing."""
    caps = s.get("capacities", {})
    parts = [t(f"capacity.method_{s['method']}", lang, decay=t(f"capacity.decay_{s['decay']}", lang),
               metres=f"{s['catchment_m']:,.0f}"),
             t("capacity.sources", lang, given=caps.get("given", 0), osm=caps.get("osm", 0),
               estimated=caps.get("estimated", 0), unknown=caps.get("unknown", 0))]
    if s.get("share") is not None:
        parts.append(t("capacity.share_used", lang, group=s["age_group"],
                       share=f"{s['share']:.1%}", source=s["share_source"]))
    if s.get("need_per_person") is not None:
        parts.append(t("capacity.need_used", lang, need=f"{s['need_per_person']:g}",
                       source=s["need_source"]))
    for key in s.get("missing", []):
        parts.append(t(f"capacity.missing_{key}", lang, group=s["age_group"]))
    if caps.get("estimated"):
        parts.append(t("capacity.estimated_mark", lang))
    return " ".join(parts)


__all__ = ["capacity_proposal", "has_demand", "method_text", "panel", "shortfall_table",
           "siting_result"]
