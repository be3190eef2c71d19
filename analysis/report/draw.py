"""Drawing helpers shared by the report's pages: polygons and lines from shapely
geometries, map axes in metres, the basemap, scale bar, north arrow and credit, legends."""

from __future__ import annotations

import math
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from analysis.report.style import BUILDING_COLOUR, DENSE, ROAD_STYLE, clean


def polygon_paths(geoms: np.ndarray) -> list[MplPath]:
    """matplotlib paths (holes included) of (multi)polygons."""
    paths = []
    for geom in geoms:
        if geom is None or geom.is_empty:
            continue
        for poly in shapely.get_parts(geom):
            if shapely.get_type_id(poly) != 3:
                continue
            rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
            verts = np.concatenate(rings)
            codes = np.full(len(verts), MplPath.LINETO, dtype=np.uint8)
            start = 0
            for ring in rings:
                codes[start] = MplPath.MOVETO
                codes[start + len(ring) - 1] = MplPath.CLOSEPOLY
                start += len(ring)
            paths.append(MplPath(verts, codes))
    return paths


def polys(ax, geoms, *, face="none", edge="none", lw=0.5, alpha=1.0, zorder=1,
           rasterize: bool | None = None, hatch: str | None = None) -> PathCollection | None:
    geoms = np.asarray(geoms, dtype=object)
    paths = polygon_paths(geoms)
    if not paths:
        return None
    coll = PathCollection(paths, facecolors=face, edgecolors=edge, linewidths=lw, alpha=alpha,
                          zorder=zorder, transform=ax.transData)
    if hatch:
        coll.set_hatch(hatch)
    coll.set_rasterized(len(paths) > DENSE if rasterize is None else rasterize)
    ax.add_collection(coll, autolim=False)
    return coll


def polys_each(ax, geoms, faces: Sequence[str], **kw) -> None:
    """Polygons with one face colour each (multi-part geometries keep their colour)."""
    geoms = np.asarray(geoms, dtype=object)
    colours = []
    for geom, face in zip(geoms, faces):
        n = sum(1 for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3) if geom is not None else 0
        colours += [face] * n
    paths = polygon_paths(geoms)
    if paths:
        coll = PathCollection(paths, facecolors=colours, transform=ax.transData, **kw)
        ax.add_collection(coll, autolim=False)


def lines(ax, geoms, *, colour: str, lw: float, zorder: int = 2) -> None:
    parts = shapely.get_parts(np.asarray(geoms, dtype=object))
    parts = parts[np.isin(shapely.get_type_id(parts), (1, 2))]
    if not len(parts):
        return
    coords, index = shapely.get_coordinates(parts, return_index=True)
    splits = np.flatnonzero(np.diff(index)) + 1
    segments = np.split(coords, splits)
    coll = LineCollection(segments, colors=colour, linewidths=lw, zorder=zorder, capstyle="round")
    coll.set_rasterized(len(segments) > DENSE * 4)
    ax.add_collection(coll, autolim=False)


def nice_length(span_m: float) -> float:
    raw = span_m / 5
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * power >= raw:
            return step * power
    return 10 * power


# --------------------------------------------------------------------------- context



def page(ctx, heading: str, *, subtitle: str = "") -> Figure:
    fig = Figure(figsize=ctx.size_in)
    fig.text(0.04, 0.955, heading, fontsize=ctx.fs(16), va="top")
    if subtitle:
        fig.text(0.04, 0.915, subtitle, fontsize=ctx.fs(9.5), va="top", color="#444444")
    fig.text(0.96, 0.955, f"{ctx.tr('report.title')} · {clean(ctx.area_name, 24)}", fontsize=ctx.fs(8), ha="right",
             va="top", color="#666666")
    return fig


def map_axes(ctx, fig: Figure, *, right: float = 0.78, rect: Sequence[float] | None = None,
             extent: Sequence[float] | None = None):
    """Axes for a map in metres (square), framing ``extent`` (default: the households)."""
    rect = list(rect) if rect is not None else [0.04, 0.05, right - 0.04, 0.84]
    ax = fig.add_axes(rect)
    x0, y0, x1, y1 = extent if extent is not None else ctx.extent
    # widen the extent to the axes' own shape, so that metres are square and nothing moves
    box = (ctx.size_in[0] * rect[2]) / (ctx.size_in[1] * rect[3])
    cx, cy, dx, dy = (x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0
    if dx / dy < box:
        dx = dy * box
    else:
        dy = dx / box
    ax.set_xlim(cx - dx / 2, cx + dx / 2)
    ax.set_ylim(cy - dy / 2, cy + dy / 2)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#999999")
    ax.set_facecolor("#f7f5f0")
    return ax


def _within(frame: gpd.GeoDataFrame, ax) -> gpd.GeoDataFrame:
    """The part of ``frame`` that can show inside the axes' limits."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return frame.cx[x0:x1, y0:y1]


def basemap(ctx, ax) -> None:
    """Buildings and roads inside the axes' limits."""
    buildings = ctx.layers.get("buildings")
    if isinstance(buildings, gpd.GeoDataFrame) and len(buildings):
        buildings = _within(buildings, ax)
        polys(ax, buildings.geometry.to_numpy(), face=BUILDING_COLOUR, edge="none", zorder=1)
    roads = ctx.layers.get("roads")
    if isinstance(roads, gpd.GeoDataFrame) and len(roads):
        roads = _within(roads, ax)
        classes = roads["road_class"] if "road_class" in roads else pd.Series("local", index=roads.index)
        for cls in ("path", "local", "arterial"):
            part = roads.geometry[classes.to_numpy() == cls]
            colour, lw = ROAD_STYLE[cls]
            if len(part):
                lines(ax, part.to_numpy(), colour=colour, lw=lw, zorder=2 if cls != "arterial" else 3)


def furniture(ctx, ax, *, small: bool = False) -> None:
    """Scale bar, north arrow and the credit (smaller, without the arrow, on small maps)."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", lw=2.5, solid_capstyle="butt", zorder=20)
    ax.plot([bx, bx + length / 2], [by, by], color="white", lw=1.0, solid_capstyle="butt", zorder=21)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 0.012 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=ctx.fs(6.5 if small else 8), zorder=20)
    credit = ctx.credit or ctx.tr("report.no_osm")
    ax.text(0.995, 0.005, credit, transform=ax.transAxes, ha="right", va="bottom",
            fontsize=ctx.fs(5.5 if small else 7), zorder=21,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5})
    if small:
        return
    ax.annotate(ctx.tr("report.north"), xy=(0.965, 0.96), xytext=(0.965, 0.88),
                xycoords="axes fraction", ha="center", va="center", fontsize=ctx.fs(10),
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5}, zorder=20)


def legend(ctx, fig: Figure, handles: list, title: str, *, x: float = 0.795,
           y: float = 0.89) -> None:
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(x, y), frameon=False,
               title=title, fontsize=ctx.fs(8.5), title_fontsize=ctx.fs(9.5), alignment="left")


def basemap_handles(ctx) -> list:
    """Legend entries of the basemap: community boundaries, roads and buildings."""
    return [Line2D([], [], color="#000000", lw=1.8, label=ctx.tr("report.legend_community")),
            Line2D([], [], color=ROAD_STYLE["arterial"][0], lw=2, label=ctx.tr("report.legend_arterial")),
            Line2D([], [], color=ROAD_STYLE["local"][0], lw=1, label=ctx.tr("report.legend_local")),
            Patch(facecolor=BUILDING_COLOUR, label=ctx.tr("report.legend_building"))]


def place_labels(ax, xy: np.ndarray, texts: Sequence[str], *, fontsize: float,
                 min_gap: tuple[float, float] = (0.05, 0.03), zorder: int = 8, **kw) -> int:
    """Write labels at points in order, skipping any closer than ``min_gap`` (x, y in axes
    fraction) to one already written, so that no label overprints another. Returns how
    many were written."""
    to_axes = ax.transAxes.inverted().transform
    placed: list[np.ndarray] = []
    n = 0
    for (x, y), text in zip(xy, texts):
        pos = to_axes(ax.transData.transform((x, y)))
        if not (0 <= pos[0] <= 1 and 0 <= pos[1] <= 1):
            continue
        if placed:
            d = np.abs(np.array(placed) - pos)
            if np.any((d[:, 0] < min_gap[0]) & (d[:, 1] < min_gap[1])):
                continue
        ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, zorder=zorder,
                clip_on=True, **kw)
        placed.append(pos)
        n += 1
    return n


