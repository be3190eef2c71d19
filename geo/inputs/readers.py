"""Reading an upload held in memory (the page's uploaded files) with the reader of its
kind (:data:`READERS`, also offered by :mod:`geo.inputs`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

from geo.inputs.communities import read_communities
from geo.errors import InputError
from geo.inputs.facilities import read_facilities
from geo.inputs.register import read_households
from geo.inputs.footprints import read_buildings, read_compounds
from geo.inputs.layer_parts import LayerRead
from geo.settings import InputLimits

#: The reader of each kind of upload.
READERS = {"households": read_households, "facilities": read_facilities,
           "communities": read_communities, "buildings": read_buildings,
           "compounds": read_compounds}

_UNSAFE_NAME = re.compile(r"[^\w.\-]+")


def read_upload(data: bytes, filename: str, *, kind: str,
                limits: InputLimits = InputLimits(), **options) -> LayerRead:
    """Read an upload held in memory (a Streamlit ``UploadedFile``'s bytes and name).

    The bytes are written, under a plain version of ``filename`` that keeps its suffix,
    into a fresh temporary folder that is removed afterwards; nothing else is written.

    Parameters
    ----------
    data, filename
        The uploaded file's content and original name (only its suffix and stem are used).
    kind
        A key of :data:`READERS`: ``'households'``, ``'facilities'``, ``'communities'``,
        ``'buildings'`` or ``'compounds'``.
    options
        Passed to the reader (``crs``, ``area``, ``privacy``, ``catalogue``, ``layer`` ...).

    Raises
    ------
    InputError
        As the reader does; also for a file over ``limits.max_file_mb`` before anything
        is written.
    """
    import tempfile

    if kind not in READERS:
        raise ValueError(f"kind must be one of {sorted(READERS)}, not {kind!r}")
    name = Path(str(filename).replace("\\", "/")).name
    if len(data) > limits.max_file_bytes:
        raise InputError("err.file_too_large", path=name, size_mb=round(len(data) / 2**20, 1),
                         limit_mb=limits.max_file_mb)
    suffix = "".join(Path(name).suffixes[-1:]).lower()
    stem = _UNSAFE_NAME.sub("_", Path(name).stem)[:60] or "upload"
    with tempfile.TemporaryDirectory(prefix="gridcircle-") as tmp:
        path = Path(tmp) / f"{stem}{suffix}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # private to this user
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return READERS[kind](path, limits=limits, **options)
