"""A page whose every name is hostile (facilities, communities, grids, streets, buildings,
the credit, the area, a service): the main map, the grid tables and the editing panel.
For the browser test that hovers and clicks every feature (``streamlit run``)."""

import dataclasses
from types import SimpleNamespace

import streamlit as st

from analysis.pipeline import run
from geo.synthetic import synthetic_district
from tests.analysis.project_fixtures import with_compound_grids
from ui import edit_panel, mapframe, mapview, panels

PAYLOAD = ('<img src=x onerror="window.gcPwned=1;window.top.document.title=\'pwned\'">',
           "<script>window.gcPwned=1;window.top.document.title='pwned'</script>",
           "\"'><svg onload=\"window.gcPwned=1\">",
           "</script><script>window.gcPwned=1</script>")

st.set_page_config(page_title="hostile", layout="wide")


def hostile(frame, column):
    out = frame.copy()
    out[column] = [PAYLOAD[k % len(PAYLOAD)] for k in range(len(out))]
    return out


@st.cache_resource
def result():
    base = with_compound_grids(run(synthetic_district(3_000, seed=1)))
    layers = dict(base.layers)
    for name, column in (("facilities", "name"), ("communities", "name"), ("grids", "name")):
        if name in layers and column in layers[name].columns or name == "grids":
            layers[name] = hostile(layers[name], column)
    area = dataclasses.replace(base.area, roads=hostile(base.area.roads, "name"),
                               buildings=hostile(base.area.buildings, "name"))
    return dataclasses.replace(base, layers=layers, area=area)


res = result()
data = mapview.base_data(res, lang="zh")
services = tuple(mapview.service_data(res, s) for s in ("health", "market"))
names = {**panels.service_names(res, "zh"), "health": PAYLOAD[0], "market": PAYLOAD[0]}
sites = mapview.sites_json(res.households.iloc[:2].assign(added_households=[5, 3], order=[1, 2]),
                           places=[PAYLOAD[1], PAYLOAD[2]])
fmap = mapview.build_map(data, services, lang="zh", names=names, sites=sites)
mapframe.show(mapframe.render(fmap), key="map", height=500, use_container_width=True,
              returned_objects=[])
st.caption(PAYLOAD[0] + " · " + PAYLOAD[3])
panels.grids_panel(res, (200, 300), "zh")
page = SimpleNamespace(lang="zh", services=("health",), band=(200, 300))
project = edit_panel.current_project(res, page)
if project.credit != PAYLOAD[3]:
    edit_panel.set_project(res, page, dataclasses.replace(
        project, meta={**project.meta, "credit": PAYLOAD[3], "area": PAYLOAD[0]}))
edit_panel.panel(res, page)
