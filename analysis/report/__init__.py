"""The committee report: a PDF (A4 landscape by default, A3 on request) a committee reads
in ten minutes, and PNG maps at 300 dpi for slides, in Chinese or English, made from a
project alone.

Pages:

1. Findings: households (distinct), grids in the band, coverage per service against its
   standard, the largest gaps with their places, what the data lacks.
2. The grids of the whole area; the gaps; coverage per service, six small maps a page.
3. One page per community (its grids with ids and households, their coverage as a heat
   table), the :data:`MAX_COMMUNITY_PAGES` largest communities; every community is in
   the appendix's community table.
4. Appendix: coverage per service, communities, grids needing attention and (when they
   fit in :data:`MAX_TABLE_PAGES`) every grid; the full tables are in the XLSX export
   (``python -m analysis export --format xlsx``).

Maps need no internet: the basemap is drawn from the area's own roads and buildings
(stored in the project), and every map carries the OpenStreetMap credit where OSM data
was used. Figures are built with matplotlib's object-oriented API (no pyplot state), so
reports can be made from several page sessions at once. The PDF and PNGs are written to
unique temporary files beside their targets and atomically replace them
(:func:`analysis.outputs.atomic_file`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from datetime import date as Date
from pathlib import Path

from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from analysis.outputs import atomic_file, check_pdf_file, staged_folder
from analysis.project import Project
from analysis.report import findings, maps, tables
from analysis.report.context import Context
from analysis.report.style import (PAPERS_IN, PDF_RASTER_DPI, PNG_DPI, cjk_font_path, clean,
                                   report_style)
from analysis.report.tables import coverage_tables, grid_table, reason_in
from geo.errors import InputError
from geo.grids.rules import flagged

MAX_COMMUNITY_PAGES = 10
MAX_TABLE_PAGES = 3  # per appendix table; longer tables are in the XLSX export

_Context = Context  # the name earlier callers used
_reason_in = reason_in


def _style(ctx: Context, *extra: str):
    return report_style(ctx.charset(*extra))


def map_figures(project: Project, *, lang: str = "zh", paper: str = "A4",
                services: Sequence[str] | None = None) -> list[tuple[str, Figure]]:
    """The report's maps as ``(name, figure)``: ``grids``, ``coverage_<service>``, ``gaps``."""
    ctx = Context(project, lang, paper, services)
    with _style(ctx):
        out = []
        fig = maps.page_grids(ctx)
        out.append(("grids", fig) if fig is not None else ("overview", maps.page_overview(ctx)))
        out += [(f"coverage_{s}", maps.page_coverage(ctx, s)) for s in ctx.services]
        fig = maps.page_gaps(ctx, findings.headline(ctx))
        if fig is not None:
            out.append(("gaps", fig))
    return out


def _community_pages(ctx: Context):
    comms = ctx.layers.get("communities")
    grids = ctx.layers.get("grids")
    if comms is None or not len(comms) or grids is None or not len(grids):
        return
    order = comms.sort_values("households", ascending=False, kind="stable") \
        if "households" in comms else comms
    for cid, geom, n in zip(order["community_id"].head(MAX_COMMUNITY_PAGES),
                            order.geometry.head(MAX_COMMUNITY_PAGES),
                            order.get("households", order["community_id"] * 0).head(MAX_COMMUNITY_PAGES)):
        if geom is not None and not geom.is_empty:
            yield findings.page_community(ctx, str(cid), geom, int(n))


def _appendix(ctx: Context):
    band = ctx.project.band
    more = ctx.tr("report.more_in_xlsx")
    yield findings.page_settings(ctx)
    per_service, _ = coverage_tables(ctx)
    if len(per_service):
        yield from tables.table_pages(ctx, ctx.tr("report.coverage_table"), per_service,
                                      note=ctx.tr("report.coverage_table_note"))
    comm, heat = tables.community_table(ctx)
    if len(comm):
        note = ctx.tr("report.community_table_note", pages=min(MAX_COMMUNITY_PAGES, len(comm)))
        yield from tables.table_pages(ctx, ctx.tr("report.community_table"), comm, note=note,
                                      heat=heat, heat_from=4, max_pages=MAX_TABLE_PAGES,
                                      more_note=more)
    grid = grid_table(ctx)
    if len(grid):
        per_page = tables.ROWS_A4 if ctx.paper == "A4" else int(tables.ROWS_A4 * 1.4)
        note = ctx.tr("report.grid_table_note", low=band[0], high=band[1])
        if len(grid) > per_page * MAX_TABLE_PAGES:  # only the grids needing attention
            grids = ctx.layers["grids"].sort_values("grid_id")
            grid = grid[flagged(grids).to_numpy()]
            note = ctx.tr("report.grid_table_flagged", low=band[0], high=band[1])
        yield from tables.table_pages(ctx, ctx.tr("report.grid_table"), grid, note=note,
                                      max_pages=MAX_TABLE_PAGES, more_note=more)


def _pages(ctx: Context, *, title: str | None, when: str):
    yield findings.page_findings(ctx, title=title, when=when)
    yield maps.page_grids(ctx) or maps.page_overview(ctx)
    yield maps.page_gaps(ctx, findings.headline(ctx))
    yield from maps.pages_coverage_panels(ctx)
    yield from _community_pages(ctx)
    yield from _appendix(ctx)


def make_report(project: Project, out: str | Path, *, lang: str = "zh", paper: str = "A4",
                services: Sequence[str] | None = None, title: str | None = None,
                when: str | None = None) -> Path:
    """Write the committee report as a PDF.

    Parameters
    ----------
    project
        The project (:func:`analysis.project.open_project` or ``project_from_result``).
    out
        The PDF to write (written to a unique temporary file beside it, then renamed).
    lang
        ``zh`` or ``en``.
    paper
        ``A4`` (default) or ``A3``, landscape.
    services
        Services to map and tabulate (default: every service with walking minutes).
    title
        Report title (default: the standard title in ``lang``).
    when
        Date printed on the first page (default: today).

    Raises
    ------
    InputError
        Bad language, paper, service or output path.
    ProjectFileError
        If the PDF cannot be written (an earlier file at ``out`` is left unchanged).
    """
    out = check_pdf_file(out)
    ctx = Context(project, lang, paper, services)
    when = clean(when or Date.today().isoformat(), 40)
    title = clean(title, 80) or None
    with atomic_file(out) as tmp, _style(ctx, title or ""):
        metadata = {"Title": title or ctx.tr("report.title"), "Author": "Gridcircle",
                    "Subject": ctx.area_name, "Creator": "Gridcircle", "Keywords": ctx.credit}
        with PdfPages(tmp, metadata=metadata) as pdf:
            for fig in _pages(ctx, title=title, when=when):
                if fig is not None:
                    pdf.savefig(fig, dpi=PDF_RASTER_DPI)
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
    ctx = Context(project, lang, paper, services)
    figures = map_figures(project, lang=lang, paper=paper, services=services)
    # staged, then moved in under a lock: two reports writing one folder at once (say, in
    # two languages) leave one report's whole set, never a mix
    with staged_folder(out_dir, lock=True) as stage, _style(ctx):
        for name, fig in figures:
            fig.savefig(stage / f"{stem}_map_{name}.png", dpi=dpi, facecolor="white",
                        format="png")
            paths.append(out_dir / f"{stem}_map_{name}.png")
    return paths


def report_bytes(project: Project, *, lang: str = "zh", paper: str = "A4",
                 services: Sequence[str] | None = None) -> bytes:
    """The PDF report as bytes (for a download button)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = make_report(project, Path(tmp) / "report.pdf", lang=lang, paper=paper,
                           services=services)
        return path.read_bytes()


__all__ = ["MAX_COMMUNITY_PAGES", "PAPERS_IN", "PNG_DPI", "cjk_font_path", "coverage_tables",
           "grid_table", "make_report", "map_figures", "report_bytes", "report_style",
           "save_map_pngs"]
