"""The command line's arguments (CONTRACT.md): the parser of ``python -m analysis
run|report|export|atlas|batch``. :mod:`analysis.cli` runs the commands; the batch
(:mod:`analysis.batch.table`) reads each district's row with ``run``'s own parser from
here."""

from __future__ import annotations

import argparse

from analysis.run_inputs import RUN_INPUT_FILES
from geo.vocabulary import DEFAULT_BAND


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
    run.add_argument("--walls", choices=["on", "off"], default=None,
                     help="小区围墙：on 围墙与门（默认），off 普通街道模型 / compound walls: on (walls and "
                          "gates, default) or off (the plain street model)")
    run.add_argument("--gates", help="规划的门（点；status 列可关闭门）/ planned gates (points; a "
                                     "status column may close one)")
    run.add_argument("--gates-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--population", help="人口栅格或图层 / population raster (GeoTIFF) or layer")
    run.add_argument("--population-crs", help="wgs84 | gcj02 | bd09 | cgcs2000 | EPSG:NNNN")
    run.add_argument("--persons-per-household", type=float, default=2.62,
                     help="户均人口（2020年第七次人口普查全国平均 2.62）/ persons per household")
    run.add_argument("--household-totals", help="社区户数合计表 / households per community (or one total)")
    run.add_argument("--speed-mps", type=float, default=None, help="步行速度 / walking speed (m/s)")
    run.add_argument("--grid-min", type=int, default=DEFAULT_BAND[0],
                     help="每网格最少户数 / min households per grid")
    run.add_argument("--grid-max", type=int, default=DEFAULT_BAND[1],
                     help="每网格最多户数 / max households per grid")
    run.add_argument("--standard", default="gb50180", choices=["gb50180"],
                     help="生活圈标准 / life-circle standard")
    run.add_argument("--admin-code", metavar="COUNTY6[STREET3]",
                     help="网格编码用的县级（GB/T 2260）及街道代码 / county (GB/T 2260) and "
                          "street codes for the grid codes (CJ/T 349-2010)")
    run.add_argument("--object-code", metavar="OBJECT6",
                     help="管理或服务对象代码（CJ/T 348-2010，给出时另存 20 位完整编码）/ object "
                          "code (CJ/T 348-2010; adds the full 20-digit code)")
    run.add_argument("--roster", help="网格员名单（姓名、电话，可选岗位、网格）/ grid workers' "
                                      "roster (name, phone, optional post and grid)")
    run.add_argument("--capacity-method", default="2sfca", metavar="2sfca|nearest_free",
                     help="容量与需求：两步移动搜索法或就近有余位分配 / capacity against demand: "
                          "two-step floating catchment, or nearest facility with free places")
    run.add_argument("--capacity-decay", default="none", metavar="none|stepped|gaussian",
                     help="距离衰减 / distance decay (stepped: 1/0.68/0.22)")
    run.add_argument("--demand-table", metavar="FILE",
                     help="需求标准表（年龄组占比、千人指标、班额，附来源）/ demand table "
                          "(age-group shares, provision per person, class sizes, with sources; "
                          "default data/capacity_demand.csv)")
    run.add_argument("--out", required=True, help="项目文件 / project file (.gpkg)")
    run.add_argument("--summary", help="摘要 / summary JSON file")
    run.add_argument("--project", metavar="EXISTING.gpkg",
                     help="已有项目：锁定的网格保持不变，其余网格沿用原编号 / an existing project: "
                          "its locked grids are kept as they are (same units, same id), the "
                          "others keep the previous id they overlap most")
    add_report_export_commands(sub)
    add_batch_command(sub, run)
    return parser


#: run's options that are one district's own, not the batch's settings
BATCH_OWN = (*RUN_INPUT_FILES, "place", "demo", "out", "summary", "help")


def add_batch_command(sub, run: argparse.ArgumentParser) -> None:
    """The ``batch`` subcommand. It takes every settings flag of ``run`` (copied from the
    run parser, so a flag added to ``run`` is a batch flag too) and passes the ones given
    on to every district (:func:`batch_settings_argv`)."""
    bat = sub.add_parser(
        "batch", help="多个区县一次运行（Dask）/ run many districts at once on Dask",
        description="其余参数与 run 的设置相同，适用于每个区县 / the other flags are run's "
                    "settings and apply to every district")
    bat.add_argument("batch", help="区县表 / BATCH.csv: name, osm|demo, optional input columns")
    bat.add_argument("--out", required=True, help="输出文件夹 / output folder")
    bat.add_argument("--workers", type=int, default=None,
                     help="本机工作进程数（默认每核一个）/ local worker processes (one per core)")
    bat.add_argument("--scheduler", metavar="ADDRESS",
                     help="已有 Dask 调度器 / an existing Dask scheduler (tcp://host:port)")
    bat.add_argument("--lang", default="zh", choices=["zh", "en"],
                     help="对比报告的语言 / language of comparison.pdf")
    for action in run._actions:
        if not action.option_strings or action.dest in BATCH_OWN \
                or action.dest.endswith("_crs") \
                or set(action.option_strings) & set(bat._option_string_actions):
            continue
        kwargs = {"dest": f"run__{action.dest}", "default": argparse.SUPPRESS,
                  "help": action.help}
        if action.nargs == 0:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = action.metavar or action.dest.upper()
        bat.add_argument(*action.option_strings, **kwargs)


def batch_settings_argv(args: argparse.Namespace, parser: argparse.ArgumentParser | None = None
                        ) -> list[str]:
    """The run flags given to ``batch``, as an argument list for each district's run."""
    parser = parser or build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    flags = {a.dest: max(a.option_strings, key=len) for a in sub.choices["batch"]._actions
             if a.dest.startswith("run__")}
    argv = []
    for dest, value in vars(args).items():
        if dest in flags:
            argv += [flags[dest]] if value is True else [flags[dest], str(value)]
    return argv


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
    exp.add_argument("--with-workers", action="store_true",
                     help="导出网格员名单（默认不导出）/ include the grid workers (left out by "
                          "default)")
    atl = sub.add_parser("atlas", help="网格图册 PDF / the per-grid atlas (PDF)")
    atl.add_argument("project", help="项目文件 / project file (.gpkg)")
    atl.add_argument("--out", required=True, help="图册 / atlas file (.pdf)")
    atl.add_argument("--lang", default="zh", choices=["zh", "en"], help="语言 / language")


__all__ = ["BATCH_OWN", "add_batch_command", "add_report_export_commands", "batch_settings_argv",
           "build_parser"]
