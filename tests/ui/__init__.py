

def edit_widget(elements, name: str):
    """The edit panel's widget ``name`` among AppTest ``elements`` (e.g. ``at.selectbox``):
    its key carries the area's scope (``name@scope``, see ``ui.edit_panel.wkey``)."""
    return next(w for w in elements if (w.key or "").split("@")[0] == name)
