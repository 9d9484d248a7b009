"""The PostGIS backend's read side: the current build of a PostgreSQL database.

Readers ask `atlas.current` which build is in place (at most once per `poll_seconds` per
process, so a request costs no round trip; a new build is visible within that time), and
load that build's schema into the same frames the GeoPackage gives (`atlas_columns` holds
each column's dtype). Reads go to the streaming replicas first, in turn, and to the
primary when every replica fails; a failed server is left alone for `RETRY_SECONDS`, and
`health()` reports each one for /healthz. Connections come from one psycopg pool per
server and process (made after gunicorn forks, never inherited).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Hashable, Sequence

import geopandas as gpd
import pandas as pd
import shapely

from layers.postgis import CONTROL, DatabaseError, connect, json_columns, one_line, redact
from layers.registry import LAYERS, SIMPLIFY_TIERS, SYNTH_LAYERS, any_layer
from server.errors import bad
from server.store import pgtiles
from server.store.pgitems import RemoteLayer
from server.store.provider import Provider
from server.store.snapshot import AtlasUnavailable, BuildStore, _decode, _Snapshot

log = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # how long a server that failed is skipped
POOL_TIMEOUT = 3.0  # seconds to wait for a connection before the next server is tried


class Endpoint:
    """One PostgreSQL server (the primary or a replica) with its connection pool."""

    def __init__(self, url: str, role: str):
        self.url, self.role = url, role
        self.down_until = 0.0
        self.error: str | None = None
        self._pool = None
        self._pid = 0
        self._lock = threading.Lock()

    def _get_pool(self):
        from psycopg_pool import ConnectionPool

        with self._lock:
            if self._pool is None or self._pid != os.getpid():  # a pool never crosses a fork
                self._pool = ConnectionPool(self.url, min_size=1, max_size=8, open=True,
                                            timeout=POOL_TIMEOUT,
                                            # short queries: JIT compiling costs more than it saves
                                            kwargs={"connect_timeout": 3, "options": "-c jit=off"},
                                            name=f"atlas-{self.role}")
                self._pid = os.getpid()
            return self._pool

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def run(self, work):
        """`work(connection)` on a pooled connection; a failure marks the server down."""
        try:
            with self._get_pool().connection() as con:
                result = work(con)
        except Exception as exc:
            import psycopg
            from psycopg_pool import PoolTimeout

            if isinstance(exc, psycopg.OperationalError | PoolTimeout):
                self.down_until = time.monotonic() + RETRY_SECONDS
                self.error = one_line(exc)
                log.warning("%s %s unavailable: %s", self.role, redact(self.url), self.error)
            raise
        self.error = None
        return result

    def describe(self) -> dict:
        return {"url": redact(self.url), "role": self.role,
                "status": "ok" if self.error is None else "down",
                **({"error": self.error} if self.error else {})}

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None


def _current(con) -> tuple[int, str] | None:
    import psycopg

    try:
        row = con.execute(f"SELECT build_id, schema FROM {CONTROL}.current").fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return (row[0], row[1]) if row else None


def _cast(column: pd.Series, dtype: str) -> pd.Series:
    if dtype == "object":
        return column.astype(object).where(column.notna(), None)
    if dtype.startswith(("float", "int", "Int", "bool", "datetime")):
        return column.astype(dtype)
    return column


def read_layer(con, schema: str, table: str, dtypes: dict[str, str]) -> gpd.GeoDataFrame:
    """One table of a build, as the GeoPackage reader gives it (column order and dtypes)."""
    json_cols = json_columns(table)
    columns = list(dtypes)
    select = ", ".join([f'"{c}"::text' if c in json_cols else f'"{c}"' for c in columns]
                       + ["ST_AsBinary(geom)"])
    rows = con.execute(f'SELECT {select} FROM {schema}."{table}" ORDER BY fid').fetchall()
    frame = pd.DataFrame(rows, columns=[*columns, "__wkb"])  # _cast gives each its dtype
    for c in columns:
        frame[c] = _cast(frame[c], dtypes[c])
    geometry = shapely.from_wkb([bytes(b) if b is not None else None for b in frame.pop("__wkb")])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def read_build(con, schema: str) -> tuple[dict[str, gpd.GeoDataFrame], dict, dict, dict, dict]:
    """layers, meta, documents, search and the layers left in the database (id -> count) of
    the build in `schema` (one repeatable-read view)."""
    dtypes: dict[str, dict[str, str]] = {}
    for tbl, col, dtype in con.execute(f"SELECT tbl, col, dtype FROM {schema}.atlas_columns "
                                       "ORDER BY tbl, ctid").fetchall():
        dtypes.setdefault(tbl, {})[col] = dtype
    layers: dict[str, gpd.GeoDataFrame] = {}
    for layer_id in LAYERS:
        for name in [layer_id] + [f"{layer_id}__{t}" for t in SIMPLIFY_TIERS]:
            if name in dtypes:
                layers[name] = _decode(read_layer(con, schema, name, dtypes[name]), layer_id)
    missing = [lid for lid in LAYERS if lid not in layers]
    if missing:
        raise AtlasUnavailable(f"build {schema} lacks layers {missing}: rebuild with `atlas build --db`")
    # the synthetic layers stay in the database: server.pgitems answers their items and
    # server.pgtiles their tiles, so a million points cost no server process memory
    counts = con.execute(f"SELECT counts FROM {CONTROL}.builds WHERE schema = %s", (schema,)).fetchone()
    remote = {lid: int((counts[0] or {}).get(lid, 0)) for lid in SYNTH_LAYERS if lid in dtypes}
    meta = {k: json.loads(v) for k, v in con.execute(f"SELECT key, value FROM {schema}.atlas_meta")}
    documents = {code: {"doc": doc, "lines": text.split("\n")} for code, doc, text in
                 con.execute(f"SELECT code, doc, text FROM {schema}.atlas_documents")}
    search: dict[str, dict[str, list[str]]] = {}
    for layer, fid, terms in con.execute(f"SELECT layer, fid, terms FROM {schema}.atlas_search"):
        search.setdefault(layer, {})[fid] = json.loads(terms)
    return layers, meta, documents, search, remote


class PostgisStore(BuildStore):
    def __init__(self, url: str, replicas: Sequence[str] = (), poll_seconds: float = 1.0):
        super().__init__()
        self.primary = Endpoint(url, "primary")
        self.replicas = [Endpoint(u, "replica") for u in replicas]
        self.poll_seconds = poll_seconds
        self.source = redact(url)
        self.storage_key = url
        self._turn = itertools.count()
        self._checked: tuple[float, Hashable | None] | None = None
        self._remote: dict[str, tuple[_Snapshot, RemoteLayer]] = {}
        self._remote_lock = threading.Lock()

    def _readers(self) -> list[Endpoint]:
        """Usable replicas, starting with the next in turn, then the primary (always last,
        and tried even when marked down: there is nothing after it)."""
        n = len(self.replicas)
        start = next(self._turn) % n if n else 0
        ordered = self.replicas[start:] + self.replicas[:start]
        return [r for r in ordered if r.usable()] + [self.primary]

    def _on_reader(self, work):
        """`work(connection)` on the first reader that can do it: a server that is down is
        skipped (and marked), and so is a replica that has not replayed the build yet."""
        import psycopg
        from psycopg_pool import PoolTimeout

        lagging = (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName)
        last: Exception | None = None
        for endpoint in self._readers():
            try:
                return endpoint.run(work)
            except (psycopg.OperationalError, PoolTimeout) as exc:
                last = exc
            except lagging as exc:
                if endpoint is self.primary:
                    raise
                last = exc
        raise AtlasUnavailable(f"no database server answers ({self.source}): {one_line(last)}")

    def _stamp(self) -> Hashable | None:
        now = time.monotonic()
        if self._checked is not None and now - self._checked[0] < self.poll_seconds:
            return self._checked[1]
        try:
            stamp = self._on_reader(_current)
        except AtlasUnavailable:
            if self._snapshot is None:
                raise
            stamp = self._snapshot.stamp  # the database is away: keep serving what is loaded
        self._checked = (now, stamp)
        return stamp

    def _read(self, stamp: Hashable) -> _Snapshot:
        schema: str = stamp[1]  # type: ignore[index]

        def work(con):
            with con.transaction():
                con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                return read_build(con, schema)
        layers, meta, documents, search, remote = self._on_reader(work)
        return _Snapshot(stamp, layers, meta, documents, search, remote)

    def provider(self, layer_id: str) -> Provider:
        """A large layer is answered by SQL (`pgitems.RemoteLayer`, one per build and
        process); every other layer is loaded in memory as on the GeoPackage."""
        snap = self.snapshot()
        if layer_id not in snap.remote:
            return self.in_memory(layer_id)
        with self._remote_lock:
            made = self._remote.get(layer_id)
            if made is None or made[0] is not snap:
                layer = RemoteLayer(self.query, SYNTH_LAYERS[layer_id], snap.stamp[1],  # type: ignore[index]
                                    snap.remote[layer_id], snap.meta)
                made = self._remote[layer_id] = (snap, layer)
            return made[1]

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Rows of a read-only query on a reader (tiles, large layers)."""
        return self._on_reader(lambda con: con.execute(sql, params).fetchall())

    def tile(self, layer_id: str, z: int, x: int, y: int, datum: str = "wgs84") -> bytes:
        """WGS84 tiles by ST_AsMVT from the tables of the build this request is pinned to;
        GCJ-02 tiles are shifted in this process, which holds no large layer to shift."""
        stamp: tuple[int, str] = self.snapshot().stamp  # type: ignore[assignment]
        layer = any_layer(layer_id)
        assert layer is not None
        if datum == "wgs84":
            return pgtiles.tile(self.query, layer, stamp[1], z, x, y)
        if layer_id in self.snapshot().remote:
            raise bad(f"collection {layer_id!r} is served in WGS84 only on this server")
        return super().tile(layer_id, z, x, y, datum)

    def health(self) -> dict:
        for replica in self.replicas:  # report what is true now, not the last failure
            if replica.usable():
                with contextlib.suppress(Exception):  # recorded on the endpoint
                    replica.run(lambda con: con.execute("SELECT 1").fetchone())
        return {"backend": "postgis", "servers": [self.primary.describe()]
                + [r.describe() for r in self.replicas]}

    def close(self) -> None:
        for endpoint in [self.primary, *self.replicas]:
            endpoint.close()


def check_database(url: str) -> None:
    """Fail fast with one line when the database cannot serve: unreachable, or no build."""
    with connect(url) as con:
        if _current(con) is None:
            raise DatabaseError(f"{redact(url)} holds no atlas build: run `atlas build --db URL`")
