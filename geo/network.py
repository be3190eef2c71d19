"""The walking network held as arrays: a symmetric CSR graph in metres plus edge geometry.

Built once per study area from line geometries whose ends meet at intersections (osmnx,
pyrosm and the synthetic district all give that). Nodes are the distinct line ends
(rounded to a centimetre); parallel edges are reduced to the shortest in the graph; both
directions are kept (pedestrians ignore one-way streets); zero-length edges are dropped
and counted. Points (homes, facilities) are snapped to the nearest *edge*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from scipy import sparse
from scipy.sparse import csgraph

from geo.crs import require_projected
from geo.errors import NetworkError
from geo.snapping import SegmentGrid, build_segment_grid, snap_to_segments


#: Where a network built by :func:`build_network` keeps its edges' coordinates (and the
#: number of each edge's) until its segment grid is built from them.
_LINES = "_edge_coordinates"


@dataclass(frozen=True)
class Snap:
    """Where points meet the network.

    ``edge`` is the index of the nearest edge (-1 where the point is farther than the
    cap), ``along_m`` the distance from the edge's ``u`` end to the foot of the
    perpendicular, and ``offset_m`` the straight walk from the point to the edge.
    """

    edge: np.ndarray
    along_m: np.ndarray
    offset_m: np.ndarray

    @property
    def on_network(self) -> np.ndarray:
        return self.edge >= 0


@dataclass(frozen=True, eq=False)
class WalkNetwork:
    """Walking network arrays; build with :func:`build_network`."""

    crs: pyproj.CRS
    node_xy: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    edge_class: np.ndarray
    graph: sparse.csr_array
    report: dict = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        return int(self.edge_u.shape[0])

    @cached_property
    def components(self) -> np.ndarray:
        """Connected-component label of every node (largest component first)."""
        _, labels = csgraph.connected_components(self.graph, directed=False)
        counts = np.bincount(labels)
        order = np.argsort(-counts, kind="stable")
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        return rank[labels]

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.edge_geometry)

    @cached_property
    def _segments(self) -> SegmentGrid:
        # the edges' coordinates read by build_network, kept until now (not read twice)
        return build_segment_grid(self.edge_geometry, lines=self.__dict__.pop(_LINES, None))

    def snap(self, xy: np.ndarray, *, max_snap_m: float = 150.0) -> Snap:
        """Snap points (``(n, 2)`` array in the network's CRS) to their nearest edge.

        Points farther than ``max_snap_m`` from every edge get ``edge = -1`` (not on the
        network) rather than being forced onto a distant street.
        """
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        n = xy.shape[0]
        edge = np.full(n, -1, dtype=np.int64)
        along = np.full(n, np.nan)
        offset = np.full(n, np.nan)
        if n == 0 or self.n_edges == 0:
            return Snap(edge, along, offset)
        edge, along, offset = snap_to_segments(self._segments, self.edge_geometry, xy,
                                               max_snap_m, tree=lambda: self._tree)
        return Snap(edge, along, offset)

    def edges_frame(self) -> gpd.GeoDataFrame:
        """The edges as a GeoDataFrame (for maps, tests and exports)."""
        return gpd.GeoDataFrame(
            {"u": self.edge_u, "v": self.edge_v, "length_m": self.edge_length_m,
             "road_class": self.edge_class},
            geometry=self.edge_geometry, crs=self.crs)


def substrings(geoms: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Vectorised ``shapely.ops.substring`` for LineStrings (``0 <= start < end <= length``)."""
    if geoms.size == 0:
        return np.empty(0, dtype=object)
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    seg = np.sqrt((np.diff(coords, axis=0) ** 2).sum(axis=1))
    same = which[1:] == which[:-1]
    step = np.where(same, seg, 0.0)
    cum = np.concatenate([[0.0], np.cumsum(step)])
    first = np.searchsorted(which, np.arange(geoms.size), side="left")
    cum = cum - cum[first][which]  # distance of every vertex from its line's start
    a = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start))
    b = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end))
    inner = (cum > start[which]) & (cum < end[which])
    n = geoms.size
    keys = np.concatenate([np.arange(n), which[inner], np.arange(n)])
    order_in_line = np.concatenate([np.full(n, -1.0), cum[inner], np.full(n, np.inf)])
    pts = np.concatenate([a, coords[inner], b])
    order = np.lexsort((order_in_line, keys))
    return shapely.linestrings(pts[order], indices=keys[order])



def build_network(lines: gpd.GeoDataFrame, *, class_column: str = "road_class",
                  precision_m: float = 0.01, source: str = "network") -> WalkNetwork:
    """Build a :class:`WalkNetwork` from walkable line geometries in a metric CRS.

    Parameters
    ----------
    lines
        One row per street segment, ends meeting at intersections; projected CRS.
    class_column
        Column holding each segment's road class (kept per edge); optional.
    precision_m
        Ends closer than this are the same node.
    source
        What the lines came from, for error messages.

    Raises
    ------
    NetworkError
        If there is no line of positive length to walk on.
    """
    require_projected(lines, what=source)
    raw = np.asarray(lines.geometry.values, dtype=object)
    valid = ~shapely.is_missing(raw)
    zero = valid & ~(shapely.length(raw) > 1e-6)
    # MultiLineStrings of one piece → LineString; other parts become edges of their own
    geoms = np.where(zero | ~valid, None, raw)
    multi = shapely.get_type_id(geoms) == 5  # line_merge is slow: only where needed
    if multi.any():
        geoms[multi] = shapely.line_merge(geoms[multi])
    parts, index = shapely.get_parts(geoms, return_index=True)
    keep = (shapely.get_type_id(parts) == 1) & (shapely.length(parts) > 1e-6)  # LineString
    parts, index = parts[keep], index[keep]
    classes = (lines[class_column].to_numpy(dtype=object)[index] if class_column in lines.columns
               else np.full(parts.size, "local", dtype=object))
    lengths = shapely.length(parts)
    if parts.size == 0:
        raise NetworkError("err.no_walkable", source=source)

    n_coords = shapely.get_num_coordinates(parts)
    coords = shapely.get_coordinates(parts)
    ends = np.cumsum(n_coords) - 1
    starts = ends - n_coords + 1
    end_xy = np.concatenate([coords[starts], coords[ends]])
    keys = np.round(end_xy / precision_m).astype(np.int64)
    # one integer per (x, y) key, ordered as the pairs are (np.unique on rows is slow)
    low = keys.min(axis=0)
    span = keys[:, 1].max() - low[1] + 1
    flat = (keys[:, 0] - low[0]) * span + (keys[:, 1] - low[1])
    _, first, inverse = np.unique(flat, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    node_xy = keys[first].astype(float) * precision_m
    m = parts.size
    u, v = inverse[:m], inverse[m:]

    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    weights = np.concatenate([lengths, lengths])
    not_loop = rows != cols
    rows, cols, weights = rows[not_loop], cols[not_loop], weights[not_loop]
    order = np.lexsort((weights, cols, rows))
    rows, cols, weights = rows[order], cols[order], weights[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    n = node_xy.shape[0]
    graph = sparse.csr_array((weights[first], (rows[first], cols[first])), shape=(n, n))

    report = {
        "zero_length_edges_dropped": int(zero.sum()),
        "parallel_edges_reduced": int((~first).sum() // 2),
        "self_loops": int((u == v).sum()),
    }
    network = WalkNetwork(
        crs=lines.crs, node_xy=node_xy, edge_u=u.astype(np.int64), edge_v=v.astype(np.int64),
        edge_length_m=lengths, edge_geometry=parts, edge_class=classes, graph=graph,
        report=report)
    # the coordinates just read, for the segment grid of the first snap (dropped then)
    network.__dict__[_LINES] = (coords, n_coords)
    labels = network.components
    report["components"] = int(labels.max() + 1) if labels.size else 0
    report["nodes_off_main_component"] = int((labels > 0).sum())
    return network
