"""The grid atlas (网格图册): one A4 portrait page per grid that its worker carries, with a
cover and an index of grids by community.

Each grid's page: its code and name, a map of the grid and its neighbours on the offline
basemap, the 四至 sentence, households and buildings by compound, the facilities inside
and the nearest of each service with the homes' walking minutes, the grid's gaps, its A
and B workers (when the project holds a roster; numbered posts otherwise) and a contact
block the city can print on signboards.

Drawing reuses the report's helpers (:mod:`analysis.report.draw`) and its embedded CJK
font subset (:func:`analysis.report.style.report_style`); the PDF is written atomically.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date as Date
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch

from analysis.atlas_data import GridFacts, grid_facts
from analysis.gridsystem import ensure_grid_system
from analysis.outputs import atomic_file, check_pdf_file
from analysis.report import draw
from analysis.report.context import Context
from analysis.report.style import PDF_RASTER_DPI, clean, report_style, wrap, wrap_at_most
from geo.errors import InputError
from geo.grids.codes import CodeScheme

PORTRAIT_IN = (8.27, 11.69)
INDEX_ROWS = 42
MAP_RECT = (0.06, 0.545, 0.88, 0.355)
GREY = "#555555"


def _fig(ctx: Context) -> Figure:
    return Figure(figsize=PORTRAIT_IN)


def _ems(width: float, points: float) -> float:
    return width * PORTRAIT_IN[0] * 72 / points


def _grid_name(ctx: Context, row: pd.Series) -> str:
    name = clean(row.get("name"), 30) if isinstance(row.get("name"), str) else ""
    return name or str(row["grid_id"])


def _num(value: float, fmt: str = "{:.0f}") -> str:
    return "–" if value is None or not np.isfinite(value) else fmt.format(value)


# ------------------------------------------------------------------------------ pages


def page_cover(ctx: Context, *, when: str, grids: pd.DataFrame) -> Figure:
    fig = _fig(ctx)
    fig.text(0.5, 0.70, ctx.tr("atlas.title"), ha="center", fontsize=30)
    fig.text(0.5, 0.64, ctx.area_name, ha="center", fontsize=16, color="#333333")
    scheme = CodeScheme.from_meta(ctx.project.meta)
    lines = [ctx.tr("atlas.cover_counts", grids=len(grids),
                    communities=grids["community_id"].nunique(),
                    households=f"{int(grids['households'].sum()):,}"),
             ctx.tr("atlas.cover_scheme_admin", code=scheme.admin_code) if scheme.county
             else ctx.tr("atlas.cover_scheme_local"),
             ctx.tr("atlas.cover_workers") if "workers" in ctx.layers else ctx.tr("atlas.cover_posts")]
    staffing = ctx.project.summary.get("staffing")
    if "workers" in ctx.layers and isinstance(staffing, dict) and staffing:
        lines.append(ctx.tr("gs.staffing_line", **staffing))
    lines.append(when)
    y = 0.52
    for line in lines:
        for part in wrap(line, _ems(0.8, 11)):
            fig.text(0.5, y, part, ha="center", fontsize=11, color="#333333")
            y -= 0.028
    fig.text(0.5, 0.06, ctx.credit or ctx.tr("report.no_osm"), ha="center", fontsize=8, color=GREY)
    return fig


def index_pages(ctx: Context, grids: pd.DataFrame, first_page: dict[str, int]) -> list[Figure]:
    """The index: grids by community (code, id, name, households, page)."""
    rows: list[tuple] = []
    for cid, part in grids.groupby("community_id", sort=False):
        rows.append(("community", ctx.community(cid), len(part)))
        for _, r in part.iterrows():
            rows.append(("grid", r["grid_code"], r["grid_id"], _grid_name(ctx, r),
                         int(r["households"]), first_page[str(r["grid_id"])]))
    figs = []
    cols = (0.07, 0.30, 0.45, 0.72, 0.88)
    heads = [ctx.tr(k) for k in ("atlas.col_code", "atlas.col_id", "atlas.col_name",
                                 "atlas.col_households", "atlas.col_page")]
    for start in range(0, max(len(rows), 1), INDEX_ROWS):
        fig = _fig(ctx)
        fig.text(0.07, 0.955, ctx.tr("atlas.index"), fontsize=16, va="top")
        y = 0.90
        for x, h in zip(cols, heads):
            fig.text(x, y, h, fontsize=8.5, color=GREY, ha="right" if x > 0.7 else "left")
        y -= 0.02
        for row in rows[start:start + INDEX_ROWS]:
            if row[0] == "community":
                fig.text(0.07, y, ctx.tr("atlas.index_community", name=row[1], grids=row[2]),
                         fontsize=9.5)
            else:
                _, code, gid, name, n, pg = row
                for x, v in zip(cols, (code, gid, clean(name, 20), f"{n:,}", str(pg))):
                    fig.text(x, y, str(v), fontsize=8.5, ha="right" if x > 0.7 else "left")
            y -= 0.0195
        figs.append(fig)
    return figs


def _map(ctx: Context, fig: Figure, grids: pd.DataFrame, k: int) -> None:
    geom = grids.geometry.iloc[k]
    x0, y0, x1, y1 = geom.bounds
    pad = max(0.35 * max(x1 - x0, y1 - y0), 120.0)
    ax = draw.map_axes(ctx, fig, rect=MAP_RECT, extent=(x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    draw.basemap(ctx, ax)
    (ax0, ax1), (ay0, ay1) = ax.get_xlim(), ax.get_ylim()
    near = grids.cx[ax0:ax1, ay0:ay1]
    others = near[near.index != grids.index[k]]
    if len(others):
        draw.polys(ax, others.geometry.to_numpy(), face="#e8e8e8", edge="#777777", lw=0.8,
                   alpha=0.55, zorder=4, rasterize=False)
        pts = shapely.get_coordinates(others.geometry.representative_point().to_numpy())
        draw.place_labels(ax, pts, others["grid_id"].astype(str).tolist(), fontsize=7,
                          color="#444444", min_gap=(0.08, 0.03))
    draw.polys(ax, [geom], face="#fdbf6f", edge="#d95f02", lw=2.2, alpha=0.45, zorder=5,
               rasterize=False)
    draw.polys(ax, [geom], face="none", edge="#d95f02", lw=2.2, zorder=6, rasterize=False)
    fac = ctx.layers.get("facilities")
    if fac is not None and len(fac):
        part = fac.cx[ax0:ax1, ay0:ay1]
        if len(part):
            colours = [ctx.colours.get(s, "#333333") for s in part["service"].astype(str)]
            ax.scatter(part.geometry.x, part.geometry.y, s=22, c=colours, marker="o",
                       edgecolors="white", linewidths=0.6, zorder=8)
            shown = sorted(set(part["service"].astype(str)))[:10]
            handles = [Line2D([], [], marker="o", lw=0, color=ctx.colours.get(sv, "#333333"),
                              markeredgecolor="white", markersize=5,
                              label=clean(ctx.service_name(sv), 10 if ctx.lang == "zh" else 18))
                       for sv in shown]
            leg = ax.legend(handles=handles, loc="upper left", fontsize=6, frameon=True,
                            framealpha=0.85, borderpad=0.4, handletextpad=0.3, labelspacing=0.25)
            leg.set_zorder(12)
    _road_names(ax, ctx, geom, str(grids["boundary_zh"].iloc[k]))
    c = geom.representative_point()
    ax.text(c.x, c.y, str(grids["grid_id"].iloc[k]), ha="center", va="center", fontsize=11,
            zorder=11, color="#7f2704",
            bbox={"facecolor": "#fff3e0", "alpha": 0.85, "edgecolor": "none", "pad": 1.5})
    draw.furniture(ctx, ax, small=False)


def _road_names(ax, ctx: Context, geom, boundary_zh: str) -> None:
    """The named roads of the grid's 四至, written on the map beside the grid (where each
    road comes closest to it), so the sentence and the map can be read together."""
    roads = ctx.layers.get("roads")
    if roads is None or "name" not in roads or not len(roads):
        return
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    part = roads.cx[x0:x1, y0:y1]
    names = part["name"].fillna("").astype(str)
    part = part[(names != "") & names.map(lambda n: n in boundary_zh)]
    if not len(part):
        return
    centre = geom.centroid
    for name, group in part.groupby(part["name"].astype(str), sort=True):
        line = shapely.union_all(group.geometry.to_numpy())
        near = shapely.ops.nearest_points(line, centre)[0] if not line.is_empty else None
        if near is None:
            continue
        ax.text(near.x, near.y, clean(name, 16), fontsize=7.5, ha="center", va="center",
                zorder=10, color="#5a3d00", clip_on=True,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.0})


def _block(fig: Figure, x: float, y: float, lines: list[str], *, size: float = 8.5,
           colour: str = "#111111") -> float:
    """Lines as one text (one text object draws much faster than many); returns the y
    below them."""
    if not lines:
        return y
    fig.text(x, y, "\n".join(lines), fontsize=size, color=colour, va="top", linespacing=1.45)
    return y - len(lines) * size * 1.45 / 72 / PORTRAIT_IN[1] - 0.004


def page_grid(ctx: Context, grids: pd.DataFrame, k: int, facts: GridFacts) -> Figure:
    row = grids.iloc[k]
    fig = _fig(ctx)
    fig.text(0.06, 0.965, ctx.tr("atlas.grid_heading", code=row["grid_code"]), fontsize=17,
             va="top")
    fig.text(0.06, 0.932, ctx.tr("atlas.grid_sub", name=_grid_name(ctx, row),
                                 community=ctx.community(row["community_id"]),
                                 grid=row["grid_id"]), fontsize=10, va="top", color="#333333")
    fig.text(0.94, 0.965, clean(ctx.area_name, 24), fontsize=8, ha="right", va="top", color=GREY)
    _map(ctx, fig, grids, k)
    boundary = clean(row["boundary_zh" if ctx.lang == "zh" else "boundary_en"], 400)
    y = 0.53
    fig.text(0.06, y, ctx.tr("atlas.boundary"), fontsize=9.5, va="top", color="#234")
    y = _block(fig, 0.15, y, wrap_at_most(boundary, _ems(0.79, 9.5), 3), size=9.5)
    y = _gaps_block(ctx, fig, facts, y - 0.006) - 0.008
    # households and buildings by compound (left), services (right)
    fig.text(0.06, y, ctx.tr("atlas.households_line", households=f"{facts.households:,}",
                                buildings=facts.buildings), fontsize=9.5, va="top")
    fig.text(0.06, y - 0.02, ctx.tr("atlas.by_compound"), fontsize=8, va="top", color=GREY)
    _block(fig, 0.06, y - 0.038,
           [f"{clean(n, 14)}  {ctx.tr('atlas.compound_row', buildings=b, households=h)}"
            for n, b, h in facts.compounds], size=7.5, colour="#222222")
    _services_block(ctx, fig, facts, y)
    _contact_block(ctx, fig, row, facts)
    return fig


def _services_block(ctx: Context, fig: Figure, facts: GridFacts, top: float) -> None:
    x = 0.45
    fig.text(x, top, ctx.tr("atlas.services_head"), fontsize=8, color=GREY, va="top")
    rows = []
    for line in facts.services:
        name = clean(ctx.service_name(line.service), 8 if ctx.lang == "zh" else 22)
        nearest = clean(line.nearest, 14) or "–"
        inside = ctx.tr("atlas.inside", n=line.inside) if line.inside else ""
        text = ctx.tr("atlas.service_row", service=name, nearest=nearest,
                      median=_num(line.median_min), share=_num(100 * line.share), inside=inside)
        rows.append(text)
    _block(fig, x, top - 0.02, rows, size=7.5, colour="#222222")


def _gaps_block(ctx: Context, fig: Figure, facts: GridFacts, y: float) -> float:
    fig.text(0.06, y, ctx.tr("atlas.gaps_head"), fontsize=9.5, va="top", color="#234")
    if not facts.gaps:
        return _block(fig, 0.15, y, [ctx.tr("atlas.no_gaps")], size=9, colour="#1a9850")
    parts = [ctx.tr("atlas.gap_item", service=clean(ctx.service_name(s),
                                                     12 if ctx.lang == "zh" else 28), households=n,
                    minutes=_num(m)) for s, n, m in facts.gaps[:8]]
    sep = "；" if ctx.lang == "zh" else "; "
    text = sep.join(parts) + ("…" if len(facts.gaps) > 8 else "")
    return _block(fig, 0.15, y, wrap_at_most(text, _ems(0.79, 8.5), 3), size=8.5, colour="#b2182b")


def _contact_block(ctx: Context, fig: Figure, row: pd.Series, facts: GridFacts) -> None:
    """The signboard block: code, name, community, A and B workers with phones."""
    box = FancyBboxPatch((0.06, 0.035), 0.88, 0.135, boxstyle="round,pad=0.005",
                         transform=fig.transFigure, facecolor="#f4f8fb", edgecolor="#4a6f8a",
                         lw=1.0)
    fig.patches.append(box)
    fig.text(0.08, 0.158, ctx.tr("atlas.contact_head"), fontsize=10, va="top",
             color="#234")
    fig.text(0.08, 0.133, ctx.tr("atlas.contact_grid", code=row["grid_code"],
                                 name=_grid_name(ctx, row),
                                 community=ctx.community(row["community_id"])),
             fontsize=9, va="top")
    roster = "workers" in ctx.layers
    lines = []
    for post in ("A", "B"):
        if roster:
            name, phone = facts.workers.get(post, ("", ""))
            lines.append(ctx.tr(f"atlas.post_{post.lower()}", name=clean(name, 16) or
                                ctx.tr("atlas.vacant"), phone=clean(phone, 20) or "–"))
        else:
            lines.append(ctx.tr(f"atlas.post_{post.lower()}_numbered", grid=row["grid_id"]))
    y = _block(fig, 0.08, 0.108, lines, size=9)
    if roster and facts.backup_of:
        fig.text(0.08, y, ctx.tr("atlas.backs_up", grid=facts.backup_of), fontsize=8, va="top",
                 color=GREY)


# ------------------------------------------------------------------------------ atlas


@contextmanager
def _one_font():
    """Only the report's own font subset (it holds every character the atlas prints):
    without the fallback fonts matplotlib lays text out about 1.7x faster, which matters
    on hundreds of pages."""
    family = list(matplotlib.rcParams["font.family"])
    with matplotlib.rc_context({"font.family": family[:1]}):
        yield


def _ordered_grids(project) -> pd.DataFrame:
    grids = project.layers["grids"]
    return grids.sort_values(["community_id", "grid_code"], kind="stable").reset_index(drop=True)


def make_atlas(project, out: str | Path, *, lang: str = "zh", when: str | None = None) -> int:
    """Write the grid atlas as a PDF; return its number of pages.

    Raises
    ------
    InputError
        Bad language or output path, or a project without grids.
    ProjectFileError
        If the PDF cannot be written (an earlier file at ``out`` is left unchanged).
    """
    out = check_pdf_file(out)
    project = ensure_grid_system(project)
    grids = project.layers.get("grids")
    if grids is None or not len(grids):
        raise InputError("err.atlas_no_grids")
    ctx = Context(project, lang, "A4", None)
    ctx.size_in = PORTRAIT_IN
    grids = _ordered_grids(project)
    facts = grid_facts({**project.layers, "grids": grids}, ctx.services, ctx.thresholds,
                       other_label=ctx.tr("atlas.no_compound"),
                       unnamed_label=ctx.tr("atlas.unnamed_compound"))
    n_index = max(1, -(-(len(grids) + grids["community_id"].nunique()) // INDEX_ROWS))
    first_page = {str(g): 2 + n_index + k for k, g in enumerate(grids["grid_id"])}
    when = clean(when or Date.today().isoformat(), 40)
    pages = 0
    with atomic_file(out) as tmp, report_style(ctx.charset(when)), _one_font():
        metadata = {"Title": ctx.tr("atlas.title"), "Author": "Gridcircle",
                    "Subject": ctx.area_name, "Creator": "Gridcircle", "Keywords": ctx.credit}
        with PdfPages(tmp, metadata=metadata) as pdf:
            figs = [page_cover(ctx, when=when, grids=grids), *index_pages(ctx, grids, first_page)]
            for fig in figs:
                pdf.savefig(fig, dpi=PDF_RASTER_DPI)
                pages += 1
            for k in range(len(grids)):
                fig = page_grid(ctx, grids, k, facts[str(grids["grid_id"].iloc[k])])
                pdf.savefig(fig, dpi=PDF_RASTER_DPI)
                pages += 1
    return pages


def atlas_bytes(project, *, lang: str = "zh") -> bytes:
    """The grid atlas as PDF bytes (for a download button)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "atlas.pdf"
        make_atlas(project, path, lang=lang)
        return path.read_bytes()


__all__ = ["atlas_bytes", "make_atlas", "page_grid"]
