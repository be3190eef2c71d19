"""The command line's walls: ``--walls on|off``, ``--gates FILE`` and ``--project`` give the
page's numbers (the page runs the same stages with the same :class:`geo.walls.WallSettings`)."""

from __future__ import annotations

import json
from dataclasses import replace

import pyproj
import pytest
import shapely

from analysis import pipeline as P
from analysis.cli import main
from geo.walls import WallSettings

DEMO = "synthetic:2000"


@pytest.fixture(scope="module")
def area():
    return P.load_area(demo=DEMO)


def _run(tmp_path, name, *extra):
    out, summary = tmp_path / f"{name}.gpkg", tmp_path / f"{name}.json"
    assert main(["run", "--demo", DEMO, "--out", str(out), "--summary", str(summary),
                 *extra]) == 0
    return out, json.loads(summary.read_text(encoding="utf-8"))


def _page(area, walls: WallSettings) -> dict:
    """What the page measures: the same stages with these wall settings."""
    return P.run(area, replace(P.RunSettings(), walls=walls)).summary


def _outline_point(area, k=0):
    poly = area.compounds.geometry.iloc[k]
    ring = shapely.boundary(poly)
    x, y = ring.interpolate(0.37, normalized=True).coords[0]
    lon, lat = pyproj.Transformer.from_crs(area.crs, 4326, always_xy=True).transform(x, y)
    return lon, lat


def test_walls_off_gives_the_pages_walls_off_numbers(tmp_path, area):
    _, on = _run(tmp_path, "on")
    _, off = _run(tmp_path, "off", "--walls", "off")
    page_off = _page(area, WallSettings(gated=False))
    assert off["coverage"] == page_off["coverage"]
    assert off["compound_access"]["compounds_gated"] == 0
    assert on["compound_access"]["compounds_gated"] >= 1
    assert on["coverage"] == _page(area, WallSettings())["coverage"]
    assert all(on["coverage"][s] <= off["coverage"][s] + 1e-12 for s in off["coverage"])


def test_gates_file_adds_and_closes_and_project_restores_the_edits(tmp_path, area):
    lon, lat = _outline_point(area)
    gates = tmp_path / "gates.csv"
    gates.write_text(f"lon,lat,status\n{lon:.7f},{lat:.7f},open\n", encoding="utf-8")
    first, added = _run(tmp_path, "added", "--gates", str(gates), "--gates-crs", "wgs84")
    assert added["compound_access"]["access_points"]["added"] == 1
    # the page with the same edit gives the same numbers
    walls = WallSettings(added_gates=((round(lon, 7), round(lat, 7)),))
    assert added["coverage"] == _page(area, walls)["coverage"]
    # a re-run of the saved project keeps the gate without the file
    _, again = _run(tmp_path, "again", "--project", str(first))
    assert again["compound_access"]["access_points"] == added["compound_access"]["access_points"]
    assert again["coverage"] == added["coverage"]
    # ... and a status column closes it again
    closing = tmp_path / "close.csv"
    closing.write_text(f"经度,纬度,状态\n{lon:.7f},{lat:.7f},关闭\n", encoding="utf-8")
    _, closed = _run(tmp_path, "closed", "--project", str(first), "--gates", str(closing),
                     "--gates-crs", "wgs84")
    assert closed["compound_access"]["access_points_closed"] == 1
    assert closed["compound_access"]["access_points"]["added"] == 0
    # --walls off overrides the project's walls, and is stored for the next re-run
    second, off = _run(tmp_path, "off2", "--project", str(first), "--walls", "off")
    assert off["compound_access"]["compounds_gated"] == 0
    _, kept = _run(tmp_path, "kept", "--project", str(second))
    assert kept["compound_access"]["compounds_gated"] == 0


def test_a_bad_gates_file_is_one_error_line(tmp_path, capsys):
    gates = tmp_path / "gates.csv"
    gates.write_text("a,b\n1,2\n", encoding="utf-8")
    out = tmp_path / "x.gpkg"
    assert main(["run", "--demo", DEMO, "--gates", str(gates), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error:") and not out.exists()
