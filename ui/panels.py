"""The numbers and charts beside the map. Each panel only reads a run's layers and summary
(CONTRACT.md names) and shows them; a panel whose layer a run does not have says so."""

from __future__ import annotations

import functools
import re

import altair as alt
import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from analysis.export import neutral_frame
from analysis.pipeline import Result
from analysis.summary_text import group_coverage_lines
from geo.i18n import t
from ui import widgets
from ui.places import community_names, places_of
from ui.mapview import SERVICE_COLOURS, band_class, reason_text
from geo.grids.rules import flagged
from geo.i18n import note_text
from geo.vocabulary import minutes_column
from geo.i18n import table


def service_names(result: Result, lang: str) -> dict[str, str]:
    return {s.key: s.name(lang) for s in result.catalogue}


def metrics(result: Result, lang: str) -> None:
    """Households, grids, share of grids in band, facilities."""
    summary = result.summary
    cols = st.columns(4)
    cols[0].metric(t("app.households", lang), f"{summary['households']:,}",
                   help=t("help.households", lang))
    grids = int(summary.get("grids", 0))
    cols[1].metric(t("page.grids", lang), f"{grids:,}", help=t("help.grids", lang))
    share = summary.get("grids_in_band", 0) / grids if grids else None
    cols[2].metric(t("page.share_in_band", lang), "–" if share is None else f"{share:.0%}",
                   help=t("help.share_in_band", lang))
    cols[3].metric(t("app.facilities", lang),
                   f"{sum(summary.get('facilities_by_service', {}).values()):,}",
                   help=t("help.facilities", lang))


# ----------------------------------------------------------------------------- coverage


def coverage_table(result: Result, lang: str) -> pd.DataFrame:
    """Per service: threshold, speed, share covered along the network and as the crow flies."""
    summary = result.summary
    names = service_names(result, lang)
    network = summary.get("coverage") or {}
    crow = summary.get("crow_flies_coverage") or {}
    rows = []
    for service in names:
        if service not in network:
            continue
        rows.append({  # the key numbers first: visible without scrolling sideways
            t("page.col_service", lang): names[service],
            t("page.col_network", lang): network.get(service),
            t("page.col_crow", lang): crow.get(service),
            t("page.col_threshold", lang): summary.get("thresholds_min", {}).get(service),
            t("page.col_facilities", lang): summary.get("facilities_by_service", {}).get(service, 0),
            t("page.col_speed", lang): (summary.get("speed_mps") or {}).get(service),
        })
    return pd.DataFrame(rows)


def coverage_panel(result: Result, shown: tuple[str, ...], lang: str) -> None:
    table = coverage_table(result, lang)
    if table.empty:
        st.info(t("page.no_coverage", lang))
        return
    pct = {t("page.col_network", lang): "{:.0%}", t("page.col_crow", lang): "{:.0%}",
           t("page.col_speed", lang): "{:.2f}", t("page.col_threshold", lang): "{:g}"}
    helps = {t(f"page.col_{k}", lang): t(f"help.col_{k}", lang)
             for k in ("network", "crow", "threshold", "facilities", "speed")}
    st.dataframe(neutral_frame(table).style.format(pct, na_rep="–"), hide_index=True, width="stretch",
                 column_config={name: st.column_config.Column(help=text)
                                for name, text in helps.items()})
    names = service_names(result, lang)
    long = table.melt(id_vars=[t("page.col_service", lang)],
                      value_vars=[t("page.col_network", lang), t("page.col_crow", lang)],
                      var_name=t("page.measure", lang), value_name=t("page.share", lang))
    chart = alt.Chart(long).mark_bar().encode(
        y=alt.Y(f"{t('page.col_service', lang)}:N", sort=[names[k] for k in names], title=None),
        x=alt.X(f"{t('page.share', lang)}:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        yOffset=f"{t('page.measure', lang)}:N",
        color=alt.Color(f"{t('page.measure', lang)}:N", legend=alt.Legend(orient="bottom")),
        tooltip=[t("page.col_service", lang), t("page.measure", lang),
                 alt.Tooltip(f"{t('page.share', lang)}:Q", format=".0%")],
    ).properties(height=alt.Step(9), title=alt.TitleParams(t("page.chart_coverage", lang),
                                                          fontSize=13, anchor="start"))
    st.altair_chart(chart, width="stretch")
    st.caption(t("page.crow_note", lang))
    groups = group_coverage_lines(result.summary, lambda k: names.get(k, k), lang)
    if groups:  # age groups counted in the uploaded register or buildings
        st.markdown(f"**{t('group.heading', lang)}**")
        st.markdown("\n".join(f"- {escape_markdown(line)}" for line in groups))
    minutes_chart(result, shown, lang)


def escape_markdown(text: str) -> str:
    """``text`` shown literally by ``st.markdown`` (names from data may hold ``*`` or ``<``)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$&])", r"\\\1", str(text))


def minutes_chart(result: Result, shown: tuple[str, ...], lang: str) -> None:
    """Households by walking minutes to the nearest facility, per shown service."""
    hh = result.households
    names = service_names(result, lang)
    thresholds = result.summary.get("thresholds_min", {})
    frames = []
    for service in shown:
        column = minutes_column(service)
        if column not in hh.columns:
            continue
        minutes = hh[column].to_numpy(dtype=float)
        weight = hh["households"].to_numpy(dtype=float)
        ok = np.isfinite(minutes)
        if not ok.any():
            continue
        top = int(np.ceil(max(np.nanmax(minutes[ok]), thresholds.get(service, 15)))) + 1
        counts, edges = np.histogram(minutes[ok], bins=np.arange(0, top + 1), weights=weight[ok])
        frames.append(pd.DataFrame({"service": names.get(service, service), "minute": edges[:-1],
                                    "households": counts.round(0), "key": service}))
    if not frames:
        return
    data = pd.concat(frames, ignore_index=True)
    domain = [names.get(s, s) for s in shown if names.get(s, s) in set(data["service"])]
    colours = [SERVICE_COLOURS.get(s, "#555") for s in shown if names.get(s, s) in domain]
    top = int(data["minute"].max()) + 1
    chart = alt.Chart(data).mark_bar(opacity=0.7).encode(
        x=alt.X("minute:Q", bin=alt.Bin(step=1), title=t("page.walk_minutes", lang),
                scale=alt.Scale(domain=[0, top]),
                axis=alt.Axis(tickMinStep=1, values=list(range(0, top + 1, max(1, top // 8))))),
        y=alt.Y("households:Q", stack=None, title=t("app.households", lang),
                axis=alt.Axis(format=",d", tickMinStep=1)),
        color=alt.Color("service:N", scale=alt.Scale(domain=domain, range=colours),
                        legend=alt.Legend(orient="bottom", title=None, labelLimit=260)),
        tooltip=[alt.Tooltip("service:N", title=t("page.col_service", lang)),
                 alt.Tooltip("minute:Q", title=t("page.walk_minutes", lang)),
                 alt.Tooltip("households:Q", title=t("app.households", lang), format=",d")],
    ).properties(height=280, title=alt.TitleParams(t("page.chart_minutes", lang), fontSize=13,
                                                   anchor="start"))
    st.altair_chart(chart, width="stretch")
    unreached = {names.get(s, s): int(hh.loc[~np.isfinite(hh[minutes_column(s)].to_numpy(dtype=float)),
                                            "households"].sum())
                 for s in shown if minutes_column(s) in hh.columns}
    unreached = {k: v for k, v in unreached.items() if v}
    if unreached:
        st.caption(widgets.plain(t("page.unreached", lang, detail="；".join(
            f"{k} {v:,}" for k, v in unreached.items()))))


# ----------------------------------------------------------------------------- grids


def grid_table(result: Result, band: tuple[int, int], lang: str) -> pd.DataFrame | None:
    """Every grid with its flags and the reason for each flag, in the reader's language."""
    grids = result.layers.get("grids")
    if grids is None or not len(grids):
        return None
    cols = {
        "grid_id": t("map.grid_id", lang), "community_id": t("map.community_id", lang),
        "households": t("map.households_n", lang), "in_band": t("page.col_in_band", lang),
        "polsby_popper": t("page.col_pp", lang), "contiguous": t("page.col_contiguous", lang),
        "arterial_crossings": t("page.col_arterial", lang), "n_units": t("page.col_units", lang),
        "split_buildings": t("page.col_split", lang),
        "near_home_share": t("page.col_near_home", lang), "reason": t("map.reason", lang),
    }
    out = pd.DataFrame(grids.drop(columns="geometry"))
    out = out[[c for c in cols if c in out.columns]].copy()
    if "reason" in out:
        out["reason"] = out["reason"].map(lambda r: reason_text(r, lang))
    yes_no = {True: t("edit.yes", lang), False: t("edit.no", lang)}
    for flag in ("in_band", "contiguous"):
        if flag in out:
            out[flag] = out[flag].astype(bool).map(yes_no)
    if "polsby_popper" in out:
        out["polsby_popper"] = pd.to_numeric(out["polsby_popper"], errors="coerce").round(2)
    if "near_home_share" in out:  # a share: shown as a whole percentage
        share = pd.to_numeric(out["near_home_share"], errors="coerce")
        out["near_home_share"] = share.map(lambda v: "–" if pd.isna(v) else f"{v:.0%}")
    status = band_class(grids["households"], band)
    at = 2
    if "name" in grids.columns:  # the planner's grid name, as plain text
        names = grids["name"].map(lambda v: "" if v is None or pd.isna(v) else str(v))
        if names.str.strip().any():
            out.insert(1, t("page.col_grid_name", lang), names.to_numpy())
            at += 1
    if "community_id" in out.columns:  # the community by its name in the page's language
        named = community_names(result.layers.get("communities"), lang)
        where = list(out.columns).index("community_id") + 1
        out.insert(where, t("page.col_community_name", lang),
                   [named.get(str(c), str(c)) for c in out["community_id"]])
        at += 1
    out.insert(at + 1, t("map.band", lang), [t(f"map.band_{c}", lang) for c in status])
    if "reason" in out:  # the reason beside the figures, not cut off at the right
        out.insert(at + 2, "reason", out.pop("reason"))
    return out.rename(columns=cols)


def grids_panel(result: Result, band: tuple[int, int], lang: str) -> None:
    table = grid_table(result, band, lang)
    if table is None:
        st.info(t("page.no_grids", lang))
        return
    grids = result.layers["grids"]
    sizes = pd.DataFrame({"households": grids["households"].astype(int)})
    hist = alt.Chart(sizes).mark_bar(color="#74c476").encode(
        x=alt.X("households:Q", bin=alt.Bin(maxbins=30), title=t("map.households_n", lang)),
        y=alt.Y("count():Q", title=t("page.grids", lang), axis=alt.Axis(tickMinStep=1)),
        tooltip=[alt.Tooltip("count():Q", title=t("page.grids", lang))])
    rules = alt.Chart(pd.DataFrame({"v": list(band)})).mark_rule(
        color="#d62728", strokeDash=[4, 3]).encode(x="v:Q")
    st.altair_chart((hist + rules).properties(height=200, title=t("page.chart_sizes", lang,
                                                                   low=band[0], high=band[1])),
                    width="stretch")
    st.caption(t("page.grid_flags", lang, flagged=int(flagged(grids).sum()), total=len(grids)))
    helps = {t("page.col_pp", lang): t("help.col_pp", lang),
             t("map.band", lang): t("help.col_band", lang),
             t("page.col_contiguous", lang): t("help.col_contiguous", lang),
             t("page.col_arterial", lang): t("help.col_arterial", lang),
             t("page.col_split", lang): t("help.col_split", lang),
             t("page.col_near_home", lang): t("help.col_near_home", lang)}
    config = {name: st.column_config.Column(help=text) for name, text in helps.items()
              if name in table.columns}
    if t("page.col_pp", lang) in table.columns:
        config[t("page.col_pp", lang)] = st.column_config.NumberColumn(
            help=t("help.col_pp", lang), format="%.2f")
    if t("map.reason", lang) in table.columns:
        config[t("map.reason", lang)] = st.column_config.TextColumn(width="large")
    st.dataframe(neutral_frame(table), hide_index=True, width="stretch", height=320,
                 column_config=config)


def heat_table(result: Result, shown: tuple[str, ...], lang: str) -> None:
    """Share of households covered, per grid × service, coloured from red to green."""
    coverage = result.layers.get("coverage")
    if coverage is None or not len(coverage):
        st.info(t("page.no_coverage", lang))
        return
    names = service_names(result, lang)
    measured = set(coverage["service"].unique())
    services = [s for s in names if s in measured]
    table = coverage.pivot_table(index="grid_id", columns="service", values="share",
                                 aggfunc="first").reindex(columns=services)
    table.columns = [names[s] for s in table.columns]
    table.index.name = t("map.grid_id", lang)
    st.caption(t("page.heat_caption", lang))
    st.dataframe(neutral_frame(table).style.apply(heat_css, axis=None)
                 .format("{:.0%}", na_rep="–"), width="stretch", height=360)


@functools.lru_cache(maxsize=1)
def _heat_palette() -> tuple[str, ...]:
    """101 background colours from red (0%) through yellow to green (100%): matplotlib's
    RdYlGn, looked up once (the same colours ``Styler.background_gradient`` gives, at a
    hundredth of its cost per cell), each with a text colour that reads on it."""
    from matplotlib import colormaps
    from matplotlib.colors import rgb2hex

    out = []
    def linear(x: float) -> float:
        return x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4

    for r, g, b, _ in colormaps["RdYlGn"](np.linspace(0.0, 1.0, 101)):
        light = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
        text = "#000000" if light > 0.408 else "#f1f1f1"
        out.append(f"background-color: {rgb2hex((r, g, b))}; color: {text};")
    return tuple(out)


def heat_css(table: pd.DataFrame) -> pd.DataFrame:
    """The CSS of each cell of a table of shares (0–1): its colour on the red–green scale;
    none where the share is unknown."""
    shares = table.to_numpy(dtype=float, na_value=np.nan)
    palette = np.asarray(_heat_palette() + ("",), dtype=object)
    step = np.where(np.isnan(shares), 101, np.clip(np.rint(shares * 100), 0, 100)).astype(int)
    return pd.DataFrame(palette[step], index=table.index, columns=table.columns)


# ----------------------------------------------------------------------------- gaps


def gap_list(result: Result, shown: tuple[str, ...], lang: str) -> pd.DataFrame | None:
    """The gaps of the shown services, worst first, with their WGS84 bounds."""
    gaps = result.layers.get("gaps")
    if gaps is None or not len(gaps):
        return None
    part = gaps[gaps["service"].isin(shown)] if shown else gaps
    if not len(part):
        return None
    # ordered by what closing them adds: the households outside the threshold
    part = part.sort_values(["households", "rank"], ascending=[False, True])
    names = service_names(result, lang)
    bounds = gpd.GeoSeries(part.geometry, crs=gaps.crs).to_crs(4326).bounds
    where = places_of(gaps, result, lang)
    order = [gaps.index.get_loc(i) for i in part.index]
    return pd.DataFrame({
        "service": part["service"].to_numpy(),
        t("page.col_service", lang): part["service"].map(names).to_numpy(),
        t("map.households_n", lang): part["households"].astype(int).to_numpy(),
        t("map.place", lang): [where[k] for k in order],
        t("page.col_cause", lang): [t(f"gaps.cause_{c}", lang) if c in ("service", "data")
                                    else t("gaps.cause_service", lang)
                                    for c in (part["cause"] if "cause" in part.columns
                                              else ["service"] * len(part))],
        t("map.rank", lang): part["rank"].to_numpy(),
        "bounds": [tuple(b) for b in bounds[["minx", "miny", "maxx", "maxy"]].to_numpy()],
    })


GAP_ZOOM = "gap_zoom"  # the gap list's choice of a gap to zoom to (a widget)
GAP_KEPT = "gap_zoom_kept"  # that choice, kept while the gap tab is not drawn


def _keep_gap_zoom() -> None:
    st.session_state[GAP_KEPT] = st.session_state.get(GAP_ZOOM, -1)


def gap_focus(result: Result, shown: tuple[str, ...], lang: str) -> tuple | None:
    """The WGS84 bounds of the gap chosen for zooming in the gap list (read before the
    list is drawn, so that the map, drawn first, can zoom to it)."""
    choice = st.session_state.get(GAP_ZOOM, st.session_state.get(GAP_KEPT, -1))
    if not isinstance(choice, int) or choice < 0:
        return None
    gaps = gap_list(result, shown, lang)
    if gaps is None or choice >= len(gaps):
        return None
    return gaps["bounds"].iloc[choice]


def gaps_panel(result: Result, shown: tuple[str, ...], lang: str) -> None:
    """The ranked gap list, with the choice of a gap to zoom to (:func:`gap_focus`)."""
    gaps = gap_list(result, shown, lang)
    if gaps is None:
        st.info(t("page.no_gaps", lang))
        return
    labels = [t("page.gap_label", lang, service=row[t("page.col_service", lang)],
                rank=row[t("map.rank", lang)], households=f"{row[t('map.households_n', lang)]:,}")
              + " · " + row[t("map.place", lang)] + " · " + row[t("page.col_cause", lang)]
              for _, row in gaps.iterrows()]
    kept = st.session_state.get(GAP_KEPT, -1)
    widgets.selectbox(t("page.zoom_gap", lang), [-1, *range(len(gaps))], key=GAP_ZOOM,
                      lang=lang, index=kept + 1 if 0 <= kept < len(gaps) else 0,
                      on_change=_keep_gap_zoom,
                      format_func=lambda k: t("page.zoom_none", lang) if k < 0 else labels[k])
    st.dataframe(neutral_frame(gaps.drop(columns=["service", "bounds"])), hide_index=True,
                 width="stretch", height=300, column_config={
                     t("map.households_n", lang): st.column_config.NumberColumn(
                         help=t("help.gap_households", lang)),
                     t("map.place", lang): st.column_config.TextColumn(
                         width="large", help=t("help.place", lang)),
                     t("page.col_cause", lang): st.column_config.TextColumn(
                         help=t("help.gap_cause", lang))})


# ----------------------------------------------------------------------------- notes


def notes_panel(result: Result, lang: str) -> None:
    summary = result.summary
    sources = summary.get("households_by_source", {})
    if sources:
        known = _keys()
        parts = []
        for source, count in sources.items():
            key = f"page.hh_source_{source}"
            parts.append(f"{t(key, lang) if key in known else source} {count:,}")
        st.caption(t("page.hh_sources", lang, detail=("，" if lang == "zh" else ", ").join(parts)))
    for note in summary.get("notes", []):
        st.caption(widgets.plain(note_text(note, lang)))
    timings = summary.get("timings_s", {})
    if timings:
        known = _keys()
        detail = "、".join(  # steps without a name of their own are internal: not shown
            f"{t('step.' + k, lang)} "
            f"{t('page.seconds', lang, s=f'{v:.1f}')}" for k, v in timings.items()
            if 'step.' + k in known)
        st.caption(t("page.timings", lang, detail=detail if lang == "zh" else detail.replace("、", ", ")))


def _keys() -> dict:

    return table()
