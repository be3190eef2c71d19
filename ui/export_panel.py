"""Saving, opening, downloads and the committee report on the page.

The page calls :func:`panel` (``panel(result, page)``). A project is saved to a file on
the machine running the page (planners run it on their own computer or an intranet
server) so that edits can be autosaved and two sessions editing the same file notice each
other; it can also be downloaded. Every export and the report are made by
:mod:`analysis.export` and :mod:`analysis.report`; this module only draws the widgets.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import replace
from pathlib import Path

import streamlit as st

from analysis.export import FORMATS, export_bytes
from analysis.pipeline import Result
from analysis.project import (Project, area_source_of, open_project, read_journal, read_meta,
                              recovery_path, same_area, save)
from geo.vocabulary import services_with_minutes
from geo.errors import GridcircleError
from geo.i18n import t
from ui import gridsystem_panel, lazy, session, widgets
from ui.edit_panel import AUTHOR_KEY, current_project, set_project
from ui.sidebar import PageSettings
from analysis.area_names import area_name
from analysis.project import open_uploaded_project

DOWNLOAD_KEY = "gc_downloads"
PROJECT_TABS = ("save", "open", "export", "report")
TABS_KEY = "gc_project_tab"  # the open project tab, by its name in PROJECT_TABS
SAVED_KEY = "gc_saved"  # where the last save went (said once, on the page's next run)


def path_key(project: Project) -> str:
    """The path box's widget key: one per area and file, so that the box shows the
    current project's path when the area changes or a project is opened (a browser
    keeps a widget's typed value for as long as its key lives)."""
    area = area_source_of(project.meta) or {}
    ident = repr((area.get("kind"), area.get("id"), str(project.path or "")))
    return "gc_save_path_" + hashlib.blake2b(ident.encode(), digest_size=6).hexdigest()


def overwrite_question(project: Project, target: Path,
                       lang: str = "zh") -> tuple[str, dict] | None:
    """What to ask before saving ``project`` over ``target`` (``None``: nothing to ask).

    Saving over a file that is not this project's own asks first, naming the area that
    file holds when it is another area, so that edits are never silently replaced."""
    if not target.exists():
        return None
    if project.path is not None and Path(project.path).resolve() == target.resolve():
        return None
    try:
        meta = read_meta(target)
        edits = len(read_journal(target))
    except GridcircleError:
        return None  # not a project: saving refuses it with its own message
    theirs, ours = area_source_of(meta), area_source_of(project.meta)
    params = {"path": str(target), "edits": edits, "revision": meta.get("revision", "?")}
    if theirs and ours and not same_area(theirs, ours):
        return "project.overwrite_other_area", {**params,
                                                 "other": session.area_label(theirs, lang),
                                                 "ours": session.area_label(ours, lang)}
    return "project.overwrite_existing", params


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


def report_bytes(project: Project, **options) -> bytes:
    """The PDF report (:func:`analysis.report.report_bytes`; matplotlib is loaded when a
    report is first asked for, not when the page starts)."""
    from analysis.report import report_bytes as make  # matplotlib: on the first report

    return make(project, **options)


def maps_zip(project: Project, *, lang: str, paper: str, services: list[str] | None) -> bytes:
    """The report's maps as 300 dpi PNGs in one zip."""
    with tempfile.TemporaryDirectory() as tmp:
        from analysis.report import save_map_pngs  # matplotlib: loaded when asked for

        paths = save_map_pngs(project, Path(tmp) / "maps", lang=lang, paper=paper, services=services)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
            for path in paths:
                zf.write(path, arcname=path.name)
        return buffer.getvalue()


def _save(result: Result, page: PageSettings, project: Project, target: Path,
          author: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with st.spinner(t("step.save", page.lang)):
            saved = save(session.complete(project), target, author=author)
        set_project(result, page, saved)
        st.session_state.pop("gc_overwrite_ask", None)
    except GridcircleError as exc:
        st.error(exc.message(page.lang))
        if exc.key == "err.project_conflict":
            st.session_state["gc_conflict"] = True
    except OSError as exc:
        st.error(t("err.write_failed", page.lang, path=str(target), detail=exc))
    else:
        _saved(saved)


def _saved(saved: Project) -> None:
    """After a save: the whole page again (the edit panel's save status names the file),
    saying where the project was saved."""
    st.session_state[SAVED_KEY] = (str(saved.path), saved.revision)
    st.rerun()


def _open(result: Result, page: PageSettings, opened: Project) -> None:
    """Make an opened project the page's (area, settings, grids, edits, numbers, map)."""
    set_project(result, page, opened, opened=True)
    lazy.show(TABS_KEY, "save")  # the opened project's file, where it is saved
    st.rerun()


@st.fragment
def panel(result: Result, page: PageSettings) -> None:
    """The project panel: save/open, downloads, report (called by the page). A fragment:
    its tabs and choices rerun only this panel; saving or opening a project reruns the
    page."""
    lang = page.lang
    st.subheader(t("project.panel_title", lang))
    project = current_project(result, page)
    for key, params in project.notes:
        st.info(t(key, lang, **params))
    # only the open tab is drawn (ui/lazy.py); the others' choices are kept meanwhile
    lazy.keep(path_key(project), "gc_open_path", "gc_format", "gc_report_services", "gc_paper",
              *gridsystem_panel.KEPT)
    name, tab = lazy.tabs(TABS_KEY, PROJECT_TABS,
                          [t(f"project.tab_{n}", lang) for n in PROJECT_TABS])
    with tab:
        {"save": _save_tab, "open": _open_tab, "export": _export_tab,
         "report": _report_tab}[name](result, page, project)


def _save_tab(result: Result, page: PageSettings, project: Project) -> None:
    lang = page.lang
    author = st.session_state.get(AUTHOR_KEY, "")
    key = path_key(project)
    path = st.text_input(t("project.path", lang),
                         value=lazy.given(key, session.default_path(project)), key=key)
    target = Path(path).expanduser()
    c1, c2 = st.columns(2)
    if c1.button(t("project.save", lang), key="gc_save", type="primary"):
        if overwrite_question(project, target) is None:
            _save(result, page, project, target, author)
        else:
            st.session_state["gc_overwrite_ask"] = str(target)
    question = (overwrite_question(project, target, lang)
                if st.session_state.get("gc_overwrite_ask") == str(target) else None)
    if question is not None:
        st.warning(t(question[0], lang, **question[1]))
        if st.button(t("project.overwrite_confirm", lang), key="gc_overwrite_yes"):
            _save(result, page, project, target, author)
    if st.session_state.get("gc_conflict"):
        if c2.button(t("project.save_copy", lang), key="gc_save_copy"):
            saved = save(replace(session.complete(project), path=None),
                         recovery_path(target), author=author)
            set_project(result, page, saved)
            st.session_state["gc_conflict"] = False
            _saved(saved)
    said = st.session_state.pop(SAVED_KEY, None)
    if said is not None:
        st.success(t("project.saved", lang, path=said[0], revision=said[1]))
    st.caption(t("project.save_hint", lang))


def _open_tab(result: Result, page: PageSettings, project: Project) -> None:
    lang = page.lang
    path = st.text_input(t("project.open_path", lang), key="gc_open_path")
    if st.button(t("project.open", lang), key="gc_open", disabled=not path):
        try:
            opened = open_project(Path(path).expanduser())
        except GridcircleError as exc:
            st.error(exc.message(lang))
        else:
            _open(result, page, opened)
    upload = st.file_uploader(t("project.upload", lang), type=["gpkg"], key="gc_upload")
    if upload is not None and st.button(t("project.open_upload", lang), key="gc_open_upload"):

        try:  # a private temporary file, removed once read (never a shared folder)
            opened = open_uploaded_project(upload.getvalue())
        except GridcircleError as exc:
            st.error(exc.message(lang))
        else:
            _open(result, page, opened)


def _export_tab(result: Result, page: PageSettings, project: Project) -> None:
    lang = page.lang
    fmt = widgets.selectbox(t("project.format", lang), FORMATS, key="gc_format", lang=lang,
                            format_func=lambda f: t(f"project.format_{f}", lang))
    if st.button(t("project.prepare", lang), key="gc_prepare"):
        st.session_state["gc_want_export"] = fmt
    if st.session_state.get("gc_want_export") == fmt:
        try:
            name, data, mime = _prepared(project, f"export_{fmt}", lambda: export_bytes(
                session.complete(project), fmt, lang=lang))
            st.download_button(t("project.download", lang, name=name), data, file_name=name,
                               mime=mime, key=f"gc_dl_{fmt}")
        except GridcircleError as exc:
            st.error(exc.message(lang))
    if project.credit:
        st.caption(t("project.credit_note", lang, credit=project.credit))


def _report_tab(result: Result, page: PageSettings, project: Project) -> None:
    """The committee report and its maps: every service by default (the planner may
    narrow it), the area's name (saved with the project), and a download offered only
    once the file asked for is ready."""
    lang = page.lang
    hh = project.layers.get("households")
    available = services_with_minutes(hh.columns if hh is not None else [])
    names = {svc.key: svc.name(lang) for svc in result.catalogue}
    services = widgets.multiselect(t("project.report_services", lang), available,
                                   default=available, key="gc_report_services", lang=lang,
                                   format_func=lambda k: names.get(k, k))
    project = _named(project, lang)
    paper = widgets.radio(t("project.paper", lang), ["A4", "A3"], horizontal=True,
                          key="gc_paper")
    area_name = str(project.meta.get("area_name") or "")
    c1, c2 = st.columns(2)
    if c1.button(t("project.make_report", lang), key="gc_report", type="primary"):
        st.session_state["gc_want_report"] = (tuple(services), paper, lang, area_name)
    if c2.button(t("project.make_maps", lang), key="gc_maps"):
        st.session_state["gc_want_maps"] = (tuple(services), paper, lang, area_name)
    stem = Path(session.default_path(project)).stem
    for kind, make, suffix, mime in (("report", report_bytes, "report.pdf", "application/pdf"),
                                     ("maps", maps_zip, "maps.zip", "application/zip")):
        want = st.session_state.get(f"gc_want_{kind}")
        if not want:
            continue
        slot = st.empty()
        data = _made(project, kind, want, make, slot, lang)
        if data is not None:
            slot.download_button(t(f"project.download_{kind}", lang), data,
                                 file_name=f"{stem}_{suffix}", mime=mime, key=f"gc_dl_{kind}")
    gridsystem_panel.section(project, lang, store=lambda p: set_project(result, page, p),
                             prepared=lambda kind, make: _prepared(project, kind, make),
                             stem=stem)


def _named(project: Project, lang: str) -> Project:
    """The area's name for the report, typed by the planner and kept with the project
    (``meta["area_name"]``, saved in the file)."""

    given = str(project.meta.get("area_name") or "")
    typed = st.text_input(t("project.area_name", lang), value=given, max_chars=60,
                          key="gc_area_name_" + path_key(project),
                          placeholder=area_name(project, lang),
                          help=t("project.area_name_help", lang)).strip()
    if typed != given:
        meta = {**project.meta, "area_name": typed} if typed else {
            k: v for k, v in project.meta.items() if k != "area_name"}
        project = replace(project, meta=meta)
        session.store(project)
    return project


#: Reports and maps are made apart from the page's reruns (one at a time: matplotlib's
#: settings are the process's), so that a click while a report is being made starts a new
#: rerun at once instead of replacing a rerun busy inside the report.
_MAKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcircle-report")
JOBS_KEY = "gc_report_jobs"


def _made(project: Project, kind: str, want: tuple, make, slot, lang: str) -> bytes | None:
    """The file ``want`` asks for, once made (``None`` while it is being made or failed:
    the slot says which and the old download is gone)."""
    store = st.session_state.setdefault(DOWNLOAD_KEY, {})
    key = ((kind, want), _version(project))
    if key in store:
        return store[key]
    jobs = st.session_state.setdefault(JOBS_KEY, {})
    job = jobs.get(kind)
    if job is None or job[0] != key:
        full = session.complete(project)  # in the page's thread: it reads the session
        job = (key, _MAKER.submit(make, full, lang=want[2], paper=want[1],
                                  services=list(want[0])))
        jobs[kind] = job
    future = job[1]
    started, tick = time.monotonic(), 0
    while not future.done():  # each message lets a new click stop this rerun at once
        slot.button(t("project.making", lang, seconds=int(time.monotonic() - started)),
                    disabled=True, key=f"gc_wait_{kind}_{tick}")
        tick += 1
        wait([future], timeout=1.0)
    jobs.pop(kind, None)
    error = future.exception()
    if isinstance(error, GridcircleError):
        slot.error(error.message(lang))
        st.session_state.pop(f"gc_want_{kind}", None)
        return None
    if error is not None:
        raise error
    if len(store) > 8:
        store.clear()
    store[key] = future.result()
    return store[key]


__all__ = ["maps_zip", "overwrite_question", "panel", "path_key"]
