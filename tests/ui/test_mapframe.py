"""A map rendered once and sent later reaches the streamlit-folium component exactly as
``st_folium`` would send it."""

from __future__ import annotations

import json
import re

import pytest
import streamlit_folium as sf

from analysis.pipeline import run
from ui import mapframe, mapview


@pytest.fixture(scope="module")
def result(small_district):
    return run(small_district)


def sent(monkeypatch, call) -> dict:
    """The arguments the component received from ``call()``, with every layer's data as
    the literal st_folium writes (the page sends it as ``JSON.parse('…')``: see
    :func:`literals`)."""
    seen = {}

    def component(**kwargs):
        seen.update(kwargs)
        return kwargs["default"]

    monkeypatch.setattr(sf, "_component_func", component)
    call()
    seen.pop("on_change")
    return {k: literals(v) if isinstance(v, str) else v for k, v in seen.items()}


def same_but_key(ours: dict, theirs: dict) -> bool:
    """The same arguments but the component's key: a hash of the map's script as sent,
    which writes its data as ``JSON.parse('…')`` (the key still follows the map: a map
    rendered again for the same layers has the same key, checked below)."""
    return {k: v for k, v in ours.items() if k != "key"} == \
        {k: v for k, v in theirs.items() if k != "key"}


PARSED = re.compile(r"JSON\.parse\('((?:[^'\\]|\\.)*)'\)")


def literals(text: str) -> str:
    """``text`` with each ``JSON.parse('…')`` of :func:`ui.mapframe.parsed` written back
    as the JSON literal it reads (its backslashes halved)."""
    return PARSED.sub(lambda m: m[1].replace("\\\\", "\\"), text)


def test_layer_data_is_sent_as_json_the_browser_parses_to_the_same_values(result):
    """Each layer's data goes as a string of JSON; what the browser's JSON.parse reads
    from it is folium's data, quotes, backslashes, markup and Chinese included."""
    import folium

    from ui import mapview

    nasty = "C0'1 \\ \"x\" </script><b>&amp; 网格 \u2028 {\"gc_data\": \"gc-00-0\"}"
    data = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "properties": {"name": nasty, "n": 3},
        "geometry": {"type": "Point", "coordinates": [24.9, 60.1]}}]}
    group = folium.FeatureGroup(name="g")
    folium.GeoJson(data).add_to(group)
    rendered = mapframe.render(mapview.base_map(mapview.base_data(result)))
    text = mapframe.render_groups(rendered, [group]).feature_group
    found = PARSED.findall(text)
    assert len(found) == 1 and "</script>" not in text and "'" not in found[0]
    # the browser's reading: the script string literal, then JSON.parse
    assert json.loads(json.loads('"' + found[0].replace('"', '\\"') + '"')) == data


@pytest.mark.parametrize("returned", [[], ["last_active_drawing", "last_object_clicked"]])
def test_show_sends_what_st_folium_sends(result, monkeypatch, returned):
    data = mapview.base_data(result)
    services = (mapview.service_data(result, "health"),)

    def build():
        return mapview.build_map(data, services, lang="en")

    options = dict(key="map", height=640, use_container_width=True, returned_objects=returned,
                   center=[60.1, 24.9], zoom=14.5)
    theirs = sent(monkeypatch, lambda: sf.st_folium(build(), **options))
    rendered = mapframe.render(build())
    ours = sent(monkeypatch, lambda: mapframe.show(rendered, **options))
    assert same_but_key(ours, theirs)
    assert rendered.size_bytes > 1000 and "L.control.scale" in rendered.script
    # the same map rendered again is the same component (it stays in the browser)
    again = sent(monkeypatch, lambda: mapframe.show(mapframe.render(build()), **options))
    assert again["key"] == ours["key"] and "JSON.parse('" in rendered.script


def test_rendered_map_is_plain_strings_and_survives_pickling(result):
    import pickle

    rendered = mapframe.render(mapview.build_map(mapview.base_data(result)))
    assert pickle.loads(pickle.dumps(rendered)) == rendered
    assert all(link.startswith("../../app/static/") for link in rendered.js_links)


def test_groups_are_sent_as_st_folium_sends_feature_groups_and_a_layer_control(result,
                                                                              monkeypatch):
    import folium

    data = mapview.base_data(result)
    services = (mapview.service_data(result, "health"),)

    def base():
        return mapview.base_map(data, lang="en")

    def groups():
        return mapview.service_groups(data, services, lang="en", names={"health": "Clinic"})

    def control():
        return folium.LayerControl(collapsed=False)

    options = dict(key="map", height=640, use_container_width=True, returned_objects=[])
    theirs = sent(monkeypatch, lambda: sf.st_folium(
        base(), feature_group_to_add=groups(), layer_control=control(), **options))
    rendered = mapframe.render(base())
    swapped = mapframe.render_groups(rendered, groups(), control())
    ours = sent(monkeypatch, lambda: mapframe.show(rendered, groups=swapped, **options))
    assert same_but_key(ours, theirs)
    assert "Service area: Clinic" in swapped.layer_control
    assert "Grids" in swapped.layer_control and "gcLegend" in swapped.feature_group

    # other groups for the same base: the same component (the map stays in the browser)
    other = mapframe.render_groups(rendered, mapview.service_groups(data, (), lang="en"),
                                   control())
    again = sent(monkeypatch, lambda: mapframe.show(rendered, groups=other, **options))
    assert again["key"] == ours["key"] and again["feature_group"] != ours["feature_group"]
    assert "Service area" not in other.layer_control


def test_parts_rendered_apart_are_sent_as_one(result, monkeypatch):
    """The grid part and the service part of the page's map, rendered apart and joined,
    reach the component as st_folium sends the same groups rendered together (up to the
    groups' numbers), and the layer control lists every group of both parts."""
    data = mapview.base_data(result)
    services = (mapview.service_data(result, "health"),)
    rendered = mapframe.render(mapview.base_map(data, lang="en"))
    grids = mapframe.render_groups(rendered, mapview.grid_groups(data, lang="en"))
    served = mapframe.render_groups(
        rendered, mapview.service_groups(data, services, lang="en", names={"health": "Clinic"}),
        first=mapview.SERVICE_GROUPS_FROM)
    sent_groups = mapframe.joined(rendered, (grids, served), mapview.layer_control())
    together = mapframe.render_groups(
        rendered, mapview.grid_groups(data, lang="en") + mapview.service_groups(
            data, services, lang="en", names={"health": "Clinic"}), mapview.layer_control())
    assert sent_groups.layer_control.count(":") == together.layer_control.count(":")
    for label, _, _ in together.layers:
        assert label in sent_groups.layer_control
    assert [label for label, _, _ in sent_groups.layers] == [label for label, _, _ in
                                                             together.layers]
    # each part's script, in order, run only where the browser has not kept its groups
    # (tests/ui/test_kept_parts.py)
    at = [sent_groups.feature_group.index(part.feature_group) for part in (grids, served)]
    assert at == sorted(at) and sent_groups.feature_group.count("if (gcHit) {") == 2
    assert f"feature_group_feature_group_{mapview.SERVICE_GROUPS_FROM}" in served.feature_group
    assert "Grids" in sent_groups.layer_control and "Service area: Clinic" in sent_groups.layer_control
    # every group the control names is one the parts make
    for _, variable, _ in sent_groups.layers:
        assert f"var {variable} " in sent_groups.feature_group or \
            f"var {variable}=" in sent_groups.feature_group
    # parts numbered alike cannot be joined: their groups would be the same variables
    with pytest.raises(ValueError):
        mapframe.joined(rendered, (grids, grids), mapview.layer_control())
