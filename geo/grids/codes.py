"""Grid codes in the structure of CJ/T 349-2010 (数字社区管理与服务 网格划分与编码规则).

The standard's code (its figure 1 and clauses 5.3-5.7) is, from the left:

======  ==========================================================  ==================
digits  part                                                         rule
======  ==========================================================  ==================
1-6     management or service object (管理或服务对象代码)            CJ/T 348-2010
7-12    county or above (县级及县级以上行政区划代码)                  GB/T 2260
13-15   street or township (街道（乡镇）代码)                         GB/T 10114
16-18   community (社区代码)                                          CJ/T 213
19-20   grid sequence in the community (专业网格顺序码)               left to right,
                                                                     top to bottom;
                                                                     ``00`` when the
                                                                     community is not
                                                                     divided
======  ==========================================================  ==================

Gridcircle writes the last 14 digits (county + street + community + sequence) as
``grid_code`` when the planner gives the county (and street) code, and the 20-digit form
as ``grid_code_full`` only when the planner also gives the 6-digit object code (the
object codes of CJ/T 348-2010 are not bundled). The community part is the community's own
code when the communities upload carries one (a 3-digit code, or the 9- or 12-digit
statistical code whose last 3 digits name the community), else a number in reading order
(north-west first). The sequence is the number of the grid's stable id
(``<community>-<NN>``, :mod:`geo.grids.numbering`), so editing one grid never changes
another grid's code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.grids.communities import reading_order

SCHEME = "CJ/T 349-2010"
_ADMIN = re.compile(r"^(\d{6})(\d{3})?$")
_OBJECT = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class CodeScheme:
    """The planner's part of the code: county (6 digits, GB/T 2260), street (3 digits,
    GB/T 10114; ``""`` when not given) and object class (6 digits, CJ/T 348; optional)."""

    county: str = ""
    street: str = ""
    object_code: str = ""

    def __post_init__(self) -> None:
        if self.county and not re.fullmatch(r"\d{6}", self.county):
            raise InputError("err.admin_code", value=_shown(self.county))
        if self.street and (not self.county or not re.fullmatch(r"\d{3}", self.street)):
            raise InputError("err.admin_code", value=_shown(self.county + self.street))
        if self.object_code and not _OBJECT.match(self.object_code):
            raise InputError("err.object_code", value=_shown(self.object_code))

    @classmethod
    def parse(cls, admin_code: str | None, object_code: str | None = None) -> "CodeScheme":
        """``COUNTY6[STREET3]`` (spaces and dashes ignored) and an optional object code."""
        text = re.sub(r"[\s\-_]", "", str(admin_code or ""))
        obj = re.sub(r"[\s\-_]", "", str(object_code or ""))
        if not text:
            return cls(object_code=obj) if obj else cls()
        found = _ADMIN.match(text)
        if not found:
            raise InputError("err.admin_code", value=_shown(text))
        return cls(found.group(1), found.group(2) or "", obj)

    @classmethod
    def from_meta(cls, meta: dict | None) -> "CodeScheme":
        """The scheme recorded in a project's ``meta["grid_system"]`` (defaults when absent
        or unusable)."""
        rec = (meta or {}).get("grid_system") if isinstance(meta, dict) else None
        if not isinstance(rec, dict):
            return cls()
        try:
            return cls(str(rec.get("county") or ""), str(rec.get("street") or ""),
                       str(rec.get("object_code") or ""))
        except InputError:
            return cls()

    @property
    def admin_code(self) -> str:
        return self.county + self.street

    def record(self, community_codes: dict[str, str]) -> dict:
        """What the project stores in ``meta["grid_system"]``."""
        return {"scheme": SCHEME, "county": self.county, "street": self.street,
                "object_code": self.object_code, "community_codes": dict(community_codes)}


def _shown(value: str) -> str:
    return value[:20]


def community_codes(communities: pd.DataFrame | None, grids: pd.DataFrame) -> dict[str, str]:
    """Community id → ``(street3, community3)``-bearing code text.

    Returns ``{community_id: code}`` where ``code`` is 3 digits (the community), or 6
    digits (street + community) when the community's own id is a 9- or 12-digit
    statistical code; a community the tool derived (``C01``, ``C02``, … numbered in reading
    order already) keeps its number. Other communities are numbered 001, 002, … in reading
    order (north-west first, left to right, top to bottom), after the codes in use."""
    ids = list(dict.fromkeys(str(c) for c in grids["community_id"].dropna()))
    if communities is not None and len(communities) and "community_id" in communities:
        ids = list(dict.fromkeys([*map(str, communities["community_id"]), *ids]))
    codes: dict[str, str] = {}
    for cid in ids:
        digits = cid.strip()
        if re.fullmatch(r"\d{3}", digits):
            codes[cid] = digits
        elif re.fullmatch(r"\d{9}|\d{12}", digits):
            codes[cid] = digits[-6:]
        elif (re.fullmatch(r"C\d{1,3}", digits) and 0 < int(digits[1:]) <= 999
              and f"{int(digits[1:]):03d}" not in {c[-3:] for c in codes.values()}):
            # a community the tool derived: already numbered in reading order
            codes[cid] = f"{int(digits[1:]):03d}"
    rest = [c for c in ids if c not in codes]
    if rest:
        xy = _centres(rest, communities, grids)
        # rows half a community high: communities one above the other never share a row
        row_m = max(1.0, 0.5 * float(np.median(np.sqrt(xy[:, 2])))) if len(xy) else 1.0
        order = reading_order(xy[:, :2], row_m=row_m)
        used = {c[-3:] for c in codes.values()}
        number = 0
        for k in order:
            while True:
                number += 1
                code = f"{number:03d}"
                if code not in used:
                    break
            codes[rest[k]] = code
    return codes


def _centres(ids: list[str], communities: pd.DataFrame | None, grids: pd.DataFrame) -> np.ndarray:
    """``(x, y, area)`` of each community (its polygon, else the union of its grids)."""
    out = []
    geoms = {}
    if communities is not None and "geometry" in getattr(communities, "columns", ()):
        geoms = dict(zip(communities["community_id"].astype(str), communities.geometry))
    for cid in ids:
        geom = geoms.get(cid)
        if geom is None or geom.is_empty:
            part = grids[grids["community_id"].astype(str) == cid]
            geom = part.geometry.union_all() if len(part) else None
        if geom is None or geom.is_empty:
            out.append((0.0, 0.0, 1.0))
        else:
            c = geom.centroid
            out.append((c.x, c.y, max(geom.area, 1.0)))
    return np.array(out, dtype=float).reshape(-1, 3)


def sequence_numbers(grids: pd.DataFrame) -> pd.Series:
    """The 2-digit sequence of each grid: the number of its stable id
    (``<community>-<NN>``); grids whose id carries no number are numbered after the
    largest in their community, in reading order. A community of one grid is not divided:
    ``00`` (CJ/T 349-2010, 5.7)."""
    ids = grids["grid_id"].astype(str)
    comm = grids["community_id"].astype(str)
    numbers = ids.str.extract(r"-(\d+)$")[0]
    seq = pd.Series(pd.to_numeric(numbers, errors="coerce"), index=grids.index)
    for cid, idx in comm.groupby(comm).groups.items():
        part = seq.loc[idx]
        missing = part.index[part.isna()]
        if len(missing):
            start = int(part.max()) if part.notna().any() else 0
            cen = grids.loc[missing].geometry.centroid
            xy = np.column_stack([cen.x, cen.y])
            order = reading_order(xy, row_m=max(1.0, float(np.sqrt(grids.loc[missing].geometry.area.median()))))
            for rank, k in enumerate(order):
                seq.loc[missing[k]] = start + rank + 1
    counts = comm.map(comm.value_counts())
    text = seq.astype(int).map(lambda n: f"{n:02d}")
    return text.where(counts > 1, "00")


def grid_codes(grids: pd.DataFrame, communities: pd.DataFrame | None,
               scheme: CodeScheme) -> tuple[pd.DataFrame, dict[str, str]]:
    """``grid_code`` (and ``grid_code_full`` when the scheme has an object code) of every
    grid, keeping ``grids``' index, and the community codes used.

    With a county code: 14 digits, county 6 + street 3 + community 3 + sequence 2 (the
    street is ``000`` when neither the planner nor the community's statistical code gives
    it). Without: 5 digits, community 3 + sequence 2 (a local code)."""
    codes = community_codes(communities, grids)
    seq = sequence_numbers(grids)
    out = []
    for cid, s in zip(grids["community_id"].astype(str), seq):
        comm = codes.get(cid, "000")
        street = scheme.street or (comm[:3] if len(comm) == 6 else "000")
        local = comm[-3:] + s
        out.append(scheme.county + street + local if scheme.county else local)
    frame = pd.DataFrame({"grid_code": out}, index=grids.index)
    if scheme.county and scheme.object_code:
        frame["grid_code_full"] = [scheme.object_code + c for c in out]
    return frame, codes


__all__ = ["CodeScheme", "SCHEME", "community_codes", "grid_codes", "sequence_numbers"]
