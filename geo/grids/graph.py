"""The cell graph the partition works on, apart from any geometry: each cell's
households, centre, area and perimeter, and the boundaries neighbouring cells share
(length and kind). Positions are local to one community."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from geo.grids.rules import components, crossings

#: Kinds of shared boundaries, as codes: inside a block, along a street, along an
#: arterial, along a footpath inside a block.
KIND_CODE = {"block": 0, "street": 1, "arterial": 2, "path": 3}
ARTERIAL = KIND_CODE["arterial"]

@dataclass
class CellGraph:
    """Cells of one community as arrays (positions local to the community)."""

    w: np.ndarray
    xy: np.ndarray
    area: np.ndarray
    perim: np.ndarray
    face: np.ndarray
    ei: np.ndarray
    ej: np.ndarray
    elen: np.ndarray
    ekind: np.ndarray

    @property
    def n(self) -> int:
        return len(self.w)

    def sub_edges(self, mask: np.ndarray) -> np.ndarray:
        """Edges with both ends under ``mask`` (for masks covering much of the graph)."""
        return np.flatnonzero(mask[self.ei] & mask[self.ej])

    @cached_property
    def _outgoing(self) -> tuple[np.ndarray, np.ndarray]:
        """Edges listed under their first end (``ei``): CSR pointer and edge ids."""
        order = np.argsort(self.ei, kind="stable")
        ptr = np.r_[0, np.cumsum(np.bincount(self.ei, minlength=self.n))]
        return ptr, order

    def local(self, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each node's position in ``nodes`` (-1 elsewhere) and the edges inside ``nodes``."""
        mask = np.zeros(self.n, dtype=bool)
        mask[nodes] = True
        loc = np.full(self.n, -1)
        loc[nodes] = np.arange(len(nodes))
        return loc, self.edges_within(nodes, mask)

    def edges_within(self, nodes: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Edges with both ends in ``nodes`` (``mask`` marks them), in time ∝ their degree."""
        if len(nodes) * 8 > self.n:
            return self.sub_edges(mask)
        ptr, out = self._outgoing
        starts = ptr[nodes]
        lengths = ptr[nodes + 1] - starts
        total = int(lengths.sum())
        offsets = np.cumsum(lengths) - lengths
        idx = np.repeat(starts - offsets, lengths) + np.arange(total)
        e = out[idx]
        return e[mask[self.ej[e]]]

    @cached_property
    def _outgoing_lists(self) -> list[np.ndarray]:
        """:attr:`_outgoing` as one array of edge ids per cell."""
        ptr, out = self._outgoing
        return np.split(out, ptr[1:-1])

    def lists_by_id(self, nodes: np.ndarray) -> bool:
        """Whether :meth:`edges_inside` lists the edges inside ``nodes`` by edge id
        (else cell by cell, in the order of ``nodes``)."""
        return len(nodes) * 8 > self.n or len(nodes) == 0

    def edges_inside(self, nodes: np.ndarray) -> np.ndarray:
        """:meth:`local`'s edges inside ``nodes`` (the same edges in the same order),
        without the positions."""
        mask = np.zeros(self.n, dtype=bool)
        mask[nodes] = True
        if self.lists_by_id(nodes):
            return self.edges_within(nodes, mask)
        lists = self._outgoing_lists
        e = np.concatenate([lists[v] for v in nodes.tolist()])
        return e[mask.take(self.ej.take(e))]

    @cached_property
    def undirected(self) -> tuple[np.ndarray, np.ndarray]:
        """Each cell's neighbours (either end of an edge): CSR pointer and cells."""
        ends = np.concatenate([self.ei, self.ej])
        other = np.concatenate([self.ej, self.ei])
        order = np.argsort(ends, kind="stable")
        ptr = np.r_[0, np.cumsum(np.bincount(ends, minlength=self.n))]
        return ptr.astype(np.int64), other[order].astype(np.int64)

    @cached_property
    def neighbours(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(self.n)]
        for a, b in zip(self.ei.tolist(), self.ej.tolist()):
            out[a].append(b)
            out[b].append(a)
        return out

    def connected(self, mask: np.ndarray) -> bool:
        """Whether the cells under ``mask`` form one connected piece."""
        members = np.flatnonzero(mask)
        if members.size <= 1:
            return members.size == 1
        if members.size > 400:
            return connected(self.n, self.ei, self.ej, mask)
        inside = set(members.tolist())  # (at most 400: cheaper than the mask as a list)
        seen = {int(members[0])}
        stack = [int(members[0])]
        nbrs = self.neighbours
        while stack:
            for b in nbrs[stack.pop()]:
                if b in inside and b not in seen:
                    seen.add(b)
                    stack.append(b)
        return len(seen) == members.size


    @classmethod
    def build(cls, *, w: np.ndarray, xy: np.ndarray, area: np.ndarray, perim: np.ndarray,
              ei: np.ndarray, ej: np.ndarray, elen: np.ndarray, ekind: np.ndarray) -> CellGraph:
        """A graph whose faces (areas enclosed by arterial roads) are the pieces left
        once every arterial edge is cut."""
        inner = ekind != ARTERIAL
        return cls(w=w, xy=xy, area=area, perim=perim,
                   face=components(len(w), ei[inner], ej[inner]), ei=ei, ej=ej, elen=elen,
                   ekind=ekind)


@dataclass
class Zone:
    nodes: np.ndarray
    lo: float
    hi: float
    k: int
    status: str = "ok"          # ok | infeasible | relaxed | empty
    reason: tuple[str, dict] | None = None
    faces_weight: dict = field(default_factory=dict)


def connected(n: int, u: np.ndarray, v: np.ndarray, mask: np.ndarray | None = None) -> bool:
    """Whether the nodes (or those under ``mask``) form one connected piece."""
    if mask is not None:
        keep = mask[u] & mask[v]
        loc = np.cumsum(mask) - 1
        u, v, n = loc[u[keep]], loc[v[keep]], int(mask.sum())
    if n <= 1:
        return n == 1
    graph = sparse.csr_array((np.ones(len(u), dtype=np.int8), (u, v)), shape=(n, n))
    return csgraph.connected_components(graph, directed=False, return_labels=False) == 1


def crossing_measure(g: CellGraph, nodes: np.ndarray) -> int:
    """Arterial crossings of one grid made of ``nodes`` (the rule book's count,
    :func:`geo.grids.rules.crossings`)."""
    if not (g.w[nodes] > 0).any():
        return 0
    inner = g.edges_inside(nodes)
    loc = np.empty(g.n, dtype=np.int64)  # positions in ``nodes`` (read at their cells only)
    loc[nodes] = np.arange(len(nodes))
    return int(crossings(np.zeros(len(nodes), dtype=np.int64), g.w[nodes], loc[g.ei[inner]],
                         loc[g.ej[inner]], g.ekind[inner] == ARTERIAL)[0])


def project(xy: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Points ``xy`` (n × 2) along each direction ``(cos, sin)`` of ``directions``
    (2 × k): ``x·cos + y·sin`` element by element, n × k. The same bits on every machine,
    which orders points and ties alike: a matrix product goes to the BLAS, whose kernels
    fuse the multiply and the add on some processors and not on others."""
    d = np.asarray(directions, dtype=float).reshape(2, -1)
    return xy[:, 0, None] * d[0] + xy[:, 1, None] * d[1]
