"""Facility types in uploaded lists → service keys (``data/facility_types.csv``).

Amap exports say ``科教文化服务;学校;幼儿园``, planners write ``幼儿园`` or ``卫生服务站``,
English lists ``clinic``. A type takes the services of the first keyword it contains, in
the table's order; exact service keys and the catalogue's own names are recognised too.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

import geo.inputs.columns as cols
from geo.catalogue import Service
from geo.errors import InputError

DEFAULT_TYPES = Path(__file__).resolve().parents[2] / "data" / "facility_types.csv"


#: ``(keyword, services)`` rows in priority order.
TypeTable = tuple[tuple[str, tuple[str, ...]], ...]


@lru_cache(maxsize=4)
def load_facility_types(path: str | Path = DEFAULT_TYPES) -> TypeTable:
    """Read ``data/facility_types.csv``: ``(keyword, services)`` rows in priority order."""
    path = Path(path)
    out = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row_no, row in enumerate(csv.DictReader(handle), start=2):
            keyword = cols.normalise_text(row.get("keyword") or "")
            if not keyword or keyword.startswith("#"):
                continue
            services = tuple(s.strip() for s in (row.get("services") or "").split("|") if s.strip())
            if not services:
                raise InputError("err.type_table", path=path.name, row=row_no, detail="no service")
            out.append((keyword, () if services == ("-",) else services))
    return tuple(out)


def facility_services(text: str | None, catalogue: tuple[Service, ...], *,
                      types: TypeTable | None = None) -> tuple[str, ...] | None:
    """The services a facility type (or name) stands for.

    Returns the service keys, ``()`` for a type known not to be analysed (parking), or
    ``None`` for an unknown type.
    """
    if not text:
        return None
    types = types if types is not None else load_facility_types()
    key = cols.normalise_text(text)
    for service in catalogue:
        if key in (service.key, cols.normalise_text(service.name_zh),
                   cols.normalise_text(service.name_en)):
            return (service.key,)
    for keyword, services in types:
        if keyword in key:
            return services
    return None


def check_types(types: TypeTable, catalogue: tuple[Service, ...],
                path: Path = DEFAULT_TYPES) -> None:
    """Refuse a type table naming a service the catalogue does not have."""
    keys = {s.key for s in catalogue}
    for keyword, services in types:
        unknown = [s for s in services if s not in keys]
        if unknown:
            raise InputError("err.type_table", path=path.name, row=keyword,
                             detail=f"unknown service {', '.join(unknown)}")
