"""The boundary two neighbouring cells share: the snapped intersection of their rings
(GEOS overlay on the :data:`geo.grids.blocks.GRID_SIZE_M` grid, which also finds the
edges of T-junctions whose vertices are not exactly collinear), computed the cheap way
wherever the two give the same geometry.

Most neighbouring cells of a Voronoi tessellation share one whole edge: the same two
vertices in both rings, already on the grid, and nothing else of either ring near the
other; across a street, one cell's vertex often lies exactly on the other cell's edge.
There the plain (floating) intersection is that edge, and snapping cannot change it:
snapping moves linework only inside the 1 mm pixels around vertices and crossings, and
no other vertex is within :data:`CLEAR_M` of the other ring. So a pair takes the
floating result when it is a point or a single segment whose ends are on the grid and
vertices of one ring or both, and every other vertex of each ring keeps :data:`CLEAR_M`
from the other ring; every other pair is snapped, as before. The geometries are the
same, bit for bit (tests compare every pair on the 20k demo, Helsinki and Beijing).
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.grids.parallel import chunked

#: Vertices of one ring this close (m) to the other ring send the pair to the snapped
#: overlay (ten pixels of the 1 mm grid).
CLEAR_M = 0.01


def shared_boundaries(rings: np.ndarray, i: np.ndarray, j: np.ndarray, *, grid_size: float,
                      workers: int = 1) -> np.ndarray:
    """``shapely.intersection(rings[i], rings[j], grid_size=grid_size)``, the same
    geometries, computed by the floating overlay where that is provably the same."""
    # cells snapped by set_precision carry its grid, and GEOS snaps every overlay of
    # geometries that carry one: the floating overlay needs the rings without it
    plain = shapely.set_precision(rings, 0.0, mode="pointwise")
    out = np.empty(len(i), dtype=object)
    for lo in range(0, len(i), PAIRS_AT_ONCE):  # bounds the memory of the copies
        a, b = i[lo:lo + PAIRS_AT_ONCE], j[lo:lo + PAIRS_AT_ONCE]
        common = chunked(shapely.intersection, plain[a], plain[b], workers=workers)
        simple = _simple(common, rings, a, b, grid_size)
        easy = np.flatnonzero(simple)
        if easy.size:  # on the grid already: they carry the first ring's grid, as snapped
            carried = shapely.get_precision(rings[a[easy]])
            easy, carried = easy[carried > 0], carried[carried > 0]
            common[easy] = shapely.set_precision(common[easy], carried, mode="pointwise")
        hard = np.flatnonzero(~simple)
        if hard.size:
            common[hard] = chunked(shapely.intersection, rings[a[hard]], rings[b[hard]],
                                   grid_size=grid_size, workers=workers)
        out[lo:lo + PAIRS_AT_ONCE] = common
    return out


#: Pairs overlaid at once.
PAIRS_AT_ONCE = 20_000


def _simple(common: np.ndarray, rings: np.ndarray, i: np.ndarray, j: np.ndarray,
            grid_size: float) -> np.ndarray:
    """Pairs whose floating intersection is a shared vertex or a shared edge (ends on
    the grid, each a vertex of some ring) with every other vertex clear of the other
    ring."""
    kind = shapely.get_type_id(common)
    n_xy = shapely.get_num_coordinates(common)
    cand = np.flatnonzero(((kind == 1) & (n_xy == 2)) | ((kind == 0) & (n_xy == 1)))
    out = np.zeros(len(common), dtype=bool)
    for lo in range(0, cand.size, CHUNK):
        part = cand[lo:lo + CHUNK]
        out[part[_clear(common[part], rings[i[part]], rings[j[part]], grid_size)]] = True
    return out


#: Pairs checked at once (bounds the memory of the vertex × segment tables).
CHUNK = 5_000


def _clear(common: np.ndarray, ring_a: np.ndarray, ring_b: np.ndarray,
           grid_size: float) -> np.ndarray:
    ends_xy, ends_at = shapely.get_coordinates(common, return_index=True)
    # snapping leaves a point already on the grid where it is (GEOS rounds x·scale and
    # divides by the scale, as set_precision does)
    scale = 1.0 / grid_size
    off_grid = (np.rint(ends_xy * scale) / scale != ends_xy).any(axis=1)
    first = np.r_[True, ends_at[1:] != ends_at[:-1]]
    end0 = ends_xy[first]                                         # one row per pair
    end1 = np.full_like(end0, np.nan)
    end1[ends_at[~first]] = ends_xy[~first]
    edge = ~np.isnan(end1[:, 0])
    ok = np.bincount(ends_at[off_grid], minlength=len(common)) == 0
    found0 = np.zeros(len(common), dtype=bool)  # each end is a vertex of some ring
    found1 = ~edge
    coords = [shapely.get_coordinates(r, return_index=True) for r in (ring_a, ring_b)]
    for (xy, at), (other, other_at) in ((coords[0], coords[1]), (coords[1], coords[0])):
        closing = np.r_[at[1:] != at[:-1], True]                  # a ring repeats its start
        xy, at = xy[~closing], at[~closing]
        on0 = (xy == end0[at]).all(axis=1)
        on1 = (xy == end1[at]).all(axis=1)
        n0 = np.bincount(at[on0], minlength=len(common))
        n1 = np.bincount(at[on1], minlength=len(common))
        ok &= (n0 <= 1) & (n1 <= 1)
        found0 |= n0 > 0
        found1 |= n1 > 0
        on_end = on0 | on1
        ok &= ~_near(xy[~on_end], at[~on_end], other, other_at, len(common))
    # an end that is a vertex of one ring only lies on the other ring's edge exactly (the
    # floating overlay found the overlap there): on the grid, snapping keeps it
    return ok & found0 & found1


def _near(xy: np.ndarray, at: np.ndarray, ring_xy: np.ndarray, ring_at: np.ndarray,
          n: int) -> np.ndarray:
    """Pairs where a point (``xy``, pair ``at``) lies within :data:`CLEAR_M` of the
    pair's ring (its coordinates ``ring_xy``, pair ``ring_at``, closed)."""
    # only points inside the ring's bounds (widened by CLEAR_M) can be near it
    lo_x = np.full(n, np.inf)
    lo_y = np.full(n, np.inf)
    hi_x = np.full(n, -np.inf)
    hi_y = np.full(n, -np.inf)
    np.minimum.at(lo_x, ring_at, ring_xy[:, 0])
    np.minimum.at(lo_y, ring_at, ring_xy[:, 1])
    np.maximum.at(hi_x, ring_at, ring_xy[:, 0])
    np.maximum.at(hi_y, ring_at, ring_xy[:, 1])
    px, py = xy[:, 0], xy[:, 1]
    inside = ((px >= lo_x[at] - CLEAR_M) & (px <= hi_x[at] + CLEAR_M)
              & (py >= lo_y[at] - CLEAR_M) & (py <= hi_y[at] + CLEAR_M))
    px, py, at = px[inside], py[inside], at[inside]
    seg = np.flatnonzero(ring_at[1:] == ring_at[:-1])             # segment k: k → k+1
    n_seg = np.bincount(ring_at[seg], minlength=n)
    seg_start = np.r_[0, np.cumsum(n_seg)[:-1]]
    rep = n_seg[at]
    point = np.repeat(np.arange(len(at)), rep)
    k = seg[np.repeat(seg_start[at] - (np.cumsum(rep) - rep), rep) + np.arange(int(rep.sum()))]
    ax, ay = ring_xy[k, 0], ring_xy[k, 1]
    abx, aby = ring_xy[k + 1, 0] - ax, ring_xy[k + 1, 1] - ay
    apx, apy = px[point] - ax, py[point] - ay
    den = abx * abx + aby * aby
    t = np.clip((apx * abx + apy * aby) / np.where(den > 0, den, 1.0), 0.0, 1.0)
    dx, dy = apx - t * abx, apy - t * aby
    close = dx * dx + dy * dy < CLEAR_M * CLEAR_M
    return np.bincount(at[point[close]], minlength=n) > 0


__all__ = ["CLEAR_M", "shared_boundaries"]
