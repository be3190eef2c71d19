"""One district of a batch as one task: the single run's pipeline, written atomically.

:func:`run_district` is what a Dask worker runs. It reads the district's inputs where it
runs (only the argument list travels through the scheduler), runs
:func:`analysis.cli.run_from_args` exactly as ``python -m analysis run`` does, and writes
``<folder>/project.gpkg`` and ``summary.json`` (each atomically) and last the completion
marker ``done.json`` holding the hash of the inputs and settings. The marker is removed
before any work, so a district killed half way is never taken for done; one whose marker
matches is skipped by the batch (:func:`is_done`) and its files are not touched.

A district's bad input is its own failure: the task returns ``failed`` with the one-line
error a single run would print, and the batch goes on.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from geo.errors import GridcircleError
from geo.i18n import BOTH, note_text
from analysis.batch.table import parse_district, District
from analysis.run_inputs import run_from_args, save_run, write_json_atomic

MARKER = "done.json"
PROJECT = "project.gpkg"
SUMMARY = "summary.json"


def read_marker(folder: Path) -> dict | None:
    """The district's completion marker, or ``None`` (missing or unreadable)."""
    try:
        data = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_done(folder: Path, digest: str) -> bool:
    """Whether the district in ``folder`` finished with inputs and settings of ``digest``."""
    folder = Path(folder)
    marker = read_marker(folder)
    return bool(marker and marker.get("inputs_hash") == digest
                and (folder / PROJECT).is_file() and (folder / SUMMARY).is_file())


def peak_memory_mb() -> float:
    """This process's peak resident memory so far (MB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def error_line(error: object, lang: str = BOTH) -> str:
    """A district's error (a note, or a bug's text) on one line in ``lang``."""
    return note_text(error, lang).replace("\n", " ")


def _one_line(exc: BaseException) -> dict | str:
    """The error of a failed district: a note (shown in the reader's language) or, for a
    bug, its first line."""
    if isinstance(exc, GridcircleError):
        return exc.note()
    first = (str(exc).splitlines() or [""])[0][:160]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def run_district(name: str, argv: tuple[str, ...], folder: str, digest: str) -> dict:
    """Run one district into ``folder`` (a Dask task; also callable in-process).

    Returns
    -------
    dict
        ``name``, ``status`` (``done``, ``failed`` for bad input, ``bug`` for anything
        else), ``error`` (one line), ``seconds``, ``warnings`` (the readers' lines),
        ``peak_mb`` (the worker's peak resident memory), ``worker`` (its address).
    """

    start = time.perf_counter()
    folder = Path(folder)
    warnings: list[str] = []
    outcome = {"name": name, "status": "done", "error": "", "warnings": warnings}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MARKER).unlink(missing_ok=True)
        args = parse_district(District(name=name, argv=tuple(argv), row=0), folder)
        result, source, grid_system = run_from_args(args, progress=None, say=warnings.append)
        save_run(result, source, folder / PROJECT, folder / SUMMARY, grid_system=grid_system)
        seconds = round(time.perf_counter() - start, 3)
        write_json_atomic({"inputs_hash": digest, "seconds": seconds,
                           "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           "households": result.summary.get("households"),
                           "grids": result.summary.get("grids")}, folder / MARKER)
    except GridcircleError as exc:
        outcome.update(status="failed", error=_one_line(exc))
    except MemoryError as exc:
        outcome.update(status="failed", error=_one_line(exc))
    except Exception as exc:  # a bug in one district must not stop the others
        outcome.update(status="bug", error=_one_line(exc))
    outcome["seconds"] = round(time.perf_counter() - start, 3)
    outcome["peak_mb"] = peak_memory_mb()
    outcome["worker"] = _worker_address()
    return outcome


def _worker_address() -> str:
    """The Dask worker running this task ("" when run in-process)."""
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return ""


__all__ = ["MARKER", "PROJECT", "SUMMARY", "error_line", "is_done", "peak_memory_mb",
           "read_marker", "run_district"]
