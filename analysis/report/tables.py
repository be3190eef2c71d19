"""The report's tables: built as data frames (in the reader's language), drawn cell by cell
so that column widths follow their text, headers wrap to fit their column, and coverage
shares are coloured as a heat table (red below half, yellow, green at full coverage)."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from analysis.report import draw
from analysis.report.context import Context
from analysis.report.style import clean, text_width, wrap
from geo.grids.reasons import reason_text
from analysis.report.maps import coverage_share

HEAT = matplotlib.colormaps["RdYlGn"]
ROWS_A4 = 30  # table rows per A4 page (A3: half as many again)


def heat_colour(share: float) -> str:
    """A light heat colour for a share in 0..1 (white where unknown)."""
    if share is None or not np.isfinite(share):
        return "#ffffff"
    r, g, b, _ = HEAT(0.15 + 0.7 * float(np.clip(share, 0, 1)))
    return matplotlib.colors.to_hex((0.45 + 0.55 * r, 0.45 + 0.55 * g, 0.45 + 0.55 * b))


def reason_in(lang: str, text: object) -> str:
    """A grid's stored reasons in the report's language (the rule book's text)."""
    return reason_text(text, lang)


def _series(frame: pd.DataFrame, col: str, default) -> pd.Series:
    return frame[col] if col in frame else pd.Series(default, index=frame.index)


def grid_table(ctx: Context) -> pd.DataFrame:
    """The grid table as printed (one row per grid, in the report's language)."""
    grids = ctx.layers.get("grids")
    if grids is None or not len(grids):
        return pd.DataFrame()
    g = grids.sort_values("grid_id")
    yes, no = ctx.tr("report.yes"), ctx.tr("report.no")
    return pd.DataFrame({
        ctx.tr("report.col.grid"): g["grid_id"].astype(str),
        ctx.tr("report.col.name"): [clean(v, 14) for v in _series(g, "name", "")],
        ctx.tr("report.col.community"): [ctx.community(c) for c in g["community_id"]],
        ctx.tr("report.col.households"): g["households"].astype(int),
        ctx.tr("report.col.in_band"): [yes if v else no for v in g["in_band"].astype(int)],
        ctx.tr("report.col.contiguous"): [yes if v else no
                                          for v in _series(g, "contiguous", 1).astype(int)],
        ctx.tr("report.col.arterial"): _series(g, "arterial_crossings", 0).astype(int),
        ctx.tr("report.col.pp"): _series(g, "polsby_popper", np.nan).astype(float).round(2),
        ctx.tr("report.col.reason"): [clean(reason_in(ctx.lang, r), 48)
                                      for r in _series(g, "reason", "")],
    })


def coverage_tables(ctx: Context) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per service, per grid × service) coverage tables as printed."""

    crow = ctx.project.summary.get("crow_flies_coverage") or {}
    fac = ctx.layers.get("facilities")
    counts = (fac["service"].value_counts() if isinstance(fac, pd.DataFrame) and len(fac)
              else pd.Series(dtype=int))
    rows = []
    for s in ctx.services:
        share, covered, base = coverage_share(ctx, s)
        rows.append({
            ctx.tr("report.col.service"): ctx.service_name(s),
            ctx.tr("report.col.threshold"): f"{float(ctx.thresholds.get(s, 15)):g}",
            ctx.tr("report.col.facilities"): int(counts.get(s, 0)),
            ctx.tr("report.col.covered"): f"{int(covered):,}",
            ctx.tr("report.col.uncovered"): f"{int(base - covered):,}",
            ctx.tr("report.col.share"): f"{share:.1%}" if base else "–",
            ctx.tr("report.col.crow"): f"{crow[s]:.1%}" if s in crow else "–",
        })
    per_service = pd.DataFrame(rows)
    wide = grid_shares(ctx)
    per_grid = pd.DataFrame()
    if len(wide):
        per_grid = wide.map(lambda v: "–" if pd.isna(v) else f"{v:.0%}")
        per_grid.columns = [ctx.service_name(s) for s in per_grid.columns]
        per_grid = per_grid.reset_index().rename(columns={"grid_id": ctx.tr("report.col.grid")})
    return per_service, per_grid


def grid_shares(ctx: Context, level: str = "grid_id") -> pd.DataFrame:
    """Coverage share per grid (or community) and chosen service: rows × services."""
    if level == "grid_id":
        cov = ctx.layers.get("coverage")
    else:
        cov = ctx.layers.get("coverage_levels")
        if isinstance(cov, pd.DataFrame) and "level" in cov:
            cov = cov[cov["level"] == "community"]
    if not isinstance(cov, pd.DataFrame) or not len(cov) or not ctx.services or level not in cov:
        return pd.DataFrame()
    mine = cov[cov["service"].isin(ctx.services)]
    if not len(mine):
        return pd.DataFrame()
    wide = mine.pivot_table(index=level, columns="service", values="share", aggfunc="first")
    return wide.reindex(columns=[s for s in ctx.services if s in wide.columns])


def draw_table(ctx: Context, ax, table: pd.DataFrame, *, heat: np.ndarray | None = None,
               heat_from: int = 0, font: float = 8.0, max_header_lines: int = 3) -> None:
    """Draw ``table`` into ``ax`` (axes fraction 0..1): widths follow the text, headers
    wrap inside their column, and cells from column ``heat_from`` on are coloured by
    ``heat`` (shares, rows × those columns)."""
    ax.axis("off")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    cells = table.astype(str).replace({"nan": "", "None": "", "<NA>": ""}).to_numpy()
    headers = [str(c) for c in table.columns]
    # width in ems per column: the longest cell, or a header wrapped to a few lines
    need = []
    for j, head in enumerate(headers):
        body = max([text_width(v) for v in cells[:, j]] + [1.0])
        word = max([text_width(w) for w in head.split()] + [0.0])  # Latin words do not break
        word = word if word < text_width(head) or not any(ord(c) > 0x2E7F for c in head) else 0
        need.append(max(body, word, text_width(head) / max_header_lines,
                        min(text_width(head), 3.0)) + 0.8)
    need = np.array(need)
    bbox = ax.get_position()
    width_in = bbox.width * ctx.size_in[0]
    height_in = bbox.height * ctx.size_in[1]
    size = min(ctx.fs(font), width_in * 72 / need.sum())  # points: one em = the font size
    widths = need / need.sum()
    head_lines = [wrap(h, max(widths[j] * width_in * 72 / size - 0.6, 1.0))[:max_header_lines]
                  for j, h in enumerate(headers)]
    n_head = max((len(h) for h in head_lines), default=1)
    line_in = size * 1.55 / 72
    rows = len(cells)
    row_h = min(line_in / height_in, 1.0 / max(rows + n_head, 1))
    size = min(size, row_h * height_in * 72 / 1.45)
    head_h = row_h * (0.2 + 0.8 * n_head)
    x = np.concatenate([[0], np.cumsum(widths)])
    top = 1.0
    for j in range(len(headers)):
        ax.add_patch(Rectangle((x[j], top - head_h), widths[j], head_h, facecolor="#e8e8e8",
                               edgecolor="#bbbbbb", lw=0.5))
        ax.text(x[j] + 0.004, top - head_h / 2, "\n".join(head_lines[j]), fontsize=size,
                va="center", ha="left", linespacing=1.1)
    y = top - head_h
    for i in range(rows):
        for j in range(len(headers)):
            face = "#ffffff"
            if heat is not None and j >= heat_from:
                face = heat_colour(heat[i, j - heat_from])
            ax.add_patch(Rectangle((x[j], y - row_h), widths[j], row_h, facecolor=face,
                                   edgecolor="#cccccc", lw=0.4))
            ax.text(x[j] + 0.004, y - row_h / 2, cells[i, j], fontsize=size, va="center",
                    ha="left", clip_on=True)
        y -= row_h


def table_pages(ctx: Context, heading: str, table: pd.DataFrame, *, note: str = "",
                heat: np.ndarray | None = None, heat_from: int = 0,
                max_pages: int | None = None, more_note: str = "") -> list[Figure]:
    """A table over as many pages as it needs (header repeated), at most ``max_pages``;
    rows beyond are left to the XLSX export and ``more_note`` says so."""
    per_page = ROWS_A4 if ctx.paper == "A4" else int(ROWS_A4 * 1.4)
    n_pages = max(1, math.ceil(len(table) / per_page))
    cut = max_pages is not None and n_pages > max_pages
    if cut:
        n_pages = max_pages
    pages = []
    for k in range(n_pages):
        chunk = table.iloc[k * per_page:(k + 1) * per_page]
        suffix = f" ({k + 1}/{n_pages})" if n_pages > 1 else ""
        subtitle = note
        if cut and k == n_pages - 1:
            subtitle = (note + "  " if note else "") + more_note
        fig = draw.page(ctx, heading + suffix, subtitle=subtitle)
        ax = fig.add_axes([0.04, 0.05, 0.92, 0.83])
        if len(chunk):
            part = heat[k * per_page:(k + 1) * per_page] if heat is not None else None
            draw_table(ctx, ax, chunk, heat=part, heat_from=heat_from)
        else:
            ax.axis("off")
            ax.text(0.5, 0.5, ctx.tr("report.empty_table"), ha="center", fontsize=ctx.fs(12))
        pages.append(fig)
    return pages


def community_table(ctx: Context) -> tuple[pd.DataFrame, np.ndarray | None]:
    """One row per community: name, households, grids, in band, coverage per service."""
    comms = ctx.layers.get("communities")
    if comms is None or not len(comms):
        return pd.DataFrame(), None
    grids = ctx.layers.get("grids")
    c = comms.sort_values("households", ascending=False, kind="stable") if "households" in comms else comms
    ids = c["community_id"].astype(str)
    n_grids = (grids["community_id"].astype(str).value_counts() if grids is not None and len(grids)
               else pd.Series(dtype=int))
    in_band = (grids[grids["in_band"].astype(int) == 1]["community_id"].astype(str).value_counts()
               if grids is not None and len(grids) and "in_band" in grids else pd.Series(dtype=int))
    out = pd.DataFrame({
        ctx.tr("report.col.community"): [ctx.community(i) for i in ids],
        ctx.tr("report.col.households"): [f"{int(v):,}" for v in _series(c, "households", 0)],
        ctx.tr("report.col.grids"): [int(n_grids.get(i, 0)) for i in ids],
        ctx.tr("report.col.in_band"): [int(in_band.get(i, 0)) for i in ids],
    })
    shares = grid_shares(ctx, "community_id")
    heat = None
    if len(shares):
        shares.index = shares.index.astype(str)
        shares = shares.reindex(ids.to_numpy())
        heat = shares.to_numpy(dtype=float)
        for k, s in enumerate(shares.columns):
            out[ctx.service_name(s)] = ["–" if not np.isfinite(v) else f"{v:.0%}" for v in heat[:, k]]
    return out, heat


__all__ = ["community_table", "coverage_tables", "draw_table", "grid_shares", "grid_table",
           "heat_colour", "reason_in", "table_pages"]
