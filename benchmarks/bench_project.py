"""Grid edits, undo/redo and project saves at district and city scale.

Prints, for synthetic districts of 20k, 200k and 1M households (grids of about 250
households made by a stand-in partition: each compound's units cut into runs of ~250
households along x, so that the benchmark does not depend on the grid stage):

* the latency of each edit (move, merge, split, lock, rename) and of undo/redo, against
  the named alternative of re-validating every grid after an edit (what a tool without a
  delta journal has to do to refresh its grid table);
* the journal's memory per edit (the delta as saved) against keeping a full snapshot of
  the state per undo step;
* an atomic project save (temporary file written with SQLite's per-transaction fsync
  off, then fsynced once and renamed) against the same save with GDAL's default
  synchronous writes; and re-opening.

Run: ``python benchmarks/bench_project.py [households ...]`` (default 20000 200000 1000000).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis import project as pj  # noqa: E402
from analysis.pipeline import run  # noqa: E402
from geo.grids import edits  # noqa: E402
from geo.synthetic import synthetic_district  # noqa: E402


def stand_in_grids(result) -> pj.Project:
    """A project whose grids are runs of ~250 households inside each compound."""
    from tests.analysis.project_fixtures import with_compound_grids

    base = pj.project_from_result(with_compound_grids(result))
    state = base.session.state
    cells = state.cells
    x = np.asarray([g.centroid.x for g in cells.geometry])
    y = np.asarray([g.centroid.y for g in cells.geometry])
    hh = cells["households"].to_numpy()
    new = state.grid_of_cell.copy()
    for compound in np.unique(state.grid_of_cell):
        idx = np.flatnonzero(state.grid_of_cell == compound)
        order = idx[np.lexsort((y[idx], x[idx]))]
        runs = np.floor(np.cumsum(hh[order]) / 250.0001).astype(int)
        runs = np.minimum(runs, max(runs.max(), 0))
        for k, pos in zip(runs, order):
            new[pos] = f"{compound}-{k + 1:02d}"
    ids = sorted(set(new))
    attrs = {g: {"name": "", "locked": False} for g in ids}
    grids = state.grid_rows(new, ids, attrs)
    state = replace(state, grid_of_cell=new, grids=grids.sort_values("grid_id").reset_index(drop=True),
                    known_ids=frozenset(ids))
    return pj.with_session(base, edits.EditSession(state=state))


def timed(fn, *args, repeat: int = 3, **kwargs):
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, out


def bench(households: int) -> None:
    start = time.perf_counter()
    result = run(synthetic_district(households, seed=3))
    project = stand_in_grids(result)
    state = project.session.state
    print(f"\n== {households:,} households: {len(state.cells):,} cells, "
          f"{len(state.grids):,} grids (setup {time.perf_counter() - start:.1f} s)")

    # pick neighbours inside one compound for the edits
    ids = state.grid_ids()
    a, b = ids[0], ids[1]
    unit = state.cells["unit_id"].to_numpy()[state.cells_of(a)][0]
    rows = []
    session = project.session
    steps = [("move 1 unit", edits.move_units, ([unit], b)),
             ("merge 2 grids", edits.merge_grids, (a, b)),
             ("split the merged grid", edits.split_grid, (a,)),
             ("lock 1 grid", edits.set_locked, ([ids[2]], True)),
             ("rename 1 grid", edits.rename_grid, (ids[2], "东区一网格"))]
    for label, fn, args in steps:
        t_edit, edit = timed(fn, session.state, *args, repeat=3)
        session = edits.record(session, edit)
        rows.append((label, t_edit, len(json.dumps(edit.entry.to_record(), ensure_ascii=False))))
    t_full, _ = timed(state.grid_rows, session.state.grid_of_cell, session.state.grid_ids(),
                      {g: {"name": "", "locked": False} for g in session.state.grid_ids()}, repeat=1)
    t_undo = []
    s = session
    for _ in range(len(steps)):
        t0 = time.perf_counter()
        s = edits.undo(s)
        t_undo.append(time.perf_counter() - t0)
    t_redo = []
    for _ in range(len(steps)):
        t0 = time.perf_counter()
        s = edits.redo(s)
        t_redo.append(time.perf_counter() - t0)
    snapshot_bytes = (state.grid_of_cell.nbytes + sum(len(g) for g in state.grid_of_cell)
                      + int(state.grids.drop(columns="geometry").memory_usage(deep=True).sum())
                      + sum(len(g.wkb) for g in state.grids.geometry))
    for label, t_edit, size in rows:
        print(f"  {label:<24} {t_edit * 1000:8.1f} ms   journal entry {size / 1024:7.1f} KiB")
    print(f"  undo (mean of {len(t_undo)})       {np.mean(t_undo) * 1000:8.1f} ms   "
          f"redo {np.mean(t_redo) * 1000:.1f} ms")
    print(f"  alternative: re-validate all {len(session.state.grids):,} grids after an edit: "
          f"{t_full * 1000:.0f} ms  -> undo is {t_full / np.mean(t_undo):.0f}x faster")
    mean_entry = np.mean([r[2] for r in rows])
    print(f"  memory per undo step: delta {mean_entry / 1024:.1f} KiB vs full snapshot "
          f"{snapshot_bytes / 1024:.0f} KiB -> {snapshot_bytes / mean_entry:.0f}x smaller")

    work = pj.with_session(project, session)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.gpkg"
        t_save, saved = timed(pj.save, work, path, repeat=1)
        t_autosave, saved = timed(pj.save, saved, repeat=1)
        size_mb = path.stat().st_size / 1e6
        t_open, back = timed(pj.open_project, path, repeat=1)
        assert back.session.position == len(steps)
        slow = Path(tmp) / "slow.gpkg"

        def default_sync_save():
            from analysis.project import file as project_file

            cm = project_file._unsynced_sqlite
            project_file._unsynced_sqlite = _noop  # GDAL's default: SQLite fsyncs every transaction
            try:
                return pj.save(work, slow)
            finally:
                project_file._unsynced_sqlite = cm

        t_slow, _ = timed(default_sync_save, repeat=1)
    print(f"  save {t_save:.2f} s ({size_mb:.1f} MB), autosave after an edit {t_autosave:.2f} s, "
          f"open {t_open:.2f} s")
    print(f"  alternative: same atomic save with SQLite's default synchronous writes "
          f"{t_slow:.2f} s -> {t_slow / t_save:.1f}x slower")


from contextlib import contextmanager  # noqa: E402


@contextmanager
def _noop():
    yield


if __name__ == "__main__":
    sizes = [int(a) for a in sys.argv[1:]] or [20_000, 200_000, 1_000_000]
    print(f"pyogrio {pyogrio.__version__} / GDAL {pyogrio.__gdal_version_string__}, "
          f"pandas {pd.__version__}")
    for n in sizes:
        bench(n)
