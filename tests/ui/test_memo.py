"""Values kept per live object (ui.memo): made once per object and extra key, made anew
for a new object, never handed to a new object at a dead one's address."""

from __future__ import annotations

import gc

import pandas as pd

from ui.memo import PerObject


def test_a_value_is_made_once_per_object_and_extra_key():
    memo: PerObject[int] = PerObject()
    made = []

    def make(n):
        made.append(n)
        return n

    frame = pd.DataFrame({"a": [1]})
    assert memo.get(frame, lambda: make(1)) == 1
    assert memo.get(frame, lambda: make(2)) == 1 and made == [1]
    assert memo.get(frame, lambda: make(3), extra="en") == 3  # another language
    other = pd.DataFrame({"a": [1]})  # equal, but another object
    assert memo.get(other, lambda: make(4)) == 4
    assert memo.get(None, lambda: make(5)) == 5 and memo.get(None, lambda: make(6)) == 6


def test_a_dead_object_is_not_mistaken_for_a_new_one():
    memo: PerObject[str] = PerObject()
    for k in range(20):  # new frames often reuse a dead one's address
        frame = pd.DataFrame({"a": [k]})
        assert memo.get(frame, lambda: f"v{k}") == f"v{k}"
        del frame
        gc.collect()
    assert len(memo._held) <= 8
