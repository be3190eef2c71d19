"""Opening a project the page received as an upload (issue 26 item 12).

The bytes are written to a private temporary file only because the GeoPackage reader needs
a path: a file of mode 0600 with a unique name (``tempfile``), created exclusively and
never through a link, inside a fresh folder of mode 0700; it is removed as soon as the
project was read, whatever happens. The upload's own name is never used, and no shared
folder is written.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from analysis.project.file import open_project
from analysis.project.state import Project


def open_uploaded_project(data: bytes) -> Project:
    """The project held in ``data`` (the bytes of a ``.gpkg``), with no path: saving it
    asks where.

    Raises
    ------
    geo.errors.ProjectFileError
        If the bytes are not a readable Gridcircle project (as :func:`open_project`).
    """
    folder = Path(tempfile.mkdtemp(prefix="gridcircle-upload-"))  # mode 0700, unique
    try:
        path = folder / "upload.gpkg"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(path, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        project = open_project(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return replace(project, path=None, revision=0)


__all__ = ["open_uploaded_project"]
