"""Repair: give cells without a grid to a neighbouring grid, and move cells across grid
boundaries so that no grid straddles the dead end of an arterial road where a
neighbouring grid can take them inside the band."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.grids.graph import KIND_CODE, CellGraph, Zone, crossing_measure
from geo.grids.improvement import best_resplit
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
        if bad.size == 0 or not _repair_one(g, labels, bad, zone_of_part, zones, settings):
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


