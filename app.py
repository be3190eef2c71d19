"""Gridcircle page: ``streamlit run app.py``. Thin: it calls analysis/ and ui/ only."""

from __future__ import annotations

import streamlit as st
from streamlit_folium import st_folium

from analysis.pipeline import OSM_CREDIT, load_area, run
from geo.demos import DEMOS
from geo.errors import GridcircleError
from geo.i18n import t
from ui.mapview import build_map

st.set_page_config(page_title="Gridcircle 网格与生活圈", layout="wide")


@st.cache_resource(show_spinner=False)
def cached_area(demo: str):
    return load_area(demo=demo)


@st.cache_resource(show_spinner=False)
def cached_run(demo: str):
    return run(cached_area(demo))


lang = "en" if st.sidebar.toggle("English", value=False, key="lang_en") else "zh"
st.title(t("app.title", lang))
demo = st.sidebar.selectbox(t("app.demo", lang), DEMOS, index=0, key="demo",
                            format_func=lambda d: t(f"demo.{d}", lang))
basemap = st.sidebar.radio(t("map.basemap", lang), ["offline", "osm"], key="basemap",
                           format_func=lambda b: t(f"map.basemap_{b}", lang))
try:
    with st.spinner(t("step.load", lang)):
        result = cached_run(demo)
except GridcircleError as exc:
    st.error(exc.message(lang))
    st.stop()

summary = result.summary
cols = st.columns(3)
cols[0].metric(t("app.households", lang), f"{summary['households']:,}")
cols[1].metric(t("app.units", lang), f"{summary['household_units']:,}")
cols[2].metric(t("app.facilities", lang), f"{sum(summary['facilities_by_service'].values()):,}")
st_folium(build_map(result, lang=lang, basemap=basemap), key="map", height=600,
          use_container_width=True, returned_objects=[])
if result.area.osm_derived:
    st.caption(OSM_CREDIT)
