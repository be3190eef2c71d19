"""The grid system on the page (thin): the administrative code for grid codes, a roster
upload, and the grid atlas download. Everything else is in :mod:`analysis.gridsystem`."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.gridsystem import set_grid_system
from analysis.project import Project
from geo.errors import GridcircleError
from geo.grids.codes import CodeScheme
from geo.grids.workers import read_roster
from geo.i18n import t
from ui import lazy, widgets
from analysis.worker_edits import reassign_worker, redo_worker_edit, undo_worker_edit

ADMIN_KEY = "gc_admin_code"
KEPT = (ADMIN_KEY, "gc_worker_pick", "gc_worker_grid")  # kept while the tab is closed


def section(project: Project, lang: str, *, store, prepared, stem: str) -> None:
    """Admin code field, roster upload and atlas button. ``store`` keeps a changed project
    (the session's), ``prepared(kind, make)`` makes a download once per project version."""
    scheme = CodeScheme.from_meta(project.meta)
    st.markdown(f"**{t('gs.page_title', lang)}**")
    code = st.text_input(t("gs.page_admin_code", lang),
                         value=lazy.given(ADMIN_KEY, scheme.admin_code), key=ADMIN_KEY,
                         help=t("gs.page_admin_help", lang), max_chars=9)
    roster = st.file_uploader(t("gs.page_roster", lang), type=["csv", "xlsx"],
                              key="gc_roster_upload", help=t("gs.page_roster_help", lang))
    if st.button(t("gs.page_apply", lang), key="gc_gs_apply"):
        try:
            table = read_roster(data=roster.getvalue(), filename=roster.name) if roster else None
            store(set_grid_system(project, admin_code=code.strip(), roster=table))
            st.success(t("gs.page_applied", lang))
        except GridcircleError as exc:
            st.error(widgets.plain(exc.message(lang)))
    if "workers" in project.layers:
        _worker_posts(project, lang, store)
    if st.button(t("gs.page_atlas", lang), key="gc_atlas"):
        st.session_state["gc_want_atlas"] = lang
    want = st.session_state.get("gc_want_atlas")
    if want:
        try:
            with st.spinner(t("step.atlas", lang)):
                kind = ("atlas", want, repr(project.meta.get("grid_system")),
                        len(project.layers.get("workers", ())))
                data = prepared(kind, lambda: _atlas(project, want))
            st.download_button(t("gs.page_atlas_download", lang), data,
                               file_name=f"{Path(stem).name}_atlas.pdf", mime="application/pdf",
                               key="gc_dl_atlas")
        except GridcircleError as exc:
            st.error(widgets.plain(exc.message(lang)))


def _atlas(project: Project, lang: str) -> bytes:
    from analysis.atlas import atlas_bytes  # matplotlib: only when the atlas is asked for

    return atlas_bytes(project, lang=lang)


def _worker_posts(project: Project, lang: str, store) -> None:
    """Put a worker on a grid's A post (a swap with the grid's worker), undo and redo."""

    workers = project.layers["workers"]
    people = workers.drop_duplicates("worker_id")
    label = dict(zip(people["worker_id"].astype(str),
                     [f"{w} {n}" for w, n in zip(people["worker_id"], people["name"])]))
    grids = sorted(project.layers["grids"]["grid_id"].astype(str))
    c1, c2 = st.columns(2)
    worker = c1.selectbox(t("gs.page_worker", lang), list(label), key="gc_worker_pick",
                          format_func=lambda w: label.get(w, w))
    grid = c2.selectbox(t("gs.page_worker_grid", lang), grids, key="gc_worker_grid")
    b1, b2, b3 = st.columns(3)
    try:
        if b1.button(t("gs.page_reassign", lang), key="gc_worker_apply"):
            store(reassign_worker(project, worker, grid))
            st.rerun()
        if b2.button(t("gs.page_worker_undo", lang), key="gc_worker_undo"):
            store(undo_worker_edit(project))
            st.rerun()
        if b3.button(t("gs.page_worker_redo", lang), key="gc_worker_redo"):
            store(redo_worker_edit(project))
            st.rerun()
    except GridcircleError as exc:
        st.error(widgets.plain(exc.message(lang)))


__all__ = ["section"]
