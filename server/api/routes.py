"""The /api blueprint: thin Flask views over `server.api.ogc` (OGC API – Features, Part 1)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, current_app, request

from layers.registry import SYNTH_LAYERS
from server import http
from server.api import ogc
from server.http.current import current_store as _store

bp = Blueprint("api", __name__, url_prefix="/api")
http.install(bp)


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def _root() -> str:
    return request.host_url.rstrip("/") + request.script_root


def _api() -> str:
    return _root() + (bp.url_prefix or "")


def _limits() -> tuple[int, int]:
    return (int(current_app.config.get("API_DEFAULT_LIMIT", 100)),
            int(current_app.config.get("API_MAX_LIMIT", 10000)))


def _key() -> tuple:
    """Everything an API answer depends on: the build, the host, the path, the query."""
    snap = _store().snapshot()
    return (snap.meta.get("built_at"), snap.stamp, _root(), request.path,
            tuple(sorted(request.args.items(multi=True))), _limits())


def _answer(make: Callable[[], tuple[int, dict, bytes]]):
    """Made once per build and request (then a lookup); 304 before any work."""
    def made() -> tuple[int, dict, bytes]:
        status, headers, body = make()
        return status, {**headers, "X-Atlas-Built-At": str(_store().meta.get("built_at"))}, body
    return http.cached(_key(), made)


def _downloads() -> dict[str, str]:
    """Download format → media type, as the downloads blueprint registered them (none
    without it): the collections' enclosure links."""
    return current_app.extensions.get("atlas_download_formats", {})


@bp.get("")
@bp.get("/")
def landing():
    def make():
        fmt = ogc.check_args(_args())
        return ogc.render("landing", ogc.landing(_api(), list(request.args.items()), fmt), fmt)
    return _answer(make)


@bp.get("/conformance")
def conformance():
    def make():
        fmt = ogc.check_args(_args())
        return ogc.render("conformance", ogc.conformance(_api(), list(request.args.items()), fmt), fmt)
    return _answer(make)


@bp.get("/openapi")
def openapi():
    def make():
        fmt = ogc.check_args(_args())
        extra = [SYNTH_LAYERS[lid] for lid in _store().synthetic_ids()]
        return ogc.render("openapi", ogc.openapi(_api(), *_limits(), extra), fmt, ogc.OPENAPI)
    return _answer(make)


@bp.get("/collections")
def collections():
    def make():
        fmt = ogc.check_args(_args())
        doc = ogc.collections(_store(), _api(), _root(), list(request.args.items()), fmt,
                              _downloads())
        return ogc.render("collections", doc, fmt)
    return _answer(make)


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    def make():
        layer = _store().served_layer(collection_id)
        fmt = ogc.check_args(_args())
        doc = ogc.collection_doc(_store().provider(layer.id), _api(), _root(), _downloads())
        return ogc.render("collection", doc, fmt)
    return _answer(make)


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    def make():
        layer = _store().served_layer(collection_id)
        default, maximum = _limits()
        query = ogc.parse_query(layer, _args(), default_limit=default, max_limit=maximum)
        doc = ogc.items(_store().provider(layer.id), query, _api())
        return ogc.render("items", doc, query.fmt, ogc.GEOJSON)
    return _answer(make)


@bp.get("/collections/<collection_id>/items/<feature_id>")
def feature(collection_id: str, feature_id: str):
    def make():
        layer = _store().served_layer(collection_id)
        fmt = ogc.check_args(_args())
        doc = ogc.feature(_store().provider(layer.id), feature_id, _api(),
                          list(request.args.items()), fmt)
        return ogc.render("feature", doc, fmt, ogc.GEOJSON)
    return _answer(make)
