"""The grid table: one row per grid (CONTRACT.md's columns), drawn and judged by the rule
book (:mod:`geo.grids.rules`) from the cells of each grid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import groupby

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.grids.reasons import encode_reasons
from geo.grids.rules import (GRID_COLUMNS, CellTable, GridFacts, band_class, crossings,
                             grid_reasons, n_pieces, polsby_popper, shared_buildings,
                             straighten)


def grid_table(cells: CellTable, grid_of_cell: np.ndarray, grid_ids: Iterable[str],
               band: tuple[int, int], attrs: dict[str, dict], *, crs=None) -> gpd.GeoDataFrame:
    """The grid table rows of ``grid_ids`` and of every other grid of their communities
    (their shared boundaries are straightened together, :func:`straighten`), from their
    cells; ids without cells are left out (they no longer exist). Sorted by id.

    ``attrs`` maps a grid id to ``{"name": str, "locked": bool}`` (defaults: '' and
    False)."""
    grid_of_cell = pd.Series(grid_of_cell, dtype=object)
    grid_of_cell = grid_of_cell.where(grid_of_cell.notna(), "").astype(str).to_numpy()
    asked = {str(g) for g in grid_ids}
    # shared boundaries are straightened per community: every grid of it is drawn again
    places = set(cells.community[pd.Series(grid_of_cell).isin(asked).to_numpy()])
    ids = sorted((asked | set(grid_of_cell[pd.Series(cells.community).isin(places).to_numpy()]))
                 - {""})
    code = pd.Series(np.arange(len(ids)), index=ids, dtype=np.int64)
    labels = code.reindex(grid_of_cell).fillna(-1).to_numpy(dtype=np.int64, copy=True)
    cross = crossings(labels, cells.households, cells.ei, cells.ej, cells.arterial)
    has = labels >= 0
    order = np.flatnonzero(has)[np.argsort(labels[has], kind="stable")]
    bounds = np.searchsorted(labels[order], np.arange(len(ids) + 1))
    grids = []  # [k, id, cells, homes mask, home points, shape, near share, community]
    for k, gid in enumerate(ids):
        idx = order[bounds[k]:bounds[k + 1]]
        if idx.size == 0:
            continue
        homes = (cells.households[idx] > 0) & cells.unit[idx]
        xy = cells.homes[idx][homes & np.isfinite(cells.homes[idx]).all(axis=1)]
        shape, near = cells.polygon(idx, xy)
        counts = Counter(cells.community[idx].tolist())  # the most cells; ties: the first id
        community = str(min(counts, key=lambda c: (-counts[c], c)))
        grids.append([k, gid, idx, homes, xy, shape, near, community])
    for _, members in groupby(sorted(grids, key=lambda g: g[7]), key=lambda g: g[7]):
        members = list(members)
        for g, shape in zip(members, straighten([g[5] for g in members], [g[4] for g in members])):
            g[5] = shape
    rows, shapes = [], []
    all_parts = Counter(p for p in cells.part_of if p is not None)
    for k, gid, idx, homes, xy, shape, near, community in grids:
        households = int(cells.households[idx].sum())
        a = attrs.get(gid) or {}
        locked = bool(a.get("locked", False))
        splits = shared_buildings(cells.part_of[idx], all_parts)
        facts = GridFacts(
            households=households, locked=locked, pieces=n_pieces(shape),
            crossings=int(cross[k]) if k < len(cross) else 0, split_buildings=splits,
            near_home_share=round(near, 3),
            community_total=int(cells.community_total.get(community, households)),
            piece_totals=tuple(int(cells.piece_total[p]) for p in sorted({*cells.piece[idx][homes]})),
            face_totals=tuple(int(cells.face_total[f]) for f in sorted({*cells.face[idx][homes]})))
        reasons = grid_reasons(facts, band)
        rows.append({
            "grid_id": gid, "community_id": community, "name": str(a.get("name") or ""),
            "locked": int(locked), "households": households,
            "in_band": int(band_class(households, band) == "in"),
            "polsby_popper": round(float(polsby_popper(np.array([shape]))[0]), 4),
            "contiguous": int(facts.pieces == 1), "arterial_crossings": facts.crossings,
            "n_units": int(homes.sum()), "split_buildings": splits,
            "near_home_share": facts.near_home_share, "reason": encode_reasons(reasons),
            "reason_key": ";".join(key for key, _ in reasons)})
        shapes.append(shape)
    frame = pd.DataFrame(rows, columns=list(GRID_COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=np.asarray(shapes, dtype=object) if shapes else [],
                            crs=crs)


__all__ = ["grid_table"]
