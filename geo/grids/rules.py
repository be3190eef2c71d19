"""The grid rule book: the one place that says what a grid's figures and flags are.

The grid stage (:func:`geo.grids.make_grids`) and every hand edit
(:mod:`geo.grids.edits`) build their grid table through :func:`grid_table`, so a grid
has the same households, band check, compactness, contiguity, arterial crossings, tower
splits, distance from its homes and reasons whichever path made it.

Rules
-----
- **Band**: a grid holds ``min ≤ households ≤ max``. A total ``W`` can be cut into grids
  all inside the band when ⌈W/max⌉ ≤ ⌊W/min⌋ (:func:`band_feasible`); a community of 0
  households needs no grid and breaks no band (:func:`community_feasible`).
- **Polygon**: the union of a grid's cells, keeping only land within
  :data:`NEAR_HOME_M` of the grid's own household units (land farther away stays in the
  community but outside every grid), unless that would cut the grid into more pieces.
- **Polsby–Popper**: 4πA/P² of the polygon (1 for a circle, 0.785 for a square).
- **Contiguity**: the polygon is one piece (pieces under :data:`SLIVER_M2` are slivers).
- **Arterial crossings**: the pieces a grid's households fall into once the grid is cut
  along every arterial road (cell boundaries of kind ``arterial``), minus one. Land
  without households attached across an arterial (a park, an empty block) is no
  crossing: nobody has to cross the road to reach the grid's homes.
- **Tower splits**: the buildings above the band (or split to fit) a grid holds part of.
- **Near homes**: the share of the polygon's area within :data:`NEAR_HOME_M` of the
  grid's own household units; flagged below :data:`NEAR_HOME_MIN`.

Reasons are stored as translation keys with parameters (:func:`encode_reasons`, a JSON
list of ``[key, params]``) and translated only where shown (:func:`reason_text`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import shapely

from geo.grids.blocks import GRID_SIZE_M
from geo.grids.float_union import unions_of
from geo.grids.nearland import cells_near_homes
from geo.grids.pieces import components

#: Holes and pieces of a grid polygon smaller than this (m²) are slivers of snapping.
SLIVER_M2 = 1.0
#: A grid keeps land within this distance (m) of its own household units.
NEAR_HOME_M = 200.0
#: Where cutting at NEAR_HOME_M would break a grid, the cut is tried this far out (m).
FAR_STEPS_M = (NEAR_HOME_M, 300.0, 400.0, 600.0)
#: Grids with less of their area near their homes than this are flagged.
NEAR_HOME_MIN = 0.8
#: Shared grid boundaries are straightened where that removes steps up to about this (m):
#: the staircases of a 40 m lattice of estimated homes become straight lines.
STRAIGHTEN_M = 30.0
#: Columns of the grid table (CONTRACT.md plus the checks of issues 3, 11 and 14).
GRID_COLUMNS = ("grid_id", "community_id", "name", "locked", "households", "in_band",
                "polsby_popper", "contiguous", "arterial_crossings", "n_units",
                "split_buildings", "near_home_share", "reason", "reason_key")

from geo.grids.reasons import Reason  # noqa: E402


# --------------------------------------------------------------------------- band

def grid_count_range(total: int, band: tuple[int, int]) -> range:
    """Grid counts k with every grid inside the band ``(low, high)`` possible by
    arithmetic: ⌈W/high⌉ ≤ k ≤ ⌊W/low⌋ (empty when the total cannot meet the band)."""
    low, high = band
    if total <= 0:
        return range(0)
    return range(math.ceil(total / high), total // low + 1)


def band_feasible(total: int, band: tuple[int, int]) -> bool:
    """Whether ``total`` (> 0) households can be cut into grids all inside the band."""
    return len(grid_count_range(total, band)) > 0


def forced_crossing(face_totals: tuple[int, ...], band: tuple[int, int]) -> bool:
    """Whether a grid whose homes lie in arterial faces of these totals may cross: it
    joins faces and one of them cannot meet the band on its own (else it is avoidable)."""
    return len(face_totals) > 1 and not all(band_feasible(int(t), band) for t in face_totals)


def band_class(households, band: tuple[int, int]):
    """``below``, ``in`` or ``above`` the household band (a Series per grid, or one
    count): the band's classes, for the grid table, the map's colours and the tables."""
    low, high = band
    if isinstance(households, pd.Series):
        out = np.where(households < low, "below", np.where(households > high, "above", "in"))
        return pd.Series(out, index=households.index)
    return "below" if households < low else "above" if households > high else "in"


def flagged(grids: pd.DataFrame) -> pd.Series:
    """The grids a planner must look at: outside the band, in pieces, or crossed by an
    arterial road (a locked grid is not flagged for being locked). Columns the table
    lacks count as fine."""
    def column(name: str, fine: int) -> pd.Series:
        return grids.get(name, pd.Series(fine, index=grids.index)).astype(int)
    return ((column("in_band", 1) == 0) | (column("contiguous", 1) == 0)
            | (column("arterial_crossings", 0) > 0))


def community_feasible(total: int, band: tuple[int, int]) -> bool:
    """Whether a community's grids can all lie inside the band: a community without
    households needs no grid, so it breaks no band."""
    return total == 0 or band_feasible(int(total), band)


def nearest_grid_count(total: int, band: tuple[int, int]) -> int:
    """For a total that cannot meet the band: the grid count whose (even) grids miss the
    band by the least households (ties: fewer grids)."""
    low, high = band
    if total <= 0:
        return 0
    best, best_miss = 1, math.inf
    for k in range(1, max(1, total // max(1, low)) + 2):
        size = total / k
        miss = max(0.0, size - high, low - size)
        if miss < best_miss - 1e-9:
            best, best_miss = k, miss
    return best


def infeasible_reason(total: int, band: tuple[int, int]) -> Reason:
    """The reason of a total that cannot meet the band (key and parameters)."""
    low, high = band
    k = nearest_grid_count(total, band)
    if total < low:
        return "grid.reason.too_few", {"households": int(total), "min": low}
    fewer = total // low  # this many grids would be too big
    return "grid.reason.gap", {"households": int(total), "min": low,
                               "max": high, "k_low": int(fewer), "k_high": int(fewer + 1),
                               "k": int(k), "size": round(total / k)}


# --------------------------------------------------------------------------- geometry

def clean(geom: shapely.Geometry) -> shapely.Geometry:
    """Drop snapping slivers: tiny pieces and tiny holes."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > SLIVER_M2]
    if not parts:
        return geom
    fixed = []
    for p in parts:
        holes = [r for r in p.interiors if shapely.area(shapely.Polygon(r)) > SLIVER_M2]
        fixed.append(shapely.Polygon(p.exterior, holes))
    return fixed[0] if len(fixed) == 1 else shapely.MultiPolygon(fixed)


def compactness(area: np.ndarray, perim: np.ndarray) -> np.ndarray:
    """Polsby–Popper compactness 4πA/P² of areas and perimeters (1 for a circle, 0.785
    for a square, 0 without a perimeter): the one formula, also for shapes the grid
    improvement only measures (cells' areas and shared edges), never draws."""
    return np.where(perim > 0, 4 * np.pi * area / np.maximum(perim, 1e-9) ** 2, 0.0)


def compactness_one(area: float, perim: float) -> float:
    """:func:`compactness` of one shape, on scalars (the same arithmetic, bit for bit;
    the grid improvement scores many single cuts and numpy's per-call cost dominates)."""
    if not perim > 0:
        return 0.0
    p = max(perim, 1e-9)
    return float(4 * np.pi * area / (p * p))


def polsby_popper(geoms: np.ndarray) -> np.ndarray:
    """Polsby–Popper compactness of geometries (see :func:`compactness`)."""
    return compactness(shapely.area(geoms), shapely.length(geoms))


def n_pieces(geom: shapely.Geometry) -> int:
    """Pieces of a polygon larger than a sliver (contiguous ⇔ 1)."""
    parts = shapely.get_parts(geom)
    return int((shapely.area(parts) > SLIVER_M2).sum())


def near_homes(homes_xy: np.ndarray, distance_m: float = NEAR_HOME_M) -> shapely.Geometry:
    """Land within ``distance_m`` of some household unit (points as ``n × 2``)."""
    if len(homes_xy) == 0:
        return shapely.Polygon()
    return shapely.buffer(shapely.multipoints(homes_xy), distance_m, quad_segs=4)


def grid_polygon(cell_geoms: np.ndarray, homes_xy: np.ndarray,
                 home_land: shapely.Geometry | None = None,
                 union: shapely.Geometry | None = None) -> tuple[shapely.Geometry, float]:
    """A grid's polygon from its cells and its homes, and the share of its area within
    :data:`NEAR_HOME_M` of them.

    The polygon is the union of the cells, less land beyond :data:`NEAR_HOME_M` of the
    grid's own household units; where cutting that land off would leave more pieces
    (homes joined only through far land), the cut is made farther out
    (:data:`FAR_STEPS_M`), else not at all. ``home_land``: land that is itself homes (the
    cells of the parts of a building split into several grids: a grid made from part of a
    building is, by construction, at its homes), counted as near; ``union``: theirs, if drawn."""
    whole = clean(shapely.union_all(cell_geoms, grid_size=GRID_SIZE_M) if union is None else union)
    if (len(homes_xy) == 0 and home_land is None) or shapely.is_empty(whole):
        return whole, 0.0

    def reach_of(distance_m: float) -> shapely.Geometry:
        land = near_homes(homes_xy, distance_m)
        return land if home_land is None else shapely.union(land, home_land)

    if cells_near_homes(cell_geoms, homes_xy, NEAR_HOME_M):
        return whole, 1.0  # as shapely.covers(near, whole) finds, without drawing ``near``
    near = reach_of(NEAR_HOME_M)
    area = shapely.area(whole)
    if area <= 0 or shapely.covers(near, whole):
        return whole, 1.0
    pieces = n_pieces(whole)
    for distance in FAR_STEPS_M:
        reach = near if distance == NEAR_HOME_M else reach_of(distance)
        clipped = clean(shapely.intersection(whole, reach, grid_size=GRID_SIZE_M))
        if shapely.area(clipped) > 0 and n_pieces(clipped) <= pieces:
            if distance == NEAR_HOME_M:
                return clipped, 1.0
            whole = clipped
            break
    share = shapely.area(shapely.intersection(whole, near)) / max(shapely.area(whole), 1e-9)
    return whole, float(min(1.0, share))


def straighten(shapes: list, homes: list[np.ndarray]) -> list:
    """One community's grid polygons with their shared boundaries straightened: a
    coverage simplification (each shared edge simplified once, for both grids, so no gap
    or overlap appears; outer edges kept) by :data:`STRAIGHTEN_M`, or by half, a quarter
    of it where a home would leave its grid, a grid would break into more pieces, or the
    grids would stop tiling; unchanged where even that does."""
    return straighten_covering(shapes, homes)[0]


def straighten_covering(shapes: list, homes: list[np.ndarray]) -> tuple[list, float | None]:
    """:func:`straighten`, and the area of the union of its polygons when the check drew
    that union (``shapely.area(shapely.union_all(polygons))``; None when it did not)."""
    if len(shapes) < 2:
        return shapes, None
    for tolerance in (STRAIGHTEN_M, STRAIGHTEN_M / 2, STRAIGHTEN_M / 4):
        out = _straightened(shapes, homes, tolerance)
        if out is not None:
            return out
    return shapes, None


def _straightened(shapes: list, homes: list[np.ndarray], tolerance: float
                  ) -> tuple[list, float] | None:
    """:func:`straighten_covering` by one tolerance (``None``: it breaks a rule)."""
    arr = np.asarray(shapes, dtype=object)
    try:
        out = shapely.coverage_simplify(arr, tolerance, simplify_boundary=False)
    except shapely.errors.GEOSException:
        return None
    if not shapely.is_valid(out).all() or shapely.is_empty(out).any():
        return None
    # the cheap checks first: a home left out is what fails (the union, a third of the
    # time, is then drawn only for an answer that passes them)
    at = np.repeat(np.arange(len(homes)), [len(xy) for xy in homes])
    if at.size and not shapely.covers(out[at], shapely.points(np.concatenate(homes))).all():
        return None
    pieces = [np.bincount(at[shapely.area(p) > SLIVER_M2], minlength=len(arr))
              for p, at in (shapely.get_parts(a, return_index=True) for a in (arr, out))]
    if (pieces[1] > pieces[0]).any():
        return None
    area = shapely.area(arr)
    covered = shapely.area(shapely.union_all(out))
    if abs(covered - area.sum()) > 1e-6 * max(area.sum(), 1.0):
        return None  # an overlap appeared: not a coverage
    return list(out), float(covered)


# --------------------------------------------------------------------------- graph

def crossings(labels: np.ndarray, w: np.ndarray, ei: np.ndarray, ej: np.ndarray,
              arterial: np.ndarray) -> np.ndarray:
    """Arterial crossings of every label ``0…max``: the pieces its cells with households
    fall into when cut along every arterial edge, minus one (``-1`` labels: no grid)."""
    n = len(labels)
    k = int(labels.max(initial=-1)) + 1
    keep = (labels[ei] == labels[ej]) & (labels[ei] >= 0) & ~arterial
    piece = components(n, ei[keep], ej[keep])
    homes = (labels >= 0) & (w > 0)
    pairs = np.unique(labels[homes].astype(np.int64) * n + piece[homes])  # (label, piece)
    return np.maximum(np.bincount(pairs // n, minlength=k) - 1, 0) if len(pairs) \
        else np.zeros(k, dtype=np.int64)


# --------------------------------------------------------------------------- cells

@dataclass(frozen=True, eq=False)
class CellTable:
    """What the rule book reads: cells (fixed shapes), their households and homes, and
    which neighbouring cells an arterial road separates.

    ``homes`` is the ``n × 2`` location of each cell's household unit (NaN for cells
    without one); ``ei``, ``ej`` are neighbouring cell positions and ``arterial`` marks
    the pairs separated by an arterial road (``kind == 'arterial'`` of
    :func:`geo.grids.blocks.cell_adjacency`)."""

    geoms: np.ndarray
    households: np.ndarray
    unit: np.ndarray
    community: np.ndarray
    part_of: np.ndarray
    homes: np.ndarray
    ei: np.ndarray
    ej: np.ndarray
    arterial: np.ndarray

    @classmethod
    def of(cls, cells: pd.DataFrame, edges: pd.DataFrame) -> CellTable:
        """From a cell table (``unit_id``, ``households``, ``community_id``, optional
        ``part_of``, ``home_x``/``home_y``) and an adjacency table (``i``, ``j``,
        ``kind``)."""
        n = len(cells)
        part = cells["part_of"].to_numpy(dtype=object) if "part_of" in cells \
            else np.full(n, None, dtype=object)
        homes = np.column_stack([cells["home_x"].to_numpy(dtype=float),
                                 cells["home_y"].to_numpy(dtype=float)]) if "home_x" in cells \
            else np.full((n, 2), np.nan)
        return cls(geoms=cells.geometry.to_numpy(),
                   households=cells["households"].to_numpy(dtype=np.int64),
                   unit=pd.notna(cells["unit_id"].to_numpy()),
                   community=cells["community_id"].astype(str).to_numpy(),
                   part_of=np.array([p if isinstance(p, str) and p else None for p in part],
                                    dtype=object),
                   homes=homes, ei=edges["i"].to_numpy(dtype=np.int64),
                   ej=edges["j"].to_numpy(dtype=np.int64),
                   arterial=(edges["kind"] == "arterial").to_numpy())

    @property
    def n(self) -> int:
        return len(self.households)

    @cached_property
    def _same_community(self) -> np.ndarray:
        return self.community[self.ei] == self.community[self.ej]

    @cached_property
    def face(self) -> np.ndarray:
        """Area enclosed by arterial roads (within one community) of each cell."""
        keep = self._same_community & ~self.arterial
        return components(self.n, self.ei[keep], self.ej[keep])

    @cached_property
    def piece(self) -> np.ndarray:
        """Connected piece of its community each cell lies in."""
        keep = self._same_community
        return components(self.n, self.ei[keep], self.ej[keep])

    @cached_property
    def face_total(self) -> np.ndarray:
        return np.bincount(self.face, weights=self.households, minlength=self.n).astype(np.int64)

    @cached_property
    def piece_total(self) -> np.ndarray:
        return np.bincount(self.piece, weights=self.households, minlength=self.n).astype(np.int64)

    @cached_property
    def _polygons(self) -> dict[bytes, tuple[shapely.Geometry, float]]:
        return {}

    @cached_property
    def _straight(self) -> dict[tuple[bytes, ...], list]:
        """Straightened polygons of a community's grids (by their cells), drawn ahead."""
        return {}

    def polygon(self, idx: np.ndarray, homes_xy: np.ndarray) -> tuple[shapely.Geometry, float]:
        """:func:`grid_polygon` of the cells ``idx`` (sorted positions), remembered: cells
        never change, so a grid an edit did not touch is not drawn again."""
        return self.polygons([(idx, homes_xy)])[0]

    def polygons(self, grids: list[tuple[np.ndarray, np.ndarray]]) -> list:
        """:meth:`polygon` of each ``(idx, homes_xy)``, the cells' unions drawn at once
        (:meth:`geo.grids.float_union.CellUnions.unions`: the same geometries)."""
        keys = [idx.tobytes() for idx, _ in grids]
        new = {key: k for k, key in enumerate(keys) if key not in self._polygons}
        unions = unions_of(self)
        drawn = unions.unions([grids[k][0] for k in new.values()]) if new else []
        for (key, k), whole in zip(new.items(), drawn):
            idx, homes_xy = grids[k]
            parts = idx[self.part_of[idx] != None]  # noqa: E711 - object array
            land = unions.union(parts) if parts.size else None
            self._polygons[key] = grid_polygon(self.geoms[idx], homes_xy, land, whole)
        return [self._polygons[key] for key in keys]

    @cached_property
    def community_total(self) -> dict[str, int]:
        return pd.Series(self.households).groupby(self.community).sum().astype(int).to_dict()


# --------------------------------------------------------------------------- reasons

@dataclass(frozen=True)
class GridFacts:
    """The figures of one grid that its reasons depend on."""

    households: int
    locked: bool
    pieces: int
    crossings: int
    split_buildings: int
    near_home_share: float
    community_total: int
    piece_totals: tuple[int, ...]   # households of the community pieces its homes lie in
    face_totals: tuple[int, ...]    # households of the arterial faces its homes lie in


def grid_reasons(f: GridFacts, band: tuple[int, int]) -> list[Reason]:
    """Every flag of a grid, with its reason (key and parameters), in a fixed order."""
    low, high = band
    out: list[Reason] = []
    if f.locked:
        out.append(("grid.reason.locked", {}))
    if band_class(f.households, band) != "in":
        short = [p for p in f.piece_totals if not band_feasible(p, band)]
        if not community_feasible(f.community_total, band):
            out.append(infeasible_reason(f.community_total, band))
        elif short:
            out.append(infeasible_reason(min(short), band))
        elif f.households < low:
            out.append(("grid.reason.below", {"households": f.households, "min": low}))
        else:
            out.append(("grid.reason.above", {"households": f.households, "max": high}))
    if f.crossings:
        if forced_crossing(f.face_totals, band):
            small = min(t for t in f.face_totals if not band_feasible(t, band))
            out.append(("grid.reason.arterial", {"households": small, "min": low, "max": high}))
        elif len(f.face_totals) > 1:
            out.append(("grid.reason.arterial_count", {"count": f.crossings}))
        else:
            out.append(("grid.reason.arterial_end", {"min": low, "max": high}))
    if f.split_buildings:
        out.append(("grid.reason.split", {"count": f.split_buildings, "max": high}))
    if f.pieces != 1:
        out.append(("grid.reason.pieces", {"parts": f.pieces}))
    if f.near_home_share < NEAR_HOME_MIN:
        out.append(("grid.reason.far_from_homes", {"share": round(100 * f.near_home_share),
                                                   "m": round(NEAR_HOME_M)}))
    return out


def shared_buildings(part_of: Iterable, all_parts: Counter) -> int:
    """Buildings whose parts lie in this grid (``part_of`` of its cells) and in another
    (``all_parts``: parts per building in the whole table): a building whose parts all
    stay in one grid was not split between grids and earns no note."""
    mine = Counter(p for p in part_of if p is not None)
    return sum(1 for p, n in mine.items() if n < all_parts.get(p, n))


def attrs_of(grids: pd.DataFrame) -> dict[str, dict]:
    """``{grid_id: {"name", "locked"}}`` of a grid table."""
    names = grids["name"] if "name" in grids else pd.Series("", index=grids.index)
    locked = grids["locked"] if "locked" in grids else pd.Series(False, index=grids.index)
    return {str(g): {"name": "" if pd.isna(n) else str(n),
                     "locked": bool(x) if pd.notna(x) else False}
            for g, n, x in zip(grids["grid_id"], names, locked)}
