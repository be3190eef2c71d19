"""The capacity stage: each facility's places, the demand of each home, and supply against
demand per grid and community (the two-step floating catchment method of
:mod:`analysis.capacity` on the bounded walks of :mod:`analysis.capacity.pairs`).

Demand and class sizes come from one editable table, ``data/capacity_demand.csv`` (one
row per service: age group, the group's share of residents, places needed per person of
the group, class size, an optional default capacity, each with its source). A figure
without a source is left empty there and reported as missing, never filled in here.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import analysis.capacity.model as K
from analysis.capacity.pairs import facility_pairs
from geo.errors import InputError
from geo.settings import PERSONS_PER_HOUSEHOLD
from geo.vocabulary import CAPACITY_KINDS

DEFAULT_TABLE = Path(__file__).resolve().parents[2] / "data" / "capacity_demand.csv"
#: Capacity sources (CONTRACT.md: ``capacity_source``).
SOURCES = ("given", "osm", "estimated")
#: The largest capacity believed (places or beds of one facility).
MAX_CAPACITY = 100_000


@dataclass(frozen=True)
class CapacitySettings:
    """How supply meets demand: ``method`` (``2sfca`` or ``nearest_free``), ``decay``
    (:data:`analysis.capacity.DECAYS`) and the demand table (persons per household is
    the household model's: :class:`geo.settings.HouseholdSettings`)."""

    method: str = "2sfca"
    decay: str = "none"
    table: str | None = None

    def __post_init__(self) -> None:
        if self.method not in K.METHODS:
            raise InputError("err.capacity_method", value=self.method,
                             choices=", ".join(K.METHODS))
        if self.decay not in K.DECAYS:
            raise InputError("err.capacity_decay", value=self.decay, choices=", ".join(K.DECAYS))


@dataclass(frozen=True)
class Standard:
    """One row of the demand table (NaN where the table gives no cited figure)."""

    key: str
    age_group: str
    age_column: str
    share: float
    share_source: str
    need_per_person: float
    need_source: str
    class_size: float
    class_source: str
    default_capacity: float
    default_source: str



def _capacity_kind(column: str) -> str | None:
    """``demand``, ``supply`` or ``shortfall`` for a capacity column, else ``None``."""
    return next((k for k in CAPACITY_KINDS if str(column).startswith(K.column(k, ""))), None)

def _number(text: str, *, low: float, high: float, path: Path, row: int) -> float:
    text = (text or "").strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError("err.capacity_table", path=path.name, row=row) from None
    if not (low <= value <= high):
        raise InputError("err.capacity_table", path=path.name, row=row)
    return value


def table_digest(path: str | Path | None = None) -> str:
    """A digest of the demand table's content (the capacity stage's key reads it, so an
    edited table is read again; a missing table is left to :func:`load_standards`)."""
    import hashlib

    try:
        data = (Path(path) if path else DEFAULT_TABLE).read_bytes()
    except OSError:
        return ""
    return hashlib.blake2b(data, digest_size=12).hexdigest()


def load_standards(path: str | Path | None = None) -> dict[str, Standard]:
    """The demand table (``data/capacity_demand.csv`` by default), checked."""
    path = Path(path) if path else DEFAULT_TABLE
    out: dict[str, Standard] = {}
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError:
        raise InputError("err.capacity_table_missing", path=path.name) from None
    with handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            key = (row.get("key") or "").strip()
            if not key:
                continue
            get = lambda name: (row.get(name) or "").strip()  # noqa: E731
            out[key] = Standard(
                key=key, age_group=get("age_group"), age_column=get("age_column"),
                share=_number(get("share"), low=0, high=1, path=path, row=row_no),
                share_source=get("share_source"),
                need_per_person=_number(get("need_per_person"), low=0, high=10, path=path,
                                        row=row_no),
                need_source=get("need_source"),
                class_size=_number(get("class_size"), low=1, high=200, path=path, row=row_no),
                class_source=get("class_source"),
                default_capacity=_number(get("default_capacity"), low=0, high=MAX_CAPACITY,
                                         path=path, row=row_no),
                default_source=get("default_source"))
    return out


def with_capacity(facilities: pd.DataFrame, standards: dict[str, Standard]) -> pd.DataFrame:
    """``facilities`` with ``capacity`` and ``capacity_source`` filled: a given capacity,
    else classes × the service's class size (given), else the OSM tag (already in
    ``capacity`` with source ``osm``), else the table's default (estimated); NULL where
    none is known."""
    out = facilities.copy()
    cap = pd.to_numeric(out.get("capacity", pd.Series(np.nan, index=out.index)),
                        errors="coerce").to_numpy(dtype=float, copy=True)
    source = np.asarray(out.get("capacity_source", pd.Series(None, index=out.index)),
                        dtype=object).copy()
    source[~np.isfinite(cap)] = None
    service = out["service"].astype(str).to_numpy()
    if "classes" in out.columns:
        classes = pd.to_numeric(out["classes"], errors="coerce").to_numpy(dtype=float)
        size = np.array([standards[s].class_size if s in standards else np.nan
                         for s in service])
        use = ~np.isfinite(cap) & np.isfinite(classes) & np.isfinite(size)
        cap[use] = classes[use] * size[use]
        source[use] = "given"
    default = np.array([standards[s].default_capacity if s in standards else np.nan
                        for s in service])
    use = ~np.isfinite(cap) & np.isfinite(default)
    cap[use] = default[use]
    source[use] = "estimated"
    out["capacity"] = cap
    out["capacity_source"] = source
    return out


def demand_persons(households: pd.DataFrame, standard: Standard,
                   persons_per_household: float) -> tuple[np.ndarray, str]:
    """Persons of the service's age group per home, and where the figure came from:
    ``column`` (the household layer's age column), ``share`` (households × persons per
    household × the table's share) or ``households`` (the share is missing: households ×
    persons per household, so that the two-step method still shares the supply out — a
    uniform share scales every figure alike — but the demand in places stays unknown)."""
    hh = households["households"].to_numpy(dtype=float)
    col = standard.age_column
    if col and col in households.columns:
        values = pd.to_numeric(households[col], errors="coerce").to_numpy(dtype=float)
        if np.isfinite(values).any():
            fallback = hh * persons_per_household * np.nan_to_num(standard.share, nan=0.0)
            return np.where(np.isfinite(values), values, fallback), "column"
    if np.isfinite(standard.share):
        return hh * persons_per_household * standard.share, "share"
    return hh * persons_per_household, "households"


@dataclass(frozen=True, eq=False)
class Capacity:
    """What the capacity stage produced: ``facilities`` with capacities, ``grids`` and
    ``communities`` tables of ``demand_/supply_/shortfall_<service>`` (indexed by id),
    ``homes`` (per home and service: ``access_<service>``, ``supply_<service>``,
    ``demand_<service>``) and ``summary`` (SUMMARY.json's ``capacity``)."""

    facilities: pd.DataFrame
    grids: pd.DataFrame
    communities: pd.DataFrame
    homes: pd.DataFrame
    summary: dict = field(default_factory=dict)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.summary)


def capacity_stage(households: pd.DataFrame, facilities: pd.DataFrame, index, walk,
                   settings: CapacitySettings = CapacitySettings(), *,
                   persons_per_household: float = PERSONS_PER_HOUSEHOLD) -> Capacity:
    """Supply against demand for every service with a known capacity.

    ``households`` and ``facilities`` are the frames the reach ``index`` was built from
    (same rows, same order); ``walk`` gives each service's catchment (its threshold in
    metres)."""
    standards = load_standards(settings.table)
    facilities = with_capacity(facilities, standards)
    cap_all = facilities["capacity"].to_numpy(dtype=float)
    src_all = facilities["capacity_source"].to_numpy(dtype=object)
    homes = pd.DataFrame(index=households.index)
    grid_parts, comm_parts, summary = [], [], {}
    grid_id = households.get("grid_id", pd.Series(np.nan, index=households.index))
    comm_id = households.get("community_id", pd.Series(np.nan, index=households.index))
    hh = households["households"].to_numpy(dtype=float)
    for service in index.services:
        standard = standards.get(service)
        rows = index.facility_rows(service)
        known = np.isfinite(cap_all[rows]) if rows.size else np.zeros(0, dtype=bool)
        if standard is None or not known.any():
            continue
        limit = float(walk.threshold_m(service))
        pairs = facility_pairs(index, service, limit, rows=rows)
        persons, basis = demand_persons(households, standard, persons_per_household)
        supply = cap_all[rows]
        if settings.method == "2sfca":
            ratio, access = K.two_step(pairs, persons, supply, limit_m=limit,
                                       decay=settings.decay)
            reached = persons * access
            served_by = np.bincount(pairs.facility, minlength=rows.size) > 0
        else:
            need = persons * np.nan_to_num(standard.need_per_person, nan=1.0)
            reached, given = K.nearest_free(pairs, need, supply)
            access = np.divide(reached, persons, out=np.zeros_like(reached), where=persons > 0)
            served_by = given > 0
        places = np.isfinite(standard.need_per_person) and basis != "households"
        demand = persons * standard.need_per_person if places else np.full(persons.size, np.nan)
        homes[f"access_{service}"] = access
        homes[K.column("supply", service)] = reached
        homes[K.column("demand", service)] = demand
        grid_parts.append(K.by_area(grid_id, demand, reached, service))
        comm_parts.append(K.by_area(comm_id, demand, reached, service))
        summary[service] = _service_summary(
            service, standard, basis, places, supply, src_all[rows], served_by, demand,
            reached, access, hh, grid_parts[-1], comm_parts[-1], settings, limit,
            persons_per_household)
    grids = pd.concat(grid_parts, axis=1) if grid_parts else pd.DataFrame()
    comms = pd.concat(comm_parts, axis=1) if comm_parts else pd.DataFrame()
    return Capacity(facilities=facilities, grids=grids, communities=comms, homes=homes,
                    summary=summary)


def with_capacity_columns(layers: dict[str, pd.DataFrame], capacity: Capacity
                          ) -> dict[str, pd.DataFrame]:
    """The ``facilities`` layer with ``capacity`` and ``capacity_source``, and the ``grids``
    and ``communities`` layers with ``demand_/supply_/shortfall_<service>`` (0 supply and
    0 demand where an area holds no home; NULL demand where no cited figure gives it)."""
    out = {"facilities": _facility_layer(layers["facilities"], capacity.facilities)}
    homes = layers.get("households")
    if homes is not None and len(capacity.homes.columns):
        per_home = capacity.homes[[c for c in capacity.homes.columns
                                   if _capacity_kind(c) in ("demand", "supply")]]
        homes = homes.drop(columns=[c for c in per_home.columns if c in homes.columns])
        out["households"] = homes.join(per_home)
    out.update(_area_columns(layers, {"grids": capacity.grids,
                                      "communities": capacity.communities}))
    return out


def regroup(layers: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The grids' and communities' capacity columns counted again from the households'
    ``demand_/supply_<service>`` (after grid edits move homes between grids)."""
    homes = layers.get("households")
    if homes is None:
        return {}
    services = [c.removeprefix(K.column("supply", "")) for c in homes.columns
                if _capacity_kind(c) == "supply"]
    if not services:
        return {}
    tables = {}
    for name, key in (("grids", "grid_id"), ("communities", "community_id")):
        if key not in homes.columns:
            continue
        parts = [K.by_area(homes[key], homes[K.column("demand", s)].to_numpy(dtype=float),
                           homes[K.column("supply", s)].to_numpy(dtype=float), s)
                 for s in services]
        tables[name] = pd.concat(parts, axis=1)
    return _area_columns(layers, tables)


def refreshed_summary(block: dict, layers: dict[str, pd.DataFrame]) -> dict:
    """The summary's ``capacity`` with its per-grid and per-community figures counted
    again from the layers (after grid edits; the totals do not change)."""
    out = {}
    for service, s in block.items():
        s = dict(s)
        col = K.column("shortfall", service)
        grids, comms = layers.get("grids"), layers.get("communities")
        if grids is not None and col in grids.columns and s.get("shortfall") is not None:
            g = grids.set_index(grids["grid_id"].astype(str))
            s["shortfall"] = round(float(g[col].sum()), 1)
            s["grids_short"] = _short(g, service)
            s["grids_short_count"] = int((g[col] > 0).sum())
            if comms is not None and col in comms.columns:
                s["communities_short"] = _short(
                    comms.set_index(comms["community_id"].astype(str)), service)
        out[service] = s
    return out


def _area_columns(layers: dict[str, pd.DataFrame], tables: dict[str, pd.DataFrame]
                  ) -> dict[str, pd.DataFrame]:
    out = {}
    for name, table in tables.items():
        key = "grid_id" if name == "grids" else "community_id"
        frame = layers.get(name)
        if frame is None or key not in frame.columns:
            continue
        frame = frame.drop(columns=[c for c in table.columns if c in frame.columns])
        if len(table.columns):
            joined = table.reindex(frame[key].to_numpy())
            for col in table.columns:
                values = joined[col].to_numpy(dtype=float)
                if _capacity_kind(col) == "supply" or np.isfinite(table[col]).any():
                    values = np.nan_to_num(values, nan=0.0)
                frame[col] = values
        out[name] = frame
    return out


def _facility_layer(layer: pd.DataFrame, facilities: pd.DataFrame) -> pd.DataFrame:
    out = layer.copy()
    if len(out) == len(facilities):
        out["capacity"] = facilities["capacity"].to_numpy()
        out["capacity_source"] = facilities["capacity_source"].to_numpy()
    return out


def _short(table: pd.DataFrame, service: str, n: int = 5) -> list[dict]:
    col = K.column("shortfall", service)
    short = table[col].dropna()
    short = short[short > 0].sort_values(ascending=False, kind="stable")
    return [{"id": str(k), "shortfall": round(float(v), 1)} for k, v in short.head(n).items()]


def _service_summary(service, standard, basis, places, supply, sources, served_by, demand,
                     reached, access, hh, grids, comms, settings, limit,
                     persons_per_household) -> dict:
    known = np.isfinite(supply)
    total_demand = float(np.nansum(demand)) if places else None
    shortfall = float(grids[K.column("shortfall", service)].sum()) if places else None
    by_source = {s: int(np.sum(sources == s)) for s in SOURCES}
    by_source["unknown"] = int((~known).sum())
    below = None
    if places and hh.sum() > 0:
        low = access < standard.need_per_person * (1 - 1e-9)
        below = float(hh[low].sum() / hh.sum())
    missing = ([] if basis != "households" else ["share"]) + \
        (["need_per_person"] if math.isnan(standard.need_per_person) else [])
    return {
        "supply": round(float(np.nansum(supply)), 3),
        "demand": None if total_demand is None else round(total_demand, 3),
        "supply_reached": round(float(np.nansum(reached)), 3),
        "supply_unreached": round(float(np.nansum(supply[~served_by])), 3),
        "ratio": (round(float(np.nansum(reached)) / total_demand, 4)
                  if total_demand else None),
        "shortfall": None if shortfall is None else round(shortfall, 1),
        "share_households_below_standard": None if below is None else round(below, 4),
        "grids_short": _short(grids, service) if places else [],
        "communities_short": _short(comms, service) if places else [],
        "grids_short_count": int((grids[K.column("shortfall", service)] > 0).sum()),
        "method": settings.method, "decay": settings.decay, "catchment_m": round(limit, 1),
        "capacities": by_source,
        "demand_basis": basis,
        "age_group": standard.age_group,
        "share": None if math.isnan(standard.share) else standard.share,
        "share_source": standard.share_source,
        "need_per_person": (None if math.isnan(standard.need_per_person)
                            else standard.need_per_person),
        "need_source": standard.need_source,
        "persons_per_household": persons_per_household,
        "missing": missing,
    }


__all__ = ["Capacity", "CapacitySettings", "DEFAULT_TABLE", "MAX_CAPACITY", "SOURCES",
           "Standard", "capacity_stage", "demand_persons", "load_standards", "refreshed_summary",
           "table_digest",
           "regroup", "with_capacity",
           "with_capacity_columns"]
