"""The interactive maps: thin Flask views over server.view.model (the data) and
server.maps.page (the page).

    /                    the atlas (every layer)            ?lang=en&base=osm&...
    /map/<layer>         one layer on its own
    /cluster/<id>        one cluster or corridor: members in order, roles, parks and projects
    /embed               the same views without page chrome (?layer=... or ?cluster=...;
                         also /embed/map/<layer>, /embed/cluster/<id>); framable from any
                         site by default (FRAME_ANCESTORS restricts it), every other page by none
    /map/geometry/<layer>/<tier>.json   polygon geometries the pages fetch per zoom tier
    /map/feature/<layer>/<id>.json      one feature's tooltip and popup (?lang=, ?base=), for a
                                        layer the page draws from vector tiles
    /static/map/<digest>.js             the map's own script (server/maps/page.py), immutable

A layer with more features than MAP_TILES_THRESHOLD is drawn from the vector tiles
(server/tiles.py) instead of from the page's data: see static/atlas/tiles.js.

The rest of the view (centre, zoom, layers, filters, shading, selection) is read and written
by static/atlas/*.js in the same query string, so a copied URL reopens the same view. Every
parameter is checked first by server.view.params, the table the exports use too (the page
carries it for the script): a value it does not allow answers 400 in the API's words.
"""

from __future__ import annotations

from urllib.parse import quote

import orjson
from flask import Blueprint, abort, current_app, render_template, request, url_for

from layers.registry import LAYERS
from server import http
from server.errors import one
from server.http import assets
from server.http.current import current_store as _store
from server.maps import page as mapview
from server.store import mvt
from server.view import model as viewmodel
from server.view import params
from server.view.choices import BASEMAPS

bp = Blueprint("maps", __name__)


CONFIG_DEFAULTS = {
    "TIANDITU_KEY": "",  # Tianditu base map key (ATLAS_TIANDITU_KEY); without it the option is off
    # a layer with more features than this is drawn from vector tiles, not shipped in the page
    # (ATLAS_MAP_TILES_THRESHOLD); today's layers have at most a few hundred
    "MAP_TILES_THRESHOLD": 2000,
}


def _download_links(layer_id: str, fid) -> list[tuple[str, str]]:
    root = request.script_root
    key = LAYERS[layer_id].id_field
    # every link is a file download named for what it holds (…_id-….geojson), not an API answer
    links = [(fmt.upper() if fmt != "geojson" else "GeoJSON",
              f"{root}/download/{layer_id}.{fmt}?{key}={quote(str(fid))}")
             for fmt in ("geojson", "csv", "kml", "gpkg")]
    links.insert(2, ("CSV（中文表头）", f"{root}/download/{layer_id}.csv?{key}={quote(str(fid))}&headers=zh"))
    return links


def _tiles() -> dict:
    """How the page draws a layer from vector tiles, and from how many features on."""
    cfg = current_app.config
    return {"threshold": int(cfg.get("MAP_TILES_THRESHOLD", CONFIG_DEFAULTS["MAP_TILES_THRESHOLD"])),
            "url": request.script_root + "/tiles/",
            "minzoom": int(cfg.get("TILES_MINZOOM", mvt.DEFAULT_MINZOOM)),
            "maxzoom": int(cfg.get("TILES_MAXZOOM", mvt.DEFAULT_MAXZOOM))}


def _render(view: str, *, layer: str | None = None, cluster: str | None = None, embed: bool = False):
    key = current_app.config.get("TIANDITU_KEY", "")
    opts = params.parse_view(request.args.to_dict(flat=False), params.MAP, params.known_values(_store()),
                             page=view, layer=layer, cluster=cluster, embed=embed, tianditu_key=key)
    urls = {
        "page": request.path, "atlas": url_for("maps.atlas"), "embed": url_for("maps.embed"),
        "geometry": request.script_root + "/map/geometry/",
        "rivers": url_for("static", filename="vendor/hydro/rivers.geojson"),
        "lakes": url_for("static", filename="vendor/hydro/lakes.geojson"),
        "about": request.script_root + "/about", "download": request.script_root + "/download/",
        "downloads_page": request.script_root + "/download?f=html",
        "api": request.script_root + "/api/", "root": request.script_root,
        "export": request.script_root + "/export/",
        "feature": request.script_root + "/map/feature/",
    }
    tiles = _tiles()
    ancestors = current_app.config.get("FRAME_ANCESTORS", "*")

    def make() -> tuple[int, dict, bytes]:  # the page, assembled once per build and view
        try:
            data = viewmodel.page_data(_store(), opts, urls=urls, download=_download_links,
                                       tianditu_key=key, tiles=tiles)
        except KeyError:
            abort(404, description=f"no such {opts.page}: {opts.layer or opts.cluster}")
        data["frame_ancestors"], data["frame_any"] = ancestors, ancestors.strip() == "*"
        data["params"] = params.table_for_page()  # what static/atlas reads and writes in the URL
        data["papers"] = {k: list(v) for k, v in params.PAPERS_MM.items()}  # mm, landscape: @page size
        page = mapview.render_map(data, assets.static_url)
        script_url = url_for("maps.script", digest=mapview.keep_script(page.script))
        html = render_template("map.html", page=page, data=data, script_url=script_url)
        return 200, {"Content-Type": "text/html; charset=utf-8"}, html.encode()

    # keyed by what the page is built from: centre, zoom, filters and selection are read by the
    # browser from the URL, so every shared link of one view is served from one cached page;
    # `no-cache`: the browser asks again (a 304 while the build is the same)
    snap = _store().snapshot()
    response = http.cached(
        ("map", snap.meta.get("built_at"), snap.stamp, request.script_root, request.path, opts.lang,
         opts.base, opts.page, opts.layer, opts.cluster, embed, key, ancestors,
         tuple(sorted(tiles.items()))),
        make, cache_control="no-cache", page=True)
    # on the 304 too: a 304's headers replace the ones the browser keeps
    response.headers["Content-Security-Policy"] = mapview.content_security_policy(
        opts.base, ancestors if embed else "'none'")
    if not embed:
        response.headers["X-Frame-Options"] = "DENY"
    return response


@bp.get("/static/map/<digest>.js")
def script(digest: str):
    """The map's own script (server.maps.page), named by its bytes: cached for good."""
    body = mapview.script_named(digest)
    if body is None:
        abort(404, description="no such script")
    return http.respond(200, {"Content-Type": "text/javascript; charset=utf-8"}, body, f'"{digest}"',
                        cache_control=assets.IMMUTABLE)


@bp.get("/")
def atlas():
    return _render("atlas")


@bp.get("/map/<layer_id>")
def layer(layer_id: str):
    if layer_id not in LAYERS:
        abort(404, description=f"no layer {layer_id!r}")
    return _render("layer", layer=layer_id)


@bp.get("/cluster/<cluster_id>")
def cluster(cluster_id: str):
    return _render("cluster", cluster=cluster_id)


@bp.get("/embed")
def embed():
    return _render("atlas", embed=True)


@bp.get("/embed/map/<layer_id>")
def embed_layer(layer_id: str):
    if layer_id not in LAYERS:
        abort(404, description=f"no layer {layer_id!r}")
    return _render("layer", layer=layer_id, embed=True)


@bp.get("/embed/cluster/<cluster_id>")
def embed_cluster(cluster_id: str):
    return _render("cluster", cluster=cluster_id, embed=True)


@bp.get("/map/geometry/<layer_id>/<tier>.json")
def geometry(layer_id: str, tier: str):
    layer = LAYERS.get(layer_id)
    tiers = (["lo", "mid"] if layer.simplified else ["full"]) if layer else []
    if layer is None or layer.geometry_type == "Point" or tier not in tiers:
        abort(404, description="no such geometry")
    datum = one(request.args, "datum") or "wgs84"
    if datum not in ("wgs84", "gcj02"):
        abort(400, description="datum must be wgs84 or gcj02")
    store = _store()
    snap = store.snapshot()

    def make() -> tuple[int, dict, bytes]:
        payload = viewmodel.geometry_payload(store, layer_id, tier, datum)
        return 200, {"Content-Type": "application/json"}, orjson.dumps(payload)

    return http.cached(("geometry", snap.meta.get("built_at"), snap.stamp, layer_id, tier, datum),
                       make, max_age=300)


@bp.get("/map/feature/<layer_id>/<feature_id>.json")
def feature(layer_id: str, feature_id: str):
    """One feature's entry as the page would carry it — tooltip and popup HTML (server.popups),
    filter keys, colour — plus `at` and, for an area, `bounds`: what a click on a feature
    drawn from vector tiles opens. `lang` and `base` as on the page (the base's datum places
    `xy`/`at`)."""
    if layer_id not in LAYERS:
        abort(404, description=f"no layer {layer_id!r}")
    opts = params.parse_view(request.args.to_dict(flat=False), params.MAP, params.known_values(_store()),
                             tianditu_key=current_app.config.get("TIANDITU_KEY", ""))
    datum = BASEMAPS[opts.base].datum
    store = _store()
    snap = store.snapshot()
    urls = {"root": request.script_root}

    def make() -> tuple[int, dict, bytes]:
        try:
            entry = viewmodel.feature_entry(store, layer_id, feature_id, opts.lang, datum,
                                            urls=urls, download=_download_links)
        except KeyError:
            body = {"code": "NotFound", "description": f"no feature {feature_id[:80]!r} in {layer_id!r}"}
            return 404, {"Content-Type": "application/json"}, orjson.dumps(body)
        return 200, {"Content-Type": "application/json"}, orjson.dumps(entry)

    return http.cached(("feature", snap.meta.get("built_at"), snap.stamp, request.script_root,
                        layer_id, feature_id, opts.lang, datum), make, max_age=300)
