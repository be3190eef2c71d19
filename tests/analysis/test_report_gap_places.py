"""Issue 27 item 6 / issue 22 item 7: the report's first page lists each gap place once
with the services it lacks, sets data-gap services apart and names the area."""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from analysis import project as pj
from analysis.report import findings
from analysis.report.context import Context
from tests.analysis.project_fixtures import project_result


@pytest.fixture(scope="module")
def base(small_district):
    return pj.project_from_result(project_result(small_district))


def _with_gaps(base, thin=("elderly_care",)):
    hh = base.layers["households"].copy()
    x0, y0, x1, y1 = hh.total_bounds
    west = shapely.box(x0 - 1, y0 - 1, (x0 + x1) / 2, y1 + 1)
    east = shapely.box((x0 + x1) / 2 + 1, y0 - 1, x1 + 1, y1 + 1)
    hh["walk_min_kindergarten"] = np.where(hh.geometry.x < (x0 + x1) / 2, 30.0, 1.0)
    hh["walk_min_market"] = np.where(hh.geometry.x < (x0 + x1) / 2, 30.0, 1.0)
    hh["walk_min_elderly_care"] = np.nan  # nothing mapped: a data gap everywhere
    west_hh = int(hh.loc[hh.geometry.x < (x0 + x1) / 2, "households"].sum())
    gaps = gpd.GeoDataFrame(
        {"service": ["kindergarten", "market", "elderly_care", "market"],
         "households": [west_hh, west_hh - 5, int(hh["households"].sum()), 0],
         "rank": [1, 1, 1, 2],
         "cause": ["service", "service", "data", "service"]},
        geometry=[west, west.buffer(-2), west.union(east), east.buffer(-50)], crs=hh.crs)
    summary = {**base.summary, "data_completeness": {"thin_services": list(thin)}}
    return replace(base, layers={**base.layers, "households": hh, "gaps": gaps},
                   meta={**base.meta, "summary": summary}), west_hh


def test_each_gap_place_once_with_the_services_it_lacks_and_data_gaps_apart(base):
    project, west_hh = _with_gaps(base)
    ctx = Context(project, "zh", "A4", None)
    assert findings.thin_services(ctx) == ["elderly_care"]
    rows = findings.gap_places(ctx)
    assert rows[0][1] == ["kindergarten", "market"]  # one place, both services
    assert rows[0][2] == west_hh  # distinct households, not a sum
    assert all("elderly_care" not in services for _, services, _ in rows)
    head = findings.headline(ctx)
    assert head["excluded_services"] == ["elderly_care"]
    assert head["outside_any_service"] == west_hh < head["outside_any_service_all"]


def test_first_page_names_the_data_gap_services_and_both_headline_figures(base):
    project, west_hh = _with_gaps(base)
    for lang, words in (("zh", ("数据缺口", "养老", "含数据缺口")),
                        ("en", ("Data gaps", "Elderly", "data gaps included"))):
        ctx = Context(project, lang, "A4", None)
        fig = findings.page_findings(ctx, title=None, when="2026-01-01")
        text = " ".join(t.get_text() for t in fig.texts)
        assert all(w in text for w in words), (lang, words)
        assert f"{west_hh:,}" in text
        assert not any(t.get_text().startswith(("，", "。", "、")) for t in fig.texts)


def test_the_area_is_named_by_the_planner_or_its_largest_community_never_a_file(base):
    source = {"kind": "osm", "name": "beijing_xueqing.osm", "id": "abc"}
    project = replace(base, meta={**base.meta, "area": "beijing_xueqing",
                                  "area_source": source})
    named = Context(project, "zh", "A4", None).area_name
    assert named and "beijing" not in named and ".osm" not in named
    given = replace(project, meta={**project.meta, "area_name": "学院路街道"})
    assert Context(given, "en", "A4", None).area_name == "学院路街道"


def test_command_line_report_takes_the_area_name(base, tmp_path):
    import shutil
    import subprocess

    from analysis.cli import main

    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils not installed")
    path = pj.save(replace(base, path=None), tmp_path / "p.gpkg").path
    out = tmp_path / "r.pdf"
    assert main(["report", str(path), "--out", str(out), "--area-name", "学院路街道"]) == 0
    first = subprocess.run(["pdftotext", "-f", "1", "-l", "1", str(out), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert "学院路街道" in first
