"""OGC API – Features (Part 1, Core) over the built atlas, framework-free.

Everything here takes parsed request parameters (a mapping of name → list of values, the
base URLs) and returns plain data or `(status, headers, body)`; `server/api.py` and
`server/downloads.py` only adapt Flask to it. Nothing from the URL is ever used as a file
path or a property name that is not declared in `layers/registry.py`: collection ids are
looked up in the registry, filter names are checked against the layer's `filterable`
fields, and everything else answers 400 or 404 (`ApiError`).

Each layer is prepared once per build (`prepare`): geometries rounded to 6 decimals and
oriented the RFC 7946 way (exterior rings counter-clockwise) and serialised once with
GEOS, properties converted to JSON-native values, a search text per feature (names,
aliases, pinyin) and bounds, and an STRtree for `bbox` (`server.spatial`). Queries are then index
operations on those arrays. A large layer (the synthetic national layers of `atlas synth`, or
any above LARGE_ROWS features) is prepared in vectorised steps only and makes each feature
when asked (`prepare_large`), so a million points load in seconds and a page of 100 costs
what 100 features cost.

The synthetic layers (`layers.registry.SYNTH_LAYERS`) are collections only when the loaded
file has them (`store.synthetic_ids()`), marked `synthetic: true`, without downloads.
"""

from __future__ import annotations

import html
import json
import math
import re
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np
import orjson
import pandas as pd
import shapely

from layers import search
from layers.registry import LAYERS, SYNTH_LAYERS, Layer, any_layer, get_layer
from server.store.spatial import BoxIndex

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CRS84_NAMES = {CRS84, "https://www.opengis.net/def/crs/OGC/1.3/CRS84", "[OGC:CRS84]", "OGC:CRS84",
               "urn:ogc:def:crs:OGC:1.3:CRS84", "CRS84"}
CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
]
JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
# Parameters every items request may carry; anything else must be a declared filter.
STANDARD = ("f", "bbox", "bbox-crs", "limit", "offset", "q")
# Documented aliases of filter names: `sector=auto` filters the list field `sectors`.
ALIASES = {"sector": "sectors"}
DECIMALS = 6
SEARCH_FIELDS = ("name_zh", "name_en", "aliases")


class ApiError(Exception):
    """An answer other than 200: 400 for a bad request, 404 for an unknown resource."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def body(self) -> dict:
        return {"code": self.code, "description": self.description}


def bad(description: str) -> ApiError:
    return ApiError(400, "InvalidParameterValue", description)


def not_found(description: str) -> ApiError:
    return ApiError(404, "NotFound", description)


def dumps(doc) -> bytes:
    """Fast JSON, Chinese text kept as UTF-8 (not \\u escapes)."""
    return orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY)


# ---------------------------------------------------------------------------------------------
# Layers prepared once per build


def _native(value, ftype: str):
    if ftype == "json":
        return value if isinstance(value, list | dict) else None
    if value is None or (not isinstance(value, list | dict | str) and pd.isna(value)):
        return None
    if ftype == "int":
        return int(value)
    if ftype == "float":
        return float(value)
    if ftype == "bool":
        return bool(value)
    return str(value)


def cited_docs(value, out: set[str]) -> None:
    """Every `doc` named in a (nested) sources/roles/figures/catalogue value."""
    if isinstance(value, dict):
        doc = value.get("doc")
        if isinstance(doc, str):
            out.add(doc)
        for v in value.values():
            cited_docs(v, out)
    elif isinstance(value, list):
        for v in value:
            cited_docs(v, out)


def provenance(meta: dict, cited: set[str] | None = None) -> dict:
    """Where the data comes from: the build and the documents (all, or those cited)."""
    docs = [{k: d.get(k) for k in ("code", "doc", "title_zh", "title_en", "issuer_zh", "year")
             if d.get(k) is not None}
            for d in meta.get("documents", []) if cited is None or d.get("doc") in cited]
    return {"built_at": meta.get("built_at"), "atlas_version": meta.get("atlas_version"),
            "boundaries": meta.get("boundaries"), "documents": docs,
            "seeds_checked": meta.get("seeds_checked")}


@dataclass
class Prepared:
    layer: Layer
    frame: object  # the full-detail GeoDataFrame as stored by the build
    geometries: np.ndarray  # rounded, RFC 7946-oriented shapely geometries
    ids: list
    index: dict[str, int]
    features: list[dict]  # GeoJSON Feature dicts, geometry pre-serialised (orjson.Fragment)
    columns: dict[str, list]  # native values per field
    bounds: np.ndarray  # (n, 4)
    haystack: list[list[str]]  # search terms per feature
    extent: list[float] | None
    provenance: dict
    built_at: str
    spatial: BoxIndex = field(repr=False, compare=False)  # answers bbox= (server/spatial.py)
    lazy: bool = False  # prepared by prepare_large: features, search terms and ids made on demand
    remote = False  # a server.pgitems.RemoteLayer answers in the database instead

    def __len__(self) -> int:
        return len(self.ids)


def prepare(layer: Layer, frame, meta: dict, terms: dict[str, list[str]] | None = None) -> Prepared:
    """The layer ready to answer queries; `terms` are the build's search terms by feature id
    (the same the map's search box uses), or, for a layer the build gave none, its names."""
    n = len(frame)
    geoms = np.asarray(frame.geometry.values, dtype=object) if n else np.array([], dtype=object)
    if n:
        geoms = shapely.transform(geoms, lambda c: np.round(c, DECIMALS))
        geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    columns = {}
    for f in layer.fields:
        raw = frame[f.name].tolist() if f.name in frame.columns else [None] * n
        columns[f.name] = [_native(v, f.type) for v in raw]
    id_field = layer.id_field
    ids = [v if v is not None else i for i, v in enumerate(columns.get(id_field, [None] * n))]
    geojson = shapely.to_geojson(geoms) if n else []
    names = layer.field_names
    features = []
    for i in range(n):
        features.append({
            "type": "Feature", "id": ids[i],
            "geometry": orjson.Fragment(geojson[i]) if geojson[i] is not None else None,
            "properties": {name: columns[name][i] for name in names},
        })
    haystack: list[list[str]] = []
    for i in range(n):
        found = (terms or {}).get(str(ids[i]))
        if found is None:
            found = search.terms(*(columns.get(name, [None] * n)[i] for name in SEARCH_FIELDS))
        haystack.append(found)
    bounds = shapely.bounds(geoms) if n else np.empty((0, 4))
    extent = None
    if n and np.isfinite(bounds).any():
        extent = [round(float(np.nanmin(bounds[:, 0])), DECIMALS), round(float(np.nanmin(bounds[:, 1])),
                  DECIMALS), round(float(np.nanmax(bounds[:, 2])), DECIMALS),
                  round(float(np.nanmax(bounds[:, 3])), DECIMALS)]
    cited: set[str] = set()
    for name in ("sources", "roles", "figures", "catalogue"):
        cited_docs(columns.get(name), cited)
    return Prepared(layer, frame, geoms, ids, {str(v): i for i, v in enumerate(ids)}, features,
                    columns, bounds, haystack, extent, provenance(meta, cited),
                    meta.get("built_at") or "", BoxIndex(geoms))


_cache: dict[int, tuple[weakref.ref, dict[str, Prepared]]] = {}
_cache_lock = threading.Lock()


def prepared(store, layer_id: str) -> Prepared:
    """The prepared full-detail layer of the store's current build (cached per build); for a
    layer the storage answers itself (PostGIS's large layers), its `RemoteLayer`."""
    remote = store.remote_layer(layer_id)
    if remote is not None:
        return remote
    snap = store.snapshot()
    with _cache_lock:
        entry = _cache.get(id(snap))
        if entry is None or entry[0]() is not snap:
            for key in [k for k, (ref, _) in _cache.items() if ref() is None]:
                del _cache[key]
            entry = (weakref.ref(snap), {})
            _cache[id(snap)] = entry
        layers = entry[1]
        if layer_id not in layers:
            layer, frame = any_layer(layer_id), snap.layers[layer_id]
            assert layer is not None
            make = prepare_large if layer.synthetic or len(frame) > LARGE_ROWS else prepare
            layers[layer_id] = make(layer, frame, snap.meta, snap.search.get(layer_id, {}))
        return layers[layer_id]


def collection_or_404(layer_id: str) -> Layer:
    layer = get_layer(layer_id)
    if layer is None:
        raise not_found(f"no collection {layer_id!r}; see /api/collections")
    return layer


def served_or_404(store, layer_id: str) -> Layer:
    """A collection of the API and the tiles: a registered layer, or a synthetic one the
    loaded file has (`atlas synth`); the downloads and the map take only registered ones."""
    if layer_id in SYNTH_LAYERS and layer_id in store.synthetic_ids():
        return SYNTH_LAYERS[layer_id]
    return collection_or_404(layer_id)


# ---------------------------------------------------------------------------------------------
# Parameters


@dataclass(frozen=True)
class Query:
    fmt: str = "json"
    bbox: tuple[float, float, float, float] | None = None
    limit: int | None = None
    offset: int = 0
    q: tuple[str, ...] = ()
    filters: tuple[tuple[str, tuple], ...] = ()
    args: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    def describe(self) -> dict:
        out: dict = {}
        if self.bbox:
            out["bbox"] = list(self.bbox)
        if self.q:
            out["q"] = " ".join(self.q)
        for name, values in self.filters:
            out[name] = list(values)
        return out


def filter_names(layer: Layer) -> dict[str, str]:
    """Accepted filter parameter → layer field (the declared filterable fields + aliases)."""
    names = {name: name for name in layer.filterable}
    names.update({alias: target for alias, target in ALIASES.items() if target in names})
    return names


def _single(args: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = args.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise bad(f"parameter {name!r} is given more than once")
    return values[0]


_INTEGER = re.compile(r"\+?[0-9]{1,12}")


def _int(text: str, name: str, minimum: int) -> int:
    text = text.strip()
    if not _INTEGER.fullmatch(text):  # one optional sign: int() refuses "++5" (was a 500)
        raise bad(f"{name} must be an integer ≥ {minimum}, not {text[:40]!r}")
    value = int(text)
    if value < minimum:
        raise bad(f"{name} must be an integer ≥ {minimum}, not {value}")
    return value


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    if len(parts) not in (4, 6):
        raise bad("bbox must be 4 (or 6) comma-separated numbers: minlon,minlat,maxlon,maxlat")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise bad(f"bbox must be numbers, not {text[:80]!r}") from None
    if not all(math.isfinite(v) for v in nums):
        raise bad("bbox must be finite numbers")
    x0, y0, x1, y1 = (nums[0], nums[1], nums[3], nums[4]) if len(nums) == 6 else nums
    if not (-180 <= x0 <= 180 and -180 <= x1 <= 180 and -90 <= y0 <= 90 and -90 <= y1 <= 90):
        raise bad("bbox is CRS84 longitude/latitude: longitudes within ±180, latitudes within ±90")
    if y0 > y1:
        raise bad("bbox: the minimum latitude is larger than the maximum")
    return (x0, y0, x1, y1)


def _filter_value(text: str, ftype: str, name: str):
    text = text.strip()
    if not text:
        raise bad(f"empty value for filter {name!r}")
    if ftype == "int":
        try:
            return int(text) if text.isascii() and len(text) <= 18 else int("x")
        except ValueError:
            raise bad(f"filter {name!r} takes integers, not {text[:40]!r}") from None
    if ftype == "float":
        try:
            value = float(text)
        except ValueError:
            raise bad(f"filter {name!r} takes numbers, not {text[:40]!r}") from None
        if not math.isfinite(value):
            raise bad(f"filter {name!r} takes finite numbers")
        return value
    if ftype == "bool":
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise bad(f"filter {name!r} takes true or false, not {text[:40]!r}")
    return text


def parse_query(layer: Layer, args: Mapping[str, Sequence[str]], *, default_limit: int | None,
                max_limit: int | None, formats: Sequence[str] = ("json", "html"),
                standard: Sequence[str] = STANDARD) -> Query:
    """Validate an items (or download) request. `args` maps each name to all its values.

    Unknown parameters, repeated ones, malformed bbox/limit/offset and filter values of the
    wrong type raise ApiError(400). A limit above `max_limit` is clamped to it (the server may
    return fewer features than asked, never more)."""
    names = filter_names(layer)
    unknown = sorted(k for k in args if k not in standard and k not in names)
    if unknown:
        allowed = ", ".join(list(standard) + sorted(names))
        raise bad(f"unknown parameter {unknown[0][:60]!r} for collection {layer.id!r}; "
                  f"allowed: {allowed}")
    text = _single(args, "f")
    fmt = formats[0] if text is None else text.strip().lower()
    if fmt == "geojson" and "json" in formats:
        fmt = "json"
    if fmt not in formats:
        raise bad(f"f must be one of {', '.join(formats)}")
    crs = _single(args, "bbox-crs")
    if crs is not None and crs.strip() not in CRS84_NAMES:
        raise bad(f"bbox-crs: only {CRS84} is supported")
    text = _single(args, "bbox")
    bbox = parse_bbox(text) if text is not None else None
    text = _single(args, "limit")
    limit = _int(text, "limit", 1) if text is not None else default_limit
    if limit is not None and max_limit is not None:
        limit = min(limit, max_limit)
    text = _single(args, "offset")
    offset = _int(text, "offset", 0) if text is not None else 0
    text = _single(args, "q")
    q = tuple(text.lower().split()) if text is not None else ()
    filters: dict[str, tuple] = {}
    for name in sorted(args):
        if name not in names:
            continue
        target = names[name]
        if target in filters:
            raise bad(f"filter {target!r} is given twice (as {name!r} and its alias)")
        text = _single(args, name) or ""
        ftype = layer.field(target).type
        vtype = "str" if ftype == "json" else ftype
        filters[target] = tuple(_filter_value(v, vtype, name) for v in text.split(","))
    pairs = tuple((k, v) for k, vs in args.items() for v in vs)
    return Query(fmt, bbox, limit, offset, q, tuple(sorted(filters.items())), pairs)


# ---------------------------------------------------------------------------------------------
# Selection


def _matches(value, wanted: tuple) -> bool:
    if isinstance(value, list):
        return any(w in value or str(w) in map(str, value) for w in wanted)
    return value is not None and value in wanted


def select(prep: Prepared, query: Query) -> np.ndarray:
    """Indices of the features matching bbox, q and the filters, in layer order."""
    if prep.lazy:
        return select_large(prep, query)  # type: ignore[return-value]  # a range when all match
    mask = np.ones(len(prep), dtype=bool)
    for name, wanted in query.filters:
        column = prep.columns[name]
        mask &= np.fromiter((_matches(v, wanted) for v in column), bool, len(column))
    if query.q:
        mask &= np.fromiter((search.matches(query.q, h) for h in prep.haystack), bool, len(prep))
    if query.bbox is not None and len(prep):
        inside = np.zeros(len(prep), dtype=bool)
        inside[prep.spatial.query(query.bbox)] = True
        mask &= inside
    return np.flatnonzero(mask)


def page(matched: np.ndarray, query: Query) -> np.ndarray:
    end = None if query.limit is None else query.offset + query.limit
    return matched[query.offset:end]


# ---------------------------------------------------------------------------------------------
# Large layers
#
# `prepare` makes every feature's GeoJSON, properties, search terms and id lookup up front:
# a few microseconds a feature, nothing for the atlas's few hundred, but minutes and gigabytes
# per process at a million. `prepare_large` keeps the loaded columns as numpy arrays and the
# geometries as loaded (rounded and oriented only if they are not already), builds the STRtree,
# and makes the rest on demand: a feature when it is answered, the id lookup on the first
# `items/<id>`, the search terms on the first `q`. `select_large` starts from the index's hits
# and tests the filters on those only (vectorised), so `bbox=…&limit=100` costs what its hits
# cost, not what the layer holds; without bbox or filters it selects a range, no array.

LARGE_ROWS = 50_000  # above this a registered layer is prepared the large way too


class NativeColumn(Sequence):
    """One field of a large layer: the loaded array; `[i]` is the JSON-native value."""

    def __init__(self, values: np.ndarray, ftype: str):
        self.values, self.ftype = values, ftype

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i):  # type: ignore[override]  # one position, not a slice
        return _native(self.values[i], self.ftype)

    def natives(self, idx) -> list:
        """The values at positions `idx`, JSON-native, as `[i]` makes them, in bulk."""
        values = self.values[np.asarray(idx, dtype=np.intp)]
        kind, ftype = values.dtype.kind, self.ftype
        if (ftype == "int" and kind in "iu") or (ftype == "bool" and kind == "b"):
            return values.tolist()
        if ftype == "float" and kind == "f":
            return [None if v != v else v for v in values.tolist()]
        if ftype == "str" and kind == "O":
            return [v if type(v) is str else _native(v, ftype) for v in values]
        return [_native(v, ftype) for v in values]

    def matches(self, wanted: tuple, idx: np.ndarray | None = None) -> np.ndarray:
        """A mask (over `idx`, or over all) of the values a filter accepts (as `_matches`)."""
        values = self.values if idx is None else self.values[idx]
        if self.ftype == "json":
            return np.fromiter((_matches(v if isinstance(v, list) else None, wanted) for v in values),
                               bool, len(values))
        return pd.Series(values, copy=False).isin(list(wanted)).to_numpy(dtype=bool)


class LazyFeatures(Sequence):
    """The GeoJSON Feature dicts of a large layer, each made when asked (not kept)."""

    def __init__(self, ids: np.ndarray, geometries: np.ndarray, columns: dict[str, NativeColumn]):
        self.ids, self.geometries, self.columns = ids, geometries, columns

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i):  # type: ignore[override]
        g = self.geometries[i]
        return {"type": "Feature", "id": self.ids[i],
                "geometry": None if g is None else orjson.Fragment(shapely.to_geojson(g)),
                "properties": {name: col[i] for name, col in self.columns.items()}}

    def take(self, chosen) -> list[dict]:
        """The features at positions `chosen` (a page), made column by column."""
        idx = np.asarray(chosen, dtype=np.intp)
        texts = shapely.to_geojson(self.geometries[idx]) if len(idx) else []
        ids = self.ids[idx].tolist()
        names = list(self.columns)
        rows = zip(*(self.columns[name].natives(idx) for name in names)) if names else ((),) * len(idx)
        return [{"type": "Feature", "id": fid,
                 "geometry": None if text is None else orjson.Fragment(text),
                 "properties": dict(zip(names, row))}
                for fid, text, row in zip(ids, texts, rows)]


class IdLookup:
    """Feature id (as text) → position, built on the first lookup (a pandas hash index)."""

    def __init__(self, ids: np.ndarray):
        self._ids = ids
        self._index: pd.Index | dict | None = None
        self._lock = threading.Lock()

    def get(self, fid: str, default=None):
        with self._lock:
            if self._index is None:
                index = pd.Index([v if isinstance(v, str) else str(v) for v in self._ids], dtype=object)
                self._index = (index if index.is_unique
                               else {str(v): i for i, v in enumerate(self._ids)})
        if isinstance(self._index, dict):
            return self._index.get(fid, default)
        at = int(self._index.get_indexer([fid])[0])
        return default if at < 0 else at


class LazyHaystack(Sequence):
    """Search terms per feature, made on the first `q` (none for a layer without names)."""

    def __init__(self, ids: np.ndarray, columns: dict[str, NativeColumn],
                 terms: dict[str, list[str]] | None):
        self._ids, self._columns, self._terms = ids, columns, terms or {}
        self._named = any(name in columns for name in SEARCH_FIELDS)
        self._made: list[list[str]] | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def searchable(self) -> bool:
        """False for a layer without names or terms: `q` finds nothing there."""
        return self._named or bool(self._terms)

    def __getitem__(self, i):  # type: ignore[override]
        if not self.searchable:
            return []
        with self._lock:
            if self._made is None:
                cols = [self._columns.get(name) for name in SEARCH_FIELDS]
                self._made = []
                for j, fid in enumerate(self._ids):
                    found = self._terms.get(str(fid))
                    self._made.append(found if found is not None else
                                      search.terms(*(c[j] if c is not None else None for c in cols)))
        return self._made[i]


def _native_ids(values: np.ndarray, ftype: str) -> np.ndarray:
    """Ids as Python values (position where missing), vectorised for whole-number and text ids."""
    missing = np.asarray(pd.isna(values), dtype=bool)
    if values.dtype.kind in "iu":
        ids = values.astype(object)
    elif ftype == "str" and pd.api.types.infer_dtype(values, skipna=True) == "string":
        ids = values.astype(object, copy=True)  # the same str objects
    else:
        ids = np.array([_native(v, ftype) for v in values], dtype=object)
    if missing.any():
        ids[missing] = [int(i) for i in np.flatnonzero(missing)]
    return ids


def prepare_large(layer: Layer, frame, meta: dict, terms: dict[str, list[str]] | None = None) -> Prepared:
    """`prepare` for a large layer: the same answers, made without a per-feature Python pass."""
    n = len(frame)
    geoms = np.asarray(frame.geometry.values, dtype=object) if n else np.array([], dtype=object)
    if n:
        coords = shapely.get_coordinates(geoms)
        if not np.array_equal(np.round(coords, DECIMALS), coords):  # `atlas synth` rounds already
            geoms = shapely.transform(geoms, lambda c: np.round(c, DECIMALS))
        if "Polygon" in layer.geometry_type:
            geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    columns = {}
    for f in layer.fields:
        values = frame[f.name].to_numpy() if f.name in frame.columns else np.full(n, None, dtype=object)
        columns[f.name] = NativeColumn(values, f.type)
    id_field = layer.id_field
    ids = (_native_ids(columns[id_field].values, layer.field(id_field).type) if id_field in columns
           else np.arange(n).astype(object))
    spatial = BoxIndex(geoms)
    bounds = spatial.bounds
    extent = None
    if n and np.isfinite(bounds).any():
        extent = [round(float(v), DECIMALS) for v in (np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1]),
                                                      np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3]))]
    cited: set[str] = set()
    for name in ("sources", "roles", "figures", "catalogue"):
        if name in columns:
            cited_docs(list(columns[name].values), cited)
    return Prepared(layer, frame, geoms, ids, IdLookup(ids), LazyFeatures(ids, geoms, columns),  # type: ignore[arg-type]
                    columns, bounds, LazyHaystack(ids, columns, terms), extent,  # type: ignore[arg-type]
                    provenance(meta, cited), meta.get("built_at") or "", spatial, lazy=True)


def select_large(prep: Prepared, query: Query) -> np.ndarray | range:
    """`select` for a large layer: from the bbox hits (or everything) through the filters and
    q, touching only the features still in play; all of them as a range."""
    chosen: np.ndarray | None = None
    if query.bbox is not None:
        chosen = prep.spatial.query(query.bbox) if len(prep) else np.empty(0, dtype=np.intp)
    for name, wanted in query.filters:
        column = prep.columns[name]
        assert isinstance(column, NativeColumn)
        chosen = (np.flatnonzero(column.matches(wanted)) if chosen is None
                  else chosen[column.matches(wanted, chosen)])
    if query.q and not getattr(prep.haystack, "searchable", True):
        chosen = np.empty(0, dtype=np.intp)
    elif query.q:
        positions = range(len(prep)) if chosen is None else chosen
        hit = np.fromiter((search.matches(query.q, prep.haystack[i]) for i in positions), bool,
                          len(positions))
        chosen = np.flatnonzero(hit) if chosen is None else chosen[hit]
    return range(len(prep)) if chosen is None else chosen


# ---------------------------------------------------------------------------------------------
# Documents


def _link(href: str, rel: str, type_: str, title: str | None = None) -> dict:
    link = {"href": href, "rel": rel, "type": type_}
    if title:
        link["title"] = title
    return link


def _with(args: Sequence[tuple[str, str]], **changes) -> str:
    """The query string of `args` with some parameters replaced (None removes one)."""
    keys = {k.replace("_", "-") for k in changes}
    pairs = [(k, v) for k, v in args if k not in keys]
    pairs += [(k.replace("_", "-"), str(v)) for k, v in changes.items() if v is not None]
    return ("?" + urlencode(pairs)) if pairs else ""


def self_links(url: str, args: Sequence[tuple[str, str]], fmt: str, json_type: str = JSON) -> list:
    other = "html" if fmt == "json" else "json"
    types = {"json": json_type, "html": HTML}
    return [_link(url + _with(args, f=fmt if args else None), "self", types[fmt], "this document"),
            _link(url + _with(args, f=other), "alternate", types[other], f"this document as {other}")]


def landing(api: str, args, fmt: str) -> dict:
    return {
        "title": "Hubei Cluster Atlas · 湖北产业集群地图",
        "description": "Industrial clusters, parks, corridors and projects of Hubei (and Hunan) "
                       "from five policy documents, as OGC API – Features.",
        "links": self_links(api, args, fmt) + [
            _link(f"{api}/openapi", "service-desc", OPENAPI, "the API definition (OpenAPI 3.0)"),
            _link(f"{api}/openapi?f=html", "service-doc", HTML, "the API definition as HTML"),
            _link(f"{api}/conformance", "conformance", JSON, "conformance classes"),
            _link(f"{api}/collections", "data", JSON, "the collections (layers)"),
        ],
    }


def conformance(api: str, args, fmt: str) -> dict:
    return {"conformsTo": CONFORMANCE, "links": self_links(f"{api}/conformance", args, fmt)}


def collection_doc(prep: Prepared, api: str, root: str, download_formats: Mapping[str, str]) -> dict:
    layer = prep.layer
    url = f"{api}/collections/{layer.id}"
    links = [
        _link(url, "self", JSON, "this collection"),
        _link(f"{url}?f=html", "alternate", HTML, "this collection as HTML"),
        _link(f"{url}/items", "items", GEOJSON, "the features"),
        _link(f"{url}/items?f=html", "items", HTML, "the features as HTML"),
    ]
    links += [_link(f"{root}/download/{layer.id}.{ext}", "enclosure", media, f"download as {ext}")
              for ext, media in download_formats.items() if not layer.synthetic]
    doc = {
        "id": layer.id, "title": f"{layer.title_en} · {layer.title_zh}",
        "description": layer.description_en, "itemType": "feature",
        "crs": [CRS84], "storageCrs": CRS84,
        "links": links,
        "geometryType": layer.geometry_type,
        "numberOfFeatures": len(prep),
        "fields": [f.describe() for f in layer.fields],
        "filters": {name: layer.field(target).type for name, target in filter_names(layer).items()},
        "provenance": prep.provenance,
    }
    if prep.extent:
        doc["extent"] = {"spatial": {"bbox": [prep.extent], "crs": CRS84}}
    if layer.synthetic:  # generated benchmark data: say so wherever the collection is described
        doc["synthetic"] = True
        doc["keywords"] = ["synthetic", "合成数据", "benchmark"]
    return doc


def collections(store, api: str, root: str, args, fmt: str, download_formats) -> dict:
    return {
        "links": self_links(f"{api}/collections", args, fmt),
        "collections": [collection_doc(prepared(store, lid), api, root, download_formats)
                        for lid in [*LAYERS, *store.synthetic_ids()]],
        "provenance": provenance(store.meta),
    }


def items(prep: Prepared, query: Query, api: str) -> dict:
    if prep.remote:  # the database selects the page (server.pgitems)
        features, number = prep.select_page(query)  # type: ignore[attr-defined]
        return items_doc(prep.layer, features, number, query, api, prep.built_at, prep.provenance)
    matched = select(prep, query)
    chosen = page(matched, query)
    return items_doc(prep.layer, page_features(prep, chosen), int(len(matched)), query, api,
                     prep.built_at, prep.provenance)


def items_doc(layer: Layer, features: list, matched: int, query: Query, api: str, built_at: str,
              prov: dict) -> dict:
    """The FeatureCollection of one page, whichever backend selected it (`server.pgitems`)."""
    url = f"{api}/collections/{layer.id}/items"
    links = self_links(url, query.args, query.fmt, GEOJSON)
    t = GEOJSON if query.fmt == "json" else HTML
    if query.limit is not None and query.offset + len(features) < matched:
        links.append(_link(url + _with(query.args, offset=query.offset + len(features),
                                       limit=query.limit), "next", t, "next page"))
    if query.offset > 0:
        prev = max(0, query.offset - (query.limit or query.offset))
        links.append(_link(url + _with(query.args, offset=prev, limit=query.limit), "prev", t,
                           "previous page"))
    links.append(_link(f"{api}/collections/{layer.id}", "collection", JSON, "the collection"))
    return {
        "type": "FeatureCollection",
        "features": features,
        "numberMatched": matched, "numberReturned": len(features),
        # the build's time, not the request's: the body (and its strong ETag) depend only on
        # the build and the request, so it can be cached and revalidated
        "timeStamp": built_at or None,
        "links": links,
        "provenance": prov,
    }


def page_features(prep: Prepared, chosen) -> list[dict]:
    """The Feature dicts of a page: looked up (made once per build), or made in bulk now."""
    if isinstance(prep.features, LazyFeatures):
        return prep.features.take(chosen)
    return [prep.features[i] for i in chosen]


def feature(prep: Prepared, fid: str, api: str, args, fmt: str) -> dict:
    if prep.remote:
        found = prep.select_one(fid)  # type: ignore[attr-defined]
    else:
        i = prep.index.get(fid)
        found = None if i is None else prep.features[i]
    if found is None:
        raise not_found(f"no feature {fid[:80]!r} in collection {prep.layer.id!r}")
    url = f"{api}/collections/{prep.layer.id}"
    return {**found,
            "links": self_links(f"{url}/items/{fid}", args, fmt, GEOJSON) + [
                _link(url, "collection", JSON, "the collection")],
            "provenance": prep.provenance}


def check_args(args: Mapping[str, Sequence[str]], allowed: Sequence[str] = ("f",)) -> str:
    """For the documents that take only `f`: the format, or ApiError(400)."""
    unknown = sorted(k for k in args if k not in allowed)
    if unknown:
        raise bad(f"unknown parameter {unknown[0][:60]!r}; allowed: {', '.join(allowed)}")
    text = _single(args, "f")
    fmt = "json" if text is None else text.strip().lower()
    if fmt not in ("json", "html"):
        raise bad("f must be json or html")
    return fmt


# ---------------------------------------------------------------------------------------------
# OpenAPI


def _schema(ftype: str) -> dict:
    return {"int": {"type": "integer"}, "float": {"type": "number"},
            "bool": {"type": "boolean"}}.get(ftype, {"type": "string"})


def _param(name: str, where: str, schema: dict, description: str, required: bool = False,
           **extra) -> dict:
    return {"name": name, "in": where, "required": required, "description": description,
            "schema": schema, **extra}


def openapi(api: str, default_limit: int, max_limit: int, extra: Iterable[Layer] = ()) -> dict:
    """The API definition; `extra`: the synthetic layers the loaded file has."""
    f = _param("f", "query", {"type": "string", "enum": ["json", "html"], "default": "json"},
               "The format of the answer: json (default) or html.", style="form", explode=False)
    error = {"description": "A bad request or an unknown resource",
             "content": {JSON: {"schema": {"$ref": "#/components/schemas/error"}}}}
    ok_json = {"description": "OK", "content": {JSON: {"schema": {"type": "object"}},
                                                  HTML: {"schema": {"type": "string"}}}}
    ok_geo = {"description": "OK", "content": {GEOJSON: {"schema": {"type": "object"}},
                                                 HTML: {"schema": {"type": "string"}}}}

    def doc(summary, op, params=(), ok=ok_json):
        return {"get": {"summary": summary, "operationId": op, "parameters": [f, *params],
                        "responses": {"200": ok, "400": error, "404": error}}}

    paths = {
        "/": doc("Landing page", "getLandingPage"),
        "/conformance": doc("Conformance classes", "getConformance"),
        "/collections": doc("The collections (layers)", "getCollections"),
        "/openapi": doc("This API definition", "getOpenAPI"),
    }
    for layer in [*LAYERS.values(), *extra]:
        url = f"/collections/{layer.id}"
        paths[url] = doc(f"The collection {layer.id} ({layer.title_en})", f"describe_{layer.id}")
        params = [
            _param("bbox", "query", {"type": "array", "minItems": 4, "maxItems": 6,
                                     "items": {"type": "number"}},
                   "Only features that intersect minlon,minlat,maxlon,maxlat (CRS84).",
                   style="form", explode=False),
            _param("bbox-crs", "query", {"type": "string", "enum": [CRS84]},
                   "The CRS of bbox; only CRS84 is supported."),
            _param("limit", "query", {"type": "integer", "minimum": 1, "maximum": max_limit,
                                      "default": default_limit},
                   f"Features per page (default {default_limit}; larger values are clamped to "
                   f"{max_limit}).", style="form", explode=False),
            _param("offset", "query", {"type": "integer", "minimum": 0, "default": 0},
                   "Features to skip (paging; follow the `next` link)."),
            _param("q", "query", {"type": "string"},
                   "Text search, case-insensitive, over names (Chinese, English, pinyin) and "
                   "aliases; several words must all match."),
        ]
        for name, target in filter_names(layer).items():
            fld = layer.field(target)
            what = (f"Features whose list `{target}` contains the value" if fld.type == "json"
                    else f"Features whose `{target}` equals the value")
            alias = f" (`{name}` is an alias of `{target}`)" if name != target else ""
            params.append(_param(name, "query", _schema("str" if fld.type == "json" else fld.type),
                                 f"{what}; several values separated by commas match any{alias}. "
                                 f"{fld.title_en} / {fld.title_zh}.", style="form", explode=False))
        paths[f"{url}/items"] = doc(f"Features of {layer.id}", f"getFeatures_{layer.id}", params,
                                    ok_geo)
        fid = _param("featureId", "path", _schema("int" if layer.field_names[0] == "adcode"
                                                  else "str"),
                     "The feature id (`adcode` for administrative units, `id` otherwise).", True)
        paths[f"{url}/items/{{featureId}}"] = doc(f"One feature of {layer.id}",
                                                  f"getFeature_{layer.id}", [fid], ok_geo)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Hubei Cluster Atlas API", "version": "1.0.0",
                 "description": "OGC API – Features (Part 1, Core) over the atlas layers. JSON by "
                                "default, HTML with f=html. Errors answer {code, description}."},
        "servers": [{"url": api}],
        "paths": paths,
        "components": {"schemas": {"error": {
            "type": "object", "required": ["code", "description"],
            "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}}},
    }


# ---------------------------------------------------------------------------------------------
# HTML (plain, escaped, no script)


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> bytes:
    return (f'<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8"><title>{_e(title)}'
            '</title><meta name="viewport" content="width=device-width, initial-scale=1">'
            "<style>body{font:14px/1.45 system-ui,'Noto Sans CJK SC',sans-serif;margin:1.5em;"
            "max-width:70em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:.2em .5em;text-align:left;vertical-align:top}pre{white-space:pre-wrap}"
            f"</style></head><body><h1>{_e(title)}</h1>{body}</body></html>").encode()


def _links_html(links: list) -> str:
    items = "".join(f'<li><a href="{_e(link["href"])}">{_e(link.get("title") or link["href"])}</a> '
                    f'<small>({_e(link["rel"])}, {_e(link["type"])})</small></li>' for link in links)
    return f"<ul>{items}</ul>"


def _value_html(value) -> str:
    if isinstance(value, list | dict):
        return f"<pre>{_e(json.dumps(value, ensure_ascii=False, indent=1))}</pre>"
    return _e(value)


def _provenance_html(prov: dict | None) -> str:
    if not prov:
        return ""
    docs = "".join(f"<li>{_e(d.get('code'))} {_e(d.get('title_zh'))} — {_e(d.get('title_en'))} "
                   f"({_e(d.get('year'))})</li>" for d in prov.get("documents", []))
    return (f"<h2>Provenance</h2><p>Built {_e(prov.get('built_at'))}; boundaries "
            f"{_e((prov.get('boundaries') or {}).get('package'))} "
            f"{_e((prov.get('boundaries') or {}).get('version'))}.</p><ul>{docs}</ul>")


def to_html(kind: str, doc: dict) -> bytes:
    if kind == "collections":
        rows = "".join(f'<tr><td><a href="{_e(c["links"][1]["href"])}">{_e(c["id"])}</a></td>'
                       f'<td>{_e(c["title"])}</td><td>{_e(c["numberOfFeatures"])}</td></tr>'
                       for c in doc["collections"])
        body = (f"<table><tr><th>id</th><th>title</th><th>features</th></tr>{rows}</table>"
                + _links_html(doc["links"]) + _provenance_html(doc.get("provenance")))
        return _page("Collections · 图层", body)
    if kind == "collection":
        fields = "".join(f"<tr><td>{_e(f['name'])}</td><td>{_e(f['type'])}</td><td>"
                         f"{'filter' if f['filterable'] else ''}</td><td>{_e(f['title_en'])} / "
                         f"{_e(f['title_zh'])}</td></tr>" for f in doc["fields"])
        body = (f"<p>{_e(doc['description'])}</p><p>{_e(doc['numberOfFeatures'])} features.</p>"
                + _links_html(doc["links"]) + f"<h2>Fields</h2><table>{fields}</table>"
                + _provenance_html(doc.get("provenance")))
        return _page(doc["title"], body)
    if kind == "items":
        table: list[str] = []
        for feat in doc["features"]:
            p = feat["properties"]
            href = next(link["href"] for link in doc["links"] if link["rel"] == "collection")
            table.append(f'<tr><td><a href="{_e(href)}/items/{_e(feat["id"])}?f=html">'
                        f'{_e(feat["id"])}</a></td><td>{_e(p.get("name_zh"))}</td>'
                        f'<td>{_e(p.get("name_en"))}</td></tr>')
        body = (f"<p>{doc['numberReturned']} of {doc['numberMatched']} features.</p>"
                f"<table><tr><th>id</th><th>名称</th><th>name</th></tr>{''.join(table)}</table>"
                + _links_html(doc["links"]) + _provenance_html(doc.get("provenance")))
        return _page("Features · 要素", body)
    if kind == "feature":
        props = "".join(f"<tr><th>{_e(k)}</th><td>{_value_html(v)}</td></tr>"
                        for k, v in doc["properties"].items())
        body = (f"<table>{props}</table>" + _links_html(doc["links"])
                + _provenance_html(doc.get("provenance")))
        return _page(str(doc["properties"].get("name_zh") or doc["id"]), body)
    if kind == "openapi":
        table = []
        for path, item in doc["paths"].items():
            op = item["get"]
            params = ", ".join(_e(p["name"]) for p in op["parameters"])
            table.append(f"<tr><td><code>{_e(path)}</code></td><td>{_e(op['summary'])}</td>"
                        f"<td>{params}</td></tr>")
        body = (f"<p>{_e(doc['info']['description'])}</p><p>Server: {_e(doc['servers'][0]['url'])}"
                "</p><table><tr><th>path</th><th>what</th><th>parameters</th></tr>"
                + "".join(table) + "</table>")
        return _page(doc["info"]["title"], body)
    body = ""
    if "conformsTo" in doc:
        body += "<ul>" + "".join(f"<li>{_e(c)}</li>" for c in doc["conformsTo"]) + "</ul>"
    if "description" in doc:
        body += f"<p>{_e(doc['description'])}</p>"
    body += _links_html(doc.get("links", []))
    return _page(doc.get("title") or kind.title(), body)


def render(kind: str, doc: dict, fmt: str, json_type: str = JSON) -> tuple[int, dict, bytes]:
    """(status, headers, body) of a document in the asked format."""
    if fmt == "html":
        return 200, {"Content-Type": "text/html; charset=utf-8"}, to_html(kind, doc)
    return 200, {"Content-Type": json_type}, dumps(doc)


def error(exc: ApiError) -> tuple[int, dict, bytes]:
    return exc.status, {"Content-Type": JSON}, dumps(exc.body())
