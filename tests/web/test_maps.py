"""The map pages on the Flask client: routes, offline assets, CSP, escaping, base maps, data."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from server.store import AtlasStore
from tests.conftest import make_app
from tests.map_fixtures import CORRIDOR, CORRIDOR_MEMBERS, XSS, XSS_PARK
from tests.support.backends import GEOPACKAGE

DATA_RE = re.compile(r'<script type="application/json" id="atlas-data">(.*?)</script>', re.S)


@pytest.fixture(scope="session")
def fx_client(map_atlas, backend, per_backend):
    app = per_backend(("fx_app", backend), lambda: make_app(
        map_atlas, backend, FRAME_ANCESTORS="'self' https://intranet.example"))
    return app.test_client()


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    html = response.get_data(as_text=True)
    data = json.loads(DATA_RE.search(html).group(1))
    return response, html, data


def outside_data(html: str) -> str:
    return DATA_RE.sub("", html)


@pytest.mark.backends
def test_atlas_page_has_every_layer_grouped_with_build_counts(client, app):
    response, html, data = page(client, "/")
    counts = AtlasStore(app.config["DATA"]).counts()
    assert {lay["id"]: lay["count"] for lay in data["layers"]} == counts
    assert [g["id"] for g in data["groups"]] == ["boundaries", "parks", "clusters", "projects"]
    assert sorted(sum((g["layers"] for g in data["groups"]), [])) == sorted(counts)
    assert '<html lang="zh-CN">' in html and "湖北产业集群地图" in html
    script = client.get(re.search(r'<script src="(/static/map/[0-9a-f]+\.js)"', html).group(1))
    assert "L.control.scale()" in script.get_data(as_text=True)  # the map's script, as a file
    assert data["view"] == "atlas" and data["base"] == "none"


def test_every_asset_is_served_by_the_app(client):
    _, html, _ = page(client, "/")
    refs = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert refs and all(r.startswith("/static/") for r in refs), refs
    assert not re.search(r'(?:src|href)="(?:https?:)?//', outside_data(html))
    for ref in refs:
        assert client.get(ref).status_code == 200, f"{ref}: run `make setup` (npm assets)"
    assert client.get("/static/vendor/hydro/rivers.geojson").status_code == 200


def test_pages_have_no_inline_script_a_csp_without_nonce_and_refuse_framing(client):
    response, html, _ = page(client, "/")
    csp = response.headers["Content-Security-Policy"]
    assert csp.split("script-src")[1].split(";")[0].split() == ["'self'"]  # no nonce, no inline
    assert "nonce" not in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "img-src 'self' data:;" in csp  # no tile host with the default base map
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert any("/static/map/" in attrs for attrs, _ in scripts)  # the map's own, as a file
    for attrs, text in scripts:  # each loads a file, or is inert data (the view's JSON)
        assert ('src="' in attrs and not text.strip()) or 'type="application/json"' in attrs, attrs


def test_embed_may_be_framed_by_configured_hosts_only(fx_client):
    response, html, data = page(fx_client, "/embed")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://intranet.example" in csp
    assert "X-Frame-Options" not in response.headers
    assert 'id="atl-panel"' not in html and data["embed"] is True
    response, _, data = page(fx_client, f"/embed/cluster/{CORRIDOR}?lang=en")
    assert data["view"] == "cluster" and data["lang"] == "en"
    _, _, data = page(fx_client, "/embed?layer=parks")
    assert data["view"] == "layer" and data["visible"] == ["parks"]


def test_the_page_is_gzipped_when_asked(client):
    plain = client.get("/").get_data()
    packed = client.get("/", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(packed.get_data()).count(b"atlas-data") == plain.count(b"atlas-data")
    assert len(packed.get_data()) < len(plain) / 4


def test_english_switch(client):
    _, html, data = page(client, "/?lang=en")
    assert '<html lang="en">' in html and "Hubei Cluster Atlas" in html
    parks = next(lay for lay in data["layers"] if lay["id"] == "parks")
    assert parks["title"] == "Parks, zones and bases"
    assert data["ui"]["lang_switch"] == "中文"


def test_one_layer_and_unknown_views(client):
    _, _, data = page(client, "/map/counties")
    assert data["view"] == "layer" and data["visible"] == ["counties"]
    assert client.get("/map/nope").status_code == 404
    assert client.get("/cluster/nope").status_code == 404
    assert client.get("/embed/map/nope").status_code == 404


@pytest.mark.backends
def test_cluster_view_lists_members_in_order_with_roles(fx_client):
    _, html, data = page(fx_client, f"/cluster/{CORRIDOR}")
    c = data["cluster"]
    assert [m["adcode"] for m in c["members"]] == CORRIDOR_MEMBERS
    assert [m["n"] for m in c["members"]] == [1, 2, 3, 4, 5]
    roles = {m["adcode"]: m["role"] for m in c["members"]}
    assert roles[420300] == "中国商用车之都" and roles[421300] == "中国专用车之都" and roles[420900] == ""
    assert all(m["xy"] for m in c["members"])
    assert XSS_PARK in c["parks"]  # the fixture park lies in 十堰
    assert "测试汽车走廊" in html  # the page title


@pytest.mark.backends  # the members' and cities' extents as the store serves them
def test_the_page_frames_what_the_print_export_frames(fx_client):
    # print and embeds fit the page's extent (static/atlas/print.js): the export's, one rule
    from server.exports.printmap import scene
    from server.view.params import EXPORT, known_values, parse_view

    store = fx_client.application.extensions["atlas_store"]
    _, _, cluster = page(fx_client, f"/cluster/{CORRIDOR}")
    _, _, atlas = page(fx_client, "/")
    xianning = next(c for c in atlas["cities"] if c["id"] == 421200)
    with fx_client.application.app_context():
        for data_box, args in ((cluster["extent"], {"cluster": [CORRIDOR]}), (atlas["extent"], {}),
                               (xianning["bounds"], {"city": ["421200"]})):
            x0, y0, x1, y1 = scene(store, parse_view(args, EXPORT, known_values(store))).extent
            assert data_box[0] + data_box[1] == pytest.approx([y0, x0, y1, x1], abs=1e-3), args
    assert cluster["extent"] != atlas["extent"]
    assert [p["name"] for p in cluster["params"] if "map" in p["surfaces"]].count("paper") == 1
    assert cluster["papers"]["A3"] == [420.0, 297.0]


@pytest.mark.parametrize("where", ["pop", "tip"])
def test_script_injection_is_escaped(fx_client, where):
    _, html, data = page(fx_client, "/")
    assert "<img src=x" not in outside_data(html)
    park = next(p for lay in data["layers"] if lay["id"] == "parks" for p in lay["features"]
                if p["id"] == XSS_PARK)
    assert "&lt;img src=x onerror=alert(1)&gt;" in park[where]
    assert "<img" not in park[where]


def test_script_injection_in_search_terms_is_data_only(fx_client):
    _, html, data = page(fx_client, "/")
    row = next(r for r in data["search"] if r[1] == XSS_PARK)
    assert row[2] == XSS  # shown with textContent by the map script
    raw = DATA_RE.search(html).group(1)
    assert "</script" not in raw.lower() and "<!--" not in raw


@pytest.mark.backends
def test_popups_show_precision_sources_and_downloads(client, app):
    _, _, data = page(client, "/")
    store = AtlasStore(app.config["DATA"])
    parks = next(lay for lay in data["layers"] if lay["id"] == "parks")["features"]
    frame = store.layer("parks")
    approx = {r.id for r in frame.itertuples() if r.precision in ("town", "district", "county", "city")}
    assert {p["id"] for p in parks if p["approx"]} == approx
    for p in parks:
        assert "定位精度" in p["pop"] and "来源" in p["pop"]
        assert f"/download/parks.geojson?id={p['id']}" in p["pop"]
        if p["approx"]:
            assert "非实际位置" in p["pop"] and "atl-approx" in p["pop"]
    cities = next(lay for lay in data["layers"] if lay["id"] == "cities")["features"]
    wuhan = next(c for c in cities if c["id"] == 420100)
    assert "/download/cities.csv?adcode=420100" in wuhan["pop"]
    assert wuhan["np"] == int(store.layer("cities").set_index("adcode").loc[420100, "n_parks"])


def test_gaode_shifts_overlays_and_allows_only_its_tiles(client):
    _, _, plain = page(client, "/")
    response, _, shifted = page(client, "/?base=gaode")
    csp = response.headers["Content-Security-Policy"]
    assert "https://*.is.autonavi.com" in csp and "openstreetmap" not in csp
    assert shifted["datum"] == "gcj02"
    a = next(lay for lay in plain["layers"] if lay["id"] == "parks")["features"][0]["xy"]
    b = next(lay for lay in shifted["layers"] if lay["id"] == "parks")["features"][0]["xy"]
    assert 0.001 < abs(b[0] - a[0]) + abs(b[1] - a[1]) < 0.02  # about 0.6 km at Hubei
    wgs = client.get("/map/geometry/provinces/lo.json").get_json()
    gcj = client.get("/map/geometry/provinces/lo.json?datum=gcj02").get_json()
    assert wgs["keys"] == gcj["keys"] and wgs["geoms"] != gcj["geoms"]


def test_tianditu_needs_a_key(app, built_atlas):
    _, _, data = page(app.test_client(), "/?base=tianditu")
    assert data["base"] == "none"
    keyed = make_app(built_atlas, GEOPACKAGE, TIANDITU_KEY="k123")
    response, _, data = page(keyed.test_client(), "/?base=tianditu")
    assert data["base"] == "tianditu" and "tk=k123" in data["bases"][2]["url"]
    assert "https://*.tianditu.gov.cn" in response.headers["Content-Security-Policy"]


@pytest.mark.backends
def test_geometry_tiers_are_rounded_gzipped_and_keyed(client, app):
    counts = AtlasStore(app.config["DATA"]).counts()
    for tier, decimals in (("lo", 3), ("mid", 4)):
        response = client.get(f"/map/geometry/counties/{tier}.json", headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200 and response.headers["Content-Encoding"] == "gzip"
        body = json.loads(gzip.decompress(response.get_data()))
        assert len(body["keys"]) == counts["counties"]
        coord = body["geoms"][0]["coordinates"][0][0]
        coord = coord[0] if isinstance(coord[0], list) else coord
        assert all(round(v, decimals) == v for v in coord)
        etag = response.headers["ETag"]
        assert client.get(f"/map/geometry/counties/{tier}.json",
                          headers={"If-None-Match": etag}).status_code == 304
    lo = len(client.get("/map/geometry/counties/lo.json").get_data())
    mid = len(client.get("/map/geometry/counties/mid.json").get_data())
    assert lo < mid / 2
    assert client.get("/map/geometry/parks/lo.json").status_code == 404
    assert client.get("/map/geometry/counties/huge.json").status_code == 404
    assert client.get("/map/geometry/counties/lo.json?datum=bd09").status_code == 400


@pytest.mark.backends
def test_figures_show_the_unit_once_and_damaged_values_as_read(client):
    """value_text that carries its unit is not followed by the unit again (37722亿元亿元), and a
    damaged value is shown corrected, with the document's own words and the note beside it."""
    _, html, _ = page(client, "/")
    for doubled in ("达到1\ue0102万亿元万亿元", "万亿元万亿元", "75%左右%", "37722亿元亿元", "亿元亿元",
                    "%左右%"):
        assert doubled not in html, doubled
    assert "<b>达到1.2万亿元<\\/b>" in html  # 000:279 read with its decimal point, unit once
    assert "原文 「达到1&lt;U+E010&gt;2万亿元」" in html  # the seed's words, made visible, escaped
    assert "<b>7.5%左右<\\/b>" in html and "原文 「75%左右」: the decimal point is lost" in html
    assert "<b>37722亿元<\\/b>" in html


@pytest.mark.backends
def test_a_popup_geojson_link_saves_a_file_with_its_extension(client):
    _, _, data = page(client, "/")
    park = next(lay for lay in data["layers"] if lay["id"] == "parks")["features"][0]
    href = re.search(r"href='([^']*/download/parks\.geojson\?id=[^']*)'", park["pop"]).group(1)
    r = client.get(href.replace("&amp;", "&"))
    assert r.status_code == 200
    assert re.search(r'attachment; filename="[^"]+\.geojson"', r.headers["Content-Disposition"])
    assert len(r.get_json()["features"]) == 1


def test_csv_with_chinese_headers_for_excel(client):
    r = client.get("/download/parks.csv?headers=zh&sector=auto")
    head = r.data.decode("utf-8-sig").splitlines()[0].split(",")
    assert head[:3] == ["编号", "名称", "英文名称"] and head[-3:] == ["经度", "纬度", "几何（WKT）"]
    codes = client.get("/download/parks.csv?sector=auto").data.decode("utf-8-sig").splitlines()
    assert codes[0].startswith("id,name_zh") and len(codes) == len(r.data.decode("utf-8-sig").splitlines())
    for bad in ("headers=en", "headers=zh&headers=zh"):
        assert client.get(f"/download/parks.csv?{bad}").status_code == 400
    assert client.get("/download/parks.kml?headers=zh").status_code == 400


def test_downloads_page_for_people(client):
    r = client.get("/download?f=html")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "/download/parks.csv?headers=zh" in html and "/download/counties.gpkg" in html
    assert "/download?f=html" in client.get("/").get_data(as_text=True)


def test_embeds_may_be_framed_by_any_site_by_default_other_pages_by_none(client):
    assert "frame-ancestors *" in client.get("/embed").headers["Content-Security-Policy"]
    for url in ("/", "/map/parks", "/about"):
        csp = client.get(url).headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp, url


def test_favicon_is_served(client):
    r = client.get("/favicon.ico")
    assert r.status_code == 200 and r.mimetype == "image/vnd.microsoft.icon"
    assert r.data[:4] == b"\x00\x00\x01\x00"  # an ICO file


# ---------------------------------------------------------------- layers drawn from vector tiles

@pytest.fixture(scope="module")
def tiled_client(built_atlas, backend):
    """The atlas with the vector-tile threshold set low: parks (180), projects (123) and
    counties (225) are past it, the other layers are not."""
    return make_app(built_atlas, backend, MAP_TILES_THRESHOLD=100).test_client()


@pytest.mark.backends
def test_by_default_every_layer_is_in_the_page_and_no_tile_script_loads(client, app):
    _, html, data = page(client, "/")
    assert app.config["MAP_TILES_THRESHOLD"] == 2000
    assert not any("tiles" in lay for lay in data["layers"])
    assert all(len(lay["features"]) == lay["count"] for lay in data["layers"])
    assert "Leaflet.VectorGrid" not in html and "atlas/tiles" in html


@pytest.mark.backends
def test_past_the_threshold_a_layer_comes_from_vector_tiles(tiled_client, client):
    _, html, data = page(tiled_client, "/")
    _, _, plain = page(client, "/")
    layers = {lay["id"]: lay for lay in data["layers"]}
    full = {lay["id"]: lay for lay in plain["layers"]}
    tiled = {lid for lid, lay in layers.items() if "tiles" in lay}
    assert tiled == {lid for lid, lay in full.items() if lay["count"] > 100}
    assert tiled == {"parks", "projects", "counties"}
    for lid in tiled:
        lay = layers[lid]
        assert lay["tiles"] == {"url": f"/tiles/{lid}/{{z}}/{{x}}/{{y}}.mvt", "minzoom": 0, "maxzoom": 14}
        assert lay["features"] == [] and lay["count"] == full[lid]["count"]
    for lid in set(layers) - tiled:
        assert layers[lid]["features"] == full[lid]["features"]
    # what the tiles cannot tell comes along: the counties' shading and city, per county
    assert layers["counties"]["extra"] == {str(p["id"]): {"city": p["city"], "sx": p["sx"]}
                                           for p in full["counties"]["features"]}
    # the legend and filters still know every sector and kind the points have
    for key in ("sectors", "kinds", "cities", "search"):
        assert data[key] == plain[key], key
    assert layers["parks"]["lead"] == full["parks"]["lead"]
    assert data["urls"]["feature"] == "/map/feature/"
    refs = re.findall(r'<script[^>]+src="([^"]+)"', html)
    assert any("vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js" in r for r in refs)
    for ref in refs:
        assert tiled_client.get(ref).status_code == 200, f"{ref}: run `make setup` (npm assets)"


def test_tiles_follow_the_tile_zoom_settings_and_gaode(built_atlas):
    app = make_app(built_atlas, GEOPACKAGE, MAP_TILES_THRESHOLD=150, TILES_MINZOOM=2, TILES_MAXZOOM=12)
    _, _, data = page(app.test_client(), "/?base=gaode")
    parks = next(lay for lay in data["layers"] if lay["id"] == "parks")
    assert parks["tiles"] == {"url": "/tiles/parks/{z}/{x}/{y}.mvt?datum=gcj02", "minzoom": 2, "maxzoom": 12}
    assert not any("tiles" in lay for lay in data["layers"] if lay["id"] != "parks" and lay["count"] <= 150)


def test_the_threshold_is_read_from_the_environment(built_atlas, monkeypatch):
    monkeypatch.setenv("ATLAS_MAP_TILES_THRESHOLD", "150")
    app = make_app(built_atlas, GEOPACKAGE)
    assert app.config["MAP_TILES_THRESHOLD"] == 150
    _, _, data = page(app.test_client(), "/")
    assert {lay["id"] for lay in data["layers"] if "tiles" in lay} == {"parks", "counties"}


@pytest.mark.slow  # one request per feature (up to 40 a layer), thrice: the slowest web test
@pytest.mark.parametrize("lang,base", [("zh", "none"), ("en", "none"), ("zh", "gaode")])
@pytest.mark.backends
def test_a_features_popup_by_id_is_the_one_the_page_carries(client, lang, base):
    """What a click on a tile feature opens (/map/feature/...) is the page's own entry."""
    _, _, data = page(client, f"/?lang={lang}&base={base}")
    for lay in data["layers"]:
        for p in lay["features"][:40]:
            r = client.get(f"/map/feature/{lay['id']}/{p['id']}.json?lang={lang}&base={base}")
            assert r.status_code == 200, (lay["id"], p["id"])
            got = r.get_json()
            assert got.pop("at") and (lay["geom"] == "point" or got.pop("bounds"))
            assert got == {k: v for k, v in p.items() if k != "sx"}, (lay["id"], p["id"])


def test_a_feature_by_id_answers_404_for_what_is_not_there(client):
    assert client.get("/map/feature/parks/no-such-park.json").status_code == 404
    assert client.get("/map/feature/no-such-layer/1.json").status_code == 404
    assert client.get("/map/feature/cities/999999.json").status_code == 404


def _as_page_props(lid: str, a: dict, sectors: list[dict], approx: list[str]) -> dict:
    """What static/atlas/tiles.js tileProps() makes of a tile feature's attributes."""
    sec = json.loads(a.get("sectors", "[]"))
    colours = {s["code"]: s["color"] for s in sectors}
    p = {"id": a["id"], "sec": sec, "color": colours.get(sec[0], "#777777") if sec else "#777777",
         "prec": a.get("precision"), "approx": a.get("precision") in approx,
         "city": a.get("city_adcode"), "county": a.get("county_adcode")}
    if lid == "parks":
        p.update(kind=a.get("kind", ""), level=a.get("level", ""),
                 doc=a.get("named_in_documents") is not False)
    return p


@pytest.mark.parametrize("lid", ["parks", "projects"])
@pytest.mark.backends
def test_tile_attributes_give_the_points_their_page_style_and_filter_keys(client, lid):
    """Every property the symbols and filters read, made from the tiles, equals the page's."""
    import mapbox_vector_tile

    from server.store import mvt

    _, _, data = page(client, "/")
    lay = next(lay for lay in data["layers"] if lay["id"] == lid)
    want = {p["id"]: p for p in lay["features"]}
    seen = {}
    x0, y0, x1, y1 = mvt.tile_range(6, [108.3, 24.6, 116.2, 33.3])  # Hubei and Hunan, zoom 6
    for x in range(x0, x1 + 1):
        for y in range(y0, y1 + 1):
            body = client.get(f"/tiles/{lid}/6/{x}/{y}.mvt").data
            for f in (mapbox_vector_tile.decode(body).get(lid, {}).get("features", []) if body else []):
                a = f["properties"]
                seen[a["id"]] = _as_page_props(lid, a, data["sectors"], data["approx"])
    assert set(seen) == {fid for fid, p in want.items() if p["xy"]}
    for fid, props in seen.items():
        assert props == {k: want[fid][k] for k in props}, fid
