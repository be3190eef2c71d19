"""The command line with a facility list holding capacities (学位/班数): shortfalls per grid
and community in the project file and the summary; bad capacity cells refused."""

import csv
import io
import json

import numpy as np
import pandas as pd
import pyogrio
import pytest

from analysis.capacity.stage import DEFAULT_TABLE
from analysis.cli import main
from geo.demos import load_demo
from geo.synthetic import SERVICE_NAMES_ZH

DEMO = "synthetic:3000"


@pytest.fixture(scope="module")
def demo_area():
    return load_demo(DEMO)


def _facility_list(path, area, capacity):
    """The demo's schools and kindergartens as a planner's list; ``capacity(k)`` gives row
    k's (学位, 班数) cells."""
    fac = area.facilities[area.facilities["service"].isin(["primary_school", "kindergarten"])]
    fac = fac.to_crs(4326)
    rows = [["名称", "类型", "经度", "纬度", "学位", "班数"]]
    for k, (name, service, p) in enumerate(zip(fac["name"], fac["service"], fac.geometry)):
        places, classes = capacity(k)
        rows.append([name, SERVICE_NAMES_ZH[service], f"{p.x:.8f}", f"{p.y:.8f}", places, classes])
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")
    return path, len(fac)


def _demand_table(path):
    """The bundled table with test shares (test figures, not census figures)."""
    frame = pd.read_csv(DEFAULT_TABLE, dtype=str, keep_default_na=False)
    frame.loc[frame["key"] == "primary_school", "share"] = "0.07"
    frame.loc[frame["key"] == "kindergarten", "share"] = "0.03"
    frame.to_csv(path, index=False)
    return path


def test_capacities_in_a_facility_list_give_shortfalls_per_grid_and_community(
        tmp_path, capsys, demo_area):
    facilities, n = _facility_list(tmp_path / "设施.csv", demo_area,
                                   lambda k: ("", "6") if k == 0 else (str(200 + 40 * k), ""))
    out, summary = tmp_path / "p.gpkg", tmp_path / "s.json"
    code = main(["run", "--demo", DEMO, "--facilities", str(facilities), "--demand-table",
                 str(_demand_table(tmp_path / "demand.csv")), "--out", str(out),
                 "--summary", str(summary)])
    assert code == 0, capsys.readouterr().err
    cap = json.loads(summary.read_text(encoding="utf-8"))["capacity"]
    assert set(cap) == {"primary_school", "kindergarten"}
    grids = pyogrio.read_dataframe(out, layer="grids")
    comms = pyogrio.read_dataframe(out, layer="communities")
    fac = pyogrio.read_dataframe(out, layer="facilities")
    user = fac[fac["service"].isin(["primary_school", "kindergarten"])]
    assert (user["capacity_source"] == "given").all() and len(user) == n
    first = user.iloc[0]
    size = 45 if first["service"] == "primary_school" else 30
    assert first["capacity"] == 6 * size  # 6 classes × the service's class size
    for service, s in cap.items():
        assert s["capacities"]["given"] == int((user["service"] == service).sum())
        assert s["supply"] == pytest.approx(user.loc[user["service"] == service,
                                                     "capacity"].sum())
        for table in (grids, comms):
            demand, supply, short = (table[f"{k}_{service}"].to_numpy()
                                     for k in ("demand", "supply", "shortfall"))
            np.testing.assert_allclose(short, np.maximum(0, demand - supply), atol=1e-6)
            assert supply.sum() == pytest.approx(s["supply_reached"], rel=1e-6)
            assert demand.sum() == pytest.approx(s["demand"], rel=1e-6)
        assert grids[f"shortfall_{service}"].sum() == pytest.approx(s["shortfall"], abs=0.2)
        assert s["supply_reached"] <= s["supply"] + 1e-6
    # the exports carry the same columns (CSV under headings, shapefile under short names)
    for fmt in ("csv", "shp"):
        assert main(["export", str(out), "--format", fmt, "--out", str(tmp_path / fmt),
                     "--lang", "en"]) == 0
    text = next((tmp_path / "csv").glob("*grids*.csv")).read_text(encoding="utf-8-sig")
    assert "Primary school shortfall (places)" in text and "shortfall_primary_school" in text
    import zipfile

    archive = next((tmp_path / "shp").glob("*.zip"))
    inner = next(n for n in zipfile.ZipFile(archive).namelist() if n.endswith("grids.shp"))
    shp = pyogrio.read_dataframe(f"/vsizip/{archive}/{inner}")
    assert {"dm_primary", "sp_primary", "sf_primary"} <= set(shp.columns)
    assert shp["sf_primary"].sum() == pytest.approx(grids["shortfall_primary_school"].sum(),
                                                    abs=1e-3)


def _error_lines(capsys) -> list[str]:
    """Standard error without the progress lines (``[  0.0s] …``)."""
    return [line for line in capsys.readouterr().err.strip().splitlines()
            if not line.startswith("[")]


@pytest.mark.parametrize("cell", ["abc", "-5", "200000", "12.5", "1e9"])
def test_bad_capacity_cells_exit_2_naming_the_row_not_the_cell(tmp_path, capsys, demo_area, cell):
    facilities, _ = _facility_list(tmp_path / "设施.csv", demo_area,
                                   lambda k: (cell, "") if k == 1 else ("300", ""))
    out = tmp_path / "p.gpkg"
    code = main(["run", "--demo", DEMO, "--facilities", str(facilities), "--out", str(out)])
    assert code == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and err[0].startswith("error:")
    assert " 3 " in err[0] and "100000" in err[0]  # row 3: the header, then rows 2 and 3
    assert cell not in err[0].replace("100000", "")
    assert not out.exists()


def test_bad_class_count_and_bad_method_exit_2(tmp_path, capsys, demo_area):
    facilities, _ = _facility_list(tmp_path / "设施.csv", demo_area,
                                   lambda k: ("", "x班") if k == 1 else ("300", ""))
    assert main(["run", "--demo", DEMO, "--facilities", str(facilities),
                 "--out", str(tmp_path / "p.gpkg")]) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and err[0].startswith("error:") and "3" in err[0]
    assert main(["run", "--demo", DEMO, "--capacity-decay", "linear",
                 "--out", str(tmp_path / "p.gpkg")]) == 2
    err = _error_lines(capsys)
    assert len(err) == 1 and err[0].startswith("error:")
