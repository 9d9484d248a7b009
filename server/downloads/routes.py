"""/download/<layer>.<fmt>: every layer, or a filtered part of it, in every registered format.

The layer and the format are looked up in the registries (`layers.registry`,
`server.downloads.formats.FORMATS`); anything else is a 404. The filters are the items endpoint's
(`bbox`, `q`, the layer's declared fields, `limit`/`offset` without a default limit).
"""

from __future__ import annotations

import re

from flask import Blueprint, render_template, request

from layers.registry import LAYERS, get_layer
from server import http
from server.api import ogc
from server.downloads.formats import FORMATS, Selection
from server.errors import bad, not_found
from server.http.current import current_store as _store
from server.store.memory import page, select
from server.store.query import Query, dumps, provenance

DOWNLOAD_PARAMS = tuple(p for p in ogc.STANDARD if p != "f")  # the format is the extension
bp = Blueprint("downloads", __name__, url_prefix="/download")
http.install(bp)


@bp.record_once
def _announce_formats(state) -> None:
    """The API's collections link each layer's downloads in these formats."""
    state.app.extensions["atlas_download_formats"] = {n: f.media_type for n, f in FORMATS.items()}


def filename(layer_id: str, query: Query, built_at: str | None, ext: str) -> str:
    """hubei-cluster-atlas_parks_sectors-auto_2026-01-31.csv: layer, filters, build date."""
    parts = ["hubei-cluster-atlas", layer_id]
    for name, values in query.filters:
        parts.append(f"{name}-{'+'.join(map(str, values))}")
    if query.bbox:
        parts.append("bbox")
    if query.q:
        parts.append("search")
    if query.limit is not None or query.offset:
        parts.append(f"from{query.offset}")
    safe = [re.sub(r"[^A-Za-z0-9+_-]+", "", p) or "filtered" for p in parts]
    stem = "_".join(safe)[:120]
    date = (built_at or "")[:10]
    return f"{stem}_{date}.{ext}" if re.fullmatch(r"\d{4}-\d\d-\d\d", date) else f"{stem}.{ext}"


@bp.get("")
@bp.get("/")
def index():
    """Every download link: JSON for scripts, `?f=html` a page for people."""
    if ogc.check_args(request.args.to_dict(flat=False)) == "html":
        return http.respond(200, {"Content-Type": "text/html; charset=utf-8"},
                            render_template("downloads.html", layers=ogc.LAYERS.values(),
                                            formats=FORMATS.values(), meta=_store().meta).encode())
    root = request.host_url.rstrip("/") + request.script_root
    doc = {"downloads": [{"layer": lid, "format": f.name, "media_type": f.media_type,
                          "title": f.title, "href": f"{root}/download/{lid}.{f.name}"}
                         for lid in LAYERS for f in FORMATS.values()],
           "provenance": provenance(_store().meta)}
    return http.respond(200, {"Content-Type": ogc.JSON}, dumps(doc),
                        http.etag(_store().snapshot().stamp, root))


@bp.get("/<name>")
def download(name: str):
    layer_id, dot, ext = name.rpartition(".")
    layer = get_layer(layer_id) if dot else None
    fmt = FORMATS.get(ext)
    if layer is None or fmt is None:
        raise not_found(f"no download {name[:80]!r}: use /download/<layer>.<format> with a "
                            f"layer from /api/collections and a format of {', '.join(FORMATS)}")
    store = _store()
    snap = store.snapshot()
    root = request.host_url.rstrip("/") + request.script_root
    args = tuple(sorted(request.args.items(multi=True)))

    def make() -> tuple[int, dict, bytes]:
        query_args = request.args.to_dict(flat=False)
        headers_arg = query_args.pop("headers", ["codes"])  # CSV column names: codes or zh
        if headers_arg not in (["codes"], ["zh"]) or (headers_arg == ["zh"] and fmt.name != "csv"):
            raise bad("headers is zh or codes, once, and only for csv")
        query = ogc.parse_query(layer, query_args, default_limit=None,
                                max_limit=None, standard=DOWNLOAD_PARAMS)
        built_at = snap.meta.get("built_at")
        prep = store.in_memory(layer.id)  # registered layers: in memory on every backend
        headers = {
            "Content-Type": fmt.media_type,
            "Content-Disposition":
                f'attachment; filename="{filename(layer.id, query, built_at, ext)}"',
            "X-Atlas-Built-At": str(built_at),
            "X-Atlas-Documents": ",".join(str(d.get("code")) for d in prep.provenance["documents"]),
            "Link": f'<{root}/api/collections/{layer.id}>; rel="describedby"; '
                    f'type="application/json"',
        }
        selection = Selection(prep, page(select(prep, query), query), query, headers_arg[0])
        return 200, headers, fmt.render(selection)

    # made once per build and query (then a lookup); 304 before any work
    return http.cached((snap.meta.get("built_at"), snap.stamp, layer.id, fmt.name, args, root),
                       make)
