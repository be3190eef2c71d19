"""The map's JavaScript and CSS, served by the page itself so that it works offline.

folium points every map at Leaflet, jQuery, Bootstrap and Font Awesome on public CDNs, and
streamlit-folium loads whatever those links name inside its iframe. On a government
intranet without internet every one of those requests fails and the map stays blank. The
page therefore uses only Leaflet (and Leaflet.heat for the household heat layer), vendored
under ``static/vendor/`` and served by Streamlit's static file serving
(``server.enableStaticServing`` in ``.streamlit/config.toml``), and :func:`localise`
rewrites a map's links to those files. A link the page does not have locally is a bug and
raises, so a new plugin cannot silently bring back a CDN request.
"""

from __future__ import annotations

from pathlib import Path

import folium

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"

# The component iframe is served at <base>/component/<name>/index.html and app static
# files at <base>/app/static/<file>; a relative link works under any base URL path.
STATIC_URL = "../../app/static"

LOCAL_JS = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "leaflet-heat.js": "vendor/leaflet-heat/leaflet_heat.min.js",
    "leaflet_draw_js": "vendor/leaflet-draw/leaflet.draw.js",  # the grid editing map
}
LOCAL_CSS = {
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "leaflet_draw_css": "vendor/leaflet-draw/leaflet.draw.css",
}
# What folium adds by default but the page never uses (no Bootstrap widgets, no
# Font Awesome markers): dropped rather than served.
UNUSED = {"jquery", "bootstrap", "awesome_markers", "bootstrap_css", "glyphicons_css",
          "awesome_markers_font_css", "awesome_markers_css", "awesome_rotate_css"}


class AssetError(RuntimeError):
    """A map element needs a script or stylesheet that is not vendored (a bug)."""


def missing_assets() -> list[str]:
    """Vendored files that are not on disk (empty when the page can run offline)."""
    wanted = [*LOCAL_JS.values(), *LOCAL_CSS.values()]
    return [name for name in wanted if not (STATIC_DIR / name).is_file()]


def _local(links: list[tuple[str, str]], table: dict[str, str], *,
           base_url: str) -> list[tuple[str, str]]:
    out = []
    for name, url in links:
        if name in UNUSED:
            continue
        if name not in table:
            raise AssetError(f"map asset {name!r} ({url}) is not vendored under static/vendor")
        out.append((name, f"{base_url}/{table[name]}"))
    return out


def _walk(element):
    yield element
    for child in getattr(element, "_children", {}).values():
        yield from _walk(child)


def localise(fmap: folium.Map, *, base_url: str = STATIC_URL) -> folium.Map:
    """Point every script and stylesheet of ``fmap`` at the vendored copies.

    The links are set on each element (the classes are left alone), so maps built
    elsewhere, for example in notebooks, keep folium's defaults.

    Raises
    ------
    AssetError
        If an element needs a file that is not vendored.
    """
    for element in _walk(fmap):
        js = getattr(element, "default_js", None)
        css = getattr(element, "default_css", None)
        if js:
            element.default_js = _local(list(js), LOCAL_JS, base_url=base_url)
        if css:
            element.default_css = _local(list(css), LOCAL_CSS, base_url=base_url)
    return fmap


def asset_links(fmap: folium.Map) -> list[str]:
    """Every script and stylesheet URL the map's elements ask for (as streamlit-folium
    collects them), for tests and checks."""
    links: list[str] = []
    for element in _walk(fmap):
        links += [url for _, url in getattr(element, "default_js", []) or []]
        links += [url for _, url in getattr(element, "default_css", []) or []]
    return list(dict.fromkeys(links))
