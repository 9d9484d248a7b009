"""/download/<layer>.<fmt>: every layer in every format, filters, provenance, path safety."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyogrio
import pytest
import shapely

from layers.registry import LAYERS
from server.downloads.formats import FORMATS
from tests.rfc7946 import assert_rfc7946


@pytest.fixture(scope="module")
def meta(app):
    return app.extensions["atlas_store"].meta


def download(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.get_data(as_text=True)[:300])
    return response


@pytest.mark.parametrize("layer_id", list(LAYERS))
@pytest.mark.backends
def test_geojson_download_is_rfc7946_with_every_feature(client, layer_id, build_counts, meta):
    response = download(client, f"/download/{layer_id}.geojson")
    assert response.mimetype == "application/geo+json"
    doc = json.loads(response.data)
    assert_rfc7946(doc)
    assert "crs" not in doc and len(doc["features"]) == build_counts[layer_id]
    assert doc["provenance"]["built_at"] == meta["built_at"]
    assert response.headers["X-Atlas-Built-At"] == meta["built_at"]
    disposition = response.headers["Content-Disposition"]
    assert disposition == (f'attachment; filename="hubei-cluster-atlas_{layer_id}_'
                           f'{meta["built_at"][:10]}.geojson"')
    for feat in doc["features"]:  # longitude first: Hubei and Hunan lie east of 108°E, north of 24°N
        if feat["geometry"]:
            lon, lat = shapely.geometry.shape(feat["geometry"]).representative_point().coords[0]
            assert 108 < lon < 117 and 24 < lat < 34


@pytest.mark.parametrize("layer_id", list(LAYERS))
@pytest.mark.backends
def test_csv_opens_in_excel_with_wkt_and_lon_lat(client, layer_id, build_counts):
    response = download(client, f"/download/{layer_id}.csv")
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    csv.field_size_limit(1 << 26)  # a province outline's WKT is a few MB
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == build_counts[layer_id]
    layer = LAYERS[layer_id]
    header = response.data.decode("utf-8-sig").split("\r\n", 1)[0].split(",")
    points = layer.geometry_type == "Point"
    assert header == layer.field_names + (["lon", "lat"] if points else []) + ["wkt"]
    for row in rows[:20]:
        geom = shapely.from_wkt(row["wkt"])
        if points:
            assert (geom.x, geom.y) == pytest.approx((float(row["lon"]), float(row["lat"])))
        for f in layer.fields:
            if f.type == "json" and row[f.name]:
                json.loads(row[f.name])


@pytest.mark.backends
def test_csv_keeps_chinese_text(client):
    text = download(client, "/download/cities.csv").data.decode("utf-8-sig")
    assert "武汉市" in text and "\\u" not in text


@pytest.mark.parametrize("layer_id", ["counties", "parks", "projects"])
@pytest.mark.backends
def test_geopackage_opens_with_counts_and_provenance(client, layer_id, build_counts, tmp_path, meta):
    response = download(client, f"/download/{layer_id}.gpkg")
    path = tmp_path / "download.gpkg"
    path.write_bytes(response.data)
    frame = pyogrio.read_dataframe(path, layer=layer_id)
    assert len(frame) == build_counts[layer_id]
    assert set(LAYERS[layer_id].field_names) <= set(frame.columns)
    info = pyogrio.read_info(path, layer=layer_id)
    assert info["layer_metadata"]["ATLAS_BUILT_AT"] == meta["built_at"]
    assert json.loads(info["layer_metadata"]["ATLAS_PROVENANCE"])["layer"] == layer_id
    assert info["crs"] == "EPSG:4326"


@pytest.mark.parametrize("layer_id", ["cities", "parks", "cluster_lines"])
@pytest.mark.backends
def test_kml_has_a_placemark_per_feature(client, layer_id, build_counts, meta):
    response = download(client, f"/download/{layer_id}.kml")
    assert response.mimetype == "application/vnd.google-earth.kml+xml"
    root = ET.fromstring(response.data)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    assert len(root.findall(".//k:Placemark", ns)) == build_counts[layer_id]
    assert meta["built_at"] in root.find("k:Document/k:description", ns).text


@pytest.mark.backends
def test_downloads_take_the_items_filters(client):
    for query in ("sector=auto", "city_adcode=420100", "q=武汉", "bbox=113,29,116,31.5",
                  "precision=city&sector=auto,ict", "limit=3&offset=1"):
        api = client.get(f"/api/collections/parks/items?limit=10000&{query}").get_json()
        if "limit=3" in query:
            api = client.get(f"/api/collections/parks/items?{query}").get_json()
        doc = json.loads(download(client, f"/download/parks.geojson?{query}").data)
        assert [f["id"] for f in doc["features"]] == [f["id"] for f in api["features"]], query
        rows = download(client, f"/download/parks.csv?{query}").data.decode("utf-8-sig").splitlines()
        assert len(rows) - 1 == api["numberReturned"]
    response = download(client, "/download/parks.csv?sector=auto&city_adcode=420100")
    assert "sectors-auto" in response.headers["Content-Disposition"]
    assert "city_adcode-420100" in response.headers["Content-Disposition"]
    doc = json.loads(download(client, "/download/parks.geojson?sector=auto").data)
    assert doc["provenance"]["query"] == {"sectors": ["auto"]}


@pytest.mark.parametrize("query", ["limit=0", "offset=-1", "bbox=1,2,3", "foo=bar", "f=csv",
                                   "city_adcode=abc", "name_zh=x", "bbox-crs=EPSG:3857"])
def test_bad_download_parameters_answer_400(client, query):
    response = download(client, f"/download/parks.csv?{query}", 400)
    assert set(response.get_json()) == {"code", "description"}


TRAVERSALS = [
    "/download/../../etc/passwd", "/download/..%2F..%2Fetc%2Fpasswd", "/download/..%2f..%2fpyproject.toml",
    "/download/%2e%2e%2fserver%2f__init__.py", "/download/....//parks.csv", "/download/parks.csv/../x",
    "/download/..\\..\\pyproject.toml", "/download/..%5C..%5Cpyproject.toml", "/download/parks",
    "/download/.csv", "/download/parks.", "/download/PARKS.csv", "/download/parks.CSV",
    "/download/parks.csv%00.txt", "/download/parks.csv.exe", "/download/atlas.gpkg",
    "/download/parks__lo.geojson", "/download/counties__mid.csv", "/download/%2Fetc%2Fpasswd",
    "/download/~root.csv", "/download/$(id).csv", "/download/parks.py", "/download/__init__.py",
    "/download//etc/passwd", "/download/.geojson", "/download/atlas_meta.csv",
]


@pytest.mark.parametrize("url", TRAVERSALS)
def test_path_traversal_and_unknown_downloads_are_404(client, url):
    response = client.get(url)
    assert response.status_code in (400, 404), url
    body = response.data
    for leak in (b"root:", b"[project]", b"import ", b"SQLite format"):
        assert leak not in body


@pytest.mark.backends
def test_download_index_lists_every_layer_and_format(client):
    doc = download(client, "/download").get_json()
    assert len(doc["downloads"]) == len(LAYERS) * len(FORMATS)
    assert doc["provenance"]["documents"]


def test_download_etag_304_gzip_and_cors(client):
    url = "/download/counties.geojson"
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    assert first.headers["Access-Control-Allow-Origin"] == "*"
    assert "Content-Disposition" in first.headers["Access-Control-Expose-Headers"]
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert "filtered" not in client.get(url + "?q=x").headers["Content-Disposition"]


@pytest.mark.parametrize("layer_id", ["parks", "projects", "clusters"])
@pytest.mark.backends
def test_a_popup_download_link_gives_exactly_that_feature(client, app, layer_id):
    feature_id = app.extensions["atlas_store"].layer(layer_id).id.iloc[0]
    response = download(client, f"/download/{layer_id}.csv?id={feature_id}")
    csv.field_size_limit(1 << 30)  # a cluster's WKT is far larger than csv's default limit
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [row["id"] for row in rows] == [feature_id]
    page = client.get(f"/map/{layer_id}").get_data(as_text=True)
    assert f"/download/{layer_id}.kml?id={feature_id}" in page
