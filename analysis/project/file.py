"""The project file: one GeoPackage holding every layer, the settings, the summary and
the edit journal (CONTRACT.md); the project in memory and what an edit changes are in
:mod:`analysis.project.state` (:mod:`analysis.project` offers both). Layers are stored in
WGS84. Writes are atomic: the file is written beside the target under a temporary name,
flushed to disk and renamed over it, so a crash, a kill or a failed write never damages
the previous file.

Besides the CONTRACT.md layers a project stores what is needed to re-open it with the
identical state and to print it without the original inputs: ``coverage_levels``
(coverage per community and for the whole area), ``cells`` (the tessellation
cells grids are made of, and each cell's grid), ``roads``, ``buildings`` and
``study_area`` (the offline basemap), a ``gridcircle_meta`` table (format version,
revision, settings, summary, credit) and a ``gridcircle_journal`` table (one row per grid
edit: time, free-text author, what changed, and whether it is applied or undone).

Two page sessions editing the same file cannot overwrite each other silently: every
save increments the file's ``revision``; a save whose project was read at an older
revision than the file now has is refused with :class:`ProjectFileError`
(``err.project_conflict``), and :func:`autosave` then writes a recovery copy instead.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from analysis.outputs import fsync_path
from analysis.pipeline import Result
from analysis.project.state import Project, json_text, project_from_result, session_from_layers
from geo.grids import edits
from geo.grids.reasons import encode_reasons
from geo.errors import InputError, ProjectFileError
from analysis.project.checks import check_project_layers, check_project_meta
from analysis.project.values import check_project_rows

#: Version 1: layers and meta only. Version 2 adds revision, cells, basemap layers and
#: the edit journal. A reader opens every version up to its own and refuses newer ones.
FORMAT_VERSION = 2
META_TABLE = "gridcircle_meta"
JOURNAL_TABLE = "gridcircle_journal"
CONTRACT_LAYERS = ("communities", "grids", "households", "facilities", "service_areas",
                   "coverage", "gaps")
EXTRA_LAYERS = ("coverage_levels", "cells", "roads", "buildings", "study_area",
                "compound_walls", "compound_gates",  # gated compounds (geo.walls)
                "workers")  # grid workers' posts, only when a roster was given
LAYER_ORDER = CONTRACT_LAYERS + EXTRA_LAYERS
LOCK_TIMEOUT_S = 30.0
_WRITE_ERRORS = (OSError, pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                 sqlite3.Error)


# --------------------------------------------------------------------------- on disk


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
    if os.path.lexists(path) and not (path.is_file() or path.is_dir()):  # a device, a pipe …
        raise InputError("err.out_special", path=path)
    return path


@contextmanager
def file_lock(path: Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold an exclusive lock on ``path``'s sidecar ``.NAME.lock`` (released on exit or death)."""
    lock = path.with_name(f".{path.name}.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout_s
    try:
        try:
            import fcntl

            def acquire() -> bool:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return True
                except BlockingIOError:
                    return False

            def release() -> None:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except ImportError:  # Windows
            import msvcrt

            def acquire() -> bool:
                try:
                    msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
                    return True
                except OSError:
                    return False

            def release() -> None:
                os.lseek(fd, 0, 0)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        while not acquire():
            if time.monotonic() > deadline:
                raise ProjectFileError("err.project_locked", path=path)
            time.sleep(0.05)
        try:
            yield
        finally:
            release()
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _temp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.tmp.gpkg")


def clean_stale_temps(path: Path) -> list[Path]:
    """Remove temporary files left beside ``path`` by saves that were killed mid-way."""
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp.gpkg*"):
        try:
            pid = int(tmp.name[len(path.name) + 2:].split(".", 1)[0])
        except ValueError:
            continue
        if not _pid_alive(pid):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def journal_frame(session: edits.EditSession | None) -> pd.DataFrame:
    """The edit journal as the rows a project file stores (one per edit, ``record`` as
    JSON text); an empty frame with the same columns when there is no edit."""
    columns = ["seq", "time_utc", "author", "op", "grids", "applied", "warnings", "record"]
    if session is None or not session.entries:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("seq", "applied") else "str")
                             for c in columns})
    rows = []
    for k, entry in enumerate(session.entries):
        rows.append({
            "seq": k + 1, "time_utc": entry.time_utc, "author": entry.author, "op": entry.op,
            "grids": ", ".join(entry.touched()), "applied": int(k < session.position),
            "warnings": encode_reasons(entry.warnings),  # notes: [[key, params], ...]
            "record": json_text(entry.to_record()),
        })
    return pd.DataFrame(rows, columns=columns)


@contextmanager
def _unsynced_sqlite() -> Iterator[None]:
    """Let SQLite skip its per-transaction fsync while the temporary file is written.

    Safe because the finished temporary file is fsynced as a whole before it replaces
    the project; 5–10× faster on disks where fsync is slow.
    """
    old = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": old})


def _write_file(project: Project, tmp: Path, meta: dict) -> None:
    with _unsynced_sqlite():
        _write_layers(project, tmp, meta)
    with sqlite3.connect(tmp) as con:
        ok = con.execute("PRAGMA quick_check").fetchone()[0]
    if ok != "ok":
        raise sqlite3.DatabaseError(f"integrity check: {ok}")
    fsync_path(tmp)


def _write_layers(project: Project, tmp: Path, meta: dict) -> None:
    credit = project.credit
    options = {"DESCRIPTION": credit} if credit else {}
    for name in LAYER_ORDER:
        frame = project.layers.get(name)
        if frame is None:
            continue
        pyogrio.write_dataframe(to_storage(frame), tmp, layer=name, driver="GPKG",
                                layer_options=options)
    rows = pd.DataFrame({"key": list(meta), "value": [json_text(v) for v in meta.values()]})
    pyogrio.write_dataframe(rows, tmp, layer=META_TABLE, driver="GPKG")
    pyogrio.write_dataframe(journal_frame(project.session), tmp, layer=JOURNAL_TABLE,
                            driver="GPKG")


def _file_revision(path: Path) -> tuple[int, dict] | None:
    """The revision and meta of an existing project file (``None`` if there is no file)."""
    if not path.exists():
        return None
    meta = read_meta(path)
    return int(meta.get("revision", 0) or 0), meta


def save(project: Project, path: str | Path | None = None, *, author: str = "",
         force: bool = False) -> Project:
    """Write ``project`` atomically and return it bound to the file at its new revision.

    Parameters
    ----------
    project
        What to save.
    path
        Where (``.gpkg``); default: the file it was opened from.
    author
        Free text stored as ``saved_by`` (at most ``edits.MAX_AUTHOR`` characters).
    force
        Overwrite even when someone else saved the file since this project was read.

    Raises
    ------
    InputError
        If the path is not a ``.gpkg`` in an existing folder, or none is known;
        ``err.author_long`` for an author name that is too long.
    ProjectFileError
        ``err.project_conflict`` when the file was saved by someone else since it was
        read; ``err.not_project`` when the target exists and is not a Gridcircle
        project; ``err.write_failed`` when writing fails. The previous file at ``path``
        is left unchanged in every case.
    """
    if path is None and project.path is None:
        raise InputError("err.project_no_path")
    author = edits.author_name(author)
    path = check_output_path(path if path is not None else project.path)
    clean_stale_temps(path)
    with file_lock(path):
        found = _file_revision(path)
        if found:
            check_version(found[1], path)  # never overwrite a file of a newer format
        current = found[0] if found else 0
        same_file = project.path is not None and Path(project.path).resolve() == path.resolve()
        if found and same_file and current != project.revision and not force:
            other = found[1]
            raise ProjectFileError("err.project_conflict", path=path, revision=current,
                                   saved_at=other.get("saved_at", "?"),
                                   author=other.get("saved_by") or "?")
        if found and int(found[1].get("format_version", 1)) < FORMAT_VERSION:
            backup = path.with_name(f"{path.stem}.v{found[1].get('format_version', 1)}.gpkg")
            if not backup.exists():
                shutil.copy2(path, backup)
        revision = max(current, project.revision) + 1
        session = project.session
        meta = {
            **{k: v for k, v in project.meta.items() if k not in ("format_version", "revision")},
            "format_version": FORMAT_VERSION,
            "revision": revision,
            "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "saved_by": author,
            "writer": "gridcircle",
            "journal_position": session.position if session else 0,
            "known_grid_ids": sorted(session.state.known_ids) if session else [],
        }
        tmp = _temp_path(path)
        try:
            _write_file(project, tmp, meta)
            os.replace(tmp, path)
            fsync_path(path.parent, directory=True)
        except _WRITE_ERRORS as exc:
            raise ProjectFileError("err.write_failed", path=path, detail=exc) from None
        finally:
            if tmp.exists():
                tmp.unlink()
    return replace(project, path=path, revision=revision, meta=meta)


def save_project(result: Result | Project, path: str | Path, *, extra_meta: dict | None = None,
                 author: str = "") -> Path:
    """Write a run's result (or a project) to ``path`` atomically; return the path.

    This is the command line's save: it overwrites an earlier project at ``path``.

    Raises
    ------
    InputError
        If the path does not end in ``.gpkg`` or its folder does not exist.
    ProjectFileError
        If writing fails; the previous file at ``path`` (if any) is left unchanged.
    """
    project = result if isinstance(result, Project) else project_from_result(result)
    if extra_meta:
        project = replace(project, meta={**project.meta, **extra_meta})
    return save(replace(project, path=None), path, author=author).path


def recovery_path(path: Path) -> Path:
    """A fresh file name beside ``path`` for work that could not be saved there."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.stem}.recovered-{stamp}.gpkg")
    k = 1
    while candidate.exists():
        k += 1
        candidate = path.with_name(f"{path.stem}.recovered-{stamp}-{k}.gpkg")
    return candidate


def autosave(project: Project, *, author: str = "") -> tuple[Project, tuple[str, dict] | None]:
    """Save after an edit without ever losing it.

    Saves to the project's own file. If someone else saved that file meanwhile, the
    work goes to a recovery copy beside it instead and the returned note says where.
    A project that was never saved is returned unchanged (nothing to autosave to).

    Returns
    -------
    (project, note)
        The project bound to the file it was written to, and ``None`` or a
        ``(translation key, params)`` note for the user.
    """
    if project.path is None:
        return project, None
    try:
        return save(project, author=author), None
    except ProjectFileError as exc:
        if exc.key != "err.project_conflict":
            raise
        target = recovery_path(Path(project.path))
        saved = save(replace(project, path=None), target, author=author)
        return saved, ("project.note.conflict_recovered",
                       {"path": str(project.path), "copy": str(target)})


def read_meta(path: str | Path) -> dict:
    """The settings, summary and other metadata stored in a project file."""
    path = Path(path)
    if not path.is_file():
        raise InputError("err.file_missing", path=path)
    try:
        names = {str(n) for n, _ in pyogrio.list_layers(path)}
        if META_TABLE not in names:
            raise ProjectFileError("err.not_project", path=path, detail=f"no {META_TABLE} table")
        rows = pyogrio.read_dataframe(path, layer=META_TABLE)
        return {k: json.loads(v) for k, v in zip(rows["key"], rows["value"])}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            json.JSONDecodeError, KeyError) as exc:
        raise ProjectFileError("err.not_project", path=path, detail=exc) from None


def read_layers(path: str | Path) -> dict[str, pd.DataFrame]:
    """Every layer stored in a project file (WGS84), CONTRACT.md layers first."""
    path = Path(path)
    try:
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
        return {n: pyogrio.read_dataframe(path, layer=n) for n in LAYER_ORDER if n in names}
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise ProjectFileError("err.not_project", path=path, detail=exc) from None


def read_journal(path: str | Path) -> pd.DataFrame:
    """The journal table of a project file (empty for files without one)."""
    path = Path(path)
    names = {str(n) for n, _ in pyogrio.list_layers(path)}
    if JOURNAL_TABLE not in names:
        return journal_frame(None)
    frame = pyogrio.read_dataframe(path, layer=JOURNAL_TABLE)
    return frame.sort_values("seq").reset_index(drop=True) if len(frame) else frame


def check_version(meta: dict, path: Path) -> tuple[tuple[str, dict], ...]:
    """Refuse a file of a newer format; return notes for an older one."""
    version = meta.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise ProjectFileError("err.project_bad_version", path=path, version=version)
    if version > FORMAT_VERSION:
        raise ProjectFileError("err.project_newer", path=path, version=version,
                               supported=FORMAT_VERSION)
    if version < FORMAT_VERSION:
        return (("project.note.older_format", {"version": version, "current": FORMAT_VERSION}),)
    return ()


def open_project(path: str | Path) -> Project:
    """Re-open a saved project with the state it was saved in (layers, settings, grid
    edits and their journal, so undo and redo carry on).

    Raises
    ------
    InputError
        If the file does not exist.
    ProjectFileError
        If it is not a Gridcircle project, is damaged, or was written by a newer version.
    """

    path = Path(path)
    meta = read_meta(path)
    notes = list(check_version(meta, path))
    check_project_meta(meta, path)  # wrong types or ranges: one message, not a traceback
    check_project_layers(path)
    crs = meta.get("crs")
    if not crs:
        raise ProjectFileError("err.not_project", path=path, detail="no crs in meta")
    layers = {}
    for name, frame in read_layers(path).items():
        if isinstance(frame, gpd.GeoDataFrame) and frame.crs is not None:
            frame = frame.to_crs(crs)
        layers[name] = frame
    if "households" not in layers:
        raise ProjectFileError("err.not_project", path=path, detail="no households layer")

    # NULL, text, negative or absurd counts, repeated ids, missing geometries: refused
    layers, repaired = check_project_rows(path, layers)
    notes += repaired
    journal = read_journal(path)
    try:
        entries = tuple(edits.entry_from_record(json.loads(r)) for r in journal.get("record", []))
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ProjectFileError("err.not_project", path=path, detail=f"journal: {exc}") from None
    position = int(meta.get("journal_position", len(entries)) or 0)
    position = min(max(position, 0), len(entries))
    project = Project(layers=layers, meta=meta, path=path,
                      revision=int(meta.get("revision", 0) or 0), notes=tuple(notes))
    try:
        session = session_from_layers(layers, project.band, entries=entries, position=position,
                                      known_ids=tuple(meta.get("known_grid_ids") or ()))
    except InputError as exc:
        raise ProjectFileError("err.not_project", path=path, detail=exc) from None
    return replace(project, session=session)


__all__ = ["CONTRACT_LAYERS", "EXTRA_LAYERS", "FORMAT_VERSION", "JOURNAL_TABLE", "LAYER_ORDER",
           "LOCK_TIMEOUT_S", "META_TABLE", "autosave", "check_output_path", "check_version",
           "clean_stale_temps", "file_lock", "journal_frame", "open_project", "read_journal",
           "read_layers", "read_meta", "recovery_path", "save", "save_project", "to_storage"]
