"""The API's items of a large layer, answered by PostGIS instead of from memory.

On the PostGIS backend a large layer (the synthetic national layers of `atlas synth`) is
not loaded into each server process: `items` and one item are SQL over the build's table —
the bbox through the GiST index, the filters as the in-memory path reads them (a JSON list
field matches when any element is asked for), the page in layer order (`fid`) — and make
the same features the in-memory path makes (properties of the registry's types, geometry
at 6 decimals). `numberMatched` counts the matches; with no condition it is the build's
count, without a scan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import orjson

from layers import search
from layers.postgis import TERMS_COLUMN
from layers.registry import Layer
from server.store.query import Query, native, provenance
from server.store.spatial import boxes

Run = Callable[[str, Sequence], list[tuple]]  # a read-only query on a reader
ARRAY_TYPES = {"int": "bigint[]", "float": "double precision[]", "bool": "boolean[]"}


def where(layer: Layer, query: Query) -> tuple[str, list]:
    """The WHERE clause (or "") of an items query, with its parameters."""
    clauses: list[str] = []
    params: list = []
    if query.bbox is not None:
        # a point meets a box exactly when their bounding boxes meet: `&&` alone, answered by
        # the GiST index without the exact test on every hit
        test = "geom && {}" if layer.geometry_type == "Point" else "ST_Intersects(geom, {})"
        parts = []
        for box in boxes(query.bbox):
            parts.append(test.format("ST_MakeEnvelope(%s, %s, %s, %s, 4326)"))
            params += list(box.bounds)
        clauses.append("(" + " OR ".join(parts) + ")")
    for name, wanted in query.filters:
        ftype = layer.field(name).type
        # text in PostgreSQL holds no NUL: a value with one matches nothing, as in memory
        wanted = tuple(w for w in wanted if not (isinstance(w, str) and "\x00" in w))
        if not wanted:
            clauses.append("FALSE")
            continue
        if ftype == "json":  # a list field: any element asked for
            clauses.append(f'EXISTS (SELECT 1 FROM json_array_elements_text("{name}") AS e '
                           "WHERE e = ANY(%s::text[]))")
            params.append([str(w) for w in wanted])
        else:
            clauses.append(f'"{name}" = ANY(%s::{ARRAY_TYPES.get(ftype, "text[]")})')
            params.append(list(wanted))
    named = any(n in layer.field_names for n in search.NAME_FIELDS)
    for word in query.q:  # every word in one of the terms, as in memory (layers.search.matches)
        if not named or "\x00" in word:  # nothing to find it in: no match, as in memory
            clauses.append("FALSE")
            break
        # a plain substring test (no LIKE: `%` and `_` are characters here); a word holds no
        # line break, so it cannot match across two terms
        clauses.append(f"strpos({TERMS_COLUMN}, %s) > 0")
        params.append(word)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _select_list(layer: Layer) -> str:
    cols = [f'"{f.name}"::text' if f.type == "json" else f'"{f.name}"' for f in layer.fields]
    # exterior rings counter-clockwise, as RFC 7946 and the in-memory path have them
    return ", ".join(cols + ["ST_AsGeoJSON(ST_ForcePolygonCCW(geom), 6)"])


def _feature(layer: Layer, row: tuple) -> dict:
    props = {}
    for f, value in zip(layer.fields, row):
        if f.type == "json":
            value = json.loads(value) if value is not None else None
        props[f.name] = native(value, f.type)
    key = layer.id_field
    geometry = row[len(layer.fields)]
    return {"type": "Feature", "id": props.get(key),
            "geometry": orjson.Fragment(geometry) if geometry is not None else None,
            "properties": props}


def select_page(run: Run, layer: Layer, schema: str, query: Query,
                total: int | None) -> tuple[list[dict], int]:
    """(the page's features, numberMatched)."""
    clause, params = where(layer, query)
    table = f'{schema}."{layer.id}"'
    if clause or total is None:
        matched = int(run(f"SELECT count(*) FROM {table}{clause}", params)[0][0])
    else:
        matched = total
    limit = "" if query.limit is None else f" LIMIT {int(query.limit)}"
    if query.offset >= matched:
        rows: list[tuple] = []
    elif clause:
        rows = run(f"SELECT {_select_list(layer)} FROM {table}{clause} ORDER BY fid{limit} "
                   f"OFFSET {int(query.offset)}", params)
    else:  # fid runs 1…N in layer order: the page is a range of the key, not a scan to OFFSET
        rows = run(f"SELECT {_select_list(layer)} FROM {table} WHERE fid > %s ORDER BY fid{limit}",
                   [int(query.offset)])
    return [_feature(layer, r) for r in rows], matched


def select_one(run: Run, layer: Layer, schema: str, fid: str) -> dict | None:
    key = layer.id_field
    ftype = layer.field(key).type
    if ftype == "int":
        try:
            value: object = int(fid)
        except ValueError:
            return None
    elif "\x00" in fid:  # no id holds one
        return None
    else:
        value = fid
    rows = run(f'SELECT {_select_list(layer)} FROM {schema}."{layer.id}" WHERE "{key}" = %s '
               "ORDER BY fid LIMIT 1", [value])
    return _feature(layer, rows[0]) if rows else None


def extent(run: Run, layer: Layer, schema: str) -> list[float] | None:
    row = run(f'SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM '
              f'(SELECT ST_Extent(geom) AS e FROM {schema}."{layer.id}") AS x', [])[0]
    return None if row[0] is None else [round(float(v), 6) for v in row]


class RemoteLayer:
    """The Provider (server/store/provider.py) of a large layer of a PostGIS build: what the
    collection document and TileJSON read (count, extent, provenance), and the items and
    one item by SQL. Made once per build and process (`PostgisStore.provider`)."""

    lazy = True  # tiles: a large layer (points thinned below full zoom, as in memory)

    def __init__(self, run: Run, layer: Layer, schema: str, count: int, meta: dict):
        self.run, self.layer, self.schema, self.count = run, layer, schema, count
        self.provenance = provenance(meta, set())
        self.built_at = meta.get("built_at") or ""
        self._extent: list[float] | None = None
        self._extent_known = False

    def __len__(self) -> int:
        return self.count

    @property
    def extent(self) -> list[float] | None:
        if not self._extent_known:
            self._extent, self._extent_known = extent(self.run, self.layer, self.schema), True
        return self._extent

    def select_page(self, query: Query) -> tuple[list[dict], int]:
        return select_page(self.run, self.layer, self.schema, query, self.count)

    def select_one(self, fid: str) -> dict | None:
        return select_one(self.run, self.layer, self.schema, fid)
