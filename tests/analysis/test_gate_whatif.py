"""Issue 27 item 4: the gates tab's what-if counts the households of the compound it
changes (both sides built the same way, so nothing else changes), the map shows outlines
and gates with the chosen compound highlighted, and open compounds show their households."""

from __future__ import annotations

from geo.i18n import t

from dataclasses import replace

import pytest

from analysis import pipeline as P
from analysis.gate_whatif import compound_what_if
from analysis.stages import Inputs, Runner, StageCache
from geo.synthetic import synthetic_district
from geo.walls import WallSettings


@pytest.fixture(scope="module")
def walled():
    area = synthetic_district(4000, seed=3)
    settings = replace(P.RunSettings(), walls=WallSettings())
    runner = Runner(inputs=Inputs(area=area), settings=settings, cache=StageCache(), progress=None)
    index = runner.get("index")
    return area, index, runner.get("reach").walk


def test_a_no_change_edit_changes_nobody(walled):
    area, index, walk = walled
    frame, _ = compound_what_if(index, area.network, area.compounds, None, WallSettings(),
                                WallSettings(), walk, index.services)
    assert (frame["households_changed"] == 0).all() and (frame["change"] == 0).all()


def test_opening_a_compound_changes_only_walks_of_that_compound_or_through_it(walled):
    area, index, walk = walled
    comps = index.walls.compounds
    gated = comps[comps["status"] == "gated"]
    assert len(gated)
    for _, row in gated.iterrows():  # each compound opened alone
        after = WallSettings(open_compounds=(str(row["compound_id"]),))
        frame, here = compound_what_if(index, area.network, area.compounds, None,
                                       WallSettings(), after, walk, index.services,
                                       outline=row.geometry)
        inside = here["households_here"]
        assert inside > 0
        assert (frame["changed_here"] <= inside).all()
        # nobody's coverage falls when a wall is opened
        assert (frame["change"] >= -1e-12).all()


def test_opening_a_compound_whose_gate_is_closed_changes_the_walks_inside(walled):
    """Where a wall makes homes walk round (one of its two gates closed), opening it
    changes their walks, and nobody's coverage falls."""
    from pyproj import Transformer

    area, index, walk = walled
    access = index.walls.access
    to_wgs84 = Transformer.from_crs(index.network.crs, "EPSG:4326", always_xy=True)
    two = access.groupby("compound_id").filter(lambda part: len(part) >= 2)
    assert len(two)
    changed = 0
    for cid, part in two.groupby("compound_id"):
        gate = to_wgs84.transform(float(part["x"].iloc[0]), float(part["y"].iloc[0]))
        before = WallSettings(closed_gates=(gate,))
        after = replace(before, open_compounds=(str(cid),))
        outline = index.walls.compounds.set_index("compound_id").geometry[cid]
        frame, here = compound_what_if(index, area.network, area.compounds, None, before,
                                       after, walk, index.services, outline=outline)
        assert (frame["changed_here"] <= here["households_here"]).all()
        assert (frame["change"] >= -1e-12).all()
        changed += bool(frame["changed_here"].max() > 0)
    assert changed == len(two["compound_id"].unique())


def test_map_and_table_show_every_compound_with_its_households(walled):
    from ui.gatesmap import gates_map, households_by_compound

    area, index, _ = walled
    comps = index.walls.compounds.copy()
    comps.loc[comps.index[0], "status"] = "opened"
    comps.loc[comps.index[0], "name"] = "<b>畅乐园</b>"
    hh = P.run(area).layers["households"]
    counts = households_by_compound(hh, comps)
    first = str(comps["compound_id"].iloc[0])
    assert counts[first] > 0  # an open compound shows its households
    assert sum(counts.values()) <= int(hh["households"].sum())
    access = index.walls.access.copy()
    access.loc[access.index[:1], "origin"] = "assumed"
    html = gates_map(comps, access, index.network.crs, chosen=first, lang="zh") \
        .get_root().render()
    assert "&lt;b&gt;畅乐园&lt;/b&gt;" in html and "<b>畅乐园</b>" not in html
    assert "#d7191c" in html  # the chosen compound highlighted
    for colour in ("#1f4e9c", "#e6a700"):  # mapped and assumed gates
        assert colour in html
    assert t("gates.origin_assumed", "zh") in html and "已标注" in html
