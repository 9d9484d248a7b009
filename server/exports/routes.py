"""Exports for briefings: thin Flask views over server.printmap, server.deck, server.offline.

    /export/map.png|svg|pdf     a print map of any view (the interactive map's parameters,
                                or cluster=<id>, or bbox=; paper, orient, dpi, title)
    /export/map.html            one self-contained HTML map of the view (works offline)
    /export/briefing.pptx       the slide deck of the view (a city, a cluster, filters; with
                                none of them the province)

The view is read by server.view.params, as the live map reads it: a parameter the export
cannot honour answers 400 in the API's words ({"code": "InvalidParameterValue", ...}). Renders
go through server.exports.renders: kept per build within a byte bound (a repeated request
costs a lookup), shared by identical requests, and rationed to EXPORT_SLOTS at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, Response, current_app, jsonify, request

from server import http
from server.exports.printmap import FontMissing
from server.exports.renders import Busy, Renders
from server.http.current import current_store as _store
from server.view.export import FORMATS
from server.view.params import DECK, EXPORT, View, ViewError, known_values, parse_view

bp = Blueprint("exports", __name__, url_prefix="/export")
http.install(bp)

MIMETYPES = {
    "png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf",
    "html": "text/html", "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
CONFIG_DEFAULTS = {
    "MAP_APPROVAL": "",  # 审图号 printed on every exported map (ATLAS_MAP_APPROVAL)
    "EXPORT_CACHE_BYTES": 64 * 1024 * 1024,  # renders kept per process (ATLAS_EXPORT_CACHE_BYTES)
    "EXPORT_SLOTS": 2,  # renders drawn at once per process; one more answers 503 (ATLAS_EXPORT_SLOTS)
}


RENDERS = Renders()


@bp.errorhandler(Busy)
def _busy(exc: Busy):
    response = jsonify(code="ServiceUnavailable", description=str(exc))
    response.status_code = 503
    response.headers["Retry-After"] = str(exc.retry_after)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.errorhandler(FontMissing)
def _no_font(exc: FontMissing):
    response = jsonify(code="ServiceUnavailable", description=str(exc))
    response.status_code = 503
    return response


def _slug(view: View) -> str:
    parts = ["hubei-cluster-atlas"]
    if view.cluster:
        parts.append(view.cluster)
    for name in ("sector", "city", "kind", "level"):
        value = getattr(view, name)
        if value:
            parts.append(f"{name}-{value}")
    if view.bbox:
        parts.append("bbox")
    if view.lang != "zh":
        parts.append(view.lang)
    return "_".join(re.sub(r"[^A-Za-z0-9+_-]+", "", p) for p in parts)[:120]


def send(body: bytes, fmt: str, name: str, tag: str) -> Response:
    built = str(_store().meta.get("built_at") or "")[:10]
    response = http.respond(200, {"Content-Type": MIMETYPES[fmt]}, body, tag)
    if response.status_code == 200:
        response.headers["Content-Disposition"] = f'inline; filename="{name}_{built}.{fmt}"'
    response.headers["X-Atlas-Built-At"] = str(_store().meta.get("built_at") or "")
    return response


def cached(fmt: str, view_key: tuple, make: Callable[[], bytes]) -> tuple[bytes, str]:
    store = _store()
    built_at = store.meta.get("built_at")
    approval = current_app.config.get("MAP_APPROVAL", "")
    key = (store.storage_key, built_at, fmt, view_key, approval)
    tag = http.etag(*key)
    if http.matches(request.headers.get("If-None-Match"), tag):
        return b"", tag  # respond() turns this into a 304 without rendering
    body = RENDERS.get_or_make(key, make, int(current_app.config["EXPORT_CACHE_BYTES"]),
                               int(current_app.config["EXPORT_SLOTS"]))
    return body, tag


@bp.get("/map.<fmt>")
def map_export(fmt: str):
    if fmt not in (*FORMATS, "html"):
        raise ViewError(f"format must be {', '.join(FORMATS)} or html, not {fmt[:20]!r}")
    store = _store()
    view = parse_view(request.args.to_dict(flat=False), EXPORT, known_values(store))
    approval = current_app.config.get("MAP_APPROVAL", "")
    if fmt == "html":
        from server.exports import offline

        def make() -> bytes:
            return offline.render(store, view)
    else:
        from server.exports import printmap

        def make() -> bytes:
            return printmap.render(store, view, fmt, approval)
    body, tag = cached(fmt, view.key(), make)
    return send(body, fmt, _slug(view), tag)


@bp.get("/briefing.pptx")
def briefing():
    from server.exports import deck

    store = _store()
    args = request.args.to_dict(flat=False)
    view = parse_view(args, DECK, known_values(store), default_dpi=deck.MAP_DPI)
    if view.scope == "all":  # minutes of a core: not a request's to hold (docs/exports.md)
        raise ViewError("the deck of every cluster takes minutes: it is a batch job, "
                        "`atlas export --per province --format pptx --out DIR`")
    approval = current_app.config.get("MAP_APPROVAL", "")
    body, tag = cached("pptx", view.key(), lambda: deck.build_deck(store, view, approval))
    name = "hubei-cluster-atlas_briefing" + (f"_{view.cluster}" if view.cluster else "") + \
        (f"_city-{view.city}" if view.city else "") + ("_en" if view.lang == "en" else "")
    return send(body, "pptx", name, tag)
