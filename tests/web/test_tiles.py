"""Vector tiles (/tiles), their TileJSON, the bbox index and `atlas tiles` (PMTiles).

Tiles are decoded with mapbox_vector_tile and checked against the API's items for the same
area; the STRtree behind bbox= is checked against the full scan it replaced.
"""

from __future__ import annotations

import gzip
import json
import math

import mapbox_vector_tile
import numpy as np
import pytest
import shapely

from layers.registry import LAYERS
from server.store import mvt
from server.store.spatial import BoxIndex, scan
from tests.conftest import make_app
from tests.support.backends import GEOPACKAGE

WUHAN = (114.30, 30.59)


def lonlat_of_tile(z: int, x: int, y: int, grow: float = 0.0) -> tuple[float, float, float, float]:
    """The tile's lon/lat box, grown by `grow` tile widths on each side."""
    n = 1 << z

    def lon(tx: float) -> float:
        return tx / n * 360 - 180

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return lon(x - grow), lat(y + 1 + grow), lon(x + 1 + grow), lat(y - grow)


def tile_at(z: int, lon: float, lat: float) -> tuple[int, int]:
    x0, y0, _, _ = mvt.tile_range(z, [lon, lat, lon, lat])
    return x0, y0


def api_items(client, layer: str, box) -> dict:
    bbox = ",".join(f"{v:.7f}" for v in box)
    r = client.get(f"/api/collections/{layer}/items?bbox={bbox}&limit=10000")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return {str(f["id"]): f for f in r.get_json()["features"]}


def decode(body: bytes) -> dict:
    return mapbox_vector_tile.decode(body) if body else {}


@pytest.mark.parametrize("layer,z", [("counties", 9), ("counties", 11), ("cities", 7),
                                      ("parks", 8), ("projects", 10), ("clusters", 9),
                                      ("cluster_lines", 6)])
@pytest.mark.backends
def test_a_tile_holds_the_api_features_of_its_area_with_their_fields(client, layer, z):
    x, y = tile_at(z, *WUHAN)
    r = client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == mvt.MEDIA_TYPE
    feats = decode(r.data)[layer]["features"]
    got = {str(f["properties"]["id"]): f for f in feats}
    assert len(got) == len(feats), "a feature twice in one tile"
    inner = api_items(client, layer, lonlat_of_tile(z, x, y))
    outer = api_items(client, layer, lonlat_of_tile(z, x, y, grow=mvt.BUFFER / mvt.EXTENT))
    assert inner, "pick a tile with features"
    assert set(inner) <= set(got) <= set(outer)
    if LAYERS[layer].geometry_type == "Point":  # a point is never lost to clipping
        assert set(got) == set(outer)
    types = {f.name: f.type for f in LAYERS[layer].fields}
    for fid, feat in got.items():
        props = dict(feat["properties"])
        assert str(props["id"]) == fid
        if "id" not in types:  # the admin layers' id is their adcode
            props.pop("id")
        expected = {k: v for k, v in outer[fid]["properties"].items() if v is not None}
        decoded = {k: json.loads(v) if types[k] == "json" else v for k, v in props.items()}
        for k, v in expected.items():
            if types[k] == "float":
                assert decoded[k] == pytest.approx(v, rel=1e-6), (fid, k)
            else:
                assert decoded[k] == v, (fid, k)
        assert set(decoded) == set(expected)
        if LAYERS[layer].field_names[0] == "adcode":
            assert feat["id"] == int(fid)


@pytest.mark.backends
def test_a_point_lands_where_the_api_puts_it(client):
    z = 12
    x, y = tile_at(z, *WUHAN)
    feats = decode(client.get(f"/tiles/projects/{z}/{x}/{y}.mvt").data)
    if not feats:
        z = 10
        x, y = tile_at(z, *WUHAN)
        feats = decode(client.get(f"/tiles/projects/{z}/{x}/{y}.mvt").data)
    items = api_items(client, "projects", lonlat_of_tile(z, x, y, 0.1))
    west, south, east, north = lonlat_of_tile(z, x, y)
    for feat in feats["projects"]["features"]:
        px, py = feat["geometry"]["coordinates"]  # tile units, y up as decoded
        lon = west + px / mvt.EXTENT * (east - west)
        merc = mvt.to_mercator(np.array([shapely.Point(west, south), shapely.Point(east, north)]))
        my = merc[0].y + py / mvt.EXTENT * (merc[1].y - merc[0].y)
        lat = math.degrees(2 * math.atan(math.exp(my / mvt.RADIUS)) - math.pi / 2)
        want = items[str(feat["properties"]["id"])]["geometry"]["coordinates"]
        tol = (east - west) / mvt.EXTENT * 1.5
        assert abs(lon - want[0]) < tol and abs(lat - want[1]) < tol


@pytest.mark.backends
def test_a_low_zoom_tile_is_lighter_than_full_detail(app):
    store = app.extensions["atlas_store"]
    tl = mvt.tile_layer(store, "counties")
    lo, _ = tl.tier("lo")
    full, _ = tl.tier(None)
    assert sum(map(shapely.get_num_coordinates, lo)) < sum(map(shapely.get_num_coordinates, full)) / 3


@pytest.mark.backends
def test_tilejson_describes_each_layer(client, app):
    for layer in LAYERS.values():
        r = client.get(f"/tiles/{layer.id}.json")
        assert r.status_code == 200
        doc = r.get_json()
        assert doc["tilejson"] == "3.0.0"
        assert doc["tiles"] == [f"http://localhost/tiles/{layer.id}/{{z}}/{{x}}/{{y}}.mvt"]
        assert (doc["minzoom"], doc["maxzoom"]) == (0, 14)
        w, s, e, n = doc["bounds"]
        assert 105 < w < e < 118 and 24 < s < n < 34
        (vl,) = doc["vector_layers"]
        assert vl["id"] == layer.id
        assert set(vl["fields"]) == set(layer.field_names) | {"id"}
        assert doc["center"][2] in range(0, 15)


def test_the_zoom_range_is_a_setting(built_atlas):

    client = make_app(built_atlas, GEOPACKAGE, TILES_MINZOOM=4, TILES_MAXZOOM=9).test_client()
    doc = client.get("/tiles/parks.json").get_json()
    assert (doc["minzoom"], doc["maxzoom"]) == (4, 9)
    assert client.get("/tiles/parks/3/6/3.mvt").status_code == 404
    assert client.get("/tiles/parks/10/837/420.mvt").status_code == 404
    assert client.get("/tiles/parks/9/418/210.mvt").status_code == 200


@pytest.mark.parametrize("path,status", [
    ("/tiles/parks/15/0/0.mvt", 404),  # beyond maxzoom
    ("/tiles/parks/2/4/0.mvt", 404),  # x ≥ 2^z
    ("/tiles/parks/2/0/4.mvt", 404),  # y ≥ 2^z
    ("/tiles/parks/2/-1/0.mvt", 400),
    ("/tiles/parks/2/0/-1.mvt", 400),
    ("/tiles/parks/-1/0/0.mvt", 400),
    ("/tiles/parks/2/1.5/0.mvt", 400),
    ("/tiles/parks/z/0/0.mvt", 400),
    ("/tiles/parks/2/0/0x1.mvt", 400),
    ("/tiles/parks/99999999999/0/0.mvt", 400),
    ("/tiles/nowhere/2/0/0.mvt", 404),
    ("/tiles/nowhere.json", 404),
    ("/tiles/parks_lo.json", 404),
    ("/tiles/counties__lo/2/3/1.mvt", 404),
])
def test_bad_tiles_answer_json_400_or_404(client, path, status):
    r = client.get(path)
    assert r.status_code == status, (path, r.status_code)
    body = r.get_json()
    assert body["code"] and body["description"]
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.backends
def test_an_empty_tile_is_an_empty_200(client):
    r = client.get("/tiles/parks/3/0/0.mvt")
    assert r.status_code == 200 and r.data == b""


def test_tiles_carry_etag_cache_control_and_answer_304(client):
    url = "/tiles/counties/6/52/26.mvt"
    r = client.get(url)
    assert r.status_code == 200 and r.data
    tag = r.headers["ETag"]
    assert r.headers["Cache-Control"] == "public, max-age=300"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.headers["ETag"] == tag
    z = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert z.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(z.data) == r.data
    assert client.get(url, headers={"If-None-Match": z.headers["ETag"]}).status_code == 304
    doc = client.get("/tiles/counties.json")
    assert client.get("/tiles/counties.json",
                      headers={"If-None-Match": doc.headers["ETag"]}).status_code == 304


def _random_boxes(rng, n, small=False):
    out = []
    for _ in range(n):
        cx, cy = rng.uniform(107, 117), rng.uniform(23, 34)
        w, h = (rng.uniform(0.001, 0.3, 2) if small else rng.uniform(0.01, 6, 2))
        out.append((cx - w, cy - h, cx + w, cy + h))
    return out


def test_the_bbox_index_finds_what_the_full_scan_finds(app):
    store = app.extensions["atlas_store"]
    rng = np.random.default_rng(7)
    boxes = _random_boxes(rng, 60) + _random_boxes(rng, 60, small=True)
    boxes += [(179.0, 20.0, -179.0, 40.0), (100.0, 20.0, 100.1, 20.1)]  # antimeridian, empty
    for lid in LAYERS:
        prep = store.in_memory(lid)
        for box in boxes:
            assert np.array_equal(prep.spatial.query(box), scan(prep.geometries, prep.bounds, box)), \
                (lid, box)
    points = shapely.points(rng.uniform(108.3, 116.2, 20000), rng.uniform(29.0, 33.3, 20000))
    points[::97] = None
    index = BoxIndex(points)
    bounds = shapely.bounds(points)
    for box in _random_boxes(rng, 40) + _random_boxes(rng, 40, small=True):
        assert np.array_equal(index.query(box), scan(points, bounds, box)), box


@pytest.mark.backends
def test_atlas_tiles_writes_a_pmtiles_archive_a_reader_can_open(built_atlas, tmp_path, client):
    from pmtiles.reader import MmapSource, Reader
    from pmtiles.tile import Compression, TileType

    from server.cli import main

    out = tmp_path / "atlas.pmtiles"
    assert main(["tiles", "--out", str(out), "--data", str(built_atlas), "--layers", "counties,parks",
                 "--maxzoom", "6"]) == 0
    with open(out, "rb") as f:
        reader = Reader(MmapSource(f))
        header = reader.header()
        assert header["tile_type"] == TileType.MVT
        assert header["tile_compression"] == Compression.GZIP
        assert (header["min_zoom"], header["max_zoom"]) == (0, 6)
        meta = reader.metadata()
        assert [v["id"] for v in meta["vector_layers"]] == ["counties", "parks"]
        x, y = tile_at(6, *WUHAN)
        tile = decode(gzip.decompress(reader.get(6, x, y)))
        assert reader.get(6, 0, 0) is None  # empty tiles are not stored
    assert set(tile) == {"counties", "parks"}
    for layer in ("counties", "parks"):
        served = decode(client.get(f"/tiles/{layer}/6/{x}/{y}.mvt").data)[layer]["features"]
        assert sorted(str(f["properties"]["id"]) for f in tile[layer]["features"]) == \
            sorted(str(f["properties"]["id"]) for f in served)


@pytest.mark.backends
def test_a_county_whose_sliver_collapses_on_the_grid_is_still_drawn(client):
    """蔡甸区's zoom-7 polygon has a sliver that the tile grid collapses to a line; the
    encoder once dropped the whole county from the tile."""
    tile = mapbox_vector_tile.decode(client.get("/tiles/counties/7/104/52.mvt").data)
    ids = {f["properties"]["id"] for f in tile["counties"]["features"]}
    assert 420114 in ids


@pytest.mark.backends
def test_tiles_shift_to_gcj02_when_asked_and_refuse_other_datums(client):
    z = 10
    x, y = tile_at(z, *WUHAN)
    wgs = decode(client.get(f"/tiles/parks/{z}/{x}/{y}.mvt").data)["parks"]["features"]
    gcj = decode(client.get(f"/tiles/parks/{z}/{x}/{y}.mvt?datum=gcj02").data)["parks"]["features"]
    by_id = {f["properties"]["id"]: f for f in gcj}
    assert {f["properties"]["id"] for f in wgs} & set(by_id)
    for f in wgs:
        if f["properties"]["id"] not in by_id:
            continue  # shifted over the tile's edge
        g = by_id[f["properties"]["id"]]
        assert g["properties"] == f["properties"]
        (ax, ay), (bx, by) = f["geometry"]["coordinates"], g["geometry"]["coordinates"]
        # GCJ-02 lies a few hundred metres off: at zoom 10 a tile unit is about 9 m
        assert 5 < abs(bx - ax) + abs(by - ay) < 200
    r = client.get(f"/tiles/parks/{z}/{x}/{y}.mvt?datum=bd09")
    assert r.status_code == 400 and "datum" in r.get_json()["description"]
