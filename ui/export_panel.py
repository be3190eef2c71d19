"""Saving, opening, downloads and the committee report on the page.

The page calls :func:`panel` (``panel(result, page)``). A project is saved to a file on
the machine running the page (planners run it on their own computer or an intranet
server) so that edits can be autosaved and two sessions editing the same file notice each
other; it can also be downloaded. Every export and the report are made by
:mod:`analysis.export` and :mod:`analysis.report`; this module only draws the widgets.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from analysis.export import FORMATS, export_bytes
from analysis.pipeline import Result
from analysis.project import Project, open_project, save
from analysis.report import report_bytes, save_map_pngs
from geo.errors import GridcircleError
from geo.i18n import t
from ui.edit_panel import AUTHOR_KEY, current_project, leave_file, set_project

DOWNLOAD_KEY = "gc_downloads"


def default_path(project: Project) -> str:
    """Where a project is saved unless the user says otherwise."""
    if project.path is not None:
        return str(project.path)
    name = re.sub(r"[^\w\-]+", "_", str(project.meta.get("area") or "gridcircle")).strip("_")
    return str(Path.home() / "gridcircle" / f"{name or 'gridcircle'}.gpkg")


def _version(project: Project) -> tuple:
    """Changes whenever the project's content changes (to reuse prepared downloads)."""
    session = project.session
    return (str(project.path), project.revision, session.position if session else 0,
            len(session.entries) if session else 0, id(session.state) if session else 0)


def _prepared(project: Project, kind: str, make) -> tuple[str, bytes, str]:
    """A download made once per project version and kind (kept in the session)."""
    store = st.session_state.setdefault(DOWNLOAD_KEY, {})
    key = (kind, _version(project))
    if key not in store:
        if len(store) > 8:
            store.clear()
        store[key] = make()
    return store[key]


def maps_zip(project: Project, *, lang: str, paper: str, services: list[str] | None) -> bytes:
    """The report's maps as 300 dpi PNGs in one zip."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = save_map_pngs(project, Path(tmp) / "maps", lang=lang, paper=paper, services=services)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
            for path in paths:
                zf.write(path, arcname=path.name)
        return buffer.getvalue()


def panel(result: Result, page: object) -> None:
    """The project panel: save/open, downloads, report (called by the page)."""
    lang = getattr(page, "lang", "zh")
    st.subheader(t("project.panel_title", lang))
    project = current_project(result, page)
    for key, params in project.notes:
        st.info(t(key, lang, **params))
    author = st.session_state.get(AUTHOR_KEY, "")
    save_tab, open_tab, export_tab, report_tab = st.tabs(
        [t("project.tab_save", lang), t("project.tab_open", lang), t("project.tab_export", lang),
         t("project.tab_report", lang)])

    with save_tab:
        path = st.text_input(t("project.path", lang), value=default_path(project), key="gc_save_path")
        c1, c2 = st.columns(2)
        if c1.button(t("project.save", lang), key="gc_save", type="primary"):
            try:
                target = Path(path).expanduser()
                target.parent.mkdir(parents=True, exist_ok=True)
                saved = save(project, target, author=author)
                set_project(result, page, saved)
                st.success(t("project.saved", lang, path=str(saved.path), revision=saved.revision))
            except GridcircleError as exc:
                st.error(exc.message(lang))
                if exc.key == "err.project_conflict":
                    st.session_state["gc_conflict"] = True
            except OSError as exc:
                st.error(t("err.write_failed", lang, path=path, detail=exc))
        if st.session_state.get("gc_conflict"):
            if c2.button(t("project.save_copy", lang), key="gc_save_copy"):
                from analysis.project import recovery_path

                saved = save(replace(project, path=None), recovery_path(Path(path).expanduser()),
                             author=author)
                set_project(result, page, saved)
                st.session_state["gc_conflict"] = False
                st.success(t("project.saved", lang, path=str(saved.path), revision=saved.revision))
        st.caption(t("project.save_hint", lang))

    with open_tab:
        path = st.text_input(t("project.open_path", lang), key="gc_open_path")
        if st.button(t("project.open", lang), key="gc_open", disabled=not path):
            try:
                opened = open_project(Path(path).expanduser())
                set_project(result, page, opened, opened=True)
                st.rerun()
            except GridcircleError as exc:
                st.error(exc.message(lang))
        upload = st.file_uploader(t("project.upload", lang), type=["gpkg"], key="gc_upload")
        if upload is not None and st.button(t("project.open_upload", lang), key="gc_open_upload"):
            folder = Path(tempfile.gettempdir()) / "gridcircle_projects"
            folder.mkdir(parents=True, exist_ok=True)
            local = folder / Path(upload.name).name
            local.write_bytes(upload.getvalue())
            try:
                opened = replace(open_project(local), path=None, revision=0)
                set_project(result, page, opened, opened=True)
                st.rerun()
            except GridcircleError as exc:
                st.error(exc.message(lang))
        if st.session_state.get("gc_active_project", (None,))[0] == "file":
            st.caption(t("project.showing_file", lang, path=str(project.path or "")))
            if st.button(t("project.back_to_run", lang), key="gc_back"):
                leave_file(result, page)
                st.rerun()

    with export_tab:
        fmt = st.selectbox(t("project.format", lang), FORMATS, key="gc_format",
                           format_func=lambda f: t(f"project.format_{f}", lang))
        if st.button(t("project.prepare", lang), key="gc_prepare"):
            st.session_state["gc_want_export"] = fmt
        if st.session_state.get("gc_want_export") == fmt:
            try:
                name, data, mime = _prepared(project, f"export_{fmt}",
                                             lambda: export_bytes(project, fmt, lang=lang))
                st.download_button(t("project.download", lang, name=name), data, file_name=name,
                                   mime=mime, key=f"gc_dl_{fmt}")
            except GridcircleError as exc:
                st.error(exc.message(lang))
        if project.credit:
            st.caption(t("project.credit_note", lang, credit=project.credit))

    with report_tab:
        hh = project.layers.get("households")
        available = [c[len("walk_min_"):] for c in (hh.columns if hh is not None else [])
                     if c.startswith("walk_min_")]
        wanted = [s for s in getattr(page, "services", ()) if s in available] or available[:3]
        names = {svc.key: svc.name(lang) for svc in getattr(result, "catalogue", ())}
        services = st.multiselect(t("project.report_services", lang), available, default=wanted,
                                  key="gc_report_services", format_func=lambda k: names.get(k, k),
                                  placeholder=t("page.choose_many", lang), select_all=False)
        paper = st.radio(t("project.paper", lang), ["A4", "A3"], horizontal=True, key="gc_paper")
        c1, c2 = st.columns(2)
        if c1.button(t("project.make_report", lang), key="gc_report", type="primary"):
            st.session_state["gc_want_report"] = (tuple(services), paper, lang)
        if c2.button(t("project.make_maps", lang), key="gc_maps"):
            st.session_state["gc_want_maps"] = (tuple(services), paper, lang)
        stem = Path(default_path(project)).stem
        try:
            # the report (PDF) and the 300 dpi maps (zip) are made once per request
            for kind, make, suffix, mime in (("report", report_bytes, "report.pdf", "application/pdf"),
                                             ("maps", maps_zip, "maps.zip", "application/zip")):
                want = st.session_state.get(f"gc_want_{kind}")
                if not want:
                    continue
                with st.spinner(t("step.report", lang)):
                    data = _prepared(project, (kind, want),
                                     lambda make=make, want=want: make(
                                         project, lang=want[2], paper=want[1],
                                         services=list(want[0])))
                st.download_button(t(f"project.download_{kind}", lang), data,
                                   file_name=f"{stem}_{suffix}", mime=mime, key=f"gc_dl_{kind}")
        except GridcircleError as exc:
            st.error(exc.message(lang))


__all__ = ["default_path", "maps_zip", "panel"]
