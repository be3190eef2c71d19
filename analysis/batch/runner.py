"""``python -m analysis batch``: a city's districts as Dask tasks, resumable.

The batch reads BATCH.csv (:mod:`analysis.batch.table`), skips the districts whose
completion marker matches their inputs and settings, and runs the others as one task each
(:func:`analysis.batch.task.run_district`) on a ``LocalCluster`` (one single-threaded
worker process per core, each with a memory limit: the machine's memory shared out) or on
the scheduler at ``--scheduler``. Progress goes to standard error as districts finish;
the comparison (:mod:`analysis.batch.compare`) is written at the end, failed districts
included with their error line.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from analysis.batch.table import (PATH_COLUMNS, District, inputs_hash, parse_district,
                                  read_batch, run_parser)
from analysis.batch.task import error_line, is_done, read_marker, run_district
from geo.errors import GridcircleError, InputError
from geo.i18n import BOTH, note, note_text
from analysis.batch.compare import write_comparison
from analysis.outputs import check_output_folder
from analysis.pipeline import settings_from_args

DASHBOARD_PORT = 8787
TICK_S = 0.5
BAR = 24


@dataclass
class BatchResult:
    """What a batch did: one outcome per district (in the CSV's order) and the files."""

    outcomes: list[dict]
    files: list[Path] = field(default_factory=list)
    dashboard: str = ""

    @property
    def bugs(self) -> int:
        return sum(o["status"] == "bug" for o in self.outcomes)


def check_settings(settings_argv: list[str]) -> None:
    """The batch's settings flags: ``run``'s, without its inputs (those are CSV columns)."""
    parser = run_parser()
    args = parser.parse_args(["--demo", "synthetic:1", "--out", "x.gpkg", *settings_argv])
    inputs = set(PATH_COLUMNS) | {"demo", "place", "summary", "out"}
    flags = {token.split("=", 1)[0] for token in settings_argv if token.startswith("--")}
    given = [a.dest for a in parser._actions if a.dest in inputs and set(a.option_strings) & flags]
    if given:
        raise InputError("err.batch_input_flag", flag=given[0].replace("_", "-"))

    settings_from_args(args)  # ranges checked before any district starts


def _free_port(port: int) -> int:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return 0
    return port


class Progress:
    """The progress line on standard error: done / failed / running / waiting, elapsed
    time and an estimate of the time left."""

    def __init__(self, total: int, stream=sys.stderr) -> None:
        self.total, self.stream = total, stream
        self.start = time.perf_counter()
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.last = None
        self.done = self.failed = self.running = 0
        self.finished_here = 0

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        waiting = max(0, self.total - self.done - self.failed - self.running)
        ended = self.done + self.failed
        filled = int(BAR * ended / self.total) if self.total else BAR
        left = self.total - ended
        if self.finished_here and left:
            eta = note_text(note("batch.eta", seconds=f"{elapsed / self.finished_here * left:,.0f}"),
                            BOTH)
        else:
            eta = ""
        counts = note_text(note("batch.counts", done=self.done, failed=self.failed,
                                running=self.running, waiting=waiting, total=self.total), BOTH)
        return f"[{'#' * filled}{'.' * (BAR - filled)}] {elapsed:6.1f}s  {counts}  {eta}".rstrip()

    def show(self, force: bool = False) -> None:
        state = (self.done, self.failed, self.running)
        if not self.tty and state == self.last and not force:
            return
        self.last = state
        if self.tty:
            self.stream.write("\r\033[K" + self.line())
        else:
            self.stream.write(self.line() + "\n")
        self.stream.flush()

    def say(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(text + "\n")
        self.show(force=True)

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _plan(districts: list[District], out: Path) -> tuple[list[dict], list[tuple[int, str]]]:
    """Outcomes known before any task (skipped, failed at once) and what is left to run."""
    outcomes, todo = [], []
    for index, district in enumerate(districts):
        folder = out / district.name
        outcome = {"name": district.name, "status": "waiting", "error": "", "warnings": [],
                   "seconds": 0.0, "peak_mb": None}
        try:
            digest = inputs_hash(parse_district(district, folder))
        except GridcircleError as exc:
            outcome.update(status="failed", error=exc.note())
        else:
            if is_done(folder, digest):
                marker = read_marker(folder) or {}
                outcome.update(status="skipped", seconds=marker.get("seconds", 0.0))
            else:
                todo.append((index, digest))
        outcomes.append(outcome)
    return outcomes, todo


def _client(workers: int | None, scheduler: str | None, jobs: int):
    """A Dask client: the scheduler at ``scheduler``, or a new ``LocalCluster``."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            return Client(scheduler, timeout="15s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError("err.batch_scheduler", address=scheduler[:100],
                             detail=type(exc).__name__) from None
    n = max(1, min(workers or os.cpu_count() or 1, jobs))
    port = _free_port(DASHBOARD_PORT)
    with _workers_ignore_ctrl_c():
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                               memory_limit="auto", host="127.0.0.1",
                               dashboard_address=f"127.0.0.1:{port}", silence_logs=logging.CRITICAL)
    return Client(cluster), cluster


@contextmanager
def _workers_ignore_ctrl_c():
    """Worker processes started inside inherit an ignored SIGINT: Ctrl-C in the terminal
    stops the batch here (which closes the cluster), not each worker with a traceback."""
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _finished(future) -> dict:
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        return {"status": "failed", "error": note("err.batch_worker_died"), "warnings": []}
    except GridcircleError as exc:
        return {"status": "failed", "error": exc.note(), "warnings": []}
    except Exception as exc:  # the task itself never raises; this is the cluster's failure
        return {"status": "bug", "error": f"{type(exc).__name__}: {str(exc)[:160]}",
                "warnings": []}


def _run_tasks(districts, todo, outcomes, out: Path, client, progress: Progress) -> None:
    from distributed import wait

    futures = {}
    for index, digest in todo:
        d = districts[index]
        future = client.submit(run_district, d.name, d.argv, str(out / d.name), digest,
                               key=f"gridcircle-district-{index}-{digest[:12]}", pure=False,
                               retries=0)
        futures[future] = index
    pending = set(futures)
    while pending:
        try:
            finished, pending = wait(list(pending), timeout=TICK_S, return_when="FIRST_COMPLETED")
            pending = set(pending)
        except TimeoutError:
            finished = set()
        for future in finished:
            index = futures[future]
            outcome = {**outcomes[index], **_finished(future)}
            outcome["name"] = districts[index].name
            outcomes[index] = outcome
            progress.finished_here += 1
            if outcome["status"] == "done":
                progress.done += 1
            else:
                progress.failed += 1
            for line in outcome.get("warnings") or []:
                progress.say(f"  [{outcome['name']}] {line}")
            progress.say(_outcome_line(outcome))
        keys = {f.key for f in pending}
        try:
            processing = client.processing()  # tasks given to workers, some still queued there
            busy = sum(1 for ks in processing.values() for k in ks if k in keys)
            progress.running = min(busy, sum(client.nthreads().values()))
        except (OSError, TimeoutError):
            pass
        progress.show()


def _outcome_line(outcome: dict) -> str:
    status = note_text(note(f"batch.status.{outcome['status']}"), BOTH)
    text = f"{outcome['name']}: {status} ({outcome.get('seconds') or 0:.1f}s)"
    return f"{text} {error_line(outcome.get('error'))}" if outcome.get("error") else text


def run_batch(batch_csv: str | Path, out: str | Path, *, settings_argv: list[str] | tuple = (),
              workers: int | None = None, scheduler: str | None = None,
              stream=sys.stderr, compare: bool = True, lang: str = "zh",
              on_client: Callable | None = None) -> BatchResult:
    """Run every district of ``batch_csv`` into ``out`` (see the module's notes).

    Raises
    ------
    InputError
        For a bad table, bad settings, an unusable output folder or an unreachable
        scheduler: nothing has run. A district's own bad input is not raised but reported
        in its outcome (``failed``, with its one-line error).
    """

    if workers is not None and workers < 1:
        raise InputError("err.batch_workers", workers=workers)
    if lang not in ("zh", "en"):
        raise InputError("err.report_lang", lang=lang)
    settings_argv = list(settings_argv)
    check_settings(settings_argv)
    districts = read_batch(batch_csv, settings_argv)
    out = check_output_folder(out)
    out.mkdir(exist_ok=True)
    outcomes, todo = _plan(districts, out)
    progress = Progress(len(districts), stream)
    progress.done = sum(o["status"] == "skipped" for o in outcomes)
    progress.failed = sum(o["status"] == "failed" for o in outcomes)
    for outcome in outcomes:
        if outcome["status"] != "waiting":
            progress.say(_outcome_line(outcome))
    dashboard = ""
    if todo:
        client, cluster = _client(workers, scheduler, len(todo))
        try:
            if on_client is not None:
                on_client(client)
            dashboard = client.dashboard_link or ""
            if dashboard:
                progress.say(note_text(note("batch.dashboard", address=dashboard), BOTH))
            _run_tasks(districts, todo, outcomes, out, client, progress)
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    progress.show(force=True)
    progress.close()
    result = BatchResult(outcomes=outcomes, dashboard=dashboard)
    if compare:

        result.files = write_comparison(outcomes, out, lang=lang)
    return result


__all__ = ["BatchResult", "Progress", "check_settings", "run_batch"]
