"""Small compiled helpers of the partition's loops (:mod:`geo.grids.fast_partition`):
numpy's pairwise sum, a stable argsort and the codes of distinct values, each giving
numpy's answer (tests compare them), written as plain loops without calls so that numba
compiles and caches them quickly and alone.
"""

from __future__ import annotations

import numpy as np


def pairwise_sums(buf, starts, out):  # pragma: no cover - compiled
    """``out[k] = buf[starts[k]:starts[k + 1]].sum()`` as numpy adds it: pairwise, in
    blocks of at most 128 summed with 8 running sums, halves split at a multiple of 8.
    (Written without calls or recursion, so that numba caches it alone.)"""
    seg_lo = np.empty(64, np.int64)
    seg_n = np.empty(64, np.int64)
    seg_state = np.empty(64, np.int64)
    values = np.empty(64)
    for k in range(starts.size - 1):
        lo0, n0 = starts[k], starts[k + 1] - starts[k]
        if n0 == 0:
            out[k] = 0.0
            continue
        top, n_values = 0, 0
        seg_lo[0], seg_n[0], seg_state[0] = lo0, n0, 0
        while top >= 0:
            lo, n = seg_lo[top], seg_n[top]
            if n <= 128:
                if n < 8:
                    res = -0.0
                    for i in range(n):
                        res += buf[lo + i]
                else:
                    r0, r1, r2, r3 = buf[lo], buf[lo + 1], buf[lo + 2], buf[lo + 3]
                    r4, r5, r6, r7 = buf[lo + 4], buf[lo + 5], buf[lo + 6], buf[lo + 7]
                    i = 8
                    end = n - (n % 8)
                    while i < end:
                        r0 += buf[lo + i]
                        r1 += buf[lo + i + 1]
                        r2 += buf[lo + i + 2]
                        r3 += buf[lo + i + 3]
                        r4 += buf[lo + i + 4]
                        r5 += buf[lo + i + 5]
                        r6 += buf[lo + i + 6]
                        r7 += buf[lo + i + 7]
                        i += 8
                    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
                    while i < n:
                        res += buf[lo + i]
                        i += 1
                values[n_values] = res
                n_values += 1
                top -= 1
                continue
            n2 = n // 2
            n2 -= n2 % 8
            state = seg_state[top]
            seg_state[top] = state + 1
            if state == 0:    # the first half
                top += 1
                seg_lo[top], seg_n[top], seg_state[top] = lo, n2, 0
            elif state == 1:  # then the second
                top += 1
                seg_lo[top], seg_n[top], seg_state[top] = lo + n2, n - n2, 0
            else:             # both done: their sum
                values[n_values - 2] = values[n_values - 2] + values[n_values - 1]
                n_values -= 1
                top -= 1
        out[k] = values[0]


def stable_argsort(keys):  # pragma: no cover - compiled
    """``np.argsort(keys, kind="stable")`` for keys without NaN: a merge sort written out
    (numba compiles it in a fraction of the time its own sort takes)."""
    n = keys.size
    idx = np.arange(n)
    tmp = np.empty(n, np.int64)
    width = 1
    while width < n:
        lo = 0
        while lo < n:
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            i, j, k = lo, mid, lo
            while i < mid and j < hi:
                if keys[idx[j]] < keys[idx[i]]:
                    tmp[k] = idx[j]
                    j += 1
                else:
                    tmp[k] = idx[i]
                    i += 1
                k += 1
            while i < mid:
                tmp[k] = idx[i]
                i += 1
                k += 1
            while j < hi:
                tmp[k] = idx[j]
                j += 1
                k += 1
            lo = hi
        idx, tmp = tmp, idx
        width *= 2
    return idx


def codes(values):  # pragma: no cover - compiled
    """Each value's position among the sorted distinct values, and how many there are
    (``np.searchsorted(np.unique(values), values)``)."""
    s = np.sort(values)
    n = s.size
    uniq = np.empty(n, s.dtype)
    m = 0
    for i in range(n):
        if i == 0 or s[i] != s[i - 1]:
            uniq[m] = s[i]
            m += 1
    code = np.empty(n, np.int64)
    for i in range(n):
        lo, hi = 0, m
        while lo < hi:
            mid = (lo + hi) // 2
            if uniq[mid] < values[i]:
                lo = mid + 1
            else:
                hi = mid
        code[i] = lo
    return code, m


__all__ = ["codes", "pairwise_sums", "stable_argsort"]
