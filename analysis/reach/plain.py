"""The answer without walls that a walled run keeps beside its own, made once per inputs.

A walled run measures the same homes and facilities once more in the plain street model
on the same cut network (:func:`analysis.reach.index.prepare_reach`): a wall only takes
ways away, and the summary compares coverage with walls against coverage without them.
That half does not depend on the walls at all: a gate added or closed, a compound opened
(the page's what-if measures both before and after) or a re-run with the walls kept cut
the same network (kept per set of outlines, :func:`geo.walls.graph.cut_network`) and
find the same plain index and, per walking settings, the same plain minutes. Both are
kept here on the objects they are made from (:func:`geo.kept.kept`), keyed by the content
of the inputs that the plain index reads (home coordinates, counts and index; every
facility column; the snap cap, services, island share and boundary), so that a new
frame with the same content finds them and any changed value does not. That content is
digested only when there is a kept index to compare it with (:class:`PlainInputs`): a
first run, which finds nothing kept, never digests its inputs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import pandas as pd
import shapely

from geo.kept import kept


def inputs_key(hh_xy: np.ndarray, weight: np.ndarray, household_index: pd.Index,
               facilities: pd.DataFrame, *extra) -> bytes | None:
    """A digest of what the plain index is made from (``None``: a column that cannot be
    hashed; then no kept index is taken for it)."""
    h = hashlib.blake2b(digest_size=20)
    try:
        for arr in (np.ascontiguousarray(hh_xy, dtype=np.float64),
                    np.ascontiguousarray(weight, dtype=np.int64)):
            h.update(str(arr.shape).encode())
            h.update(arr.tobytes())
        h.update(pd.util.hash_pandas_object(household_index, index=False).to_numpy().tobytes())
        h.update(repr((list(household_index.names), str(household_index.dtype))).encode())
        geom = facilities.geometry.name if hasattr(facilities, "geometry") else None
        cols = [c for c in facilities.columns if c != geom]
        # (a few thousand rows at most: their text is quicker than pandas' hashing)
        h.update(repr([(str(c), str(facilities[c].dtype)) for c in cols]).encode())
        h.update(repr(facilities.index.tolist()).encode())
        for c in cols:
            h.update(repr(facilities[c].to_numpy(dtype=object).tolist()).encode())
        if geom is not None:
            for g in shapely.to_wkb(facilities.geometry.to_numpy()):
                h.update(b"-" if g is None else g)
        h.update(str(getattr(facilities, "crs", None)).encode())
        for value in extra:
            h.update(shapely.to_wkb(value) if isinstance(value, shapely.Geometry)
                     else repr(value).encode())
            h.update(b"|")
    except (TypeError, ValueError):
        return None
    return h.digest()


class PlainInputs:
    """What a plain index is made from, as a key of :func:`geo.kept.kept` that is digested
    (:func:`inputs_key`) only when it is compared with another one: the lookup of a first
    run, with nothing kept, never digests. It holds its own copies of the arrays, the
    homes' index and the facilities (a shallow copy: pandas copies on write), so that a
    frame changed in place after the run does not change what was kept."""

    __slots__ = ("_inputs", "_digest")

    def __init__(self, hh_xy: np.ndarray, weight: np.ndarray, household_index: pd.Index,
                 facilities: pd.DataFrame, *extra) -> None:
        self._inputs = (hh_xy.copy(), weight.copy(), household_index.copy(),
                        facilities.copy(deep=False), str(getattr(facilities, "crs", None)),
                        extra)
        self._digest: bytes | None = None

    def digest(self) -> bytes | None:
        if self._inputs is not None:
            hh_xy, weight, hh_index, facilities, crs, extra = self._inputs
            self._digest = inputs_key(hh_xy, weight, hh_index, facilities, crs, *extra)
            self._inputs = None
        return self._digest

    def __hash__(self) -> int:
        return 0  # every key is compared by content (a kind keeps one entry)

    def __eq__(self, other) -> bool:
        if self is other:
            return True
        if not isinstance(other, PlainInputs):
            return NotImplemented
        mine = self.digest()
        return mine is not None and mine == other.digest()


def kept_plain_index(network, inputs: PlainInputs, make: Callable):
    """``make()`` (the plain index on ``network``), kept on the network per ``inputs``
    (the last one only: the walled index in use holds it anyway)."""
    return kept(network, ("plain_index", inputs), make, entries=1)


def kept_plain_minutes(index, settings, services: tuple[str, ...], make: Callable):
    """``make()`` (the plain index's minutes), kept on the plain ``index`` per walking
    settings and services (a speed or threshold change measures it again; the last one
    only: the walled answer in use holds it anyway)."""
    return kept(index, ("plain_minutes", settings, tuple(services)), make, entries=1)


__all__ = ["PlainInputs", "inputs_key", "kept_plain_index", "kept_plain_minutes"]
