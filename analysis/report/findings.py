"""The report's first page of findings, its page per community and its settings page.

The first page holds what a committee needs in the first minute: households (distinct,
and what was left out), grids in the band, coverage per service against its standard
(bars in the services' colours), the largest gaps with their places, and what the data
lacks (the completeness sentence). Every household figure is a count of distinct
households: a household outside three services' circles counts once.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure

from analysis.capacity.text import appendix_rows, shortfall_lines
from analysis.completeness import headline_households, left_out_params, sentence_text
from analysis.report import draw, maps
from analysis.report.context import Context, thin_services
from analysis.report.style import clean, wrap, wrap_at_most
from analysis.report.tables import draw_table, grid_shares
from analysis.summary_text import compound_access_line, group_coverage_lines
from geo.grids.communities import assign_communities
from geo.grids.pieces import components
from geo.i18n import note_text, t, table
from analysis.gridsystem import report_rows
from geo.places import nearest_street_names

TOP_GAPS = 5
BAR_ROWS = 13  # the coverage bars fill their panel at this many services
MIN_BAR_ROWS = 3  # and keep their thickness with fewer


def ems(ctx: Context, width: float, points: float) -> float:
    """How many ems of a ``points`` font fit in ``width`` (figure fraction)."""
    return width * ctx.size_in[0] * 72 / ctx.fs(points)


def headline(ctx: Context) -> dict:
    """Distinct households of the headlines, counted from the project's households; the
    headline figure leaves out data-gap services (:func:`thin_services`)."""
    return headline_households(ctx.layers["households"], ctx.thresholds, ctx.services,
                               exclude=thin_services(ctx))


def _gap_place(ctx: Context, grid_ids: object, community_of: dict) -> str:
    ids = [g.strip() for g in str(grid_ids or "").split(",") if g.strip()]
    if not ids:
        return ""
    names = list(dict.fromkeys(ctx.community(community_of.get(g, "")) for g in ids
                               if community_of.get(g) is not None))
    if ctx.lang == "zh":
        shown = "、".join(ids[:3]) + ("…" if len(ids) > 3 else "")
        return f"{'、'.join(names[:2])}（{shown}）" if names else shown
    shown = ", ".join(ids[:3]) + (" …" if len(ids) > 3 else "")
    return f"{', '.join(names[:2])} ({shown})" if names else shown


def largest_gaps(ctx: Context, n: int = TOP_GAPS) -> list[tuple[str, str, int, str, bool]]:
    """The ``n`` largest gaps: (service key, service name, households, place, data gap)."""
    gaps = ctx.layers.get("gaps")
    if gaps is None or not len(gaps):
        return []
    gaps = gaps[gaps["service"].isin(ctx.services)]
    grids = ctx.layers.get("grids")
    community_of = (dict(zip(grids["grid_id"].astype(str), grids["community_id"].astype(str)))
                    if grids is not None and len(grids) else {})
    top = gaps.sort_values(["households", "service"], ascending=[False, True], kind="stable").head(n)
    causes = top["cause"] if "cause" in top else pd.Series("service", index=top.index)
    places = [_gap_place(ctx, g, community_of)
              for g in top.get("grids", pd.Series("", index=top.index))]
    located = _located(ctx, top) if not all(places) else [""] * len(top)
    return [(s, ctx.service_name(s), int(h), p or q, c == "data")
            for s, h, p, q, c in zip(top["service"], top["households"], places, located, causes)]


def gap_places(ctx: Context, n: int = TOP_GAPS) -> list[tuple[str, list[str], int]]:
    """The largest gap places, each once: ``(place, services it lacks, households)``.

    Gaps of data-gap services (:func:`thin_services`) are left out (they are listed apart);
    the gaps of several services over one place make one row whose households are the
    distinct households of those gaps outside at least one of those services."""
    gaps = ctx.layers.get("gaps")
    if gaps is None or not len(gaps):
        return []
    thin = set(thin_services(ctx))
    gaps = gaps[gaps["service"].isin(ctx.services) & ~gaps["service"].isin(thin)]
    if not len(gaps):
        return []
    gaps = gaps.sort_values(["households", "service"], ascending=[False, True], kind="stable")
    gaps = gaps.head(max(n * 6, 30)).reset_index(drop=True)
    grids = ctx.layers.get("grids")
    community_of = (dict(zip(grids["grid_id"].astype(str), grids["community_id"].astype(str)))
                    if grids is not None and len(grids) else {})
    places = [_gap_place(ctx, g, community_of)
              for g in gaps.get("grids", pd.Series("", index=gaps.index))]
    if not all(places):
        located = _located(ctx, gaps)
        places = [p or q or "–" for p, q in zip(places, located)]
    rows = []
    for members in _overlapping(gaps)[:n]:
        services = list(dict.fromkeys(gaps["service"].iloc[members]))
        rows.append((places[members[0]], services, _distinct_in(ctx, gaps.iloc[members], services)))
    return rows


def _overlapping(gaps) -> list[list[int]]:
    """Positions of ``gaps`` (largest first) grouped where their shapes overlap: one place
    each, in the order of its largest gap (the pieces of the overlap graph, numbered by
    their lowest position: :func:`geo.grids.pieces.components`)."""
    n = len(gaps)
    left = right = np.zeros(0, dtype=np.int64)
    if hasattr(gaps, "geometry") and n:
        geoms = gaps.geometry.to_numpy()
        left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    groups: dict[int, list[int]] = {}
    for k, piece in enumerate(components(n, left, right).tolist()):
        groups.setdefault(piece, []).append(k)
    return list(groups.values())


def _distinct_in(ctx: Context, gaps, services: list[str]) -> int:
    """Households inside ``gaps`` outside the circle of at least one of ``services``
    (the largest gap's households where the gaps carry no shapes)."""
    fallback = int(gaps["households"].max())
    hh = ctx.layers.get("households")
    if not hasattr(gaps, "geometry") or hh is None or not len(hh) or not hasattr(hh, "geometry"):
        return fallback
    import shapely

    area = shapely.union_all(gaps.geometry.to_numpy())
    inside = shapely.intersects(area, hh.geometry.to_numpy())
    head = headline_households(hh[inside], ctx.thresholds, services)
    return head["outside_any_service"] or fallback


def _located(ctx: Context, gaps) -> list[str]:
    """Where gaps lie when they name no grids: their community and nearest named street."""

    if not hasattr(gaps, "geometry"):
        return [""] * len(gaps)
    pts = gaps.geometry.representative_point()
    out = [""] * len(gaps)
    comms = ctx.layers.get("communities")
    if comms is not None and len(comms):
        of = assign_communities(gpd.GeoDataFrame(geometry=pts.to_numpy(), crs=gaps.crs),
                                comms, refuse_outside=False)
        out = [ctx.community(c) if c is not None else "" for c in of]
    roads = ctx.layers.get("roads")
    if roads is not None and len(roads) and "name" in roads:
        streets = nearest_street_names(gpd.GeoDataFrame(geometry=pts.to_numpy(), crs=gaps.crs),
                                       roads, max_m=300)
        out = [" · ".join(x for x in (c, clean(st, 20)) if x) for c, st in zip(out, streets)]
    return out


def _text_block(fig: Figure, ctx: Context, x: float, y: float, lines: list[str], *,
                size: float, colour: str = "#222222", step: float | None = None) -> float:
    """Lines top-down from ``y`` (figure fraction); returns the y below them."""
    step = step or size * 1.5 / 72 / ctx.size_in[1]
    for line in lines:
        fig.text(x, y, line, fontsize=size, va="top", color=colour)
        y -= step
    return y


def page_findings(ctx: Context, *, title: str | None, when: str) -> Figure:
    """The first page: title, key figures, coverage bars, largest gaps, data completeness."""
    summary = ctx.project.summary
    fig = Figure(figsize=ctx.size_in)
    fig.text(0.04, 0.955, clean(title, 80) or ctx.tr("report.title"), fontsize=ctx.fs(20), va="top")
    fig.text(0.04, 0.895, f"{ctx.tr('report.area', area=ctx.area_name)}    "
             f"{ctx.tr('report.date', date=when)}", fontsize=ctx.fs(10.5), va="top", color="#444444")
    fig.text(0.04, 0.855, ctx.tr("report.findings"), fontsize=ctx.fs(14), va="top")
    head = headline(ctx)
    grids = ctx.layers.get("grids")
    n_grids = len(grids) if grids is not None else 0
    in_band = int(grids["in_band"].astype(int).sum()) if n_grids and "in_band" in grids else 0
    band = ctx.project.band
    comms = ctx.layers.get("communities")
    size = ctx.fs(10)
    thin = thin_services(ctx)
    figures = [
        (ctx.tr("report.key.households_distinct"), f"{head['households']:,}"),
        (ctx.tr("report.key.communities"), f"{len(comms) if comms is not None else 0:,}"),
        (ctx.tr("report.key.in_band", low=band[0], high=band[1]),
         f"{in_band:,} / {n_grids:,}" + (f" ({in_band / n_grids:.0%})" if n_grids else "")),
        (ctx.tr("report.key.outside_any_known" if thin else "report.key.outside_any"),
         f"{head['outside_any_service']:,}"),
    ]
    if thin:  # the figure over every service, labelled, beside the one that means something
        figures.append((ctx.tr("report.key.outside_any_all"),
                        f"{head['outside_any_service_all']:,}"))
    y = 0.81
    for label, value in figures:
        fig.text(0.04, y, label, fontsize=size, va="top")
        fig.text(0.47, y, value, fontsize=size, va="top", ha="right")
        y -= 0.038
    sep = "、" if ctx.lang == "zh" else ", "
    if thin:
        names = sep.join(clean(ctx.service_name(s), 16) for s in thin)
        y = _text_block(fig, ctx, 0.04, y - 0.005,
                        wrap_at_most(ctx.tr("report.data_gap_services", services=names),
                             ems(ctx, 0.43, 8.5), 3), size=ctx.fs(8.5), colour="#7f2704")
    left = summary.get("households_left_out") or {}
    if left:
        p = left_out_params(left)
        y = _text_block(fig, ctx, 0.04, y - 0.005,
                        wrap_at_most(ctx.tr("report.left_out", **p), ems(ctx, 0.43, 8.5), 3),
                        size=ctx.fs(8.5), colour="#444444")
    # age groups (when counted) and gated compounds: one short line each
    extra = group_coverage_lines(summary, ctx.service_name, ctx.lang)
    walls = compound_access_line(summary, ctx.service_name, ctx.lang)
    extra += [walls] if walls else []

    extra += shortfall_lines(summary, grids, ctx.service_name, ctx.community, ctx.lang)[:3]
    for line in extra:
        y = _text_block(fig, ctx, 0.04, y - 0.005, wrap_at_most(line, ems(ctx, 0.43, 8.5), 3),
                        size=ctx.fs(8.5), colour="#444444")
    # the largest gap places, each once with the services it lacks: as many as fit above
    # "what the data lacks" (0.175)
    y -= 0.02
    fig.text(0.04, y, ctx.tr("report.largest_gaps"), fontsize=ctx.fs(12), va="top")
    y -= 0.045
    places = gap_places(ctx, max(1, min(TOP_GAPS, int((y - 0.22) / 0.052) + 1)))
    if not places:
        fig.text(0.04, y, ctx.tr("report.no_gaps"), fontsize=size, va="top", color="#555555")
        y -= 0.04
    unit = ctx.tr("report.households_unit")
    for place, services, households in places:
        shown = services[:8]
        x = 0.045 + 0.009 * len(shown)
        lacks = sep.join(clean(ctx.service_name(s), 30) for s in services)
        lines = wrap(ctx.tr("report.gap_lacks", services=lacks), ems(ctx, 0.47 - x, 7.5))
        if len(lines) > 2:  # the rest are on the gaps page
            lines = [lines[0], lines[1][:-1] + "…"]
        step = 0.056 + 0.022 * (len(lines) - 1)
        if y - step < 0.185:  # above "what the data lacks"
            break
        fig.text(0.04, y, f"{clean(place, 48)}  {households:,}{unit}", fontsize=ctx.fs(9),
                 va="top")
        for k, key in enumerate(shown):  # the services' colours, as on the bars
            fig.patches.append(_swatch(fig, 0.04 + 0.009 * k, y - 0.041,
                                       ctx.colours.get(key, "#555555"), size=0.015))
        _text_block(fig, ctx, x, y - 0.026, lines, size=ctx.fs(7.5), colour="#555555")
        y -= step
    # what the data lacks
    completeness = summary.get("data_completeness") or {}
    sentence = sentence_text(completeness, ctx.lang)
    if sentence:
        fig.text(0.04, 0.175, ctx.tr("report.data_lacks"), fontsize=ctx.fs(12), va="top")
        _text_block(fig, ctx, 0.04, 0.135, wrap_at_most(sentence, ems(ctx, 0.92, 8.5), 4), size=ctx.fs(8.5),
                    colour="#7f2704")
    _coverage_bars(ctx, fig, completeness)
    credit = ctx.credit or ctx.tr("report.no_osm")
    fig.text(0.96, 0.015, f"{ctx.tr('report.made_by')}   {credit}", fontsize=ctx.fs(7.5),
             color="#666666", ha="right")
    return fig


def _swatch(fig: Figure, x: float, y: float, colour: str, size: float = 0.02):
    from matplotlib.patches import Rectangle

    return Rectangle((x, y), size * 0.6, size, transform=fig.transFigure, facecolor=colour,
                     edgecolor="#333333", lw=0.4, figure=fig)


def _coverage_bars(ctx: Context, fig: Figure, completeness: dict) -> None:
    """Coverage per service against its standard: one bar each, in the service's colour."""
    services = ctx.services
    fig.text(0.52, 0.855, ctx.tr("report.coverage_numbers"), fontsize=ctx.fs(14), va="top")
    # bars of one thickness from the top: a few services get a short panel, not bars
    # filling it (the panel is full at BAR_ROWS services; more make thinner bars)
    rows = max(len(services), MIN_BAR_ROWS)
    height = 0.52 * min(1.0, rows / BAR_ROWS)
    ax = fig.add_axes([0.71, 0.82 - height, 0.25, height])
    if not services:
        ax.axis("off")
        ax.text(0, 0.5, ctx.tr("report.no_coverage"), fontsize=ctx.fs(10), color="#666666")
        return
    thin = set((completeness.get("thin_services") or []))
    shares = [maps.coverage_share(ctx, s)[0] for s in services]
    ypos = np.arange(len(services))[::-1] + (rows - len(services))
    ax.barh(ypos, [1.0] * len(services), color="#eeeeee", height=0.7)
    bars = ax.barh(ypos, shares, color=[ctx.colours.get(s, "#555555") for s in services],
                   height=0.7, edgecolor="#333333", linewidth=0.4)
    for bar, s in zip(bars, services):
        if s in thin:
            bar.set_hatch("///")
    ax.set_xlim(0, 1)
    ax.set_ylim(-0.6, rows - 0.4)
    ax.spines["left"].set_bounds(ypos.min() - 0.5, ypos.max() + 0.5)
    ax.set_yticks(ypos)
    unit = ctx.tr("report.minutes")
    labels = [f"{clean(ctx.service_name(s), 14 if ctx.lang == 'zh' else 28)} "
              f"≤{float(ctx.thresholds.get(s, 15)):g}{unit}"
              + (" *" if s in thin else "") for s in services]
    fs = ctx.fs(8.5 if len(services) <= 13 else 7)
    ax.set_yticklabels(labels, fontsize=fs)
    ax.set_xticks([0, 0.5, 1.0])
    ax.set_xticklabels(["0", "50%", "100%"], fontsize=ctx.fs(7.5))
    for y, share in zip(ypos, shares):  # beside the track, readable on any bar colour
        ax.text(1.02, y, f"{share:.0%}", va="center", fontsize=fs, clip_on=False)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    note = ctx.tr("report.bars_note") + ("  " + ctx.tr("report.bars_thin") if thin else "")
    _text_block(fig, ctx, 0.52, 0.255, wrap_at_most(note, ems(ctx, 0.44, 7.5), 3), size=ctx.fs(7.5), colour="#555555")


def page_community(ctx: Context, community_id: str, geom, households: int) -> Figure:
    """One community: its grids with ids and households, and their coverage per service."""
    grids = ctx.layers.get("grids")
    mine = grids[grids["community_id"].astype(str) == str(community_id)] if grids is not None else None
    n = len(mine) if mine is not None else 0
    in_band = int(mine["in_band"].astype(int).sum()) if n and "in_band" in mine else 0
    fig = draw.page(ctx, ctx.tr("report.community_heading", name=ctx.community(community_id)),
                    subtitle=ctx.tr("report.community_sub", households=f"{int(households):,}",
                                    grids=n, in_band=in_band))
    maps.draw_community_map(ctx, fig, community_id, geom, [0.03, 0.05, 0.47, 0.84])
    shares = grid_shares(ctx)
    if n and len(shares):
        mine = mine.sort_values("grid_id")
        ids = mine["grid_id"].astype(str).to_numpy()
        shares.index = shares.index.astype(str)
        part = shares.reindex(ids)
        heat = part.to_numpy(dtype=float)
        frame = pd.DataFrame({ctx.tr("report.col.grid"): ids,
                              ctx.tr("report.col.households"): mine["households"].astype(int).to_numpy()})
        for k, s in enumerate(part.columns):
            frame[clean(ctx.service_name(s), 10 if ctx.lang == "zh" else 24)] = ["–" if not np.isfinite(v) else f"{v:.0%}"
                                                     for v in heat[:, k]]
        limit = 40
        if len(frame) > limit:  # the rest are in the XLSX export
            fig.text(0.53, 0.025, ctx.tr("report.rows_shown", shown=limit, total=len(frame)) + " "
                     + ctx.tr("report.more_in_xlsx"), fontsize=ctx.fs(7.5), color="#444444")
            frame, heat = frame.iloc[:limit], heat[:limit]
        ax = fig.add_axes([0.53, 0.05, 0.44, 0.84])
        draw_table(ctx, ax, frame, heat=heat, heat_from=2, font=7.5)
    return fig


def page_settings(ctx: Context) -> Figure:
    """Appendix: the settings and where the households came from."""
    project, summary = ctx.project, ctx.project.summary
    fig = draw.page(ctx, ctx.tr("report.settings"))
    band = project.band
    rows = [(ctx.tr("report.set.band"), f"{band[0]}–{band[1]}")]
    speeds = summary.get("speed_mps") or {}
    if speeds:
        values = sorted({float(v) for v in speeds.values()})
        rows.append((ctx.tr("report.set.speed"), " / ".join(f"{v:.1f}" for v in values) + " m/s"))
    hs = (project.meta.get("settings") or {}).get("households") or {}
    if "dwelling_m2" in hs:
        rows.append((ctx.tr("report.set.dwelling"), f"{hs['dwelling_m2']:g} m²"))
    rows.append((ctx.tr("report.set.crs"), clean(project.meta.get("crs", ""), 40)))
    if project.session is not None:
        rows.append((ctx.tr("report.set.edits"), str(project.session.position)))
    if project.meta.get("saved_at"):
        rows.append((ctx.tr("report.set.saved"), clean(project.meta["saved_at"], 40)))
    for src, n in (summary.get("households_by_source") or {}).items():
        value = n.get("households", n) if isinstance(n, dict) else n
        key = f"page.hh_source_{src}"
        label = t(key, ctx.lang) if key in table() else clean(src, 20)
        rows.append((f"{ctx.tr('report.hh_sources')}: {label}",
                     f"{value:,}" if isinstance(value, (int, float)) else clean(value, 20)))
    for reason, info in (summary.get("households_left_out") or {}).items():
        key = f"report.left_out.{reason}"
        label = t(key, ctx.lang) if key in table() else clean(reason, 20)
        rows.append((f"{ctx.tr('report.left_out_heading')}: {label}",
                     ctx.tr("report.left_out_row", buildings=info.get("buildings", 0),
                            households=f"{info.get('households_if_homes', 0):,}")))

    rows += report_rows(project, ctx.lang)  # grid codes and staffing (grid system)
    rows += appendix_rows(summary, ctx.service_name, ctx.lang)[:max(0, 19 - len(rows))]
    y = 0.86
    rows = rows[:20]  # what fits the page (the XLSX export holds every figure)
    for label, value in rows:
        fig.text(0.06, y, label, fontsize=ctx.fs(10), va="top")
        fig.text(0.60, y, value, fontsize=ctx.fs(10), va="top", ha="right")
        y -= 0.04
    notes = [note_text(n, ctx.lang) for n in (summary.get("notes") or [])][:8]
    if notes:
        fig.text(0.64, 0.86, ctx.tr("report.notes"), fontsize=ctx.fs(11), va="top")
        yy = 0.82
        for note in notes:
            lines = wrap_at_most(clean(note, 400), ems(ctx, 0.32, 7.5), 5)
            yy = _text_block(fig, ctx, 0.64, yy, lines, size=ctx.fs(7.5), colour="#444444") - 0.01
            if yy < 0.08:
                break
    return fig


__all__ = ["gap_places", "headline", "largest_gaps", "thin_services", "page_community", "page_findings", "page_settings"]
