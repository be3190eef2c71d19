"""The committee report: a PDF (A4 landscape by default, A3 on request) and PNG maps at
300 dpi for slides, in Chinese or English, made from a project alone.

Pages: a cover with the area, date, settings and key numbers; a map of the grids; one
coverage map per chosen service; a map of the coverage gaps; the grid table; the coverage
table. Maps need no internet: the basemap is drawn from the area's own roads and
buildings (stored in the project), and every map carries the OpenStreetMap credit where
OSM data was used.

Chinese text is set in Noto Sans CJK SC, shipped by the pinned ``noto-cjk-sans-otc``
package (SIL Open Font License 1.1) and embedded in the PDF (subset, Type 0/CID, so the
text stays searchable and copyable), so the report looks the same on a fresh machine
after ``pip install -r requirements.txt``. Figures are built with matplotlib's
object-oriented API (no pyplot state), so reports can be made from several page sessions
at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from contextlib import contextmanager
from datetime import date as Date
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

from analysis.project import Project
from geo.catalogue import load_catalogue
from geo.errors import InputError, ProjectFileError
from geo.grids.rules import reason_text
from geo.i18n import t, table

PAPERS_IN = {"A4": (11.69, 8.27), "A3": (16.54, 11.69)}  # landscape, inches
PNG_DPI = 300
PDF_RASTER_DPI = 200  # dense layers (buildings, many households) are rasterised at this
DENSE = 4000  # more features than this are rasterised inside the PDF
CJK_FAMILY = "Noto Sans CJK SC"
ROAD_STYLE = {"arterial": ("#d9a441", 1.6), "local": ("#b0b0b0", 0.8), "path": ("#cfcfcf", 0.4)}
BAND_COLOURS = ("#a6cee3", "#b2df8a", "#fdbf6f", "#cab2d6", "#ffff99", "#8dd3c7", "#bebada",
                "#80b1d3", "#fccde5", "#d9d9d9", "#ccebc5", "#ffed6f")
FLAG_COLOUR = "#e31a1c"
MINUTE_CLASSES = ((5, "#1a9850"), (10, "#91cf60"), (15, "#d9ef8b"))
OUTSIDE_COLOUR, UNREACHED_COLOUR = "#f46d43", "#7f7f7f"
SERVICE_AREA_COLOUR = "#3182bd"


# ----------------------------------------------------------------------------- fonts


@lru_cache(maxsize=1)
def cjk_font_path() -> str:
    """Path of the bundled Noto Sans CJK collection, registered with matplotlib.

    Raises
    ------
    InputError
        If the font package is missing (the message says how to install it).
    """
    from matplotlib import font_manager

    try:
        import noto_cjk_sans_otc
    except ImportError:
        raise InputError("err.report_no_font") from None
    path = str(noto_cjk_sans_otc.FONT_PATH)
    font_manager.fontManager.addfont(path)
    return path


@contextmanager
def report_style():
    """matplotlib settings of the report: the CJK font, embedded as TrueType/CID."""
    cjk_font_path()
    with matplotlib.rc_context({
        "font.family": [CJK_FAMILY, "DejaVu Sans"], "pdf.fonttype": 42, "ps.fonttype": 42,
        "axes.unicode_minus": False, "font.size": 9, "axes.titlesize": 13,
        "pdf.compression": 6,
    }):
        yield


# ------------------------------------------------------------------------ geometry


def _polygon_paths(geoms: np.ndarray) -> list[MplPath]:
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


def _polys(ax, geoms, *, face="none", edge="none", lw=0.5, alpha=1.0, zorder=1,
           rasterize: bool | None = None, hatch: str | None = None) -> PathCollection | None:
    geoms = np.asarray(geoms, dtype=object)
    paths = _polygon_paths(geoms)
    if not paths:
        return None
    coll = PathCollection(paths, facecolors=face, edgecolors=edge, linewidths=lw, alpha=alpha,
                          zorder=zorder, transform=ax.transData)
    if hatch:
        coll.set_hatch(hatch)
    coll.set_rasterized(len(paths) > DENSE if rasterize is None else rasterize)
    ax.add_collection(coll, autolim=False)
    return coll


def _polys_each(ax, geoms, faces: Sequence[str], **kw) -> None:
    """Polygons with one face colour each (multi-part geometries keep their colour)."""
    geoms = np.asarray(geoms, dtype=object)
    colours = []
    for geom, face in zip(geoms, faces):
        n = sum(1 for p in shapely.get_parts(geom) if shapely.get_type_id(p) == 3) if geom is not None else 0
        colours += [face] * n
    paths = _polygon_paths(geoms)
    if paths:
        coll = PathCollection(paths, facecolors=colours, transform=ax.transData, **kw)
        ax.add_collection(coll, autolim=False)


def _lines(ax, geoms, *, colour: str, lw: float, zorder: int = 2) -> None:
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


def _nice_length(span_m: float) -> float:
    raw = span_m / 5
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 5, 10):
        if step * power >= raw:
            return step * power
    return 10 * power


# --------------------------------------------------------------------------- context


class _Context:
    """What every page needs: the project's layers, names, language and paper."""

    def __init__(self, project: Project, lang: str, paper: str, services: Sequence[str] | None):
        if lang not in ("zh", "en"):
            raise InputError("err.report_lang", lang=lang)
        paper = str(paper).upper()
        if paper not in PAPERS_IN:
            raise InputError("err.report_paper", paper=paper, choices=", ".join(PAPERS_IN))
        self.project, self.lang, self.paper = project, lang, paper
        self.size_in = PAPERS_IN[paper]
        self.scale = self.size_in[0] / PAPERS_IN["A4"][0]
        self.layers = project.layers
        if "households" not in self.layers:
            raise ProjectFileError("err.not_project", path=project.path or "?",
                                   detail="no households layer")
        self.catalogue = {s.key: s for s in load_catalogue()}
        hh = self.layers["households"]
        available = [k for k in self.catalogue if f"walk_min_{k}" in hh.columns]
        available += [c[len("walk_min_"):] for c in hh.columns
                      if c.startswith("walk_min_") and c[len("walk_min_"):] not in available]
        if services is None:
            self.services = available
        else:
            unknown = [s for s in services if s not in available]
            if unknown:
                raise InputError("err.report_service", services=", ".join(unknown),
                                 choices=", ".join(available) or "-")
            self.services = list(services)
        self.thresholds = {**{k: s.threshold_min for k, s in self.catalogue.items()},
                           **(project.meta.get("thresholds_min") or {}),
                           **(project.summary.get("thresholds_min") or {})}
        self.credit = project.credit
        extent = self._extent()
        self.extent = extent

    def fs(self, points: float) -> float:
        """A font size in points, scaled with the paper."""
        return points * self.scale

    def tr(self, key: str, **params) -> str:
        return t(key, self.lang, **params)

    def service_name(self, key: str) -> str:
        s = self.catalogue.get(key)
        return s.name(self.lang) if s else key

    def _extent(self) -> tuple[float, float, float, float]:
        # where the households are (the study area can include long empty approaches)
        for name in ("grids", "households", "communities", "study_area"):
            frame = self.layers.get(name)
            if isinstance(frame, gpd.GeoDataFrame) and len(frame):
                x0, y0, x1, y1 = frame.total_bounds
                if x1 > x0 and y1 > y0:
                    pad = 0.03 * max(x1 - x0, y1 - y0)
                    return x0 - pad, y0 - pad, x1 + pad, y1 + pad
        raise ProjectFileError("err.not_project", path=self.project.path or "?", detail="empty")


# ----------------------------------------------------------------------------- pages


def _page(ctx: _Context, heading: str, *, subtitle: str = "") -> Figure:
    fig = Figure(figsize=ctx.size_in)
    fig.text(0.04, 0.955, heading, fontsize=ctx.fs(16), va="top")
    if subtitle:
        fig.text(0.04, 0.915, subtitle, fontsize=ctx.fs(9.5), va="top", color="#444444")
    area = ctx.project.meta.get("area", "")
    fig.text(0.96, 0.955, f"{ctx.tr('report.title')} · {area}", fontsize=ctx.fs(8), ha="right",
             va="top", color="#666666")
    return fig


def _map_axes(ctx: _Context, fig: Figure, *, right: float = 0.78):
    rect = [0.04, 0.05, right - 0.04, 0.84]
    ax = fig.add_axes(rect)
    x0, y0, x1, y1 = ctx.extent
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


def _basemap(ctx: _Context, ax) -> None:
    buildings = ctx.layers.get("buildings")
    if isinstance(buildings, gpd.GeoDataFrame) and len(buildings):
        _polys(ax, buildings.geometry.to_numpy(), face="#dcd6cb", edge="none", zorder=1)
    roads = ctx.layers.get("roads")
    if isinstance(roads, gpd.GeoDataFrame) and len(roads):
        classes = roads["road_class"] if "road_class" in roads else pd.Series("local", index=roads.index)
        for cls in ("path", "local", "arterial"):
            part = roads.geometry[classes.to_numpy() == cls]
            colour, lw = ROAD_STYLE[cls]
            if len(part):
                _lines(ax, part.to_numpy(), colour=colour, lw=lw, zorder=2 if cls != "arterial" else 3)


def _furniture(ctx: _Context, ax) -> None:
    """Scale bar, north arrow and the credit."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = _nice_length(x1 - x0)
    bx, by = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([bx, bx + length], [by, by], color="black", lw=2.5, solid_capstyle="butt", zorder=20)
    ax.plot([bx, bx + length / 2], [by, by], color="white", lw=1.0, solid_capstyle="butt", zorder=21)
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + 0.012 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=ctx.fs(8), zorder=20)
    ax.annotate(ctx.tr("report.north"), xy=(0.965, 0.96), xytext=(0.965, 0.88),
                xycoords="axes fraction", ha="center", va="center", fontsize=ctx.fs(10),
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.5}, zorder=20)
    credit = ctx.credit or ctx.tr("report.no_osm")
    ax.text(0.995, 0.005, credit, transform=ax.transAxes, ha="right", va="bottom", fontsize=ctx.fs(7),
            zorder=21, bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5})


def _legend(ctx: _Context, fig: Figure, handles: list, title: str) -> None:
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.795, 0.89), frameon=False,
               title=title, fontsize=ctx.fs(8.5), title_fontsize=ctx.fs(9.5), alignment="left")


def _grid_colours(grids: pd.DataFrame) -> list[str]:
    """A qualitative colour per grid so that neighbours rarely share one."""
    return [BAND_COLOURS[k % len(BAND_COLOURS)] for k in range(len(grids))]


def page_grids(ctx: _Context) -> Figure | None:
    grids = ctx.layers.get("grids")
    if not isinstance(grids, gpd.GeoDataFrame) or not len(grids):
        return None
    grids = grids.sort_values("grid_id").reset_index(drop=True)
    total = len(grids)
    in_band = int(grids["in_band"].astype(int).sum()) if "in_band" in grids else total
    band = ctx.project.band
    fig = _page(ctx, ctx.tr("report.grids_heading"),
                subtitle=ctx.tr("report.grids_sub", grids=total, in_band=in_band,
                                low=band[0], high=band[1]))
    ax = _map_axes(ctx, fig)
    _basemap(ctx, ax)
    _polys_each(ax, grids.geometry.to_numpy(), _grid_colours(grids), edgecolors="#333333",
                linewidths=0.6, alpha=0.55, zorder=4)
    flagged = grids[(grids.get("in_band", 1).astype(int) == 0)
                    | (grids.get("contiguous", 1).astype(int) == 0)
                    | (grids.get("arterial_crossings", 0).astype(int) > 0)]
    if len(flagged):
        _polys(ax, flagged.geometry.to_numpy(), face="none", edge=FLAG_COLOUR, lw=1.4, zorder=6,
               hatch="///", rasterize=False)
    comms = ctx.layers.get("communities")
    if isinstance(comms, gpd.GeoDataFrame) and len(comms):
        _polys(ax, comms.geometry.to_numpy(), face="none", edge="#000000", lw=1.8, zorder=7,
               rasterize=False)
    if total <= 400:
        pts = grids.geometry.representative_point()
        size = ctx.fs(7 if total <= 60 else 5 if total <= 200 else 3.5)
        names = grids["name"].fillna("") if "name" in grids else pd.Series("", index=grids.index)
        for x, y, gid, name in zip(pts.x, pts.y, grids["grid_id"], names):
            label = f"{gid}\n{name}" if name and total <= 60 else str(gid)
            ax.text(x, y, label, ha="center", va="center", fontsize=size, zorder=8,
                    color="#111111", clip_on=True)
    _furniture(ctx, ax)
    handles = [Patch(facecolor=BAND_COLOURS[0], edgecolor="#333333", alpha=0.6,
                     label=ctx.tr("report.legend_grid")),
               Patch(facecolor="none", edgecolor=FLAG_COLOUR, hatch="///",
                     label=ctx.tr("report.legend_flagged")),
               *_basemap_handles(ctx)]
    _legend(ctx, fig, handles, ctx.tr("report.legend"))
    return fig


def _basemap_handles(ctx: _Context) -> list:
    """Legend entries of the basemap: community boundaries, roads and buildings."""
    return [Line2D([], [], color="#000000", lw=1.8, label=ctx.tr("report.legend_community")),
            Line2D([], [], color=ROAD_STYLE["arterial"][0], lw=2, label=ctx.tr("report.legend_arterial")),
            Line2D([], [], color=ROAD_STYLE["local"][0], lw=1, label=ctx.tr("report.legend_local")),
            Patch(facecolor="#dcd6cb", label=ctx.tr("report.legend_building"))]


def page_overview(ctx: _Context) -> Figure:
    """The area before grids exist: roads, buildings, communities and household units."""
    hh = ctx.layers["households"]
    total = int(hh["households"].sum())
    fig = _page(ctx, ctx.tr("report.overview_heading"),
                subtitle=ctx.tr("report.overview_sub", households=f"{total:,}", units=f"{len(hh):,}"))
    ax = _map_axes(ctx, fig)
    _basemap(ctx, ax)
    comms = ctx.layers.get("communities")
    if isinstance(comms, gpd.GeoDataFrame) and len(comms):
        _polys(ax, comms.geometry.to_numpy(), face="none", edge="#000000", lw=1.8, zorder=7,
               rasterize=False)
    xy = shapely.get_coordinates(hh.geometry.representative_point().to_numpy())
    sizes = np.clip(np.sqrt(hh["households"].to_numpy(dtype=float)) * 1.2, 2, 40)
    dots = ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c="#6a51a3", alpha=0.7, linewidths=0, zorder=5)
    dots.set_rasterized(len(hh) > DENSE)
    _furniture(ctx, ax)
    handles = [Line2D([], [], marker="o", ls="", color="#6a51a3", markersize=6,
                      label=ctx.tr("report.legend_households")),
               *_basemap_handles(ctx)]
    _legend(ctx, fig, handles, ctx.tr("report.legend"))
    return fig


def _minute_classes(minutes: np.ndarray, threshold: float) -> tuple[np.ndarray, list[tuple[str, str]]]:
    """Class colour of each household and the legend entries (label key, colour)."""
    colours = np.full(len(minutes), UNREACHED_COLOUR, dtype=object)
    legend = []
    lower = -np.inf
    for limit, colour in MINUTE_CLASSES:
        if limit > threshold:
            break
        mask = (minutes > lower) & (minutes <= limit)
        colours[mask] = colour
        legend.append((f"≤ {limit:g}", colour))
        lower = limit
    if lower < threshold:
        colours[(minutes > lower) & (minutes <= threshold)] = "#fee08b"
        legend.append((f"≤ {threshold:g}", "#fee08b"))
    colours[minutes > threshold] = OUTSIDE_COLOUR
    legend.append((f"> {threshold:g}", OUTSIDE_COLOUR))
    return colours, legend


def page_coverage(ctx: _Context, service: str) -> Figure:
    hh = ctx.layers["households"]
    threshold = float(ctx.thresholds.get(service, 15))
    minutes = hh[f"walk_min_{service}"].to_numpy(dtype=float)
    weights = hh["households"].to_numpy(dtype=float)
    on = (hh["on_network"].fillna(False).to_numpy(dtype=bool) if "on_network" in hh
          else np.ones(len(hh), dtype=bool))
    base = weights[on].sum()
    covered = weights[on & (minutes <= threshold + 1e-9)].sum()
    share = covered / base if base else 0.0
    name = ctx.service_name(service)
    fig = _page(ctx, ctx.tr("report.coverage_heading", service=name),
                subtitle=ctx.tr("report.coverage_sub", minutes=f"{threshold:g}",
                                share=f"{share:.1%}", covered=f"{int(covered):,}",
                                households=f"{int(base):,}"))
    ax = _map_axes(ctx, fig)
    _basemap(ctx, ax)
    areas = ctx.layers.get("service_areas")
    if isinstance(areas, gpd.GeoDataFrame) and len(areas):
        mine = areas[areas["service"] == service]
        if "minutes" in mine and len(mine):
            best = mine[mine["minutes"].astype(float) <= threshold + 1e-9]
            mine = best[best["minutes"] == best["minutes"].max()] if len(best) else mine
        _polys(ax, mine.geometry.to_numpy(), face=SERVICE_AREA_COLOUR, edge=SERVICE_AREA_COLOUR,
               lw=0.8, alpha=0.18, zorder=3, rasterize=False)
    grids = ctx.layers.get("grids")
    if isinstance(grids, gpd.GeoDataFrame) and len(grids):
        _polys(ax, grids.geometry.to_numpy(), face="none", edge="#555555", lw=0.4, zorder=4,
               rasterize=False)
    colours, legend = _minute_classes(minutes, threshold)
    xy = shapely.get_coordinates(hh.geometry.representative_point().to_numpy())
    sizes = np.clip(np.sqrt(weights) * 1.2, 2, 40)
    dots = ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=list(colours), linewidths=0, zorder=5)
    dots.set_rasterized(len(hh) > DENSE)
    fac = ctx.layers.get("facilities")
    if isinstance(fac, gpd.GeoDataFrame) and len(fac):
        mine = fac[fac["service"] == service]
        if len(mine):
            pts = shapely.get_coordinates(mine.geometry.representative_point().to_numpy())
            ax.scatter(pts[:, 0], pts[:, 1], marker="*", s=110, c="#08306b", edgecolors="white",
                       linewidths=0.6, zorder=9)
    _furniture(ctx, ax)
    unit = ctx.tr("report.minutes")
    handles = [Line2D([], [], marker="o", ls="", color=c, markersize=6, label=f"{lab} {unit}")
               for lab, c in legend]
    handles.append(Line2D([], [], marker="o", ls="", color=UNREACHED_COLOUR, markersize=6,
                          label=ctx.tr("report.unreached")))
    handles.append(Line2D([], [], marker="*", ls="", color="#08306b", markersize=10,
                          label=ctx.tr("report.facility", service=name)))
    handles.append(Patch(facecolor=SERVICE_AREA_COLOUR, alpha=0.25,
                         label=ctx.tr("report.service_area", minutes=f"{threshold:g}")))
    _legend(ctx, fig, handles, ctx.tr("report.legend_walk"))
    return fig


def page_gaps(ctx: _Context) -> Figure | None:
    gaps = ctx.layers.get("gaps")
    if not isinstance(gaps, gpd.GeoDataFrame):
        return None
    if ctx.services and "service" in gaps:
        gaps = gaps[gaps["service"].isin(ctx.services)]
    fig = _page(ctx, ctx.tr("report.gaps_heading"),
                subtitle=ctx.tr("report.gaps_sub", count=len(gaps),
                                households=f"{int(gaps['households'].sum()) if len(gaps) else 0:,}"))
    ax = _map_axes(ctx, fig)
    _basemap(ctx, ax)
    grids = ctx.layers.get("grids")
    if isinstance(grids, gpd.GeoDataFrame) and len(grids):
        _polys(ax, grids.geometry.to_numpy(), face="none", edge="#777777", lw=0.4, zorder=4,
               rasterize=False)
    services = list(dict.fromkeys(gaps["service"])) if len(gaps) else []
    palette = matplotlib.colormaps["tab10"]
    colour = {s: matplotlib.colors.to_hex(palette(k % 10)) for k, s in enumerate(services)}
    if len(gaps):
        _polys_each(ax, gaps.geometry.to_numpy(), [colour[s] for s in gaps["service"]],
                    edgecolors="#222222", linewidths=0.6, alpha=0.6, zorder=6)
        top = gaps.sort_values("households", ascending=False).head(30)
        pts = top.geometry.representative_point()
        for x, y, rank, n in zip(pts.x, pts.y, top.get("rank", range(1, len(top) + 1)), top["households"]):
            ax.text(x, y, f"#{rank}\n{int(n)}", ha="center", va="center", fontsize=ctx.fs(6.5), zorder=8,
                    clip_on=True)
    else:
        ax.text(0.5, 0.5, ctx.tr("report.no_gaps"), transform=ax.transAxes, ha="center",
                fontsize=ctx.fs(12), color="#555555", zorder=8)
    _furniture(ctx, ax)
    handles = [Patch(facecolor=colour[s], alpha=0.6, edgecolor="#222222", label=ctx.service_name(s))
               for s in services]
    _legend(ctx, fig, handles, ctx.tr("report.legend_gaps"))
    return fig


def _table_pages(ctx: _Context, heading: str, table: pd.DataFrame, *, widths: Sequence[float],
                 note: str = "") -> list[Figure]:
    """A table over as many pages as it needs (header repeated)."""
    rows_per_page = 24 if ctx.paper == "A4" else 36
    pages = []
    n_pages = max(1, math.ceil(len(table) / rows_per_page))
    for k in range(n_pages):
        chunk = table.iloc[k * rows_per_page:(k + 1) * rows_per_page]
        suffix = f" ({k + 1}/{n_pages})" if n_pages > 1 else ""
        fig = _page(ctx, heading + suffix, subtitle=note)
        ax = fig.add_axes([0.04, 0.05, 0.92, 0.84])
        ax.axis("off")
        if len(chunk):
            cells = chunk.astype(str).replace({"nan": "", "None": "", "<NA>": ""}).to_numpy()
            tab = ax.table(cellText=cells, colLabels=list(chunk.columns), colWidths=list(widths),
                           loc="upper left", cellLoc="left", colLoc="left")
            tab.auto_set_font_size(False)
            tab.set_fontsize(ctx.fs(8))
            tab.scale(1, 1.25)
            for (row, _), cell in tab.get_celld().items():
                cell.set_edgecolor("#cccccc")
                if row == 0:
                    cell.set_facecolor("#e8e8e8")
        else:
            ax.text(0.5, 0.5, ctx.tr("report.empty_table"), ha="center", fontsize=ctx.fs(12))
        pages.append(fig)
    return pages


def _short(text: object, n: int) -> str:
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    return text if len(text) <= n else text[:n - 1] + "…"


def _reason_in(lang: str, text: object) -> str:
    """A grid's stored reasons in the report's language (the rule book's text)."""
    return reason_text(text, lang)


def grid_table(ctx: _Context) -> pd.DataFrame:
    """The grid table as printed (one row per grid, in the report's language)."""
    grids = ctx.layers.get("grids")
    if grids is None or not len(grids):
        return pd.DataFrame()
    g = grids.sort_values("grid_id")
    yes, no = ctx.tr("report.yes"), ctx.tr("report.no")
    out = pd.DataFrame({
        ctx.tr("report.col.grid"): g["grid_id"].astype(str),
        ctx.tr("report.col.name"): [_short(v, 14) for v in g.get("name", pd.Series("", index=g.index))],
        ctx.tr("report.col.community"): g["community_id"].astype(str),
        ctx.tr("report.col.households"): g["households"].astype(int),
        ctx.tr("report.col.in_band"): [yes if v else no for v in g["in_band"].astype(int)],
        ctx.tr("report.col.contiguous"): [yes if v else no for v in g.get("contiguous", pd.Series(1, index=g.index)).astype(int)],
        ctx.tr("report.col.arterial"): g.get("arterial_crossings", pd.Series(0, index=g.index)).astype(int),
        ctx.tr("report.col.pp"): g.get("polsby_popper", pd.Series(np.nan, index=g.index)).astype(float).round(2),
        ctx.tr("report.col.reason"): [_short(_reason_in(ctx.lang, r), 48)
                                       for r in g.get("reason", pd.Series("", index=g.index))],
    })
    return out


def coverage_tables(ctx: _Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per service, per grid × service) coverage tables as printed."""
    hh = ctx.layers["households"]
    summary = ctx.project.summary
    crow = summary.get("crow_flies_coverage") or {}
    fac = ctx.layers.get("facilities")
    counts = fac["service"].value_counts() if isinstance(fac, pd.DataFrame) and len(fac) else pd.Series(dtype=int)
    rows = []
    w = hh["households"].to_numpy(dtype=float)
    on = (hh["on_network"].fillna(False).to_numpy(dtype=bool) if "on_network" in hh
          else np.ones(len(hh), dtype=bool))
    for s in ctx.services:
        threshold = float(ctx.thresholds.get(s, 15))
        minutes = hh[f"walk_min_{s}"].to_numpy(dtype=float)
        base = w[on].sum()
        covered = w[on & (minutes <= threshold + 1e-9)].sum()
        rows.append({
            ctx.tr("report.col.service"): ctx.service_name(s),
            ctx.tr("report.col.threshold"): f"{threshold:g}",
            ctx.tr("report.col.facilities"): int(counts.get(s, 0)),
            ctx.tr("report.col.covered"): f"{int(covered):,}",
            ctx.tr("report.col.uncovered"): f"{int(base - covered):,}",
            ctx.tr("report.col.share"): f"{covered / base:.1%}" if base else "–",
            ctx.tr("report.col.crow"): f"{crow[s]:.1%}" if s in crow else "–",
        })
    per_service = pd.DataFrame(rows)
    cov = ctx.layers.get("coverage")
    per_grid = pd.DataFrame()
    if isinstance(cov, pd.DataFrame) and len(cov) and ctx.services:
        mine = cov[cov["service"].isin(ctx.services)]
        if len(mine):
            wide = mine.pivot_table(index="grid_id", columns="service", values="share", aggfunc="first")
            wide = wide.reindex(columns=[s for s in ctx.services if s in wide.columns])
            per_grid = wide.map(lambda v: "–" if pd.isna(v) else f"{v:.0%}")
            per_grid.columns = [_short(ctx.service_name(s), 8) for s in per_grid.columns]
            per_grid = per_grid.reset_index().rename(columns={"grid_id": ctx.tr("report.col.grid")})
    return per_service, per_grid


def page_cover(ctx: _Context, *, title: str | None, when: str) -> Figure:
    project = ctx.project
    summary = project.summary
    fig = Figure(figsize=ctx.size_in)
    fig.text(0.06, 0.88, title or ctx.tr("report.title"), fontsize=ctx.fs(24), va="top")
    fig.text(0.06, 0.80, ctx.tr("report.area", area=project.meta.get("area", "")), fontsize=ctx.fs(14), va="top")
    fig.text(0.06, 0.755, ctx.tr("report.date", date=when), fontsize=ctx.fs(11), va="top", color="#444444")
    band = project.band
    grids = summary.get("grids", 0) or 0
    in_band = summary.get("grids_in_band", 0) or 0
    gl = project.layers.get("grids")
    non_contig = int((gl["contiguous"].astype(int) == 0).sum()) if gl is not None and "contiguous" in gl else 0
    crossing = int((gl["arterial_crossings"].astype(int) > 0).sum()) if gl is not None and "arterial_crossings" in gl else 0
    numbers = [
        (ctx.tr("report.key.households"), f"{int(summary.get('households', 0)):,}"),
        (ctx.tr("report.key.communities"), f"{int(summary.get('communities', 0) or 0):,}"),
        (ctx.tr("report.key.grids"), f"{int(grids):,}"),
        (ctx.tr("report.key.in_band", low=band[0], high=band[1]),
         f"{int(in_band):,} ({in_band / grids:.0%})" if grids else "–"),
        (ctx.tr("report.key.non_contiguous"), f"{non_contig}"),
        (ctx.tr("report.key.crossing"), f"{crossing}"),
    ]
    coverage = summary.get("coverage") or {}
    ax = fig.add_axes([0.06, 0.12, 0.42, 0.58])
    ax.axis("off")
    ax.text(0, 1, ctx.tr("report.key_numbers"), fontsize=ctx.fs(13), va="top")
    for k, (label, value) in enumerate(numbers):
        y = 0.9 - k * 0.075
        ax.text(0, y, label, fontsize=ctx.fs(11), va="top")
        ax.text(0.98, y, value, fontsize=ctx.fs(11), va="top", ha="right")
    y = 0.9 - len(numbers) * 0.075 - 0.04
    ax.text(0, y, ctx.tr("report.coverage_numbers"), fontsize=ctx.fs(13), va="top")
    # every chosen service, in two columns when there are many, above the page's footer
    columns = 1 if len(ctx.services) <= 8 else 2
    rows = -(-len(ctx.services) // columns)
    step = min(0.06, (y - 0.07) / max(rows, 1))
    size = ctx.fs(10 if columns == 1 else 8.5)
    width = 0.98 if columns == 1 else 0.47
    for k, s in enumerate(ctx.services):
        x0 = (k // rows) * 0.51
        yy = y - 0.07 - (k % rows) * step
        share = coverage.get(s)
        ax.text(x0, yy, f"{ctx.service_name(s)}（≤{float(ctx.thresholds.get(s, 15)):g} {ctx.tr('report.minutes')}）"
                if ctx.lang == "zh" else
                f"{ctx.service_name(s)} (≤ {float(ctx.thresholds.get(s, 15)):g} {ctx.tr('report.minutes')})",
                fontsize=size, va="top")
        ax.text(x0 + width, yy, f"{share:.1%}" if isinstance(share, (int, float)) else "–",
                fontsize=size, va="top", ha="right")
    if not ctx.services:
        ax.text(0, y - 0.07, ctx.tr("report.no_coverage"), fontsize=ctx.fs(10), va="top", color="#666666")
    # settings
    sx = fig.add_axes([0.55, 0.12, 0.40, 0.58])
    sx.axis("off")
    sx.text(0, 1, ctx.tr("report.settings"), fontsize=ctx.fs(13), va="top")
    settings = [(ctx.tr("report.set.band"), f"{band[0]}–{band[1]}")]
    speeds = summary.get("speed_mps") or {}
    if speeds:
        values = sorted({float(v) for v in speeds.values()})
        settings.append((ctx.tr("report.set.speed"), " / ".join(f"{v:.1f}" for v in values) + " m/s"))
    hs = ((project.meta.get("settings") or {}).get("households") or {})
    if "dwelling_m2" in hs:
        settings.append((ctx.tr("report.set.dwelling"), f"{hs['dwelling_m2']:g} m²"))
    settings.append((ctx.tr("report.set.crs"), str(project.meta.get("crs", ""))))
    if project.session is not None:
        settings.append((ctx.tr("report.set.edits"), str(project.session.position)))
    if project.meta.get("saved_at"):
        settings.append((ctx.tr("report.set.saved"), str(project.meta["saved_at"])))
    for k, (label, value) in enumerate(settings):
        y = 0.9 - k * 0.075
        sx.text(0, y, label, fontsize=ctx.fs(10.5), va="top")
        sx.text(0.98, y, value, fontsize=ctx.fs(10.5), va="top", ha="right")
    sources = summary.get("households_by_source") or {}
    if sources:
        y = 0.9 - len(settings) * 0.075 - 0.04
        sx.text(0, y, ctx.tr("report.hh_sources"), fontsize=ctx.fs(11), va="top")
        for k, (src, n) in enumerate(sources.items()):
            value = n.get("households", n) if isinstance(n, dict) else n
            label = t(f"page.hh_source_{src}", ctx.lang) if f"page.hh_source_{src}" in table() else src
            sx.text(0, y - 0.065 - k * 0.055, label, fontsize=ctx.fs(10), va="top")
            sx.text(0.98, y - 0.065 - k * 0.055, f"{value:,}" if isinstance(value, (int, float)) else str(value),
                    fontsize=ctx.fs(10), va="top", ha="right")
    credit = ctx.credit or ctx.tr("report.no_osm")
    fig.text(0.06, 0.05, f"{ctx.tr('report.made_by')}   {credit}", fontsize=ctx.fs(8.5), color="#444444")
    return fig


# ------------------------------------------------------------------------- public


def map_figures(project: Project, *, lang: str = "zh", paper: str = "A4",
                services: Sequence[str] | None = None) -> list[tuple[str, Figure]]:
    """The report's maps as ``(name, figure)``: ``grids``, ``coverage_<service>``, ``gaps``."""
    ctx = _Context(project, lang, paper, services)
    with report_style():
        out = []
        fig = page_grids(ctx)
        out.append(("grids", fig) if fig is not None else ("overview", page_overview(ctx)))
        out += [(f"coverage_{s}", page_coverage(ctx, s)) for s in ctx.services]
        fig = page_gaps(ctx)
        if fig is not None:
            out.append(("gaps", fig))
    return out


def make_report(project: Project, out: str | Path, *, lang: str = "zh", paper: str = "A4",
                services: Sequence[str] | None = None, title: str | None = None,
                when: str | None = None) -> Path:
    """Write the committee report as a PDF.

    Parameters
    ----------
    project
        The project (:func:`analysis.project.open_project` or ``project_from_result``).
    out
        The PDF to write (written beside under a temporary name, then renamed).
    lang
        ``zh`` or ``en``.
    paper
        ``A4`` (default) or ``A3``, landscape.
    services
        Services to map and tabulate (default: every service with walking minutes).
    title
        Report title (default: the standard title in ``lang``).
    when
        Date printed on the cover (default: today).

    Raises
    ------
    InputError
        Bad language, paper, service or output path.
    ProjectFileError
        If the PDF cannot be written (an earlier file at ``out`` is left unchanged).
    """
    out = Path(out)
    if out.suffix.lower() != ".pdf":
        raise InputError("err.report_not_pdf", path=out)
    if not out.parent.exists():
        raise InputError("err.out_dir_missing", path=out)
    ctx = _Context(project, lang, paper, services)
    when = when or Date.today().isoformat()
    tmp = out.with_name(f".{out.name}.tmp.pdf")
    try:
        with report_style():
            metadata = {"Title": title or ctx.tr("report.title"), "Author": "Gridcircle",
                        "Subject": str(project.meta.get("area", "")), "Creator": "Gridcircle",
                        "Keywords": ctx.credit}
            with PdfPages(tmp, metadata=metadata) as pdf:
                def emit(fig: Figure | None) -> None:
                    if fig is not None:
                        pdf.savefig(fig, dpi=PDF_RASTER_DPI)

                emit(page_cover(ctx, title=title, when=when))
                emit(page_grids(ctx) or page_overview(ctx))
                for s in ctx.services:
                    emit(page_coverage(ctx, s))
                emit(page_gaps(ctx))
                table = grid_table(ctx)
                if len(table):
                    widths = (0.07, 0.11, 0.07, 0.07, 0.07, 0.06, 0.08, 0.07, 0.32)
                    for fig in _table_pages(ctx, ctx.tr("report.grid_table"), table, widths=widths,
                                            note=ctx.tr("report.grid_table_note", low=project.band[0],
                                                        high=project.band[1])):
                        emit(fig)
                per_service, per_grid = coverage_tables(ctx)
                if len(per_service):
                    widths = (0.24, 0.1, 0.1, 0.12, 0.12, 0.1, 0.14)
                    for fig in _table_pages(ctx, ctx.tr("report.coverage_table"), per_service,
                                            widths=widths, note=ctx.tr("report.coverage_table_note")):
                        emit(fig)
                if len(per_grid):
                    n = len(per_grid.columns)
                    widths = [0.1] + [min(0.12, 0.88 / max(n - 1, 1))] * (n - 1)
                    for fig in _table_pages(ctx, ctx.tr("report.grid_coverage_table"), per_grid,
                                            widths=widths, note=ctx.tr("report.grid_coverage_note")):
                        emit(fig)
        tmp.replace(out)
    except OSError as exc:
        raise ProjectFileError("err.write_failed", path=out, detail=exc) from None
    finally:
        tmp.unlink(missing_ok=True)
    return out


def save_map_pngs(project: Project, out_dir: str | Path, *, lang: str = "zh", paper: str = "A4",
                  services: Sequence[str] | None = None, dpi: int = PNG_DPI) -> list[Path]:
    """Each map of the report as a PNG (300 dpi by default) for slides.

    Returns
    -------
    list of Path
        ``<stem>_map_grids.png`` (``_map_overview.png`` before grids exist),
        ``<stem>_map_coverage_<service>.png``, ``<stem>_map_gaps.png``.
    """
    out_dir = Path(out_dir)
    if not out_dir.parent.exists():
        raise InputError("err.out_dir_missing", path=out_dir)
    out_dir.mkdir(exist_ok=True)
    stem = Path(project.path).stem if project.path else "gridcircle"
    paths = []
    figures = map_figures(project, lang=lang, paper=paper, services=services)
    with report_style():
        for name, fig in figures:
            path = out_dir / f"{stem}_map_{name}.png"
            tmp = path.with_name(f".{path.name}.tmp.png")
            fig.savefig(tmp, dpi=dpi, facecolor="white")
            tmp.replace(path)
            paths.append(path)
    return paths


def report_bytes(project: Project, *, lang: str = "zh", paper: str = "A4",
                 services: Sequence[str] | None = None) -> bytes:
    """The PDF report as bytes (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = make_report(project, Path(tmp) / "report.pdf", lang=lang, paper=paper,
                           services=services)
        return path.read_bytes()


__all__ = ["PAPERS_IN", "PNG_DPI", "cjk_font_path", "coverage_tables", "grid_table",
           "make_report", "map_figures", "report_bytes", "report_style", "save_map_pngs"]
