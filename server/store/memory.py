"""The in-memory backend of every layer: each layer of a build prepared once (`prepare`):
geometries rounded to 6 decimals and oriented the RFC 7946 way (exterior rings counter-clockwise)
and serialised once with GEOS, properties converted to JSON-native values, a search text per
feature (names, aliases, pinyin) and bounds, and an STRtree for `bbox` (`spatial`). Queries
are then index operations on those arrays. A large layer (the synthetic national layers of
`atlas synth`, or any above LARGE_ROWS features) is prepared in vectorised steps only and
makes each feature when asked (`prepare_large`), so a million points load in seconds and a
page of 100 costs what 100 features cost."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import orjson
import pandas as pd
import shapely

from layers import search
from layers.registry import Layer, any_layer
from server.store.query import DECIMALS, Query, cited_docs, native, provenance
from server.store.spatial import BoxIndex


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

    def __len__(self) -> int:
        return len(self.ids)

    # the Provider protocol (server/store/provider.py)
    def select_page(self, query: Query) -> tuple[list[dict], int]:
        matched = select(self, query)
        return page_features(self, page(matched, query)), int(len(matched))

    def select_one(self, fid: str) -> dict | None:
        i = self.index.get(fid)
        return None if i is None else self.features[i]


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
        columns[f.name] = [native(v, f.type) for v in raw]
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
            found = search.terms(*(columns.get(name, [None] * n)[i] for name in search.NAME_FIELDS))
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


def prepared(snap, layer_id: str) -> Prepared:
    """The prepared full-detail layer of a build snapshot held in memory (cached per build)."""
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


LARGE_ROWS = 50_000  # above this a registered layer is prepared the large way too


class NativeColumn(Sequence):
    """One field of a large layer: the loaded array; `[i]` is the JSON-native value."""

    def __init__(self, values: np.ndarray, ftype: str):
        self.values, self.ftype = values, ftype

    def __len__(self) -> int:
        return len(self.values)

    def __getitem__(self, i):  # type: ignore[override]  # one position, not a slice
        return native(self.values[i], self.ftype)

    def natives(self, idx) -> list:
        """The values at positions `idx`, JSON-native, as `[i]` makes them, in bulk."""
        values = self.values[np.asarray(idx, dtype=np.intp)]
        kind, ftype = values.dtype.kind, self.ftype
        if (ftype == "int" and kind in "iu") or (ftype == "bool" and kind == "b"):
            return values.tolist()
        if ftype == "float" and kind == "f":
            return [None if v != v else v for v in values.tolist()]
        if ftype == "str" and kind == "O":
            return [v if type(v) is str else native(v, ftype) for v in values]
        return [native(v, ftype) for v in values]

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
        self._named = any(name in columns for name in search.NAME_FIELDS)
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
                cols = [self._columns.get(name) for name in search.NAME_FIELDS]
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
        ids = np.array([native(v, ftype) for v in values], dtype=object)
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


def page_features(prep: Prepared, chosen) -> list[dict]:
    """The Feature dicts of a page: looked up (made once per build), or made in bulk now."""
    if isinstance(prep.features, LazyFeatures):
        return prep.features.take(chosen)
    return [prep.features[i] for i in chosen]
