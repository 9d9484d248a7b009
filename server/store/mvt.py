"""Mapbox Vector Tiles of the atlas layers, encoded in-process, framework-free.

A tile `z/x/y` (the XYZ scheme, y down, EPSG:3857) holds one MVT layer named after the atlas
layer: the features whose geometry meets the tile grown by `BUFFER` (of `EXTENT` units, so
lines and polygon edges run on past the tile's edge and renderers draw no seams), clipped to
that grown square. Each feature carries the layer's fields as attributes — JSON fields
(lists and objects) as JSON text, empty values left out (MVT has no null) — and `id`, the
feature's id in the API (`adcode` for administrative units, `id` otherwise); an integer id is
also the MVT feature id.

Polygon layers are drawn from the coarsest simplified tier (`layers/registry.py`,
SIMPLIFY_TIERS) whose tolerance is at most one pixel of a 256-pixel tile at that zoom — `lo`
to zoom 7, `mid` at 8–9, full detail from 10 — so low zooms never carry every vertex.

Per build, each layer and tier is projected to EPSG:3857 once and indexed (`BoxIndex`), and
its attributes made once (`tile_layer`, cached per prepared layer like `memory.prepared`).
`tile_layer(..., datum="gcj02")` shifts the geometries to GCJ-02 first, for a map drawn over
Gaode's base tiles (the map page's `base=gaode`); the attributes stay as they are.
`write_pmtiles` writes the same tiles into a PMTiles archive for a static file server.

A large point layer (prepared by `memory.prepare_large`: the synthetic enterprises and zones of
`atlas synth`) is different: its tiles are written by `server.mvtpoints` straight from its
columns, and below FULL_POINTS_ZOOM keep one point per POINT_CELL (see `point_layer`).
"""

from __future__ import annotations

import gzip
import json
import math
import threading
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import shapely

from geo.datum import transform_geometries
from layers.registry import SIMPLIFY_TIERS, Layer
from server.errors import not_found
from server.store import memory, mvtpoints
from server.store.provider import Provider
from server.store.query import native
from server.store.spatial import BoxIndex

MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
EXTENT = 4096  # tile units across a tile
BUFFER = 64  # tile units kept beyond each edge
TILE_PIXELS = 256  # the screen size the simplification tiers are chosen for
RADIUS = 6378137.0  # EPSG:3857's sphere
WORLD = math.pi * RADIUS  # half the width of the square world, in metres
MAX_LAT = 85.0511287798066  # the latitude where the square world ends
DEFAULT_MINZOOM, DEFAULT_MAXZOOM = 0, 14
DATUMS = ("wgs84", "gcj02")  # what a tile's geometries may be in (attributes never change)
JSON_TYPES = {"str": "String", "int": "Number", "float": "Number", "bool": "Boolean",
              "json": "String (JSON text)"}


def project(c: np.ndarray) -> np.ndarray:
    """(n, 2) longitude/latitude (WGS84) to EPSG:3857 metres; latitudes beyond ±85.05° clamp."""
    lon = np.radians(c[:, 0])
    lat = np.radians(np.clip(c[:, 1], -MAX_LAT, MAX_LAT))
    return np.column_stack([RADIUS * lon, RADIUS * np.log(np.tan(math.pi / 4 + lat / 2))])


def to_mercator(geometries: np.ndarray) -> np.ndarray:
    """Longitude/latitude (WGS84) to EPSG:3857 metres; latitudes beyond ±85.05° clamp."""
    if not len(geometries):
        return geometries
    return shapely.transform(geometries, project)


def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """The tile's square in EPSG:3857: (minx, miny, maxx, maxy)."""
    size = 2 * WORLD / (1 << z)
    return (-WORLD + x * size, WORLD - (y + 1) * size, -WORLD + (x + 1) * size, WORLD - y * size)


def tile_range(z: int, lonlat: Sequence[float]) -> tuple[int, int, int, int]:
    """The tiles at zoom z that cover a lon/lat box: (x0, y0, x1, y1), inclusive."""
    n = 1 << z

    def tx(lon: float) -> int:
        return min(n - 1, max(0, int((lon + 180) / 360 * n)))

    def ty(lat: float) -> int:
        lat = math.radians(min(MAX_LAT, max(-MAX_LAT, lat)))
        return min(n - 1, max(0, int((1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * n)))

    return tx(lonlat[0]), ty(lonlat[3]), tx(lonlat[2]), ty(lonlat[1])


def tier_for(layer: Layer, z: int) -> str | None:
    """The coarsest simplified tier within one pixel at zoom z (None: full detail)."""
    if not layer.simplified:
        return None
    pixel = 360 / (TILE_PIXELS * (1 << z))
    fitting = [(tol, name) for name, tol in SIMPLIFY_TIERS.items() if tol <= pixel]
    return max(fitting)[1] if fitting else None


@dataclass
class TileLayer:
    """One layer of one build, ready for tiles: attributes made once, each tier projected
    and indexed on first use."""

    layer: Layer
    prep: memory.Prepared
    frames: dict[str, object]  # tier -> that tier's GeoDataFrame from the store
    attributes: Sequence[dict]
    feature_ids: Sequence[int | None]
    datum: str = "wgs84"
    _tiers: dict[str | None, tuple[Any, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tier(self, name: str | None) -> tuple[Any, Any]:
        """(geometries in EPSG:3857, their index): arrays, or for a large point layer one
        PointsInLonLat standing for both."""
        with self._lock:
            if name not in self._tiers and _large_points(self):
                points = PointsInLonLat(self.prep)
                self._tiers[name] = (points, points)
            if name not in self._tiers:
                geoms = self.prep.geometries
                frame = self.frames.get(name) if name else None
                if frame is not None:
                    geoms = self._aligned(frame)
                if self.datum != "wgs84" and len(geoms):
                    geoms = transform_geometries(geoms, "wgs84", self.datum)
                projected = to_mercator(geoms)
                self._tiers[name] = (projected, BoxIndex(projected))
            return self._tiers[name]

    def _aligned(self, frame) -> np.ndarray:
        """The tier's geometries in the order of the full layer (matched by id)."""
        key = self.layer.id_field
        by_id = dict(zip(map(str, frame[key]), frame.geometry.values))
        return np.array([by_id.get(str(i), g) for i, g in zip(self.prep.ids, self.prep.geometries)],
                        dtype=object)


class PointsInLonLat:
    """A large point layer's tiles without a second set of geometries or a second index: a
    tile's box (EPSG:3857) becomes a lon/lat box for the API's own index — exact for points,
    as the projection maps boxes onto boxes — and the points' EPSG:3857 coordinates are one
    array (16 bytes a point)."""

    def __init__(self, prep: memory.Prepared):
        self.prep = prep
        geoms = prep.geometries
        # every point's EPSG:3857 x, y (NaN for none): 16 bytes a point, no geometry objects
        self.xy = project(np.column_stack([shapely.get_x(geoms), shapely.get_y(geoms)]))

    def query(self, box: tuple[float, float, float, float]) -> np.ndarray:
        x0, y0, x1, y1 = box

        def lat(y: float, beyond: float) -> float:  # points past ±85.05° are drawn at the edge
            if abs(y) >= WORLD:
                return beyond
            return math.degrees(2 * math.atan(math.exp(y / RADIUS)) - math.pi / 2)

        return self.prep.spatial.query((math.degrees(x0 / RADIUS), lat(y0, -90.0),
                                        math.degrees(x1 / RADIUS), lat(y1, 90.0)))

    def __getitem__(self, chosen: np.ndarray) -> np.ndarray:
        return to_mercator(self.prep.geometries[chosen])


def _feature_attributes(prep: memory.Prepared, i: int) -> dict:
    attrs: dict = {}
    for f in prep.layer.fields:
        value = prep.columns[f.name][i]
        if value is None:
            continue
        # the JSON text as the build stored it, as PostGIS's tiles carry it (server.pgtiles)
        attrs[f.name] = json.dumps(value, ensure_ascii=False) if f.type == "json" else value
    attrs["id"] = prep.ids[i]
    return attrs


def _feature_id(i) -> int | None:
    return i if isinstance(i, int) and not isinstance(i, bool) and i >= 0 else None


class _OnDemand(Sequence):
    """A large layer's per-feature tile values, made when a tile needs them (not kept)."""

    def __init__(self, prep: memory.Prepared, make):
        self.prep, self.make = prep, make

    def __len__(self) -> int:
        return len(self.prep)

    def __getitem__(self, i):  # type: ignore[override]
        return self.make(i)


def _attributes(prep: memory.Prepared) -> tuple[Sequence[dict], Sequence[int | None]]:
    if prep.lazy:
        return (_OnDemand(prep, lambda i: _feature_attributes(prep, i)),
                _OnDemand(prep, lambda i: _feature_id(prep.ids[i])))
    return [_feature_attributes(prep, i) for i in range(len(prep))], [_feature_id(i) for i in prep.ids]


_cache: dict[tuple[int, str], tuple[weakref.ref, TileLayer]] = {}
_cache_lock = threading.Lock()


def tile_layer(store, layer_id: str, datum: str = "wgs84") -> TileLayer:
    """The layer of the store's current build, ready for tiles (cached per build and datum)."""
    if datum not in DATUMS:
        raise ValueError(f"datum must be one of {DATUMS}, not {datum!r}")
    prep = memory.prepared(store.snapshot(), layer_id)
    key = (id(prep), datum)
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None and entry[0]() is prep:
            return entry[1]
        for stale in [k for k, (ref, _) in _cache.items() if ref() is None]:
            del _cache[stale]
    layers = store.snapshot().layers
    frames = {t: layers[f"{layer_id}__{t}"] for t in SIMPLIFY_TIERS if f"{layer_id}__{t}" in layers}
    attrs, fids = _attributes(prep)
    made = TileLayer(prep.layer, prep, frames, attrs, fids, datum)
    with _cache_lock:
        entry = _cache.get(key)
        if entry is not None and entry[0]() is prep:
            return entry[1]
        _cache[key] = (weakref.ref(prep), made)
    return made


def check_tile(z: int, x: int, y: int, minzoom: int, maxzoom: int) -> None:
    """ApiError(404) for a tile outside the zoom range or the grid."""
    if not minzoom <= z <= maxzoom:
        raise not_found(f"zoom {z} is outside the tiles' zoom range {minzoom}–{maxzoom}")
    if not (0 <= x < (1 << z) and 0 <= y < (1 << z)):
        raise not_found(f"no tile {z}/{x}/{y}: x and y run from 0 to {(1 << z) - 1} at zoom {z}")


def features(tl: TileLayer, z: int, x: int, y: int) -> list[dict]:
    """The tile's features of one layer, clipped, in layer order."""
    geoms, index = tl.tier(tier_for(tl.layer, z))
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    pad = (x1 - x0) * BUFFER / EXTENT
    grown = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
    chosen = index.query(grown)
    if not len(chosen):
        return []
    clipped = shapely.clip_by_rect(geoms[chosen], *grown)
    out = []
    for i, g in zip(chosen.tolist(), clipped):
        if g is None or g.is_empty:
            continue
        feat = {"geometry": g, "properties": tl.attributes[i]}
        if tl.feature_ids[i] is not None:
            feat["id"] = tl.feature_ids[i]
        out.append(feat)
    return out


def _repair(shape):
    """A polygon made invalid by snapping to the tile grid, repaired by GEOS's make_valid;
    only polygons are kept (a sliver that collapses to a line is dropped, not the feature).

    mapbox-vector-tile's own repair (`on_invalid_geometry_make_valid`) dropped whole
    features — 蔡甸区 vanished from its zoom-7 tile."""
    polygons = [g for g in shapely.get_parts(shapely.make_valid(shape))
                if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.union_all(polygons)


def encode(layers: Iterable[TileLayer], z: int, x: int, y: int) -> bytes:
    """The MVT of tile z/x/y with one MVT layer per atlas layer that has features there
    (an empty body when none has)."""
    layers = list(layers)
    parts = [{"name": tl.layer.id, "features": feats} for tl in layers
             if not _large_points(tl) and (feats := features(tl, z, x, y))]
    points = b"".join(point_layer(tl, z, x, y) for tl in layers if _large_points(tl))
    if not parts:
        return points
    return mapbox_vector_tile.encode(parts, default_options={
        "quantize_bounds": tile_bounds(z, x, y), "extents": EXTENT,
        "on_invalid_geometry": _repair}) + points


# Large point layers (the synthetic enterprises: up to a million points)
#
# Their tiles are written by `server.mvtpoints` (protobuf by hand, ~20× faster than
# mapbox_vector_tile for points), and below FULL_POINTS_ZOOM a tile keeps one point per cell
# of POINT_CELL tile units (2 px of a 256-px tile): the first in layer order, which for the
# synthetic layers (rows in random order) is a random sample. A zoom-5 tile of eastern China
# would otherwise carry 200,000 points (about 10 MB); the thinned one draws the same at that
# scale. From FULL_POINTS_ZOOM on every point is there; the API has them all at any zoom.
FULL_POINTS_ZOOM = 12
POINT_CELL = 32  # tile units (EXTENT 4096 = 256 px, so 16 units a pixel)


def _large_points(tl: TileLayer) -> bool:
    """A large point layer in WGS84 (GCJ-02 tiles of it take the general path)."""
    return tl.prep.lazy and tl.layer.geometry_type == "Point" and tl.datum == "wgs84"


def point_layer(tl: TileLayer, z: int, x: int, y: int) -> bytes:
    """A large point layer's MVT layer of tile z/x/y (thinned below FULL_POINTS_ZOOM)."""
    _, points = tl.tier(None)
    x0, y0, x1, y1 = tile_bounds(z, x, y)
    pad = (x1 - x0) * BUFFER / EXTENT
    chosen = points.query((x0 - pad, y0 - pad, x1 + pad, y1 + pad))
    if not len(chosen):
        return b""
    merc = points.xy[chosen]
    units = np.empty((len(chosen), 2), dtype=np.int64)
    units[:, 0] = np.rint((merc[:, 0] - x0) / (x1 - x0) * EXTENT)
    units[:, 1] = np.rint((y1 - merc[:, 1]) / (y1 - y0) * EXTENT)  # y down
    if z < FULL_POINTS_ZOOM:
        cells = (units + BUFFER) // POINT_CELL
        _, first = np.unique(cells[:, 0] * (1 << 20) + cells[:, 1], return_index=True)
        keep = np.sort(first)  # chosen is in layer order: the first point of each cell
        chosen, units = chosen[keep], units[keep]
    return mvtpoints.encode_points(tl.layer.id, units, _point_columns(tl.prep, chosen),
                                   _point_ids(tl.prep.ids[chosen]), EXTENT)


def _point_columns(prep: memory.Prepared, chosen: np.ndarray) -> list[mvtpoints.Column]:
    """The attribute columns of the chosen features, as `_feature_attributes` makes them: the
    layer's fields (JSON ones as JSON text) and `id`, the API's id."""
    ids = prep.ids[chosen]
    out: list[mvtpoints.Column] = []
    for f in prep.layer.fields:
        if f.name == "id":
            out.append(("id", ids, _same))
            continue
        values = prep.columns[f.name].values[chosen]  # type: ignore[attr-defined]
        if f.type == "json":
            values = np.array([json.dumps(v, ensure_ascii=False) if isinstance(v, list | dict) else None
                               for v in values], dtype=object)
        out.append((f.name, values, _native_of(f.type)))
    if "id" not in prep.layer.field_names:
        out.append(("id", ids, _same))
    return out


def _same(value):
    return value


def _native_of(ftype: str):
    return lambda value: native(value, "str" if ftype == "json" else ftype)


def _point_ids(ids: np.ndarray) -> np.ndarray:
    """MVT feature ids: the API id where it is a whole number ≥ 0, else -1 (none)."""
    return np.array([i if (i := _feature_id(v)) is not None else -1 for v in ids], dtype=np.int64)


def vector_layer(layer: Layer, large: bool, minzoom: int, maxzoom: int) -> dict:
    """TileJSON's description of one layer's tiles; `large`: a large layer (points thinned)."""
    fields = {f.name: f"{JSON_TYPES.get(f.type, 'String')}: {f.title_en}" for f in layer.fields}
    fields["id"] = "String or Number: the feature's id in the API (adcode or id)"
    description = layer.description_en or layer.title_en
    if large and layer.geometry_type == "Point":
        description += (f" Below zoom {FULL_POINTS_ZOOM} a tile keeps one point per "
                        f"{POINT_CELL // (EXTENT // TILE_PIXELS)}-pixel cell (a sample); every point from "
                        f"zoom {FULL_POINTS_ZOOM}.")
    return {"id": layer.id, "description": description,
            "minzoom": minzoom, "maxzoom": maxzoom, "fields": fields}


def tilejson(provider: Provider, tiles_url: str, minzoom: int, maxzoom: int) -> dict:
    """TileJSON 3.0.0 for one layer's tiles, from what its provider says of it."""
    layer, extent = provider.layer, provider.extent or [-180.0, -MAX_LAT, 180.0, MAX_LAT]
    center = [round((extent[0] + extent[2]) / 2, 6), round((extent[1] + extent[3]) / 2, 6),
              max(minzoom, min(maxzoom, 6))]
    meta = provider.provenance
    boundaries = (meta.get("boundaries") or {}).get("package")
    return {
        "tilejson": "3.0.0", "name": f"{layer.title_en} · {layer.title_zh}",
        "description": layer.description_en, "version": "1.0.0", "scheme": "xyz",
        "tiles": [tiles_url], "minzoom": minzoom, "maxzoom": maxzoom,
        "bounds": extent, "center": center,
        "attribution": "Hubei Cluster Atlas" + (f"; boundaries: {boundaries}" if boundaries else ""),
        "vector_layers": [vector_layer(layer, provider.lazy, minzoom, maxzoom)],
        "built_at": provider.built_at or None,
    } | ({"synthetic": True} if layer.synthetic else {})


# ---------------------------------------------------------------------------------------------
# PMTiles


def _e7(v: float) -> int:
    return int(round(v * 1e7))


def write_pmtiles(store, out: Path, layer_ids: Sequence[str], minzoom: int = 0,
                  maxzoom: int = 10) -> dict:
    """Every non-empty tile of the layers from minzoom to maxzoom into one PMTiles archive
    (tiles gzip-compressed, as static PMTiles readers expect); returns counts."""
    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    tls = [tile_layer(store, lid) for lid in layer_ids]
    extents = [tl.prep.extent for tl in tls if tl.prep.extent]
    if not extents:
        raise ValueError("the layers have no features")
    box = [min(e[0] for e in extents), min(e[1] for e in extents),
           max(e[2] for e in extents), max(e[3] for e in extents)]
    tiles = []
    for z in range(minzoom, maxzoom + 1):
        x0, y0, x1, y1 = tile_range(z, box)
        tiles += [(zxy_to_tileid(z, x, y), z, x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
    tiles.sort()
    written = raw = 0
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as f:
        writer = Writer(f)
        for tile_id, z, x, y in tiles:
            body = encode(tls, z, x, y)
            if not body:
                continue
            raw += len(body)
            writer.write_tile(tile_id, gzip.compress(body, mtime=0))
            written += 1
        if not written:
            raise ValueError("no tile has features")
        center = [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2]
        writer.finalize({
            "tile_type": TileType.MVT, "tile_compression": Compression.GZIP,
            "min_lon_e7": _e7(box[0]), "min_lat_e7": _e7(box[1]),
            "max_lon_e7": _e7(box[2]), "max_lat_e7": _e7(box[3]),
            "center_zoom": max(minzoom, min(maxzoom, 6)),
            "center_lon_e7": _e7(center[0]), "center_lat_e7": _e7(center[1]),
        }, {"name": "Hubei Cluster Atlas", "format": "pbf", "type": "overlay",
            "built_at": tls[0].prep.built_at or None,
            "vector_layers": [vector_layer(tl.layer, tl.prep.lazy, minzoom, maxzoom) for tl in tls]})
    tmp.replace(out)
    return {"tiles": written, "tried": len(tiles), "bytes": out.stat().st_size, "mvt_bytes": raw}
