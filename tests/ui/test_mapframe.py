"""A map rendered once and sent later reaches the streamlit-folium component exactly as
``st_folium`` would send it."""

from __future__ import annotations

import pytest
import streamlit_folium as sf

from analysis.pipeline import run
from ui import mapframe, mapview


@pytest.fixture(scope="module")
def result(small_district):
    return run(small_district)


def sent(monkeypatch, call) -> dict:
    """The arguments the component received from ``call()``."""
    seen = {}

    def component(**kwargs):
        seen.update(kwargs)
        return kwargs["default"]

    monkeypatch.setattr(sf, "_component_func", component)
    call()
    seen.pop("on_change")
    return seen


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
    assert ours == theirs
    assert rendered.size_bytes > 1000 and "L.control.scale" in rendered.script


def test_rendered_map_is_plain_strings_and_survives_pickling(result):
    import pickle

    rendered = mapframe.render(mapview.build_map(mapview.base_data(result)))
    assert pickle.loads(pickle.dumps(rendered)) == rendered
    assert all(link.startswith("../../app/static/") for link in rendered.js_links)
