"""The edit solver: cut one grid's cells into two groups, each in the band where
possible (the "split" edit)."""

from __future__ import annotations

import numpy as np
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from geo.grids.blocks import GRID_SIZE_M
from geo.grids.graph import project


def _adjacency(geoms: np.ndarray) -> coo_array:
    """Rook adjacency (shared edge longer than 0.5 m) between a few cells."""
    tree = shapely.STRtree(geoms)
    i, j = tree.query(geoms, predicate="dwithin", distance=2 * GRID_SIZE_M)
    keep = i < j
    i, j = i[keep], j[keep]
    if len(i):
        rings = shapely.boundary(geoms)
        shared = shapely.length(shapely.intersection(
            rings[i], shapely.buffer(rings[j], 2 * GRID_SIZE_M, cap_style="flat", quad_segs=1)))
        ok = shared >= 0.5
        i, j = i[ok], j[ok]
    n = len(geoms)
    data = np.ones(2 * len(i))
    return coo_array((data, (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()


def _n_pieces(adj: np.ndarray, mask: np.ndarray) -> int:
    """Connected pieces of the cells ``mask`` marks (``adj``: a dense adjacency matrix;
    a grid has tens of cells, where slicing a dense matrix is much cheaper than a sparse
    one)."""
    idx = np.flatnonzero(mask)
    if idx.size <= 1:
        return idx.size
    return connected_components(adj[np.ix_(idx, idx)], directed=False)[0]


def best_split(geoms: np.ndarray, households: np.ndarray, faces: np.ndarray,
               band: tuple[int, int], *, angles: int = 12) -> tuple[np.ndarray, dict]:
    """Cut a set of cells into two groups, each in the band where possible.

    Candidates are straight sweeps in ``angles`` directions (cells ordered along the
    direction and cut where both sides best fit the band) and region growing from the
    cell farthest from the centre. The chosen cut has, in order of priority: both parts
    in one piece; both parts in the band; no arterial road crossed (an arterial is
    crossed only when that is the only way to get both parts into the band); as many
    parts in the band as possible; counts closest to the middle of the band (or to each
    other); the shortest boundary.

    Returns
    -------
    (mask, info)
        ``mask`` marks the cells of the first part; ``info`` holds the part counts.
    """
    n = len(geoms)
    adj = _adjacency(geoms).toarray()
    centres = shapely.get_coordinates(shapely.point_on_surface(geoms))
    area = shapely.area(geoms)
    mid = (band[0] + band[1]) / 2
    total = households.sum()
    target = min(max(total / 2, band[0]), band[1]) if total >= 2 * band[0] else total / 2
    candidates: list[np.ndarray] = []
    for k in range(angles):
        theta = np.pi * k / angles
        along = project(centres, np.array([np.cos(theta), np.sin(theta)]))[:, 0]
        order = np.argsort(along, kind="stable")
        cum = np.cumsum(households[order])
        # every cut where both sides keep at least one household-bearing cell
        for cut in np.unique(np.searchsorted(cum, [target * f for f in (0.8, 0.9, 1.0, 1.1, 1.2)]))[:]:
            for c in (cut, cut + 1):
                if 0 < c < n:
                    mask = np.zeros(n, dtype=bool)
                    mask[order[:c]] = True
                    candidates.append(mask)
    centre = centres.mean(axis=0)
    for seed in np.argsort(-np.hypot(*(centres - centre).T), kind="stable")[:4]:
        mask = np.zeros(n, dtype=bool)
        mask[seed] = True
        count = households[seed]
        dist = np.hypot(*(centres - centres[seed]).T)
        while count < target:
            frontier = np.flatnonzero(adj[mask].any(axis=0) & ~mask)
            if not frontier.size:
                break
            pick = frontier[np.argmin(dist[frontier])]
            mask[pick] = True
            count += households[pick]
        if 0 < mask.sum() < n:
            candidates.append(mask)
    faces_all = len(np.unique(faces))
    best, best_key = None, None
    seen: set[bytes] = set()
    for mask in candidates:
        if mask.tobytes() in seen:  # sweeps in nearby directions often cut alike
            continue
        seen.add(mask.tobytes())
        h1, h2 = int(households[mask].sum()), int(households[~mask].sum())
        if h1 == 0 or h2 == 0:
            continue
        out_band = int(not band[0] <= h1 <= band[1]) + int(not band[0] <= h2 <= band[1])
        pieces = _n_pieces(adj, mask) + _n_pieces(adj, ~mask) - 2
        crossings = (len(np.unique(faces[mask])) - 1) + (len(np.unique(faces[~mask])) - 1)
        crossings = max(0, crossings - max(0, faces_all - 2))
        shape1 = shapely.union_all(geoms[mask], grid_size=GRID_SIZE_M)
        shape2 = shapely.union_all(geoms[~mask], grid_size=GRID_SIZE_M)
        cut_m = (shapely.length(shape1) + shapely.length(shape2)) / 2
        key = (pieces, out_band > 0, crossings, out_band,
               abs(h1 - mid) + abs(h2 - mid) if out_band == 0 else abs(h1 - h2), round(cut_m, 1))
        if best_key is None or key < best_key:
            best, best_key = mask, key
    if best is None:  # every cell but one is empty: cut off the first cell
        best = np.zeros(n, dtype=bool)
        best[np.argmax(households)] = True
    # the first part is the north-west one, so that it keeps the grid's id
    c1 = (centres[best] * area[best, None]).sum(0) / max(area[best].sum(), 1e-9)
    c2 = (centres[~best] * area[~best, None]).sum(0) / max(area[~best].sum(), 1e-9)
    if (c1[1] - c1[0]) < (c2[1] - c2[0]):
        best = ~best
    return best, {"households": [int(households[best].sum()), int(households[~best].sum())]}

