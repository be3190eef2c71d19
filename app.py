"""Gridcircle page: ``streamlit run app.py``. Thin: the frame and the order of things;
the widgets, caching, map and panels live in ``ui/``, the analysis in ``analysis/``."""

from __future__ import annotations

import streamlit as st

from geo.i18n import t
from ui import page as ui_page
from ui import batch_panel, panels, session, sidebar

st.set_page_config(page_title="Gridcircle 网格与生活圈", layout="wide")

session.apply_pending()  # an opened project's area and settings, set before the sidebar
settings = sidebar.page_settings()
lang = settings.lang if settings else sidebar.current_language()
st.title(t("app.title", lang))
st.caption(t("app.start_hint", lang))  # what this does and where to start, in one line
if settings is None:
    st.info(session.waiting_for_file(lang) or t("page.choose_source", lang))
    st.stop()

if not session.confirm_area(settings.source, lang):  # unsaved edits: asks first
    st.stop()
run = ui_page.compute(settings)
session.notices(lang)  # an opened project's settings the page could not use, if any
panels.metrics(run.result, lang)
map_col, side_col = st.columns([3, 2], gap="medium")
focus, sites = ui_page.map_choices(run, settings)  # the gap zoom and siting tabs' choices
with map_col:  # the map first: the browser draws it while the tabs beside it are made
    ui_page.show_map(run, settings, focus=focus, sites=sites)
with side_col:
    ui_page.side_tabs(run, settings)

# Grid edits, saving, opening and exports, all on the session's one project.
ui_page.project_panels(run, settings)
batch_panel.panel(lang)  # a city's batch folder (python -m analysis batch), compared
session.prefetch()  # the services not shown yet, made in the background for what comes next
