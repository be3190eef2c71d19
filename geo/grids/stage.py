"""The grid stage: split every community into contiguous, street-following grids whose
household counts lie inside a band (default 200–300).

Hard rules, in order: the band; contiguity; one community per grid; no arterial road
crossed unless the band cannot be met otherwise (every crossing reported); a building
whose households alone exceed the band is split by unit/floor share into parts. Then
compact shapes, boundaries along streets, and counts near the middle of the band.

:func:`make_grids` runs named phases:

1. **inputs** — units and communities checked, street blocks found (:mod:`.blocks`);
2. **cells** — units split where too big (:mod:`.units`), a tessellation cell per unit
   and the cells' adjacency (:mod:`.blocks`);
3. **partition** — per community, the solver (:mod:`.partition`) turns the cell graph
   into grid labels; where whole buildings cannot be grouped inside the band (towers of
   101–199 households with a 200–300 band), the community is gridded again with
   buildings split by unit/floor share into parts of at most half the band's width;
4. **numbering** — locked grids keep their ids, others the previous id they overlap
   most, the rest are numbered in reading order (:mod:`.numbering`);
5. **table** — the grid table, through the rule book (:mod:`.rules`), as every edit does.

``workers`` > 1 spreads cells (:mod:`.cells_spread`), partitions and polygons over cores
(:mod:`.parallel`), with the same result as one. A community whose total cannot meet the
band gets the nearest answer (the grid count whose grids miss the band by the least),
flagged with a one-sentence reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_projected
from geo.grids.blocks import GRID_SIZE_M, locate_in_blocks, street_blocks
from geo.grids.cells_spread import adjacency_spread, tessellate_spread
from geo.grids.compiled_child import in_child, partition_communities, warm_up_soon
from geo.grids.communities import (assign_communities, representative_points,
                                   validate_communities)
from geo.grids.drawing import draw_ahead
from geo.grids.float_union import CellUnions, unions_of
from geo.grids.grid_table import grid_table
from geo.grids.heap import few_collections
from geo.grids.improvement import ImproveStats
from geo.grids.numbering import number_parts
from geo.grids.partition import ready
from geo.grids.pass_graph import PassGraph
from geo.grids.rules import CellTable, community_feasible
from geo.grids.settings import GridSettings
from geo.grids.summary import Outcome, communities_table, covered_with, grid_report
from geo.grids.units import UnitSplit, check_units, piece_source, split_large_units
from geo.snap_numpy import group_by_key


@dataclass(frozen=True, eq=False)
class GridResult:
    """What :func:`make_grids` returns.

    Attributes
    ----------
    grids
        One polygon per grid: the rule book's table (:data:`geo.grids.rules.GRID_COLUMNS`:
        ``grid_id``, ``community_id``, ``name``, ``locked``, ``households``, ``in_band``,
        ``polsby_popper``, ``contiguous``, ``arterial_crossings``, ``n_units``,
        ``split_buildings``, ``near_home_share``, ``reason`` (stored reasons, shown with
        :func:`geo.grids.reasons.reason_text`), ``reason_key``).
    households
        The units with ``community_id`` and ``grid_id``; a unit split into parts appears
        once per part (``unit_id`` ``<id>:<k>``, ``part_of``, ``part``).
    communities
        The communities used, with ``households``, ``grids``, ``feasible`` (0/1) and
        ``reason`` (stored reasons; empty unless the band cannot be met) and
        ``outside_grids_m2`` (land in no grid: farther than
        :data:`geo.grids.rules.NEAR_HOME_M` from the homes of the grid its cells joined).
    assignment
        ``grid_id`` per piece, indexed by the pieces' ``unit_id``.
    cells
        The tessellation cells (positional index) with ``unit_id`` (None for blocks
        without units), ``households``, ``block_id``, ``face_id``, ``community_id``,
        ``part_of``, ``home_x``/``home_y`` (the unit's location) and ``grid_id``.
    adjacency
        Neighbouring cells: ``i``, ``j`` (positions in ``cells``), ``shared_m``, ``kind``.
    report
        Counts, flags and timings (see :func:`make_grids`).
    """

    grids: gpd.GeoDataFrame
    households: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    assignment: pd.Series
    cells: gpd.GeoDataFrame
    adjacency: pd.DataFrame
    report: dict


@dataclass(frozen=True, eq=False)
class _Inputs:
    """Checked inputs of one run."""

    units: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    blocks: gpd.GeoDataFrame
    unit_block: np.ndarray
    unit_comm: np.ndarray
    arterials: np.ndarray
    paths: np.ndarray
    locked_of_unit: np.ndarray | None   # locked grid id per unit (None: free)
    previous: pd.Series | None          # previous grid id per piece id
    locked: frozenset[str]
    notes: list[dict]  # geo.i18n notes


@dataclass
class _Part:
    """One grid found by a pass: its community, its cells and (when locked) its id."""

    community_id: str
    cells: np.ndarray
    grid_id: str | None = None
    locked: bool = False


@dataclass
class _Pass:
    """One gridding pass over some communities (positions local to the pass)."""

    pieces: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    adjacency: pd.DataFrame
    parts: list[_Part]
    outcomes: dict[str, Outcome]
    splits: list[UnitSplit]
    failed: set[str]
    stats: ImproveStats = field(default_factory=ImproveStats)
    cells_s: float = 0.0
    unions: CellUnions | None = None  # the cells' floating unions, when checked already
    source: np.ndarray | None = None  # each piece's unit, a position in the run's units (set)


def positions_by_code(codes: np.ndarray, n: int) -> list[np.ndarray]:
    """The positions of each code ``0 .. n-1`` in ``codes``, in their order (as a stable
    sort gives them; codes outside that range left out), by :func:`geo.snap_numpy.group_by_key`."""
    codes = np.asarray(codes)
    at = np.flatnonzero((codes >= 0) & (codes < n))
    start, grouped = group_by_key(codes[at], at, n)
    return np.split(grouped.astype(np.int64, copy=False), start[1:-1])


# --------------------------------------------------------------------------- phases

def _check_inputs(households, communities, roads, blocks, previous, locked) -> _Inputs:
    require_projected(roads, what="roads")
    units, notes = check_units(households)
    communities, community_notes = validate_communities(communities)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the blocks found beside the check
        found = pool.submit(street_blocks, roads, communities) if blocks is None else None
        assign_communities(units, communities)  # refuses households outside every community
        blocks = (found.result() if found is not None else blocks).reset_index(drop=True)
    unit_block = locate_in_blocks(units.geometry, blocks)
    locked = {str(x) for x in locked}
    prev = locked_of_unit = None
    if previous is not None:
        prev = previous.copy()
        prev.index = prev.index.astype(str)
        prev = prev.astype(object).where(prev.notna(), None)
        if locked:
            # a locked unit is a whole unit whose (first) piece was in a locked grid
            first = prev.groupby(prev.index.str.split(":").str[0]).first()
            lk = first.reindex(units["unit_id"].to_numpy()).to_numpy()
            locked_of_unit = np.where(pd.Series(lk).isin(locked), lk, None)
    road_class, lines = roads["road_class"].to_numpy(dtype=object), roads.geometry.to_numpy()
    return _Inputs(units=units, communities=communities, blocks=blocks, unit_block=unit_block,
                   unit_comm=blocks["community_id"].astype(str).to_numpy()[unit_block],
                   arterials=lines[_of_class(road_class, "arterial")],
                   paths=lines[_of_class(road_class, "path")],
                   locked_of_unit=locked_of_unit, previous=prev, locked=frozenset(locked),
                   notes=notes + community_notes)


def _of_class(road_class: np.ndarray, name: str) -> np.ndarray:
    """``roads["road_class"] == name`` (a missing class is none)."""
    return np.array([isinstance(c, str) and c == name for c in road_class], dtype=bool)


def _grid_pass(inputs: _Inputs, community_ids: list[str], settings: GridSettings, *,
               fine: bool, workers: int = 1) -> _Pass:
    """Split units, tessellate and partition the given communities."""
    low, high = settings.band
    take = pd.Series(inputs.unit_comm).isin(community_ids).to_numpy()  # np.isin sorts text
    units = inputs.units[take].reset_index(drop=True)
    blocks = inputs.blocks
    sub_blocks = blocks[blocks["community_id"].astype(str).isin(community_ids)]
    sub_pos = np.full(len(blocks), -1)
    sub_pos[sub_blocks.index.to_numpy()] = np.arange(len(sub_blocks))
    part_max = max((high - low) // 2, math.ceil(low / 8), 1) if fine else None
    pieces, splits = split_large_units(units, band=settings.band, part_max=part_max)
    # parts inherit their unit's block and lock (no part: each piece is its unit)
    src = piece_source(pieces, units) if splits else np.arange(len(units))
    clock = time.perf_counter()
    # the partition's compiled loops load while the cells are built (once other processes
    # are forked: none forks while a thread loads them)
    cells = tessellate_spread(pieces, sub_blocks.reset_index(drop=True),
                              block_of=sub_pos[inputs.unit_block[take]][src], workers=workers,
                              then=lambda: warm_up_soon(len(pieces), workers))
    if workers > 1:
        ready(len(pieces))  # loaded before the adjacency's processes fork
    adj = adjacency_spread(cells, arterials=inputs.arterials, paths=inputs.paths, workers=workers)
    one = _Pass(pieces=pieces, cells=cells, adjacency=adj, parts=[], outcomes={},
                splits=splits, failed=set(), cells_s=time.perf_counter() - clock,
                source=np.flatnonzero(take)[src])  # (unit ids are unique: checked)
    cell_unit = cells["unit"].to_numpy()
    fixed = np.full(len(cells), None, dtype=object)
    if inputs.locked_of_unit is not None:
        # a piece found again (same id: a whole unit, or a part split the same way) stays
        # in its locked grid; a piece split differently this time follows its unit
        by_piece = inputs.previous.reindex(pieces["unit_id"].astype(str)).to_numpy(dtype=object)
        fixed_piece = inputs.locked_of_unit[take][src]
        known = pd.notna(by_piece)
        fixed_piece[known] = np.where(pd.Series(by_piece[known]).isin(inputs.locked),
                                      by_piece[known], None)
        has = cell_unit >= 0
        fixed[has] = fixed_piece[cell_unit[has]]
    cell_w = cells["households"].to_numpy(dtype=np.int64)
    comm = cells["community_id"].astype(str).to_numpy()
    at, ids = pd.factorize(comm)  # each community's cells in order, as a group-by's
    members_of = dict(zip(ids, positions_by_code(at, len(ids))))
    graph = PassGraph.of(cells, adj)
    frees = {}
    for cid in community_ids:
        members = members_of.get(cid, np.zeros(0, dtype=np.int64))
        frees[cid] = members[pd.isna(fixed[members])]
    # communities are independent: partitioned in worker processes when asked, and taken
    # in the same order as a serial run takes them
    compiled = ready(len(cells))  # loaded here, so forked workers do not load them again
    # the check of the cells' floating unions (geo.grids.float_union), which the grid
    # polygons need, is made here beside the other processes' partitions
    one.unions = CellUnions(graph.geoms, grid_size=GRID_SIZE_M)
    found_all = partition_communities(graph, [frees[cid] for cid in community_ids],
                                      community_ids, settings, fine=fine, compiled=compiled,
                                      workers=workers, then=one.unions.prepare)
    for cid, found in zip(community_ids, found_all):
        members = members_of.get(cid, np.zeros(0, dtype=np.int64))
        fixed_here = fixed[members]
        is_fixed = pd.notna(fixed_here)
        parts = [_Part(cid, members[fixed_here == gid], grid_id=gid, locked=True)
                 for gid in sorted(set(fixed_here[is_fixed]))]
        free = frees[cid]
        if found is None:
            one.failed.add(cid)
            continue
        one.stats.add(found.improvement)
        # each label's cells in their order, the labels in order
        parts += [_Part(cid, free[at]) for at in
                  positions_by_code(found.labels, len(found.zone_of_label)) if at.size]
        one.parts += parts
        total = int(cell_w[members].sum())
        infeasible = [z for z in found.zones if z.status == "infeasible"]
        one.outcomes[cid] = Outcome(households=total,
                                     feasible=community_feasible(total, settings.band),
                                     reason=infeasible[0].reason if infeasible else None,
                                     unassigned=found.unassigned)
    return one


def _passes(inputs: _Inputs, settings: GridSettings, workers: int = 1) -> list[_Pass]:
    """Whole buildings first, except where many are too big to combine and too small
    alone (towers of 101–199 households in a 200–300 band): there, and wherever whole
    buildings fail, buildings are split by unit/floor share into small parts."""
    low, high = settings.band
    community_ids = inputs.communities["community_id"].astype(str).tolist()
    hh = inputs.units["households"].to_numpy()
    awkward = (hh > high - low) & (hh < low)
    comm, names = pd.factorize(inputs.unit_comm)  # (sums of whole numbers: exact)
    share = dict(zip(names.tolist(), (np.bincount(comm, np.where(awkward, hh, 0), len(names)) /
                                      np.maximum(np.bincount(comm, hh, len(names)), 1)).tolist()))
    whole = [c for c in community_ids if share.get(c, 0.0) <= 0.25]
    passes = [_grid_pass(inputs, whole, settings, fine=False, workers=workers)] if whole else []
    fine = [c for c in community_ids if c not in whole or (passes and c in passes[0].failed)]
    if fine:
        passes.append(_grid_pass(inputs, fine, settings, fine=True, workers=workers))
    return passes


@dataclass
class _Combined:
    """The passes joined: pieces in input order, cells and adjacency with global positions."""

    pieces: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    adjacency: pd.DataFrame
    parts: list[_Part]
    outcomes: dict[str, Outcome]
    splits: list[UnitSplit]
    stats: ImproveStats


def _combine(passes: list[_Pass], inputs: _Inputs) -> _Combined:
    units = inputs.units
    piece_frames, cell_frames, adj_frames, parts, splits, sources = [], [], [], [], [], []
    outcomes: dict[str, Outcome] = {}
    stats = ImproveStats()
    piece_offset = cell_offset = 0  # (sources: each kept piece's unit)
    for one in passes:
        failed = sorted(one.failed)
        source = one.source
        if failed:
            keep_piece = ~np.isin(inputs.unit_comm[source], failed)
            keep_cell = ~one.cells["community_id"].astype(str).isin(failed).to_numpy()
        else:  # every piece and cell kept (the same masks, without the look-ups)
            keep_piece = np.ones(len(one.pieces), dtype=bool)
            keep_cell = np.ones(len(one.cells), dtype=bool)
        sources.append(source[keep_piece])
        new_piece = np.full(len(one.pieces), -1)
        new_piece[keep_piece] = piece_offset + np.arange(int(keep_piece.sum()))
        new_cell = np.full(len(one.cells), -1)
        new_cell[keep_cell] = cell_offset + np.arange(int(keep_cell.sum()))
        whole = not failed  # every piece and cell kept (the frames are copied below)
        piece_frames.append(one.pieces if whole else one.pieces[keep_piece])
        cells = one.cells if whole else one.cells[keep_cell]
        unit = cells["unit"].to_numpy()
        cell_frames.append(cells.assign(unit=np.where(unit >= 0, new_piece[np.maximum(unit, 0)], -1)))
        adj = one.adjacency
        ok = keep_cell[adj["i"].to_numpy()] & keep_cell[adj["j"].to_numpy()]
        adj_frames.append((adj if whole else adj[ok]).assign(
            i=new_cell[adj["i"].to_numpy()[ok]], j=new_cell[adj["j"].to_numpy()[ok]]))
        piece_offset += int(keep_piece.sum())
        cell_offset += int(keep_cell.sum())
        parts += [_Part(p.community_id, new_cell[p.cells], p.grid_id, p.locked) for p in one.parts]
        outcomes.update(one.outcomes)
        redone = set(units["unit_id"].astype(str)[np.isin(inputs.unit_comm, failed)]) \
            if failed else set()
        splits += [s for s in one.splits if s.unit_id not in redone]
        stats.add(one.stats)
    pieces = pd.concat(piece_frames, ignore_index=True)
    cells = gpd.GeoDataFrame(pd.concat(cell_frames, ignore_index=True), geometry="geometry",
                             crs=inputs.blocks.crs)
    # pieces in the order of the input units (parts in order), whichever pass made them
    part_no = pd.to_numeric(pieces["part"].str.split("/").str[0], errors="coerce").fillna(0) \
        .to_numpy() if pieces["part"].notna().any() else np.zeros(len(pieces))
    perm = np.lexsort((part_no, np.concatenate(sources)))  # piece_source(pieces)
    inverse = np.empty_like(perm)
    inverse[perm] = np.arange(len(perm))
    pieces = gpd.GeoDataFrame(pieces.iloc[perm].reset_index(drop=True), geometry="geometry",
                              crs=units.crs)
    unit = cells["unit"].to_numpy()
    cells["unit"] = np.where(unit >= 0, inverse[np.maximum(unit, 0)], -1)
    adjacency = pd.concat(adj_frames, ignore_index=True) if adj_frames else \
        pd.DataFrame({"i": [], "j": [], "shared_m": [], "kind": []})
    return _Combined(pieces=pieces, cells=cells, adjacency=adjacency, parts=parts,
                     outcomes=outcomes, splits=splits, stats=stats)


def _cell_layer(c: _Combined) -> gpd.GeoDataFrame:
    """The cells as the result (and a project) keeps them."""
    cell_unit = c.cells["unit"].to_numpy()
    has = cell_unit >= 0
    at = np.maximum(cell_unit, 0)
    piece_ids = c.pieces["unit_id"].astype(str).to_numpy()
    home = shapely.get_coordinates(representative_points(c.pieces.geometry))
    cell_grid = np.full(len(c.cells), None, dtype=object)
    for p in c.parts:
        cell_grid[p.cells] = p.grid_id
    return c.cells.drop(columns=["unit"]).assign(
        unit_id=np.where(has, piece_ids[at], None),
        part_of=np.where(has, c.pieces["part_of"].to_numpy(dtype=object)[at], None),
        home_x=np.where(has, home[at, 0], np.nan), home_y=np.where(has, home[at, 1], np.nan),
        grid_id=cell_grid)


@in_child
@few_collections()
def make_grids(households: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
               roads: gpd.GeoDataFrame, *, settings: GridSettings = GridSettings(),
               blocks: gpd.GeoDataFrame | None = None, previous: pd.Series | None = None,
               locked: Collection[str] = (), workers: int = 1) -> GridResult:
    """Split every community into contiguous grids inside the household band.

    Parameters
    ----------
    households
        Household units (points) with ``unit_id`` and ``households``, projected.
    communities
        Community polygons with ``community_id`` (given, or from
        :func:`geo.grids.communities.derive_communities`); checked by
        :func:`geo.grids.communities.validate_communities`.
    roads
        Road lines with ``road_class``; blocks follow arterial and local roads.
    settings
        Band and work budgets (:class:`GridSettings`).
    blocks
        Precomputed :func:`geo.grids.blocks.street_blocks` of these communities.
    previous
        ``grid_id`` per ``unit_id`` from an earlier run (a saved project's
        ``households.grid_id``, parts of split buildings under their part ids). Every
        grid that is not locked takes the previous id it overlaps most (by households,
        then units), each id at most once, so that a re-run renumbers nothing else.
    locked
        Grid ids (from ``previous``) kept exactly as they were: the same units (every
        unit whose first part was in the grid) and the same id; the other grids are
        drawn around them.
    workers
        Cores to use (:mod:`geo.grids.parallel`): the same result as 1, the default.

    Returns
    -------
    GridResult
        ``report`` holds ``grids``, ``grids_in_band``, ``share_in_band``,
        ``feasible_in_band`` (every grid of every feasible community is in band),
        ``non_contiguous``, ``arterial_crossings``, ``mean_polsby_popper``,
        ``near_home_share`` (min, median), ``grids_far_from_homes``,
        ``infeasible_communities`` (id, households, reason), ``split_units``,
        ``zero_household_units``, ``cells_without_grid``, ``notes`` (:func:`geo.i18n.note`),
        ``improvement`` (work done) and ``timings_s``.

    Raises
    ------
    InputError
        Bad units (missing columns, duplicate ids, bad counts), bad communities
        (overlaps, duplicate ids) or households outside every community.
    """
    timings: dict[str, float] = {}
    clock = time.perf_counter()
    inputs = _check_inputs(households, communities, roads, blocks, previous, locked)
    timings["check"] = time.perf_counter() - clock

    clock = time.perf_counter()
    passes = _passes(inputs, settings, workers)
    timings["cells"] = sum(p.cells_s for p in passes)
    timings["partition"] = time.perf_counter() - clock - timings["cells"]

    clock = time.perf_counter()
    combined = _combine(passes, inputs)
    checked = [p.unions for p in passes if p.unions is not None]
    del passes  # joined into ``combined``: each pass's own tables are not needed again
    number_parts(combined.parts, combined.cells, combined.pieces, inputs.previous, workers)
    cells = _cell_layer(combined)
    attrs = {p.grid_id: {"name": "", "locked": p.locked} for p in combined.parts}
    table = CellTable.of(cells, combined.adjacency)
    for unions in checked:  # a pass's cells checked already are the table's (one pass)
        unions_of(table).adopt(unions)
    del checked
    members, covered, rows = draw_ahead(table, cells["grid_id"].to_numpy(), workers=workers,
                                        band=settings.band, attrs=attrs)
    if members is not None and {g[1] for g in members[1]} != set(attrs):
        members = rows = None  # the grids drawn are not those asked for
    drawn_covered: dict[str, float] = {}  # each community's covered area, if drawn here
    grids = grid_table(table, cells["grid_id"].to_numpy(), attrs, settings.band, attrs,
                       crs=inputs.blocks.crs, members=members, rows=rows, covered=drawn_covered)
    timings["polygons"] = time.perf_counter() - clock

    pieces = combined.pieces
    piece_grid = np.full(len(pieces), None, dtype=object)
    piece_comm = np.full(len(pieces), None, dtype=object)
    unit = combined.cells["unit"].to_numpy()
    piece_grid[unit[unit >= 0]] = cells["grid_id"].to_numpy()[unit >= 0]
    piece_comm[unit[unit >= 0]] = cells["community_id"].to_numpy()[unit >= 0]
    assignment = pd.Series(piece_grid, name="grid_id",
                           index=pd.Index(pieces["unit_id"].astype(str).to_numpy(), name="unit_id"))
    if not members:  # the unions straightening drew, and the other communities' own
        covered = covered_with(grids, drawn_covered, workers)
    communities_out = communities_table(inputs.communities, combined.outcomes, grids,
                                        workers, covered=covered)
    report = grid_report(grids, communities_out, settings, notes=inputs.notes,
                         units=inputs.units, splits=combined.splits,
                         outcomes=combined.outcomes, improvement=combined.stats,
                         timings=timings)
    return GridResult(grids=grids, households=pieces.assign(community_id=piece_comm,
                                                            grid_id=piece_grid),
                      communities=communities_out, assignment=assignment, cells=cells,
                      adjacency=combined.adjacency, report=report)


__all__ = ["GridResult", "make_grids"]
