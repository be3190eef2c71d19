"""A page holding only the grid editing panel on a small synthetic district with grids
(for the browser test of drawing a selection; run with ``streamlit run``)."""

from types import SimpleNamespace

import streamlit as st

from analysis.pipeline import run
from geo.synthetic import synthetic_district
from tests.analysis.project_fixtures import with_compound_grids
from ui import edit_panel

st.set_page_config(layout="wide")


@st.cache_resource
def result():
    return with_compound_grids(run(synthetic_district(5_000, seed=1)))


edit_panel.panel(result(), SimpleNamespace(lang="zh", services=("market",), band=(200, 300)))
