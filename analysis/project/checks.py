"""Checking a project file's settings before they are used (issue 13 item 6).

A project file is a GeoPackage anyone can edit: its meta table may hold a band that is
not two numbers, a coordinate system nobody knows, a journal position that is text, a
summary that is a list, a 5-million-character area name; its households layer may have
lost its count column. :func:`check_project_meta` and :func:`check_project_layers` turn
each of these into one :class:`~geo.errors.ProjectFileError` (``err.not_project``) that
names the setting, instead of a traceback somewhere later. Values from the file are
never quoted in the message (only their type), so nothing in a file leaks into a log.
"""

from __future__ import annotations

import math
from pathlib import Path

import pyproj

from geo.errors import ProjectFileError

#: Longest text accepted in a project's descriptive settings (area name, credit, author).
MAX_TEXT = 500
_TEXT_KEYS = ("area", "area_name", "credit", "saved_by", "saved_at", "writer")
_DICT_KEYS = ("summary", "settings", "thresholds_min")
_SUMMARY_TABLES = ("coverage", "crow_flies_coverage", "thresholds_min", "speed_mps", "timings_s",
                   "settings", "households_by_source", "facilities_by_service", "network",
                   "grids_report", "reach", "data_completeness", "compound_access",
                   "coverage_groups")


def _whole(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value) and value.is_integer()


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _positive(value: object) -> bool:
    return _number(value) and value > 0


def _bad(path: Path, setting: str, why: str) -> ProjectFileError:
    return ProjectFileError("err.not_project", path=path,
                            detail=f"setting '{setting}' {why}")


def check_project_meta(meta: dict, path: str | Path) -> None:
    """Refuse settings of the wrong type or out of range (see the module docstring).

    Raises
    ------
    ProjectFileError
        ``err.not_project`` naming the setting.
    """
    path = Path(path)
    crs = meta.get("crs")
    if not isinstance(crs, str) or not crs or len(crs) > 2000:
        raise _bad(path, "crs", "is not a coordinate system name")
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except (pyproj.exceptions.CRSError, TypeError, ValueError):
        raise _bad(path, "crs", "names no known coordinate system") from None
    if not parsed.is_projected:
        raise _bad(path, "crs", "is not a projected coordinate system (metres)")
    band = meta.get("band")
    if band is not None:
        if not (isinstance(band, list) and len(band) == 2 and all(_whole(b) for b in band)):
            raise _bad(path, "band", "is not two whole numbers")
        if not 0 < band[0] <= band[1] <= 1_000_000:
            raise _bad(path, "band", "is not a range of households (0 < minimum ≤ maximum)")
    for key in ("journal_position", "revision", "format_version"):
        value = meta.get(key)
        if value is not None and (not _whole(value) or value < 0):
            raise _bad(path, key, "is not a whole number ≥ 0")
    for key in _DICT_KEYS:
        value = meta.get(key)
        if value is not None and not isinstance(value, dict):
            raise _bad(path, key, f"has type {type(value).__name__}, not a table of values")
    summary = meta.get("summary") or {}
    for key in ("households", "grids", "grids_in_band", "household_units", "communities"):
        value = summary.get(key)
        if value is not None and not (_whole(value) and value >= 0):
            raise _bad(path, f"summary.{key}", "is not a whole number ≥ 0")
    for key in _SUMMARY_TABLES:
        value = summary.get(key)
        if value is not None and not isinstance(value, dict):
            raise _bad(path, f"summary.{key}", f"has type {type(value).__name__}, not a table of values")
    for where, table in (("thresholds_min", meta.get("thresholds_min")),
                         ("summary.thresholds_min", summary.get("thresholds_min")),
                         ("summary.speed_mps", summary.get("speed_mps"))):
        for value in (table or {}).values():
            if not _positive(value):
                raise _bad(path, where, "holds a value that is not a positive number")
    for where in ("coverage", "crow_flies_coverage"):
        for value in (summary.get(where) or {}).values():
            if value is not None and not (_number(value) and 0 <= value <= 1):
                raise _bad(path, f"summary.{where}", "holds a share outside 0–1")
    for group, shares in (summary.get("coverage_groups") or {}).items():
        if not isinstance(shares, dict) or not all(_number(v) and 0 <= v <= 1
                                                   for v in shares.values()):
            raise _bad(path, "summary.coverage_groups", "holds a share outside 0–1")
    for key, value in (meta.get("settings") or {}).items():
        if not isinstance(value, dict):
            raise _bad(path, f"settings.{key}", f"has type {type(value).__name__}, not a table of values")
    for key in _TEXT_KEYS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise _bad(path, key, f"has type {type(value).__name__}, not text")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise _bad(path, key, f"is longer than {MAX_TEXT} characters")
    known = meta.get("known_grid_ids")
    if known is not None and not (isinstance(known, list)
                                  and all(isinstance(k, str) and len(k) <= 100 for k in known)):
        raise _bad(path, "known_grid_ids", "is not a list of grid ids")


def check_project_layers(path: str | Path) -> None:
    """Refuse a project whose households layer lacks its whole-number ``households`` column.

    Raises
    ------
    ProjectFileError
        ``err.not_project`` naming the layer and column.
    """
    import pyogrio

    path = Path(path)
    try:
        names = {str(n) for n, _ in pyogrio.list_layers(path)}
        if "households" not in names:
            raise ProjectFileError("err.not_project", path=path, detail="no households layer")
        info = pyogrio.read_info(path, layer="households")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ProjectFileError("err.not_project", path=path, detail=type(exc).__name__) from None
    dtypes = dict(zip([str(f) for f in info["fields"]], [str(d) for d in info["dtypes"]]))
    if "households" not in dtypes:
        raise ProjectFileError("err.not_project", path=path,
                               detail="the households layer has no 'households' column")
    if not dtypes["households"].startswith(("int", "uint", "float")):
        raise ProjectFileError("err.not_project", path=path,
                               detail="the households layer's 'households' column is not numbers")


__all__ = ["MAX_TEXT", "check_project_layers", "check_project_meta"]
