"""Checking an OpenStreetMap XML file before osmnx reads it.

osmnx reads a whole file into memory and trusts it: a compressed file that expands a
thousandfold exhausts memory, a node listed twice silently replaces the first (a street
then runs across the globe), a node at latitude 95 ends in a NaN deep inside GEOS, and
a file that starts with a long ``<!DOCTYPE`` is reported as "not OSM". Here, in one
streaming pass with bounded memory:

- :func:`plain_osm` streams an ``.osm.bz2``/``.osm.gz`` into a private temporary file
  (mode 0600, removed afterwards), counting the bytes: beyond
  :attr:`~geo.settings.InputLimits.max_osm_mb`, or expanding more than
  ``max_osm_ratio`` times, it stops and refuses the file;
- :func:`sniff_osm` refuses a document type declaration (OSM files have none; entity
  declarations are how XML bombs work) and anything that is not OSM XML;
- :func:`scan_osm` refuses duplicate node or way ids, node coordinates out of range and
  ways whose nodes are missing, naming a few of each.
"""

from __future__ import annotations

import bz2
import gzip
import math
import os
import tempfile
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from geo.errors import InputError
from geo.settings import InputLimits

COMPRESSED = {".bz2": bz2.open, ".gz": gzip.open}
_CHUNK = 1 << 20
_FREE_BYTES = 4 << 20  # decompressed bytes always allowed before the ratio applies
_HEAD = 64 * 1024
_EXAMPLES = 5
#: Longest name kept from OSM (the longest real Chinese place names are far shorter).
MAX_NAME = 200


def _opener(path: Path):
    return COMPRESSED.get(path.suffix.lower())


@contextmanager
def plain_osm(path: Path, *, limits: InputLimits = InputLimits()) -> Iterator[Path]:
    """Yield a path to the uncompressed XML: ``path`` itself, or a private temporary copy
    of a compressed file, decompressed while counting (removed when the block ends).

    Raises
    ------
    InputError
        ``err.osm_too_large`` beyond ``limits.max_osm_mb`` or ``limits.max_osm_ratio``;
        ``err.not_osm`` for a damaged compressed stream.
    """
    opener = _opener(path)
    if opener is None:
        if path.stat().st_size > limits.max_osm_bytes:
            raise InputError("err.osm_too_large", path=path.name, limit_mb=limits.max_osm_mb)
        yield path
        return
    allowed = min(limits.max_osm_bytes,
                  max(_FREE_BYTES, int(limits.max_osm_ratio * path.stat().st_size)))
    fd, name = tempfile.mkstemp(prefix="gridcircle-osm-", suffix=".osm")  # mode 0600
    tmp = Path(name)
    try:
        try:
            written = 0
            with os.fdopen(fd, "wb") as out, opener(path, "rb") as stream:
                while True:
                    chunk = stream.read(_CHUNK)
                    if not chunk:
                        break
                    written += len(chunk)
                    if written > allowed:
                        raise InputError("err.osm_too_large", path=path.name,
                                         limit_mb=round(allowed / 2**20, 1))
                    out.write(chunk)
        except InputError:
            raise
        except (OSError, EOFError, zlib.error, ValueError) as exc:
            detail = getattr(exc, "strerror", None) or f"{type(exc).__name__}: damaged compressed data"
            raise InputError("err.not_osm", path=path.name, detail=detail) from None
        if written == 0:
            raise InputError("err.file_empty", path=path.name)
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def sniff_osm(plain: Path, *, shown: str) -> None:
    """Refuse a file that declares a document type, or has no ``<osm`` element near its
    start (``shown`` names the file in messages)."""
    try:
        with plain.open("rb") as handle:
            head = handle.read(_HEAD)
    except OSError as exc:
        raise InputError("err.not_osm", path=shown, detail=type(exc).__name__) from None
    start = head.find(b"<osm")
    doctype = head.find(b"<!DOCTYPE")
    entity = head.find(b"<!ENTITY")
    if (doctype >= 0 and (start < 0 or doctype < start)) or (entity >= 0 and
                                                             (start < 0 or entity < start)):
        raise InputError("err.osm_doctype", path=shown)
    if start < 0:
        raise InputError("err.not_osm", path=shown, detail="no <osm> element at the start")


def _coordinate(elem: ET.Element) -> tuple[float, float] | None:
    """A node's ``(lat, lon)`` if both are finite and in range, else ``None``."""
    try:
        lat, lon = float(elem.get("lat", "")), float(elem.get("lon", ""))
    except ValueError:
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)) or abs(lat) > 90 or abs(lon) > 180:
        return None
    return lat, lon


def osm_id(raw: str) -> int | str:
    """An element id as the parsers read it: a whole number whatever its sign, spaces,
    leading zeros or digit width (``+292591115``, `` 0292591115``, ``２９２５９１１１５`` are one
    id); other text stays text (stripped)."""
    try:
        return int(raw)
    except (TypeError, ValueError):
        return str(raw).strip()


def _examples(items: list[str], count: int) -> str:
    return ", ".join(items[:_EXAMPLES]) + (" …" if count > _EXAMPLES else "")


def scan_osm(plain: Path, *, shown: str) -> None:
    """One streaming pass over the XML (memory grows with the number of node ids only).

    Raises
    ------
    InputError
        ``err.osm_duplicate_ids`` naming a few duplicated ids; ``err.osm_bad_coords``
        naming a few nodes out of range; ``err.osm_dangling`` for ways whose nodes are
        missing; ``err.not_osm`` for XML that cannot be parsed.
    """
    nodes: set[int | str] = set()
    ways: set[int | str] = set()
    missing: set[str] = set()
    duplicates: list[str] = []
    n_duplicates = 0
    bad: list[str] = []
    n_bad = 0
    ways_missing, example = 0, None
    root = None
    try:
        with plain.open("rb") as handle:
            for event, elem in ET.iterparse(handle, events=("start", "end")):
                if root is None:
                    root = elem
                if event == "start":
                    continue
                tag = elem.tag
                if tag == "node":
                    raw = elem.get("id", "")
                    key = osm_id(raw)  # before the duplicate check: +1 and 01 are node 1
                    if key in nodes:
                        n_duplicates += 1
                        if len(duplicates) < _EXAMPLES:
                            duplicates.append(f"node {raw[:20]}")
                    nodes.add(key)
                    if _coordinate(elem) is None:
                        n_bad += 1
                        if len(bad) < _EXAMPLES:
                            bad.append(f"node {raw[:20]} ({elem.get('lat', '?')[:12]}, "
                                       f"{elem.get('lon', '?')[:12]})")
                elif tag == "way":
                    wid = elem.get("id", "?")
                    if osm_id(wid) in ways:
                        n_duplicates += 1
                        if len(duplicates) < _EXAMPLES:
                            duplicates.append(f"way {wid[:20]}")
                    ways.add(osm_id(wid))
                    refs = {nd.get("ref", "") for nd in elem.iter("nd")}
                    if not refs:
                        raise InputError("err.not_osm", path=shown,
                                         detail=f"way {wid[:20]} has no nodes")
                    absent = {r for r in refs if osm_id(r) not in nodes}
                    if absent:
                        ways_missing += 1
                        missing |= absent
                        example = example or wid[:20]
                if tag in ("node", "way", "relation") and root is not None:
                    root.clear()  # the document never grows in memory
    except InputError:
        raise
    except (ET.ParseError, EOFError, OSError, ValueError, LookupError) as exc:
        # LookupError: an XML declaration naming an unknown encoding
        raise InputError("err.not_osm", path=shown, detail=str(exc)[:160]) from None
    if n_duplicates:
        raise InputError("err.osm_duplicate_ids", path=shown, count=n_duplicates,
                         examples=_examples(duplicates, n_duplicates))
    if n_bad:
        raise InputError("err.osm_bad_coords", path=shown, count=n_bad, total=len(nodes),
                         examples=_examples(bad, n_bad))
    if ways_missing:
        raise InputError("err.osm_dangling", path=shown, ways=ways_missing, nodes=len(missing),
                         example=example)


def cap_names(frame, *, limit: int = MAX_NAME):
    """``frame`` with its ``name`` column cut to ``limit`` characters (OSM names are typed
    by anyone; a 5-million-character name must not reach the report)."""
    if frame is None or "name" not in getattr(frame, "columns", ()):
        return frame
    def cut(value):
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + "…"
        if isinstance(value, list):  # osmnx joins the names of merged ways into a list
            return [cut(v) for v in value[:20]]
        return value

    frame = frame.copy()
    frame["name"] = frame["name"].map(cut)
    return frame


def check_bounds(frames, *, shown: str) -> None:
    """Refuse layers (read from PBF) with coordinates outside longitude ±180, latitude ±90."""
    import numpy as np
    import shapely

    for frame in frames:
        if frame is None or len(frame) == 0:
            continue
        coords = shapely.get_coordinates(frame.geometry.to_numpy())
        if not len(coords):
            continue
        bad = ~np.isfinite(coords).all(axis=1) | (np.abs(coords[:, 0]) > 180) | \
            (np.abs(coords[:, 1]) > 90)
        if bad.any():
            shown_bad = [f"({c[1]:.6g}, {c[0]:.6g})" for c in coords[bad][:_EXAMPLES]]
            raise InputError("err.osm_bad_coords", path=shown, count=int(bad.sum()),
                             total=len(coords), examples=_examples(shown_bad, int(bad.sum())))


__all__ = ["MAX_NAME", "cap_names", "check_bounds", "osm_id", "plain_osm", "scan_osm",
           "sniff_osm"]
