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
from tests.conftest import dated_build, make_app
from tests.support.backends import GEOPACKAGE


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
    _replace_with_a_broken_file(path)
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


@pytest.mark.backends
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
    plain = make_app(built_atlas, GEOPACKAGE).test_client()
    href = plain.get("/api/", headers=forwarded).get_json()["links"][0]["href"]
    assert href.startswith("http://localhost/"), "proxy headers trusted without configuration"
    behind = make_app(built_atlas, GEOPACKAGE, PROXY_COUNT=1).test_client()
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
    small = make_app(built_atlas, GEOPACKAGE, RESPONSE_CACHE_BYTES=limit)
    c = small.test_client()
    http.CACHE.clear()
    for n in range(1, 40):
        assert c.get(f"/api/collections/projects/items?limit={n}",
                     headers={"Accept-Encoding": "gzip"}).status_code == 200
    assert 0 < http.CACHE.nbytes <= limit
    assert c.get("/api/collections/counties/items?limit=200").status_code == 200  # > limit/4
    assert 0 < http.CACHE.nbytes <= limit
    http.CACHE.clear()


# ---------------------------------------------------------------------------------------------
# The cache-hit fast path (server.http.FastPath): a replayed answer is the first one again


REPLAYED = ["/api/collections/projects/items?limit=100", "/api/collections/projects/items/{project}",
            "/api/", "/download/projects.csv", "/map/geometry/counties/lo.json",
            "/tiles/counties/6/51/26.mvt"]
CODINGS = ["identity", "gzip", "br"]


def _fresh(atlas, **config):
    """An app of its own: its fast path has replayed nothing yet."""
    app = create_app({"DATA": str(atlas), "TESTING": True, **config})
    return app, app.extensions["atlas_fastpath"]


def _fresh_copy(tmp_path, built_atlas):
    """A client of an app of its own serving a copy of the build, which a test may replace."""
    path = tmp_path / "atlas.gpkg"
    shutil.copy(built_atlas, path)
    app, fast = _fresh(path)
    return path, app.test_client(), fast


def _replace_with_a_broken_file(path):
    broken = path.parent / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    os.replace(broken, path)


def _headers(response) -> list[tuple[str, str]]:
    return sorted(response.headers.items())


@pytest.mark.parametrize("url", REPLAYED)
@pytest.mark.parametrize("coding", CODINGS)
def test_a_replayed_answer_is_the_first_answer_byte_for_byte(built_atlas, url, coding):
    app, fast = _fresh(built_atlas)
    client = app.test_client()
    if "{project}" in url:
        one = create_app({"DATA": str(built_atlas), "TESTING": True}).test_client()
        url = url.format(project=one.get("/api/collections/projects/items?limit=1").get_json()
                         ["features"][0]["id"])
    ask = {"Accept-Encoding": coding}
    first = client.get(url, headers=ask)
    assert first.status_code == 200 and fast.hits == 0
    again = client.get(url, headers=ask)
    assert fast.hits == 1, "the second answer did not come from the fast path"
    assert again.status == first.status and again.data == first.data
    assert _headers(again) == _headers(first)
    if len(first.data) > 2048 and coding != "identity":
        assert first.headers["Content-Encoding"] == coding  # each coding is its own answer


def test_each_coding_is_replayed_as_itself(built_atlas):
    app, fast = _fresh(built_atlas)
    client = app.test_client()
    url = "/api/collections/projects/items?limit=100"
    first = {c: client.get(url, headers={"Accept-Encoding": c}) for c in CODINGS}
    again = {c: client.get(url, headers={"Accept-Encoding": c}) for c in CODINGS}
    assert fast.hits == 3
    assert len({r.headers["ETag"] for r in again.values()}) == 3
    for c in CODINGS:
        assert again[c].data == first[c].data and _headers(again[c]) == _headers(first[c])
    assert gzip.decompress(again["gzip"].data) == again["identity"].data


@pytest.mark.parametrize("coding", ["identity", "gzip"])
def test_a_304_from_the_fast_path_is_the_304_flask_gives(built_atlas, coding):
    url = "/api/collections/projects/items?limit=100"
    app, fast = _fresh(built_atlas)
    client = app.test_client()
    tag = client.get(url, headers={"Accept-Encoding": coding}).headers["ETag"]
    for held in (tag, f'"other", W/{tag}', "*"):
        ask = {"Accept-Encoding": coding, "If-None-Match": held}
        hits = fast.hits
        replayed = client.get(url, headers=ask)
        assert fast.hits == hits + 1
        slow_app, _ = _fresh(built_atlas)  # nothing to replay: Flask answers
        slow = slow_app.test_client().get(url, headers=ask)
        assert replayed.status_code == slow.status_code == 304 and replayed.data == b""
        assert replayed.status == slow.status
        assert _headers(replayed) == _headers(slow), held
    other = client.get(url, headers={"Accept-Encoding": coding, "If-None-Match": '"other"'})
    assert other.status_code == 200 and other.headers["ETag"] == tag


def test_a_new_build_replaces_a_replayed_answer_at_once(tmp_path, built_atlas):
    path, client, fast = _fresh_copy(tmp_path, built_atlas)
    url = "/api/collections/cities/items?limit=2"
    old = client.get(url)
    assert client.get(url).data == old.data and fast.hits == 1
    dated_build(built_atlas, path, "2099-01-01T00:00:00Z")
    new = client.get(url, headers={"If-None-Match": old.headers["ETag"]})
    assert new.status_code == 200 and new.headers["ETag"] != old.headers["ETag"]
    assert new.get_json()["timeStamp"] == "2099-01-01T00:00:00Z"
    assert new.headers["X-Atlas-Built-At"] == "2099-01-01T00:00:00Z"
    assert client.get(url).data == new.data and fast.hits == 2  # the new answer is replayed
    page = client.get("/")  # a nonce page too: made anew for the new build, then replayed
    assert fast.hits == 2 and client.get("/").status_code == 200 and fast.hits == 3
    dated_build(built_atlas, path, "2099-01-02T00:00:00Z")
    assert client.get("/").status_code == 200 and fast.hits == 3
    assert page.status_code == 200


def test_a_replacement_that_fails_to_load_keeps_the_replayed_answer(tmp_path, built_atlas):
    path, client, fast = _fresh_copy(tmp_path, built_atlas)
    url = "/api/collections/cities/items?limit=2"
    first = client.get(url)
    _replace_with_a_broken_file(path)
    assert client.get(url).data == first.data  # Flask: the loaded build keeps serving
    hits = fast.hits
    assert client.get(url).data == first.data and fast.hits == hits + 1


def test_behind_a_tls_proxy_replayed_links_stay_https_and_apart_from_http(built_atlas):
    app, fast = _fresh(built_atlas, PROXY_COUNT=1)
    client = app.test_client()
    url = "/api/collections/projects/items?limit=1"
    tls = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "atlas.example.org"}

    def hrefs(response):
        return [link["href"] for link in response.get_json()["links"]]

    for _ in range(2):  # made, then replayed
        secure, plain = client.get(url, headers=tls), client.get(url)
        assert all(h.startswith("https://atlas.example.org/api/") for h in hrefs(secure))
        assert all(h.startswith("http://localhost/api/") for h in hrefs(plain))
    prefixed = client.get(url, headers={**tls, "X-Forwarded-Prefix": "/atlas"})
    assert all(h.startswith("https://atlas.example.org/atlas/api/") for h in hrefs(prefixed))
    assert fast.hits == 2


def _nonce(response) -> str:
    import re

    return re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)


@pytest.mark.parametrize("url", ["/", "/embed/map/counties"])
@pytest.mark.parametrize("coding", CODINGS)
def test_a_replayed_nonce_page_has_a_fresh_nonce_in_its_body_and_headers(built_atlas, url, coding):
    app, fast = _fresh(built_atlas)
    client = app.test_client()
    ask = {"Accept-Encoding": coding}
    pages = [client.get(url, headers=ask) for _ in range(3)]
    assert fast.hits == 2
    nonces = [_nonce(p) for p in pages]
    assert len(set(nonces)) == 3
    packed = coding == "gzip"  # nonce pages are spliced from gzip pieces: br clients get identity
    bodies = [gzip.decompress(p.data) if packed else p.data for p in pages]
    for page, body, nonce in zip(pages, bodies, nonces):
        assert page.headers.get("Content-Encoding") == ("gzip" if packed else None)
        assert int(page.headers["Content-Length"]) == len(page.data)
        assert f'nonce="{nonce}"'.encode() in body
        assert body.replace(nonce.encode(), nonces[0].encode()) == bodies[0]
        same = [(k, v.replace(nonce, nonces[0])) for k, v in _headers(page) if k != "Content-Length"]
        assert same == [(k, v) for k, v in _headers(pages[0]) if k != "Content-Length"]


def test_other_methods_are_never_replayed(built_atlas):
    app, fast = _fresh(built_atlas)
    client = app.test_client()
    url = "/api/collections/projects/items?limit=2"
    client.get(url)
    head = client.head(url)
    assert head.status_code == 200 and head.data == b""
    assert client.options(url).status_code == 200
    assert fast.hits == 0


def test_errors_are_never_replayed(built_atlas):
    app, fast = _fresh(built_atlas)
    client = app.test_client()
    for url, status in (("/api/collections/nope/items", 404),
                        ("/api/collections/projects/items?limit=x", 400)):
        assert [client.get(url).status_code for _ in range(2)] == [status, status]
    assert fast.hits == 0 and fast.nbytes == 0


def test_the_fast_path_stays_within_its_bound(built_atlas):
    limit = 400_000  # the 39 answers together are about 1 MB; each is below limit / 4
    app, fast = _fresh(built_atlas, RESPONSE_CACHE_BYTES=limit)
    client = app.test_client()
    for n in range(1, 40):
        assert client.get(f"/api/collections/projects/items?limit={n}").status_code == 200
    assert 0 < fast.nbytes <= limit
    assert client.get("/api/collections/projects/items?limit=39").status_code == 200
    assert fast.hits == 1  # the newest answers are kept
