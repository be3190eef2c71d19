"""The grid system on the page (thin): the administrative code for grid codes, a roster
upload, and the grid atlas download. Everything else is in :mod:`analysis.gridsystem`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.gridsystem import atlas_bytes, set_grid_system
from analysis.project import Project
from geo.errors import GridcircleError
from geo.grids.codes import CodeScheme
from geo.grids.workers import read_roster
from geo.i18n import t

ADMIN_KEY = "gc_admin_code"


def section(project: Project, lang: str, *, store, prepared, stem: str) -> None:
    """Admin code field, roster upload and atlas button. ``store`` keeps a changed project
    (the session's), ``prepared(kind, make)`` makes a download once per project version."""
    scheme = CodeScheme.from_meta(project.meta)
    st.markdown(f"**{t('gs.page_title', lang)}**")
    code = st.text_input(t("gs.page_admin_code", lang), value=scheme.admin_code,
                         key=ADMIN_KEY, help=t("gs.page_admin_help", lang), max_chars=9)
    roster = st.file_uploader(t("gs.page_roster", lang), type=["csv", "xlsx"],
                              key="gc_roster_upload", help=t("gs.page_roster_help", lang))
    if st.button(t("gs.page_apply", lang), key="gc_gs_apply"):
        try:
            table = read_roster(data=roster.getvalue(), filename=roster.name) if roster else None
            store(set_grid_system(project, admin_code=code.strip(), roster=table))
            st.success(t("gs.page_applied", lang))
        except GridcircleError as exc:
            st.error(exc.message(lang))
    if st.button(t("gs.page_atlas", lang), key="gc_atlas"):
        st.session_state["gc_want_atlas"] = lang
    want = st.session_state.get("gc_want_atlas")
    if want:
        try:
            with st.spinner(t("step.atlas", lang)):
                kind = ("atlas", want, repr(project.meta.get("grid_system")),
                        len(project.layers.get("workers", ())))
                data = prepared(kind, lambda: atlas_bytes(project, lang=want))
            st.download_button(t("gs.page_atlas_download", lang), data,
                               file_name=f"{Path(stem).name}_atlas.pdf", mime="application/pdf",
                               key="gc_dl_atlas")
        except GridcircleError as exc:
            st.error(exc.message(lang))


__all__ = ["section"]
