"""Read access to the built atlas, framework-free, from either storage backend.

`server.store.open_store` gives the embedded GeoPackage (`AtlasStore`, the default) or
PostgreSQL/PostGIS (`server.store.postgis.PostgisStore`). Both keep the decoded layers of the
current build in memory and re-read when a new build is in place (the GeoPackage is replaced
by a rename; the database switches its current build in one transaction), so a reader never
sees half a build. If a new build cannot be read, the layers already loaded keep serving, and that
build is not tried again until it is replaced once more.

Within one request (`begin_request` … `end_request`, which the app calls around each) every
read sees the same build: the first snapshot taken is pinned to the thread, so an answer's
body, headers and cache key never mix the build before a replacement with the one after.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from layers.build import DOCUMENTS_TABLE, META_TABLE, SEARCH_TABLE
from layers.registry import LAYERS, SIMPLIFY_TIERS, SYNTH_LAYERS, Layer, any_layer, get_layer
from server.errors import not_found
from server.store import memory, mvt
from server.store.provider import Provider

log = logging.getLogger(__name__)


class AtlasUnavailable(RuntimeError):
    """No built atlas can be read; the message tells the user how to build one."""


@dataclass
class _Snapshot:
    stamp: Hashable
    layers: dict[str, gpd.GeoDataFrame]
    meta: dict
    documents: dict[str, dict]
    search: dict[str, dict[str, list[str]]]
    # layers left in the database and queried there (PostGIS: the synthetic ones): id -> count
    remote: dict[str, int] = field(default_factory=dict)


def _decode(frame: gpd.GeoDataFrame, layer_id: str) -> gpd.GeoDataFrame:
    layer = any_layer(layer_id)
    assert layer is not None
    for f in layer.fields:
        if f.type == "json" and f.name in frame:
            frame[f.name] = [json.loads(v) if isinstance(v, str) else None for v in frame[f.name]]
    return frame


def read_meta(path: Path) -> dict:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {k: json.loads(v) for k, v in con.execute(f"SELECT key, value FROM {META_TABLE}")}
    finally:
        con.close()


def read_atlas(path: Path) -> tuple[dict[str, gpd.GeoDataFrame], dict]:
    tables = set(pyogrio.list_layers(path)[:, 0])
    layers = {}
    for layer_id in LAYERS:
        for name in [layer_id] + [f"{layer_id}__{t}" for t in SIMPLIFY_TIERS]:
            if name in tables:
                layers[name] = _decode(pyogrio.read_dataframe(path, layer=name), layer_id)
    missing = [lid for lid in LAYERS if lid not in layers]
    if missing:
        raise AtlasUnavailable(f"{path.name} lacks layers {missing}: rebuild with `atlas build`")
    layers.update(read_synthetic(path, tables))
    return layers, read_meta(path)


def read_synthetic(path: Path, tables: set[str]) -> dict[str, gpd.GeoDataFrame]:
    """The synthetic layers (and their tiers) of a file `atlas synth` wrote; none in a normal
    build. Text columns with few distinct values (sector, size, zone …) share one string
    object per value: at a million rows that is about 50 MB less per column and process."""
    layers = {}
    for layer_id in SYNTH_LAYERS:
        for name in [layer_id] + [f"{layer_id}__{t}" for t in SIMPLIFY_TIERS]:
            if name not in tables:
                continue
            frame = _decode(pyogrio.read_dataframe(path, layer=name), layer_id)
            for f in SYNTH_LAYERS[layer_id].fields:
                if f.type == "str" and f.name in frame and len(frame) > 10_000:
                    frame[f.name] = _shared_strings(frame[f.name].to_numpy())
            layers[name] = frame
    return layers


def _shared_strings(values: np.ndarray) -> np.ndarray:
    """The same texts as an object array, each distinct text one object (None for missing)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) > len(values) // 4:  # mostly distinct (ids): nothing to share
        return values
    table = np.array(list(uniques) + [None], dtype=object)
    return table[codes]  # code -1 (missing) takes the last entry, None


def _table_rows(path: Path, sql: str) -> list[tuple]:
    """The rows of one of the build's own tables; none when an older build lacks the table."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def read_documents(path: Path) -> dict[str, dict]:
    """code -> {doc, lines}: the documents' text as the build stored it."""
    rows = _table_rows(path, f"SELECT code, doc, text FROM {DOCUMENTS_TABLE}")
    return {code: {"doc": doc, "lines": text.split("\n")} for code, doc, text in rows}


def read_search(path: Path) -> dict[str, dict[str, list[str]]]:
    """layer -> feature id (as text) -> search terms, as the build made them."""
    rows = _table_rows(path, f"SELECT layer, fid, terms FROM {SEARCH_TABLE}")
    out: dict[str, dict[str, list[str]]] = {}
    for layer, fid, terms in rows:
        out.setdefault(layer, {})[fid] = json.loads(terms)
    return out


class BuildStore:
    """What every backend shares: the loaded build kept in memory, reloaded when the backend
    reports a new one (`_stamp`), the last good build kept when a new one cannot be read,
    and one build pinned per request. A backend supplies `_stamp` and `_read`."""

    source = "the atlas"  # how messages name where the build lives
    storage_key = ""  # which storage this is, for cache keys shared between apps in one process

    def __init__(self) -> None:
        self._snapshot: _Snapshot | None = None
        self._failed: Hashable | None = None  # a replacement that could not be read
        self._failure = ""  # why it could not
        self._lock = threading.Lock()
        self._local = threading.local()  # the snapshot pinned for the current request

    def _stamp(self) -> Hashable | None:
        """What identifies the build now in place, or None when there is none."""
        raise NotImplementedError

    def _read(self, stamp: Hashable) -> _Snapshot:
        raise NotImplementedError

    def begin_request(self) -> None:
        self._local.active, self._local.pinned = True, None

    def end_request(self) -> None:
        self._local.active, self._local.pinned = False, None

    def _still_serving(self, stamp: Hashable | None) -> _Snapshot | None:
        """The loaded build, if it answers for `stamp`: the build is unchanged, gone, or a
        replacement that already failed to load."""
        current = self._snapshot
        if current is not None and (stamp is None or stamp in (current.stamp, self._failed)):
            return current
        return None

    def serving_stamp(self) -> Hashable | None:
        """The stamp of the build a request would be answered from now, if it is loaded (one
        stat or, on PostGIS, at most one query per poll interval; no read); None when a new
        build waits to be read."""
        current = self._still_serving(self._stamp())
        return current.stamp if current is not None else None

    def snapshot(self) -> _Snapshot:
        pinned = getattr(self._local, "pinned", None)
        if pinned is not None:
            return pinned
        snap = self._current()
        if getattr(self._local, "active", False):
            self._local.pinned = snap
        return snap

    def _current(self) -> _Snapshot:
        stamp = self._stamp()
        current = self._still_serving(stamp)
        if current is not None:
            return current
        if stamp is None:
            raise AtlasUnavailable(f"no built atlas in {self.source}: run `atlas build`")
        with self._lock:
            current = self._still_serving(stamp)  # another thread may have read it meanwhile
            if current is not None:
                return current
            try:
                snap = self._read(stamp)
            except Exception as exc:  # a broken build must not take down what is serving
                if self._snapshot is not None:
                    self._failed = stamp  # not read again until the build changes once more
                    self._failure = f"{exc}"[:300]
                    log.error("cannot reload %s, keeping the loaded build: %s", self.source, exc)
                    return self._snapshot
                if isinstance(exc, AtlasUnavailable):
                    raise
                raise AtlasUnavailable(f"cannot read {self.source}: {exc}") from exc
            self._snapshot = snap
            return snap

    def problem(self) -> str | None:
        """Why what is served is not the build in place, or None: the build in place could not
        be read (an older one is served), or it has gone. Health checks tell a bad deploy so."""
        stamp = self._stamp()
        current = self._snapshot
        if current is None:
            return None  # nothing loaded yet: the next request reads it, or answers 503
        if stamp is None:
            return f"no build in {self.source}: serving the one loaded before it went"
        if stamp != current.stamp and stamp == self._failed:
            return f"the build in {self.source} cannot be read ({self._failure}): serving the previous one"
        return None

    def health(self) -> dict:
        """What /healthz reports of the storage besides the build."""
        return {"backend": "geopackage"}

    def layer(self, layer_id: str, tier: str | None = None) -> gpd.GeoDataFrame:
        name = f"{layer_id}__{tier}" if tier else layer_id
        layers = self.snapshot().layers
        return layers.get(name, layers[layer_id])

    @property
    def meta(self) -> dict:
        return self.snapshot().meta

    def document(self, code: str) -> dict | None:
        return self.snapshot().documents.get(code)

    def search_terms(self, layer_id: str) -> dict[str, list[str]]:
        """Feature id (as text) -> the terms the build made for it."""
        return self.snapshot().search.get(layer_id, {})

    def counts(self) -> dict[str, int]:
        layers = self.snapshot().layers
        return {lid: len(layers[lid]) for lid in LAYERS}

    def synthetic_ids(self) -> list[str]:
        """The synthetic layers the loaded file has (`atlas synth`); none in a normal build."""
        snap = self.snapshot()
        return [lid for lid in SYNTH_LAYERS if lid in snap.layers or lid in snap.remote]

    # The Provider seam (server/store/provider.py): what every surface reads through.

    def served_layer(self, layer_id: str) -> Layer:
        """A collection of the API and the tiles: a registered layer, or a synthetic one the
        loaded file has (`atlas synth`); the downloads and the map take only registered ones.
        An unknown id is a 404."""
        if layer_id in SYNTH_LAYERS and layer_id in self.synthetic_ids():
            return SYNTH_LAYERS[layer_id]
        layer = get_layer(layer_id)
        if layer is None:
            raise not_found(f"no collection {layer_id!r}; see /api/collections")
        return layer

    def provider(self, layer_id: str) -> Provider:
        """The layer of the build in use, answering items, one feature, count and extent."""
        return self.in_memory(layer_id)

    def in_memory(self, layer_id: str) -> memory.Prepared:
        """The layer prepared in this process (every registered layer on every backend)."""
        return memory.prepared(self.snapshot(), layer_id)

    def tile(self, layer_id: str, z: int, x: int, y: int, datum: str = "wgs84") -> bytes:
        """The vector tile z/x/y of one layer (an empty body where it has no features),
        encoded in this process (server/store/mvt.py)."""
        return mvt.encode([mvt.tile_layer(self, layer_id, datum)], z, x, y)


class AtlasStore(BuildStore):
    """The embedded backend: a built GeoPackage file, re-read when it is replaced (the
    build renames a complete file into place, so a reader never sees a half-written one)."""

    def __init__(self, path: Path):
        super().__init__()
        self.path = Path(path)
        self.source = self.path.name
        self.storage_key = str(self.path.resolve())

    def _stamp(self) -> tuple[float, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime, st.st_ino)

    def _read(self, stamp: Hashable) -> _Snapshot:
        layers, meta = read_atlas(self.path)
        return _Snapshot(stamp, layers, meta, read_documents(self.path), read_search(self.path))

