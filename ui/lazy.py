"""Panels drawn only while they are open.

Streamlit's browser side redraws every element the script sends on every rerun, and
by default the script sends the content of every tab and of every expander, open or
closed. The page's rarely opened panels (the project tabs, the layer uploads, the
household model, the batch folder, the edit journal) are drawn here only while the
planner has them open (Streamlit 1.67's ``on_change`` for ``st.tabs`` and
``st.expander``, whose ``.open`` then tells): an edit or a setting reruns fewer elements.

A widget that is not drawn in a run loses its value (Streamlit forgets it), so a panel's
choices are kept with :func:`keep` on every run, drawn or not.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import streamlit as st


def keep(*keys: str) -> None:
    """Keep the values of the widgets ``keys`` while they are not drawn (each run, before
    they would be): a value restated by the script outlives its widget."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def given(key: str, value):
    """``value`` as the first value of the widget ``key``, or ``None`` once :func:`keep`
    holds one (the widget then shows the one kept; Streamlit would warn of both)."""
    return None if key in st.session_state else value


def _chosen(key: str, names: Sequence[str], labels: Sequence[str], widget: str) -> None:
    label = st.session_state.get(widget)
    if label in labels:
        st.session_state[key] = names[list(labels).index(label)]


def open_name(key: str, names: Sequence[str]) -> str:
    """The open tab of the tabs ``key`` (the first until another is opened)."""
    name = st.session_state.get(key)
    return name if name in names else names[0]


def generation(state, key: str) -> int:
    """How many times the tabs ``key`` were opened at a tab by the page (:func:`show`)."""
    return state[key + "_gen"] if key + "_gen" in state else 0


def show(key: str, name: str) -> None:
    """Open the tab ``name`` of the tabs ``key`` on the next run (e.g. the project's file
    after a project is opened): tabs drawn anew, whose open tab is the one kept."""
    st.session_state[key] = name
    st.session_state[key + "_gen"] = generation(st.session_state, key) + 1


def tabs(key: str, names: Sequence[str], labels: Sequence[str]):
    """Tabs of which only the open one is to be drawn: returns ``(name, container)`` of
    the open tab. The open tab is kept by name under ``key`` (a language switch, whose
    labels are new, keeps it)."""
    names, labels = list(names), list(labels)
    digest = hashlib.blake2b("\n".join(labels).encode(), digest_size=4).hexdigest()
    widget = f"{key}_tabs_{digest}_{generation(st.session_state, key)}"
    opened = open_name(key, names)
    made = st.tabs(labels, key=widget, default=labels[names.index(opened)],
                   on_change=_chosen, args=(key, names, labels, widget))
    for name, tab in zip(names, made):
        if tab.open:
            return name, tab
    return opened, made[names.index(opened)]


def _toggled(key: str, widget: str) -> None:
    st.session_state[key] = bool(st.session_state.get(widget))


def expander(label: str, *, key: str, expanded: bool = False, where=None):
    """An expander whose content is to be drawn only while it is open: returns the
    container and whether it is open (kept under ``key`` across language switches)."""
    where = where if where is not None else st
    is_open = bool(st.session_state.get(key, expanded))
    digest = hashlib.blake2b(label.encode(), digest_size=4).hexdigest()
    widget = f"{key}_exp_{digest}"
    box = where.expander(label, expanded=is_open, key=widget, on_change=_toggled,
                         args=(key, widget))
    opened = box.open
    return box, bool(is_open if opened is None else opened)


__all__ = ["expander", "generation", "given", "keep", "open_name", "show", "tabs"]
