"""``shapely.set_precision(geoms, grid_size)`` of simple polygons, without GEOS's overlay
where the answer is known from the coordinates.

GEOS snaps a polygon to a grid by an overlay (a snap-rounding union of the polygon with
itself): every vertex is rounded to the grid, segments passing through another vertex's
pixel are bent through it, and the ring is rebuilt from the noded edges. For a clockwise
ring without holes whose every vertex, once rounded, stays well clear
(:data:`CLEAR_CELLS` pixels) of every segment of the ring it does not end, nothing is bent,
merged or dropped: the result is the ring of the rounded vertices, in the same order,
started at its second vertex (GEOS builds the ring from the first noded edge it meets,
which starts there). Such polygons are built here from their coordinates, rounded as GEOS
rounds them (its own pointwise rounding) and carrying the grid's precision as GEOS's
result does; every other polygon goes through GEOS. The two give the same geometries, to
the bit (tests compare them).
"""

from __future__ import annotations

import numpy as np
import shapely

from geo.grids.parallel import chunked

#: A rounded vertex this many grid steps from every segment it does not end: no pixel is
#: crossed by another segment and no two segments can meet once rounded.
CLEAR_CELLS = 5.0
#: Polygons checked at once (bounds the memory of their vertex × segment tables).
AT_ONCE = 1000


def set_precision_fast(geoms: np.ndarray, grid_size: float, *, workers: int = 1,
                       keep_grid: bool = True) -> np.ndarray:
    """``shapely.set_precision(geoms, grid_size)``, element by element, the same result
    (``keep_grid=False``: followed by ``set_precision(…, 0.0, mode="pointwise")``, which
    keeps the coordinates and drops the grid the geometries carry)."""
    geoms = np.asarray(geoms, dtype=object)
    out = np.empty(len(geoms), dtype=object)
    fast = np.zeros(len(geoms), dtype=bool)
    for lo in range(0, len(geoms), AT_ONCE):  # a few at a time: tables and rings kept small
        part = geoms[lo:lo + AT_ONCE]
        known = _known(part, grid_size)
        take = lo + np.flatnonzero(known)
        if take.size:
            out[take] = _rotated(geoms[take], grid_size)
            if keep_grid:
                out[take] = shapely.set_precision(out[take], grid_size, mode="pointwise")
        fast[lo:lo + AT_ONCE] = known
    slow = np.flatnonzero(~fast)
    if slow.size:
        out[slow] = chunked(shapely.set_precision, geoms[slow], grid_size=grid_size,
                            workers=workers)
        if not keep_grid:
            out[slow] = shapely.set_precision(out[slow], 0.0, mode="pointwise")
    return out


def rounded(values: np.ndarray, grid_size: float) -> np.ndarray:
    """Coordinates rounded to the grid as GEOS rounds them (``PrecisionModel.makePrecise``:
    Java's ``Math.round`` of the value times the scale, halves away from minus infinity,
    divided by the scale)."""
    scale = 1.0 / grid_size
    v = values * scale
    whole = np.trunc(v)
    frac = np.abs(v - whole)
    up = np.where(v >= 0, np.where(frac == 0.5, whole + 1.0, np.ceil(v)),
                  np.where(frac == 0.5, whole, np.floor(v)))
    down = np.where(v >= 0, np.floor(v), np.ceil(v))
    return np.where(frac < 0.5, down, up) / scale


def near_segment(px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray,
                 bx: np.ndarray, by: np.ndarray, reach: float) -> np.ndarray:
    """Whether each point ``(px, py)`` lies within ``reach`` of its segment ``a → b``."""
    abx, aby = bx - ax, by - ay
    apx, apy = px - ax, py - ay
    den = abx * abx + aby * aby
    t = np.clip((apx * abx + apy * aby) / np.where(den > 0, den, 1.0), 0.0, 1.0)
    dx, dy = apx - t * abx, apy - t * aby
    return dx * dx + dy * dy <= reach ** 2


def _rotated(geoms: np.ndarray, grid_size: float) -> np.ndarray:
    """The rounded ring of each polygon, started at its second vertex (no grid carried)."""
    xy, ring = shapely.get_coordinates(geoms, return_index=True)
    count = np.bincount(ring, minlength=len(geoms))       # closed: first vertex repeated
    start = np.r_[0, np.cumsum(count)[:-1]]
    # vertices 1 … n-1, 0 (at position n, the repeat of 0), 1 again to close
    take = np.arange(len(xy)) + 1
    take[start + count - 1] = start + 1
    rings = shapely.linearrings(rounded(xy[take], grid_size), indices=ring)
    return shapely.polygons(rings)


def _known(geoms: np.ndarray, grid_size: float) -> np.ndarray:
    """Polygons whose snapped form is their rounded ring, rotated by one (see above)."""
    # a polygon already on this grid is only copied by GEOS: left to it
    ok = (shapely.get_type_id(geoms) == 3) & ~shapely.is_empty(geoms)
    ok[ok] = shapely.get_precision(geoms[ok]) == 0
    ok[ok] = shapely.get_num_interior_rings(geoms[ok]) == 0
    ok[ok] = shapely.is_valid(geoms[ok])
    cand = np.flatnonzero(ok)
    if cand.size == 0:
        return ok
    xy, ring = shapely.get_coordinates(geoms[cand], return_index=True)
    rxy = rounded(xy, grid_size)
    n = len(cand)
    count = np.bincount(ring, minlength=n)
    good = count >= 4
    # edges k → k+1 inside each ring; none of zero length once rounded
    edge = np.flatnonzero(ring[1:] == ring[:-1])
    e_ring = ring[edge]
    ra, rb = rxy[edge], rxy[edge + 1]
    zero = (ra[:, 0] == rb[:, 0]) & (ra[:, 1] == rb[:, 1])
    good &= np.bincount(e_ring[zero], minlength=n) == 0
    # clockwise, before and after rounding (from each ring's first vertex, for accuracy)
    first = np.r_[0, np.cumsum(count)[:-1]]
    for c in (xy, rxy):
        origin = c[first][e_ring]
        a, b = c[edge] - origin, c[edge + 1] - origin
        twice = np.bincount(e_ring, weights=a[:, 0] * b[:, 1] - b[:, 0] * a[:, 1], minlength=n)
        good &= twice < -1e-9
    # every rounded vertex clear of the (unrounded) segments it does not end
    e_count = np.bincount(e_ring, minlength=n)
    e_start = np.r_[0, np.cumsum(e_count)[:-1]]
    rep = e_count[e_ring]                                   # vertex (edge start) × edges
    v = np.repeat(np.arange(len(edge)), rep)
    s = e_start[e_ring[v]] + (np.arange(int(rep.sum())) - np.repeat(np.cumsum(rep) - rep, rep))
    pos_v = v - e_start[e_ring[v]]
    pos_s = s - e_start[e_ring[s]]
    m = e_count[e_ring[v]]
    apart = (pos_s != pos_v) & (pos_s != (pos_v - 1) % m)  # segment s does not end at v
    v, s = v[apart], s[apart]
    p = rxy[edge[v]]
    a, b = xy[edge[s]], xy[edge[s] + 1]
    near = near_segment(p[:, 0], p[:, 1], a[:, 0], a[:, 1], b[:, 0], b[:, 1],
                        CLEAR_CELLS * grid_size)
    good &= np.bincount(e_ring[v[near]], minlength=n) == 0
    out = np.zeros(len(geoms), dtype=bool)
    out[cand[good]] = True
    return out


__all__ = ["near_segment", "rounded", "set_precision_fast"]
