"""A folium map sent to the page through streamlit-folium, with the slow half done once.

``st_folium(m)`` renders the whole map on every call: every element's Jinja template and
the JSON of every feature (for the district demos, most of a second per map), although
the page calls it on every rerun and most reruns leave a map unchanged. Here the same
work is split in two:

* :func:`render` turns a map into the strings the streamlit-folium component receives
  (a :class:`RenderedMap`; plain strings, so the page can cache it on what the map
  depends on — see :func:`ui.state.rendered_map`);
* :func:`show` sends a rendered map to the component, as ``st_folium`` would.

The component and its browser side are streamlit-folium's own (the version is pinned in
``requirements.txt``); ``tests/ui/test_mapframe.py`` checks that :func:`show` sends the
component exactly what ``st_folium`` sends.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import folium
import folium.elements
import folium.map
from branca.element import Template
from jinja2.utils import htmlsafe_json_dumps
import streamlit as st
import streamlit_folium as sf


@dataclass(frozen=True)
class RenderedMap:
    """What the streamlit-folium component needs to draw one map."""

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    bounds: dict
    zoom: object
    layers: tuple[tuple[str, str, bool], ...] = ()
    """The map's own layers a layer control lists: (label, script variable, overlay)."""

    @property
    def size_bytes(self) -> int:
        return len(self.script) + len(self.header) + len(self.html)


@dataclass(frozen=True)
class RenderedGroups:
    """Feature groups (and a layer control) rendered for one :class:`RenderedMap`."""

    feature_group: str
    layer_control: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    layers: tuple[tuple[str, str, bool], ...] = ()
    """The groups a layer control lists: (label, script variable, overlay)."""
    variables: tuple[str, ...] = ()
    """The script variable of every group (those a layer control does not list too)."""

    @property
    def size_bytes(self) -> int:
        return len(self.feature_group) + len(self.layer_control)

    @cached_property
    def kept(self) -> str:
        """The group script as :func:`joined` sends it (:func:`kept_script`)."""
        return _kept(self)


def _links(fmap: folium.Element) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The scripts and stylesheets the map's elements ask for (as ``st_folium`` collects
    them: from every element with its own assets)."""
    css: list[str] = []
    js: list[str] = []

    def walk(element):
        if isinstance(element, folium.elements.JSCSSMixin):
            yield element
        for child in getattr(element, "_children", {}).values():
            yield from walk(child)

    for element in walk(fmap):
        css += [href for _, href in getattr(element, "default_css", [])]
        js += [src for _, src in getattr(element, "default_js", [])]
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


class _Stand(dict):
    """A GeoJSON layer's data while its map renders: read, it is the data (tooltips check
    their fields in it); written as JSON, it is a short token (see :func:`_data_later`)."""

    def __init__(self, data: dict, token: str) -> None:
        super().__init__(data)
        self.token = token

    def items(self):  # what ``json.dumps`` writes of a dict that is not exactly a dict
        return [("gc_data", self.token)]


_TOKEN = re.compile(r'\{"gc_data": "(gc-[0-9a-f]+-[0-9]+)"\}')


def _walk(element) -> Iterator:
    yield element
    for child in list(getattr(element, "_children", {}).values()):
        yield from _walk(child)


def parsed(text: str) -> str:
    """A script expression for the JSON ``text`` as folium's ``tojson`` writes it (ASCII,
    with ``<``, ``>``, ``&`` and ``'`` escaped): ``JSON.parse('…')``, the text in single
    quotes with its backslashes doubled; quotes and line ends (an indented dump writes
    them between tokens) are escaped too, should a JSON policy write them."""
    text = (text.replace("\\", "\\\\").replace("'", "\\u0027").replace("\n", "\\n")
            .replace("\r", "\\r").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))
    return "JSON.parse('" + text + "')"


@contextmanager
def _data_later(roots: Iterable) -> Iterator[Callable[[str], str]]:
    """Render with every embedded GeoJSON layer's data written once, at the end.

    streamlit-folium writes each layer's script twice (once by folium's ``render``, once
    for the component), and folium compiles every written script as a Jinja template: for
    the grids and units of a large district, most of a second of lexing JSON per edit.
    Inside this block each such layer's data stands in as a token; the function yielded
    puts the data in place of each token as ``JSON.parse('…')`` of the JSON folium's
    ``tojson`` writes (:func:`parsed`): the browser reads a string of JSON several times
    faster than the same data written as a script's literal, which it compiles anew
    after every edit (the strings are otherwise the ones streamlit-folium makes)."""
    nonce = secrets.token_hex(6)
    texts: dict[str, object] = {}
    held: list[tuple[folium.GeoJson, dict]] = []
    for root in roots:
        for element in _walk(root):
            data = getattr(element, "data", None)
            if isinstance(element, folium.GeoJson) and element.embed and \
                    type(data) is dict and not (element.style or element.highlight):
                token = f"gc-{nonce}-{len(held)}"
                env = element._template.environment
                texts[token] = (data, env)
                held.append((element, data))
                element.data = _Stand(data, token)
    written: dict[str, str] = {}

    def fill(text: str) -> str:
        def one(match: re.Match) -> str:
            token = match[1]
            if token not in written:
                data, env = texts[token]
                written[token] = parsed(str(htmlsafe_json_dumps(
                    data, dumps=env.policies["json.dumps_function"],
                    **env.policies["json.dumps_kwargs"])))
            return written[token]
        return _TOKEN.sub(one, text) if texts else text
    try:
        yield fill
    finally:
        for element, data in held:
            element.data = data


def render(fmap: folium.Map) -> RenderedMap:
    """Render ``fmap`` the way ``st_folium`` does before it calls the component.

    The map is changed by rendering (streamlit-folium renames its elements), so it should
    not be rendered again afterwards.
    """
    with _data_later([fmap]) as fill:
        fmap.get_root().render()
        fmap.render()
        html = fill(sf._get_html(fmap))
        header = fill(sf._get_header(fmap))
        script = fill(sf._get_map_string(fmap))
    map_id = sf.get_full_id(fmap)
    try:
        (south, west), (north, east) = fmap.get_bounds()
    except AttributeError:
        south = west = north = east = None
    bounds = {"_southWest": {"lat": south, "lng": west},
              "_northEast": {"lat": north, "lng": east}}
    css, js = _links(fmap)
    layers = tuple((child.layer_name, child.get_name(), bool(child.overlay))
                   for child in fmap._children.values()
                   if isinstance(child, folium.map.Layer) and child.control)
    return RenderedMap(script=script, header=header, html=html, map_id=map_id,
                       css_links=css, js_links=js, bounds=bounds,
                       zoom=fmap.options.get("zoom") if hasattr(fmap, "options") else {},
                       layers=layers)


class _Drawn(folium.map.Layer):
    """A layer the rendered map's script already made, known by its variable (so that a
    layer control rendered later lists it)."""

    _template = Template("")

    def __init__(self, label: str, variable: str, overlay: bool) -> None:
        super().__init__(name=label, overlay=overlay, control=True)
        self._variable = variable

    def get_name(self) -> str:
        return self._variable


def _stand_in(rendered: RenderedMap,
              layers: Iterable[tuple[str, str, bool]] = ()) -> folium.Map:
    """A map standing for ``rendered`` (its id and the layers already drawn), to render
    groups and a layer control for it."""
    stand_in = folium.Map(tiles=None)
    stand_in._id = rendered.map_id.removeprefix("map_")
    for label, variable, overlay in (*rendered.layers, *layers):
        stand_in.add_child(_Drawn(label, variable, overlay))
    return stand_in


def render_groups(rendered: RenderedMap, groups: Iterable[folium.FeatureGroup],
                  control: folium.LayerControl | None = None, *,
                  first: int = 0) -> RenderedGroups:
    """Render ``groups`` (and ``control``) for the map ``rendered`` came from, the way
    ``st_folium(..., feature_group_to_add=groups, layer_control=control)`` does: the
    control lists the map's own layers, then the groups.

    Groups are numbered from ``first``: parts of one map rendered apart (see
    :func:`joined`) need numbers of their own. The groups are changed by rendering, so
    they should not be rendered again afterwards.
    """
    stand_in = _stand_in(rendered)
    groups = list(groups)
    with _data_later(groups) as fill:
        feature_group = fill("".join(sf._get_feature_group_string(
            group, map=stand_in, idx=first + k) for k, group in enumerate(groups)))
    layer_control = (sf._get_layer_control_string(control, stand_in)
                     if control is not None else "")
    css: list[str] = []
    js: list[str] = []
    for group in groups:
        more_css, more_js = _links(group)
        css += more_css
        js += more_js
    layers = tuple((group.layer_name, group.get_name(), bool(group.overlay))
                   for group in groups if group.control)
    return RenderedGroups(feature_group=feature_group, layer_control=layer_control,
                          css_links=tuple(dict.fromkeys(css)),
                          js_links=tuple(dict.fromkeys(js)), layers=layers,
                          variables=tuple(group.get_name() for group in groups))


# The parts of one map's groups, kept in the map's frame: streamlit-folium takes every
# group off the map and runs the whole group script again whenever any part changed, so
# an edit drew the service areas and facilities anew and a speed change the grids. A part
# whose script is the same as the one drawn before puts the groups that script made back
# on the map instead (a group that starts hidden, ``gcStartHidden``, stays off, as the
# script would leave it); only the parts that changed run. Parts not drawn now are let go.
_KEEP_START = "window.gcKeptNext = {};\n"
_KEEP_END = "window.gcKept = window.gcKeptNext; window.gcKeptNext = null;\n"


def kept_script(part: RenderedGroups) -> str:
    """``part``'s group script run only when the map's frame has not kept the groups of
    the same script (see :func:`joined`); made once per part."""
    return part.kept


def _kept(part: RenderedGroups) -> str:
    if not part.variables:
        return part.feature_group
    tag = hashlib.blake2b(part.feature_group.encode(), digest_size=10).hexdigest()
    names = ", ".join(part.variables)
    return (f"var gcHit = window.gcKept && window.gcKept['{tag}'];\n"
            "if (gcHit) {\n"
            + "".join(f"var {name} = gcHit[{k}];\n" for k, name in enumerate(part.variables))
            + f"[{names}].forEach(function(g){{ if (!g.gcStartHidden) {{ map_div.addLayer(g); }}"
            " window.feature_group = window.feature_group || [];"
            " window.feature_group.push(g); });\n"
            "} else {\n" + part.feature_group + "\n}\n"
            f"window.gcKeptNext['{tag}'] = [{names}];\n")


def joined(rendered: RenderedMap, parts: Iterable[RenderedGroups],
           control: folium.LayerControl) -> RenderedGroups:
    """Parts rendered apart by :func:`render_groups` (numbered apart) sent as one, with
    a layer control listing the map's own layers and every part's groups. A part that
    did not change is not rendered again: an edit renders the grids, not the services;
    nor drawn again in the browser, which puts the groups it kept back on the map
    (:func:`kept_script`)."""
    parts = list(parts)
    layers = tuple(layer for part in parts for layer in part.layers)
    variables = [variable for _, variable, _ in layers]
    if len(set(variables)) != len(variables):
        raise ValueError("parts of one map must number their groups apart")
    layer_control = sf._get_layer_control_string(control, _stand_in(rendered, layers))
    return RenderedGroups(
        feature_group=_KEEP_START + "".join(kept_script(part) for part in parts) + _KEEP_END,
        layer_control=layer_control,
        css_links=tuple(dict.fromkeys(c for part in parts for c in part.css_links)),
        js_links=tuple(dict.fromkeys(j for part in parts for j in part.js_links)),
        layers=layers)


_DEFAULTS = ("last_clicked", "last_object_clicked", "last_object_clicked_count",
             "last_object_clicked_tooltip", "last_object_clicked_popup", "all_drawings",
             "last_active_drawing", "bounds", "zoom", "last_circle_radius",
             "last_circle_polygon", "selected_layers", "selected_tags", "last_geocoder_result")


def show(rendered: RenderedMap, *, key: str, height: int = 700, width: int | None = 500,
         use_container_width: bool = False, returned_objects: Iterable[str] | None = None,
         center: list[float] | tuple[float, float] | None = None,
         zoom: float | None = None, groups: RenderedGroups | None = None) -> dict:
    """Draw a rendered map; returns what the browser reports (as ``st_folium``).

    The component is keyed by the map's script (with folium's random names taken out), so
    a map that did not change stays in the browser as it is, and ``center``/``zoom`` only
    move its view. ``groups`` (from :func:`render_groups`) are swapped into that map
    whenever they differ from the ones it shows.
    """
    if use_container_width:
        width = None
    returned = list(returned_objects) if returned_objects is not None else None
    start = {name: None for name in _DEFAULTS}
    start["bounds"] = rendered.bounds
    start["zoom"] = rendered.zoom
    defaults = {k: v for k, v in start.items() if returned is None or k in returned}
    hash_key = sf.generate_js_hash(rendered.script, key, False)

    def on_change() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})

    return sf._component_func(
        script=rendered.script, header=rendered.header, html=rendered.html,
        id=rendered.map_id, key=hash_key, height=height, width=width,
        returned_objects=returned, default=defaults, zoom=zoom, center=center,
        feature_group=groups.feature_group if groups else None, return_on_hover=False,
        layer_control=groups.layer_control if groups else None, pixelated=False,
        css_links=list(dict.fromkeys(rendered.css_links + (groups.css_links if groups else ()))),
        js_links=list(dict.fromkeys(rendered.js_links + (groups.js_links if groups else ()))),
        on_change=on_change, wrap_longitude=False)


__all__ = ["RenderedGroups", "RenderedMap", "joined", "kept_script", "parsed", "render",
           "render_groups", "show"]
