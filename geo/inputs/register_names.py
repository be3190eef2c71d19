"""Placing register rows that have no coordinates: by the name of their building (one
point at the building) or, failing that, of their compound (households spread over points
inside it). Names are matched after normalising (full-width, spaces, case); a name that
is contained in exactly one building or compound name also matches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
import geo.inputs.columns as cols
import geo.inputs.personal as personal_data
from geo.households import lattice_points, split_evenly
from geo.settings import HouseholdSettings
from geo.inputs.uploads import Loaded
from geo.studyarea import StudyArea
from geo.inputs.layer_parts import some_rows


#: Optional counts of persons per age group (never individual ages): the columns a layer
#: keeps, as whole numbers (an empty cell counts 0).
AGE_GROUPS = ("elderly_60plus", "children_0_6")


def group_counts(loaded: Loaded, colmap: dict[str, str], *, shown: str) -> dict[str, np.ndarray]:
    """``{group: persons per row}`` for the age-group columns present (``60岁以上``,
    ``0-6岁``): whole numbers ≥ 0 (``12人`` reads 12), an empty cell 0; a bad cell raises
    naming its row and the cell's shape only (a register's cells may be personal)."""
    out = {}
    for group in AGE_GROUPS:
        if group not in colmap:
            continue
        raw = loaded.attrs[colmap[group]].astype(str).to_numpy()
        values = np.zeros(len(raw), dtype=np.int64)
        for k, cell in enumerate(raw):
            try:
                count = cols.parse_count(str(cell).replace("人", "").replace("名", ""))
            except ValueError:
                raise InputError("err.table_bad_group", path=shown, row=int(loaded.rows[k]),
                                 value=personal_data.shape_of(cell)) from None
            values[k] = count or 0
        out[group] = values
    return out


def _name_key(value: object) -> str:
    return cols.normalise_text(value) if value is not None else ""


def _lookup(names: pd.Series) -> dict[str, list[int]]:
    table: dict[str, list[int]] = {}
    for k, value in enumerate(names.to_numpy()):
        key = _name_key(value) if isinstance(value, str) else ""
        if key:
            table.setdefault(key, []).append(k)
    return table


def _some_rows(rows) -> str:

    return some_rows(np.asarray(rows))


def _match_name(key: str, table: dict[str, list[int]]) -> list[int]:
    """Positions whose name equals ``key``, else the one name containing it (or contained)."""
    if not key:
        return []
    if key in table:
        return table[key]
    near = [name for name in table if key in name or (len(name) >= 2 and name in key)]
    return table[near[0]] if len(near) == 1 else []


def place_by_name(loaded: Loaded, text: dict, counts: np.ndarray, rows: np.ndarray, *,
                  area: StudyArea, settings: HouseholdSettings, shown: str,
                  kept: tuple[str, ...], groups: dict[str, np.ndarray] | None = None):
    """Place rows without coordinates by building name, else spread them over their
    compound. ``kept``: the text fields a household unit keeps; ``groups``: age-group
    counts per row (spread over a compound's points like its households)."""
    groups = groups or {}
    notes: list[tuple[str, dict]] = []
    b_table = _lookup(area.buildings["name"]) if "name" in area.buildings else {}
    c_table = _lookup(area.compounds["name"]) if "name" in area.compounds else {}
    out, rest, unmatched = [], [], []
    by_compound: dict[tuple[int, ...], list[int]] = {}
    for k in rows:
        hit_b = _match_name(_name_key(text["building"][k]), b_table) if text["building"][k] else []
        if len(hit_b) == 1:
            b = area.buildings.iloc[hit_b[0]]
            out.append({"households": counts[k], "register_level": "building",
                        **{f: text[f][k] for f in kept},
                        "compound_id": None, "building_id": b.get("building_id"),
                        **{g: int(v[k]) for g, v in groups.items()},
                        "geometry": b.geometry.representative_point()})
            continue
        hit_c = _match_name(_name_key(text["compound"][k]), c_table) if text["compound"][k] else []
        if hit_c:
            by_compound.setdefault(tuple(hit_c), []).append(k)
        else:
            rest.append(k)
            label = text["compound"][k] or text["building"][k]
            if label:
                unmatched.append(k)
    points_used = 0
    for hits, members in by_compound.items():
        polygon = shapely.union_all(area.compounds.geometry.to_numpy()[list(hits)])
        xy = lattice_points(polygon, settings.compound_point_spacing_m)
        households = int(counts[members].sum())
        share = split_evenly(households, len(xy))
        first = members[0]
        compound_id = (area.compounds["compound_id"].iloc[hits[0]]
                       if "compound_id" in area.compounds else None)
        spread = {g: split_evenly(int(v[members].sum()), len(xy)) for g, v in groups.items()}
        for j, ((x, y), n) in enumerate(zip(xy, share)):
            out.append({"households": int(n), "register_level": "compound",
                        "building": None, "compound": text["compound"][first],
                        "address": None, "name": None, "compound_id": compound_id,
                        "building_id": None, **{g: int(v[j]) for g, v in spread.items()},
                        "geometry": shapely.Point(x, y)})
        points_used += len(xy)
    placed_rows = len(rows) - len(rest)
    if placed_rows:
        notes.append(("note.input_by_compound", {
            "path": shown, "count": placed_rows, "points": len(out),
            "households": int(sum(r["households"] for r in out))}))
    if unmatched:  # rows by number and shape only: the names may be personal
        shapes = dict.fromkeys(personal_data.shape_of(text["compound"][k] or text["building"][k])
                               for k in unmatched)
        notes.append(("note.input_unmatched_rows", {
            "path": shown, "count": len(unmatched), "rows": _some_rows(loaded.rows[unmatched]),
            "shapes": "、".join(list(shapes)[:5])}))
    frame = pd.DataFrame(out, columns=["households", "register_level", *kept,
                                       "compound_id", "building_id", *groups, "geometry"])
    return frame, np.asarray(rest, dtype=int), notes
