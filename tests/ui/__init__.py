

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


def open_project_tab(at, name: str):
    """Open the project tab ``name`` (``ui.export_panel.PROJECT_TABS``) and run the page:
    only the open tab is drawn (as a planner's click on it, which AppTest cannot make)."""
    from ui import lazy
    from ui.export_panel import TABS_KEY

    at.session_state[TABS_KEY] = name
    at.session_state[TABS_KEY + "_gen"] = lazy.generation(at.session_state, TABS_KEY) + 1
    return at.run()


def open_sidebar_panel(at, which: str):
    """Open the sidebar's ``"uploads"`` or ``"households"`` (model) expander and run the
    page: its content is drawn only while it is open."""
    from ui.sidebar import HOUSEHOLDS_OPEN, UPLOADS_OPEN

    at.session_state[{"uploads": UPLOADS_OPEN, "households": HOUSEHOLDS_OPEN}[which]] = True
    return at.run()
