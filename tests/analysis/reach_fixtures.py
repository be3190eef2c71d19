"""Small hand-made networks for the reach, coverage and siting tests (built in code)."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from geo.network import WalkNetwork, build_network

CRS = "EPSG:32650"


def lines_frame(segments, crs=CRS) -> gpd.GeoDataFrame:
    """Segments ``[(x0, y0, x1, y1), ...]`` (or LineStrings) as a road frame."""
    geoms = [s if isinstance(s, shapely.Geometry) else shapely.LineString([s[:2], s[2:]])
             for s in segments]
    return gpd.GeoDataFrame({"road_class": np.full(len(geoms), "local", dtype=object)},
                            geometry=geoms, crs=crs)


def lattice(nx_: int, ny: int, spacing_m: float = 100.0, *, origin=(0.0, 0.0),
            drop: float = 0.0, seed: int = 0) -> WalkNetwork:
    """A square street lattice, optionally with a share of edges removed at random."""
    rng = np.random.default_rng(seed)
    x0, y0 = origin
    segs = []
    for i in range(nx_):
        for j in range(ny):
            x, y = x0 + i * spacing_m, y0 + j * spacing_m
            if i + 1 < nx_:
                segs.append((x, y, x + spacing_m, y))
            if j + 1 < ny:
                segs.append((x, y, x, y + spacing_m))
    segs = np.asarray(segs)
    if drop:
        segs = segs[rng.random(len(segs)) >= drop]
    return build_network(lines_frame(segs))


def random_network(n_points: int, *, seed: int, k: int = 3, size_m: float = 2000.0,
                   bends: bool = True) -> WalkNetwork:
    """Random geometric graph: each point joined to some of its nearest neighbours by
    (sometimes bent) lines; sparse enough to leave islands now and then."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, size_m, (n_points, 2))
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    np.fill_diagonal(d, np.inf)
    segs = set()
    for i in range(n_points):
        for j in np.argsort(d[i])[: rng.integers(1, k + 1)]:
            segs.add((min(i, j), max(i, j)))
    lines = []
    for i, j in sorted(segs):
        a, b = pts[i], pts[j]
        if bends and rng.random() < 0.5:
            mid = (a + b) / 2 + rng.normal(0, 0.2 * np.linalg.norm(b - a), 2)
            lines.append(shapely.LineString([a, mid, b]))
        else:
            lines.append(shapely.LineString([a, b]))
    return build_network(lines_frame(lines))


def points_frame(xy, crs=CRS, **columns) -> gpd.GeoDataFrame:
    xy = np.asarray(xy, dtype=float).reshape(-1, 2)
    return gpd.GeoDataFrame(columns, geometry=shapely.points(xy), crs=crs)


def split_graph(network: WalkNetwork, attachments: dict) -> nx.MultiGraph:
    """The network as a networkx graph with extra point nodes.

    ``attachments``: ``{name: (edge, along_m, offset_m)}``; each point becomes node
    ``name`` joined by ``offset_m`` to a new node splitting its edge at ``along_m``.
    """
    g = nx.MultiGraph()
    g.add_nodes_from(range(network.n_nodes))
    by_edge: dict[int, list] = {}
    for name, (edge, along, offset) in attachments.items():
        by_edge.setdefault(int(edge), []).append((float(along), name, float(offset)))
    for e in range(network.n_edges):
        u, v, length = int(network.edge_u[e]), int(network.edge_v[e]), float(network.edge_length_m[e])
        points = sorted(by_edge.get(e, []), key=lambda item: item[0])
        prev, prev_at = u, 0.0
        for along, name, offset in points:
            along = min(max(along, 0.0), length)
            split = ("split", name)
            g.add_edge(prev, split, weight=along - prev_at)
            g.add_edge(split, name, weight=offset)
            prev, prev_at = split, along
        g.add_edge(prev, v, weight=length - prev_at)
    return g
