

def edit_widget(elements, name: str):
    """The edit panel's widget ``name`` among AppTest ``elements`` (e.g. ``at.selectbox``):
    its key carries the area's scope (``name@scope``, see ``ui.edit_panel.wkey``)."""
    return next(w for w in elements if (w.key or "").split("@")[0] == name)


def open_tab(at, name: str, lang: str = "zh"):
    """Open the tab ``name`` beside the map (``ui.page.SIDE_TABS``) as a planner does, by
    its label, and run the page: only the open tab is drawn."""
    from geo.i18n import t

    at.session_state[f"gc_side_tabs_{lang}"] = t(f"page.tab_{name}", lang)
    at.session_state["gc_side_tab"] = name
    return at.run()
