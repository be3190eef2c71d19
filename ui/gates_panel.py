"""Gated compounds on the page: add a gate on an outline, close one, open a compound, and
see the coverage change per service before applying it.

The planner's edits live in ``st.session_state`` as a :class:`geo.walls.WallSettings`
dictionary; :func:`wall_settings` turns them into the run's settings (so they key the
caches and are saved with the project's settings). The numbers come from
:func:`analysis.reach.walls.what_if`; this module only draws widgets.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import streamlit as st

from analysis.export import neutral_frame
from geo.i18n import t
from ui import widgets
from geo.walls import SIDES, WallSettings, outline_point, to_wgs84
from analysis.gate_whatif import compound_what_if
from analysis.pipeline import walk_settings
from ui import mapframe
from ui.gatesmap import gates_map
from ui.gatesmap import households_by_compound

KEY = "wall_edits"
ACTIONS = ("add", "close", "open", "reopen")


def wall_settings() -> WallSettings:
    """The run's wall settings: the defaults plus the planner's applied edits."""
    return WallSettings.from_dict(st.session_state.get(KEY))


def _apply(settings: WallSettings) -> None:
    st.session_state[KEY] = settings.as_dict()


def proposal(current: WallSettings, action: str, *, compound_id: str, polygon=None,
             side: str = "n", gate_xy: tuple[float, float] | None = None, crs=None
             ) -> WallSettings:
    """The wall settings after one edit (pure: the page and tests share it)."""
    if action == "add":
        point = to_wgs84(outline_point(polygon, side), crs)
        return dataclasses.replace(current, added_gates=current.added_gates + (point,))
    if action == "close":
        import shapely

        point = to_wgs84(shapely.Point(gate_xy), crs)
        return dataclasses.replace(current, closed_gates=current.closed_gates + (point,))
    if action == "open":
        return dataclasses.replace(current, open_compounds=tuple(
            sorted(set(current.open_compounds) | {compound_id})))
    if action == "reopen":
        return dataclasses.replace(current, open_compounds=tuple(
            c for c in current.open_compounds if c != compound_id))
    raise ValueError(action)


def assumed_first(compounds: pd.DataFrame, access: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """The compounds with those holding assumed gates first (most assumed gates first; the
    planner confirms or moves them), the rest in their order; and the number of assumed
    gates per ``compound_id``."""
    if len(access):
        assumed = access[access["origin"] == "assumed"].groupby("compound_id").size()
    else:
        assumed = pd.Series(dtype=int)
    count = compounds["compound_id"].map(assumed).fillna(0).astype(int).to_numpy()
    order = sorted(range(len(compounds)), key=lambda k: (-int(count[k] > 0), -count[k], k))
    return compounds.iloc[order], assumed


@st.cache_resource(show_spinner=False, max_entries=16)
def _what_if(key: tuple, _run, _now: WallSettings, _after: WallSettings, _walk, _services,
             _outline):
    """The edit's change, both sides built the same way (:mod:`analysis.gate_whatif`)."""

    area = _run.result.area
    return compound_what_if(_run.index, area.network, area.compounds,
                            area.gates, _now, _after, _walk, _services,
                            outline=_outline)


def panel(run, page) -> None:
    """The gates tab: compounds, their gates, one edit at a time with its coverage change."""
    lang = page.lang
    index = run.index
    walls = index.walls if index is not None else None
    if walls is None:
        st.info(t("gates.none", lang))
        return
    current = wall_settings()
    gated = st.toggle(t("gates.on", lang), value=current.gated, key="gates_on",
                      help=t("gates.on_help", lang))
    if gated != current.gated:
        _apply(dataclasses.replace(current, gated=gated))
        st.rerun()
    comps = walls.compounds
    if len(comps) == 0:
        st.info(t("gates.no_compounds", lang))
        return
    acc = walls.access
    n_gates = acc.groupby("compound_id").size() if len(acc) else pd.Series(dtype=int)
    comps, assumed = assumed_first(comps, acc)
    # every compound's households, open ones too (not only the walled ones' layer)
    households = _households(run, comps)
    table = pd.DataFrame({
        t("gates.col_name", lang): comps["name"].fillna("").astype(str).to_numpy(),
        t("gates.col_status", lang): [t(f"gates.status_{s}", lang) for s in comps["status"]],
        t("gates.col_gates", lang): [int(n_gates.get(c, 0)) for c in comps["compound_id"]],
        t("gates.col_assumed", lang): [int(assumed.get(c, 0)) for c in comps["compound_id"]],
        t("gates.col_households", lang): [int(households.get(str(c), 0)) for c in comps["compound_id"]],
    })
    if len(assumed):
        st.caption(t("gates.assumed_first", lang))
    st.dataframe(neutral_frame(table), hide_index=True, width="stretch", height=220)

    editable = comps[comps["status"].isin(["gated", "no_access", "opened"])]
    if editable.empty:
        return
    labels = {c: f"{n or c}" for c, n in zip(editable["compound_id"], editable["name"])}
    chosen = widgets.selectbox(t("gates.compound", lang), list(labels), key="gates_compound",
                               lang=lang, format_func=lambda c: labels[c])
    row = editable[editable["compound_id"] == chosen].iloc[0]
    _map(comps, acc, index.network.crs, chosen, lang)
    st.caption(t("gates.compound_households", lang, name=labels[chosen],
                 households=f"{households.get(str(chosen), 0):,}"))
    actions = ("reopen",) if row["status"] == "opened" else ("add", "close", "open")
    mine = acc[acc["compound_id"] == chosen] if len(acc) else acc
    if mine is None or len(mine) == 0:
        actions = tuple(a for a in actions if a != "close")
    action = widgets.radio(t("gates.action", lang), actions, key="gates_action",
                           horizontal=True, format_func=lambda a: t(f"gates.action_{a}", lang))
    side, gate_xy = "n", None
    if action == "add":
        side = widgets.radio(t("gates.side", lang), tuple(SIDES), key="gates_side",
                             horizontal=True, format_func=lambda s: t(f"gates.side_{s}", lang))
    elif action == "close":
        options = list(range(len(mine)))
        pick = st.selectbox(t("gates.gate", lang), options, key="gates_gate",
                            format_func=lambda k: t("gates.gate_label", lang, k=k + 1,
                                                    origin=t(f"gates.origin_{mine['origin'].iloc[k]}",
                                                             lang)))
        gate_xy = (float(mine["x"].iloc[pick]), float(mine["y"].iloc[pick]))
    after = proposal(current, action, compound_id=chosen, polygon=row.geometry, side=side,
                     gate_xy=gate_xy, crs=index.network.crs)
    key = (run.reach_key, after)
    # the what-if costs one reach run: computed on request, not on every rerun of the page
    if st.button(t("gates.compare", lang), key="gates_compare"):
        with st.spinner(t("gates.computing", lang)):
            st.session_state["gates_change"] = (key, _what_if(
                key, run, current, after, _walk_of(run), tuple(index.services),
                row.geometry)[0])
    stored = st.session_state.get("gates_change")
    if stored is not None and stored[0] == key:
        _change_table(stored[1], run, lang)
    left, right = st.columns(2)
    if left.button(t("gates.apply", lang), key="gates_apply", type="primary"):
        _apply(after)
        st.rerun()
    if right.button(t("gates.reset", lang), key="gates_reset"):
        _apply(WallSettings(gated=current.gated))
        st.rerun()
    edits = len(current.added_gates) + len(current.closed_gates) + len(current.open_compounds)
    st.caption(t("gates.saved", lang, count=edits))


def _change_table(change: pd.DataFrame, run, lang: str) -> None:
    names = {s.key: s.name(lang) for s in run.result.catalogue}
    shown = pd.DataFrame({
        t("gates.col_service", lang): [names.get(s, s) for s in change["service"]],
        t("gates.col_before", lang): change["before"].to_numpy(),
        t("gates.col_after", lang): change["after"].to_numpy(),
        t("gates.col_change", lang): change["change"].to_numpy(),
        t("gates.col_changed_here", lang): change["changed_here"].to_numpy()
        if "changed_here" in change else change["households_changed"].to_numpy(),
        t("gates.col_changed", lang): change["households_changed"].to_numpy(),
    })
    pct = {c: "{:.1%}" for c in shown.columns[1:3]}
    pct[shown.columns[3]] = "{:+.1%}"
    st.dataframe(neutral_frame(shown).style.format(pct), hide_index=True, width="stretch")


def _households(run, comps) -> dict[str, int]:
    """Households inside each compound outline (kept per run and compound list)."""

    cache = st.session_state.setdefault("gates_households", {})
    key = (id(run.result), len(comps), tuple(comps["compound_id"].astype(str))[:5])
    if key not in cache:
        cache.clear()
        cache[key] = households_by_compound(run.result.layers.get("households"), comps)
    return cache[key]


def _map(comps, access, crs, chosen, lang: str) -> None:
    """Outlines and gates, the chosen compound highlighted and zoomed to."""

    fmap = gates_map(comps, access, crs, chosen=str(chosen), lang=lang)
    mapframe.show(mapframe.render(fmap), key="gates_map", height=380,
                  use_container_width=True, returned_objects=[])


def _walk_of(run):
    """The walking settings the run was measured with."""

    return walk_settings(run.result.settings, run.result.catalogue)
