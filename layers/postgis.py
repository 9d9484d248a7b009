"""The PostGIS backend's build side: a complete GeoPackage build loaded into PostGIS.

Layout in the database:
- `atlas.builds` — one row per loaded build: its schema, status (`loading`, `ready`),
  the build's provenance (`atlas_meta` as JSON) and feature counts;
- `atlas.current` — one row naming the build readers use;
- `atlas_b<id>` — one schema per build, holding every table of the GeoPackage (each layer
  with `fid` in file order, its fields, `geom geometry(Geometry, 4326)` with a GiST index),
  `atlas_meta`, `atlas_documents`, `atlas_search`, and `atlas_columns` (each column's pandas
  dtype, so a reader rebuilds exactly the frames the GeoPackage gives).

A build is loaded beside the current one and switched in by one UPDATE in one transaction,
so readers see the old build or the new one, never half of one. A load that fails or is
interrupted leaves its schema `loading`; the next load drops it. The build before the
current one is kept (readers that pinned it mid-request finish on it); older ones are dropped.

JSON fields are stored as `json`, not `jsonb`: `json` keeps the text as written (key order
included), so both backends answer byte-identical documents.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers import search
from layers.registry import SYNTH_LAYERS

CONTROL = "atlas"  # the schema with the builds table and the current pointer
BUILD_SCHEMA = re.compile(r"atlas_b[0-9]+")
SIDE_TABLES = ("atlas_meta", "atlas_documents", "atlas_search")
TERMS_COLUMN = "atlas_terms"  # a large layer's search terms, one a line (`q` on PostGIS)
CONNECT_TIMEOUT = 5  # seconds; an unreachable server is an error, not a hang


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one line for users."""


def is_db_url(text: str | None) -> bool:
    return bool(text) and str(text).startswith(("postgresql://", "postgres://"))


def redact(url: str) -> str:
    """The URL without its password, for messages and /healthz."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@contextmanager
def connect(url: str, **kw) -> Iterator:
    """A psycopg connection; any failure to connect is a DatabaseError naming the server."""
    import psycopg

    try:
        con = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT, **kw)
    except (psycopg.Error, ValueError) as exc:  # ValueError: a malformed URL
        raise DatabaseError(f"cannot connect to {redact(url)}: {one_line(exc)}") from None
    try:
        yield con
    finally:
        con.close()


def ensure_control(con) -> None:
    """PostGIS and the control tables; a database without PostGIS is a one-line error."""
    import psycopg

    try:
        with con.transaction():
            con.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    except psycopg.Error as exc:
        raise DatabaseError(f"the database has no PostGIS and it cannot be added "
                            f"(CREATE EXTENSION postgis: {one_line(exc)})") from None
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(7311)")  # two first loads at once
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {CONTROL}")
        con.execute(f"""CREATE TABLE IF NOT EXISTS {CONTROL}.builds (
            id bigserial PRIMARY KEY, schema text UNIQUE, status text NOT NULL,
            built_at text, meta json, counts json,
            loaded_at timestamptz NOT NULL DEFAULT now())""")
        con.execute(f"""CREATE TABLE IF NOT EXISTS {CONTROL}.current (
            one boolean PRIMARY KEY DEFAULT true CHECK (one),
            build_id bigint NOT NULL REFERENCES {CONTROL}.builds (id), schema text NOT NULL)""")


def _pg_type(dtype, is_json: bool) -> str:
    if is_json:
        return "json"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return "double precision"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "timestamptz"
    return "text"


def json_columns(table: str) -> set[str]:
    from layers.registry import any_layer

    layer = any_layer(table.split("__")[0])
    return {f.name for f in layer.fields if f.type == "json"} if layer else set()


def _cell(value):
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def _copy_layer(con, schema: str, table: str, gpkg: Path) -> int:
    frame = pyogrio.read_dataframe(gpkg, layer=table)
    geom_name = frame.geometry.name
    columns = [c for c in frame.columns if c != geom_name]
    json_cols = json_columns(table)
    types = [_pg_type(frame[c].dtype, c in json_cols) for c in columns]
    defs = ", ".join(f'"{c}" {t}' for c, t in zip(columns, types))
    con.execute(f'CREATE TABLE {schema}."{table}" (fid bigint PRIMARY KEY, {defs}'
                f'{", " if defs else ""}geom geometry(Geometry, 4326))')
    con.cursor().executemany(f"INSERT INTO {schema}.atlas_columns VALUES (%s, %s, %s)",
                    [(table, c, str(frame[c].dtype)) for c in columns])
    wkb = shapely.to_wkb(shapely.set_srid(frame.geometry.values, 4326), hex=True, include_srid=True)
    names = ["fid", *[f'"{c}"' for c in columns], "geom"]
    values = [frame[c].to_numpy(dtype=object) for c in columns]
    terms = _search_terms(table, frame)
    if terms is not None:  # a large layer with names: `q` reads the same terms as in memory
        con.execute(f'ALTER TABLE {schema}."{table}" ADD COLUMN {TERMS_COLUMN} text')
        names.append(TERMS_COLUMN)
    with con.cursor().copy(f'COPY {schema}."{table}" ({", ".join(names)}) FROM STDIN') as copy:
        for i in range(len(frame)):
            row = (i + 1, *[_cell(v[i]) for v in values], wkb[i])
            copy.write_row(row if terms is None else (*row, terms[i]))
    con.execute(f'CREATE INDEX ON {schema}."{table}" USING gist (geom)')
    for key in ("adcode", "id"):  # one item by its API id
        if key in columns:
            con.execute(f'CREATE INDEX ON {schema}."{table}" ("{key}")')
            break
    return len(frame)


def _search_terms(table: str, frame) -> list[str] | None:
    """Per row, the search terms the in-memory backend matches `q` against (layers.search),
    one a line; None for a layer kept in memory (its terms are the build's) or without names."""
    layer = SYNTH_LAYERS.get(table)
    fields = [f for f in search.NAME_FIELDS if f in frame.columns]
    if layer is None or not fields:
        return None
    columns = [frame[f].to_numpy(dtype=object) if f in frame.columns else [None] * len(frame)
               for f in search.NAME_FIELDS]
    return ["\n".join(search.terms(*(c[i] for c in columns))) for i in range(len(frame))]


def _copy_side_tables(con, schema: str, gpkg: Path) -> None:
    lite = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True)
    try:
        con.execute(f"CREATE TABLE {schema}.atlas_meta (key text PRIMARY KEY, value text NOT NULL)")
        con.execute(f"CREATE TABLE {schema}.atlas_documents (code text PRIMARY KEY, doc text "
                    "NOT NULL, text text NOT NULL)")
        con.execute(f"CREATE TABLE {schema}.atlas_search (layer text, fid text, terms text NOT "
                    "NULL, PRIMARY KEY (layer, fid))")
        for table in SIDE_TABLES:
            try:
                rows = lite.execute(f"SELECT * FROM {table}").fetchall()
            except sqlite3.OperationalError:
                continue  # an older build without the table
            if rows:
                marks = ", ".join(["%s"] * len(rows[0]))
                con.cursor().executemany(f"INSERT INTO {schema}.{table} VALUES ({marks})", rows)
    finally:
        lite.close()


def _prune(con) -> None:
    """Drop builds older than the one before the current, and loads that never finished."""
    current = con.execute(f"SELECT build_id FROM {CONTROL}.current").fetchone()
    keep: set[int] = set()
    if current:
        keep.add(current[0])
        previous = con.execute(f"SELECT max(id) FROM {CONTROL}.builds WHERE status = 'ready' "
                               "AND id < %s", (current[0],)).fetchone()
        if previous and previous[0]:
            keep.add(previous[0])
    for build_id, schema in con.execute(f"SELECT id, schema FROM {CONTROL}.builds").fetchall():
        if build_id not in keep:
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            con.execute(f"DELETE FROM {CONTROL}.builds WHERE id = %s", (build_id,))
    listed = {s for (s,) in con.execute(f"SELECT schema FROM {CONTROL}.builds").fetchall()}
    for (schema,) in con.execute("SELECT nspname FROM pg_namespace WHERE nspname ~ '^atlas_b[0-9]+$'"
                                 ).fetchall():
        if schema not in listed:  # a load whose bookkeeping row is gone
            con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@dataclass
class LoadReport:
    build_id: int
    schema: str
    counts: dict[str, int]
    seconds: float


def load_gpkg(gpkg: Path, url: str, fail_after: str | None = None) -> LoadReport:
    """Load a complete, re-read GeoPackage build into PostGIS and switch readers to it.

    `fail_after` (tests only) raises after loading that table, as an interrupted load would."""
    import psycopg

    started = time.perf_counter()
    tables = [str(name) for name, geometry_type in pyogrio.list_layers(gpkg) if geometry_type]
    with connect(url, autocommit=True) as con:
        ensure_control(con)
        with con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(7312)")
            _prune(con)
        meta_rows = sqlite3.connect(f"file:{gpkg}?mode=ro", uri=True).execute(
            "SELECT key, value FROM atlas_meta").fetchall()
        meta = {k: json.loads(v) for k, v in meta_rows}
        build_id = con.execute(
            f"INSERT INTO {CONTROL}.builds (status, built_at, meta) VALUES ('loading', %s, %s) "
            "RETURNING id", (meta.get("built_at"), json.dumps(meta, ensure_ascii=False))).fetchone()[0]
        schema = f"atlas_b{build_id}"
        con.execute(f"UPDATE {CONTROL}.builds SET schema = %s WHERE id = %s", (schema, build_id))
        counts: dict[str, int] = {}
        try:
            with con.transaction():
                con.execute(f"CREATE SCHEMA {schema}")
                con.execute(f"CREATE TABLE {schema}.atlas_columns (tbl text, col text, dtype text, "
                            "PRIMARY KEY (tbl, col))")
                for table in tables:
                    counts[table] = _copy_layer(con, schema, table, gpkg)
                    if fail_after == table:
                        raise DatabaseError(f"load interrupted after {table} (test)")
                _copy_side_tables(con, schema, gpkg)
            for table in tables:
                con.execute(f'ANALYZE {schema}."{table}"')
            with con.transaction():  # the switch: readers see the old build or this one
                con.execute(f"UPDATE {CONTROL}.builds SET status = 'ready', counts = %s WHERE id = %s",
                            (json.dumps(counts), build_id))
                con.execute(f"INSERT INTO {CONTROL}.current (build_id, schema) VALUES (%s, %s) "
                            "ON CONFLICT (one) DO UPDATE SET build_id = EXCLUDED.build_id, "
                            "schema = EXCLUDED.schema", (build_id, schema))
        except psycopg.Error as exc:
            raise DatabaseError(f"loading the build into {redact(url)} failed: {one_line(exc)}") from None
        with con.transaction():
            con.execute("SELECT pg_advisory_xact_lock(7312)")
            _prune(con)
    return LoadReport(build_id, schema, counts, time.perf_counter() - started)
