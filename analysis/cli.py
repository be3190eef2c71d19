"""The command line (CONTRACT.md): ``python -m analysis run|report|export``.

Exit status: 0 done; 2 bad input, with one ``error:`` line on standard error; 1 a bug.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from geo.errors import GridcircleError, InputError
from geo.i18n import both


def _progress_printer() -> callable:
    start = time.perf_counter()

    def progress(key: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {both(key)}", file=sys.stderr, flush=True)

    return progress


def write_json_atomic(data: dict, path: str | Path) -> Path:
    """Write JSON to ``path`` atomically (:func:`analysis.outputs.atomic_file`)."""
    from analysis.outputs import write_text_atomic

    return write_text_atomic(json.dumps(data, ensure_ascii=False, indent=2, default=str), path)


def _read_user_layer(reader, path, **options):
    """Read one of the user's files with ``reader``; its warnings go to stderr."""
    read = reader(path, **options)
    for line in read.warnings:
        print(f"warning: {line}", file=sys.stderr)
    return read.frame


def _with_footprints(area, args):
    """The study area with uploaded buildings and compound outlines put in."""
    if not (getattr(args, "buildings", None) or getattr(args, "compounds", None)):
        return area
    from geo.inputs import footprints

    for name, reader, put in (("buildings", footprints.read_buildings, footprints.with_buildings),
                              ("compounds", footprints.read_compounds, footprints.with_compounds)):
        path = getattr(args, name)
        if path:
            area = put(area, _read_user_layer(reader, path, crs=getattr(args, f"{name}_crs"),
                                              area=area))
    return area


def _with_counts(area, args, settings, communities):
    """The study area with households from a population count and/or calibrated totals."""
    if not (getattr(args, "population", None) or getattr(args, "household_totals", None)):
        return area
    from analysis.planner_data import read_totals, with_planner_data
    from geo.inputs.population import read_population
    from geo.population import PopulationSettings

    population = PopulationSettings(persons_per_household=args.persons_per_household)
    cells = (read_population(args.population, crs=args.population_crs, area=area)
             if args.population else None)
    totals = read_totals(args.household_totals) if args.household_totals else None
    area, report = with_planner_data(area, settings.households, cells=cells,
                                     population=population, totals=totals,
                                     communities=communities)
    for key, value in report.items():
        print(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}", file=sys.stderr)
    return area


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Gridcircle: 网格划分与15分钟生活圈 / grids and 15-minute service circles.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="分析一个区域并保存项目 / analyse an area and save the project")
    src = run.add_mutually_exclusive_group(required=True)
    src.add_argument("--osm", help="OSM 文件 / OSM file (.osm, .osm.xml, .osm.bz2, .osm.pbf)")
    src.add_argument("--place", help="地名（需联网）/ place name (needs internet)")
    src.add_argument("--demo", help="示例 / bundled demo: helsinki, synthetic, synthetic:N")
    run.add_argument("--households", help="户数登记表 / household register file")
    run.add_argument("--households-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--keep-text", default="", metavar="address,name",
                     help="保留的自由文字字段（默认不保留，个人信息仍会抹去）/ free-text fields to keep "
                          "(none by default; personal data is scrubbed anyway)")
    run.add_argument("--facilities", help="设施表 / facility file")
    run.add_argument("--facilities-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--communities", help="社区边界 / community boundaries")
    run.add_argument("--communities-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--buildings", help="建筑轮廓（含层数）/ building footprints with storeys")
    run.add_argument("--buildings-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--compounds", help="小区边界（含名称）/ compound outlines with names")
    run.add_argument("--compounds-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--population", help="人口栅格或图层 / population raster (GeoTIFF) or layer")
    run.add_argument("--population-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--persons-per-household", type=float, default=2.62,
                     help="户均人口（2020年第七次人口普查全国平均 2.62）/ persons per household")
    run.add_argument("--household-totals", help="社区户数合计表 / households per community (or one total)")
    run.add_argument("--speed-mps", type=float, default=None, help="步行速度 / walking speed (m/s)")
    run.add_argument("--grid-min", type=int, default=200, help="每网格最少户数 / min households per grid")
    run.add_argument("--grid-max", type=int, default=300, help="每网格最多户数 / max households per grid")
    run.add_argument("--standard", default="gb50180", choices=["gb50180"],
                     help="生活圈标准 / life-circle standard")
    run.add_argument("--out", required=True, help="项目文件 / project file (.gpkg)")
    run.add_argument("--summary", help="摘要 / summary JSON file")
    run.add_argument("--project", metavar="EXISTING.gpkg",
                     help="已有项目：锁定的网格保持不变，其余网格沿用原编号 / an existing project: "
                          "its locked grids are kept as they are (same units, same id), the "
                          "others keep the previous id they overlap most")
    add_report_export_commands(sub)
    return parser


def add_report_export_commands(sub) -> None:
    """The ``report`` and ``export`` subcommands (CONTRACT.md)."""
    rep = sub.add_parser("report", help="生成报告 PDF / write the committee report (PDF)")
    rep.add_argument("project", help="项目文件 / project file (.gpkg)")
    rep.add_argument("--out", required=True, help="报告 / report file (.pdf)")
    rep.add_argument("--lang", default="zh", choices=["zh", "en"], help="语言 / language")
    rep.add_argument("--paper", default="A4", type=str.upper, choices=["A4", "A3"],
                     help="纸张（横向）/ paper size (landscape)")
    rep.add_argument("--services", help="服务，逗号分隔 / services to map, comma-separated")
    rep.add_argument("--png", metavar="DIR", help="另存 300 dpi 地图 PNG / also save 300 dpi PNG maps")
    rep.add_argument("--area-name", help="报告中的区域名称（默认：项目保存的名称或最大社区）/ "
                                         "the area's name in the report (default: the name "
                                         "saved with the project, or its largest community)")
    exp = sub.add_parser("export", help="导出 / export layers and tables")
    exp.add_argument("project", help="项目文件 / project file (.gpkg)")
    exp.add_argument("--format", required=True, type=str.lower,
                     choices=["geojson", "shp", "csv", "xlsx", "gpkg"], help="格式 / format")
    exp.add_argument("--out", required=True, help="输出文件夹 / output folder")
    exp.add_argument("--lang", default="zh", choices=["zh", "en"], help="语言 / language")


def _opened(path: str):
    from analysis.project import open_project

    project = open_project(path)
    for key, params in project.notes:
        print(f"note: {both(key, **params)}", file=sys.stderr)
    return project


def _print_written(files: list[Path]) -> None:
    print(both("cli.written", count=len(files)), file=sys.stderr)
    for path in files:
        print(f"  {path}", file=sys.stderr)


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import make_report, save_map_pngs

    progress = _progress_printer()
    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise InputError("err.report_not_pdf", path=out)
    from analysis.outputs import check_output_file, check_output_folder

    check_output_file(out)  # before any work: a missing, read-only or folder target
    if args.png:
        check_output_folder(args.png)
    project = _opened(args.project)
    if getattr(args, "area_name", None):
        from dataclasses import replace

        project = replace(project, meta={**project.meta, "area_name": str(args.area_name)[:60]})
    services = [s.strip() for s in args.services.split(",") if s.strip()] if args.services else None
    progress("step.report")
    make_report(project, out, lang=args.lang, paper=args.paper, services=services)
    written = [out]
    if args.png:
        written += save_map_pngs(project, args.png, lang=args.lang, paper=args.paper,
                                 services=services)
    _print_written(written)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from analysis.export import export_project
    from analysis.outputs import check_output_folder

    check_output_folder(args.out)
    project = _opened(args.project)
    files = export_project(project, args.format, args.out, lang=args.lang)
    _print_written(files)
    return 0


def kept_grids(path: str) -> tuple:
    """``(previous, locked)`` of an existing project: every unit's grid and the locked
    grids, for a re-run that keeps them (:func:`geo.grids.make_grids`)."""
    from geo.grids import edits

    project = _opened(path)
    if project.session is None:
        return None, ()
    previous, locked = edits.rerun_inputs(project.session.state)
    return previous, tuple(sorted(locked))


def area_source(args: argparse.Namespace) -> dict:
    """The area record stored in the project (the page names areas the same way)."""
    from analysis.project import area_record, file_identity

    if args.osm:
        path = Path(args.osm)
        return area_record("osm", path.name, file_identity(path.read_bytes()))
    if args.place:
        return area_record("place", args.place, args.place)
    return area_record("demo", args.demo, args.demo)


def cmd_run(args: argparse.Namespace) -> int:
    from analysis.pipeline import load_area, run, settings_from_args
    from analysis.project import save_project

    progress = _progress_printer()
    out = Path(args.out)
    from analysis.outputs import check_output_file
    from analysis.project import check_output_path

    check_output_path(out)
    check_output_file(out)  # before the run: a missing, read-only or folder target
    if args.summary:
        check_output_file(args.summary)
    keep_text = tuple(f.strip() for f in args.keep_text.split(",") if f.strip())
    if not set(keep_text) <= {"address", "name"}:
        raise InputError("err.keep_text", fields=", ".join(keep_text)[:80])
    settings = settings_from_args(args)
    previous, locked = kept_grids(args.project) if args.project else (None, ())
    area = load_area(osm=args.osm, place=args.place, demo=args.demo, progress=progress)
    # --buildings, --compounds (geo.inputs.footprints) first: a register's rows placed by
    # compound or building name, and derived communities, use the uploaded names
    area = _with_footprints(area, args)
    register = facilities = communities = None
    if args.households or args.facilities or args.communities:
        from geo import layers as user_layers

        if args.households:
            register = _read_user_layer(user_layers.read_households, args.households,
                                        crs=args.households_crs, area=area, keep_text=keep_text)
        if args.facilities:
            facilities = _read_user_layer(user_layers.read_facilities, args.facilities,
                                          crs=args.facilities_crs, area=area, keep_text=keep_text)
        if args.communities:
            communities = _read_user_layer(user_layers.read_communities, args.communities,
                                           crs=args.communities_crs, area=area)
    area = _with_counts(area, args, settings, communities)  # --population, --household-totals
    result = run(area, settings, register=register, facilities=facilities,
                 communities=communities, previous=previous, locked=locked, progress=progress)
    progress("step.save")
    save_project(result, out, extra_meta={"area_source": area_source(args)})
    if args.summary:
        write_json_atomic(result.summary, args.summary)
    s = result.summary
    print(both("cli.done", path=out, households=s["households"], grids=s["grids"]),
          file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "export":
            return cmd_export(args)
    except GridcircleError as exc:
        print(f"error: {exc.bilingual()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: 已中断 / interrupted", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2
