"""The service catalogue: which everyday services exist, how OSM tags map to them, and
their default walking thresholds (``data/services.csv``, editable by planners).

Tag rules are alternatives separated by ``;``; each alternative is conditions joined by
``&``; a condition is ``key=value1|value2``, ``key=*`` (any value), ``key!=value1|value2`` or ``key~regex``
(case-insensitive search). A feature can serve several services (a 九年一贯制 school is
both a primary and a middle school).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError

DEFAULT_CATALOGUE = Path(__file__).resolve().parent.parent / "data" / "services.csv"
REQUIRED_KEYS = (
    "community_service", "health", "kindergarten", "primary_school", "middle_school",
    "elderly_care", "market", "convenience", "pharmacy", "sports", "park", "bus_stop",
    "culture",
)


@dataclass(frozen=True)
class Condition:
    key: str
    op: str  # "=", "!=", "*", "~"
    values: tuple[str, ...] = ()
    pattern: str = ""


@dataclass(frozen=True)
class Service:
    """One row of the catalogue."""

    key: str
    name_zh: str
    name_en: str
    rules: tuple[tuple[Condition, ...], ...]
    threshold_min: float
    level: int
    profile: str
    convention: str
    source: str

    def name(self, lang: str = "zh") -> str:
        return self.name_zh if lang == "zh" else self.name_en


def parse_rules(text: str) -> tuple[tuple[Condition, ...], ...]:
    """Parse a tag-rule string (see module docstring)."""
    alternatives = []
    for alt in text.split(";"):
        conds = []
        for part in alt.split("&"):
            part = part.strip()
            if not part:
                continue
            if "~" in part and ("=" not in part or part.index("~") < part.index("=")):
                key, pattern = part.split("~", 1)
                re.compile(pattern)
                conds.append(Condition(key.strip(), "~", pattern=pattern.strip()))
            elif "!=" in part:
                key, value = part.split("!=", 1)
                conds.append(Condition(key.strip(), "!=", tuple(v.strip() for v in value.split("|"))))
            elif "=" in part:
                key, value = part.split("=", 1)
                value = value.strip()
                if value == "*":
                    conds.append(Condition(key.strip(), "*"))
                else:
                    conds.append(Condition(key.strip(), "=", tuple(v.strip() for v in value.split("|"))))
            else:
                raise ValueError(f"condition {part!r} has neither '=' nor '~'")
        if conds:
            alternatives.append(tuple(conds))
    if not alternatives:
        raise ValueError("no tag rule")
    return tuple(alternatives)


def load_catalogue(path: str | Path = DEFAULT_CATALOGUE) -> tuple[Service, ...]:
    """Read and check the catalogue.

    Raises
    ------
    InputError
        If a row is malformed or a required service key is missing.
    """
    path = Path(path)
    services = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            try:
                services.append(Service(
                    key=row["key"].strip(), name_zh=row["name_zh"].strip(),
                    name_en=row["name_en"].strip(), rules=parse_rules(row["osm_tags"]),
                    threshold_min=float(row["threshold_min"]), level=int(row["level"]),
                    profile=row["profile"].strip(), convention=row["convention"].strip(),
                    source=row["source"].strip()))
            except (KeyError, ValueError, re.error, AttributeError) as exc:
                raise InputError("err.catalogue", path=path, row=row_no, detail=exc) from None
            if not 0 < services[-1].threshold_min <= 120:
                raise InputError("err.catalogue", path=path, row=row_no,
                                 detail="threshold_min must be between 0 and 120")
    keys = [s.key for s in services]
    missing = [k for k in REQUIRED_KEYS if k not in keys]
    if missing or len(set(keys)) != len(keys):
        raise InputError("err.catalogue", path=path, row="-",
                         detail=f"missing or duplicate keys: {missing or keys}")
    return tuple(services)


def service_by_key(catalogue: tuple[Service, ...], key: str) -> Service:
    for service in catalogue:
        if service.key == key:
            return service
    raise InputError("err.unknown_service", name=key, choices=", ".join(s.key for s in catalogue))


def _column(tags: pd.DataFrame, key: str) -> pd.Series:
    if key not in tags.columns:
        return pd.Series("", index=tags.index, dtype=object)
    col = tags[key]
    return col.where(col.notna(), "").astype(str)


def _condition_mask(tags: pd.DataFrame, cond: Condition) -> np.ndarray:
    col = _column(tags, cond.key)
    if cond.op == "*":
        return col.ne("").to_numpy()
    if cond.op == "=":
        return col.isin(cond.values).to_numpy()
    if cond.op == "!=":
        return ~col.isin(cond.values).to_numpy()
    return col.str.contains(cond.pattern, case=False, regex=True).to_numpy()


def match_services(tags: pd.DataFrame, catalogue: tuple[Service, ...]) -> pd.DataFrame:
    """Which services each feature offers.

    Returns a long frame with columns ``row`` (the position of the feature in ``tags``)
    and ``service`` (catalogue key), one row per (feature, service) match.
    """
    rows, keys = [], []
    for service in catalogue:
        mask = np.zeros(len(tags), dtype=bool)
        for alternative in service.rules:
            alt_mask = np.ones(len(tags), dtype=bool)
            for cond in alternative:
                alt_mask &= _condition_mask(tags, cond)
            mask |= alt_mask
        hit = np.flatnonzero(mask)
        rows.append(hit)
        keys.append(np.full(hit.size, service.key, dtype=object))
    if not rows:
        return pd.DataFrame({"row": np.array([], dtype=int), "service": np.array([], dtype=object)})
    return pd.DataFrame({"row": np.concatenate(rows), "service": np.concatenate(keys)})
