"""Values made from a frozen object and kept on it, a few of each kind (what the walls
and the reach index make once and ask for again)."""

from __future__ import annotations

import threading


def kept(owner, key, make, entries: int = 2):
    """``make()``, kept on ``owner`` (frozen: in its ``__dict__``) under ``key``, the last
    ``entries`` of each kind (``key[0]``) only: a walls' graph per set of exit compounds,
    a network's cut network per set of outlines, a cut network's snap grids per set of
    edges, a reach index's facility columns."""
    with _KEPT_LOCK:  # the page's threads may ask at once (made twice at worst)
        cache = owner.__dict__.setdefault("_kept", {}).setdefault(key[0], {})
        if key in cache:
            return cache[key]
    value = make()
    with _KEPT_LOCK:
        cache.pop(key, None)
        while len(cache) >= entries:
            cache.pop(next(iter(cache)))
        cache[key] = value
    return value


_KEPT_LOCK = threading.Lock()


__all__ = ["kept"]
