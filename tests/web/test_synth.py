"""The synthetic national layers of a file `atlas synth` wrote, served: kept out of
everything but the API and the tiles, and the large-layer path of the API and the tiles that
serves them (`memory.prepare_large`, `mvt.point_layer`). tests/unit/test_synth.py checks the
generator and the file.

Small N (2,000 points) throughout; `bench/scale.py` measures 10k–1M.
"""

from __future__ import annotations

import math

import mapbox_vector_tile
import orjson
import pandas as pd
import pytest

from layers.registry import LAYERS, SYNTH_LAYERS
from server import create_app
from server.api import ogc
from server.store import memory, mvt
from server.store.query import Query
from tests.conftest import SYNTH_POINTS as POINTS
from tests.conftest import make_app, slow_synth

WUHAN = (114.30, 30.59)
SHANGHAI = (121.47, 31.23)


@pytest.fixture(scope="session")
def frames(synth_frames) -> dict:
    return synth_frames


@pytest.fixture(scope="session")
def synth_app(synth_atlas, backend, per_backend):
    return per_backend(("synth_app", backend), lambda: make_app(synth_atlas, backend))


@pytest.fixture(scope="session")
def memory_app(synth_atlas):
    """The synth file on the embedded backend: for the tests of its in-memory machinery (the
    large-layer selection, the point encoder)."""
    return create_app({"DATA": str(synth_atlas), "TESTING": True})


@pytest.fixture()
def sclient(synth_app):
    return synth_app.test_client()


# ---------------------------------------------------------------------------------------------
# Kept out of the real atlas's pages


@pytest.mark.backends
def test_a_normal_build_serves_no_synthetic_collection_or_tiles(client):
    ids = [c["id"] for c in client.get("/api/collections").get_json()["collections"]]
    assert ids == list(LAYERS)
    for lid in SYNTH_LAYERS:
        assert client.get(f"/api/collections/{lid}").status_code == 404
        assert client.get(f"/api/collections/{lid}/items").status_code == 404
        assert client.get(f"/tiles/{lid}.json").status_code == 404
        assert client.get(f"/tiles/{lid}/5/26/13.mvt").status_code == 404
    assert "synth" not in client.get("/api/openapi").get_data(as_text=True)


@slow_synth
@pytest.mark.backends
def test_the_map_about_downloads_and_health_ignore_the_synthetic_layers(sclient):
    for path in ("/", "/about", "/download", "/map/parks"):
        r = sclient.get(path)
        assert r.status_code == 200, path
        text = r.get_data(as_text=True)
        for marker in ("synth_", "合成数据", "合成开发区", "SYNTHETIC", "Synthetic zone"):
            assert marker not in text, (path, marker)
    for lid in SYNTH_LAYERS:
        assert sclient.get(f"/download/{lid}.geojson").status_code == 404
        assert sclient.get(f"/download/{lid}.csv").status_code == 404
        assert sclient.get(f"/map/{lid}").status_code == 404
    assert set(sclient.get("/healthz").get_json()["layers"]) == set(LAYERS)
    for lid in ("parks", "projects"):
        assert sclient.get(f"/api/collections/{lid}/items?q=合成开发区").get_json()["numberMatched"] == 0


# ---------------------------------------------------------------------------------------------
# Served by the API and the tiles of a synth file


@slow_synth
@pytest.mark.backends
def test_collections_list_and_mark_the_synthetic_layers(sclient, frames):
    docs = {c["id"]: c for c in sclient.get("/api/collections").get_json()["collections"]}
    assert list(docs) == [*LAYERS, *SYNTH_LAYERS]
    for lid in SYNTH_LAYERS:
        doc = docs[lid]
        assert doc["synthetic"] is True and "synthetic" in doc["keywords"]
        assert "SYNTHETIC" in doc["title"] and "合成数据" in doc["title"]
        assert doc["numberOfFeatures"] == len(frames[lid])
        assert not [link for link in doc["links"] if link["rel"] == "enclosure"]  # no downloads
        assert sclient.get(f"/api/collections/{lid}").get_json()["synthetic"] is True
    for lid in LAYERS:
        assert "synthetic" not in docs[lid]
    assert "/collections/synth_enterprises/items" in sclient.get("/api/openapi").get_json()["paths"]
    html = sclient.get("/api/collections?f=html").get_data(as_text=True)
    assert "SYNTHETIC: enterprises" in html


def _inside(frame, box) -> set[str]:
    x, y = frame.geometry.x.values, frame.geometry.y.values
    hit = (x >= box[0]) & (x <= box[2]) & (y >= box[1]) & (y <= box[3])
    return set(frame.id[hit])


@slow_synth
@pytest.mark.parametrize("box", [(113.5, 29.5, 115.5, 31.5), (120.0, 30.0, 122.5, 32.5),
                                 (73.0, 18.0, 135.0, 54.0)])
@pytest.mark.backends
def test_items_with_bbox_page_through_exactly_the_points_in_the_box(sclient, frames, box):
    ents = frames["synth_enterprises"]
    want = _inside(ents, box)
    assert want
    bbox = ",".join(map(str, box))
    got: list[str] = []
    url = f"/api/collections/synth_enterprises/items?bbox={bbox}&limit=150"
    while url:
        doc = sclient.get(url).get_json()
        assert doc["numberMatched"] == len(want)
        got += [f["id"] for f in doc["features"]]
        url = next((link["href"] for link in doc["links"] if link["rel"] == "next"), None)
    assert len(got) == len(set(got)) and set(got) == want
    assert got == sorted(got)  # layer order: ids are assigned in row order


@slow_synth
@pytest.mark.backends
def test_items_filters_with_and_without_bbox(sclient, frames):
    ents = frames["synth_enterprises"]
    box = (108.0, 24.0, 123.0, 35.0)
    inside = _inside(ents, box)
    auto = set(ents.id[ents.sector == "auto"])
    doc = sclient.get("/api/collections/synth_enterprises/items?sector=auto&bbox=108,24,123,35"
                      "&limit=10000").get_json()
    assert {f["id"] for f in doc["features"]} == auto & inside
    assert all(f["properties"]["sector"] == "auto" for f in doc["features"])
    doc = sclient.get("/api/collections/synth_enterprises/items?province_adcode=420000,430000"
                      "&size=micro&limit=10000").get_json()
    mask = ents.province_adcode.isin([420000, 430000]) & (ents["size"] == "micro")
    assert {f["id"] for f in doc["features"]} == set(ents.id[mask])
    assert sclient.get("/api/collections/synth_enterprises/items?q=abc").get_json()["numberMatched"] == 0
    zones = frames["synth_zones"]
    doc = sclient.get("/api/collections/synth_zones/items?sector=auto&limit=10000").get_json()
    assert doc["numberMatched"] == sum("auto" in s for s in zones.sectors)
    doc = sclient.get("/api/collections/synth_zones/items?q=合成开发区 0042").get_json()
    assert [f["id"] for f in doc["features"]] == ["SZ0042"]
    assert sclient.get("/api/collections/synth_enterprises/items?sector=auto,x&colour=red").status_code == 400


@slow_synth
@pytest.mark.backends
def test_one_item_by_id(sclient, frames):
    ents = frames["synth_enterprises"]
    row = ents.iloc[1234]
    doc = sclient.get(f"/api/collections/synth_enterprises/items/{row.id}").get_json()
    assert doc["id"] == row.id and doc["geometry"]["coordinates"] == [row.geometry.x, row.geometry.y]
    props = doc["properties"]
    assert props["synthetic"] is True and props["sector"] == row.sector
    assert props["county_adcode"] == row.county_adcode and props["employees"] == row.employees
    assert props["zone"] == (row.zone if isinstance(row.zone, str) else None)
    county = sclient.get("/api/collections/synth_counties/items/420106").get_json()
    assert county["id"] == 420106 and county["properties"]["name_zh"] == "武昌区"
    assert county["geometry"]["type"] == "MultiPolygon"
    assert sclient.get("/api/collections/synth_enterprises/items/SE9999999").status_code == 404
    assert sclient.get("/api/collections/synth_zones/items/SZ0001?f=html").status_code == 200


@slow_synth
def test_select_large_touches_only_the_bbox_hits(memory_app, monkeypatch):
    store = memory_app.extensions["atlas_store"]
    prep = store.in_memory("synth_enterprises")
    assert prep.lazy and len(prep) == POINTS
    everything = memory.select(prep, Query(limit=10))
    assert isinstance(everything, range) and len(everything) == POINTS
    seen: list[int] = []
    real = memory.NativeColumn.matches

    def spy(self, wanted, idx=None):
        seen.append(len(self.values) if idx is None else len(idx))
        return real(self, wanted, idx)

    monkeypatch.setattr(memory.NativeColumn, "matches", spy)
    box = (114.0, 30.0, 114.6, 30.9)
    hits = prep.spatial.query(box)
    query = ogc.parse_query(prep.layer, {"bbox": [",".join(map(str, box))], "sector": ["auto"]},
                            default_limit=100, max_limit=1000)
    memory.select(prep, query)
    assert seen == [len(hits)] and len(hits) < POINTS / 10


@pytest.mark.parametrize("layer_id", ["parks", "counties", "projects"])
def test_the_large_path_answers_like_the_small_one(app, layer_id):
    """prepare_large on a real layer: the same features, ids, selections as prepare."""
    store = app.extensions["atlas_store"]
    snap = store.snapshot()
    layer, frame = LAYERS[layer_id], snap.layers[layer_id]
    small = memory.prepare(layer, frame, snap.meta, snap.search.get(layer_id, {}))
    large = memory.prepare_large(layer, frame, snap.meta, snap.search.get(layer_id, {}))
    assert len(small) == len(large) and list(small.ids) == list(large.ids)
    assert small.extent == large.extent and small.provenance == large.provenance
    for i in range(len(small)):
        assert orjson.dumps(small.features[i]) == orjson.dumps(large.features[i])
    everything = list(range(len(small)))
    assert orjson.dumps(memory.page_features(small, everything)) == \
        orjson.dumps(memory.page_features(large, everything))
    for fid in map(str, small.ids):
        assert small.index.get(fid) == large.index.get(fid)
    assert large.index.get("nope") is None
    queries: list[dict] = [{}, {"bbox": ["113,29.5,115,31"]}, {"q": ["wuhan"]},
                           {"q": ["武汉"], "bbox": ["113,29,116,32"]}]
    for name in layer.filterable:  # each filter with a value some feature has
        value = next((v for v in small.columns[name] if v not in (None, [])), None)
        if isinstance(value, list):
            value = value[0]
        if value is not None:
            queries.append({name: [str(value).lower() if isinstance(value, bool) else str(value)]})
    for args in queries:
        query = ogc.parse_query(layer, args, default_limit=None, max_limit=None)
        assert list(memory.select(small, query)) == list(memory.select(large, query)), args


def lonlat_of_tile(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    n = 1 << z

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return x / n * 360 - 180, lat(y + 1), (x + 1) / n * 360 - 180, lat(y)


@slow_synth
@pytest.mark.backends
def test_a_full_zoom_tile_holds_every_point_of_its_area_with_its_fields(sclient, frames):
    ents = frames["synth_enterprises"].set_index("id")
    z = mvt.FULL_POINTS_ZOOM
    tiles = pd.Series([mvt.tile_range(z, [p.x, p.y, p.x, p.y])[:2] for p in ents.geometry])
    x, y = tiles.value_counts().index[0]  # the tile with the most points
    r = sclient.get(f"/tiles/synth_enterprises/{z}/{x}/{y}.mvt")
    assert r.status_code == 200 and r.headers["Content-Type"] == mvt.MEDIA_TYPE
    feats = mapbox_vector_tile.decode(r.data)["synth_enterprises"]["features"]
    got = {f["properties"]["id"]: f for f in feats}
    assert len(got) == len(feats) >= 3
    west, south, east, north = lonlat_of_tile(z, x, y)
    assert _inside(frames["synth_enterprises"], (west, south, east, north)) <= set(got)
    for fid, feat in got.items():
        row = ents.loc[fid]
        props = feat["properties"]
        assert props["sector"] == row.sector and props["county_adcode"] == row.county_adcode
        assert props["synthetic"] is True and props["employees"] == row.employees
        assert ("zone" in props) == isinstance(row.zone, str)
        px, py = feat["geometry"]["coordinates"]  # tile units, y up as decoded
        lon = west + px / mvt.EXTENT * (east - west)
        assert abs(lon - row.geometry.x) <= (east - west) / mvt.EXTENT


@slow_synth
@pytest.mark.backends
def test_low_zoom_point_tiles_keep_one_point_per_cell(sclient, frames):
    ents = frames["synth_enterprises"]
    x, y, _, _ = mvt.tile_range(5, [*SHANGHAI, *SHANGHAI])
    body = sclient.get(f"/tiles/synth_enterprises/5/{x}/{y}.mvt").data
    feats = mapbox_vector_tile.decode(body)["synth_enterprises"]["features"]
    inside = _inside(ents, lonlat_of_tile(5, x, y))
    ids = [f["properties"]["id"] for f in feats]
    assert 0 < len(ids) <= len(inside) + 200 and set(ids) <= set(ents.id)
    cells = {(f["geometry"]["coordinates"][0] + mvt.BUFFER) // mvt.POINT_CELL for f in feats}
    assert len(cells) > 10
    keys = [((f["geometry"]["coordinates"][0] + mvt.BUFFER) // mvt.POINT_CELL,
             (mvt.EXTENT - f["geometry"]["coordinates"][1] + mvt.BUFFER) // mvt.POINT_CELL)
            for f in feats]
    assert len(keys) == len(set(keys))


@slow_synth
@pytest.mark.backends
def test_synthetic_polygon_and_zone_tiles_and_tilejson(sclient):
    for lid, z in (("synth_counties", 5), ("synth_counties", 9), ("synth_counties", 11),
                   ("synth_zones", 5), ("synth_zones", 12)):
        x, y, _, _ = mvt.tile_range(z, [*WUHAN, *WUHAN])
        r = sclient.get(f"/tiles/{lid}/{z}/{x}/{y}.mvt")
        assert r.status_code == 200
        decoded = mapbox_vector_tile.decode(r.data) if r.data else {}
        if lid == "synth_counties":
            ids = {f["id"] for f in decoded[lid]["features"]}
            assert 420106 in ids  # 武昌区
    doc = sclient.get("/tiles/synth_enterprises.json").get_json()
    assert doc["synthetic"] is True and "SYNTHETIC" in doc["name"]
    assert f"zoom {mvt.FULL_POINTS_ZOOM}" in doc["vector_layers"][0]["description"]
    assert doc["tiles"][0].endswith("/tiles/synth_enterprises/{z}/{x}/{y}.mvt")


@slow_synth
def test_point_tiles_carry_the_attributes_the_general_encoder_would(memory_app):
    store = memory_app.extensions["atlas_store"]
    for lid in ("synth_zones", "synth_enterprises"):
        tl = mvt.tile_layer(store, lid)
        x, y, _, _ = mvt.tile_range(4, [*WUHAN, *WUHAN])
        decoded = mapbox_vector_tile.decode(mvt.point_layer(tl, 4, x, y))[lid]["features"]
        assert decoded
        for feat in decoded:
            i = tl.prep.index.get(str(feat["properties"]["id"]))
            expected = mvt._feature_attributes(tl.prep, i)
            assert feat["properties"] == expected
