"""Repair: give cells without a grid to a neighbouring grid, and move cells across grid
boundaries so that no grid straddles the dead end of an arterial road where a
neighbouring grid can take them inside the band. Where no single cell can go, the part
of the grid on one side of the road goes as a whole (:func:`_move_piece`)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.grids.graph import ARTERIAL, KIND_CODE, CellGraph, Zone, crossing_measure
from geo.grids.improvement import _pair_objective, best_resplit
from geo.grids.rules import compactness_one, components
from geo.grids.settings import GridSettings


def attach_empty(g: CellGraph, labels: np.ndarray) -> np.ndarray:
    """Give cells of household-free zones the label of the neighbour they share most with."""
    labels = labels.copy()
    for _ in range(g.n):
        todo = labels < 0
        if not todo.any():
            break
        a, b = labels[g.ei], labels[g.ej]
        fwd = todo[g.ei] & (b >= 0)
        bwd = todo[g.ej] & (a >= 0)
        if not (fwd.any() or bwd.any()):
            break
        frame = pd.DataFrame({"cell": np.r_[g.ei[fwd], g.ej[bwd]],
                              "label": np.r_[b[fwd], a[bwd]],
                              "len": np.r_[g.elen[fwd], g.elen[bwd]]})
        best = frame.groupby(["cell", "label"])["len"].sum().reset_index()
        best = best.sort_values(["cell", "len", "label"], ascending=[True, False, True])
        best = best.drop_duplicates("cell")
        labels[best["cell"].to_numpy()] = best["label"].to_numpy()
    return labels



def _filler_group(g: CellGraph, labels: np.ndarray, node: int) -> np.ndarray:
    """``node`` alone, or with it every cell without households of its grid that it
    reaches through such cells (an empty block moves as a whole)."""
    if g.w[node] > 0:
        return np.array([node])
    x = labels[node]
    seen = {node}
    stack = [node]
    while stack:
        for m in g.neighbours[stack.pop()]:
            if m not in seen and labels[m] == x and g.w[m] == 0:
                seen.add(m)
                stack.append(m)
    return np.array(sorted(seen))


def repair_crossings(g: CellGraph, labels: np.ndarray, zone_of_part: np.ndarray,
                      zones: list[Zone], settings: GridSettings) -> tuple[np.ndarray, int]:
    """Move cells across grid boundaries so that no grid straddles the dead end of an
    arterial road where a neighbouring grid can take them inside the band; when the
    neighbour would leave the band, it is re-split with one of its own neighbours."""
    labels = labels.copy()
    moves = 0
    art = g.ekind == KIND_CODE["arterial"]
    for _ in range(8):
        a, b = labels[g.ei], labels[g.ej]
        bad = np.flatnonzero(art & (a == b) & (a >= 0) & (g.face[g.ei] == g.face[g.ej]))
        crossing = {int(x) for x in np.unique(a[bad])
                    if crossing_measure(g, np.flatnonzero(labels == x))}
        bad = bad[np.isin(a[bad], sorted(crossing))]
        if bad.size == 0 or not (_repair_one(g, labels, bad, zone_of_part, zones, settings)
                                 or any(_move_piece(g, labels, x, zone_of_part, zones, settings)
                                        for x in sorted(crossing))):
            break
        moves += 1
    return labels, moves


def _repair_one(g: CellGraph, labels: np.ndarray, bad: np.ndarray, zone_of_part: np.ndarray,
                zones: list[Zone], settings: GridSettings) -> bool:
    """One improving move for one straddled arterial edge (``labels`` changed in place)."""
    for edge in bad:
        x = int(labels[g.ei[edge]])
        zone = zones[zone_of_part[x]]
        if zone.status not in ("ok", "infeasible"):
            continue
        nx = np.flatnonzero(labels == x)
        before_x = crossing_measure(g, nx)
        for node in (int(g.ei[edge]), int(g.ej[edge])):
            group = _filler_group(g, labels, node)
            rest = np.setdiff1d(nx, group)
            moved = int(g.w[group].sum())
            if rest.size == 0 or (moved and not zone.lo <= g.w[rest].sum() <= zone.hi):
                continue
            mask = np.zeros(g.n, dtype=bool)
            mask[rest] = True
            if not g.connected(mask):
                continue
            targets = {int(labels[m]) for v in group for m in g.neighbours[v]
                       if labels[m] >= 0 and labels[m] != x
                       and zone_of_part[labels[m]] == zone_of_part[x]}
            for y in sorted(targets):
                ny = np.flatnonzero(labels == y)
                grown = np.r_[ny, group]
                before = before_x + crossing_measure(g, ny)
                if not moved or zone.lo <= g.w[grown].sum() <= zone.hi:
                    if crossing_measure(g, rest) + crossing_measure(g, grown) < before:
                        labels[group] = y
                        return True
                    continue
                # y would leave the band: re-split y (with the cells) and a neighbour z
                trial = labels.copy()
                trial[group] = y
                ends = trial[g.ei], trial[g.ej]
                near = {int(q) for q in np.r_[ends[1][ends[0] == y], ends[0][ends[1] == y]]
                        if q >= 0 and q not in (x, y) and zone_of_part[q] == zone_of_part[x]}
                for z in sorted(near):
                    nz = np.flatnonzero(trial == z)
                    union = np.r_[grown, nz]
                    mid = settings.mid_households if zone.status == "ok" \
                        else g.w[union].sum() / 2
                    found = best_resplit(g, union, zone.lo, zone.hi, mid, -np.inf)
                    if found is None:
                        continue
                    side = found[0]
                    other = np.setdiff1d(union, side)
                    after = crossing_measure(g, rest) + crossing_measure(g, side) \
                        + crossing_measure(g, other)
                    if after < before + crossing_measure(g, nz):
                        labels[union] = z
                        labels[side] = y
                        return True
    return False


def _pieces(g: CellGraph, nodes: np.ndarray) -> list[np.ndarray]:
    """The cells of one grid by the piece they fall into once the grid is cut along every
    arterial road, pieces with households only, fewest households first."""
    loc, inner = g.local(nodes)
    keep = inner[g.ekind[inner] != ARTERIAL]
    piece = components(len(nodes), loc[g.ei[keep]], loc[g.ej[keep]])
    parts = [nodes[piece == p] for p in np.unique(piece)]
    parts = [p for p in parts if g.w[p].sum() > 0]
    return sorted(parts, key=lambda p: (int(g.w[p].sum()), int(p[0])))


def _move_piece(g: CellGraph, labels: np.ndarray, x: int, zone_of_part: np.ndarray,
                zones: list[Zone], settings: GridSettings) -> bool:
    """Give the part of grid ``x`` on one side of an arterial road (all but its largest
    part) to a grid next to it on that side; a grid that leaves the band (the receiver,
    or ``x`` without the part) is re-split with one of its own neighbours
    (:func:`_rebalance`).
    Of the moves after which the grids involved cross arterial roads fewer times in all,
    each inside the band, the one with the fewest crossings and then the most compactness
    gained is kept, and then single cells move between them and their neighbours
    (:func:`_nudge`; ``labels`` changed in place)."""
    zone = zones[zone_of_part[x]]
    if zone.status != "ok":
        return False
    nx = np.flatnonzero(labels == x)
    best = None
    seen: dict = {}  # re-splits of unions, by their cells
    for group in _pieces(g, nx)[:-1]:
        rest = np.zeros(g.n, dtype=bool)
        rest[nx] = True
        rest[group] = False
        if not g.connected(rest):
            continue
        # grids the part touches on its own side of the road (not across an arterial)
        inside = np.zeros(g.n, dtype=bool)
        inside[group] = True
        side = (inside[g.ei] != inside[g.ej]) & (g.ekind != ARTERIAL)
        touch = np.r_[labels[g.ej[side & inside[g.ei]]], labels[g.ei[side & inside[g.ej]]]]
        targets = {int(t) for t in touch
                   if t >= 0 and t != x and zone_of_part[t] == zone_of_part[x]}
        for y in sorted(targets):
            trial = labels.copy()
            trial[group] = y
            involved = {x, y}
            if not all(zone.lo <= g.w[trial == t].sum() <= zone.hi
                       or _rebalance(g, trial, t, involved, zone_of_part, zone, settings, seen)
                       for t in (y, x)):
                continue
            before = sum(crossing_measure(g, np.flatnonzero(labels == t)) for t in involved)
            after = sum(crossing_measure(g, np.flatnonzero(trial == t)) for t in involved)
            gain = sum(_compactness(g, np.flatnonzero(trial == t))
                       - _compactness(g, np.flatnonzero(labels == t)) for t in involved)
            if after < before and (best is None or (after, -gain) < best[:2]):
                best = (after, -gain, trial, sorted(involved))
    if best is None:
        return False
    labels[:] = best[2]
    moved = np.isin(labels, best[3])
    a, b = labels[g.ei], labels[g.ej]
    ring = np.r_[b[moved[g.ei]], a[moved[g.ej]]]
    ring = sorted({int(t) for t in ring[ring >= 0] if zone_of_part[t] == zone_of_part[x]})
    _nudge(g, labels, ring, zone, settings)
    return True


def _compactness(g: CellGraph, nodes: np.ndarray) -> float:
    """Polsby–Popper of the union of the cells ``nodes``."""
    inner = g.edges_inside(nodes)
    return float(compactness_one(g.area[nodes].sum(),
                                 g.perim[nodes].sum() - 2 * g.elen[inner].sum()))


def _nudge(g: CellGraph, labels: np.ndarray, grids: list[int], zone: Zone,
           settings: GridSettings) -> None:
    """Move single cells between neighbouring ``grids`` where that raises the two grids'
    objective (the improvement's: compactness, households near the middle of the band,
    few cuts through blocks), both stay inside the band and in one piece and they cross
    no more arterial roads (cells in the graph's order, a few rounds; ``labels`` changed
    in place)."""
    mid = settings.mid_households
    ring = set(grids)
    members = {t: np.flatnonzero(labels == t) for t in grids}
    weight = {t: g.w[members[t]].sum() for t in grids}  # households, as ``g.w[nodes].sum()``
    label = labels.tolist()  # ``labels`` as Python ints, kept alongside
    version = dict.fromkeys(grids, 0)
    now: dict[tuple[int, int], tuple[tuple[int, int], float]] = {}  # a pair's objective

    def objective(a: int, b: int) -> float:
        key = (version[a], version[b])
        if (a, b) not in now or now[(a, b)][0] != key:
            now[(a, b)] = key, _pair_objective(g, members[a], members[b], zone.lo, zone.hi, mid)
        return now[(a, b)][1]

    for _ in range(4):
        moved = False
        for v in np.flatnonzero(np.isin(labels, grids)).tolist():
            a = label[v]
            others = sorted({label[m] for m in g.neighbours[v]} & ring - {a})
            if not others:
                continue
            na = members[a]
            if na.size < 2 or not zone.lo <= weight[a] - g.w[v]:
                continue
            rest = na[na != v]
            mask = np.zeros(g.n, dtype=bool)
            mask[rest] = True
            if not g.connected(mask):
                continue
            best = None
            for b in others:
                nb = members[b]
                if weight[b] + g.w[v] > zone.hi:
                    continue
                grown = np.concatenate((nb, np.array([v], dtype=nb.dtype)))
                gain = _pair_objective(g, rest, grown, zone.lo, zone.hi, mid) - objective(a, b)
                if gain > 1e-9 and (best is None or gain > best[0]) \
                        and crossing_measure(g, rest) + crossing_measure(g, grown) \
                        <= crossing_measure(g, na) + crossing_measure(g, members[b]):
                    best = (gain, b)
            if best is not None:
                b = best[1]
                labels[v] = label[v] = b
                members[a], members[b] = na[na != v], np.sort(np.r_[members[b], v])
                weight[a], weight[b] = g.w[members[a]].sum(), g.w[members[b]].sum()
                version[a] += 1
                version[b] += 1
                moved = True
        if not moved:
            break


def _rebalance(g: CellGraph, trial: np.ndarray, t: int, involved: set[int],
               zone_of_part: np.ndarray, zone: Zone, settings: GridSettings,
               seen: dict | None = None) -> bool:
    """Re-split grid ``t`` (outside the band) with the neighbouring grid of its zone, not
    yet ``involved``, whose best straight re-split crosses arterial roads least (then: the
    most compact; ties: the lowest label) into two grids inside the band (``trial`` and
    ``involved`` changed in place); False when no neighbour can. ``seen`` keeps the
    re-splits of unions met before (the same union, the same re-split)."""
    seen = {} if seen is None else seen
    nt = np.flatnonzero(trial == t)
    a, b = trial[g.ei], trial[g.ej]
    near = sorted({int(q) for q in np.r_[b[a == t], a[b == t]]
                   if q >= 0 and q not in involved and zone_of_part[q] == zone_of_part[t]})
    best = None
    for z in near:
        union = np.concatenate((nt, np.flatnonzero(trial == z)))
        key = union.tobytes()
        if key not in seen:
            found = best_resplit(g, union, zone.lo, zone.hi, settings.mid_households, -np.inf)
            if found is not None:
                other = np.zeros(g.n, dtype=bool)  # np.setdiff1d(union, side), without its sort
                other[union] = True
                other[found[0]] = False
                side, other = found[0], np.flatnonzero(other)
                found = (side, crossing_measure(g, side) + crossing_measure(g, other),
                         _compactness(g, side) + _compactness(g, other))
            seen[key] = found
        if seen[key] is None:
            continue
        side, cross, shape = seen[key]
        if best is None or (cross, -shape) < best[:2]:
            best = (cross, -shape, z, union, side)
    if best is None:
        return False
    z, union, side = best[2:]
    trial[union] = z
    trial[side] = t
    involved.add(z)
    return True
