"""The /api blueprint: thin Flask views over `server.ogc` (OGC API – Features, Part 1)."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from server import http, ogc
from server.formats import FORMATS
from server.store import AtlasStore

bp = Blueprint("api", __name__, url_prefix="/api")
http.install(bp)


def _store() -> AtlasStore:
    return current_app.extensions["atlas_store"]


def _args() -> dict[str, list[str]]:
    return request.args.to_dict(flat=False)


def _root() -> str:
    return request.host_url.rstrip("/") + request.script_root


def _api() -> str:
    return _root() + bp.url_prefix


def _limits() -> tuple[int, int]:
    return (int(current_app.config.get("API_DEFAULT_LIMIT", 100)),
            int(current_app.config.get("API_MAX_LIMIT", 10000)))


def _tag() -> str:
    store = _store()
    snap = store.snapshot()
    return http.etag(snap.meta.get("built_at"), snap.stamp, _root(), request.path,
                     sorted(request.args.items(multi=True)), _limits())


def _answer(result: tuple[int, dict, bytes], cache: bool = True):
    status, headers, body = result
    headers = {**headers, "X-Atlas-Built-At": str(_store().meta.get("built_at"))}
    return http.respond(status, headers, body, _tag() if cache else None)


@bp.errorhandler(ogc.ApiError)
def _api_error(exc: ogc.ApiError):
    return http.respond(*ogc.error(exc))


def _downloads() -> dict[str, str]:
    return {name: fmt.media_type for name, fmt in FORMATS.items()}


@bp.get("")
@bp.get("/")
def landing():
    fmt = ogc.check_args(_args())
    return _answer(ogc.render("landing", ogc.landing(_api(), list(request.args.items()), fmt), fmt))


@bp.get("/conformance")
def conformance():
    fmt = ogc.check_args(_args())
    doc = ogc.conformance(_api(), list(request.args.items()), fmt)
    return _answer(ogc.render("conformance", doc, fmt))


@bp.get("/openapi")
def openapi():
    fmt = ogc.check_args(_args())
    doc = ogc.openapi(_api(), *_limits())
    return _answer(ogc.render("openapi", doc, fmt, ogc.OPENAPI))


@bp.get("/collections")
def collections():
    fmt = ogc.check_args(_args())
    doc = ogc.collections(_store(), _api(), _root(), list(request.args.items()), fmt, _downloads())
    return _answer(ogc.render("collections", doc, fmt))


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    layer = ogc.collection_or_404(collection_id)
    fmt = ogc.check_args(_args())
    doc = ogc.collection_doc(ogc.prepared(_store(), layer.id), _api(), _root(), _downloads())
    return _answer(ogc.render("collection", doc, fmt))


@bp.get("/collections/<collection_id>/items")
def items(collection_id: str):
    layer = ogc.collection_or_404(collection_id)
    default, maximum = _limits()
    query = ogc.parse_query(layer, _args(), default_limit=default, max_limit=maximum)
    doc = ogc.items(ogc.prepared(_store(), layer.id), query, _api())
    return _answer(ogc.render("items", doc, query.fmt, ogc.GEOJSON))


@bp.get("/collections/<collection_id>/items/<feature_id>")
def feature(collection_id: str, feature_id: str):
    layer = ogc.collection_or_404(collection_id)
    fmt = ogc.check_args(_args())
    doc = ogc.feature(ogc.prepared(_store(), layer.id), feature_id, _api(),
                      list(request.args.items()), fmt)
    return _answer(ogc.render("feature", doc, fmt, ogc.GEOJSON))
