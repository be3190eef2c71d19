"""One run's inputs, read and assembled from ``run``'s arguments: the user's files (buildings
and compounds first, then the register, facilities and communities, then population and
household totals), the gate edits, the grid system (codes, roster) and a re-run's kept
grids; then the run itself and its saving. ``python -m analysis run`` and every district
of ``batch`` go through :func:`run_from_args` and :func:`save_run`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace as dc_replace
from pathlib import Path

from analysis.assembly import assemble
from geo.errors import InputError
from geo.i18n import BOTH, note_text
from analysis.assembly import Given
from analysis.gridsystem import roster_of_project
from analysis.gridsystem import set_grid_system
from analysis.outputs import write_text_atomic
from analysis.pipeline import load_area, run, settings_from_args
from analysis.planner_data import read_totals
from analysis.project import area_record, file_identity
from analysis.project import open_project
from analysis.project import project_from_result
from analysis.project import read_meta
from analysis.project import save_project
from analysis.project import wall_settings_of
from geo import inputs as user_layers
from geo.grids import edits
from geo.grids.codes import CodeScheme
from geo.grids.workers import read_roster
from geo.inputs import footprints
from geo.inputs import read_population
from geo.inputs.gates import read_gates, with_gates

#: run's options naming an input file (in a batch: columns of BATCH.csv, hashed by content)
RUN_INPUT_FILES = ("osm", "households", "facilities", "communities", "buildings", "compounds",
                   "population", "household_totals", "gates", "roster", "demand_table", "project")


def write_json_atomic(data: dict, path: str | Path) -> Path:
    """Write JSON to ``path`` atomically (:func:`analysis.outputs.atomic_file`)."""

    return write_text_atomic(json.dumps(data, ensure_ascii=False, indent=2, default=str), path)


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr)


def opened_project(path: str, *, say=_to_stderr):
    """A project file opened (and checked), its notes said one line each."""

    project = open_project(path)
    for found in project.notes:
        say(f"note: {note_text(found, BOTH)}")
    return project


def _read_user_layer(reader, path, *, say=_to_stderr, **options):
    """Read one of the user's files with ``reader``; its warnings go to ``say`` (stderr)."""
    read = reader(path, **options)
    for line in read.warnings:
        say(f"warning: {line}")
    return read.frame


def given_files(args: argparse.Namespace, *, keep_text: tuple[str, ...] = (), say=_to_stderr):
    """``run``'s input files as readers (:class:`analysis.assembly.Given`), each reading
    its path against the area it is handed; warnings go to ``say``."""

    def layer(reader, path, crs, **options):
        if not path:
            return None
        return lambda area: _read_user_layer(reader, path, crs=crs, area=area, say=say,
                                             **options)

    def population(area):

        return read_population(args.population, crs=args.population_crs, area=area)

    def totals():

        return read_totals(args.household_totals)

    return Given(
        buildings=layer(footprints.read_buildings, getattr(args, "buildings", None),
                        getattr(args, "buildings_crs", None)),
        compounds=layer(footprints.read_compounds, getattr(args, "compounds", None),
                        getattr(args, "compounds_crs", None)),
        register=layer(user_layers.read_households, args.households, args.households_crs,
                       keep_text=keep_text),
        facilities=layer(user_layers.read_facilities, args.facilities, args.facilities_crs,
                         keep_text=keep_text),
        communities=layer(user_layers.read_communities, args.communities,
                          args.communities_crs),
        population=population if getattr(args, "population", None) else None,
        totals=totals if getattr(args, "household_totals", None) else None)


#: ``(admin code, object code, roster)`` of a run: the grid system its project gets
GridSystemArgs = tuple


def _grid_system_args(args: argparse.Namespace) -> GridSystemArgs:
    """The admin and object codes (checked before the run; a re-run keeps an earlier
    project's codes when none are given) and the roster, read before the run."""

    admin, obj = args.admin_code, args.object_code
    if args.project and admin is None and obj is None:

        old = CodeScheme.from_meta(read_meta(args.project))
        admin, obj = old.admin_code or None, old.object_code or None
    CodeScheme.parse(admin, obj)
    roster = None
    if args.roster:

        roster = read_roster(args.roster)
    elif args.project:  # a re-run keeps the earlier project's workers on their grids

        roster = roster_of_project(args.project)
    return admin, obj, roster


def kept_grids(path: str) -> tuple:
    """``(previous, locked, walls)`` of an existing project: every unit's grid and the
    locked grids, for a re-run that keeps them (:func:`geo.grids.make_grids`), and the
    gate edits saved with it (:func:`analysis.project.state.wall_settings_of`)."""

    project = opened_project(path)
    walls = wall_settings_of(project.meta)
    if project.session is None:
        return None, (), walls
    previous, locked = edits.rerun_inputs(project.session.state)
    return previous, tuple(sorted(locked)), walls


def wall_edits(args: argparse.Namespace, walls, area):
    """The run's wall settings: the project's gate edits (``--project``), walls on or off
    (``--walls``), and the gates of ``--gates`` added or closed."""
    from dataclasses import replace

    if getattr(args, "walls", None):
        walls = replace(walls, gated=args.walls == "on")
    if getattr(args, "gates", None):

        walls = with_gates(walls, _read_user_layer(read_gates, args.gates,
                                                   crs=args.gates_crs, area=area))
    return walls


def area_source(args: argparse.Namespace) -> dict:
    """The area record stored in the project (the page names areas the same way)."""

    if args.osm:
        path = Path(args.osm)
        return area_record("osm", path.name, file_identity(path.read_bytes()))
    if args.place:
        return area_record("place", args.place, args.place)
    return area_record("demo", args.demo, args.demo)


#: ``run``'s input files, which no output may overwrite (``--project`` may: a re-run saves
#: over the project it continues).
INPUT_FLAGS = tuple(flag for flag in RUN_INPUT_FILES if flag != "project")


def run_from_args(args: argparse.Namespace, *, progress=None, say=_to_stderr,
                  grid_workers: int = 1):
    """The single run of ``run``'s arguments (inputs read, pipeline run), not saved:
    ``(result, area_source, grid_system)`` (the last for :func:`save_run`). ``say`` receives the readers' warnings and reports (one
    line each). ``python -m analysis run`` (with its cores as ``grid_workers``) and each
    district of ``batch`` (one: Dask spreads the districts) call this."""

    keep_text = tuple(f.strip() for f in args.keep_text.split(",") if f.strip())
    if not set(keep_text) <= {"address", "name"}:
        raise InputError("err.keep_text", fields=", ".join(keep_text)[:80])
    settings = settings_from_args(args)  # persons per household checked with the rest
    grid_system = _grid_system_args(args)  # codes checked and the roster read before the run
    previous, locked, walls = (kept_grids(args.project) if args.project
                               else (None, (), settings.walls))
    area = load_area(osm=args.osm, place=args.place, demo=args.demo, progress=progress)
    # --walls, --gates and a re-run's saved gate edits (geo.inputs.gates)
    settings = dc_replace(settings, walls=wall_edits(args, walls, area))
    # the planner's files in the one order of analysis.assembly (footprints, layers, counts)
    made = assemble(area, given_files(args, keep_text=keep_text, say=say), settings.households)
    for key, value in made.report.items():  # the population spread's and calibration's figures
        say(f"{key}: {json.dumps(value, ensure_ascii=False, default=str)}")
    area, register, facilities, communities = (made.area, made.register, made.facilities,
                                               made.communities)
    result = run(area, settings, register=register, facilities=facilities,
                 communities=communities, previous=previous, locked=locked, progress=progress,
                 grid_workers=grid_workers)
    return result, area_source(args), grid_system


def save_run(result, source: dict, out: str | Path, summary: str | Path | None = None, *,
             grid_system: GridSystemArgs | None = None) -> dict:
    """Write a run's project (with its grid codes, 四至 and workers) and summary
    atomically, as ``run`` does; return the summary written."""

    admin_code, object_code, roster = grid_system or (None, None, None)
    project = set_grid_system(project_from_result(result), admin_code=admin_code,
                              object_code=object_code, roster=roster)
    save_project(project, out, extra_meta={"area_source": source})
    s = {**result.summary, **({"staffing": project.summary["staffing"]}
                              if "staffing" in project.summary else {})}
    if summary:
        write_json_atomic(s, summary)
    return s
