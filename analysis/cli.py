"""The command line (CONTRACT.md): ``python -m analysis run|report|export``.

Exit status: 0 done; 2 bad input, with one ``error:`` line on standard error; 1 a bug.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from geo.errors import GridcircleError
from geo.i18n import both


def _progress_printer() -> callable:
    start = time.perf_counter()

    def progress(key: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {both(key)}", file=sys.stderr, flush=True)

    return progress


def write_json_atomic(data: dict, path: str | Path) -> Path:
    """Write JSON beside ``path`` under a temporary name, then rename over it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    os.replace(tmp, path)
    return path


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
    run.add_argument("--facilities", help="设施表 / facility file")
    run.add_argument("--facilities-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--communities", help="社区边界 / community boundaries")
    run.add_argument("--speed-mps", type=float, default=None, help="步行速度 / walking speed (m/s)")
    run.add_argument("--grid-min", type=int, default=200, help="每网格最少户数 / min households per grid")
    run.add_argument("--grid-max", type=int, default=300, help="每网格最多户数 / max households per grid")
    run.add_argument("--standard", default="gb50180", choices=["gb50180"],
                     help="生活圈标准 / life-circle standard")
    run.add_argument("--out", required=True, help="项目文件 / project file (.gpkg)")
    run.add_argument("--summary", help="摘要 / summary JSON file")
    return parser


def cmd_run(args: argparse.Namespace) -> int:
    from analysis.pipeline import load_area, run, settings_from_args
    from analysis.project import save_project

    progress = _progress_printer()
    out = Path(args.out)
    from analysis.project import check_output_path

    check_output_path(out)
    settings = settings_from_args(args)
    area = load_area(osm=args.osm, place=args.place, demo=args.demo, progress=progress)
    register = facilities = communities = None
    if args.households or args.facilities or args.communities:
        from geo import layers as user_layers

        if args.households:
            read = user_layers.read_households(args.households, crs=args.households_crs, area=area)
            register = read.frame
            for line in read.warnings:
                print(f"warning: {line}", file=sys.stderr)
        if args.facilities:
            read = user_layers.read_facilities(args.facilities, crs=args.facilities_crs, area=area)
            facilities = read.frame
            for line in read.warnings:
                print(f"warning: {line}", file=sys.stderr)
        if args.communities:
            read = user_layers.read_communities(args.communities, area=area)
            communities = read.frame
            for line in read.warnings:
                print(f"warning: {line}", file=sys.stderr)
    result = run(area, settings, register=register, facilities=facilities,
                 communities=communities, progress=progress)
    progress("step.save")
    save_project(result, out)
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
    except GridcircleError as exc:
        print(f"error: {exc.bilingual()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: 已中断 / interrupted", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2
