"""A project is checked on opening (issue 26 item 10): NULL, text, fractional, negative and
absurd household counts, repeated or missing ids and missing geometries each give one
clear sentence in one error (rows by number, never their values); self-intersecting
polygons are repaired with a note."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis import project as pj
from analysis.cli import main
from analysis.project import ProjectRowsError
from tests.analysis.project_fixtures import project_result

QUICK = settings(max_examples=12, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def saved(small_district, tmp_path_factory):
    path = tmp_path_factory.mktemp("values") / "p.gpkg"
    pj.save_project(project_result(small_district), path)
    return path


def _edit(path: Path, *sql: tuple[str, tuple]) -> None:
    """Run SQL on a GeoPackage as another tool would (without GDAL's spatial triggers)."""
    with sqlite3.connect(path) as con:
        for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            con.execute(f'DROP TRIGGER "{name}"')
        for statement, params in sql:
            con.execute(statement, params)


#: A bad value for a count, and the words its sentence must carry.
BAD_COUNTS = {None: "without a household count", "many": "not a number",
              "3 户": "not a number", 2.5: "not a whole number", -1: "negative",
              -(10 ** 9): "negative", 10 ** 9: "too many", 1e300: "too many",
              float("nan"): "without a household count"}


@QUICK
@given(layer=st.sampled_from(["households", "grids", "communities"]),
       value=st.sampled_from(list(BAD_COUNTS)), row=st.integers(1, 3))
def test_bad_counts_each_named_with_their_row(saved, tmp_path_factory, layer, value, row):
    broken = tmp_path_factory.mktemp("bad") / "p.gpkg"
    shutil.copyfile(saved, broken)
    with sqlite3.connect(saved) as con:
        row = min(row, con.execute(f'SELECT max(rowid) FROM "{layer}"').fetchone()[0])
    _edit(broken, (f'UPDATE "{layer}" SET households = ? WHERE rowid = ?', (value, row)))
    with pytest.raises(ProjectRowsError) as err:
        pj.open_project(broken)
    english = err.value.message("en")
    assert BAD_COUNTS[value] in english and layer in english and f"row numbers: {row}" in english
    assert "户数" in err.value.message("zh")
    if isinstance(value, str):
        assert value not in err.value.bilingual()


@QUICK
@given(rows=st.lists(st.integers(1, 40), min_size=2, max_size=6, unique=True))
def test_repeated_unit_ids_refused(saved, tmp_path_factory, rows):
    broken = tmp_path_factory.mktemp("dup") / "p.gpkg"
    shutil.copyfile(saved, broken)
    _edit(broken, *[("UPDATE households SET unit_id = 'same' WHERE rowid = ?", (r,))
                    for r in rows])
    with pytest.raises(ProjectRowsError) as err:
        pj.open_project(broken)
    english = err.value.message("en")
    assert "unit_id" in english and "more than once" in english
    assert "same" not in english.replace("the same", "")


def test_every_problem_listed_once(saved, tmp_path):
    broken = tmp_path / "p.gpkg"
    shutil.copyfile(saved, broken)
    _edit(broken, ("UPDATE households SET households = NULL WHERE rowid = 1", ()),
          ("UPDATE households SET households = -4 WHERE rowid = 2", ()),
          ("UPDATE households SET unit_id = NULL WHERE rowid = 3", ()),
          ("UPDATE households SET geom = NULL WHERE rowid = 4", ()))
    with pytest.raises(ProjectRowsError) as err:
        pj.open_project(broken)
    assert len(err.value.problems) == 4
    assert "；" in err.value.message("zh") and "; " in err.value.message("en")


def test_report_on_a_null_count_is_one_error(saved, tmp_path, capsys):
    """The example: ``report`` ended with ``ValueError: cannot convert float NaN to integer``."""
    broken = tmp_path / "p.gpkg"
    shutil.copyfile(saved, broken)
    _edit(broken, ("UPDATE households SET households = NULL WHERE rowid = 1", ()))
    assert main(["report", str(broken), "--out", str(tmp_path / "r.pdf")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "row numbers: 1" in errors[0]
    assert not (tmp_path / "r.pdf").exists()


def test_a_self_intersecting_grid_is_repaired_with_a_note(saved, tmp_path):
    import geopandas as gpd
    import pyogrio
    from shapely.geometry import Polygon

    broken = tmp_path / "p.gpkg"
    shutil.copyfile(saved, broken)
    grids = pyogrio.read_dataframe(broken, layer="grids")
    x0, y0, x1, y1 = grids.geometry.iloc[0].bounds
    grids.loc[0, "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])  # a bow tie
    pyogrio.write_dataframe(gpd.GeoDataFrame(grids, crs=grids.crs), broken, layer="grids",
                            driver="GPKG")
    project = pj.open_project(broken)
    assert project.layers["grids"].geometry.is_valid.all()
    assert any(key == "project.note.geometry_repaired" for key, _ in project.notes)


def test_a_sound_project_opens(saved):
    assert len(pj.open_project(saved).layers["households"]) > 0


def test_the_error_survives_pickling(saved, tmp_path):
    """A district's error crosses process boundaries in a batch run."""
    import pickle

    broken = tmp_path / "p.gpkg"
    shutil.copyfile(saved, broken)
    _edit(broken, ("UPDATE households SET households = -1 WHERE rowid = 1", ()))
    with pytest.raises(ProjectRowsError) as err:
        pj.open_project(broken)
    again = pickle.loads(pickle.dumps(err.value))
    assert again.bilingual() == err.value.bilingual()
