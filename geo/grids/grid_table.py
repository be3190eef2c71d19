"""The grid table: one row per grid (CONTRACT.md's columns), drawn and judged by the rule
book (:mod:`geo.grids.rules`) from the cells of each grid."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import groupby

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.grids.reasons import encode_reasons
from geo.grids.rules import (GRID_COLUMNS, SLIVER_M2, CellTable, GridFacts, band_class,
                             crossings, grid_reasons, polsby_popper, shared_buildings,
                             straighten_covering)


def grid_table(cells: CellTable, grid_of_cell: np.ndarray, grid_ids: Iterable[str],
               band: tuple[int, int], attrs: dict[str, dict], *, crs=None,
               members: tuple[np.ndarray, list[list]] | None = None,
               rows: dict[str, dict] | None = None,
               covered: dict[str, float] | None = None) -> gpd.GeoDataFrame:
    """The grid table rows of ``grid_ids`` and of every other grid of their communities
    (their shared boundaries are straightened together, :func:`straighten`), from their
    cells; ids without cells are left out (they no longer exist). Sorted by id.

    ``attrs`` maps a grid id to ``{"name": str, "locked": bool}`` (defaults: '' and
    False). ``members``: :func:`grid_members` of these arguments, and ``rows``: their
    :func:`table_rows` by grid id, if found already. ``covered``: filled with the area of
    the union of a community's polygons wherever straightening drew it here
    (:func:`geo.grids.summary.covered_m2` of the table's rows of that community)."""
    labels, grids = grid_members(cells, grid_of_cell, grid_ids) if members is None \
        else members
    for g, drawn in zip(grids, cells.polygons([(g[2], g[4]) for g in grids])):
        g[5], g[6] = drawn
    for members in by_community(grids):
        key = tuple(g[2].tobytes() for g in members)
        shapes = cells._straight.get(key)  # drawn ahead (geo.grids.drawing), or now
        if shapes is None:
            shapes, area = straighten_covering([g[5] for g in members], [g[4] for g in members])
            if covered is not None and area is not None:
                covered[members[0][7]] = area
        for g, shape in zip(members, shapes):
            g[5] = shape
    if rows is None or any(g[1] not in rows for g in grids):
        found = table_rows(cells, grids, crossings(labels, cells.households, cells.ei,
                                                   cells.ej, cells.arterial),
                           band, attrs, Counter(p for p in cells.part_of if p is not None))
    else:  # made beside the drawing (geo.grids.drawing)
        found = [rows[g[1]] for g in grids]
    shapes = [g[5] for g in grids]
    frame = pd.DataFrame(found, columns=list(GRID_COLUMNS))
    return gpd.GeoDataFrame(frame, geometry=np.asarray(shapes, dtype=object) if shapes else [],
                            crs=crs)


def table_rows(cells: CellTable, grids: list[list], cross: np.ndarray, band: tuple[int, int],
               attrs: dict[str, dict], all_parts: Counter) -> list[dict]:
    """The table's row of each of :func:`grid_members`' ``grids`` (drawn and straightened:
    ``g[5]``, ``g[6]`` set), each from its own figures (``cross``: :func:`crossings` of
    every grid; ``all_parts``: parts per split building in the whole table)."""
    in_part = pd.notna(cells.part_of)
    # pieces and compactness of every polygon at once (the same figures, element by element)
    drawn = np.empty(len(grids), dtype=object)
    drawn[:] = [g[5] for g in grids]
    parts, at = shapely.get_parts(drawn, return_index=True)
    pieces = np.bincount(at[shapely.area(parts) > SLIVER_M2], minlength=len(grids))
    compact = polsby_popper(drawn)
    rows = []
    for row, (k, gid, idx, homes, xy, shape, near, community) in enumerate(grids):
        households = int(cells.households[idx].sum())
        a = attrs.get(gid) or {}
        locked = bool(a.get("locked", False))
        splits = shared_buildings(cells.part_of[idx], all_parts) if in_part[idx].any() else 0
        facts = GridFacts(
            households=households, locked=locked, pieces=int(pieces[row]),
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
            "polsby_popper": round(float(compact[row]), 4),
            "contiguous": int(facts.pieces == 1), "arterial_crossings": facts.crossings,
            "n_units": int(homes.sum()), "split_buildings": splits,
            "near_home_share": facts.near_home_share, "reason": encode_reasons(reasons),
            "reason_key": ";".join(key for key, _ in reasons)})
    return rows


def grid_members(cells: CellTable, grid_of_cell: np.ndarray, grid_ids: Iterable[str]
                 ) -> tuple[np.ndarray, list[list]]:
    """The grids :func:`grid_table` draws for ``grid_ids``: a label per cell (-1: none)
    and per grid ``[k, id, cells, homes mask, home points, shape, near share, community]``
    (shape and share None until drawn), in id order."""
    # the ids as text ('' for none), and which are asked for, by set look-ups (pandas'
    # text arrays cost more than they save at this size)
    given = np.asarray(grid_of_cell, dtype=object)
    grid_of_cell = np.array(["" if none else (g if type(g) is str else str(g))
                             for g, none in zip(given.tolist(), pd.isna(given).tolist())],
                            dtype=object)
    asked = {str(g) for g in grid_ids}
    # shared boundaries are straightened per community: every grid of it is drawn again
    places = set(cells.community[_among(grid_of_cell, asked)])
    ids = sorted((asked | set(grid_of_cell[_among(cells.community, places)])) - {""})
    code = dict(zip(ids, range(len(ids))))
    labels = np.fromiter((code.get(g, -1) for g in grid_of_cell.tolist()), np.int64,
                         len(grid_of_cell))
    has = labels >= 0
    order = np.flatnonzero(has)[np.argsort(labels[has], kind="stable")]
    bounds = np.searchsorted(labels[order], np.arange(len(ids) + 1))
    # each grid's community: the one of most of its cells; ties: the first id
    comm, names = pd.factorize(cells.community[order], sort=True)  # np.unique sorts text
    pair, count = np.unique(labels[order] * max(len(names), 1) + comm, return_counts=True)
    grid_of, comm_of = np.divmod(pair, max(len(names), 1))
    first = np.lexsort((comm_of, -count, grid_of))
    first = first[np.r_[True, grid_of[first][1:] != grid_of[first][:-1]]] if len(first) else first
    community = dict(zip(grid_of[first].tolist(), names[comm_of[first]].tolist()))
    is_home = (cells.households > 0) & cells.unit
    home_ok = is_home & np.isfinite(cells.homes).all(axis=1)
    # every grid's slices cut from tables in the cells' grid order at once (the same
    # values as indexing each grid's cells)
    home_of = is_home[order]
    ok = home_ok[order]
    home_xy = cells.homes[order[ok]]
    home_bounds = np.r_[0, np.cumsum(ok)][bounds]
    grids = []
    for k, gid in enumerate(ids):
        lo, hi = bounds[k], bounds[k + 1]
        if hi == lo:
            continue
        grids.append([k, gid, order[lo:hi], home_of[lo:hi],
                      home_xy[home_bounds[k]:home_bounds[k + 1]], None, None, str(community[k])])
    return labels, grids


def _among(values: np.ndarray, wanted: set) -> np.ndarray:
    """``pd.Series(values).isin(wanted)`` of text (or any hashable) values."""
    return np.array([v in wanted for v in values.tolist()], dtype=bool)


def by_community(grids: list[list]) -> list[list[list]]:
    """:func:`grid_members`' grids per community (communities in id order), as their
    shared boundaries are straightened together."""
    return [list(m) for _, m in groupby(sorted(grids, key=lambda g: g[7]), key=lambda g: g[7])]


__all__ = ["by_community", "grid_members", "grid_table", "table_rows"]
