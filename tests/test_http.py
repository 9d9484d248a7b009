"""HTTP regressions (issue 11): each test reproduced its defect before the fix.

Content negotiation (Accept-Encoding with q-values, an ETag per representation, Vary, 304)
is one helper, `server.http`, used by every route; these tests hold it to that on the API,
the downloads, the map pages and the geometry.
"""

from __future__ import annotations

import gzip
import os
import shutil

import pytest

from server import create_app
from tests.conftest import make_app


@pytest.mark.parametrize("url", ["/api/collections/projects/items?limit=%2B%2B5",
                                 "/api/collections/projects/items?offset=%2B%2B5",
                                 "/download/projects.csv?limit=%2B%2B5"])
def test_repeated_plus_signs_in_a_number_answer_400_not_500(client, url):
    response = client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)[:200]
    assert response.get_json()["code"] == "InvalidParameterValue"


def test_a_replacement_that_fails_to_load_is_not_reread_on_every_request(tmp_path, built_atlas,
                                                                         monkeypatch):
    from server import store as store_module

    path = tmp_path / "atlas.gpkg"
    shutil.copy(built_atlas, path)
    client = create_app({"DATA": str(path), "TESTING": True}).test_client()
    assert client.get("/healthz").status_code == 200
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    os.replace(broken, path)
    reads = []
    real = store_module.read_atlas
    monkeypatch.setattr(store_module, "read_atlas", lambda p: (reads.append(p), real(p))[1])
    for _ in range(5):
        response = client.get("/api/collections/counties/items?limit=1")
        assert response.status_code == 200
    assert len(reads) == 1, "the broken file was read again on every request"


@pytest.mark.parametrize("url", ["/", "/map/geometry/counties/lo.json"])
def test_gzip_refused_with_q0_is_not_sent(client, url):
    for refusal in ("gzip;q=0", "gzip; q=0.000, identity", "*;q=0, identity;q=1"):
        response = client.get(url, headers={"Accept-Encoding": refusal})
        assert response.status_code == 200
        assert "Content-Encoding" not in response.headers, refusal
        assert "Accept-Encoding" in response.headers["Vary"]


def test_geometry_gives_each_coding_its_own_etag(client):
    url = "/map/geometry/counties/lo.json"
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]


@pytest.mark.parametrize("url", ["/api/collections/counties/items?limit=20",
                                 "/download/counties.geojson", "/map/geometry/counties/lo.json"])
def test_a_304_to_a_gzip_client_keeps_vary_and_the_gzip_etag(client, url):
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    tag = first.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": tag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == tag
    assert "Accept-Encoding" in again.headers["Vary"]
    assert "max-age" in again.headers["Cache-Control"]


def test_items_with_a_strong_etag_have_the_same_body_every_time(client, app):
    url = "/api/collections/projects/items?limit=3"
    first, second = client.get(url), client.get(url)
    assert first.headers["ETag"] == second.headers["ETag"]
    assert not first.headers["ETag"].startswith("W/")
    assert first.data == second.data
    built_at = app.extensions["atlas_store"].meta["built_at"]
    assert first.get_json()["timeStamp"] == built_at


def test_links_follow_a_trusted_tls_proxy_only_when_configured(built_atlas):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "atlas.example.org"}
    plain = make_app(built_atlas).test_client()
    href = plain.get("/api/", headers=forwarded).get_json()["links"][0]["href"]
    assert href.startswith("http://localhost/"), "proxy headers trusted without configuration"
    behind = make_app(built_atlas, PROXY_COUNT=1).test_client()
    links = behind.get("/api/collections/projects/items?limit=1", headers=forwarded).get_json()["links"]
    assert all(link["href"].startswith("https://atlas.example.org/api/") for link in links), links


def test_map_pages_are_made_once_but_each_answer_has_its_own_nonce(client):
    import re

    first = client.get("/", headers={"Accept-Encoding": "gzip"})
    second = client.get("/", headers={"Accept-Encoding": "gzip"})
    plain = client.get("/")
    nonces = [re.search(r"'nonce-([^']+)'", r.headers["Content-Security-Policy"]).group(1)
              for r in (first, second, plain)]
    assert len(set(nonces)) == 3
    body = gzip.decompress(first.data)  # spliced from precompressed pieces: still one valid gzip
    assert f'nonce="{nonces[0]}"'.encode() in body
    assert body.replace(nonces[0].encode(), nonces[2].encode()) == plain.data
    assert first.headers["Cache-Control"] == "no-cache" and "ETag" not in first.headers


def test_static_assets_are_fingerprinted_compressed_and_immutable(client):
    import re

    page = client.get("/").get_data(as_text=True)
    url = re.search(r'/static/atlas/core\.js\?v=[0-9a-f]+', page).group(0)
    packed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain = client.get("/static/atlas/core.js")
    assert gzip.decompress(packed.data) == plain.data
    assert "immutable" not in plain.headers["Cache-Control"]
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304
    for bad in ("/static/../server/http.py", "/static/%2e%2e/pyproject.toml", "/static/nope.js"):
        assert client.get(bad).status_code == 404


def test_the_response_cache_stays_within_its_bound(built_atlas):
    from server import http

    limit = 200_000
    small = make_app(built_atlas, RESPONSE_CACHE_BYTES=limit)
    c = small.test_client()
    http.CACHE.clear()
    for n in range(1, 40):
        assert c.get(f"/api/collections/projects/items?limit={n}",
                     headers={"Accept-Encoding": "gzip"}).status_code == 200
    assert 0 < http.CACHE.nbytes <= limit
    assert c.get("/api/collections/counties/items?limit=200").status_code == 200  # > limit/4
    assert 0 < http.CACHE.nbytes <= limit
    http.CACHE.clear()


def test_the_response_cache_counts_bytes_as_it_goes():
    """A running total (each entry as last counted, variants included once `grew` is told),
    the same as counting every entry, without counting every entry per answer."""
    from server import http

    cache = http.ResponseCache()
    limit = 10_000
    bodies = [http.Body(bytes([i % 256]) * 300, "application/json") for i in range(100)]
    for i, body in enumerate(bodies):
        cache.put(("k", i), (200, {}, body), limit)
        assert cache._total == cache.nbytes <= limit
    kept = [k for k in cache._items]
    assert len(kept) == limit // 300 and kept[-1] == ("k", 99)  # the newest stay
    body = cache.get(kept[-1])[2]
    body.coded("gzip")  # a variant made after the entry was kept
    assert cache._total < cache.nbytes
    cache.grew(kept[-1], limit)
    assert cache._total == cache.nbytes <= limit
    cache.put(("k", 99), (200, {}, http.Body(b"x" * 50, "application/json")), limit)  # replaced
    assert cache._total == cache.nbytes
    cache.trim(600)
    assert cache._total == cache.nbytes <= 600
    cache.clear()
    assert cache._total == cache.nbytes == 0
