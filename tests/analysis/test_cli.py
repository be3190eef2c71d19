import json
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

from analysis.cli import main
from tests.conftest import BEIJING_OSM

ROOT = Path(__file__).resolve().parents[2]


def layers(path):
    return {str(name) for name, _ in pyogrio.list_layers(path)}


def test_run_demo_synthetic_writes_project_and_summary(tmp_path, capsys):
    out, summary = tmp_path / "demo.gpkg", tmp_path / "summary.json"
    assert main(["run", "--demo", "synthetic:5000", "--out", str(out), "--summary", str(summary)]) == 0
    assert {"households", "facilities", "communities"} <= layers(out)
    hh = pyogrio.read_dataframe(out, layer="households")
    assert hh.crs.to_epsg() == 4326
    assert hh["households"].sum() == 5000
    assert set(hh["hh_source"]) == {"synthetic"}
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["households"] == 5000
    assert set(data["thresholds_min"]) >= {"kindergarten", "elderly_care"}
    assert "timings_s" in data
    assert "Saving the project" in capsys.readouterr().err  # progress on stderr


def test_run_osm_file(tmp_path, osm_file):
    out = tmp_path / "p.gpkg"
    assert main(["run", "--osm", str(osm_file), "--out", str(out)]) == 0
    fac = pyogrio.read_dataframe(out, layer="facilities")
    assert set(fac["service"]) == {"kindergarten", "primary_school", "bus_stop"}
    hh = pyogrio.read_dataframe(out, layer="households")
    assert set(hh["hh_source"]) == {"footprint", "compound"}


@pytest.mark.skipif(not BEIJING_OSM.exists(), reason="shared Beijing sample not present")
def test_run_beijing(tmp_path):
    out, summary = tmp_path / "bj.gpkg", tmp_path / "bj.json"
    assert main(["run", "--osm", str(BEIJING_OSM), "--out", str(out), "--summary", str(summary)]) == 0
    data = json.loads(summary.read_text(encoding="utf-8"))
    assert data["households"] > 3000 and data["households_by_source"]["compound"] > 0
    assert data["credit"] == "© OpenStreetMap contributors"


@pytest.mark.parametrize("args, words", [
    (["--osm", "nope.osm"], "not found"),
    (["--demo", "atlantis"], "no demo called"),
    (["--demo", "synthetic", "--grid-min", "300", "--grid-max", "200"], "grid_max"),
])
def test_bad_input_exit_2_one_error_line_nothing_written(tmp_path, args, words):
    out = tmp_path / "x.gpkg"
    proc = subprocess.run([sys.executable, "-m", "analysis", "run", *args, "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0]
    assert "Traceback" not in proc.stderr
    assert not out.exists() and not list(tmp_path.glob(".*tmp*"))


def test_failed_run_keeps_previous_project(tmp_path, osm_file):
    out = tmp_path / "keep.gpkg"
    assert main(["run", "--demo", "synthetic:2000", "--out", str(out)]) == 0
    before = out.read_bytes()
    bad = tmp_path / "bad.osm"
    bad.write_text("<osm><node id='1'", encoding="utf-8")
    assert main(["run", "--osm", str(bad), "--out", str(out)]) == 2
    assert out.read_bytes() == before


def test_rerun_with_an_existing_project_keeps_its_locked_grids(tmp_path):
    """``run --project EXISTING.gpkg``: a locked grid keeps its units and its id, even
    with another band and after the planner moved units into it by hand."""
    import numpy as np

    from analysis import project as pj
    from geo.grids import edits

    first = tmp_path / "a.gpkg"
    assert main(["run", "--demo", "synthetic:3000", "--out", str(first)]) == 0
    project = pj.open_project(first)
    assert pj.area_source_of(project.meta) == {"kind": "demo", "name": "synthetic:3000",
                                                "id": "synthetic:3000"}
    state = project.session.state
    units = state.unit_grid()
    grids = state.grids.set_index("grid_id")
    # a grid and a unit of a neighbouring grid of the same community, moved into it
    keep = next(g for g in grids.index
                if (grids["community_id"] == grids.loc[g, "community_id"]).sum() > 1)
    others = grids.index[(grids["community_id"] == grids.loc[keep, "community_id"])
                         & (grids.index != keep)]
    moved = [u for u in units.index if units[u] in set(others)][:1]
    project, _ = pj.edit_project(project, edits.move_units, moved, keep)
    project, _ = pj.edit_project(project, edits.set_locked, [keep], True)
    pj.save(project)
    kept = set(project.session.state.unit_grid().pipe(lambda s: s[s == keep]).index)
    assert set(moved) <= kept

    def units_of(path, grid_id):
        hh = pyogrio.read_dataframe(path, layer="households")
        return set(hh.loc[hh["grid_id"] == grid_id, "unit_id"]), hh

    again, plain = tmp_path / "b.gpkg", tmp_path / "c.gpkg"
    band = ["--grid-min", "150", "--grid-max", "250"]
    assert main(["run", "--demo", "synthetic:3000", *band, "--project", str(first),
                 "--out", str(again)]) == 0
    assert main(["run", "--demo", "synthetic:3000", *band, "--out", str(plain)]) == 0
    locked_units, hh = units_of(again, keep)
    assert locked_units == kept
    grids_again = pyogrio.read_dataframe(again, layer="grids").set_index("grid_id")
    assert bool(grids_again.loc[keep, "locked"])
    assert units_of(plain, keep)[0] != kept  # without the project the grid is not kept
    assert np.isin(hh["grid_id"].dropna().unique(), list(grids_again.index)).all()
