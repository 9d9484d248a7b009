"""The interactive map page: the folium map with the app's own assets, the view model as
inert JSON, and the page's content security policy.

Everything the browser draws comes from `server.viewmodel.page_data()` and reaches the page as
JSON inside a non-executing script element (`json_for_script`), written with textContent by
static/atlas/*.js.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium
import orjson
from branca.element import Element, MacroElement
from jinja2 import Template
from markupsafe import Markup

from server.view.model import BASEMAPS


def json_for_script(data: Any) -> str:
    """JSON safe inside a <script type="application/json"> element: the only sequences that
    can end or re-enter script data there are `</` and `<!--`; both are written as JSON
    escapes, so the parser sees one inert text node whatever the strings contain."""
    raw = orjson.dumps(data).decode()
    return raw.replace("</", "<\\/").replace("<!--", "<\\u0021--")


# ---------------------------------------------------------------- the folium page

# static/atlas/*.js in load order: core makes the shared namespace, main starts the map
SCRIPT_PARTS = ("core", "points", "areas", "tiles", "search", "panel", "share", "legend", "main")


class AtlasInit(MacroElement):
    """Hands the folium map to static/atlas/*.js with the view's data."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        AtlasMap.init({{ this._parent.get_name() }},
            JSON.parse(document.getElementById("atlas-data").textContent));
        {% endmacro %}
    """)


@dataclass
class MapPage:
    header: str
    body: str
    script: str
    data_json: str
    data: dict


def render_map(data: dict, static: Callable[[str], str]) -> MapPage:
    """The folium map with every asset served by the app (`static(path)` gives its URL)."""
    m = folium.Map(location=data["home"]["center"], zoom_start=data["home"]["zoom"], tiles=None,
                   control_scale=True, min_zoom=4, max_zoom=17, zoom_control=True)
    # Leaflet.VectorGrid only for a page with a layer drawn from vector tiles (static/atlas/tiles.js)
    tiled = any(lay.get("tiles") for lay in data["layers"])
    vectorgrid = [("vectorgrid", static("vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"))]
    m.default_js = [
        ("leaflet", static("vendor/leaflet/leaflet.js")),
        ("markercluster", static("vendor/leaflet.markercluster/leaflet.markercluster.js")),
        *(vectorgrid if tiled else []),
        *[(f"atlas_{part}", static(f"atlas/{part}.js")) for part in SCRIPT_PARTS],
    ]
    m.default_css = [
        ("leaflet_css", static("vendor/leaflet/leaflet.css")),
        ("markercluster_css", static("vendor/leaflet.markercluster/MarkerCluster.css")),
        ("atlas_css", static("atlas.css")),
    ]
    m.add_child(AtlasInit())
    root: Any = m.get_root()  # a branca Figure (typed as its base Element)
    root.header.add_child(Element('<meta name="referrer" content="same-origin">'))
    root.render()
    return MapPage(header=root.header.render(), body=root.html.render(), script=root.script.render(),
                   data_json=json_for_script(data), data=data)


_SCRIPT_TAG = re.compile(r"<script(?=[\s>])")


def add_nonce(html: str, nonce: str) -> str:
    """Mark the page's own script elements with the CSP nonce. Attribute text can never
    contain a raw `<script`: it is escaped (HTML) or \\u-escaped (JSON) before it gets here."""
    return Markup(_SCRIPT_TAG.sub(f'<script nonce="{nonce}"', str(html)))


def content_security_policy(nonce: str, base: str, frame_ancestors: str) -> str:
    img = " ".join(("'self'", "data:", *BASEMAPS[base].hosts))
    return (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
            f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}")
