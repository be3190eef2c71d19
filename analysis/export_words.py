"""The words of CSV and XLSX exports: cells in the reader's language.

A spreadsheet is read by people: its cells say "社区卫生服务中心/诊所", not ``health``, "拆分网格",
not ``split``, and a grid's flag in one language, not a stored key or both languages in one
cell. Walking minutes are rounded to one decimal (a tenth of a minute is six seconds; the
GeoPackage keeps full precision). Columns that only hold codes for programs (``reason_key``,
``name_key``) are left out: the GeoPackage keeps them.
"""

from __future__ import annotations

import pandas as pd

from geo.grids.reasons import decode_reasons, name_text, reason_text
from geo.i18n import note_text
from geo.i18n import t, table
from geo.vocabulary import GAP_MAX_MINUTES, GAP_MEDIAN_MINUTES, MINUTES_PREFIX
from geo.catalogue import load_catalogue

#: Columns of codes for programs, kept in the GeoPackage only.
CODE_COLUMNS = ("reason_key", "name_key")
#: Columns of minutes (rounded to :data:`MINUTE_DECIMALS`).
MINUTE_DECIMALS = 1
#: Other measures rounded where shown to people: column → decimals.
ROUNDED = {"floor_area_m2": 1, "life_circle_score": 3, "outside_grids_m2": 0, "share": 4,
           "near_home_share": 3}
#: Columns whose values are codes with a translation: column → key prefix.
VALUE_KEYS = {"hh_source": "page.hh_source_", "cause": "gaps.cause_", "op": "edit.op.",
              "level": "export.value.level_", "source": "export.value.source_",
              "capacity_source": "export.value.source_", "origin": "gates.origin_"}


def _service_names(lang: str) -> dict[str, str]:

    return {s.key: s.name(lang) for s in load_catalogue()}


def _value_text(value: object, prefix: str, lang: str, known: dict) -> object:
    if not isinstance(value, str) or not value:
        return value
    key = prefix + value
    return t(key, lang) if key in known else value


def localise(name: str, frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Table ``name`` of an export with its cells in ``lang`` (see the module's text)."""
    out = frame.drop(columns=[c for c in CODE_COLUMNS if c in frame.columns])
    known = table()
    if "name_key" in frame.columns and "name" in out.columns:  # derived names in ``lang``
        out["name"] = [name_text(k, lang) if isinstance(k, str) and k else n
                       for k, n in zip(frame["name_key"], out["name"])]
    for col in out.columns:
        if str(col).startswith(MINUTES_PREFIX) or col in (GAP_MEDIAN_MINUTES, GAP_MAX_MINUTES):
            out[col] = pd.to_numeric(out[col], errors="coerce").round(MINUTE_DECIMALS)
        elif col in ROUNDED and pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].round(ROUNDED[col])
    if "service" in out.columns:
        names = _service_names(lang)
        out["service"] = out["service"].map(lambda s: names.get(s, s) if isinstance(s, str) else s)
    if "reason" in out.columns:
        out["reason"] = frame["reason"].map(lambda r: reason_text(r, lang))
    for col, prefix in VALUE_KEYS.items():
        if col in out.columns and (out[col].dtype == object
                                   or pd.api.types.is_string_dtype(out[col])):
            out[col] = out[col].map(lambda v, p=prefix: _value_text(v, p, lang, known))
    if name == "journal" and "warnings" in out.columns:
        out["warnings"] = out["warnings"].map(lambda w: _warnings_text(w, lang))
    return out


def _warnings_text(value: object, lang: str) -> object:
    """An edit's warnings in ``lang``: stored notes, or an older version's text (notes
    joined by `` | ``)."""
    if decode_reasons(value):
        return reason_text(value, lang)
    if not isinstance(value, str):
        return value
    return " | ".join(note_text(part, lang) for part in value.split(" | ") if part)


__all__ = ["CODE_COLUMNS", "MINUTE_DECIMALS", "localise"]
