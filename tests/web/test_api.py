"""OGC API – Features at /api: documents, paging, filters, errors, HTTP behaviour.

Counts come from the session's build (read with pyogrio), never from numbers written here:
the parks, clusters and projects are still being filled in.
"""

from __future__ import annotations

import gzip
from urllib.parse import parse_qs, urlsplit

import pytest

from layers.registry import LAYERS
from server import create_app
from server.api.ogc import CONFORMANCE, CRS84
from tests.conftest import dated_build, make_app
from tests.rfc7946 import assert_rfc7946


@pytest.fixture(scope="module")
def frames(app):
    store = app.extensions["atlas_store"]
    return {lid: store.layer(lid) for lid in LAYERS}


def get_json(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
    return response.get_json()


def assert_links(links):
    assert links, "no links"
    for link in links:
        assert link["href"].startswith("http"), link
        assert link["rel"] and link["type"], link


def path_of(href: str) -> str:
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def test_landing_page_links_everything_a_client_needs(client):
    doc = get_json(client, "/api")
    assert_links(doc["links"])
    rels = {link["rel"]: link for link in doc["links"]}
    assert {"self", "alternate", "service-desc", "conformance", "data"} <= set(rels)
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert get_json(client, "/api/")["title"] == doc["title"]


def test_conformance_declares_core_geojson_html_oas30(client):
    doc = get_json(client, "/api/conformance")
    assert set(CONFORMANCE) <= set(doc["conformsTo"])
    assert_links(doc["links"])


@pytest.mark.backends
def test_collections_are_the_registered_layers_with_counts_and_provenance(client, app,
                                                                         build_counts):
    doc = get_json(client, "/api/collections")
    assert [c["id"] for c in doc["collections"]] == list(LAYERS)
    assert_links(doc["links"])
    meta = app.extensions["atlas_store"].meta
    assert doc["provenance"]["built_at"] == meta["built_at"]
    assert [d["title_zh"] for d in doc["provenance"]["documents"]] == \
        [d["title_zh"] for d in meta["documents"]]
    for c in doc["collections"]:
        assert_links(c["links"])
        assert c["numberOfFeatures"] == build_counts[c["id"]]
        assert c["crs"] == [CRS84] and c["itemType"] == "feature"
        rels = {(link["rel"], link["type"]) for link in c["links"]}
        assert ("items", "application/geo+json") in rels
        assert ("enclosure", "text/csv; charset=utf-8") in rels
        if build_counts[c["id"]]:
            x0, y0, x1, y1 = c["extent"]["spatial"]["bbox"][0]
            assert 105 < x0 < x1 < 120 and 24 < y0 < y1 < 34  # lon/lat around Hubei and Hunan


def test_one_collection_and_its_fields(client):
    doc = get_json(client, "/api/collections/parks")
    assert doc["id"] == "parks" and "园区" in doc["title"]
    assert {f["name"] for f in doc["fields"]} == set(LAYERS["parks"].field_names)
    assert doc["filters"]["sector"] == "json" and doc["filters"]["city_adcode"] == "int"
    assert "name_zh" not in doc["filters"]


@pytest.mark.parametrize("layer_id", list(LAYERS))
@pytest.mark.backends
def test_items_match_the_build_and_are_rfc7946(client, layer_id, build_counts):
    doc = get_json(client, f"/api/collections/{layer_id}/items?limit=10000")
    assert doc["numberMatched"] == build_counts[layer_id]
    assert doc["numberReturned"] == len(doc["features"]) == build_counts[layer_id]
    assert_rfc7946(doc)
    assert_links(doc["links"])
    for feat in doc["features"][:3]:
        assert set(feat["properties"]) == set(LAYERS[layer_id].field_names)
    assert doc["provenance"]["built_at"]


@pytest.mark.backends
def test_ids_are_stable_codes_and_each_feature_has_its_own_page(client, frames):
    doc = get_json(client, "/api/collections/counties/items?limit=3")
    assert [f["id"] for f in doc["features"]] == frames["counties"].adcode.head(3).tolist()
    one = get_json(client, f"/api/collections/counties/items/{doc['features'][0]['id']}")
    assert one["type"] == "Feature" and one["properties"]["adcode"] == doc["features"][0]["id"]
    assert_rfc7946(one)
    assert_links(one["links"])
    if len(frames["parks"]):
        pid = frames["parks"].id.iloc[0]
        assert get_json(client, f"/api/collections/parks/items/{pid}")["id"] == pid


@pytest.mark.backends
def test_default_limit_paging_and_links(client, build_counts):
    doc = get_json(client, "/api/collections/counties/items")
    assert doc["numberReturned"] == min(100, build_counts["counties"])
    seen, url, pages = [], "/api/collections/counties/items?limit=40&province=湖北省", 0
    while url:
        page = get_json(client, url)
        seen += [f["id"] for f in page["features"]]
        links = {link["rel"]: link for link in page["links"]}
        assert links["self"]["type"] == "application/geo+json"
        if pages:
            assert "prev" in links
        url = path_of(links["next"]["href"]) if "next" in links else None
        pages += 1
    assert len(seen) == len(set(seen)) == page["numberMatched"] > 0
    assert pages == -(-len(seen) // 40)
    assert "province" in parse_qs(urlsplit(links["self"]["href"]).query)


@pytest.mark.backends
def test_offset_past_the_end_is_an_empty_page(client, build_counts):
    doc = get_json(client, f"/api/collections/cities/items?offset={build_counts['cities'] + 5}")
    assert doc["features"] == [] and doc["numberMatched"] == build_counts["cities"]


@pytest.mark.backends
def test_limit_above_the_maximum_is_clamped(built_atlas, backend):
    client = make_app(built_atlas, backend, API_MAX_LIMIT=5, API_DEFAULT_LIMIT=3).test_client()
    assert client.get("/api/collections/counties/items").get_json()["numberReturned"] == 3
    doc = client.get("/api/collections/counties/items?limit=500").get_json()
    assert doc["numberReturned"] == 5
    spec = client.get("/api/openapi").get_json()
    limit = next(p for p in spec["paths"]["/collections/counties/items"]["get"]["parameters"]
                 if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 5 and limit["schema"]["default"] == 3


def _ids(doc):
    return [f["id"] for f in doc["features"]]


@pytest.mark.backends
def test_filters_on_declared_fields(client, frames):
    parks = frames["parks"]
    want = [i for i, s in zip(parks.id, parks.sectors) if s and "auto" in s]
    assert _ids(get_json(client, "/api/collections/parks/items?sector=auto&limit=10000")) == want
    assert _ids(get_json(client, "/api/collections/parks/items?sectors=auto&limit=10000")) == want
    either = [i for i, s in zip(parks.id, parks.sectors) if s and {"auto", "ict"} & set(s)]
    assert _ids(get_json(client, "/api/collections/parks/items?sector=auto,ict&limit=10000")) == either
    want = parks.id[parks.city_adcode == 420100].tolist()
    assert _ids(get_json(client, "/api/collections/parks/items?city_adcode=420100&limit=10000")) == want
    want = parks.id[parks.precision == "city"].tolist()
    assert _ids(get_json(client, "/api/collections/parks/items?precision=city&limit=10000")) == want
    counties = frames["counties"]
    want = counties.adcode[counties.parent_adcode == 420300].tolist()
    assert _ids(get_json(client, "/api/collections/counties/items?parent_adcode=420300")) == want
    assert want


@pytest.mark.backends
def test_q_searches_chinese_english_aliases_and_pinyin(client):
    for q in ("襄阳", "XIANGYANG", "xiangyang", "xy"):
        names = [f["properties"]["name_zh"] for f in
                 get_json(client, f"/api/collections/cities/items?q={q}")["features"]]
        assert "襄阳市" in names, q
    doc = get_json(client, "/api/collections/counties/items?q=wuchang district")
    assert [f["properties"]["name_zh"] for f in doc["features"]] == ["武昌区"]
    assert get_json(client, "/api/collections/cities/items?q=nowhere-at-all")["numberMatched"] == 0


@pytest.mark.backends
def test_bbox_selects_what_intersects_it(client, frames):
    import shapely

    box = (114.2, 30.5, 114.4, 30.7)  # central Wuhan
    doc = get_json(client, "/api/collections/counties/items?bbox=" + ",".join(map(str, box)))
    counties = frames["counties"]
    want = counties.adcode[counties.intersects(shapely.box(*box))].tolist()
    assert _ids(doc) == want and 420106 in want  # 武昌区
    crs = get_json(client, f"/api/collections/counties/items?bbox=114.2,30.5,114.4,30.7&bbox-crs={CRS84}")
    assert _ids(crs) == want
    six = get_json(client, "/api/collections/counties/items?bbox=114.2,30.5,0,114.4,30.7,10")
    assert _ids(six) == want


BAD_ITEMS = [
    "bbox=1,2,3", "bbox=1,2,3,4,5", "bbox=a,b,c,d", "bbox=", "bbox=0,50,10,40",
    "bbox=0,0,200,10", "bbox=nan,0,1,1", "bbox=0,0,inf,1", "bbox=0,-91,1,1", "bbox=1,2,3,4&bbox=1,2,3,4",
    "bbox-crs=EPSG:3857", "bbox-crs=http://www.opengis.net/def/crs/EPSG/0/4326",
    "limit=0", "limit=-1", "limit=abc", "limit=1.5", "limit=", "limit=1e3", "limit=%EF%BC%91",
    "limit=99999999999999999999",
    "offset=-1", "offset=x", "offset=1.5", "offset=",
    "foo=1", "name_zh=武汉", "properties=name_zh", "sortby=name_zh", "filter=1%3D1", "crs=EPSG:4326",
    "f=xml", "f=", "city_adcode=abc", "city_adcode=", "city_adcode=4201%2C", "sector=auto&sectors=ict",
    "kind=a&kind=b", "__class__=x", "q=a&q=b",
]


@pytest.mark.parametrize("query", BAD_ITEMS)
def test_bad_parameters_answer_400_with_code_and_description(client, query):
    response = client.get(f"/api/collections/parks/items?{query}")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    body = response.get_json()
    assert set(body) == {"code", "description"} and body["description"]


@pytest.mark.parametrize("url", ["/api?foo=1", "/api/collections?limit=3", "/api/conformance?f=pdf",
                                 "/api/collections/parks?bbox=1,2,3,4",
                                 "/api/collections/parks/items/x?limit=1"])
def test_documents_reject_parameters_they_do_not_take(client, url):
    assert client.get(url).status_code == 400


@pytest.mark.parametrize("url", [
    "/api/collections/nope", "/api/collections/nope/items", "/api/collections/counties__lo/items",
    "/api/collections/..%2Fatlas/items", "/api/collections/counties/items/999999",
    "/api/collections/parks/items/no-such-park", "/api/collections/counties/items/..%2F..%2Fetc",
    "/api/nothing",
])
def test_unknown_collections_and_features_answer_404(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert set(response.get_json()) == {"code", "description"}


@pytest.mark.backends
def test_html_with_f_html_escaped(client):
    for url in ("/api", "/api/conformance", "/api/collections", "/api/collections/parks",
                "/api/collections/cities/items", "/api/collections/counties/items/420102",
                "/api/openapi"):
        response = client.get(url + "?f=html")
        assert response.status_code == 200 and response.mimetype == "text/html", url
        assert "<script" not in response.get_data(as_text=True)
    page = client.get("/api/collections/counties/items/420102?f=html").get_data(as_text=True)
    assert "江岸区" in page


@pytest.mark.backends
def test_json_is_utf8_not_escaped(client):
    raw = client.get("/api/collections/cities/items?limit=31").data
    assert "武汉市".encode() in raw and b"\\u" not in raw


@pytest.mark.backends
def test_geometries_are_crs84_rounded(client):
    doc = get_json(client, "/api/collections/counties/items?limit=1")
    ring = doc["features"][0]["geometry"]["coordinates"][0][0]
    lon, lat = ring[0]
    assert 108 < lon < 117 and 24 < lat < 34
    assert all(len(repr(v).split(".")[-1]) <= 6 for v in ring[0])


def test_etag_and_304(client):
    url = "/api/collections/counties/items?limit=5"
    first = client.get(url)
    tag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    other = client.get("/api/collections/counties/items?limit=6", headers={"If-None-Match": tag})
    assert other.status_code == 200


@pytest.mark.backends
def test_gzip_includes_geojson_and_etag_survives_it(client):
    url = "/api/collections/counties/items?limit=20"
    response = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "application/geo+json"
    assert "Accept-Encoding" in response.headers["Vary"]
    doc = __import__("json").loads(gzip.decompress(response.data))
    assert doc["numberReturned"] == 20
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0"})
    assert "Content-Encoding" not in refused.headers


def test_cors_for_get_and_preflight(client):
    response = client.get("/api/collections", headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options("/api/collections/parks/items",
                         headers={"Origin": "https://example.org",
                                  "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 200
    assert "GET" in pre.headers["Access-Control-Allow-Methods"]
    assert client.post("/api/collections").status_code == 405


def test_openapi_describes_every_parameter(client):
    response = client.get("/api/openapi")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    spec = response.get_json()
    assert spec["openapi"].startswith("3.0")
    for layer in LAYERS.values():
        params = {p["name"] for p in spec["paths"][f"/collections/{layer.id}/items"]["get"]["parameters"]}
        assert {"f", "bbox", "bbox-crs", "limit", "offset", "q"} <= params
        assert set(layer.filterable) <= params
        assert f"/collections/{layer.id}/items/{{featureId}}" in spec["paths"]
    parks = {p["name"] for p in spec["paths"]["/collections/parks/items"]["get"]["parameters"]}
    assert "sector" in parks


def test_a_new_build_changes_the_etag(tmp_path, built_atlas):
    import shutil

    path = tmp_path / "atlas.gpkg"
    shutil.copy(built_atlas, path)
    client = create_app({"DATA": str(path), "TESTING": True}).test_client()
    before = client.get("/api/collections/cities/items").headers["ETag"]
    dated_build(built_atlas, path, "2099-01-01T00:00:00Z")
    response = client.get("/api/collections/cities/items", headers={"If-None-Match": before})
    assert response.status_code == 200 and response.headers["ETag"] != before
    assert response.get_json()["provenance"]["built_at"] == "2099-01-01T00:00:00Z"


def test_the_readme_examples_answer(client):
    """docs/api.md's curl/ogrinfo examples work (docs that are tested)."""
    import re

    from tests.conftest import REPO

    text = (REPO / "docs" / "api.md").read_text(encoding="utf-8")
    section = text[text.index("## Data API and downloads"):]
    section = section[:section.index("\n## ", 5)]
    urls = re.findall(r"'http://127\.0\.0\.1:8000(/[^']*)'", section)
    assert len(urls) >= 2
    for url in urls:
        assert client.get(url).status_code == 200, url
    for layer in re.findall(r"OAPIF:http://127\.0\.0\.1:8000/api (\w+)", section):
        assert client.get(f"/api/collections/{layer}").status_code == 200, layer
    for params in re.findall(r"`((?:sector|city_adcode|precision|q)=[^`]+)`", section):
        layer = "parks" if not params.startswith("q=") else "cities"
        assert client.get(f"/api/collections/{layer}/items?{params}").status_code == 200, params


@pytest.mark.parametrize("layer, q, name", [
    ("parks", "武汉经开", "武汉经济技术开发区"), ("counties", "changyang", "长阳土家族自治县"),
    ("counties", "zengdu", "曾都区"), ("parks", "whjkq", "武汉经济技术开发区"),
])
@pytest.mark.backends
def test_q_finds_abbreviations_and_place_readings_like_the_map(client, layer, q, name):
    names = [f["properties"]["name_zh"] for f in
             get_json(client, f"/api/collections/{layer}/items?q={q}&limit=1000")["features"]]
    assert name in names
