"""The machinery behind :mod:`geo.walls`: the network cut at outlines, access points and
the directed walled graph (the rule itself is documented in :mod:`geo.walls`)."""

from __future__ import annotations

import hashlib

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from scipy import sparse

from geo.crs import WGS84
from geo.kept import kept
from geo.network import WalkNetwork, substrings
from geo.snapping import build_segment_grid, snap_to_segments


def midpoints(geoms: np.ndarray) -> np.ndarray:
    """The point halfway along each LineString, ``(n, 2)`` (numpy, no shapely call per line)."""
    coords, which = shapely.get_coordinates(geoms, return_index=True)
    n = geoms.size
    seg = np.hypot(*np.diff(coords, axis=0).T)
    seg = np.where(which[1:] == which[:-1], seg, 0.0)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    first = np.searchsorted(which, np.arange(n))
    last = np.searchsorted(which, np.arange(n), side="right") - 1
    half = (cum[first] + cum[last]) / 2
    k = np.clip(np.searchsorted(cum, half, side="right") - 1, first, np.maximum(last - 1, first))
    span = cum[k + 1] - cum[k]
    f = np.where(span > 0, (half - cum[k]) / np.where(span > 0, span, 1.0), 0.0)
    nxt = np.minimum(k + 1, coords.shape[0] - 1)
    return coords[k] + f[:, None] * (coords[nxt] - coords[k])


def cut_at_outlines(network: WalkNetwork, polygons: np.ndarray) -> WalkNetwork:
    """The network with every edge cut where it meets an outline (same CRS, classes kept)."""
    geoms = network.edge_geometry
    outlines = shapely.boundary(polygons)
    # the few outlines prepared for the test, not the many edges
    o_idx, e_idx = shapely.STRtree(geoms).query(outlines, predicate="intersects")
    cuts_e, cuts_at = [], []
    if e_idx.size:
        hits = shapely.intersection(geoms[e_idx], outlines[o_idx])
        pts, which = shapely.get_coordinates(hits, return_index=True)
        if pts.size:
            edge = e_idx[which]
            at = shapely.line_locate_point(geoms[edge], shapely.points(pts))
            length = network.edge_length_m[edge]
            inner = (at > 0.05) & (at < length - 0.05)
            cuts_e.append(edge[inner])
            cuts_at.append(at[inner])
    if not cuts_e or sum(c.size for c in cuts_e) == 0:
        return network
    edge = np.concatenate(cuts_e)
    at = np.concatenate(cuts_at)
    order = np.lexsort((at, edge))
    edge, at = edge[order], at[order]
    keep = np.ones(edge.size, dtype=bool)
    keep[1:] = (edge[1:] != edge[:-1]) | (at[1:] - at[:-1] > 0.05)
    edge, at = edge[keep], at[keep]
    return _split_edges(network, edge, at)


def cut_network(network: WalkNetwork, polygons: np.ndarray) -> tuple[WalkNetwork, np.ndarray]:
    """:func:`cut_at_outlines` and :func:`inner_owner` of the cut network, kept on
    ``network`` per set of outlines (by content): a gate added or closed, a compound opened
    or the walls turned off leave the outlines cut as they are (opened compounds are cut
    too), so the cut network, with the snap grid and components made on it, is made once
    per area."""
    if polygons.size == 0:
        return network, inner_owner(network, polygons)
    key = ("cut", hashlib.blake2b(b"".join(shapely.to_wkb(polygons)), digest_size=16).digest())

    def make() -> tuple[WalkNetwork, np.ndarray]:
        net = cut_at_outlines(network, polygons)
        return net, inner_owner(net, polygons)

    net, owner = kept(network, key, make)
    return net, owner.copy()


def _split_edges(network: WalkNetwork, edge: np.ndarray, at: np.ndarray) -> WalkNetwork:
    """The network with edge ``edge[k]`` cut at ``at[k]`` metres (sorted by edge, then at);
    each cut point becomes a new node (the rest of the network is kept as it is)."""
    n = network.n_nodes
    geoms = network.edge_geometry
    cut_id = n + np.arange(edge.size)
    cut_xy = shapely.get_coordinates(shapely.line_interpolate_point(geoms[edge], at))
    cut = np.unique(edge)
    first = np.searchsorted(edge, cut)
    count = np.searchsorted(edge, cut, side="right") - first
    # pieces [0, a1], [a1, a2], ..., [ak, L] of each cut edge, as (start, end) metres and nodes
    piece_edge = np.repeat(cut, count + 1)
    j = np.arange(piece_edge.size) - np.repeat(np.cumsum(count + 1) - (count + 1), count + 1)
    last = j == np.repeat(count, count + 1)
    base = np.repeat(first, count + 1)
    prev = np.maximum(base + j - 1, 0)
    nxt = np.minimum(base + j, edge.size - 1)
    start_m = np.where(j == 0, 0.0, at[prev])
    end_m = np.where(last, network.edge_length_m[piece_edge], at[nxt])
    start_n = np.where(j == 0, network.edge_u[piece_edge], cut_id[prev])
    end_n = np.where(last, network.edge_v[piece_edge], cut_id[nxt])
    pieces = substrings(geoms[piece_edge], start_m, end_m)
    uncut = np.ones(network.n_edges, dtype=bool)
    uncut[cut] = False
    whole = np.flatnonzero(uncut)  # (np.setdiff1d's answer, without its sorts)
    u = np.concatenate([network.edge_u[whole], start_n]).astype(np.int64)
    v = np.concatenate([network.edge_v[whole], end_n]).astype(np.int64)
    length = np.concatenate([network.edge_length_m[whole], end_m - start_m])
    size = n + edge.size
    loop = u == v
    graph = _min_csr(np.concatenate([u, v])[np.concatenate([~loop, ~loop])],
                     np.concatenate([v, u])[np.concatenate([~loop, ~loop])],
                     np.concatenate([length, length])[np.concatenate([~loop, ~loop])], size)
    out = WalkNetwork(
        crs=network.crs, node_xy=np.concatenate([network.node_xy, np.round(cut_xy, 2)]),
        edge_u=u, edge_v=v, edge_length_m=length,
        edge_geometry=np.concatenate([geoms[whole], pieces]),
        edge_class=np.concatenate([network.edge_class[whole], network.edge_class[piece_edge]]),
        graph=graph, report={**network.report, "cut_at_walls": int(edge.size)})
    # cutting an edge joins nothing new: a cut point lies in its edge's piece of network
    labels = network.components
    out.__dict__["components"] = np.concatenate([labels, labels[network.edge_u[edge]]])
    return out


def edge_grid(net: WalkNetwork, mask: np.ndarray, part: str = "outside"
              ) -> tuple[np.ndarray, np.ndarray, object]:
    """Ids, geometries and segment grid of the edges ``mask`` (``part``: ``outside`` or
    ``inner``), kept on the cut network per set of edges: the access points, the assumed
    gates and the snapping of homes and facilities share them, and so does a gate edit."""

    def make() -> tuple[np.ndarray, np.ndarray, object]:
        ids = np.flatnonzero(mask)
        geoms = net.edge_geometry[ids]
        return ids, geoms, build_segment_grid(geoms) if ids.size else None
    return kept(net, (part, np.packbits(mask).tobytes()), make, entries=3)


def gate_points(gates: gpd.GeoDataFrame | None, crs) -> np.ndarray:
    if gates is None or len(gates) == 0:
        return np.zeros((0, 2))
    g = gates.to_crs(crs)
    geoms = g.geometry.to_numpy()
    geoms = geoms[~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)]
    return shapely.get_coordinates(shapely.point_on_surface(geoms))


def wgs84_to(points: tuple, crs) -> np.ndarray:
    if not points:
        return np.zeros((0, 2))
    xy = np.asarray(points, dtype=float)
    x, y = pyproj.Transformer.from_crs(WGS84, crs, always_xy=True).transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def node_roles(net: WalkNetwork, edge_owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``inner_of`` (compound of nodes all of whose edges are its inner paths, else -1) and
    the (node, compound) pairs where inner paths meet anything else (access nodes)."""
    n = net.n_nodes
    ends = np.concatenate([net.edge_u, net.edge_v])
    owner = np.concatenate([edge_owner, edge_owner])
    width = int(owner.max(initial=0)) + 2
    flat = np.unique(ends * width + owner + 1)
    pairs = np.column_stack([flat // width, flat % width - 1])
    kinds = np.bincount(pairs[:, 0], minlength=n)
    inner_of = np.full(n, -1, dtype=np.int64)
    single = pairs[(kinds[pairs[:, 0]] == 1) & (pairs[:, 1] >= 0)]
    inner_of[single[:, 0]] = single[:, 1]
    access = pairs[(kinds[pairs[:, 0]] > 1) & (pairs[:, 1] >= 0)]
    return inner_of, access


def access_points(net, polys, edge_owner, gate_xy, added_xy, settings, max_snap_m):
    cols = ["compound", "x", "y", "origin", "node", "edge", "along_m", "offset_m"]
    if polys.size == 0:
        return pd.DataFrame({c: [] for c in cols}).astype(
            {"compound": np.int64, "node": np.int64, "edge": np.int64})
    _, pairs = node_roles(net, edge_owner)
    node, comp = pairs[:, 0], pairs[:, 1]
    xy = net.node_xy[node]
    # where each access node meets the outside network: an incident non-inner edge
    outside = np.flatnonzero(edge_owner < 0)
    e_of = np.full(net.n_nodes, -1, dtype=np.int64)
    along_of = np.zeros(net.n_nodes)
    e_of[net.edge_v[outside]] = outside
    along_of[net.edge_v[outside]] = net.edge_length_m[outside]
    e_of[net.edge_u[outside]] = outside
    along_of[net.edge_u[outside]] = 0.0
    origin = np.full(node.size, "inferred", dtype=object)
    used_gate = np.zeros(gate_xy.shape[0], dtype=bool)
    if gate_xy.shape[0] and node.size:
        from scipy.spatial import cKDTree

        pairs = cKDTree(xy).query_ball_tree(cKDTree(gate_xy), r=settings.gate_match_m)
        hit = np.array([len(p) > 0 for p in pairs], dtype=bool)
        origin[hit] = "mapped"
        used = [g for p in pairs for g in p]
        used_gate[np.asarray(used, dtype=np.int64)] = True
    frame = pd.DataFrame({"compound": comp, "x": xy[:, 0], "y": xy[:, 1], "origin": origin,
                          "node": node, "edge": e_of[node], "along_m": along_of[node],
                          "offset_m": 0.0})
    extra = [(gate_xy[~used_gate], "mapped"), (added_xy, "added")]
    rows, ignored, why = [], {}, []
    outlines = shapely.boundary(polys)
    tree = shapely.STRtree(outlines)
    for pts, kind in extra:
        if pts.shape[0] == 0:
            ignored[kind] = 0
            continue
        points = shapely.points(pts)
        (src, tgt), dist = tree.query_nearest(points, max_distance=settings.gate_outline_m,
                                              return_distance=True, all_matches=False)
        ignored[kind] = int(pts.shape[0] - np.unique(src).size)
        if kind == "mapped":
            far = np.setdiff1d(np.arange(pts.shape[0]), src)
            why += [(float(x), float(y), "far_from_wall") for x, y in pts[far]]
        if src.size == 0:
            continue
        on = shapely.get_coordinates(shapely.line_interpolate_point(
            outlines[tgt], shapely.line_locate_point(outlines[tgt], points[src])))
        # joined to the nearest street outside every wall
        ids = outside
        if ids.size == 0:
            continue
        _, geoms, grid = edge_grid(net, edge_owner < 0)
        e, a, o = snap_to_segments(grid, geoms, on, max_snap_m)
        ok = e >= 0
        ignored[kind] += int((~ok).sum())
        if kind == "mapped":
            why += [(float(x), float(y), "no_street") for x, y in pts[src[~ok]]]
        rows.append(pd.DataFrame({"compound": tgt[ok], "x": on[ok, 0], "y": on[ok, 1],
                                  "origin": kind, "node": -1, "edge": ids[e[ok]],
                                  "along_m": a[ok], "offset_m": o[ok]}))
    frame = pd.concat([frame, *rows], ignore_index=True) if rows else frame
    usable = frame["edge"].to_numpy() >= 0  # no street outside: unusable
    frame = (frame if usable.all() else frame[usable]).reset_index(drop=True)
    for col in ("compound", "node", "edge"):  # (setting a column costs more than checking it)
        if frame[col].dtype != np.int64:
            frame[col] = frame[col].astype(np.int64)
    frame.attrs["gates_ignored"] = ignored.get("mapped", 0)
    frame.attrs["added_ignored"] = ignored.get("added", 0)
    frame.attrs["gates_ignored_why"] = why
    return frame


def close_access(access: pd.DataFrame, closed_xy: np.ndarray, match_m: float) -> pd.DataFrame:
    """Remove the access point nearest to each closed point (within ``match_m``)."""
    attrs = dict(access.attrs)
    if closed_xy.shape[0] == 0 or len(access) == 0:
        access.attrs.update(attrs | {"closed": 0})
        return access
    axy = access[["x", "y"]].to_numpy()
    d = np.hypot(*(closed_xy[:, None, :] - axy[None, :, :]).transpose(2, 0, 1))
    pick = np.argmin(d, axis=1)
    hit = np.unique(pick[d[np.arange(pick.size), pick] <= match_m])
    out = access.drop(index=access.index[hit]).reset_index(drop=True)
    out.attrs.update(attrs | {"closed": int(hit.size)})
    return out


def _min_csr(rows, cols, weights, n) -> sparse.csr_array:
    """Directed CSR keeping the lightest of parallel arcs (zeros stay arcs)."""
    pair = rows.astype(np.int64) * n + cols
    order = np.argsort(pair, kind="stable")
    pair, weights = pair[order], weights[order]
    first = np.flatnonzero(np.concatenate([[True], pair[1:] != pair[:-1]]))
    light = np.fmin.reduceat(weights, first) if first.size else weights[:0]
    rows, cols = np.divmod(pair[first], n)
    return sparse.csr_array((light, (rows, cols)), shape=(n, n))


def enter_ends(net: WalkNetwork, edge_owner: np.ndarray, access: pd.DataFrame,
               walled: np.ndarray):
    """Graph node at each end of each edge as walked from inside (the enter layer), the
    inner copy of every open crossing access point, and the first free node id.

    ``edge_owner``: the walled compound of each inner path (-1 elsewhere, also for the
    paths of opened compounds); ``walled``: whether each access point's compound is
    walled (an opened compound's crossing is its own inside: ``access["inside"]`` is the
    node itself, no copy).

    Ids: the network's nodes, then one inner copy per (access node, compound), then the
    virtual nodes of gates with no way through (set in ``access["node"]`` here)."""
    n = net.n_nodes
    inner_of, pairs = node_roles(net, edge_owner)
    width = int(edge_owner.max(initial=0)) + 2
    key = pairs[:, 0] * width + pairs[:, 1]
    order = np.argsort(key)

    def copy_of(node, comp):
        pos = np.searchsorted(key[order], node * width + comp)
        return n + order[np.minimum(pos, max(order.size - 1, 0))]

    u, v = net.edge_u, net.edge_v
    inner = edge_owner >= 0
    enter_u, enter_v = u.copy(), v.copy()
    for ends, out in ((u, enter_u), (v, enter_v)):
        shared = inner & (inner_of[ends] < 0)
        if shared.any():
            out[shared] = copy_of(ends[shared], edge_owner[shared])
    nodes = access["node"].to_numpy().astype(np.int64)
    crossing = nodes >= 0
    inside = np.full(nodes.size, -1, dtype=np.int64)
    copied = crossing & walled
    if copied.any():
        inside[copied] = copy_of(nodes[copied], access["compound"].to_numpy()[copied])
    inside[crossing & ~walled] = nodes[crossing & ~walled]
    size = n + pairs.shape[0]
    virtual = np.flatnonzero(~crossing)
    nodes[virtual] = size + np.arange(virtual.size)
    access["node"] = nodes
    access["inside"] = inside
    return enter_u, enter_v, size + virtual.size, int(pairs.shape[0])


def walled_graph(net: WalkNetwork, edge_owner: np.ndarray, access: pd.DataFrame,
                 enter_u: np.ndarray, enter_v: np.ndarray, size: int,
                 exit_compounds: np.ndarray) -> tuple[sparse.csr_array, np.ndarray]:
    """The directed walled graph and the exit copy of each node (-1: none).

    Exit copies (the layer a trip starting inside a compound leaves by) are made only for
    ``exit_compounds`` (those holding a facility): the others need none, and the graph
    stays small."""
    u, v, length = net.edge_u, net.edge_v, net.edge_length_m
    inner = edge_owner >= 0
    rows = [enter_u, enter_v]
    cols = [enter_v, enter_u]
    w = [length, length]
    nodes = access["node"].to_numpy().astype(np.int64)
    inside = access["inside"].to_numpy().astype(np.int64)
    crossing = inside >= 0
    copied = crossing & (inside != nodes)  # walled: an inner copy; opened: the node itself
    rows.append(nodes[copied])  # in through every open access point
    cols.append(inside[copied])
    w.append(np.zeros(int(copied.sum())))
    out_of = inner & np.isin(edge_owner, exit_compounds)
    layer_nodes = np.unique(np.concatenate([enter_u[out_of], enter_v[out_of]]))
    exit_node = np.full(size + layer_nodes.size, -1, dtype=np.int64)
    exit_node[layer_nodes] = size + np.arange(layer_nodes.size)
    if out_of.any():
        xu, xv = exit_node[enter_u[out_of]], exit_node[enter_v[out_of]]
        rows += [xu, xv]
        cols += [xv, xu]
        w += [length[out_of], length[out_of]]
        leave = copied & np.isin(access["compound"].to_numpy(), exit_compounds)
        leave &= exit_node[np.maximum(inside, 0)] >= 0
        rows.append(exit_node[inside[leave]])
        cols.append(nodes[leave])
        w.append(np.zeros(int(leave.sum())))
    virtual = np.flatnonzero(~crossing)
    if virtual.size:  # gates with no way through: joined to both ends of a street outside
        g = nodes[virtual]
        e = access["edge"].to_numpy()[virtual]
        along = np.clip(access["along_m"].to_numpy()[virtual], 0.0, length[e])
        off = access["offset_m"].to_numpy()[virtual]
        a_u, a_v = off + along, off + length[e] - along
        rows += [g, u[e], g, v[e]]
        cols += [u[e], g, v[e], g]
        w += [a_u, a_u, a_v, a_v]
    graph = _min_csr(np.concatenate(rows), np.concatenate(cols), np.concatenate(w),
                     exit_node.size)
    return graph, exit_node


def inner_owner(net: WalkNetwork, polygons: np.ndarray) -> np.ndarray:
    """Position of the walled outline each edge runs inside (its middle more than 5 cm
    inside the outline), -1 for edges outside or along an outline, and for public streets
    (``edge_class == 'arterial'``)."""
    owner = np.full(net.n_edges, -1, dtype=np.int64)
    if polygons.size == 0 or net.n_edges == 0:
        return owner
    mid = midpoints(net.edge_geometry)
    owner = compound_of(polygons, mid)
    hit = np.flatnonzero(owner >= 0)
    if hit.size:  # along an outline is outside
        near = shapely.dwithin(shapely.boundary(polygons)[owner[hit]],
                               shapely.points(mid[hit]), 0.05)
        owner[hit[near]] = -1
    owner[net.edge_class == "arterial"] = -1  # public streets stay public
    return owner


def compound_of(polygons: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Position in ``polygons`` of the first polygon holding each point (-1: none)."""
    out = np.full(xy.shape[0], -1, dtype=np.int64)
    if polygons.size == 0 or xy.shape[0] == 0:
        return out
    finite = np.flatnonzero(np.isfinite(xy).all(axis=1))
    # boxes first, then the exact test on the candidates (strictly inside, as 'within')
    src, tgt = _in_boxes(shapely.bounds(polygons), xy[finite])
    inside = shapely.contains_xy(polygons[tgt], xy[finite[src], 0], xy[finite[src], 1])
    src, tgt = src[inside], tgt[inside]
    order = np.lexsort((tgt, src))
    src, tgt = src[order], tgt[order]
    first = np.ones(src.size, dtype=bool)
    first[1:] = src[1:] != src[:-1]
    out[finite[src[first]]] = tgt[first]
    return out


def _in_boxes(box: np.ndarray, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every (point, box) pair with the point in the closed box, through a uniform grid of
    cells the size of the median box (numpy only: no shapely point is made)."""
    ok = np.isfinite(box).all(axis=1)
    boxes = np.flatnonzero(ok)
    if boxes.size == 0 or xy.shape[0] == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    b = box[boxes]
    lo = b[:, :2].min(axis=0)
    cell = float(np.median(np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])))
    cell = cell if cell > 0 else 1.0
    while True:  # a few huge boxes among small ones: coarser cells
        i0, j0, i1, j1 = (np.floor((b - np.tile(lo, 2)) / cell).astype(np.int64).T)
        ni, nj = i1 - i0 + 1, j1 - j0 + 1
        count = ni * nj
        if count.sum() <= 8 * b.shape[0] + 1_000_000:
            break
        cell *= 2
    width = int(i1.max()) + 2
    which = np.repeat(np.arange(b.shape[0]), count)  # every (box, cell it covers)
    k = np.arange(which.size) - np.repeat(np.cumsum(count) - count, count)
    cells = (j0[which] + k // ni[which]) * width + i0[which] + k % ni[which]
    order = np.argsort(cells, kind="stable")
    cells, which = cells[order], which[order]
    pi, pj = np.floor((xy - lo) / cell).astype(np.int64).T  # as the boxes' (monotone)
    inside = (pi >= 0) & (pj >= 0) & (pi < width)
    p_cell = np.where(inside, pj * width + pi, -1)
    first = np.searchsorted(cells, p_cell)
    n = np.where(inside, np.searchsorted(cells, p_cell, side="right") - first, 0)
    src = np.repeat(np.arange(xy.shape[0]), n)
    at = np.repeat(first, n) + np.arange(src.size) - np.repeat(np.cumsum(n) - n, n)
    tgt = which[at]
    x, y = xy[src, 0], xy[src, 1]
    keep = (x >= b[tgt, 0]) & (x <= b[tgt, 2]) & (y >= b[tgt, 1]) & (y <= b[tgt, 3])
    return src[keep], boxes[tgt[keep]]


def paths_lead_out(net: WalkNetwork, edge_walled: np.ndarray, access: pd.DataFrame,
                   walled: np.ndarray, minor_share: float) -> np.ndarray:
    """Per edge: an inner path of a walled compound whose piece of inner paths reaches one
    of the open crossings (``walled`` access points with a way through) onto the main
    network (see :meth:`geo.walls.Walls.leads_out`)."""
    inner = np.flatnonzero(edge_walled >= 0)
    ok = np.zeros(net.n_edges, dtype=bool)
    if inner.size == 0:
        return ok
    from scipy.sparse.csgraph import connected_components

    g = sparse.coo_array((np.ones(inner.size), (net.edge_u[inner], net.edge_v[inner])),
                         shape=(net.n_nodes, net.n_nodes))
    _, label = connected_components(g, directed=False)
    node = access["node"].to_numpy().astype(np.int64)
    inside = access["inside"].to_numpy().astype(np.int64) if "inside" in access.columns else node
    crossing = (node >= 0) & (node < net.n_nodes) & (inside >= 0) & walled
    island = on_minor_island(net, minor_share)
    crossing[crossing] &= ~island[access["edge"].to_numpy()[crossing]]
    ok[inner] = np.isin(label[net.edge_u[inner]], label[node[crossing]])
    return ok


def on_minor_island(net: WalkNetwork, minor_share: float) -> np.ndarray:
    """Whether each edge lies on a minor island (a piece of network holding less than
    ``minor_share`` of the nodes; the largest piece never is)."""
    if net.n_edges == 0 or minor_share <= 0:
        return np.zeros(net.n_edges, dtype=bool)
    piece = net.components
    minor = np.bincount(piece) < minor_share * net.n_nodes
    minor[0] = False
    return minor[piece[net.edge_u]]


def main_network_only(access: pd.DataFrame, net: WalkNetwork,
                       island: np.ndarray) -> pd.DataFrame:
    """The access points whose street outside is on the main network."""
    if len(access) == 0 or not island.any() or not island[access["edge"].to_numpy()].any():
        return access
    attrs = dict(access.attrs)
    out = access[~island[access["edge"].to_numpy()]].reset_index(drop=True)
    out.attrs.update(attrs)
    return out
