"""Grid workers (网格员) on A/B posts (AB岗).

Every grid has one A worker (its own); every grid's B (backup) is the A worker of an
adjacent grid, and no worker backs up more than one grid: a maximum matching between
grids and the A workers of their neighbours (:func:`scipy.sparse.csgraph.
maximum_bipartite_matching`), first among neighbours in the same community, then across
communities for the grids left over. A grid that still has no B says why (no neighbour,
or every neighbour's worker already backs up another grid).

The roster (name, phone, optional post and grid) is the city's staff directory: this
module never puts a name or a phone number into an error message; messages quote column
names and row numbers only.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from geo.errors import InputError

WORKER_COLUMNS = ("worker_id", "name", "phone", "grid_id", "post")
MAX_ROSTER_ROWS = 100_000
MAX_ROSTER_MB = 20
TOUCH_M = 3.0
_ALIASES = {
    "name": ("name", "姓名", "网格员", "网格员姓名", "worker"),
    "phone": ("phone", "电话", "手机", "手机号", "联系电话", "mobile", "tel"),
    "post": ("post", "岗位", "岗", "ab岗", "role"),
    "grid": ("grid", "grid_id", "网格", "网格编号", "网格号", "grid_code", "网格编码"),
}


def read_roster(path: str | Path | None = None, *, data: bytes | None = None,
                filename: str = "") -> pd.DataFrame:
    """Read a roster (CSV in UTF-8 or GBK, or XLSX): ``name``, ``phone``, ``post`` (``A``,
    ``B`` or empty), ``grid`` (grid id or code, or empty), one row per worker.

    Raises
    ------
    InputError
        If the file cannot be read, is too large, or has no name column (the message names
        columns and counts, never a cell's content).
    """
    shown = Path(filename or path or "roster").name[:80]
    if data is None:
        p = Path(path)
        if not p.exists():
            raise InputError("err.roster_read", path=shown)
        if p.stat().st_size > MAX_ROSTER_MB * 2**20:
            raise InputError("err.roster_size", path=shown, mb=MAX_ROSTER_MB)
        data = p.read_bytes()
    suffix = Path(shown).suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            raw = pd.read_excel(io.BytesIO(data), dtype=str)
        else:
            raw = None
            for enc in ("utf-8-sig", "gb18030"):
                try:
                    raw = pd.read_csv(io.BytesIO(data), dtype=str, encoding=enc,
                                      keep_default_na=False)
                    break
                except UnicodeDecodeError:
                    continue
            if raw is None:
                raise ValueError("encoding")
    except (ValueError, OSError, KeyError) as exc:  # no cell content in the message
        raise InputError("err.roster_read", path=shown) from exc
    if len(raw) > MAX_ROSTER_ROWS:
        raise InputError("err.roster_size", path=shown, mb=MAX_ROSTER_MB)
    found: dict[str, str] = {}
    for col in raw.columns:
        key = str(col).strip().lower().replace(" ", "")
        for field, aliases in _ALIASES.items():
            if field not in found and key in aliases:
                found[field] = col
    if "name" not in found:
        raise InputError("err.roster_columns", path=shown,
                         columns=", ".join(str(c)[:20] for c in raw.columns[:12]))
    out = pd.DataFrame(index=range(len(raw)))
    for field in ("name", "phone", "post", "grid"):
        col = found.get(field)
        values = raw[col].fillna("").astype(str).str.strip().to_numpy() if col else [""] * len(raw)
        out[field] = list(values)
    out = out[out["name"] != ""].reset_index(drop=True)
    if not len(out):
        raise InputError("err.roster_empty", path=shown)
    out["post"] = out["post"].str.upper().str.extract(r"([AB])", expand=False).fillna("")
    return out


def adjacency(grids: pd.DataFrame) -> list[tuple[int, int, bool]]:
    """Pairs of grids (positions) that share a boundary, with whether they are in the
    same community."""
    geoms = grids.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=TOUCH_M)
    keep = left < right
    left, right = left[keep], right[keep]
    comm = grids["community_id"].astype(str).to_numpy()
    grown = shapely.buffer(geoms, TOUCH_M)
    shared = shapely.area(shapely.intersection(grown[left], geoms[right]))
    ok = shared >= TOUCH_M * 10  # a shared edge of 10 m or more, not a corner
    return [(int(i), int(j), bool(comm[i] == comm[j])) for i, j in zip(left[ok], right[ok])]


def _match(n: int, pairs: list[tuple[int, int]], free_grids: np.ndarray,
           free_workers: np.ndarray) -> dict[int, int]:
    """Grid → the grid whose A worker backs it up (a maximum matching)."""
    rows, cols = [], []
    for i, j in pairs:
        for a, b in ((i, j), (j, i)):
            if free_grids[a] and free_workers[b]:
                rows.append(a)
                cols.append(b)
    if not rows:
        return {}
    graph = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n, n))
    match = maximum_bipartite_matching(graph, perm_type="column")
    return {int(g): int(w) for g, w in enumerate(match) if w >= 0}


def backup_posts(grids: pd.DataFrame, has_worker: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each grid, the grid (position) whose A worker is its B post, or ``-1``; and the
    reason where there is none (``""``, ``no_neighbour`` or ``neighbours_busy``)."""
    n = len(grids)
    pairs = adjacency(grids)
    backup = np.full(n, -1)
    free_grids = np.ones(n, dtype=bool)
    free_workers = np.asarray(has_worker, dtype=bool).copy()
    for same in (True, False):
        chosen = _match(n, [(i, j) for i, j, s in pairs if s or not same], free_grids,
                        free_workers)
        for g, w in chosen.items():
            backup[g] = w
            free_grids[g] = False
            free_workers[w] = False
    has_nb = np.zeros(n, dtype=bool)
    for i, j, _ in pairs:
        has_nb[i] = has_nb[j] = True
    reason = np.where(backup >= 0, "", np.where(has_nb, "neighbours_busy", "no_neighbour"))
    return backup, reason


def assign_workers(grids: pd.DataFrame, roster: pd.DataFrame | None) -> pd.DataFrame:
    """The ``workers`` table: one row per post held (``post`` ``A`` for the worker's own
    grid, ``B`` for the grid it backs up), and one row with no grid for each worker left
    without one.

    Roster rows naming a grid (its id or code) with post A (or no post) take that grid;
    the other workers take the grids still without an A worker in code order. Without a
    roster (``None``), numbered posts (``P001``, …) stand for the workers."""
    order = np.argsort(grids["grid_code"].astype(str).to_numpy() if "grid_code" in grids
                       else grids["grid_id"].astype(str).to_numpy(), kind="stable")
    ids = grids["grid_id"].astype(str).to_numpy()
    if roster is None:
        roster = pd.DataFrame({"name": [f"P{k + 1:03d}" for k in range(len(grids))],
                               "phone": "", "post": "A", "grid": [ids[k] for k in order]})
    key_to_pos = {g: k for k, g in enumerate(ids)}
    if "grid_code" in grids:
        key_to_pos.update({c: k for k, c in enumerate(grids["grid_code"].astype(str))})
    a_of = np.full(len(grids), -1)  # grid position → roster row
    for r, (grid, post) in enumerate(zip(roster["grid"], roster["post"])):
        pos = key_to_pos.get(str(grid).strip())
        if pos is not None and post in ("A", "") and a_of[pos] < 0:
            a_of[pos] = r
    placed = set(a_of[a_of >= 0].tolist())
    waiting = [r for r in range(len(roster)) if r not in placed]
    for pos in order:
        if a_of[pos] < 0 and waiting:
            a_of[pos] = waiting.pop(0)
    backup, _ = backup_posts(grids, a_of >= 0)
    rows = []
    wid = [f"W{r + 1:03d}" for r in range(len(roster))]
    names, phones = roster["name"].tolist(), roster["phone"].tolist()
    for pos in order:
        if a_of[pos] >= 0:
            r = a_of[pos]
            rows.append((wid[r], names[r], phones[r], ids[pos], "A"))
    for pos in order:
        if backup[pos] >= 0:
            r = a_of[backup[pos]]
            rows.append((wid[r], names[r], phones[r], ids[pos], "B"))
    for r in waiting:
        rows.append((wid[r], names[r], phones[r], None, None))
    return pd.DataFrame(rows, columns=list(WORKER_COLUMNS))


def staffing(workers: pd.DataFrame | None, grids: pd.DataFrame) -> dict:
    """Staffing figures: workers, grids per worker, households per worker, grids without a
    worker (no A post), workers without a grid, grids without a B post."""
    if workers is None:
        return {}
    n_workers = int(workers["worker_id"].nunique())
    a = workers[workers["post"] == "A"]
    b = workers[workers["post"] == "B"]
    ids = set(grids["grid_id"].astype(str))
    hh = int(pd.to_numeric(grids.get("households", pd.Series(dtype=float)), errors="coerce")
             .fillna(0).sum())
    held = set(a["worker_id"])
    return {
        "workers": n_workers,
        "grids_per_worker": round(len(ids) / n_workers, 2) if n_workers else None,
        "households_per_worker": round(hh / n_workers, 1) if n_workers else None,
        "grids_without_worker": len(ids - set(a["grid_id"].astype(str))),
        "workers_without_grid": int(n_workers - len(held)),
        "grids_without_backup": len(ids - set(b["grid_id"].astype(str))),
    }


def a_posts(workers: pd.DataFrame) -> dict[str, str]:
    """Worker id → the grid of its A post."""
    a = workers[workers["post"] == "A"]
    return dict(zip(a["worker_id"].astype(str), a["grid_id"].astype(str)))


def keep_workers(workers: pd.DataFrame, grids: pd.DataFrame,
                 grid_of: dict[str, str | None] | None = None) -> pd.DataFrame:
    """The workers after a grid edit: each A worker of a grid that still exists keeps it;
    the workers of grids that are gone take the new grids without a worker; B posts are
    matched again. ``grid_of`` (worker id → grid or ``None``) sets A posts instead of
    the current ones (a planner's reassignment)."""
    people = workers.drop_duplicates("worker_id")
    ids = set(grids["grid_id"].astype(str))
    if grid_of is None:
        grid_of = a_posts(workers)
    roster = pd.DataFrame({
        "name": people["name"].to_numpy(), "phone": people["phone"].to_numpy(),
        "post": ["A" if grid_of.get(w) in ids else "" for w in people["worker_id"]],
        "grid": [grid_of.get(w) if grid_of.get(w) in ids else "" for w in people["worker_id"]],
    })
    out = assign_workers(grids, roster)
    # keep the worker ids people already had
    mapping = {f"W{k + 1:03d}": w for k, w in enumerate(people["worker_id"])}
    out["worker_id"] = out["worker_id"].map(mapping)
    return out


__all__ = ["WORKER_COLUMNS", "a_posts", "adjacency", "assign_workers", "backup_posts", "keep_workers",
           "read_roster", "staffing"]
