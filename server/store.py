"""Read access to the built atlas.gpkg, framework-free.

The store reads the file once and keeps the decoded layers in memory; it re-reads when
the file is replaced (the build renames a complete file into place, so a reader never
sees a half-written one). If a replacement cannot be read, the layers already loaded
keep serving, and that file is not tried again until it is replaced once more.

Within one request (`begin_request` … `end_request`, which the app calls around each) every
read sees the same build: the first snapshot taken is pinned to the thread, so an answer's
body, headers and cache key never mix the build before a replacement with the one after.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pyogrio

from layers.build import DOCUMENTS_TABLE, META_TABLE, SEARCH_TABLE
from layers.registry import LAYERS, SIMPLIFY_TIERS

log = logging.getLogger(__name__)


class AtlasUnavailable(RuntimeError):
    """No built atlas can be read; the message tells the user how to build one."""


@dataclass
class _Snapshot:
    stamp: tuple[float, int]
    layers: dict[str, gpd.GeoDataFrame]
    meta: dict
    documents: dict[str, dict]
    search: dict[str, dict[str, list[str]]]


def _decode(frame: gpd.GeoDataFrame, layer_id: str) -> gpd.GeoDataFrame:
    for f in LAYERS[layer_id].fields:
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
    return layers, read_meta(path)


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


class AtlasStore:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._snapshot: _Snapshot | None = None
        self._failed: tuple[float, int] | None = None  # a replacement that could not be read
        self._lock = threading.Lock()
        self._local = threading.local()  # the snapshot pinned for the current request

    def begin_request(self) -> None:
        self._local.active, self._local.pinned = True, None

    def end_request(self) -> None:
        self._local.active, self._local.pinned = False, None

    def _stamp(self) -> tuple[float, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return (st.st_mtime, st.st_ino)

    def _still_serving(self, stamp: tuple[float, int] | None) -> _Snapshot | None:
        """The loaded build, if it answers for the file at `stamp`: the file is unchanged, gone,
        or a replacement that already failed to load."""
        current = self._snapshot
        if current is not None and (stamp is None or stamp in (current.stamp, self._failed)):
            return current
        return None

    def serving_stamp(self) -> tuple[float, int] | None:
        """The stamp of the build a request would be answered from now, if it is loaded (one
        stat, no read); None when a new file waits to be read."""
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
            raise AtlasUnavailable(f"no built atlas at {self.path.name}: run `atlas build`")
        with self._lock:
            if self._snapshot is not None and stamp in (self._snapshot.stamp, self._failed):
                return self._snapshot
            try:
                layers, meta = read_atlas(self.path)
                documents = read_documents(self.path)
                search = read_search(self.path)
            except Exception as exc:  # a broken file must not take down what is serving
                if self._snapshot is not None:
                    self._failed = stamp  # not read again until the file changes once more
                    log.error("cannot reload %s, keeping the loaded build: %s", self.path, exc)
                    return self._snapshot
                if isinstance(exc, AtlasUnavailable):
                    raise
                raise AtlasUnavailable(f"cannot read {self.path.name}: {exc}") from exc
            self._snapshot = _Snapshot(stamp, layers, meta, documents, search)
            return self._snapshot

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
