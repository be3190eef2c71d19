"""Keeping a session's work across a reload of the page.

A browser reload starts a new Streamlit session: the edits of the old one live only in its
files. A project bound to a file is autosaved after every edit (:func:`analysis.project.
autosave`); a project not yet saved is copied after every edit, in the background, to
``~/gridcircle/autosave/<area>.gpkg`` (:func:`keep`). A new session whose area has such a
file with edits newer than the page's own offers to restore it (:func:`offer`): one click
opens it as the page's project (not bound to the copy: saving asks where, as before).
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import streamlit as st

from analysis.project import (Project, area_source_of, open_project, read_journal, read_meta,
                              save, same_area)
from geo.errors import GridcircleError
from geo.i18n import t
from ui import session, widgets

ASKED_KEY = "gc_restore_asked"
MAX_AGE_S = 7 * 24 * 3600  # older copies are not offered
_WRITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridcircle-autosave")
#: the copy waits this long after an edit, so that the page the edit reruns is drawn
#: first (writing a large district's project takes a quarter of a second of the machine)
COPY_AFTER_S = 2.0
_NEWEST: dict[Path, int] = {}  # copy path -> the number of the newest copy asked for
_NEWEST_LOCK = threading.Lock()


def autosave_folder() -> Path:
    """``~/gridcircle/autosave``, or the folder named by ``GRIDCIRCLE_AUTOSAVE_DIR``."""
    named = os.environ.get("GRIDCIRCLE_AUTOSAVE_DIR")
    return Path(named) if named else Path.home() / "gridcircle" / "autosave"


def copy_path(project: Project) -> Path:
    """Where an unsaved project of this area is copied after each edit."""
    area = area_source_of(project.meta)
    return autosave_folder() / f"{session.file_stem(area, 'gridcircle')}.gpkg"


def keep(project: Project, author: str = "", *, delay_s: float = COPY_AFTER_S) -> None:
    """Copy an unsaved project with edits to :func:`copy_path`, in the background,
    ``delay_s`` after the edit (the edit is not kept waiting, nor the page it draws; a
    later copy replaces an earlier one atomically, and a copy asked for again before it
    is written is written once, as the newest)."""
    if project.path is not None or project.session is None or not project.session.entries:
        return
    target = copy_path(project)
    due = time.monotonic() + delay_s
    with _NEWEST_LOCK:
        number = _NEWEST.get(target, 0) + 1
        _NEWEST[target] = number

    def write() -> None:
        time.sleep(max(0.0, due - time.monotonic()))
        with _NEWEST_LOCK:
            if _NEWEST.get(target) != number:  # a newer copy follows: that one is written
                return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            save(replace(project, path=None, revision=0), target, author=author)
        except (GridcircleError, OSError):
            pass  # a copy that cannot be written is no worse than none

    _WRITER.submit(write)


def candidates(project: Project) -> list[Path]:
    """Files holding this area's work that a reload may have left behind: the copy of an
    unsaved project and the project's own default file, newest first."""
    paths = [copy_path(project), Path(session.default_path(replace(project, path=None)))]
    now = time.time()
    found = [p for p in dict.fromkeys(paths)
             if p.is_file() and now - p.stat().st_mtime < MAX_AGE_S]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def offer(project: Project, lang: str) -> None:
    """Once per session, offer the newest file of this area with more edits than the
    page's project (see the module's text)."""
    if st.session_state.get(ASKED_KEY) or project.path is not None:
        return
    mine = len(project.session.entries) if project.session is not None else 0
    area = area_source_of(project.meta)
    for path in candidates(project):
        try:
            meta = read_meta(path)
            edits = len(read_journal(path))
        except GridcircleError:
            continue
        if edits <= mine or (area and not same_area(area_source_of(meta), area)):
            continue
        when = datetime.fromtimestamp(path.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
        box = st.container(border=True)
        box.info(t("restore.offer", lang, path=str(path), when=when, edits=edits))
        left, right = box.columns(2)
        if left.button(t("restore.yes", lang), key="gc_restore_yes", type="primary"):
            st.session_state[ASKED_KEY] = True
            try:
                opened = open_project(path)
            except GridcircleError as exc:
                st.error(widgets.plain(exc.message(lang)))
                return
            if path.parent == autosave_folder():  # a copy: not the project's own file
                opened = replace(opened, path=None, revision=0)
            session.open_into_page(opened)
            st.rerun()
        if right.button(t("restore.no", lang), key="gc_restore_no"):
            st.session_state[ASKED_KEY] = True
            st.rerun()
        return
    st.session_state[ASKED_KEY] = True


__all__ = ["autosave_folder", "candidates", "copy_path", "keep", "offer"]
