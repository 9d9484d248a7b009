"""The /tiles blueprint: vector tiles and TileJSON of every layer, per build (`server.mvt`),
and of the synthetic layers of a file `atlas synth` wrote (`BuildStore.served_layer`).

- `/tiles/<layer>.json` — TileJSON 3.0.0: the tiles URL template, zoom range, bounds and
  the layer's fields;
- `/tiles/<layer>/<z>/<x>/<y>.mvt` — one Mapbox Vector Tile (XYZ, EPSG:3857);
  `?datum=gcj02` shifts the geometries to GCJ-02 (for a map over Gaode's base tiles, as the
  map page's `base=gaode` asks), any other datum than `wgs84` answers 400.

Settings (app config, `ATLAS_` environment variables): `TILES_MINZOOM` / `TILES_MAXZOOM`
(default 0–14), `TILES_CACHE_SECONDS` (Cache-Control max-age, default 300; the ETag
revalidates, and changes with each build). A tile z, x or y that is not a whole number
answers 400; a zoom outside the range or x, y outside the grid 404; an unknown layer 404 —
each with a JSON {code, description}. Each answer is made once per build (`http.cached`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, current_app, request

from server import http
from server.errors import bad, one
from server.http.current import current_store as _store
from server.store import mvt
from server.store.query import dumps

bp = Blueprint("tiles", __name__, url_prefix="/tiles")
http.install(bp)

CONFIG_DEFAULTS = {
    "TILES_MINZOOM": mvt.DEFAULT_MINZOOM,
    "TILES_MAXZOOM": mvt.DEFAULT_MAXZOOM,
    "TILES_CACHE_SECONDS": 300,
}
_WHOLE = re.compile(r"[0-9]{1,10}")


@bp.record_once
def _defaults(state) -> None:
    for key, value in CONFIG_DEFAULTS.items():
        state.app.config.setdefault(key, value)


def _zooms() -> tuple[int, int]:
    return int(current_app.config["TILES_MINZOOM"]), int(current_app.config["TILES_MAXZOOM"])


def _root() -> str:
    return request.host_url.rstrip("/") + request.script_root


def _answer(key: tuple, make: Callable[[], tuple[int, dict, bytes]]):
    snap = _store().snapshot()

    def made() -> tuple[int, dict, bytes]:
        status, headers, body = make()
        return status, {**headers, "X-Atlas-Built-At": str(snap.meta.get("built_at"))}, body
    return http.cached((snap.meta.get("built_at"), snap.stamp, "tiles", *key, _zooms()), made,
                       max_age=int(current_app.config["TILES_CACHE_SECONDS"]))


def _whole(text: str, name: str) -> int:
    if not _WHOLE.fullmatch(text):
        raise bad(f"tile {name} must be a whole number ≥ 0, not {text[:40]!r}")
    return int(text)


@bp.get("/<layer_id>.json")
def tilejson(layer_id: str):
    layer = _store().served_layer(layer_id)

    def make():
        lo, hi = _zooms()
        url = f"{_root()}{bp.url_prefix}/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"
        doc = mvt.tilejson(_store().provider(layer.id), url, lo, hi)
        return 200, {"Content-Type": "application/json"}, dumps(doc)
    return _answer((_root(), layer.id, "tilejson"), make)


@bp.get("/<layer_id>/<z>/<x>/<y>.mvt")
def tile(layer_id: str, z: str, x: str, y: str):
    layer = _store().served_layer(layer_id)
    zi, xi, yi = _whole(z, "z"), _whole(x, "x"), _whole(y, "y")
    mvt.check_tile(zi, xi, yi, *_zooms())

    datum = one(request.args, "datum") or "wgs84"
    if datum not in mvt.DATUMS:
        raise bad(f"datum must be one of {', '.join(mvt.DATUMS)}, not {datum[:40]!r}")

    def make():
        body = _store().tile(layer.id, zi, xi, yi, datum)
        return 200, {"Content-Type": mvt.MEDIA_TYPE}, body
    return _answer((layer.id, zi, xi, yi, datum), make)
