"""Tables stay linear to read (issue 26 item 7): a row of a million empty cells is read in
time proportional to its size, and a table wider or larger than the limits is refused with
a clear message. CSV and XLSX share the bounded reader."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.errors import InputError
from geo.inputs import read_households, read_table
from geo.settings import InputLimits

CELL = st.one_of(st.just(""), st.just(" "), st.from_regex(r"[a-z0-9]{1,4}", fullmatch=True))


@settings(max_examples=80, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(st.lists(CELL, min_size=1, max_size=6), st.integers(0, 3000)),
                     min_size=1, max_size=5))
def test_trailing_blank_cells_are_dropped_exactly(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("wide") / "t.csv"
    lines = ["a,b,c"] + [",".join(cells) + "," * blanks for cells, blanks in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expected = [["a", "b", "c"]]
    for cells, _ in rows:
        while cells and not cells[-1].strip():
            cells = cells[:-1]
        expected.append(cells)
    while expected and not expected[-1]:
        expected.pop()
    assert read_table(path).rows == expected


@settings(max_examples=30, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(width=st.integers(1, 60), limit=st.integers(1, 40))
def test_width_beyond_the_limit_is_refused(tmp_path_factory, width, limit):
    path = tmp_path_factory.mktemp("w") / "t.csv"
    path.write_text("h\n" + ",".join(["x"] * width) + "\n", encoding="utf-8")
    limits = InputLimits(max_columns=limit)
    if width <= limit:
        assert len(read_table(path, limits=limits).rows[1]) == width
    else:
        with pytest.raises(InputError) as err:
            read_table(path, limits=limits)
        assert err.value.key == "err.table_too_wide" and str(limit) in err.value.bilingual()


def test_a_million_empty_cells_read_in_linear_time(tmp_path):
    """The example: a 1 MB CSV with one row of a million empty cells hung the reader."""
    path = tmp_path / "register.csv"
    path.write_text("经度,纬度,户数\n116.3,39.9,5" + "," * 1_000_000 + "\n", encoding="utf-8")
    start = time.perf_counter()
    read = read_households(path)
    assert time.perf_counter() - start < 20  # quadratic trimming took hours
    assert len(read.frame) == 1 and int(read.frame["households"].sum()) == 5


def test_too_many_cells_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a\n" + "," * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_table(path, limits=InputLimits(max_cells=1000))
    assert err.value.key == "err.table_too_many_cells"
