"""The maps in a real headless Chromium (Debian's package, driven by Playwright) with every
outside host unreachable: drawing, layer toggles, popups, shared URLs, script injection.

Screenshots go to tests/artifacts/ (git-ignored); look at them after a change to the map.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from server.store import AtlasStore
from tests.conftest import ARTIFACTS
from tests.map_fixtures import CORRIDOR, CORRIDOR_MEMBERS, XSS, XSS_PARK

pytestmark = pytest.mark.slow

READY = "body[data-ready='1']"


@pytest.fixture(scope="module")
def server(map_atlas, backend, servers):
    return servers.base(map_atlas, backend)


class Page:
    """A page whose requests outside the app are recorded and refused."""

    def __init__(self, browser, base: str):
        self.base = base
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.route("**/*", self._route)

    def _route(self, route):
        if route.request.url.startswith(self.base):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def open(self, path: str):
        self.page.goto(self.base + path if path.startswith("/") else path)
        self.page.wait_for_selector(READY, state="attached", timeout=30000)
        return self

    def counts(self) -> dict:
        return self.page.evaluate("AtlasMap.drawnCounts()")

    def close(self):
        assert self.errors == [], self.errors
        self.page.close()


@pytest.fixture()
def open_page(browser, server):
    pages = []

    def make(path: str) -> Page:
        p = Page(browser, server).open(path)
        pages.append(p)
        return p

    yield make
    for p in pages:
        p.close()


@pytest.mark.backends
def test_atlas_draws_with_no_internet(open_page, map_atlas):
    counts = AtlasStore(map_atlas).counts()
    p = open_page("/")
    drawn = p.counts()
    for lid in ("provinces", "cities", "cluster_lines", "parks", "projects"):
        assert drawn[lid] == counts[lid], (lid, drawn, counts)
    assert drawn["counties"] == 0  # off by default
    assert p.page.locator("path.atl-f-cities").count() == counts["cities"]
    assert p.page.locator(".atl-mk, .atl-cl").count() > 0
    p.page.wait_for_timeout(300)
    ARTIFACTS.mkdir(exist_ok=True)
    p.page.screenshot(path=str(ARTIFACTS / "atlas.png"))
    assert p.outside == []


def test_toggle_a_layer_and_the_url_follows(open_page, map_atlas):
    counts = AtlasStore(map_atlas).counts()
    p = open_page("/")
    p.page.check("#atl-layers input[value=counties]")
    p.page.wait_for_selector("path.atl-f-counties", state="attached")
    assert p.counts()["counties"] == counts["counties"]
    p.page.uncheck("#atl-layers input[value=parks]")
    assert p.counts()["parks"] == 0
    layers = parse_qs(urlparse(p.page.url).query)["l"][0].split(",")
    assert "counties" in layers and "parks" not in layers
    assert p.outside == []


def test_search_by_abbreviation_opens_the_popup_and_the_shared_url_reopens_it(open_page, map_atlas):
    parks = AtlasStore(map_atlas).layer("parks")
    target = next((r for r in parks.itertuples() if r.name_zh.endswith("经济技术开发区")), None)
    if target is None:
        pytest.skip("no 经济技术开发区 in the parks yet")
    short = target.name_zh.removesuffix("经济技术开发区").removeprefix("湖北省").removesuffix("市") + "经开"
    p = open_page("/")
    p.page.fill("#atl-q", short)
    first = p.page.locator("#atl-results li").first
    assert first.get_attribute("data-id") == target.id
    p.page.press("#atl-q", "Enter")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert target.name_zh in popup.inner_text()
    assert "定位精度" in popup.inner_text()
    p.page.wait_for_timeout(600)  # zoom animation and the URL update
    shared = p.page.url
    query = parse_qs(urlparse(shared).query)
    assert query["sel"] == [f"parks:{target.id}"] and "z" in query and "c" in query
    again = open_page(shared)
    again.page.locator(".leaflet-popup-content").wait_for()
    assert target.name_zh in again.page.locator(".leaflet-popup-content").inner_text()
    state = again.page.evaluate("[AtlasMap.map().getZoom(), AtlasMap.map().getCenter()]")
    assert state[0] == int(query["z"][0])
    lat, lng = map(float, query["c"][0].split(","))
    assert abs(state[1]["lat"] - lat) < 1e-3 and abs(state[1]["lng"] - lng) < 1e-3
    assert p.outside == [] and again.outside == []


def test_share_panel_gives_link_and_iframe(open_page):
    p = open_page("/?lang=en&measure=n_parks")
    p.page.click("#atl-share-box summary")
    link = p.page.input_value("#atl-share-link")
    snippet = p.page.input_value("#atl-share-iframe")
    assert "measure=n_parks" in link and "lang=en" in link
    assert snippet.startswith('<iframe src="') and "/embed?" in snippet
    src = parse_qs(urlparse(snippet.split('"')[1].replace("&amp;", "&")).query)
    assert "c" not in src and "z" not in src  # the view, not this screen's centre and zoom
    embed_url = snippet.split('"')[1].replace("&amp;", "&")
    e = open_page(embed_url)
    assert e.page.locator("#atl-panel").count() == 0
    assert e.page.locator("#atl-legend").count() == 1
    assert e.counts()["cities"] > 0
    assert e.outside == []


def test_script_injection_does_not_run(open_page):
    p = open_page(f"/?sel=parks:{XSS_PARK}")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS in popup.inner_text()
    p.page.fill("#atl-q", XSS)
    assert XSS in p.page.locator("#atl-results").inner_text()
    p.page.wait_for_timeout(300)
    assert p.page.locator("img[src='x']").count() == 0
    assert p.dialogs == []
    assert p.outside == []


def test_corridor_view(open_page):
    p = open_page(f"/cluster/{CORRIDOR}")
    assert p.page.locator(".atl-badge").count() == len(CORRIDOR_MEMBERS)
    members = p.page.locator(".atl-members li")
    assert members.count() == len(CORRIDOR_MEMBERS)
    assert "中国商用车之都" in members.nth(4).inner_text()
    assert p.counts()["cluster_lines"] >= 1
    p.page.wait_for_timeout(300)
    p.page.screenshot(path=str(ARTIFACTS / "corridor.png"))
    assert p.outside == []


def test_share_panel_exports_the_current_view(open_page):
    import urllib.request

    p = open_page("/?lang=en&sector=auto&city=420100&base=osm")
    p.page.click("#atl-share-box summary")
    png = p.page.get_attribute("#atl-export-png", "href")
    pdf = p.page.get_attribute("#atl-export-pdf", "href")
    pptx = p.page.get_attribute("#atl-export-pptx", "href")
    html = p.page.get_attribute("#atl-export-html", "href")
    for href in (png, pdf, html):
        q = parse_qs(urlparse(href).query)
        assert q["sector"] == ["auto"] and q["city"] == ["420100"] and q["lang"] == ["en"]
        assert "base" not in q and "sel" not in q  # what the export does not take stays out
    assert parse_qs(urlparse(pptx).query) == {"lang": ["en"], "city": ["420100"]}
    with urllib.request.urlopen(p.base + png + "&dpi=72") as r:
        assert r.status == 200 and r.headers["Content-Type"] == "image/png"
    with urllib.request.urlopen(p.base + pdf + "&dpi=72") as r:
        assert r.read(5) == b"%PDF-"


def test_a_city_views_exports_frame_the_city_not_the_screen(open_page):
    # 城市 = 咸宁市 with the screen elsewhere: the exports carry city=, not the screen's c/z
    p = open_page("/?city=421200&c=31.5,111.0&z=7&measure=n_parks")
    p.page.click("#atl-share-box summary")
    for fmt in ("png", "pdf", "html"):
        q = parse_qs(urlparse(p.page.get_attribute(f"#atl-export-{fmt}", "href")).query)
        assert q["city"] == ["421200"] and q["measure"] == ["n_parks"], q
        assert "c" not in q and "z" not in q, q
    assert parse_qs(urlparse(p.page.get_attribute("#atl-export-pptx", "href")).query) == {"city": ["421200"]}
    p.page.check("#atl-export-screen")  # asked for: the area on screen goes along
    q = parse_qs(urlparse(p.page.get_attribute("#atl-export-png", "href")).query)
    assert q["city"] == ["421200"] and q["z"] == ["7"] and q["c"][0].startswith("31.5"), q


def _until(page, expression: str, seconds: float = 10) -> None:
    """Poll with evaluate (the page's CSP forbids wait_for_function's eval)."""
    import time

    deadline = time.monotonic() + seconds
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, expression
        page.wait_for_timeout(50)


def _squeeze(text: str) -> str:
    return "".join(text.split())  # pdftotext drops and adds spaces and line breaks


# (path, paper, orient, the PDF page's size in points)
PRINTS = [("/", "A4", "portrait", (595, 842)), ("/", "A3", "landscape", (1191, 842)),
          (f"/cluster/{CORRIDOR}", "A4", "portrait", (595, 842)),
          (f"/cluster/{CORRIDOR}", "A3", "landscape", (1191, 842))]


def _print_name(path: str, paper: str, orient: str) -> str:
    return f"{'cluster' if 'cluster' in path else 'province'}-{paper}-{orient}"


@pytest.mark.parametrize("path,paper,orient,points", PRINTS, ids=[_print_name(*p[:3]) for p in PRINTS])
def test_print_gives_one_page_with_the_whole_legend_source_line_north_arrow_and_scale(
        open_page, tmp_path, path, paper, orient, points):
    import subprocess

    from pypdf import PdfReader

    p = open_page(f"{path}?paper={paper}&orient={orient}")
    page = p.page
    entries = page.evaluate("""() => [...document.querySelectorAll(
        '#atl-legend-body .atl-lrow > span:last-child, #atl-legend-body .atl-lh')].map(e => e.textContent)""")
    sources = page.locator(".atl-print-foot").text_content()
    assert len(entries) > 20 and "资料来源" in sources and "数据构建于" in sources
    pdf = tmp_path / f"{paper}-{orient}.pdf"
    # the page names its paper (@page size, from paper/orient): Letter here must not win
    page.pdf(path=str(pdf), format="Letter", prefer_css_page_size=True, print_background=True)
    reader = PdfReader(pdf)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == points
    raw = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], capture_output=True, text=True,
                         check=True).stdout
    text, lines = _squeeze(raw), [ln.strip() for ln in raw.splitlines()]
    missing = [e for e in entries if _squeeze(e) not in text]
    assert not missing, missing  # every legend entry on screen is on paper
    assert _squeeze(sources) in text  # the whole source line, to the build date
    assert "北" in lines  # the north arrow's letter, a line of its own
    assert any(re.fullmatch(r"\d+(km|公里)", ln.replace(" ", "")) for ln in lines)  # the scale bar
    # look at them: tests/artifacts/print-*.png
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-singlefile", str(pdf),
                    str(ARTIFACTS / f"print-{_print_name(path, paper, orient)}")], check=True)


def test_print_layout_fits_the_view_to_the_map_box_and_hides_the_controls(open_page):
    p = open_page(f"/cluster/{CORRIDOR}?c=31.0,110.0&z=11")  # the screen far off the corridor
    page = p.page
    page.emulate_media(media="print")
    _until(page, "document.body.classList.contains('atl-printing')")
    for hidden in ("#atl-q", "#atl-layers", "#atl-filters", ".leaflet-control-zoom", "#atl-share-box"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert "测试汽车走廊" in page.locator(".atl-print-head").inner_text()
    assert page.locator("#atl-legend").is_visible() and page.locator(".atl-north").is_visible()
    assert page.locator(".leaflet-control-scale").is_visible()
    # every member on the map, and the members' extent fills the box one way (not half of it)
    fit = page.evaluate("""() => { const m = AtlasMap.map(), c = m.getContainer().getBoundingClientRect();
        const size = m.getSize(), outside = AtlasMap._.D.cluster.members.filter(p => {
          const q = m.latLngToContainerPoint(p.xy);
          return !(q.x >= 0 && q.x <= size.x && q.y >= 0 && q.y <= size.y); }).map(p => p.name);
        const b = L.latLngBounds(AtlasMap._.D.extent), nw = m.latLngToContainerPoint(b.getNorthWest()),
              se = m.latLngToContainerPoint(b.getSouthEast());
        return [outside, Math.max((se.x - nw.x) / c.width, (se.y - nw.y) / c.height)]; }""")
    assert fit[0] == [] and fit[1] > 0.9, fit
    page.emulate_media(media="screen")  # afterwards the screen's view comes back
    _until(page, "!document.body.classList.contains('atl-printing')")
    assert page.evaluate("AtlasMap.map().getZoom()") == 11


def _click_at(page, lat: float, lon: float) -> None:
    box = page.locator("#atl-main").bounding_box()
    x, y = page.evaluate(f"() => {{ const p = AtlasMap.map().latLngToContainerPoint([{lat}, {lon}]);"
                         " return [p.x, p.y]; }")
    page.mouse.click(box["x"] + x, box["y"] + y)


def test_a_click_inside_hubei_opens_the_city_not_the_province(open_page):
    p = open_page("/")
    _click_at(p.page, 32.2, 110.3)  # 十堰, away from any marker
    title = p.page.locator(".leaflet-popup-content .atl-title")
    title.wait_for()
    assert title.inner_text() == "十堰市"


def test_a_city_from_search_keeps_its_popup(open_page):
    p = open_page("/")
    p.page.fill("#atl-q", "宜昌")
    p.page.locator("#atl-results li").first.click()
    p.page.wait_for_timeout(1500)  # the zoom redraws the cities at a finer tier meanwhile
    assert p.page.locator(".leaflet-popup-content .atl-title").inner_text() == "宜昌市"
    assert "sel=cities%3A420500" in p.page.url


def test_a_shared_link_to_a_city_reopens_its_popup(open_page):
    p = open_page("/?c=30.7,111.2&z=9&sel=cities:420500")
    p.page.wait_for_timeout(1200)
    assert p.page.locator(".leaflet-popup-content .atl-title").inner_text() == "宜昌市"


def test_cities_are_labelled_and_the_legend_keys_each_line_in_its_colour(open_page):
    p = open_page("/")
    labels = p.page.locator(".atl-city-label").all_inner_texts()
    assert "武汉市" in labels and "十堰市" in labels
    drawn = p.page.evaluate("""() => [...document.querySelectorAll('path.leaflet-interactive')]
        .filter(e => e.getAttribute('fill') === 'none').map(e => e.getAttribute('stroke'))""")
    legend = p.page.evaluate("""() => [...document.querySelectorAll('#atl-legend-body svg line')]
        .map(e => e.getAttribute('stroke'))""")
    corridor_colours = {c for c in legend if c != "#6baed6"}  # minus the rivers' key
    assert corridor_colours and corridor_colours <= set(drawn)
    assert "测试汽车走廊" in p.page.inner_text("#atl-legend-body")
    attribution = p.page.locator(".leaflet-control-attribution")
    assert attribution.inner_text().startswith("Leaflet")
    assert attribution.locator("svg, img").count() == 0  # no flag in screenshots and prints


def test_cluster_popup_links_the_cluster_view_which_lists_its_own_industry(open_page):
    p = open_page(f"/?l=cities,cluster_lines&sel=cluster_lines:{CORRIDOR}")
    # .last: a popup that was just replaced fades out for 200 ms before it leaves the page
    link = p.page.locator(".leaflet-popup-content a.atl-open-cluster").last
    link.wait_for()
    assert link.get_attribute("href") == f"/cluster/{CORRIDOR}"
    view = open_page(link.get_attribute("href"))
    along = view.page.evaluate("() => AtlasMap.clusterAlong()")
    sectors = view.page.evaluate("""() => { const out = {}; ['parks', 'projects'].forEach(l =>
        AtlasMap.layerFeatures(l).forEach(f => { out[l + ':' + f.id] = f.sec; })); return out; }""")
    assert along["parks"] or along["projects"]
    for lid in ("parks", "projects"):
        assert all("auto" in sectors[f"{lid}:{i}"] for i in along[lid])


def test_embed_works_on_another_site_with_legend_and_filters_on_request(browser, server, tmp_path):
    import subprocess
    import sys

    from tests.conftest import _free_port

    port = _free_port()
    (tmp_path / "index.html").write_text(
        f'<!doctype html><title>intranet</title><iframe id="f" src="{server}/embed?sector=auto'
        '&legend=1&filters=1" width="900" height="600"></iframe>', encoding="utf-8")
    other = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                             cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        page = browser.new_page()
        for _ in range(50):
            try:
                page.goto(f"http://127.0.0.1:{port}/")
                break
            except Exception:
                page.wait_for_timeout(100)
        frame = page.frame_locator("#f")
        frame.locator("body[data-ready='1']").wait_for(state="attached", timeout=30000)
        assert "汽车" in frame.locator("#atl-embed-filters").inner_text()
        assert frame.locator("#atl-legend[open]").count() == 1
        page.close()
    finally:
        other.terminate()
        other.wait(timeout=10)


def _serve_page(tmp_path, html: str):
    """An intranet page on another origin (a port of its own): the http.server process."""
    import subprocess
    import sys

    from tests.conftest import _free_port

    port = _free_port()
    (tmp_path / "index.html").write_text(html, encoding="utf-8")
    other = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                             cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return other, f"http://127.0.0.1:{port}/"


def _frame_rects(frame) -> dict:
    """The members' points and the controls' boxes, in the frame's pixels."""
    return frame.evaluate("""() => { const m = AtlasMap.map(), c = m.getContainer().getBoundingClientRect();
        const box = el => { const r = el.getBoundingClientRect();
          return [r.left - c.left, r.top - c.top, r.right - c.left, r.bottom - c.top]; };
        return { size: [c.width, c.height],
                 members: AtlasMap._.D.cluster.members.map(p => {
                   const q = m.latLngToContainerPoint(p.xy); return [p.name, q.x, q.y]; }),
                 controls: [...document.querySelectorAll('#atl-legend, .atl-embed-bar')].map(box),
                 compact: document.querySelector('#atl-legend').classList.contains('atl-compact'),
                 open: document.querySelector('#atl-legend').open }; }""")


def test_the_cluster_pages_snippet_fits_its_800x600_frame_beside_the_legend(browser, open_page, tmp_path):
    p = open_page(f"/cluster/{CORRIDOR}?c=31.5,112.0&z=9")  # a desktop view, zoomed in on 随州
    p.page.click("#atl-share-box summary")
    snippet = p.page.input_value("#atl-share-iframe")
    src = parse_qs(urlparse(snippet.split('"')[1].replace("&amp;", "&")).query)
    assert 'width="800" height="600"' in snippet and "c" not in src and "z" not in src
    other, url = _serve_page(tmp_path, "<!doctype html><title>intranet</title>" + snippet)  # verbatim
    try:
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        for _ in range(50):
            try:
                page.goto(url)
                break
            except Exception:
                page.wait_for_timeout(100)
        page.frame_locator("iframe").locator("body[data-ready='1']").wait_for(state="attached", timeout=30000)
        frame = page.frames[1]
        r = _frame_rects(frame)
        assert r["size"] == [800, 600] and r["open"] and r["compact"], r
        assert len(r["members"]) == len(CORRIDOR_MEMBERS) == 5
        for name, x, y in r["members"]:  # in the frame, and under neither the legend nor the bar
            assert 0 <= x <= 800 and 0 <= y <= 600, (name, x, y)
            for x0, y0, x1, y1 in r["controls"]:
                assert not (x0 - 4 <= x <= x1 + 4 and y0 - 4 <= y <= y1 + 4), (name, x, y, r["controls"])
        page.screenshot(path=str(ARTIFACTS / "embed-corridor-800x600.png"))
        page.close()
    finally:
        other.terminate()
        other.wait(timeout=10)


def test_a_small_embed_with_shading_shows_its_key(open_page, browser, server):
    page = browser.new_page(viewport={"width": 800, "height": 600})
    page.goto(f"{server}/embed?measure=n_parks")
    page.wait_for_selector(READY, state="attached", timeout=30000)
    legend = page.locator("#atl-legend")
    assert legend.get_attribute("open") is not None and "atl-compact" in legend.get_attribute("class")
    box = legend.bounding_box()
    rows = page.locator("#atl-legend-body .atl-lrow:has(rect[fill-opacity])")
    assert rows.count() >= 3  # the shading's classes, each in sight inside the key
    for i in range(rows.count()):
        r = rows.nth(i).bounding_box()
        assert r["y"] >= box["y"] and r["y"] + r["height"] <= box["y"] + box["height"]
    page.close()


def test_share_panel_says_where_the_embed_works(open_page):
    p = open_page("/")
    p.page.click("#atl-share-box summary")
    assert "任何网站" in p.page.inner_text("#atl-embed-note")
    p.page.check("#atl-embed-opt-legend")
    assert "legend=1" in p.page.input_value("#atl-share-iframe")


def test_search_results_work_from_the_keyboard(open_page):
    p = open_page("/")
    p.page.click("#atl-q")
    p.page.keyboard.type("xianning")
    p.page.keyboard.press("ArrowDown")
    p.page.keyboard.press("ArrowDown")
    second = p.page.locator("#atl-results li[role=option]").nth(1)
    assert second.get_attribute("aria-selected") == "true"
    assert p.page.get_attribute("#atl-q", "aria-activedescendant") == second.get_attribute("id")
    label = second.locator(".atl-r-name").inner_text()
    p.page.keyboard.press("Enter")
    p.page.wait_for_timeout(1200)
    assert label in p.page.locator(".leaflet-popup-content").last.inner_text()
    p.page.fill("#atl-q", "武汉")
    p.page.keyboard.press("Escape")
    assert p.page.locator("#atl-results").is_hidden()


def test_a_failed_geometry_fetch_says_so_and_retries(browser, server):
    page = Page(browser, server)
    broken = {"on": True}

    def geometry(route):
        if broken["on"]:
            route.fulfill(status=503, body="unavailable")
        else:
            route.continue_()
    page.page.route("**/map/geometry/cities/**", geometry)
    page.open("/")
    alert = page.page.locator("#atl-fail")
    alert.wait_for()
    assert "市（州）" in alert.inner_text()
    broken["on"] = False
    page.page.click("#atl-retry")
    alert.wait_for(state="detached")
    assert page.counts()["cities"] > 0
    page.close()


def test_on_a_phone_hubei_fits_and_popups_stay_on_screen(browser, server):
    page = Page(browser, server)
    page.page.close()
    page.page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page.page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.page.route("**/*", page._route)
    page.open(f"/?sel=parks:{XSS_PARK}")
    assert page.page.evaluate("() => AtlasMap.map().getBounds().contains([30.59, 114.30])")  # Wuhan
    page.page.wait_for_timeout(1200)
    popup = page.page.locator(".leaflet-popup").last.bounding_box()
    close = page.page.locator(".leaflet-popup-close-button").last.bounding_box()
    assert popup["x"] >= 0 and popup["x"] + popup["width"] <= 390
    assert close["x"] >= 0 and close["x"] + close["width"] <= 390 and close["y"] >= 0
    page.close()


def test_download_what_i_see(open_page):
    import json
    import urllib.request

    p = open_page("/?sector=auto&city=420300&l=cities,parks,projects")
    p.page.click("#atl-share-box summary")
    rows = p.page.evaluate("() => AtlasMap.dataLinks()")
    assert [r["layer"] for r in rows] == ["cities", "parks", "projects"]
    parks = next(r for r in rows if r["layer"] == "parks")
    labels = {link["label"] for link in parks["links"]}
    assert labels == {"GeoJSON", "CSV", "CSV（中文表头）", "GeoPackage", "KML"}
    for link in parks["links"]:
        with urllib.request.urlopen(p.base + link["href"]) as r:
            assert r.status == 200, link
    geojson = next(link["href"] for link in parks["links"] if link["label"] == "GeoJSON")
    with urllib.request.urlopen(p.base + geojson) as r:
        feats = json.load(r)["features"]
    shown = p.page.evaluate("""() => AtlasMap.layerFeatures('parks').filter(f =>
        f.sec.indexOf('auto') >= 0 && String(f.city) === '420300').map(f => f.id)""")
    assert sorted(f["properties"]["id"] for f in feats) == sorted(shown)
    assert p.page.locator("#atl-data-links a").count() == 15


def test_features_sharing_a_point_open_as_one_list(open_page):
    p = open_page("/")
    page = p.page
    # 十堰's city point: the test park and seed features share it
    at = page.evaluate("(id) => AtlasMap.layerFeatures('parks').find(f => f.id === id).xy", XSS_PARK)
    page.evaluate(f"() => AtlasMap.map().setView({at}, 11, {{ animate: false }})")
    page.wait_for_timeout(500)
    x, y = page.evaluate("(at) => { const q = AtlasMap.map().latLngToContainerPoint(at);"
                         " return [q.x, q.y]; }", at)
    box = page.locator("#atl-main").bounding_box()
    page.mouse.click(box["x"] + x, box["y"] + y)
    listing = page.locator(".leaflet-popup-content .atl-list").last
    listing.wait_for()
    entries = listing.locator("li a")
    expected = page.evaluate("""(at) => ['parks', 'projects'].flatMap(l => AtlasMap.layerFeatures(l)
        .filter(f => f.xy && f.xy[0] === at[0] && f.xy[1] === at[1])).length""", at)
    assert entries.count() == expected > 1
    names = entries.all_inner_texts()
    assert XSS in names  # shown as text, not markup
    entries.nth(0).click()
    title = page.locator(".leaflet-popup-content .atl-title").last
    assert title.inner_text() == names[0]
    assert page.locator("img[src='x']").count() == 0


@pytest.mark.parametrize("q", ["武汉经开", "xiangyang", "zengdu", "changyang", "高新", "xn", "whjk",
                               "wuhan economic"])
def test_the_map_search_and_the_api_q_agree(open_page, q):
    import json
    import urllib.parse
    import urllib.request

    p = open_page("/")
    on_map = p.page.evaluate("(q) => AtlasMap.search(q, true).map(r => r.layer + ':' + r.id)",
                             q.replace(" ", ""))
    from_api = set()
    for lid in ("parks", "projects", "clusters", "cities", "counties"):
        url = f"{p.base}/api/collections/{lid}/items?limit=10000&q={urllib.parse.quote(q.replace(' ', ''))}"
        with urllib.request.urlopen(url) as r:
            from_api |= {f"{lid}:{f['id']}" for f in json.load(r)["features"]}
    assert set(on_map) == from_api and from_api


# ---------------------------------------------------------------- layers drawn from vector tiles

TILE_THRESHOLD = 100  # parks (181 here), projects (123) and counties (225) are past it


@pytest.fixture(scope="module")
def tiled_server(map_atlas, backend, servers):
    return servers.base(map_atlas, backend, {"ATLAS_MAP_TILES_THRESHOLD": str(TILE_THRESHOLD)})


@pytest.fixture()
def open_tiled(browser, tiled_server):
    pages = []

    def make(path: str) -> Page:
        p = Page(browser, tiled_server)
        p.requests = []
        p.page.on("request", lambda r: p.requests.append(r.url[len(tiled_server):]))
        pages.append(p.open(path))
        return p

    yield make
    for p in pages:
        p.close()


def _points_with_a_place(map_atlas, lid: str, sector: str | None = None) -> set[str]:
    frame = AtlasStore(map_atlas).layer(lid)
    return {r.id for r in frame.itertuples() if r.geometry is not None and not r.geometry.is_empty
            and (sector is None or sector in list(r.sectors or []))}


@pytest.mark.backends
def test_past_the_threshold_points_are_drawn_from_vector_tiles(open_tiled, map_atlas):
    p = open_tiled("/")
    drawn = p.counts()
    for lid in ("parks", "projects"):
        assert any(u.startswith(f"/tiles/{lid}/") and u.endswith(".mvt") for u in p.requests), lid
        assert drawn[lid] == len(_points_with_a_place(map_atlas, lid)), (lid, drawn)
        assert p.page.evaluate(f"AtlasMap.layerFeatures('{lid}').length") == 0  # none in the page
    # no GeoJSON of these layers: not in the page, not fetched (the page's own areas still are)
    assert not [u for u in p.requests if "/parks" in u and "/tiles/" not in u]
    assert not [u for u in p.requests if u.startswith(("/api/", "/download/"))]
    assert any(u.startswith("/map/geometry/cities/") for u in p.requests)
    assert p.page.locator(".atl-tiles-parks image").count() >= drawn["parks"]
    assert p.page.locator(".atl-mk").count() == 0  # no markers: the tiles draw the symbols
    p.page.wait_for_timeout(300)
    p.page.screenshot(path=str(ARTIFACTS / "atlas-tiles.png"))
    assert p.outside == []


def test_a_tile_features_click_opens_the_geojson_popup(open_tiled, open_page):
    plain = open_page("/")
    feats = plain.page.evaluate("AtlasMap.layerFeatures('parks').concat(AtlasMap.layerFeatures('projects'))")
    spots: dict[tuple, int] = {}
    for f in feats:
        if f["xy"]:
            spots[tuple(f["xy"])] = spots.get(tuple(f["xy"]), 0) + 1
    lone = next(f for f in plain.page.evaluate("AtlasMap.layerFeatures('parks')")
                if f["xy"] and spots[tuple(f["xy"])] == 1 and f["doc"])
    lat, lon = lone["xy"]
    geojson = open_page(f"/?c={lat},{lon}&z=10&sel=parks:{lone['id']}")
    geojson.page.locator(".leaflet-popup-content").wait_for()
    want = geojson.page.locator(".leaflet-popup-content").inner_html()

    p = open_tiled(f"/?c={lat},{lon}&z=10")
    box = p.page.locator("#atl-main .leaflet-container").bounding_box()
    p.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)  # the point is the centre
    p.page.locator(".leaflet-popup-content").wait_for()
    assert p.page.locator(".leaflet-popup-content").inner_html() == want
    assert f"/map/feature/parks/{lone['id']}.json?lang=zh" in p.requests
    assert parse_qs(urlparse(p.page.url).query)["sel"] == [f"parks:{lone['id']}"]
    p.page.screenshot(path=str(ARTIFACTS / "atlas-tiles-popup.png"))
    # the shared link reopens it, as in the GeoJSON mode
    again = open_tiled(p.page.url)
    again.page.locator(".leaflet-popup-content").wait_for()
    assert again.page.locator(".leaflet-popup-content").inner_html() == want
    assert p.outside == [] and again.outside == []


def _wait_for_drawn(page, layer: str, count: int, seconds: float = 10) -> None:
    """Poll with evaluate: the page's CSP forbids the eval that wait_for_function's polling
    of a string expression needs once the first check fails."""
    import time

    deadline = time.monotonic() + seconds
    while (drawn := page.evaluate(f"AtlasMap.drawnCounts().{layer}")) != count:
        assert time.monotonic() < deadline, f"{layer}: {drawn} drawn, expected {count}"
        page.wait_for_timeout(100)


@pytest.mark.backends
def test_a_filter_hides_tile_features(open_tiled, map_atlas):
    p = open_tiled("/")
    every = len(_points_with_a_place(map_atlas, "parks"))
    auto = len(_points_with_a_place(map_atlas, "parks", "auto"))
    assert p.counts()["parks"] == every and 0 < auto < every
    images = p.page.locator(".atl-tiles-parks image").count()
    p.page.select_option("#atl-f-sector", "auto")
    _wait_for_drawn(p.page, "parks", auto)
    assert p.page.locator(".atl-tiles-parks image").count() < images
    p.page.wait_for_timeout(300)
    p.page.screenshot(path=str(ARTIFACTS / "atlas-tiles-filtered.png"))
    p.page.click("#atl-filters button")  # 清除筛选: all of them again
    _wait_for_drawn(p.page, "parks", every)
    assert p.outside == []


def test_script_injection_does_not_run_from_tiles(open_tiled):
    p = open_tiled(f"/?sel=parks:{XSS_PARK}")
    popup = p.page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert XSS in popup.inner_text()
    p.page.wait_for_timeout(300)
    assert p.page.locator("img[src='x']").count() == 0
    assert p.dialogs == [] and p.outside == []


@pytest.mark.parametrize("measure,key", [("n_parks", "np"), ("n_projects", "nj")])
def test_shaded_cities_take_the_colour_of_the_legend_class_print_gives_them(open_page, map_atlas,
                                                                              measure, key):
    from layers import style

    p = open_page(f"/?measure={measure}")
    p.page.wait_for_selector("path.atl-f-cities", state="attached")
    cities = p.page.evaluate("""(key) => { const out = [];
        AtlasMap._.drawn.cities.eachLayer(l => out.push([l.feature.properties[key], l.options.fillColor]));
        return out; }""", key)
    rows = p.page.evaluate("""() => [...document.querySelectorAll('#atl-legend-body .atl-lrow')]
        .filter(r => r.querySelector('rect[fill-opacity]'))
        .map(r => [r.innerText.trim(), r.querySelector('rect').getAttribute('fill')])""")
    counts = [int(v or 0) for v in AtlasStore(map_atlas).layer("cities")[measure]]
    printed = [(c.label, c.colour) for c in style.shade_classes(counts)]
    assert [tuple(r) for r in rows] == printed  # the live legend is the print legend
    for value, fill in cities:
        cls = style.class_of(value, style.shade_classes(counts))
        assert fill == (cls.colour if cls else style.EMPTY_FILL), (value, fill)
    ARTIFACTS.mkdir(exist_ok=True)
    p.page.screenshot(path=str(ARTIFACTS / f"shaded-{measure}.png"))
    p.page.locator("#atl-legend-body").screenshot(path=str(ARTIFACTS / f"shaded-{measure}-legend.png"))
