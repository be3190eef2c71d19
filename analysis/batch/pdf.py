"""``comparison.pdf``: the batch's districts side by side, for a committee.

1. The districts: households (distinct), grids and share in the band, households outside
   at least one service's circle, coverage per service against its standard (a heat
   table), the largest gap, the share of street blocks holding residential data; failed
   districts with their error line.
2. Ranking: each district's rank per indicator (1 = best).
3. A city map: every district's grids and gaps on one offline basemap (each district's
   own roads). Districts whose areas overlap (the generated demos all lie in one place)
   are drawn side by side, and the map says so.

Drawing reuses the single report's helpers (:mod:`analysis.report.draw`, ``tables``) and
its embedded CJK font (:func:`analysis.report.style.report_style`).
"""

from __future__ import annotations

import math
from datetime import date as Date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from analysis.batch.columns import label, read_gaps, service_names
from analysis.batch.task import PROJECT, error_line
from analysis.outputs import atomic_file
from analysis.report import draw
from analysis.report.style import (BAND_COLOURS, OUTSIDE_COLOUR, PAPERS_IN, PDF_RASTER_DPI, clean,
                                   report_style, wrap_at_most)
from analysis.report.tables import draw_table
from geo.i18n import t, table

MAX_ROWS = 24  # districts on the first page; the rest are in the workbook


class Sheet:
    """What the report's drawing helpers read from a context, for the comparison."""

    def __init__(self, lang: str, paper: str = "A4", credit: str = "") -> None:
        self.lang, self.paper = lang, paper
        self.size_in = PAPERS_IN[paper]
        self.scale = 1.0
        self.credit = clean(credit, 200)
        self.area_name = t("batch.pdf.city", lang)
        self.extent = (0.0, 0.0, 1.0, 1.0)

    def fs(self, points: float) -> float:
        return points * self.scale

    def tr(self, key: str, **params) -> str:
        return t(key, self.lang, **params)


def _percent(value) -> str:
    return "–" if value is None or not np.isfinite(value) else f"{value:.0%}"


def _number(value) -> str:
    return "–" if value is None or (isinstance(value, float) and not np.isfinite(value)) \
        else f"{int(value):,}"


def _short(name: str, lang: str) -> str:
    return clean(name, 6 if lang == "zh" else 14)


def overview(frame: pd.DataFrame, meta: dict, lang: str) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The first page's table and its heat (coverage shares)."""
    names = service_names(meta)
    col = lambda f: label(f, lang, names)  # noqa: E731
    get = lambda f: frame[f] if f in frame else pd.Series(np.nan, index=frame.index)  # noqa: E731
    shown = pd.DataFrame({
        col("district"): frame["district"].map(lambda v: clean(v, 16)),
        col("households"): get("households").map(_number),
        col("grids"): get("grids").map(_number),
        col("share_in_band"): get("share_in_band").map(_percent),
        col("share_outside_any"): get("share_outside_any").map(_percent),
        col("blocks_with_data"): get("blocks_with_data").map(_percent),
    })
    gap = [f"{_short(names.get(s, {}).get(lang, s), lang)} {int(h):,}" if isinstance(s, str) else "–"
           for s, h in zip(get("largest_gap_service"), get("largest_gap_households").fillna(0))]
    shown[col("largest_gap")] = gap
    heat_from = shown.shape[1]
    heat = []
    for s in meta["services"]:
        values = pd.to_numeric(get(f"coverage_{s}"), errors="coerce")
        shown[f"{_short(names[s][lang], lang)} ≤{names[s]['minutes']:g}"] = values.map(_percent)
        heat.append(values.to_numpy(dtype=float))
    heat = np.column_stack(heat) if heat else np.zeros((len(frame), 0))
    failed = frame["status"].isin(["failed", "bug"]).to_numpy()
    for j in range(1, heat_from):
        shown.iloc[failed, j] = ""
    shown.iloc[failed, 1] = t("batch.status.failed", lang)
    return shown, heat, heat_from


def page_districts(sheet: Sheet, frame: pd.DataFrame, meta: dict, parts: list[dict]) -> Figure:
    """The first page: the districts' table, failed districts, best and worst per
    indicator, and a small city map."""
    lang = sheet.lang
    fig = Figure(figsize=sheet.size_in)
    fig.text(0.04, 0.955, sheet.tr("batch.pdf.title"), fontsize=18, va="top")
    done = int(frame["status"].isin(["done", "skipped"]).sum())
    fig.text(0.04, 0.905, sheet.tr("batch.pdf.subtitle", done=done, total=len(frame),
                                   date=Date.today().isoformat()),
             fontsize=10, va="top", color="#444444")
    shown, heat, heat_from = overview(frame.head(MAX_ROWS), meta, lang)
    height = min(0.5, 0.026 * (len(shown) + 2.2))
    top = 0.87
    ax = fig.add_axes([0.04, top - height, 0.92, height])
    draw_table(sheet, ax, shown, heat=heat, heat_from=heat_from, font=8)
    y = top - height - 0.02
    errors = frame[frame["status"].isin(["failed", "bug"])]
    for name, error in zip(errors["district"].head(3), errors["error"].head(3)):
        text = f"{clean(name, 16)}: {clean(error_line(error, lang), 150)}"
        fig.text(0.04, y, text, fontsize=7.5, va="top", color="#b2182b")
        y -= 0.025
    notes = sheet.tr("batch.pdf.note") + (" " + sheet.tr("batch.pdf.more", shown=MAX_ROWS)
                                          if len(frame) > MAX_ROWS else "")
    for line in wrap_at_most(notes, 150 if lang == "zh" else 190, 2):
        fig.text(0.04, y, line, fontsize=7.5, color="#555555", va="top")
        y -= 0.022
    y -= 0.01
    if y > 0.2:  # the lower part: the city map (left) and best / worst (right)
        if parts:
            _, handles = draw_city(sheet, fig, parts, rect=[0.04, 0.05, 0.44, y - 0.05], small=True)
            fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.49, y), frameon=False,
                       fontsize=7, title=sheet.tr("batch.pdf.legend"), title_fontsize=8,
                       alignment="left")
        lines = best_and_worst(frame, meta, lang)
        if lines:
            fig.text(0.62, y, sheet.tr("batch.pdf.ranking_short"), fontsize=12, va="top")
        yy = y - 0.045
        for line in lines:
            for part in wrap_at_most(line, 52 if lang == "zh" else 80, 2):
                fig.text(0.62, yy, part, fontsize=8.5, va="top")
                yy -= 0.028
            yy -= 0.008
    fig.text(0.96, 0.015, f"{sheet.tr('report.made_by')}   {sheet.credit}", fontsize=7,
             color="#666666", ha="right")
    return fig


def page_ranking(sheet: Sheet, ranks: pd.DataFrame, meta: dict) -> Figure:
    names = service_names(meta)
    fig = draw.page(sheet, sheet.tr("batch.pdf.ranking"), subtitle=sheet.tr("batch.pdf.ranking_note"))
    shown = pd.DataFrame({label("district", sheet.lang, names): ranks["district"].map(lambda v: clean(v, 16))})
    heat = []
    for field in ranks.columns[1:]:
        what = field[len("rank_"):]
        head = (f"{_short(names[what[9:]][sheet.lang], sheet.lang)}" if what.startswith("coverage_")
                and what[9:] in names else label(what, sheet.lang, names))
        shown[head] = ranks[field].map(lambda r: "–" if pd.isna(r) else str(int(r)))
        ranked = max(int(ranks[field].notna().sum()), 1)
        heat.append([np.nan if pd.isna(r) else 1 - (int(r) - 1) / max(ranked - 1, 1)
                     for r in ranks[field]])
    ax = fig.add_axes([0.04, 0.05, 0.92, 0.83])
    ax_height = min(1.0, (len(shown) + 3) / 24)
    ax.set_position([0.04, 0.88 - 0.83 * ax_height, 0.92, 0.83 * ax_height])
    draw_table(sheet, ax, shown.head(MAX_ROWS * 2), heat=np.array(heat, dtype=float).T[:MAX_ROWS * 2]
               if heat else None, heat_from=1, font=8)
    return fig


def _read(path: Path, layer: str, columns: list[str], where: str | None = None):
    try:
        return pyogrio.read_dataframe(path, layer=layer, columns=columns, where=where)
    except Exception:  # a layer a project does not have
        return None


def city_layers(frame: pd.DataFrame, out: Path) -> tuple[list[dict], bool]:
    """Each finished district's grids, gaps and roads in one metric CRS; whether the
    districts were moved apart (their areas overlap)."""
    parts = []
    for name in frame.loc[frame["status"].isin(["done", "skipped"]), "district"]:
        path = out / name / PROJECT
        grids = _read(path, "grids", ["households"])
        if grids is None or not len(grids):
            continue
        parts.append({"name": name, "grids": grids, "gaps": read_gaps(out / name, geometry=True),
                      "roads": _read(path, "roads", ["road_class"],
                                     where="road_class IN ('arterial', 'local')")})
    if not parts:
        return [], False
    crs = pd.concat([p["grids"].geometry for p in parts]).pipe(gpd.GeoSeries, crs=4326).estimate_utm_crs()
    for p in parts:
        for key in ("grids", "gaps", "roads"):
            if isinstance(p[key], gpd.GeoDataFrame) and len(p[key]):
                p[key] = p[key].to_crs(crs)
        p["bounds"] = p["grids"].total_bounds
    moved = _overlapping([p["bounds"] for p in parts])
    if moved:
        span = max(max(b[2] - b[0], b[3] - b[1]) for b in (p["bounds"] for p in parts)) * 1.15
        cols = math.ceil(math.sqrt(len(parts)))
        for k, p in enumerate(parts):  # each district centred in its cell, rows downwards
            x0, y0, x1, y1 = p["bounds"]
            dx = (k % cols) * span + (span - (x1 - x0)) / 2 - x0
            dy = -(k // cols) * span + (span - (y1 - y0)) / 2 - y0
            for key in ("grids", "gaps", "roads"):
                if isinstance(p[key], gpd.GeoDataFrame) and len(p[key]):
                    p[key] = p[key].set_geometry(p[key].geometry.translate(dx, dy))
            p["bounds"] = p["grids"].total_bounds
    return parts, moved


def _overlapping(bounds: list) -> bool:
    for i in range(len(bounds)):
        for j in range(i + 1, len(bounds)):
            a, b = bounds[i], bounds[j]
            w = min(a[2], b[2]) - max(a[0], b[0])
            h = min(a[3], b[3]) - max(a[1], b[1])
            smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
            if w > 0 and h > 0 and w * h > 0.25 * smaller:
                return True
    return False


def draw_city(sheet: Sheet, fig: Figure, parts: list[dict], *, rect=None, small: bool = False):
    """The districts' grids, gaps and roads on one map in ``rect`` (figure fraction)."""
    x0 = min(p["bounds"][0] for p in parts)
    y0 = min(p["bounds"][1] for p in parts)
    x1 = max(p["bounds"][2] for p in parts)
    y1 = max(p["bounds"][3] for p in parts)
    pad = 0.03 * max(x1 - x0, y1 - y0)
    # room below the districts for the scale bar
    ax = draw.map_axes(sheet, fig, rect=rect,
                       extent=(x0 - pad, y0 - 0.1 * (y1 - y0) - pad, x1 + pad, y1 + pad))
    handles = []
    for k, p in enumerate(parts):
        roads = p["roads"]
        if isinstance(roads, gpd.GeoDataFrame) and len(roads):
            b = p["bounds"]
            margin = 0.05 * max(b[2] - b[0], b[3] - b[1])
            clipped = roads.geometry.clip_by_rect(b[0] - margin, b[1] - margin, b[2] + margin,
                                                  b[3] + margin)
            for cls, colour, lw in (("local", "#c8c8c8", 0.3), ("arterial", "#d9a441", 0.9)):
                part = clipped[(roads["road_class"].to_numpy() == cls) & ~clipped.is_empty]
                if len(part):
                    draw.lines(ax, part.to_numpy(), colour=colour, lw=lw * (0.7 if small else 1),
                               zorder=2)
        colour = BAND_COLOURS[k % len(BAND_COLOURS)]
        draw.polys(ax, p["grids"].geometry.to_numpy(), face=colour, edge="#555555", lw=0.3,
                   alpha=0.75, zorder=3)
        gaps = p["gaps"]
        if isinstance(gaps, gpd.GeoDataFrame) and len(gaps):
            draw.polys(ax, gaps.geometry.to_numpy(), face="none", edge=OUTSIDE_COLOUR, lw=0.5,
                       zorder=4, hatch="////")
        cx, cy = (p["bounds"][0] + p["bounds"][2]) / 2, (p["bounds"][1] + p["bounds"][3]) / 2
        ax.text(cx, cy, clean(p["name"], 16), ha="center", va="center",
                fontsize=7 if small else 9, zorder=8,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.2})
        handles.append(Patch(facecolor=colour, edgecolor="#555555", label=clean(p["name"], 16)))
    draw.furniture(sheet, ax, small=small)
    gaps_handle = Patch(facecolor="none", edgecolor=OUTSIDE_COLOUR, hatch="////",
                        label=sheet.tr("batch.pdf.legend_gaps"))
    return ax, handles[:14] + [gaps_handle]


def page_city_map(sheet: Sheet, parts: list[dict], moved: bool) -> Figure | None:
    if not parts:
        return None
    subtitle = sheet.tr("batch.pdf.map_moved") if moved else sheet.tr("batch.pdf.map_note")
    fig = draw.page(sheet, sheet.tr("batch.pdf.map"), subtitle=subtitle)
    _, handles = draw_city(sheet, fig, parts)
    draw.legend(sheet, fig, handles, sheet.tr("batch.pdf.legend"))
    return fig


def best_and_worst(frame: pd.DataFrame, meta: dict, lang: str) -> list[str]:
    """One line per indicator: the best and the worst district (the first page's ranking)."""
    names = service_names(meta)
    data = frame
    lines = []
    for field, larger_better in (("mean_coverage", True), ("share_in_band", True),
                                 ("share_outside_any", False), ("blocks_with_data", True)):
        if field not in data:
            continue
        values = pd.to_numeric(data[field], errors="coerce")
        if values.notna().sum() < 2 or values.max() == values.min():
            continue  # one district, or all alike: nothing to rank
        order = values.sort_values(ascending=not larger_better, kind="stable").dropna()
        best, worst = order.index[0], order.index[-1]
        lines.append(t("batch.pdf.best_worst", lang, what=label(field, lang, names),
                       best=clean(data.at[best, "district"], 12), best_value=_percent(values[best]),
                       worst=clean(data.at[worst, "district"], 12),
                       worst_value=_percent(values[worst])))
    return lines


def _charset(frame: pd.DataFrame, lang: str, extra: list[str]) -> str:
    parts = [v[lang] for v in table().values()] + extra
    for col in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[col]):
            parts.append("".join(frame[col].dropna().astype(str)))
    return "".join(sorted(set("".join(parts)) - set("\n\r\t")))


def write_pdf(frame: pd.DataFrame, ranks: pd.DataFrame, meta: dict, out: Path, target: Path, *,
              lang: str = "zh") -> Path:
    """Write ``comparison.pdf`` (atomically) from the comparison's frames."""
    sheet = Sheet(lang, credit="; ".join(meta.get("credits", [])) or t("report.no_osm", lang))
    names = service_names(meta)
    extra = [n[lang] for n in names.values()] + [sheet.credit]
    with atomic_file(target) as tmp, report_style(_charset(frame, lang, extra)):
        metadata = {"Title": sheet.tr("batch.pdf.title"), "Author": "Gridcircle",
                    "Creator": "Gridcircle"}
        with PdfPages(tmp, metadata=metadata) as pdf:
            parts, moved = city_layers(frame, out)
            for fig in (page_districts(sheet, frame, meta, parts), page_ranking(sheet, ranks, meta),
                        page_city_map(sheet, parts, moved)):
                if fig is not None:
                    pdf.savefig(fig, dpi=PDF_RASTER_DPI)
    return target


__all__ = ["best_and_worst", "city_layers", "draw_city", "overview", "page_city_map",
           "page_districts", "page_ranking", "write_pdf"]
