"""The grid system of a project: codes (CJ/T 349-2010 structure), 四至 sentences, and the
grid workers on A/B posts, kept in step with the grids.

:func:`apply` is called whenever a project's grids change (:func:`analysis.project.state.
with_session`): it writes ``grid_code`` (and ``grid_code_full``), ``boundary_zh`` and
``boundary_en`` on the grids, re-matches the workers (when the project has a roster) and
puts ``staffing`` in the summary. :func:`set_grid_system` records the planner's
administrative code and roster on a project.

The roster is kept in the ``workers`` layer only; nothing here logs or reports a name or
a phone number.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grids import workers as grid_workers
from geo.grids.codes import CodeScheme, grid_codes
from geo.grids.sides import NEIGHBOUR_M, boundary_sides, named_features
from geo.i18n import t

GRID_SYSTEM_COLUMNS = ("grid_code", "grid_code_full", "boundary_zh", "boundary_en")
_SIDES_CACHE: dict[tuple, tuple[str, str]] = {}
_CACHE_MAX = 50_000


def _sides(grids: gpd.GeoDataFrame, layers: dict) -> pd.DataFrame:
    """四至 of every grid (named roads and compound walls of the project's basemap). A grid
    whose polygon, neighbours and basemap did not change reuses what was found before
    (an edit on the page touches a few grids of hundreds)."""
    features = named_features(layers.get("roads"), layers.get("compound_walls"))
    if features.crs is None:
        features = features.set_crs(grids.crs, allow_override=True)
    elif features.crs != grids.crs:
        features = features.to_crs(grids.crs)
    base = (str(grids.crs), len(features), tuple(np.round(features.total_bounds, 1))
            if len(features) else ())
    geoms = grids.geometry.to_numpy()
    wkb = [hashlib.blake2b(shapely.to_wkb(g) if g is not None else b"", digest_size=12).digest()
           for g in geoms]
    ids = grids["grid_id"].astype(str).tolist()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=NEIGHBOUR_M + 1)
    near: dict[int, list[int]] = {}
    for i, j in zip(left, right):
        if i != j:
            near.setdefault(int(i), []).append(int(j))
    keys = [(base, ids[k], wkb[k], tuple(sorted((ids[j], wkb[j]) for j in near.get(k, ()))))
            for k in range(len(geoms))]
    todo = [k for k, key in enumerate(keys) if key not in _SIDES_CACHE]
    if todo:
        found = boundary_sides(grids, features, rows=todo)
        if len(_SIDES_CACHE) + len(todo) > _CACHE_MAX:
            _SIDES_CACHE.clear()
        for k, zh, en in zip(todo, found["boundary_zh"], found["boundary_en"]):
            _SIDES_CACHE[keys[k]] = (zh, en)
    values = [_SIDES_CACHE[key] for key in keys]
    return pd.DataFrame(values, columns=["boundary_zh", "boundary_en"], index=grids.index)


def grid_columns(grids: gpd.GeoDataFrame, layers: dict, meta: dict) -> tuple[gpd.GeoDataFrame, dict]:
    """``grids`` with the grid-system columns, and the ``meta["grid_system"]`` record."""
    scheme = CodeScheme.from_meta(meta)
    out = grids.drop(columns=[c for c in GRID_SYSTEM_COLUMNS if c in grids.columns]).copy()
    if not len(out):
        for c in ("grid_code", "boundary_zh", "boundary_en"):
            out[c] = pd.Series(dtype=object)
        return out, scheme.record({})
    codes, comm_codes = grid_codes(out, layers.get("communities"), scheme)
    for col in codes.columns:
        out[col] = codes[col]
    record = scheme.record(comm_codes)
    long_seq = [g for g, c in zip(out["grid_id"].astype(str), codes["grid_code"])
                if len(c) > (14 if scheme.county else 5)]
    if long_seq:  # a community of more than 99 grids: CJ/T 349 has two digits for them
        record["long_sequence"] = long_seq[:50]
    sides = _sides(out, layers)
    out["boundary_zh"] = sides["boundary_zh"]
    out["boundary_en"] = sides["boundary_en"]
    return out, record


def apply(layers: dict, meta: dict) -> tuple[dict, dict]:
    """The layers and meta after the grids changed: grid-system columns, workers kept in
    step, ``staffing`` in the summary (when a roster was given)."""
    grids = layers.get("grids")
    if not isinstance(grids, gpd.GeoDataFrame) or "grid_id" not in grids:
        return layers, meta
    layers = dict(layers)
    grids, record = grid_columns(grids, layers, meta)
    layers["grids"] = grids
    meta = {**meta, "grid_system": record}
    workers = layers.get("workers")
    if isinstance(workers, pd.DataFrame):
        if len(grids):
            workers = grid_workers.keep_workers(workers, grids)
        layers["workers"] = workers
        summary = dict(meta.get("summary") or {})
        summary["staffing"] = grid_workers.staffing(workers, grids)
        meta["summary"] = summary
    return layers, meta


def set_grid_system(project, *, admin_code: str | None = None, object_code: str | None = None,
                    roster: pd.DataFrame | None = None, clear_roster: bool = False):
    """The project with the planner's administrative code (``COUNTY6[STREET3]``), object
    code and roster (from :func:`geo.grids.workers.read_roster`) applied.

    Raises
    ------
    InputError
        If a code is not in the expected form.
    """
    meta = dict(project.meta)
    if admin_code is not None or object_code is not None:
        old = CodeScheme.from_meta(meta)
        scheme = CodeScheme.parse(admin_code if admin_code is not None else old.admin_code,
                                  object_code if object_code is not None else old.object_code)
        meta["grid_system"] = scheme.record({})
    layers = dict(project.layers)
    if clear_roster:
        layers.pop("workers", None)
        summary = dict(meta.get("summary") or {})
        summary.pop("staffing", None)
        meta["summary"] = summary
    grids = layers.get("grids")
    if roster is not None and isinstance(grids, gpd.GeoDataFrame):
        codes, _ = grid_codes(grids, layers.get("communities"), CodeScheme.from_meta(meta))
        with_codes = grids.assign(grid_code=codes["grid_code"])
        layers["workers"] = grid_workers.assign_workers(with_codes, roster)
    layers, meta = apply(layers, meta)
    return replace(project, layers=layers, meta=meta)


def carry_grid_system(made, old):
    """``made`` (a project made again, e.g. after other settings) with ``old``'s code
    scheme and roster: the workers keep their grids where the grids are still there."""
    meta = {**made.meta}
    if "grid_system" in old.meta:
        meta["grid_system"] = old.meta["grid_system"]
    layers = dict(made.layers)
    if isinstance(old.layers.get("workers"), pd.DataFrame):
        layers["workers"] = old.layers["workers"]
    layers, meta = apply(layers, meta)
    return replace(made, layers=layers, meta=meta)


def ensure_grid_system(project):
    """The project with grid-system columns (an older file may lack them)."""
    grids = project.layers.get("grids")
    if isinstance(grids, gpd.GeoDataFrame) and len(grids) and all(
            c in grids.columns for c in ("grid_code", "boundary_zh", "boundary_en")):
        return project
    layers, meta = apply(project.layers, project.meta)
    return replace(project, layers=layers, meta=meta)


def roster_of_project(path) -> pd.DataFrame | None:
    """The roster kept in a project file (each worker with the grid of its A post), or
    ``None`` when the file has no workers."""
    import pyogrio

    names = {str(n) for n in pyogrio.list_layers(path)[:, 0]}
    if "workers" not in names:
        return None
    workers = pyogrio.read_dataframe(path, layer="workers")
    a = grid_workers.a_posts(workers)
    people = workers.drop_duplicates("worker_id")
    return pd.DataFrame({"name": people["name"].fillna("").astype(str).to_numpy(),
                         "phone": people["phone"].fillna("").astype(str).to_numpy(),
                         "post": ["A" if w in a else "" for w in people["worker_id"]],
                         "grid": [a.get(w, "") for w in people["worker_id"]]})


def report_rows(project, lang: str) -> list[tuple[str, str]]:
    """Rows for the report's settings page: the code scheme and, with a roster, the
    staffing figures (counts only)."""

    rows = []
    scheme = CodeScheme.from_meta(project.meta)
    if scheme.county:
        rows.append((t("gs.report_codes", lang), f"CJ/T 349-2010 · {scheme.admin_code}"))
    st = project.summary.get("staffing") if isinstance(project.summary, dict) else None
    if isinstance(st, dict) and st.get("workers"):
        rows.append((t("gs.report_workers", lang),
                     t("gs.report_workers_value", lang, **st)))
        rows.append((t("gs.report_unstaffed", lang),
                     f"{st['grids_without_worker']} / {st['workers_without_grid']} / "
                     f"{st['grids_without_backup']}"))
    return rows


def signboard_table(project, *, with_workers: bool = False) -> pd.DataFrame:
    """One row per grid for signboards and contact cards: code, name, community, 四至 (zh,
    en), and, only when ``with_workers``, the A and B workers and phones."""
    project = ensure_grid_system(project)
    grids = project.layers["grids"].sort_values("grid_code", kind="stable")
    name = grids["name"].fillna("").astype(str) if "name" in grids else pd.Series("", index=grids.index)
    table = pd.DataFrame({
        "grid_code": grids["grid_code"].to_numpy(),
        "grid_id": grids["grid_id"].astype(str).to_numpy(),
        "name": [n or g for n, g in zip(name, grids["grid_id"].astype(str))],
        "community_id": grids["community_id"].astype(str).to_numpy(),
        "households": pd.to_numeric(grids["households"], errors="coerce").fillna(0).astype(int).to_numpy(),
        "boundary_zh": grids["boundary_zh"].to_numpy(),
        "boundary_en": grids["boundary_en"].to_numpy(),
    })
    workers = project.layers.get("workers")
    if with_workers and isinstance(workers, pd.DataFrame):
        for post in ("A", "B"):
            part = workers[workers["post"] == post].drop_duplicates("grid_id")
            by_grid = part.set_index(part["grid_id"].astype(str))
            table[f"worker_{post.lower()}"] = table["grid_id"].map(by_grid["name"])
            table[f"phone_{post.lower()}"] = table["grid_id"].map(by_grid["phone"])
    return table


__all__ = ["GRID_SYSTEM_COLUMNS", "apply", "report_rows", "roster_of_project", "carry_grid_system", "ensure_grid_system", "grid_columns",
           "set_grid_system", "signboard_table"]
