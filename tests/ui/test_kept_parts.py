"""The page's map parts kept in the browser (ui.mapframe.kept_script): a part whose
script is the one drawn before puts the groups it made back on the map instead of
drawing them again; a changed part runs; a group that starts hidden stays off. Run in
node (with a stand-in map) when node is installed."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from ui import mapframe
from ui.maphtml import HideGroup

NODE = shutil.which("node")


def part(first: int, label: str, *, hidden: bool = False) -> mapframe.RenderedGroups:
    """A part of two groups as streamlit-folium writes them, counting each time it runs;
    ``hidden``: its second group starts hidden (marked, and taken off again at once, as the
    page's script does)."""
    code = ""
    for k in (first, first + 1):
        name = f"feature_group_feature_group_{k}"
        off = hidden and k == first + 1
        code += (f"var {name} = {{label: {json.dumps(label)}, made: ++window.made}};\n"
                 + (f"{name}.gcHidden = true; {name}.gcStartHidden = true;\n" if off else "")
                 + f"map_div.addLayer({name});\n"
                 + (f"map_div.removeLayer({name});\n" if off else "") +
                 "window.feature_group = window.feature_group || [];\n"
                 f"window.feature_group.push({name});\n")
    return mapframe.RenderedGroups(
        feature_group=code, layer_control="", css_links=(), js_links=(),
        layers=((label, f"feature_group_feature_group_{first}", True),),
        variables=(f"feature_group_feature_group_{first}",
                   f"feature_group_feature_group_{first + 1}"))


def run_in_node(scripts: list[str]) -> list[dict]:
    """Each script run as streamlit-folium runs a new group script: the groups on the map
    taken off, then the script evaluated; what was on the map after each."""
    program = """
    var window = globalThis; window.made = 0;
    var onMap = new Set();
    var map_div = {addLayer: function(l){ onMap.add(l); }, removeLayer: function(l){ onMap.delete(l); }};
    var out = [];
    SCRIPTS.forEach(function(s){
      (window.feature_group || []).forEach(function(l){ map_div.removeLayer(l); });
      eval(s);
      out.push({made: window.made, on: Array.from(onMap).map(function(l){ return l.label + '#' + l.made; }).sort()});
    });
    console.log(JSON.stringify(out));
    """.replace("SCRIPTS", json.dumps(scripts))
    done = subprocess.run([NODE, "-e", program], capture_output=True, text=True, check=True,
                          timeout=60)
    return json.loads(done.stdout)


def joined(*parts: mapframe.RenderedGroups) -> str:
    return mapframe.joined(mapframe.RenderedMap(
        script="", header="", html="", map_id="map_x", css_links=(), js_links=(), bounds={},
        zoom=None), parts, mapframe.folium.LayerControl()).feature_group


def test_the_kept_script_names_every_group_and_runs_the_part_otherwise():
    grids = part(0, "grids")
    script = mapframe.kept_script(grids)
    assert grids.feature_group in script and script.count("if (gcHit) {") == 1
    for name in grids.variables:
        assert f"var {name} = gcHit[" in script
    assert mapframe.kept_script(grids) is grids.kept  # made once per part
    empty = mapframe.RenderedGroups(feature_group="", layer_control="", css_links=(),
                                    js_links=())
    assert mapframe.kept_script(empty) == ""


def test_the_hidden_mark_stays_on_the_group():
    rendered = HideGroup()._template.module.script(type("G", (), {
        "_parent": type("P", (), {"get_name": lambda self: "fg"})()})(), {})
    assert "fg.gcHidden = true;" in rendered and "fg.gcStartHidden = true;" in rendered


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_an_unchanged_part_is_put_back_and_a_changed_one_drawn_again():
    grids, services = part(0, "grids"), part(100, "areas", hidden=True)
    new_services = part(100, "areas-1.0m/s", hidden=True)
    new_grids = part(0, "grids-split")
    runs = run_in_node([joined(grids, services), joined(grids, new_services),
                        joined(new_grids, new_services), joined(new_grids, new_services)])
    # first: both parts drawn (4 groups made), the hidden one off the map
    assert runs[0]["made"] == 4
    assert runs[0]["on"] == ["areas#3", "grids#1", "grids#2"]
    # a speed change: the grids put back as they were, the service part drawn anew
    assert runs[1]["made"] == 6
    assert runs[1]["on"] == ["areas-1.0m/s#5", "grids#1", "grids#2"]
    # an edit: the grids drawn anew, the services kept (the hidden group stays off)
    assert runs[2]["made"] == 8
    assert runs[2]["on"] == ["areas-1.0m/s#5", "grids-split#7", "grids-split#8"]
    # nothing changed: nothing drawn
    assert runs[3]["made"] == 8 and runs[3]["on"] == runs[2]["on"]


def test_kept_shapes_are_the_shapes_and_only_changed_ones_are_converted(monkeypatch):
    import numpy as np
    import shapely

    from ui import mapdata

    mapdata._KEPT.clear()
    boxes = np.array([shapely.box(x, 0, x + 50, 40) for x in range(0, 500, 50)]
                     + [None, shapely.Polygon()], dtype=object)
    crs = "EPSG:32650"
    plain = mapdata.shapes(boxes, crs, simplify_m=1.5)
    assert mapdata.kept_shapes(boxes, crs, simplify_m=1.5) == plain
    assert sorted(plain) == list(range(10))  # the missing and the empty one left out
    converted = []
    real = mapdata.shapes
    monkeypatch.setattr(mapdata, "shapes", lambda g, *a, **k: converted.append(len(g)) or real(g, *a, **k))
    edited = boxes.copy()
    edited[3] = shapely.box(150, 0, 260, 40)  # one grid changed by an edit
    again = mapdata.kept_shapes(edited, crs, simplify_m=1.5)
    assert converted == [1]
    assert again == real(edited, crs, simplify_m=1.5)
    assert mapdata.kept_shapes(boxes, crs, simplify_m=0.0) == real(boxes, crs)  # other settings
