"""Vector tiles made by PostGIS (`ST_AsMVT`) from a build's tables, framework-free.

The SQL gives what the in-process encoder (`server.mvt`) gives: one MVT layer named after
the atlas layer; the features meeting the tile grown by `mvt.BUFFER` units, clipped there,
in layer order; the polygon tier chosen by `mvt.tier_for`; every field of the registry as
an attribute of the registry's type (JSON fields as the JSON text the build stored, empty
values left out) plus `id`, the feature's id in the API; an integer id is also the MVT
feature id. The tests decode tiles of both and compare them.
"""

from __future__ import annotations

from layers.registry import Layer
from server.store import mvt

CASTS = {"int": "bigint", "float": "double precision", "bool": "boolean", "str": "text",
         "json": "text"}


def _thinned(layer: Layer, z: int) -> bool:
    """Large point layers keep one point per cell below full zoom, as in memory (server.mvt)."""
    return layer.synthetic and layer.geometry_type == "Point" and z < mvt.FULL_POINTS_ZOOM


def tile_sql(layer: Layer, schema: str, z: int) -> str:
    """The query for one tile of `layer` at zoom z; parameters (z, x, y, z, x, y). The grown
    tile is a rectangle in lon/lat too (Web Mercator maps axis to axis), so the test is exact."""
    tier = mvt.tier_for(layer, z)
    table = f"{layer.id}__{tier}" if tier else layer.id
    key = layer.id_field
    fid = layer.field(key).type == "int"  # an integer id is also the MVT feature id
    attrs = [f'"{f.name}"::{CASTS.get(f.type, "text")} AS "{f.name}"' for f in layer.fields
             if f.name != "id"]
    attrs.append(f'"{key}"::{"bigint" if fid else "text"} AS "id"')
    if fid:
        attrs.append(f'"{key}"::bigint AS "__fid"')
    e, b, margin = mvt.EXTENT, mvt.BUFFER, mvt.BUFFER / mvt.EXTENT
    bounds = (f"bounds AS (SELECT ST_TileEnvelope(%s, %s, %s) AS tile, ST_Transform("
              f"ST_TileEnvelope(%s, %s, %s, margin => {margin}), 4326) AS grown)")
    # the features meeting the grown tile: the index, then the exact test
    def hits(also: str = "") -> str:
        return f'FROM {schema}."{table}" AS g, bounds{also} WHERE ST_Intersects(g.geom, bounds.grown)'
    id_arg = ", '__fid'" if fid else ""
    as_mvt = f"SELECT ST_AsMVT(t, '{layer.id}', {e}, 'geom'{id_arg}) FROM"
    if not _thinned(layer, z):
        return f"""
            WITH {bounds}
            {as_mvt} (
                SELECT ST_AsMVTGeom(ST_Transform(g.geom, 3857), bounds.tile, {e}, {b}, true) AS geom,
                       {", ".join(attrs)}
                {hits()} ORDER BY g.fid) AS t
            WHERE t.geom IS NOT NULL"""
    # large point layers: the first point in layer order of each POINT_CELL-unit cell of the
    # tile grid (the in-memory encoder's `point_layer`)
    cell = mvt.POINT_CELL
    return f"""
        WITH {bounds},
        units AS (
            SELECT g.*, m,
                   round((ST_X(m) - ST_XMin(bounds.tile)) / (ST_XMax(bounds.tile) - ST_XMin(bounds.tile))
                         * {e}) AS ux,
                   round((ST_YMax(bounds.tile) - ST_Y(m)) / (ST_YMax(bounds.tile) - ST_YMin(bounds.tile))
                         * {e}) AS uy
            {hits(", ST_Transform(g.geom, 3857) AS m")}),
        kept AS (
            SELECT DISTINCT ON (floor((ux + {b}) / {cell}), floor((uy + {b}) / {cell})) *
            FROM units ORDER BY floor((ux + {b}) / {cell}), floor((uy + {b}) / {cell}), fid)
        {as_mvt} (
            SELECT ST_AsMVTGeom(kept.m, bounds.tile, {e}, {b}, true) AS geom, {", ".join(attrs)}
            FROM kept, bounds ORDER BY kept.fid) AS t
        WHERE t.geom IS NOT NULL"""


def tile(query, layer: Layer, schema: str, z: int, x: int, y: int) -> bytes:
    """The tile's bytes (empty when no feature meets it); `query(sql, params)` gives rows."""
    rows = query(tile_sql(layer, schema, z), (z, x, y, z, x, y))
    return bytes(rows[0][0]) if rows and rows[0][0] is not None else b""
