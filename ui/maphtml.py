"""The HTML and script pieces of the page's maps, with every text from data escaped.

Facility, grid, community and area names come from OpenStreetMap (which anyone can edit)
or from the user's files, and Streamlit's component frame runs scripts with the page's
origin: a name such as ``<img src=x onerror=...>`` written into HTML would run. So:

* tooltips (:class:`SafeTooltip`) build their table with ``textContent``, never
  ``innerHTML``;
* labels and icons made in the browser from a feature's properties go through
  :data:`ESCAPE_JS` (``gcEsc``);
* HTML assembled in Python (legend, credit) escapes each text with :func:`esc`.

Neither imports Streamlit.
"""

from __future__ import annotations

import html
import json

import folium
from branca.element import MacroElement
from folium.template import Template

# A JavaScript function escaping text for HTML, defined once per map (the label and icon
# scripts call it).
ESCAPE_JS = ("window.gcEsc = window.gcEsc || function(s){ return String(s == null ? '' : s)"
             ".replace(/[&<>\"'`]/g, function(c){ return {'&': '&amp;', '<': '&lt;', "
             "'>': '&gt;', '\"': '&quot;', \"'\": '&#39;', '`': '&#96;'}[c]; }); };")


def esc(text: object) -> str:
    """``text`` escaped for HTML (element content and quoted attributes)."""
    return html.escape("" if text is None else str(text), quote=True).replace("`", "&#96;")


def js_string(text: str) -> str:
    """``text`` as a JavaScript string literal that is also safe inside ``<script>``."""
    return (json.dumps(text, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


class Script(MacroElement):
    """A piece of script run once the map exists (``{map}`` is the map variable, also
    when the script sits in a feature group)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.code.replace('{map}', this.map_name()) }}
        {% endmacro %}
    """)

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "GcScript"
        self.code = code

    def map_name(self) -> str:
        """The variable of the map this script sits in (directly or inside a group)."""
        from folium.utilities import get_obj_in_upper_tree

        return get_obj_in_upper_tree(self, folium.Map).get_name()


class HideGroup(MacroElement):
    """Marks the feature group it sits in as one that starts hidden (``gcHidden``, which
    the page's script clears once it has taken the group off; ``gcStartHidden`` stays:
    a group put back on the map by :func:`ui.mapframe.kept_script` stays off too)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.gcHidden = true;
        {{ this._parent.get_name() }}.gcStartHidden = true;
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "GcHideGroup"


class SafeTooltip(folium.GeoJsonTooltip):
    """A GeoJSON tooltip that writes the feature's properties as text (folium's own
    tooltip writes them into ``innerHTML``); empty values are left out."""

    _template = Template("""
    {% macro script(this, kwargs) %}
    {{ this._parent.get_name() }}.bindTooltip(function(layer){
        var div = L.DomUtil.create('div');
        var table = L.DomUtil.create('table', '', div);
        var fields = {{ this.fields | tojson | safe }};
        var aliases = {{ this.aliases | tojson | safe }};
        var props = (layer.feature && layer.feature.properties) || {};
        fields.forEach(function(field, i){
            var value = props[field];
            if (value === null || value === undefined || value === '') { return; }
            var row = L.DomUtil.create('tr', '', table);
            {% if this.labels %}
            L.DomUtil.create('th', '', row).textContent = aliases[i];
            {% endif %}
            L.DomUtil.create('td', '', row).textContent =
                typeof value === 'object' ? JSON.stringify(value) : String(value);
        });
        return div;
    }, {{ this.tooltip_options | tojavascript }});
    {% endmacro %}
    """)


# Thousands of household or unit points drawn as SVG are thousands of page elements the
# browser lays out and paints again whenever the points are swapped in (every grid edit):
# drawn on one canvas per map instead, they look and answer the pointer the same.
POINT_CANVAS_JS = "(window.gcPointCanvas || (window.gcPointCanvas = L.canvas()))"


def on_canvas(marker: folium.CircleMarker) -> folium.CircleMarker:
    """``marker`` (the template of a GeoJSON layer's points) drawn on the map's one point
    canvas (:data:`POINT_CANVAS_JS`)."""
    marker.options["renderer"] = folium.JsCode(POINT_CANVAS_JS)
    return marker


# Leaflet's tooltips do not wrap, and a sticky one opens to the left of a pointer on the
# map's right half: a long "reason" made it wider than the map, its labels cut off at the
# frame's edge. Narrow, wrapped, in the map's small type.
TOOLTIP_CSS = ("<style>.leaflet-tooltip.foliumtooltip{white-space:normal;width:max-content;"
               "max-width:240px;font:12px/1.4 sans-serif}"
               ".foliumtooltip table{font-size:inherit;border-collapse:collapse}"
               ".foliumtooltip th{text-align:left;font-weight:normal;color:#555;"
               "padding-right:6px;white-space:nowrap;vertical-align:top}</style>")


def tooltip(fields: list[str], aliases: list[str], *, labels: bool = True) -> SafeTooltip:
    return SafeTooltip(fields=fields, aliases=aliases, labels=labels, sticky=True)


# Grid labels: shown only where they fit inside their grid and do not overlap a label
# already placed (larger grids first), checked again after every zoom.
LABELS_JS = """
(function(map, layer){
  function place(){
    var taken = [];
    var items = [];
    layer.eachLayer(function(m){ items.push(m); });
    items.sort(function(a, b){ return (b.feature.properties.size || 0) - (a.feature.properties.size || 0); });
    items.forEach(function(m){
      var el = m.getElement && m.getElement();
      if (!el) { return; }
      var p = m.feature.properties, box = p.bbox || null;
      var at = map.latLngToContainerPoint(m.getLatLng());
      var w = el.offsetWidth || (String(p.label).length * 7 + 4), h = el.offsetHeight || 14;
      var fits = true;
      if (box) {
        var a = map.latLngToContainerPoint([box[1], box[0]]);
        var b = map.latLngToContainerPoint([box[3], box[2]]);
        fits = Math.abs(b.x - a.x) >= w * 0.9 && Math.abs(a.y - b.y) >= h;
      }
      var r = {x0: at.x - w / 2, x1: at.x + w / 2, y0: at.y - h / 2, y1: at.y + h / 2};
      if (fits) {
        for (var k = 0; k < taken.length; k++) {
          var o = taken[k];
          if (r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1) { fits = false; break; }
        }
      }
      el.style.visibility = fits ? '' : 'hidden';
      if (fits) { taken.push(r); }
    });
  }
  map.on('zoomend', place);
  layer.on('add', function(){ setTimeout(place, 0); });
  map.whenReady(function(){ setTimeout(place, 0); });
  setTimeout(place, 50);
})({map}, %s);
"""


__all__ = ["ESCAPE_JS", "HideGroup", "LABELS_JS", "POINT_CANVAS_JS", "SafeTooltip", "Script",
           "TOOLTIP_CSS", "esc", "js_string", "on_canvas", "tooltip"]
