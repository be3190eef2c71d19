"""The command line (CONTRACT.md): ``python -m analysis run|report|export|batch``.

Exit status: 0 done; 2 bad input, with one ``error:`` line on standard error; 1 a bug.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from geo.errors import GridcircleError
from geo.grids.parallel import available_workers
from geo.i18n import BOTH, note_text
from analysis.cli_parser import batch_settings_argv, build_parser
from analysis.run_inputs import INPUT_FLAGS, opened_project, run_from_args, save_run
from analysis.batch import run_batch
from analysis.export import export_project
from analysis.outputs import (check_distinct_outputs, check_output_file, check_output_folder,
                              check_pdf_file)
from analysis.project import check_output_path
from analysis.stale import remove_stale


def _line(key: str, /, **params: object) -> str:
    """A message for standard error, whose reader's language is unknown: 中文 / English."""
    return note_text({"key": key, "params": params}, BOTH)


def _progress_printer() -> callable:
    start = time.perf_counter()

    def progress(key: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f}s] {_line(key)}", file=sys.stderr, flush=True)

    return progress


def _print_written(files: list[Path]) -> None:
    print(_line("cli.written", count=len(files)), file=sys.stderr)
    for path in files:
        print(f"  {path}", file=sys.stderr)


def _remove_stale(*folders) -> None:
    """Remove what killed runs of this tool left in the output folders (staging folders,
    temporary files and projects whose process is gone)."""

    for folder in dict.fromkeys(Path(f) for f in folders if f):
        remove_stale(folder)


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import make_report, save_map_pngs  # matplotlib: only for reports

    progress = _progress_printer()

    out = check_pdf_file(args.out)  # before any work: a missing, read-only or folder target
    check_distinct_outputs({"--out": out}, {"PROJECT": args.project})
    if args.png:
        check_output_folder(args.png)
    _remove_stale(out.parent, args.png)
    project = opened_project(args.project)
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

    check_output_folder(args.out)
    if args.format == "gpkg":  # the copy would replace the project it is made from

        check_distinct_outputs({"--out": Path(args.out) / f"{Path(args.project).stem}.gpkg"},
                               {"PROJECT": args.project})
    _remove_stale(args.out)
    project = opened_project(args.project)
    files = export_project(project, args.format, args.out, lang=args.lang,
                           with_workers=args.with_workers)
    _print_written(files)
    return 0


def cmd_atlas(args: argparse.Namespace) -> int:
    from analysis.atlas import make_atlas  # matplotlib: only for the atlas

    progress = _progress_printer()
    out = check_pdf_file(args.out)
    project = opened_project(args.project)
    progress("step.atlas")
    pages = make_atlas(project, out, lang=args.lang)
    print(_line("gs.atlas_done", pages=pages), file=sys.stderr)
    _print_written([out])
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    progress = _progress_printer()
    out = Path(args.out)

    check_output_path(out)
    check_output_file(out)  # before the run: a missing, read-only or folder target
    if args.summary:
        check_output_file(args.summary)
    check_distinct_outputs({"--out": out, "--summary": args.summary},
                           {"--" + flag.replace("_", "-"): getattr(args, flag, None) for flag in INPUT_FLAGS})
    # --out may be the --project it continues; the summary never may
    check_distinct_outputs({"--summary": args.summary}, {"--project": args.project})
    _remove_stale(out.parent, Path(args.summary).parent if args.summary else None)
    # a single run's grids on every core this process may use (the same grids as one)
    result, source, grid_system = run_from_args(args, progress=progress,
                                                grid_workers=available_workers())
    progress("step.save")
    s = save_run(result, source, out, args.summary, grid_system=grid_system)
    print(_line("cli.done", path=out, households=s["households"], grids=s["grids"]),
          file=sys.stderr)
    if "staffing" in s:  # counts only: no name or phone is ever printed
        print(_line("gs.staffing_line", **s["staffing"]), file=sys.stderr)
    return 0


def cmd_batch(args: argparse.Namespace) -> int:

    result = run_batch(args.batch, args.out, settings_argv=batch_settings_argv(args),
                       workers=args.workers, scheduler=args.scheduler, lang=args.lang)
    _print_written(result.files)
    return 1 if result.bugs else 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "batch":
            return cmd_batch(args)
        if args.command == "run":
            return cmd_run(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "atlas":
            return cmd_atlas(args)
    except GridcircleError as exc:
        print(f"error: {exc.bilingual()}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: 已中断 / interrupted", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command}")
    return 2


__all__ = ["batch_settings_argv", "build_parser", "cmd_atlas", "cmd_batch", "cmd_export",
           "cmd_report", "cmd_run", "main"]
