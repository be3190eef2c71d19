"""What the batch's workbook and PDF both read: a district's gaps, a column's heading,
the services' names (:mod:`.compare` writes the workbook, :mod:`.pdf` the PDF)."""

from __future__ import annotations

from pathlib import Path

import pyogrio

from analysis.batch.task import PROJECT
from analysis.export import column_label
from geo.catalogue import load_catalogue
from geo.i18n import t, table


def read_gaps(folder: Path, *, geometry: bool = False):
    """A district's gaps (service, households; geometry in WGS84 when asked), or None."""
    path = folder / PROJECT
    try:
        return pyogrio.read_dataframe(path, layer="gaps", columns=["service", "households"],
                                      read_geometry=geometry)
    except Exception:  # no gaps layer (nothing uncovered) or an unreadable file
        return None


def label(field: str, lang: str, services: dict) -> str:
    """A comparison column's heading in ``lang``."""
    for prefix in ("rank_", "coverage_", "shortfall_"):
        if field.startswith(prefix):
            rest = field[len(prefix):]
            if prefix == "rank_":
                return t("batch.col.rank", lang, what=label(rest, lang, services))
            name = services.get(rest, {}).get(lang, rest)
            return t(f"batch.col.{prefix[:-1]}", lang, service=name,
                     minutes=f"{services.get(rest, {}).get('minutes', 15):g}")
    key = f"batch.col.{field}"
    if key in table():
        return t(key, lang)
    return column_label(field, lang)


def service_names(meta: dict) -> dict:
    catalogue = {s.key: s for s in load_catalogue()}
    return {s: {"zh": catalogue[s].name("zh") if s in catalogue else s,
                "en": catalogue[s].name("en") if s in catalogue else s,
                "minutes": float(meta["thresholds"].get(s, 15))} for s in meta["services"]}


__all__ = ["label", "read_gaps", "service_names"]
