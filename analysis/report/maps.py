"""The report's maps: the whole area's grids, coverage per service (a full page each for
slides, six small maps a page in the PDF), the gaps, and one page per community."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from analysis.report import draw
from analysis.report.context import Context, thin_services
from analysis.report.style import (BAND_COLOURS, DENSE, FLAG_COLOUR, MINUTE_CLASSES,
                                   OUTSIDE_COLOUR, UNREACHED_COLOUR, clean)
from geo.grids.rules import flagged
from geo.vocabulary import minutes_column
from analysis.report.style import wrap

MAX_MAP_LABELS = 150  # more grids than this: the area map labels communities, not grids
PANELS = (4, 2)  # small coverage maps per page (columns, rows)
MAX_GAP_LABELS = 15
GAP_HATCHES = ("", "////", "\\\\\\\\", "xxx", "...", "---", "+++", "|||", "ooo")


def grid_colours(n: int) -> list[str]:
    """A qualitative colour per grid so that neighbours rarely share one."""
    return [BAND_COLOURS[k % len(BAND_COLOURS)] for k in range(n)]


def _frame(ctx: Context, name: str) -> gpd.GeoDataFrame | None:
    frame = ctx.layers.get(name)
    return frame if isinstance(frame, gpd.GeoDataFrame) and len(frame) else None


def grid_labels(grids: pd.DataFrame, *, limit: int = 12) -> list[str]:
    """Each grid's label on a report map: its code, with the name the planner gave it (as
    on the page), cleaned and shortened."""
    names = grids["name"] if "name" in grids.columns else pd.Series("", index=grids.index)
    out = []
    for gid, name in zip(grids["grid_id"].astype(str), names):
        given = clean(name, limit) if isinstance(name, str) and name.strip() else ""
        out.append(f"{gid} {given}" if given and given != gid else gid)
    return out


def _draw_grids(ctx: Context, ax, grids: gpd.GeoDataFrame, *, lw: float = 0.6) -> None:
    draw.polys_each(ax, grids.geometry.to_numpy(), grid_colours(len(grids)),
                    edgecolors="#333333", linewidths=lw, alpha=0.55, zorder=4)
    bad = grids[flagged(grids).to_numpy()]
    if len(bad):
        draw.polys(ax, bad.geometry.to_numpy(), face="none", edge=FLAG_COLOUR, lw=1.4,
                   zorder=6, hatch="///", rasterize=False)
    comms = _frame(ctx, "communities")
    if comms is not None:
        draw.polys(ax, comms.geometry.to_numpy(), face="none", edge="#000000", lw=1.8,
                   zorder=7, rasterize=False)


def _grid_handles(ctx: Context) -> list:
    return [Patch(facecolor=BAND_COLOURS[0], edgecolor="#333333", alpha=0.6,
                  label=ctx.tr("report.legend_grid")),
            Patch(facecolor="none", edgecolor=FLAG_COLOUR, hatch="///",
                  label=ctx.tr("report.legend_flagged")),
            *draw.basemap_handles(ctx)]


def page_grids(ctx: Context) -> Figure | None:
    """The whole area's grids; labelled by grid id when few, else by community name."""
    grids = _frame(ctx, "grids")
    if grids is None:
        return None
    grids = grids.sort_values("grid_id").reset_index(drop=True)
    total = len(grids)
    in_band = int(grids["in_band"].astype(int).sum()) if "in_band" in grids else total
    band = ctx.project.band
    fig = draw.page(ctx, ctx.tr("report.grids_heading"),
                    subtitle=ctx.tr("report.grids_sub", grids=total, in_band=in_band,
                                    low=band[0], high=band[1]))
    ax = draw.map_axes(ctx, fig)
    draw.basemap(ctx, ax)
    _draw_grids(ctx, ax, grids)
    if total <= MAX_MAP_LABELS:
        pts = shapely.get_coordinates(grids.geometry.representative_point().to_numpy())
        size = ctx.fs(7 if total <= 60 else 5)
        draw.place_labels(ax, pts, grid_labels(grids), fontsize=size,
                          min_gap=(0.035, 0.018), color="#111111")
    else:
        comms = _frame(ctx, "communities")
        if comms is not None:
            pts = shapely.get_coordinates(comms.geometry.representative_point().to_numpy())
            labels = [ctx.community(c) for c in comms["community_id"]]
            draw.place_labels(ax, pts, labels, fontsize=ctx.fs(7), min_gap=(0.08, 0.03),
                              color="#000000", bbox={"facecolor": "white", "alpha": 0.75,
                                                     "edgecolor": "none", "pad": 1})
    draw.furniture(ctx, ax)
    draw.legend(ctx, fig, _grid_handles(ctx), ctx.tr("report.legend"))
    if total > MAX_MAP_LABELS:
        fig.text(0.795, 0.08, "\n".join(draw_wrap(ctx, ctx.tr("report.grids_many"), 16)),
                 fontsize=ctx.fs(8), va="bottom", color="#444444")
    return fig


def draw_wrap(ctx: Context, text: str, width_em: float) -> list[str]:

    return wrap(text, width_em)


def page_overview(ctx: Context) -> Figure:
    """The area before grids exist: roads, buildings, communities and household units."""
    hh = ctx.layers["households"]
    total = int(hh["households"].sum())
    fig = draw.page(ctx, ctx.tr("report.overview_heading"),
                    subtitle=ctx.tr("report.overview_sub", households=f"{total:,}",
                                    units=f"{len(hh):,}"))
    ax = draw.map_axes(ctx, fig)
    draw.basemap(ctx, ax)
    comms = _frame(ctx, "communities")
    if comms is not None:
        draw.polys(ax, comms.geometry.to_numpy(), face="none", edge="#000000", lw=1.8, zorder=7,
                   rasterize=False)
    xy = shapely.get_coordinates(hh.geometry.representative_point().to_numpy())
    sizes = np.clip(np.sqrt(hh["households"].to_numpy(dtype=float)) * 1.2, 2, 40)
    dots = ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c="#6a51a3", alpha=0.7, linewidths=0, zorder=5)
    dots.set_rasterized(len(hh) > DENSE)
    draw.furniture(ctx, ax)
    handles = [Line2D([], [], marker="o", ls="", color="#6a51a3", markersize=6,
                      label=ctx.tr("report.legend_households")), *draw.basemap_handles(ctx)]
    draw.legend(ctx, fig, handles, ctx.tr("report.legend"))
    return fig


def minute_classes(minutes: np.ndarray, threshold: float) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Class colour of each household and the legend entries (label, colour)."""
    colours = np.full(len(minutes), UNREACHED_COLOUR, dtype=object)
    legend = []
    lower = -np.inf
    for limit, colour in MINUTE_CLASSES:
        if limit > threshold:
            break
        colours[(minutes > lower) & (minutes <= limit)] = colour
        legend.append((f"≤ {limit:g}", colour))
        lower = limit
    if lower < threshold:
        colours[(minutes > lower) & (minutes <= threshold)] = "#fee08b"
        legend.append((f"≤ {threshold:g}", "#fee08b"))
    colours[minutes > threshold] = OUTSIDE_COLOUR
    legend.append((f"> {threshold:g}", OUTSIDE_COLOUR))
    return colours, legend


def coverage_share(ctx: Context, service: str) -> tuple[float, float, float]:
    """(share, covered, households on the network) of one service."""
    hh = ctx.layers["households"]
    threshold = float(ctx.thresholds.get(service, 15))
    minutes = hh[minutes_column(service)].to_numpy(dtype=float)
    weights = hh["households"].to_numpy(dtype=float)
    on = (hh["on_network"].fillna(False).to_numpy(dtype=bool) if "on_network" in hh
          else np.ones(len(hh), dtype=bool))
    base = weights[on].sum()
    covered = weights[on & (minutes <= threshold + 1e-9)].sum()
    return (covered / base if base else 0.0), covered, base


def _coverage_layers(ctx: Context, ax, service: str, *, dot_scale: float = 1.0) -> None:
    """Service area, grid outlines, households by walking minutes and facilities."""
    hh = ctx.layers["households"]
    threshold = float(ctx.thresholds.get(service, 15))
    colour = ctx.colours.get(service, "#08306b")
    areas = _frame(ctx, "service_areas")
    if areas is not None:
        mine = areas[areas["service"] == service]
        if "minutes" in mine and len(mine):
            best = mine[mine["minutes"].astype(float) <= threshold + 1e-9]
            mine = best[best["minutes"] == best["minutes"].max()] if len(best) else mine
        draw.polys(ax, mine.geometry.to_numpy(), face=colour, edge=colour, lw=0.8, alpha=0.16,
                   zorder=3, rasterize=False)
    grids = _frame(ctx, "grids")
    if grids is not None:
        draw.polys(ax, grids.geometry.to_numpy(), face="none", edge="#555555", lw=0.3, zorder=4,
                   rasterize=len(grids) > DENSE)
    minutes = hh[minutes_column(service)].to_numpy(dtype=float)
    colours, _ = minute_classes(minutes, threshold)
    xy = shapely.get_coordinates(hh.geometry.representative_point().to_numpy())
    sizes = np.clip(np.sqrt(hh["households"].to_numpy(dtype=float)) * 1.2 * dot_scale, 1, 40)
    dots = ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=list(colours), linewidths=0, zorder=5)
    dots.set_rasterized(len(hh) > DENSE)
    fac = _frame(ctx, "facilities")
    if fac is not None:
        mine = fac[fac["service"] == service]
        if len(mine):
            pts = shapely.get_coordinates(mine.geometry.representative_point().to_numpy())
            ax.scatter(pts[:, 0], pts[:, 1], marker="*", s=110 * dot_scale, c=colour,
                       edgecolors="black", linewidths=0.6, zorder=9)


def _minute_handles(ctx: Context, threshold: float) -> list:
    _, legend = minute_classes(np.zeros(0), threshold)
    unit = ctx.tr("report.minutes")
    handles = [Line2D([], [], marker="o", ls="", color=c, markersize=6, label=f"{lab} {unit}")
               for lab, c in legend]
    handles.append(Line2D([], [], marker="o", ls="", color=UNREACHED_COLOUR, markersize=6,
                          label=ctx.tr("report.unreached")))
    return handles


def page_coverage(ctx: Context, service: str) -> Figure:
    """One service on a full page (the PNG maps for slides)."""
    threshold = float(ctx.thresholds.get(service, 15))
    share, covered, base = coverage_share(ctx, service)
    name = ctx.service_name(service)
    fig = draw.page(ctx, ctx.tr("report.coverage_heading", service=name),
                    subtitle=ctx.tr("report.coverage_sub", minutes=f"{threshold:g}",
                                    share=f"{share:.1%}", covered=f"{int(covered):,}",
                                    households=f"{int(base):,}"))
    ax = draw.map_axes(ctx, fig)
    draw.basemap(ctx, ax)
    _coverage_layers(ctx, ax, service)
    draw.furniture(ctx, ax)
    colour = ctx.colours.get(service, "#08306b")
    handles = _minute_handles(ctx, threshold)
    handles.append(Line2D([], [], marker="*", ls="", color=colour, markeredgecolor="black",
                          markersize=10, label=ctx.tr("report.facility", service=name)))
    handles.append(Patch(facecolor=colour, alpha=0.25,
                         label=ctx.tr("report.service_area", minutes=f"{threshold:g}")))
    draw.legend(ctx, fig, handles, ctx.tr("report.legend_walk"))
    return fig


def pages_coverage_panels(ctx: Context) -> list[Figure]:
    """Every chosen service as a small map, eight to a page, in the services' colours."""
    cols, rows = PANELS
    per_page = cols * rows
    pages = []
    chunks = [ctx.services[k:k + per_page] for k in range(0, len(ctx.services), per_page)]
    for n, chunk in enumerate(chunks):
        suffix = f" ({n + 1}/{len(chunks)})" if len(chunks) > 1 else ""
        fig = draw.page(ctx, ctx.tr("report.coverage_panels") + suffix,
                        subtitle=ctx.tr("report.coverage_panels_sub"))
        width, height, left, top = 0.18, 0.395, 0.025, 0.875
        for k, service in enumerate(chunk):
            c, r = k % cols, k // cols
            rect = [left + c * (width + 0.008), top - (r + 1) * height - r * 0.04, width, height]
            ax = draw.map_axes(ctx, fig, rect=rect)
            draw.basemap(ctx, ax)
            _coverage_layers(ctx, ax, service, dot_scale=0.45)
            draw.furniture(ctx, ax, small=True)
            share, _, _ = coverage_share(ctx, service)
            threshold = float(ctx.thresholds.get(service, 15))
            ax.set_title(f"{clean(ctx.service_name(service), 12 if ctx.lang == 'zh' else 20)} ≤{threshold:g}"
                         f"{ctx.tr('report.minutes')} · {share:.0%}", fontsize=ctx.fs(7.5),
                         loc="left", pad=6)
            ax.add_patch(Rectangle((0, 1.0), 1, 0.012, transform=ax.transAxes, clip_on=False,
                                   facecolor=ctx.colours.get(service, "#000000"),
                                   edgecolor="none"))  # the service's colour
        handles = _minute_handles(ctx, 15)
        handles.append(Line2D([], [], marker="*", ls="", color="#ffffff", markeredgecolor="black",
                              markersize=10, label=ctx.tr("report.facility_any")))
        handles.append(Patch(facecolor="#cccccc", label=ctx.tr("report.service_area_any")))
        draw.legend(ctx, fig, handles, ctx.tr("report.legend_walk"), x=0.785, y=0.875)
        pages.append(fig)
    return pages


def page_gaps(ctx: Context, headline: dict) -> Figure | None:
    """The gaps of every chosen service in its colour; the largest labelled with rank and
    households, never over another label."""
    gaps = ctx.layers.get("gaps")
    if not isinstance(gaps, gpd.GeoDataFrame):
        return None
    if ctx.services and "service" in gaps:
        gaps = gaps[gaps["service"].isin(ctx.services)]
    fig = draw.page(ctx, ctx.tr("report.gaps_heading"),
                    subtitle=ctx.tr("report.gaps_sub_distinct", count=len(gaps),
                                    services=gaps["service"].nunique() if len(gaps) else 0,
                                    households=f"{headline.get('outside_any_service', 0):,}"))
    ax = draw.map_axes(ctx, fig)
    draw.basemap(ctx, ax)
    grids = _frame(ctx, "grids")
    if grids is not None:
        draw.polys(ax, grids.geometry.to_numpy(), face="none", edge="#777777", lw=0.4, zorder=4,
                   rasterize=len(grids) > DENSE)
    thin = set(thin_services(ctx))
    services = [s for s in ctx.services if len(gaps) and (gaps["service"] == s).any()]
    hatches = {s: GAP_HATCHES[k % len(GAP_HATCHES)]
               for k, s in enumerate(s for s in services if s not in thin)}
    if len(gaps):
        # each service in its colour and a hatch of its own (colours alone can be close
        # under transparency); data gaps apart: a dashed outline, not a filled gap
        for s in services:
            part = gaps[gaps["service"] == s]
            if s in thin:
                coll = draw.polys(ax, part.geometry.to_numpy(), face="none",
                                  edge=ctx.colours[s], lw=1.0, zorder=5, rasterize=False)
                if coll is not None:
                    coll.set_linestyle("--")
            else:
                draw.polys(ax, part.geometry.to_numpy(), face=ctx.colours[s], edge="#222222",
                           lw=0.5, zorder=6, alpha=0.7, hatch=hatches[s], rasterize=False)
        real = gaps[~gaps["service"].isin(thin)]
        top = real.sort_values(["households", "service"], ascending=[False, True],
                               kind="stable").head(60)
        pts = shapely.get_coordinates(top.geometry.representative_point().to_numpy())
        labels = [f"{ctx.service_name(s)[:6]} #{int(r)}\n{int(n):,}"
                  for s, r, n in zip(top["service"], top.get("rank", range(1, len(top) + 1)),
                                     top["households"])]
        draw.place_labels(ax, pts[:MAX_GAP_LABELS * 3], labels[:MAX_GAP_LABELS * 3],
                          fontsize=ctx.fs(6), min_gap=(0.09, 0.045),
                          bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.8})
    else:
        ax.text(0.5, 0.5, ctx.tr("report.no_gaps"), transform=ax.transAxes, ha="center",
                fontsize=ctx.fs(12), color="#555555", zorder=8)
    draw.furniture(ctx, ax)
    handles = [Patch(facecolor=ctx.colours[s], alpha=0.7, edgecolor="#222222", hatch=hatches[s],
                     label=ctx.service_name(s)) for s in services if s not in thin]
    handles += [Patch(facecolor="none", edgecolor=ctx.colours[s], linestyle="--",
                      label=ctx.service_name(s) + " *") for s in services if s in thin]
    draw.legend(ctx, fig, handles, ctx.tr("report.legend_gaps"))
    if thin & set(services):
        fig.text(0.795, 0.06, "\n".join(draw_wrap(ctx, ctx.tr("report.gaps_data_star"), 16)),
                 fontsize=ctx.fs(7.5), va="bottom", color="#444444")
    return fig


def community_extent(geom: shapely.Geometry) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = geom.bounds
    pad = 0.05 * max(x1 - x0, y1 - y0, 50.0)
    return x0 - pad, y0 - pad, x1 + pad, y1 + pad


def draw_community_map(ctx: Context, fig: Figure, community_id: str, geom, rect) -> None:
    """The community's grids with their ids and households, on the basemap."""
    ax = draw.map_axes(ctx, fig, rect=rect, extent=community_extent(geom))
    draw.basemap(ctx, ax)
    grids = _frame(ctx, "grids")
    mine = grids[grids["community_id"].astype(str) == str(community_id)] if grids is not None else None
    draw.polys(ax, [geom], face="none", edge="#000000", lw=2.0, zorder=7, rasterize=False)
    if mine is not None and len(mine):
        mine = mine.sort_values("grid_id")
        draw.polys_each(ax, mine.geometry.to_numpy(), grid_colours(len(mine)),
                        edgecolors="#333333", linewidths=0.8, alpha=0.6, zorder=4)
        bad = mine[flagged(mine).to_numpy()]
        if len(bad):
            draw.polys(ax, bad.geometry.to_numpy(), face="none", edge=FLAG_COLOUR, lw=1.4,
                       zorder=6, hatch="///", rasterize=False)
        pts = shapely.get_coordinates(mine.geometry.representative_point().to_numpy())
        unit = ctx.tr("report.households_unit")
        labels = [f"{label}\n{int(n):,}{unit}"
                  for label, n in zip(grid_labels(mine), mine["households"])]
        size = ctx.fs(7 if len(mine) <= 25 else 5.5)
        draw.place_labels(ax, pts, labels, fontsize=size, min_gap=(0.07, 0.04), color="#111111")
    draw.furniture(ctx, ax, small=True)


__all__ = ["coverage_share", "draw_community_map", "page_coverage", "page_gaps",
           "grid_labels", "page_grids", "page_overview", "pages_coverage_panels"]
