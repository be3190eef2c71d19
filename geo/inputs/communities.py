"""Reading community (社区) boundaries a user uploads: polygons repaired, parts of one
community merged, overlaps reported. Shares its helpers with the other upload readers
(:mod:`geo.inputs`)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import InputError
from geo.inputs.layer_parts import (FIELDS, LayerRead, finish_read, layer_columns, placed_frame,
                                    repair_geometries, shown_name, text_field)
from geo.inputs.uploads import load
from geo.settings import InputLimits
from geo.studyarea import StudyArea


def read_communities(path: str | Path, *, crs: str | None = None, area: StudyArea | None = None,
                     limits: InputLimits = InputLimits(), layer: str | None = None) -> LayerRead:
    """Read community (社区) boundaries.

    Invalid polygons (self-intersecting, badly nested rings) are repaired with
    ``make_valid`` and counted in ``repaired``; several polygons with the same
    community id are merged; overlapping communities are reported.

    Returns
    -------
    LayerRead
        ``frame``: polygons with ``community_id`` and ``name``.
    """
    path = Path(path)
    shown = shown_name(path)
    loaded = load(path, role="communities", fields=FIELDS["communities"], limits=limits,
                  layer=layer)
    if loaded.is_table:
        raise InputError("err.communities_not_polygons", path=shown, kinds="table")
    columns = layer_columns(loaded, role="communities", privacy=True, shown=shown)
    colmap = columns.column_map
    notes: list[tuple[str, dict]] = []
    geoms, repaired = repair_geometries(np.asarray(loaded.geoms, dtype=object), polygons=True)
    repaired += loaded.repaired
    if repaired:
        notes.append(("note.input_repaired", {"path": shown, "count": repaired}))
    kinds = np.array([g.geom_type if g is not None else "None" for g in geoms], dtype=object)
    polygonal = np.isin(kinds, ["Polygon", "MultiPolygon"]) & np.array(
        [g is not None and not g.is_empty for g in geoms], dtype=bool)
    if not polygonal.any():
        raise InputError("err.communities_not_polygons", path=shown,
                         kinds="、".join(sorted(set(kinds.tolist()))))
    if (~polygonal).any():
        notes.append(("note.input_not_polygons", {"path": shown, "count": int((~polygonal).sum())}))
    placed = placed_frame(loaded, geoms, polygonal, crs=crs, hint=None, area=area, shown=shown,
                          limits=limits)
    notes += placed.notes
    pos = placed.frame["_pos"].to_numpy()
    polys = placed.frame.geometry.to_numpy()
    # conversion can make a valid polygon invalid again (rarely); repair quietly, same count
    polys, _ = repair_geometries(polys.astype(object), polygons=True)
    name_field = "community" if "community" in colmap else "name"
    names = text_field(loaded, colmap, name_field, privacy=True, shown=shown, notes=notes)[pos]
    if "community_id" in colmap or "id" in colmap:
        ids = text_field(loaded, colmap, "community_id" if "community_id" in colmap else "id",
                         privacy=False, shown=shown, notes=[])[pos]
        ids = np.array([str(v) if v is not None else None for v in ids], dtype=object)
    else:
        ids = np.full(len(pos), None, dtype=object)
    if any(v is None for v in ids):
        # no ids: one per distinct name (so parts of one community merge), else per feature
        keys = [n if n is not None else f"#{k}" for k, n in enumerate(names)]
        order = {key: j for j, key in enumerate(dict.fromkeys(keys))}
        ids = np.array([v if v is not None else f"SQ{order[key] + 1:02d}"
                        for v, key in zip(ids, keys)], dtype=object)
    frame = gpd.GeoDataFrame({"community_id": ids, "name": names}, geometry=list(polys),
                             crs=area.crs if area is not None else "EPSG:4326")
    counts = frame["community_id"].value_counts()
    if (counts > 1).any():
        notes.append(("note.input_dissolved", {"path": shown, "count": int((counts > 1).sum())}))
        first_name = frame.groupby("community_id", sort=False)["name"].first()
        merged = frame.groupby("community_id", sort=False).geometry.apply(
            lambda s: shapely.union_all(s.to_numpy()))
        frame = gpd.GeoDataFrame({"community_id": merged.index.to_numpy(),
                                  "name": first_name.reindex(merged.index).to_numpy()},
                                 geometry=merged.to_numpy(), crs=frame.crs)
    frame["name"] = [n if n else cid for n, cid in zip(frame["name"], frame["community_id"])]
    overlaps = _overlapping_pairs(frame)
    if overlaps:
        notes.append(("note.input_overlap", {"path": shown, "count": overlaps}))
    return finish_read(frame, loaded=loaded, columns=columns, shown=shown, notes=notes,
                       repaired=repaired, placed=placed)


def _overlapping_pairs(frame: gpd.GeoDataFrame, *, min_share: float = 0.01) -> int:
    """Pairs of polygons overlapping by more than ``min_share`` of the smaller one."""
    if len(frame) < 2:
        return 0
    geoms = frame.geometry.to_numpy()
    left, right = frame.sindex.query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    if left.size == 0:
        return 0
    inter = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    return int(np.sum(inter > min_share * np.maximum(smaller, 1e-12)))
