"""Writing output files so that a reader never sees half a file.

Every output of the command line and the exports goes through here:

- :func:`check_output_file` / :func:`check_output_folder` refuse, *before* any work, a
  target in a missing or read-only folder, a file target that names a folder, and a
  folder target that is a file.
- :func:`atomic_file` yields a unique temporary path beside the target (so two runs
  writing one target never share a temporary file) and renames it over the target only
  when the writer finished; on any failure the temporary file is removed and the
  previous target is left as it was.
- :func:`staged_folder` does the same for a set of files written into one folder: they
  are written into a fresh hidden folder beside their targets and moved into place only
  when all of them were written.

Renames stay in one folder, so they are atomic on POSIX and Windows alike.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.errors import InputError, ProjectFileError

_PREFIX = ".gridcircle-"


def _writable_folder(folder: Path) -> bool:
    """Whether files can be created in ``folder`` (tried, not guessed from mode bits)."""
    try:
        fd, probe = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=".probe",
                                     dir=folder)
    except OSError:
        return False
    os.close(fd)
    try:
        os.unlink(probe)
    except OSError:
        pass
    return True


def check_output_file(path: str | Path) -> Path:
    """Refuse an output file that cannot be written, before any work is done.

    Raises
    ------
    InputError
        ``err.out_is_dir`` if ``path`` is a folder, ``err.out_dir_missing`` if its folder
        does not exist, ``err.out_not_writable`` if the folder (or an existing file) cannot
        be written.
    """
    path = Path(path)
    if str(path).endswith(("/", os.sep)) or path.is_dir():
        raise InputError("err.out_is_dir", path=path)
    folder = path.parent
    if not folder.is_dir():
        raise InputError("err.out_dir_missing", path=path)
    if not _writable_folder(folder) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError("err.out_not_writable", path=path)
    _refuse_special(path)
    return path


def check_pdf_file(path: str | Path) -> Path:
    """:func:`check_output_file` for a PDF (report, atlas): ``err.report_not_pdf`` unless
    the name ends in ``.pdf``."""
    path = Path(path)
    if path.suffix.lower() != ".pdf":
        raise InputError("err.report_not_pdf", path=path)
    return check_output_file(path)


def _refuse_special(path: Path) -> None:
    """Refuse an existing target that is not a regular file (a device such as
    ``/dev/null``, a pipe, a socket, or a link to one): replacing it would replace the
    device entry itself."""
    if os.path.lexists(path) and not path.is_file():
        raise InputError("err.out_special", path=path)


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file (the same path spelt differently, links included);
    paths that do not exist yet are compared by their resolved names."""
    a, b = Path(a), Path(b)
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
    except OSError:
        pass
    return os.path.normcase(a.resolve()) == os.path.normcase(b.resolve())


def check_distinct_outputs(outputs: dict[str, str | Path | None],
                           inputs: dict[str, str | Path | None] | None = None) -> None:
    """Refuse, before any work, two outputs that are one file (``--summary`` equal to
    ``--out`` would write the summary over the project) and an output that is one of the
    inputs. ``outputs`` and ``inputs`` map a flag to its path (``None``: not given).

    Raises
    ------
    InputError
        ``err.out_same_file`` naming both flags.
    """
    given = [(flag, Path(p)) for flag, p in outputs.items() if p]
    sources = [(flag, Path(p)) for flag, p in (inputs or {}).items() if p]
    for i, (flag, path) in enumerate(given):
        for other, other_path in given[i + 1:] + sources:
            if same_file(path, other_path):
                raise InputError("err.out_same_file", first=flag, second=other, path=path)


def check_output_folder(path: str | Path) -> Path:
    """Refuse an export folder that is a file, has no parent folder, or cannot be written
    (an existing folder must be writable; a new one is created by the export)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError("err.export_not_dir", path=path)
    if not path.exists():
        if not path.parent.is_dir():
            raise InputError("err.out_dir_missing", path=path)
        if not _writable_folder(path.parent):
            raise InputError("err.out_not_writable", path=path)
    elif not _writable_folder(path):
        raise InputError("err.out_not_writable", path=path)
    return path


def fsync_path(path: str | Path, *, directory: bool = False) -> None:
    """Flush a written file (or, with ``directory``, a folder's entries) to disk; best
    effort: a path that cannot be opened or synced (a folder on Windows) is passed over."""
    try:
        fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:
        return  # directories cannot be opened on Windows; the rename is durable there
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def _write_failed(path: Path) -> Iterator[None]:
    """Within the block, an ``OSError`` becomes :class:`ProjectFileError`
    (``err.write_failed`` naming ``path``); a ``ProjectFileError`` passes unchanged."""
    try:
        yield
    except ProjectFileError:
        raise
    except OSError as exc:
        raise ProjectFileError("err.write_failed", path=path,
                               detail=exc.strerror or type(exc).__name__) from None


@contextmanager
def atomic_file(target: str | Path) -> Iterator[Path]:
    """Yield a unique temporary path beside ``target``; on success rename it over ``target``.

    The temporary name keeps the target's suffix (writers that choose a format by suffix
    still work). On any exception the temporary file is removed, ``target`` is untouched,
    and ``OSError`` becomes :class:`ProjectFileError` (``err.write_failed``).
    """
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f"{_PREFIX}{os.getpid()}-{target.stem[:40]}-",
                                suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    os.unlink(tmp)  # writers create the file themselves (some refuse an existing one)
    try:
        with _write_failed(target):
            yield tmp
            if not tmp.exists():
                raise ProjectFileError("err.write_failed", path=target, detail="nothing written")
            fsync_path(tmp)
            _refuse_special(target)
            os.replace(tmp, target)
    finally:
        _remove(tmp)


def write_bytes_atomic(data: bytes, target: str | Path) -> Path:
    """Write ``data`` to ``target`` through :func:`atomic_file`."""
    with atomic_file(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_text_atomic(text: str, target: str | Path, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` through :func:`atomic_file`."""
    return write_bytes_atomic(text.encode(encoding), target)


@contextmanager
def folder_lock(folder: Path, *, timeout_s: float = 120.0) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``folder`` itself (no lock file is left behind;
    released on exit or when the process dies). Where folders cannot be locked (Windows),
    the block runs unlocked."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ProjectFileError("err.folder_locked", path=folder) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _move_all(staged: list[Path], out: Path) -> None:
    for path in staged:
        os.replace(path, out / path.name)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:
        pass


@contextmanager
def staged_folder(out_dir: str | Path, *, lock: bool = False) -> Iterator[Path]:
    """Yield a fresh hidden folder inside ``out_dir``; files written there (except hidden
    ones) are moved into ``out_dir``, replacing files of the same names, only when the
    block finishes.

    If the block fails (a full disk, a writer's error), nothing in ``out_dir`` has
    changed: the staged files are removed. ``out_dir`` must exist. With ``lock``, the
    folder itself is locked while the files are moved (:func:`folder_lock`), so two writers
    of one set of files never interleave: the folder holds one writer's whole set.
    """
    out = Path(out_dir)
    with _write_failed(out):
        stage = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", suffix=".stage",
                                      dir=out))
    try:
        with _write_failed(out):
            yield stage
            # hidden files (a writer's lock or temporary files) are not outputs
            staged = sorted(p for p in stage.iterdir() if not p.name.startswith("."))
            for path in staged:
                if path.is_file():
                    fsync_path(path)
            for path in staged:
                _refuse_special(out / path.name)
            if lock:
                with folder_lock(out):
                    _move_all(staged, out)
            else:
                _move_all(staged, out)
    finally:
        _remove(stage)


__all__ = ["atomic_file", "check_distinct_outputs", "check_output_file", "check_output_folder",
           "folder_lock", "fsync_path", "same_file",
           "staged_folder", "write_bytes_atomic", "write_text_atomic"]
