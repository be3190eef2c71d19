"""The page's view of a batch folder: the districts compared, their ranking, and the
comparison's files to download. Reading is :mod:`analysis.batch.view`; this module only
draws the widgets."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from analysis.batch.view import PDF, XLSX, open_batch
from geo.errors import GridcircleError
from geo.i18n import t
from ui import lazy, widgets

FOLDER_KEY = "gc_batch_folder"


def panel(lang: str) -> None:
    """An expander: open a batch folder (on the machine running the page) and show it."""
    lazy.keep("gc_batch_path")
    box, is_open = lazy.expander(t("batch.page.title", lang), key="gc_batch_shown")
    if not is_open:  # drawn only while open (ui/lazy.py)
        return
    with box:
        path = st.text_input(t("batch.page.path", lang), key="gc_batch_path")
        if st.button(t("batch.page.open", lang), key="gc_batch_open", disabled=not path):
            st.session_state[FOLDER_KEY] = path
        folder = st.session_state.get(FOLDER_KEY)
        if not folder:
            st.caption(t("batch.page.hint", lang))
            return
        try:
            view = open_batch(Path(folder).expanduser())
        except GridcircleError as exc:
            st.error(widgets.plain(exc.message(lang)))
            return
        done, total = view.finished
        st.caption(t("batch.page.finished", lang, done=done, total=total))
        st.dataframe(view.table("districts", lang), hide_index=True)
        st.markdown(f"**{t('batch.pdf.ranking', lang)}**")
        st.caption(t("batch.pdf.ranking_note", lang))
        st.dataframe(view.table("ranking", lang), hide_index=True)
        c1, c2 = st.columns(2)
        for column, name, mime in ((c1, XLSX, "application/vnd.openxmlformats-officedocument."
                                               "spreadsheetml.sheet"), (c2, PDF, "application/pdf")):
            data = view.file(name)
            if data is not None:
                column.download_button(name, data, file_name=name, mime=mime,
                                       key=f"gc_batch_{name}")
