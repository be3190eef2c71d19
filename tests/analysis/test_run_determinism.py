"""The same OSM file gives the same grids and numbers in every process, whatever Python's
string-hash seed (osmnx joins merged ways' tags in set order, which follows that seed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from geo.osm.roads import first_tag, road_class, tag_values
from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
BEIJING = SHARED_DATA / "beijing_xueqing.osm"

SCRIPT = """
import json, sys
from analysis.pipeline import load_area, stage_base, RunSettings
area = load_area(osm=sys.argv[1])
base = stage_base(area, RunSettings())
units = base.households.sort_values("unit_id")
print(json.dumps({"grid_of_unit": dict(zip(units["unit_id"].astype(str),
                                               units["grid_id"].astype(str))),
                  "roads": area.roads["road_class"].astype(str).tolist(),
                  "names": area.roads["name"].astype(str).tolist(),
                  "grids": base.grids["households"].astype(int).tolist()}))
"""


def test_a_merged_ways_tags_read_the_same_in_any_order():
    for order in (["primary", "residential"], ["residential", "primary"]):
        assert first_tag(order) == "primary"
        assert road_class(pd.Series([order])).iloc[0] == "arterial"
    assert tag_values(["b", None, "a", "b"]) == ["a", "b"]
    assert road_class(pd.Series([["footway", "steps"], ["footway", "service"], None])).tolist() \
        == ["path", "local", "local"]


@pytest.mark.skipif(not BEIJING.exists(), reason="the shared Beijing sample is not here")
def test_two_processes_with_other_hash_seeds_draw_the_same_grids():
    runs = []
    for seed in ("0", "1", "7"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        out = subprocess.run([sys.executable, "-c", SCRIPT, str(BEIJING)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    first = runs[0]
    assert len(first["grid_of_unit"]) > 100
    for other in runs[1:]:
        assert other["roads"] == first["roads"] and other["names"] == first["names"]
        changed = {u for u, g in first["grid_of_unit"].items() if other["grid_of_unit"].get(u) != g}
        assert not changed, sorted(changed)[:10]
        assert other["grids"] == first["grids"]
