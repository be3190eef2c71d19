"""Removing what killed runs of this tool left behind (issue 26 item 11).

An export killed mid-way leaves its hidden staging folder (``.gridcircle-<pid>-….stage``)
and a killed write its temporary file (``.gridcircle-<pid>-…``); a killed ``run`` leaves
its temporary project (``.<name>.<pid>.tmp.gpkg``). :func:`remove_stale` removes them at the
next run into the same folder: those whose process is no longer alive on this machine,
and those without a process id (older names) or on another machine once a day old. Files
of a run still going on are left alone; nothing but this tool's own names is touched.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

#: Names this tool gives temporary files and folders, with the writer's process id.
_OURS = re.compile(r"^\.gridcircle-(?:(?P<pid>\d+)-)?.*$")
_PROJECT_TEMP = re.compile(r"^\..+\.(?P<pid>\d+)\.tmp\.gpkg(?:-wal|-shm|-journal)?$")
#: Age after which a temporary file without a live process id is stale in any case.
MAX_AGE_S = 24 * 3600


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def is_stale(path: Path, *, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary file or folder of this tool whose writer is gone."""
    match = _OURS.match(path.name) or _PROJECT_TEMP.match(path.name)
    if match is None:
        return False
    try:
        age = (now or time.time()) - path.lstat().st_mtime
    except OSError:
        return False
    pid = match.group("pid")
    if pid is not None and not _alive(int(pid)):
        return True
    return age > MAX_AGE_S


def remove_stale(folder: str | Path) -> list[Path]:
    """Remove stale temporary files and staging folders of this tool in ``folder``
    (best effort: what cannot be removed is left); return what was removed."""
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for path in entries:
        if not path.name.startswith(".") or not is_stale(path):
            continue
        try:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        except OSError:
            continue
        removed.append(path)
    return removed


__all__ = ["MAX_AGE_S", "is_stale", "remove_stale"]
