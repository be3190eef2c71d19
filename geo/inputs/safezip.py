"""Opening zip files users upload (zipped Shapefiles, and .xlsx, which is a zip) safely.

Every member is checked before anything is extracted: no absolute paths, no ``..``, no
links, a bounded number of members, a bounded total size and compression ratio (zip
bombs). Extraction then streams each member into a fresh temporary folder under a new,
plain name while counting the bytes actually written, so a member whose header lies
about its size cannot exceed the limit either.
"""

from __future__ import annotations

import lzma
import re
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from geo.errors import InputError
from geo.settings import InputLimits

_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_member_name(name: str) -> bool:
    """Whether a member name could escape the folder it is extracted into."""
    if not name or "\x00" in name:
        return True
    unified = name.replace("\\", "/")
    if unified.startswith("/") or _DRIVE.match(unified):
        return True
    return any(part == ".." for part in PurePosixPath(unified).parts)


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return info.create_system == 3 and stat.S_ISLNK(mode)


def open_checked(path: Path, *, limits: InputLimits) -> zipfile.ZipFile:
    """Open a zip file and check all its members before anything is read.

    The caller must close the returned file (use it in a ``with`` block).

    Raises
    ------
    InputError
        ``err.zip_bad`` if it is not a readable zip, ``err.zip_unsafe`` for a dangerous
        member path, ``err.zip_too_large`` for too many, too large or too well
        compressed members.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, UnicodeDecodeError, IndexError, OverflowError) as exc:
        raise InputError("err.zip_bad", path=path.name, detail=type(exc).__name__) from None
    try:
        infos = archive.infolist()
        if len(infos) > limits.max_zip_members:
            raise InputError("err.zip_too_large", path=path.name,
                             limit_mb=limits.max_uncompressed_mb)
        total = 0
        for info in infos:
            if unsafe_member_name(info.filename) or _is_link(info):
                raise InputError("err.zip_unsafe", path=path.name, member=info.filename)
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if total > limits.max_uncompressed_bytes or (
                    info.file_size > _CHUNK and ratio > limits.max_compression_ratio):
                raise InputError("err.zip_too_large", path=path.name,
                                 limit_mb=limits.max_uncompressed_mb)
    except BaseException:
        archive.close()
        raise
    return archive


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, path: Path,
                limits: InputLimits, budget: list[int]) -> bytes:
    """Read one member fully, counting against ``budget[0]`` bytes still allowed."""
    out = bytearray()
    for chunk in _stream(archive, info, path=path, limits=limits, budget=budget):
        out += chunk
    return bytes(out)


def extract_members(archive: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
                    folder: Path, *, path: Path, limits: InputLimits) -> dict[str, Path]:
    """Extract ``{new_name: member}`` into ``folder`` under the new plain names.

    ``folder`` must be a fresh temporary folder; new names must be plain file names.
    """
    budget = [limits.max_uncompressed_bytes]
    written: dict[str, Path] = {}
    for new_name, info in members.items():
        if "/" in new_name or "\\" in new_name or new_name in ("", ".", ".."):
            raise ValueError(f"not a plain file name: {new_name!r}")
        target = folder / new_name
        with target.open("xb") as handle:
            for chunk in _stream(archive, info, path=path, limits=limits, budget=budget):
                handle.write(chunk)
        written[new_name] = target
    return written


def _stream(archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, path: Path,
            limits: InputLimits, budget: list[int]):
    try:
        with archive.open(info) as member:
            while True:
                chunk = member.read(_CHUNK)
                if not chunk:
                    return
                budget[0] -= len(chunk)
                if budget[0] < 0:
                    raise InputError("err.zip_too_large", path=path.name,
                                     limit_mb=limits.max_uncompressed_mb)
                yield chunk
    except InputError:
        raise
    except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, OSError, EOFError, ValueError,
            RuntimeError, NotImplementedError, UnicodeDecodeError, OverflowError,
            IndexError) as exc:
        # RuntimeError: encrypted member; NotImplementedError: unknown compression
        raise InputError("err.zip_bad", path=path.name, detail=type(exc).__name__) from None
