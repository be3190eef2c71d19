"""Household units before gridding: checked, and split where one building holds more
households than a grid may (or where whole buildings cannot be grouped inside the band)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.crs import require_projected
from geo.errors import InputError
from geo.grids.rules import grid_count_range
from geo.i18n import note


@dataclass(frozen=True)
class UnitSplit:
    """One unit split into parts: ``why`` is ``above_band`` (it alone exceeds the band) or
    ``to_fit`` (whole buildings could not be grouped inside it)."""

    unit_id: str
    households: int
    parts: int
    why: str

    def as_dict(self) -> dict:
        return asdict(self)


def check_units(households: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, list[dict]]:
    """Check household units before gridding.

    Raises :class:`InputError` for a missing column, duplicate ``unit_id`` or a household
    count that is not a whole number ≥ 0; units with no households are kept (they are
    placed in the grid they fall in, holding nobody) and reported.

    Returns
    -------
    (GeoDataFrame, list of notes)
        The units (fresh positional index, ``households`` as int64) and notes
        (:func:`geo.i18n.note`).
    """
    require_projected(households, what="households")
    for column in ("unit_id", "households"):
        if column not in households.columns:
            raise InputError("err.units_missing_column", column=column,
                             columns=", ".join(map(str, households.columns)))
    out = households.reset_index(drop=True).copy()
    bad_geom = out.geometry.isna() | out.geometry.is_empty
    if bad_geom.any():
        raise InputError("err.units_no_location", count=int(bad_geom.sum()),
                         examples=", ".join(out.loc[bad_geom, "unit_id"].astype(str).head(5)))
    out["unit_id"] = out["unit_id"].astype(str)
    dup = out["unit_id"][out["unit_id"].duplicated()].unique()
    if len(dup):
        raise InputError("err.units_duplicate_ids", count=len(dup), examples=", ".join(dup[:5]))
    values = pd.to_numeric(out["households"], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values) | (values < 0) | (values != np.round(values))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError("err.units_bad_households", unit=out["unit_id"].iloc[k],
                         value=out["households"].iloc[k], count=int(bad.sum()))
    out["households"] = values.astype(np.int64)
    notes = []
    zero = int((values == 0).sum())
    if zero:
        notes.append(note("note.units_zero_households", count=zero))
    return out, notes


def split_large_units(units: gpd.GeoDataFrame, *, band: tuple[int, int],
                      part_max: int | None = None) -> tuple[gpd.GeoDataFrame, list[UnitSplit]]:
    """Split every unit whose households alone exceed the band into parts.

    The number of parts is the grid count nearest the middle of the band that the
    unit's total allows (each part then fits a grid), else ⌈W/max⌉ parts, which then join
    neighbouring units. With ``part_max``, units above it are also split, into parts of at
    most ``part_max`` (used where whole buildings cannot be grouped inside the band, e.g.
    towers of 150–199 households with a 200–300 band). Parts share the unit's location
    (they are its entrances or floors) and carry ``part_of`` (the unit's id) and ``part``
    (``'1/3'``…); their ids are ``<unit_id>:<k>``.

    Returns
    -------
    (GeoDataFrame, list of dict)
        The pieces (positional index) and one :class:`UnitSplit` per split unit.
    """
    hh = units["households"].to_numpy(dtype=np.int64)
    pieces = units.reset_index(drop=True).copy()
    pieces["part_of"] = pd.Series([None] * len(pieces), dtype=object)
    pieces["part"] = pd.Series([None] * len(pieces), dtype=object)
    low, high = band
    mid = (low + high) / 2
    n_parts = np.ones(len(units), dtype=np.int64)
    why = np.full(len(units), "", dtype=object)
    for pos in np.flatnonzero(hh > high):
        options = grid_count_range(int(hh[pos]), band)
        if len(options):
            n_parts[pos] = int(np.clip(round(hh[pos] / mid), options.start, options.stop - 1))
        else:
            n_parts[pos] = math.ceil(hh[pos] / high)
        why[pos] = "above_band"
    if part_max is not None:
        finer = np.ceil(hh / max(part_max, 1)).astype(np.int64)
        more = finer > n_parts
        n_parts[more] = finer[more]
        why[more & (why == "")] = "to_fit"
    split = np.flatnonzero(n_parts > 1)
    if split.size == 0:
        return pieces, []
    ids = pieces["unit_id"].astype(str).to_numpy().astype(object)
    splits = [UnitSplit(unit_id=str(ids[pos]), households=int(hh[pos]), parts=int(n_parts[pos]),
                        why=str(why[pos])) for pos in split]
    rep = np.repeat(np.arange(len(units)), n_parts)
    out = pieces.iloc[rep].reset_index(drop=True)
    first = np.r_[0, np.cumsum(n_parts)[:-1]]
    part_no = np.arange(len(rep)) - np.repeat(first, n_parts)
    is_part = n_parts[rep] > 1
    counts = hh[rep].copy()
    for pos in split:
        base, extra = divmod(int(hh[pos]), int(n_parts[pos]))
        share = np.full(n_parts[pos], base)
        share[:extra] += 1
        counts[first[pos]:first[pos] + n_parts[pos]] = share
    rep_ids = ids[rep]
    out["part_of"] = pd.Series(np.where(is_part, rep_ids, None), dtype=object)
    out["part"] = pd.Series([f"{k + 1}/{n_parts[r]}" if p else None
                             for k, r, p in zip(part_no, rep, is_part)], dtype=object)
    out["unit_id"] = [f"{u}:{k + 1}" if p else u for u, k, p in zip(rep_ids, part_no, is_part)]
    out["households"] = counts
    return out, splits




def piece_source(pieces: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> np.ndarray:
    """Position in ``units`` of the unit each piece came from."""
    part_of = pieces["part_of"].to_numpy(dtype=object)
    parent = np.where(pd.isna(part_of), pieces["unit_id"].to_numpy(dtype=object), part_of)
    parent = np.array([str(p) for p in parent], dtype=object)
    ids = pd.Index(np.array([str(u) for u in units["unit_id"].to_numpy(dtype=object)],
                            dtype=object))
    at = ids.get_indexer(parent) if ids.is_unique else None
    if at is None or (at < 0).any():  # a piece of no unit (NaN) or repeated ids: as pandas finds
        unit_pos = pd.Series(np.arange(len(units)), index=ids)
        return unit_pos.reindex(parent).to_numpy()
    return at
