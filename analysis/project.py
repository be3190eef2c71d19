"""The project file: one GeoPackage holding every layer, the settings, the summary and
the edit journal (CONTRACT.md). Layers are stored in WGS84. Writes are atomic: the file
is written beside the target under a temporary name and renamed over it, so a crash or a
failed write never damages the previous file.
"""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from analysis.pipeline import Result
from geo.errors import InputError, ProjectFileError

FORMAT_VERSION = 1
META_TABLE = "gridcircle_meta"
LAYER_ORDER = ("communities", "grids", "households", "facilities", "service_areas", "coverage",
               "gaps")


def _json_default(value: object) -> object:
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "__dict__"):
        return value.__dict__
    return str(value)


def to_storage(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy ready for the GeoPackage: WGS84, and all-empty columns typed as text."""
    out = frame.copy()
    if isinstance(out, gpd.GeoDataFrame) and out.crs is not None:
        out = out.to_crs(4326)
    for col in out.columns:
        if col != "geometry" and out[col].dtype == object and out[col].isna().all():
            out[col] = out[col].astype("string")
    return out


def check_output_path(path: str | Path) -> Path:
    """Refuse an output path that is not a ``.gpkg`` in an existing folder (before any work)."""
    path = Path(path)
    if path.suffix.lower() != ".gpkg":
        raise InputError("err.out_not_gpkg", path=path)
    if not path.parent.exists():
        raise InputError("err.out_dir_missing", path=path)
    return path


def save_project(result: Result, path: str | Path, *, extra_meta: dict | None = None) -> Path:
    """Write ``result`` to ``path`` (a ``.gpkg``) atomically.

    Raises
    ------
    InputError
        If the path does not end in ``.gpkg`` or its folder does not exist.
    ProjectFileError
        If writing fails; the previous file at ``path`` (if any) is left unchanged.
    """
    path = check_output_path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.gpkg")
    try:
        for name in LAYER_ORDER:
            frame = result.layers.get(name)
            if frame is None:
                continue
            pyogrio.write_dataframe(to_storage(frame), tmp, layer=name, driver="GPKG")
        meta = {
            "format_version": FORMAT_VERSION,
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "area": result.area.name,
            "crs": result.area.crs.to_string(),
            "settings": result.settings,
            "summary": result.summary,
            "credit": result.summary.get("credit", ""),
            **(extra_meta or {}),
        }
        rows = pd.DataFrame({"key": list(meta),
                             "value": [json.dumps(v, ensure_ascii=False, default=_json_default)
                                       for v in meta.values()]})
        pyogrio.write_dataframe(rows, tmp, layer=META_TABLE, driver="GPKG")
        with sqlite3.connect(tmp) as con:  # make sure everything is on disk before renaming
            con.execute("PRAGMA integrity_check")
        os.replace(tmp, path)
    except (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            sqlite3.Error) as exc:
        raise ProjectFileError("err.write_failed", path=path, detail=exc) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def read_meta(path: str | Path) -> dict:
    """The settings, summary and other metadata stored in a project file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("err.file_missing", path=path)
    try:
        rows = pyogrio.read_dataframe(path, layer=META_TABLE)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ProjectFileError("err.not_project", path=path, detail=exc) from None
    return {k: json.loads(v) for k, v in zip(rows["key"], rows["value"])}


def read_layers(path: str | Path) -> dict[str, pd.DataFrame]:
    """Every CONTRACT.md layer stored in a project file (WGS84)."""
    path = Path(path)
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
        return {n: pyogrio.read_dataframe(path, layer=n) for n in LAYER_ORDER if n in names}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ProjectFileError("err.not_project", path=path, detail=exc) from None
