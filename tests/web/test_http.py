"""HTTP regressions (issue 11): each test reproduced its defect before the fix.

Content negotiation (Accept-Encoding with q-values, an ETag per representation, Vary, 304)
is one helper, `server.http`, used by every route; these tests hold it to that on the API,
the downloads, the map pages and the geometry.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
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


@pytest.mark.parametrize("url", [
    "/api/collections/projects/items?limit=1&limit=2",
    "/api/collections/projects/items?sector=auto&sector=steel",
    "/api/collections/projects?f=json&f=html",
    "/download/projects.geojson?sector=auto&sector=steel",
    "/tiles/cities/6/52/26.mvt?datum=wgs84&datum=gcj02",
    "/map/geometry/counties/lo.json?datum=wgs84&datum=gcj02",
    "/?city=420100&city=421200",
    "/export/map.png?city=420100&city=421200",
    "/documents/001?line=3&line=4",
])
def test_a_parameter_given_twice_is_a_400_with_a_json_message_on_every_route(client, url):
    """Which of two values was meant is not the server's to guess, on any route: the first
    one silently taken would show one thing and link another."""
    response = client.get(url)
    assert response.status_code == 400, (url, response.status_code)
    body = response.get_json()
    assert body["code"] in ("InvalidParameterValue", "BadRequest") and body["description"]


def test_a_replacement_that_fails_to_load_is_not_reread_on_every_request(tmp_path, built_atlas,
                                                                         monkeypatch):
    from server.store import snapshot as store_module

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


MAP_SCRIPT = re.compile(r'<script src="(/static/map/([0-9a-f]+)\.js)"></script>')


@pytest.mark.parametrize("url", ["/", "/embed/map/counties?lang=en"])
@pytest.mark.parametrize("coding", ["identity", "gzip"])
def test_a_map_page_is_one_cacheable_body_with_an_etag_and_a_304(client, url, coding):
    ask = {"Accept-Encoding": coding}
    first, second = client.get(url, headers=ask), client.get(url, headers=ask)
    assert first.status_code == 200 and first.data == second.data
    assert _headers(first) == _headers(second)
    tag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"  # asked again each time: a 304 is cheap
    again = client.get(url, headers={**ask, "If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    # a 304's headers replace the kept ones: the page's own CSP, not the app's default
    assert again.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]


def test_the_map_script_is_a_file_named_by_its_bytes_and_kept_for_good(client):
    html = client.get("/").get_data(as_text=True)
    url, digest = MAP_SCRIPT.search(html).groups()
    script = client.get(url)
    assert script.status_code == 200 and script.mimetype == "text/javascript"
    assert script.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert hashlib.sha256(script.data).hexdigest().startswith(digest)
    assert b"AtlasMap.init(" in script.data and b"<script" not in script.data
    assert client.get(url, headers={"If-None-Match": script.headers["ETag"]}).status_code == 304
    assert client.get("/static/map/0123456789abcdef0123.js").status_code == 404


def test_every_view_has_the_same_map_script_and_a_worker_that_drew_none_serves_it(client, monkeypatch):
    """So a page from one gunicorn worker loads its script from any other."""
    from server.maps import page as mapview

    urls = {MAP_SCRIPT.search(client.get(url).get_data(as_text=True)).group(1)
            for url in ("/", "/map/counties", "/embed/map/projects?base=osm&lang=en")}
    assert len(urls) == 1
    monkeypatch.setattr(mapview, "_SCRIPTS", type(mapview._SCRIPTS)())  # another process
    mapview._common_script.cache_clear()
    assert client.get(urls.pop()).status_code == 200


def test_the_map_script_url_changes_when_the_script_does(tmp_path, built_atlas, monkeypatch):
    from server.view import model

    path, client, _ = _fresh_copy(tmp_path, built_atlas)
    page = client.get("/")
    old_url, _ = MAP_SCRIPT.search(page.get_data(as_text=True)).groups()
    dated_build(built_atlas, path, "2099-01-01T00:00:00Z")
    rebuilt = client.get("/", headers={"If-None-Match": page.headers["ETag"]})
    assert rebuilt.status_code == 200 and rebuilt.headers["ETag"] != page.headers["ETag"]
    url, digest = MAP_SCRIPT.search(rebuilt.get_data(as_text=True)).groups()
    script = client.get(url)  # the same bytes (same map), so the same URL, still cached for good
    assert url == old_url and hashlib.sha256(script.data).hexdigest().startswith(digest)
    monkeypatch.setitem(model.HOME, "zoom", 8)  # a map drawn differently: a script of its own
    dated_build(built_atlas, path, "2099-01-02T00:00:00Z")
    new_url, _ = MAP_SCRIPT.search(client.get("/").get_data(as_text=True)).groups()
    assert new_url != old_url and b'"zoom": 8' in client.get(new_url).data
    assert client.get(old_url).data == script.data  # a page still cached elsewhere keeps working


def test_static_assets_are_fingerprinted_compressed_and_immutable(client):
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
    page = client.get("/")  # a map page too: made anew for the new build, then replayed
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


@pytest.mark.parametrize("path", ["/api/collections/projects/items", "/api/collections/parks/items"])
def test_one_etag_is_one_body_whatever_order_the_parameters_come_in(built_atlas, path):
    """Two processes, each asked first in another order: the answers they tag alike are alike
    byte for byte (the links name the parameters in one order)."""
    from server.http import CACHE

    one, other = (make_app(built_atlas, GEOPACKAGE).test_client() for _ in range(2))
    CACHE.clear()  # one process's answers are the other's in this test process: not between workers
    a = one.get(f"{path}?limit=2&sector=auto&offset=1")
    CACHE.clear()
    b = other.get(f"{path}?offset=1&sector=auto&limit=2")
    assert a.status_code == b.status_code == 200
    assert a.headers["ETag"] == b.headers["ETag"]
    assert a.get_data() == b.get_data()
