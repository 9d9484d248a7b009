"""The interactive map page: the folium map with the app's own assets, the view model as
inert JSON, and the page's content security policy.

Everything the browser draws comes from `server.viewmodel.page_data()` and reaches the page as
JSON inside a non-executing script element (`json_for_script`), written with textContent by
static/atlas/*.js.

The script folium writes inline is served as a file of its own (`/static/map/<digest>.js`,
named by its bytes), so the page's CSP is `script-src 'self'` and the page is one cacheable
body, with no per-answer nonce. Its element names are fixed (not folium's random ones), so the
script is the same for every view, build and process: any worker answers any page's script.
"""

from __future__ import annotations

import functools
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from server.view.choices import BASEMAPS
from server.view.model import HOME
from server.view.templates import json_for_script

# ---------------------------------------------------------------- the folium page

# static/atlas/*.js in load order: core makes the shared namespace, main starts the map
SCRIPT_PARTS = ("core", "points", "areas", "tiles", "search", "panel", "share", "legend", "print", "main")


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
    header: str  # folium's <head> part: asset links and styles, no inline script
    body: str
    script: str  # every inline script folium wrote, in order: served as `script_url`
    data_json: str
    data: dict


# folium's inline <script> elements (its own markup: plain, no attributes)
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def render_map(data: dict, static: Callable[[str], str]) -> MapPage:
    """The folium map with every asset served by the app (`static(path)` gives its URL)."""
    m = folium.Map(location=data["home"]["center"], zoom_start=data["home"]["zoom"], tiles=None,
                   control_scale=True, min_zoom=4, max_zoom=17, zoom_control=True)
    m._id = "atlas"  # a fixed name (folium draws a random one): the same script for every page
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
    init = AtlasInit()
    init._id = "init"
    m.add_child(init)
    root: Any = m.get_root()  # a branca Figure (typed as its base Element)
    root.header.add_child(Element('<meta name="referrer" content="same-origin">'))
    root.render()
    header = root.header.render()
    # the head's inline script only sets Leaflet's globals after leaflet.js has run (they are read
    # when it loads): it keeps its effect, none, at the end of the body
    script = "\n".join([*_INLINE_SCRIPT.findall(header), root.script.render()])
    return MapPage(header=_INLINE_SCRIPT.sub("", header), body=root.html.render(), script=script,
                   data_json=json_for_script(data), data=data)


# ---------------------------------------------------------------- the map's script, by digest

_SCRIPTS: OrderedDict[str, bytes] = OrderedDict()  # digest -> bytes, newest last
_SCRIPTS_KEPT = 32  # today one script serves every page: the bound is for safety only
_SCRIPTS_LOCK = threading.Lock()


def script_digest(script: str) -> str:
    return hashlib.sha256(script.encode()).hexdigest()[:20]


def keep_script(script: str) -> str:
    """Keep a page's script to be served by its digest (`script_named`); returns the digest."""
    digest = script_digest(script)
    with _SCRIPTS_LOCK:
        _SCRIPTS[digest] = script.encode()
        _SCRIPTS.move_to_end(digest)
        while len(_SCRIPTS) > _SCRIPTS_KEPT:
            _SCRIPTS.popitem(last=False)
    return digest


@functools.cache
def _common_script() -> tuple[str, bytes]:
    """The script every view's page has today (the view itself is in the page's data)."""
    script = render_map({"home": HOME, "layers": []}, lambda path: path).script
    return script_digest(script), script.encode()


def script_named(digest: str) -> bytes | None:
    """The script with this digest: one a page of this process made, or the common one (so a
    worker that has drawn no page yet answers the pages of another)."""
    with _SCRIPTS_LOCK:
        body = _SCRIPTS.get(digest)
    if body is None:
        common_digest, common = _common_script()
        body = common if digest == common_digest else None
    return body


def content_security_policy(base: str, frame_ancestors: str) -> str:
    """No inline script at all: every script, the map's own too, is a file of this site."""
    img = " ".join(("'self'", "data:", *BASEMAPS[base].hosts))
    return (f"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; font-src 'self'; object-src 'none'; "
            f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}")
