"""Street blocks and the tessellation cells that grids are built from.

A *street block* is a face of the street network inside one community: the roads of the
chosen classes (by default arterial and local streets, not footpaths, which in Chinese
compounds run between every row of buildings) are noded together with the community
boundaries and polygonized. Each block also records its *arterial face*: the area enclosed
by arterial roads (and community boundaries) that it lies in, so that a grid can tell when
it crosses an arterial road.

A *cell* is the part of a block closest to one household unit: a Voronoi diagram of the unit
points of each block, clipped to the block (the "enclosed tessellation" of momepy, built on
points rather than footprints because registers and compound estimates have no footprints,
and because it is vectorised enough for a million households in seconds). Units at the same
spot (the parts of a split tower, or register rows sharing an address) share their cell in
strips. A block without units becomes one *filler* cell with no households, so that the
cells tile every community without gaps or overlaps; a grid built from cells therefore has
edges that run along streets wherever it changes block.

:func:`cell_adjacency` turns cells into the graph the partition works on: pairs of cells
sharing a boundary of positive length, the length shared, and whether that boundary lies
inside a block, along a street, or along an arterial road.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import require_projected
from geo.grids.parallel import chunked
from geo.grids.adjacency import edge_middles_near, overlay_middles, single_edge_pairs
from geo.grids.clipping import intersection_on_grid
from geo.grids.heap import release_free_memory
from geo.grids.shared_edges import CLEAR_M, shared_boundaries
from geo.grids.precision import set_precision_fast

#: Coordinates are snapped to this grid (metres) so that neighbouring cells share edges.
GRID_SIZE_M = 0.001
#: Two cells touching along less than this (metres) are not neighbours (a corner touch).
MIN_SHARED_M = 0.5
EDGE_KINDS = ("block", "street", "arterial", "path")
#: A boundary inside a block whose middle lies this close (m) to a mapped footpath follows it.
PATH_SNAP_M = 8.0
#: Blocks below this many are tessellated in one call (a block's diagram is many
#: elements' work, so fewer make worthwhile chunks than for one geometry each).
MIN_CHUNKED_BLOCKS = 64
#: A Voronoi cell this far (m) inside its block needs no clipping.
INSIDE_M = 0.01
#: Faces smaller than this (m²) are slivers between nearly parallel lines, not blocks.
MIN_BLOCK_M2 = 1.0


def _lines(geoms: np.ndarray) -> np.ndarray:
    """All (multi)line parts of polygon boundaries or line geometries, as LineStrings."""
    geoms = np.asarray(geoms, dtype=object)
    polygonal = shapely.get_type_id(geoms) >= 3  # 3 Polygon, 6 MultiPolygon, 7 collection
    out = np.where(polygonal, shapely.boundary(shapely.make_valid(geoms)), geoms)
    parts = shapely.get_parts(out)
    return parts[shapely.get_type_id(parts) == 1]


def faces_in_regions(lines: np.ndarray, regions: gpd.GeoDataFrame,
                     label: str) -> gpd.GeoDataFrame:
    """Polygonize ``lines`` (with the regions' boundaries) and keep faces inside a region."""
    region_of, faces = _faces_in(lines, regions.geometry.to_numpy())
    return gpd.GeoDataFrame({label: region_of}, geometry=faces, crs=regions.crs)


def _faces_in(lines: np.ndarray, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`faces_in_regions` as arrays: each face's region (position) and the faces."""
    all_lines = np.concatenate([_lines(lines), _lines(regions)])
    noded = shapely.union_all(all_lines, grid_size=GRID_SIZE_M)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > MIN_BLOCK_M2]  # slivers between near-parallel lines
    points = shapely.point_on_surface(faces)
    tree = shapely.STRtree(regions)
    hit_point, hit_region = tree.query(points, predicate="within")
    region_of = np.full(len(faces), -1)
    region_of[hit_point[::-1]] = hit_region[::-1]  # first hit wins
    keep = region_of >= 0
    return region_of[keep], faces[keep]


def street_blocks(roads: gpd.GeoDataFrame, communities: gpd.GeoDataFrame, *,
                  road_classes: Sequence[str] = ("arterial", "local")) -> gpd.GeoDataFrame:
    """Street blocks of every community.

    Parameters
    ----------
    roads
        Road lines with ``road_class`` (``arterial``/``local``/``path``), projected.
    communities
        Non-overlapping community polygons with ``community_id``, projected.
    road_classes
        Road classes that bound blocks. Arterial roads are always included, since the
        arterial faces are derived from them.

    Returns
    -------
    GeoDataFrame
        ``block_id`` (int, 0…), ``community_id``, ``face_id`` (int, the arterial face,
        unique across communities), polygons that tile the communities.
    """
    require_projected(roads, what="roads")
    require_projected(communities, what="communities")
    communities = communities.reset_index(drop=True)
    classes = set(road_classes) | {"arterial"}
    regions = communities.geometry.to_numpy()
    box = shapely.box(*shapely.total_bounds(regions)).buffer(1.0)
    road_class = roads["road_class"].to_numpy(dtype=object)
    lines = roads.geometry.to_numpy()
    take = np.array([c in classes for c in road_class], dtype=bool)
    if take.any():
        take[take] = shapely.intersects(lines[take], box)
    r_class, r_lines = road_class[take], lines[take]
    art = r_lines[r_class == "arterial"]
    # the blocks and the arterial faces polygonized side by side (GEOS works without the GIL)
    with ThreadPoolExecutor(max_workers=2) as pool:
        arterial_faces = pool.submit(_faces_in, art, regions)
        block_region, block_geoms = _faces_in(r_lines, regions)
        face_geoms = arterial_faces.result()[1]
    # each block lies in exactly one arterial face (arterials are among the block lines)
    tree = shapely.STRtree(face_geoms)
    pts = shapely.point_on_surface(block_geoms)
    hit_block, hit_face = tree.query(pts, predicate="within")
    face_of = np.full(len(block_geoms), -1)
    face_of[hit_block[::-1]] = hit_face[::-1]
    missing = np.flatnonzero(face_of < 0)
    if missing.size:  # a representative point on a face boundary: take the nearest face
        face_of[missing] = tree.query_nearest(pts[missing], all_matches=False)[1]
    order = np.lexsort((shapely.get_x(pts), -shapely.get_y(pts), block_region))
    ids = communities["community_id"].to_numpy()
    out = gpd.GeoDataFrame({
        "block_id": np.arange(len(block_geoms)),
        "community_id": ids[block_region[order]],
        "face_id": face_of[order],
    }, geometry=block_geoms[order], crs=communities.crs)
    return out


def locate_in_blocks(points: gpd.GeoSeries | np.ndarray, blocks: gpd.GeoDataFrame) -> np.ndarray:
    """Position (not id) of the block holding each point; points outside all take the nearest."""
    geoms = points.to_numpy() if isinstance(points, (gpd.GeoSeries, pd.Series)) else points
    tree = shapely.STRtree(blocks.geometry.to_numpy())
    hit_pt, hit_block = tree.query(geoms, predicate="intersects")
    out = np.full(len(geoms), -1)
    out[hit_pt[::-1]] = hit_block[::-1]
    missing = np.flatnonzero(out < 0)
    if missing.size:
        out[missing] = tree.query_nearest(geoms[missing], all_matches=False)[1]
    return out


def polygonal(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygon parts of each geometry (clipping, and GEOS's Voronoi diagram
    of nearly collinear sites, can leave stray lines beside a polygon)."""
    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    odd = ~np.isin(shapely.get_type_id(geoms), (3, 6))
    for k in np.flatnonzero(odd):
        parts = shapely.get_parts(geoms[k])
        parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
        out[k] = shapely.union_all(parts) if len(parts) else shapely.Polygon()
    return out


def strips(cell: shapely.Geometry, shares: np.ndarray) -> list[shapely.Geometry]:
    """Cut ``cell`` into strips across its longer side, of widths proportional to ``shares``."""
    x0, y0, x1, y1 = cell.bounds
    cuts = np.concatenate([[0.0], np.cumsum(shares) / shares.sum()])
    pieces = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        if x1 - x0 >= y1 - y0:
            box = shapely.box(x0 + a * (x1 - x0), y0 - 1, x0 + b * (x1 - x0), y1 + 1)
        else:
            box = shapely.box(x0 - 1, y0 + a * (y1 - y0), x1 + 1, y0 + b * (y1 - y0))
        pieces.append(shapely.intersection(cell, box, grid_size=GRID_SIZE_M))
    return pieces


def tessellate(units: gpd.GeoDataFrame, blocks: gpd.GeoDataFrame, *,
               block_of: np.ndarray | None = None, workers: int = 1) -> gpd.GeoDataFrame:
    """Cells that tile the blocks: one per unit, plus one filler per block without units.

    Parameters
    ----------
    units
        Household units (points) with ``households``, projected.
    blocks
        From :func:`street_blocks`.
    block_of
        Position in ``blocks`` of each unit's block, if already known
        (:func:`locate_in_blocks`).
    workers
        Threads for the clipping (:func:`geo.grids.parallel.chunked`: the same cells).

    Returns
    -------
    GeoDataFrame
        Positional rows: first one row per unit in the order of ``units`` (``unit`` =
        its position), then one filler row per empty block (``unit`` = -1). Columns
        ``unit``, ``households`` (0 for fillers), ``block_id``, ``community_id``,
        ``face_id``, polygon geometry.
    """
    require_projected(units, what="household units")
    n = len(units)
    block_pos = locate_in_blocks(units.geometry, blocks) if block_of is None \
        else np.asarray(block_of, dtype=np.int64)
    points = units.geometry.to_numpy()
    other = np.flatnonzero(shapely.get_type_id(points) != 0)  # a point stands for itself
    if other.size:
        points = points.copy()
        points[other] = shapely.point_on_surface(points[other])
    hh = units["households"].to_numpy(dtype=float)
    cells = np.empty(n, dtype=object)
    block_geoms = blocks.geometry.to_numpy()
    # a unit outside its block (snapped to the nearest one) stands on the block's edge
    outside = np.flatnonzero(~shapely.intersects(points, block_geoms[block_pos])) if n else []
    if len(outside):
        edge = shapely.shortest_line(block_geoms[block_pos[outside]], points[outside])
        points = points.copy()
        points[outside] = shapely.get_point(edge, 0)
    xy = shapely.get_coordinates(points)
    del points

    # distinct sites per block (units at the same spot share one Voronoi cell)
    # (numbered in the order of block, x, y, as a sorted pandas groupby numbers them)
    kx, ky = np.round(xy[:, 0], 2), np.round(xy[:, 1], 2)
    by = np.lexsort((ky, kx, block_pos))
    first = np.ones(n, dtype=bool)
    first[1:] = (np.diff(block_pos[by]) != 0) | (kx[by][1:] != kx[by][:-1]) | \
        (ky[by][1:] != ky[by][:-1])
    site = np.empty(n, dtype=np.int64)
    site[by] = np.cumsum(first) - 1
    site_block = np.empty(site.max() + 1 if n else 0, dtype=np.int64)
    site_block[site] = block_pos
    site_xy = np.empty((site_block.size, 2))
    site_xy[site] = xy
    site_cell = np.empty(site_block.size, dtype=object)
    raw, raw_block, raw_site = _voronoi_cells(site_xy, site_block, block_geoms, workers)
    lone = np.flatnonzero(np.bincount(site_block, minlength=len(block_geoms))[site_block] == 1)
    site_cell[lone] = block_geoms[site_block[lone]]  # a block's only site takes it whole
    if raw.size:
        # GEOS's Voronoi cells of nearly collinear or nearly coincident sites can come out
        # with stray lines or a twisted ring; clipping needs valid polygons
        bad = np.flatnonzero(~shapely.is_valid(raw))
        raw[bad] = polygonal(shapely.make_valid(raw[bad]))
        site_cell[raw_site] = _clip(raw, raw_block, block_geoms, workers)
        del raw

    # share a site's cell among the units standing on it
    counts = np.bincount(site, minlength=site_block.size)
    single = counts[site] == 1
    cells[single] = site_cell[site[single]]
    for s in np.flatnonzero(counts > 1):
        members = np.flatnonzero(site == s)
        shares = np.maximum(hh[members], 1.0)
        for m, piece in zip(members, strips(site_cell[s], shares)):
            cells[m] = piece
    del site_cell  # each generation of cells is freed as the next is made
    cells = set_precision_fast(cells.astype(object), GRID_SIZE_M, workers=workers) if n else cells
    # a cell lost to snapping (a site squeezed against another): share the nearest cell
    for m in np.flatnonzero(shapely.is_empty(cells) | shapely.is_missing(cells)) if n else []:
        same = np.flatnonzero((block_pos == block_pos[m]) & ~shapely.is_empty(cells))
        if same.size == 0:
            cells[m] = shapely.set_precision(block_geoms[block_pos[m]], GRID_SIZE_M)
            continue
        host = same[np.argmin(np.hypot(*(xy[same] - xy[m]).T))]
        pair = np.array([host, m])
        pieces = strips(cells[host], np.maximum(hh[pair], 1.0))
        cells[pair] = shapely.set_precision(np.asarray(pieces, dtype=object), GRID_SIZE_M)

    cells = _single_parts(cells, block_pos, xy) if n else cells

    empty = np.setdiff1d(np.arange(len(blocks)), block_pos)
    out = gpd.GeoDataFrame({
        "unit": np.r_[np.arange(n), np.full(empty.size, -1)],
        "households": np.r_[hh, np.zeros(empty.size)].astype(np.int64),
        "block_id": np.r_[blocks["block_id"].to_numpy()[block_pos],
                          blocks["block_id"].to_numpy()[empty]],
        "community_id": np.r_[blocks["community_id"].to_numpy()[block_pos],
                              blocks["community_id"].to_numpy()[empty]],
        "face_id": np.r_[blocks["face_id"].to_numpy()[block_pos],
                         blocks["face_id"].to_numpy()[empty]],
    }, geometry=np.r_[cells, shapely.set_precision(block_geoms[empty], GRID_SIZE_M)],
        crs=blocks.crs)
    del cells
    release_free_memory()  # the Voronoi cells and clips dropped above
    return out


def _voronoi_cells(site_xy: np.ndarray, site_block: np.ndarray, block_geoms: np.ndarray,
                   workers: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Voronoi cells of the sites of every block with more than one site, extended to
    the block (unclipped, polygonal): one call over all blocks instead of one per block.

    ``site_block`` is sorted. Returns the cells, their block positions and their site
    positions (in site order within each block, as ``ordered=True`` gives them)."""
    start = np.r_[0, np.flatnonzero(np.diff(site_block)) + 1]
    size = np.diff(np.r_[start, site_block.size])
    many = size > 1
    if not many.any():
        empty = np.zeros(0, dtype=np.int64)
        return np.zeros(0, dtype=object), empty, empty
    group = np.repeat(np.arange(start.size), size)
    take = many[group]
    sites = np.flatnonzero(take)
    groups = np.flatnonzero(many)
    # one multipoint per block, in block order; GEOS gets the same sites as one call each
    points = shapely.multipoints(site_xy[sites], indices=np.searchsorted(groups, group[sites]))
    vor = chunked(_voronoi, points, block_geoms[site_block[start[groups]]], workers=workers,
                  at_least=MIN_CHUNKED_BLOCKS)
    parts, at = shapely.get_parts(vor, return_index=True)
    del vor
    if len(parts) != sites.size or not np.array_equal(at, np.searchsorted(groups, group[sites])):
        raise RuntimeError("a Voronoi diagram lost a site")
    return polygonal(parts), site_block[sites], sites


def _clip(raw: np.ndarray, raw_block: np.ndarray, block_geoms: np.ndarray,
          workers: int) -> np.ndarray:
    """``intersection(raw, block, grid_size=GRID_SIZE_M)`` of each Voronoi cell and its
    block. A cell well inside its block (:data:`INSIDE_M` from its edges, so that no
    vertex of the block is near enough to be snapped with the cell's) is its own clip:
    the cell snapped, the same geometry, without the grid GEOS would carry on it. Both
    take GEOS's snapped overlay only where the coordinates do not tell its answer
    (:mod:`geo.grids.clipping`, :mod:`geo.grids.precision`)."""
    blocks = np.unique(raw_block)
    inner = np.full(len(block_geoms), None, dtype=object)
    inner[blocks] = shapely.buffer(block_geoms[blocks], -INSIDE_M)
    shapely.prepare(inner[blocks])
    inside = shapely.contains_properly(inner[raw_block], raw)
    out = np.empty(len(raw), dtype=object)
    cut = np.flatnonzero(~inside)
    out[cut] = intersection_on_grid(raw[cut], block_geoms[raw_block[cut]], GRID_SIZE_M,
                                    workers=workers)
    whole = np.flatnonzero(inside)
    out[whole] = set_precision_fast(raw[whole], GRID_SIZE_M, workers=workers, keep_grid=False)
    return out


def _voronoi(points: np.ndarray, blocks: np.ndarray) -> np.ndarray:
    return shapely.voronoi_polygons(points, extend_to=blocks, ordered=True)


def _single_parts(cells: np.ndarray, block_pos: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Give stray pieces of a cell (a Voronoi cell cut in two by a concave block) to the
    neighbour in the same block that shares the longest boundary with them."""
    cells = cells.copy()
    multi = np.flatnonzero(shapely.get_num_geometries(cells) > 1)
    for m in multi:
        parts = shapely.get_parts(cells[m])
        site = shapely.points(xy[m])
        home = int(np.argmin(shapely.distance(parts, site)))
        cells[m] = parts[home]
        same = np.flatnonzero((block_pos == block_pos[m]) & (np.arange(len(cells)) != m))
        for k, part in enumerate(parts):
            if k == home:
                continue
            shared = shapely.length(shapely.intersection(
                shapely.boundary(part), shapely.boundary(cells[same]), grid_size=GRID_SIZE_M))
            if same.size == 0 or shared.max() <= 0:
                cells[m] = shapely.union(cells[m], part, grid_size=GRID_SIZE_M)
                continue
            host = same[int(np.argmax(shared))]
            cells[host] = shapely.union(cells[host], part, grid_size=GRID_SIZE_M)
    return cells


def cell_adjacency(cells: gpd.GeoDataFrame, *, arterials: np.ndarray | gpd.GeoSeries | None = None,
                   paths: np.ndarray | gpd.GeoSeries | None = None,
                   min_shared_m: float = MIN_SHARED_M, workers: int = 1) -> pd.DataFrame:
    """Neighbouring cells (rook adjacency) and the boundary they share.

    Parameters
    ----------
    cells
        From :func:`tessellate` (needs ``block_id`` and ``face_id``).
    arterials
        Arterial road lines. Cells of different blocks meeting along one are
        ``arterial`` neighbours even inside one face (the dead end of an arterial road).
    paths
        Footpaths (the paths between building rows inside compounds): cells of one block
        whose shared boundary runs along one are ``path`` neighbours, which grids prefer
        to be cut along.
    min_shared_m
        Cells touching along less than this are not neighbours.
    workers
        Threads for the shared boundaries (:func:`geo.grids.parallel.chunked`).

    Returns
    -------
    DataFrame
        One row per pair: ``i``, ``j`` (positions, ``i < j``), ``shared_m``, ``kind``
        (``block``: inside one block; ``path``: inside one block along a footpath;
        ``street``: across a street; ``arterial``: across an arterial road or between
        arterial faces).
    """
    geoms = cells.geometry.to_numpy()
    i, j = candidate_pairs(geoms)
    keep, shared, kind = pair_kinds(geoms, i, j, cells["block_id"].to_numpy(),
                                    cells["face_id"].to_numpy(), arterials=arterials,
                                    paths=paths, min_shared_m=min_shared_m, workers=workers)
    out = pd.DataFrame({"i": i[keep], "j": j[keep], "shared_m": shared, "kind": kind})
    release_free_memory()  # the overlaid boundaries and coordinate tables dropped
    return out


def candidate_pairs(geoms: np.ndarray, *, tree: shapely.STRtree | None = None, lo: int = 0,
                    hi: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``i < j`` of cells whose boxes meet, in the tree's order: cells apart share
    nothing (their empty boundary is dropped by :func:`pair_kinds`), so no distance test
    is needed first. ``lo:hi``: only the pairs whose ``i`` is among those cells (the same
    pairs in the same order, a run of them); ``tree``: ``STRtree(geoms)``, if made."""
    tree = shapely.STRtree(geoms) if tree is None else tree
    i, j = tree.query(geoms[lo:hi])
    i = i + lo if lo else i
    keep = i < j
    return i[keep], j[keep]


def pair_kinds(geoms: np.ndarray, i: np.ndarray, j: np.ndarray, block: np.ndarray,
               face: np.ndarray, *, arterials=None, paths=None,
               min_shared_m: float = MIN_SHARED_M, workers: int = 1
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Which of the pairs ``(i, j)`` of :func:`cell_adjacency`'s cells are neighbours
    (a mask), and the ``shared_m`` and ``kind`` of those: each pair's answer is its own,
    whichever other pairs are asked with it."""
    # most pairs share one whole edge and nothing else: its length from the coordinates;
    # pairs that touch at a corner or not at all share nothing; the others go through the
    # overlay (cells are snapped to the same precision grid, so shared edges coincide)
    one_edge, ends, shared = single_edge_pairs(geoms, i, j, grid_size=GRID_SIZE_M,
                                               clear_m=CLEAR_M)
    art = arterials is not None and len(arterials) > 0
    foot = paths is not None and len(paths) > 0
    # the middle of the shared boundary is asked for across a street (is it an arterial
    # road?) and inside a block (is it a footpath?)
    across = block[i] != block[j]
    needs_middle = (face[i] == face[j]) & ((across & art) | (~across & foot))
    # those sharing nothing are dropped (unless every pair is to be kept)
    slow = np.flatnonzero(~one_edge & ~((shared == 0) & (min_shared_m > 0)))
    shared[slow], middle = overlay_middles(geoms, i[slow], j[slow], needs_middle[slow],
                                           overlay=shared_boundaries, grid_size=GRID_SIZE_M,
                                           min_shared_m=min_shared_m, workers=workers)
    keep = shared >= min_shared_m
    middles = np.full(len(i), None, dtype=object)
    middles[slow] = middle
    i, j, shared, middles = i[keep], j[keep], shared[keep], middles[keep]
    one_edge, ends = one_edge[keep], ends[keep]
    kind = np.where(face[i] != face[j], "arterial", np.where(block[i] != block[j], "street", "block"))

    def near(lines, which: np.ndarray, distance: float) -> np.ndarray:
        """Which of the pairs ``which`` have the middle of their shared boundary within
        ``distance`` of ``lines``."""
        tree = shapely.STRtree(lines)
        fast = one_edge[which]
        out = np.zeros(len(which), dtype=bool)
        out[fast], unsure = edge_middles_near(tree, ends[which[fast]], distance)
        unsure = np.flatnonzero(fast)[unsure]  # the overlay decides where the ends disagree
        middles[which[unsure]] = overlay_middles(
            geoms, i[which[unsure]], j[which[unsure]], np.ones(unsure.size, dtype=bool),
            overlay=shared_boundaries, grid_size=GRID_SIZE_M, min_shared_m=0.0,
            workers=workers)[1]
        rest = np.r_[np.flatnonzero(~fast), unsure]
        out[rest] = False
        hit = tree.query(middles[which[rest]], predicate="dwithin", distance=distance)[0]
        out[rest[np.unique(hit)]] = True
        return out

    if art:
        lines = arterials.to_numpy() if isinstance(arterials, gpd.GeoSeries) else np.asarray(arterials)
        street = np.flatnonzero(kind == "street")
        kind[street[near(lines, street, 0.05)]] = "arterial"
    if foot:
        lines = paths.to_numpy() if isinstance(paths, gpd.GeoSeries) else np.asarray(paths)
        inner = np.flatnonzero(kind == "block")
        names, code = np.unique(kind, return_inverse=True)
        kind = names.astype(object)[code]  # one string object per kind, not one per pair
        kind[inner[near(lines, inner, PATH_SNAP_M)]] = "path"
    return keep, shared, kind
