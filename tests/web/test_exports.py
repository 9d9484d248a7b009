"""Maps for briefings as the app exports them: print maps (PNG/SVG/PDF), the offline HTML
map and the slide deck, checked as a planner would receive them (tests/e2e/test_exports.py
opens them in Chromium and LibreOffice; tests/unit/test_exports.py runs the batch export)."""

from __future__ import annotations

import io
import re
import warnings

import pytest
from PIL import Image

from server.exports.printmap import render_figure, scene
from server.view.params import DECK, EXPORT, known_values, parse_view
from tests.conftest import make_app
from tests.map_fixtures import XSS
from tests.support.backends import GEOPACKAGE

CORRIDOR = "c001-han-xiao-sui-xiang-shi-auto-corridor"
HUBEI_BOUNDS = (108.35, 29.03, 116.14, 33.28)  # lon/lat box of the province, rounded outward


@pytest.fixture(scope="module")
def approved_client(built_atlas, backend):
    app = make_app(built_atlas, backend, MAP_APPROVAL="鄂S(2026)001号")
    return app.test_client()


def test_png_has_the_requested_pixel_size_and_dpi(client):
    r = client.get("/export/map.png?paper=A4&orient=landscape&dpi=100")
    assert r.status_code == 200 and r.mimetype == "image/png"
    img = Image.open(io.BytesIO(r.data))
    assert img.size == (1169, 826)  # 297 × 210 mm at 100 dpi
    assert [round(v) for v in img.info["dpi"]] == [100, 100]
    r = client.get("/export/map.png?paper=16:9&orient=portrait&dpi=72")
    assert Image.open(io.BytesIO(r.data)).size == (540, 960)


def test_png_default_dpi_is_200_and_filename_names_the_view(client):
    r = client.get(f"/export/map.png?cluster={CORRIDOR}")
    assert [round(v) for v in Image.open(io.BytesIO(r.data)).info["dpi"]] == [200, 200]
    assert re.search(rf'filename="hubei-cluster-atlas_{CORRIDOR}_\d{{4}}-\d\d-\d\d\.png"',
                     r.headers["Content-Disposition"])


@pytest.mark.backends
def test_default_view_fits_hubei_and_draws_inside_it(app):
    with app.app_context():
        store = app.extensions["atlas_store"]
        sc = scene(store, parse_view({}, EXPORT, known_values(store)))
    x0, y0, x1, y1 = sc.extent
    hx0, hy0, hx1, hy1 = HUBEI_BOUNDS
    assert x0 <= hx0 and y0 <= hy0 and x1 >= hx1 and y1 >= hy1  # all of Hubei, incl. Wuhan
    assert (x1 - x0) < (hx1 - hx0) * 1.2 and (y1 - y0) < (hy1 - hy0) * 1.2  # and not much more
    points = [g for f in sc.points.values() for g in f.geometry]
    assert len(points) > 50
    assert all(hx0 <= p.x <= hx1 and hy0 <= p.y <= hy1 for p in points)


@pytest.mark.backends
def test_png_map_area_is_drawn_not_blank(client):
    img = Image.open(io.BytesIO(client.get("/export/map.png?dpi=72").data)).convert("RGB")
    w, h = img.size
    map_area = img.crop((int(w * 0.05), int(h * 0.15), int(w * 0.70), int(h * 0.85)))
    colours = map_area.getcolors(maxcolors=1 << 20)
    assert len(colours) > 200  # boundaries, rivers, symbols and labels, not a blank frame


@pytest.mark.backends
def test_cluster_view_fits_its_members_in_order(app):
    with app.app_context():
        store = app.extensions["atlas_store"]
        sc = scene(store, parse_view({"cluster": [CORRIDOR]}, EXPORT, known_values(store)))
    assert [m["name"] for m in sc.members] == ["武汉市", "孝感市", "随州市", "襄阳市", "十堰市"]
    assert [m["n"] for m in sc.members] == [1, 2, 3, 4, 5]
    x0, y0, x1, y1 = sc.extent
    assert all(x0 < m["lon"] < x1 and y0 < m["lat"] < y1 for m in sc.members)
    # the corridor lists automotive parks and projects in its cities, not everything there
    assert all("auto" in (s or []) for f in sc.points.values() for s in f.sectors)


@pytest.mark.backends
def test_pdf_is_one_page_with_title_source_line_and_approval(approved_client):
    from pypdf import PdfReader

    r = approved_client.get(f"/export/map.pdf?cluster={CORRIDOR}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    pdf = PdfReader(io.BytesIO(r.data))
    assert len(pdf.pages) == 1
    text = pdf.pages[0].extract_text().replace("\n", "")
    assert "汉孝随襄十" in text
    assert "资料来源" in text and "001" in text and "数据构建于" in text
    assert "审图号：鄂S(2026)001号" in text


def test_no_approval_line_unless_configured(client):
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(client.get("/export/map.pdf").data)).pages[0].extract_text()
    assert "审图号" not in text


def test_svg_keeps_text_as_text(client):
    r = client.get("/export/map.svg?lang=en&title=Automotive%20parks&sector=auto")
    assert r.status_code == 200 and r.mimetype == "image/svg+xml"
    svg = r.get_data(as_text=True)
    assert re.search(r"<text[^>]*>Automotive parks</text>", svg)
    assert "Sources" in svg and "<text" in svg


@pytest.mark.backends
def test_english_and_given_title(client):
    from pypdf import PdfReader

    r = client.get("/export/map.pdf?lang=en&sector=auto&city=420100")
    text = PdfReader(io.BytesIO(r.data)).pages[0].extract_text()
    assert "Hubei Cluster Atlas — Automotive · Wuhan" in text
    assert "Legend" in text and "Sources" in text


def test_chinese_text_renders_with_glyphs_not_boxes(app):
    """matplotlib warns 'Glyph … missing from font(s)' where it would draw an empty box: a
    font without CJK glyphs does, the atlas's page does not."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with app.app_context():
        store = app.extensions["atlas_store"]
        sc = scene(store, parse_view({"cluster": [CORRIDOR]}, EXPORT, known_values(store)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = render_figure(sc)
        fig.canvas.draw()
    assert not [w for w in caught if "missing from font" in str(w.message)]

    with warnings.catch_warnings(record=True) as caught:  # the check itself can fail
        warnings.simplefilter("always")
        fig = Figure()
        FigureCanvasAgg(fig)
        fig.text(0.1, 0.5, sc.title, family="DejaVu Sans")
        fig.canvas.draw()
    assert [w for w in caught if "missing from font" in str(w.message)]


@pytest.mark.parametrize("query", [
    "l=nolayer", "dpi=0", "dpi=10000", "dpi=abc", "bbox=0,0,1,1", "bbox=100,30,90,31",
    "bbox=1,2,3", "cluster=nope", "sector=steel-ish", "city=999999", "paper=A0",
    "orient=sideways", "lang=fr", "measure=bogus", "c=31,112", "c=91,200&z=7", "z=99&c=31,112",
    "paper=A3&dpi=600", "unknown=1", "dpi=100&dpi=200", "title=" + "x" * 200, "level=county",
])
def test_bad_parameters_answer_400_with_a_message(client, query):
    r = client.get(f"/export/map.png?{query}")
    assert r.status_code == 400
    body = r.get_json()
    assert body["code"] == "InvalidParameterValue" and body["description"]


def test_unknown_format_is_400(client):
    r = client.get("/export/map.tiff")
    assert r.status_code == 400 and "png" in r.get_json()["description"]


def test_repeated_export_is_served_from_cache_and_revalidates(client):
    first = client.get("/export/map.png?dpi=72&city=420600")
    tag = first.headers["ETag"]
    again = client.get("/export/map.png?dpi=72&city=420600", headers={"If-None-Match": tag})
    assert again.status_code == 304


def test_every_view_parameter_of_the_interactive_map_is_accepted(client):
    r = client.get("/export/map.png?l=cities,parks,projects,cluster_lines,clusters,counties&sector=auto"
                   "&city=420600&kind=high_tech_zone&level=national&measure=n_parks&lang=en"
                   "&c=32.0,112.1&z=9&dpi=72")
    assert r.status_code == 200


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf", "html"])
def test_a_view_without_the_city_outlines_exports(client, fmt):
    # the city labels and a cluster's member badges must not need the cities layer drawn
    r = client.get(f"/export/map.{fmt}?l=counties,parks,projects&city=421200&dpi=72")
    assert r.status_code == 200, r.get_data(as_text=True)[:200]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("city,orient", [("421200", "landscape"), ("420100", "portrait")])
def test_the_legend_ends_above_the_source_line(app, lang, city, orient):
    # Xianning has 19 industries, Wuhan 17 and three corridor lines: the longest legends
    from matplotlib.legend import Legend

    with app.app_context():
        store = app.extensions["atlas_store"]
        view = parse_view({"city": [city], "lang": [lang], "orient": [orient],
                           "l": ["counties,parks,projects,cluster_lines"]}, EXPORT, known_values(store))
        fig = render_figure(scene(store, view))
    fig.canvas.draw()
    panel = fig.axes[-1]
    legends = [a for a in panel.get_children() if isinstance(a, Legend)]
    assert len(legends) >= 2
    bottom = panel.get_window_extent().y0
    assert min(leg.get_window_extent().y0 for leg in legends) >= bottom - 1


# ---------------------------------------------------------------- the offline HTML map

@pytest.mark.backends
def test_html_is_one_file_with_no_outside_reference(client):
    r = client.get(f"/export/map.html?cluster={CORRIDOR}")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="', html)
    assert "L.map(" in html or "L.map (" in html
    assert "汉孝随襄十" in html


# URLs in the file that nothing fetches: the SVG namespace of the symbols, and Leaflet's default
# attribution link, which the page replaces with a plain "Leaflet"
NOT_FETCHED = {"http://www.w3.org/2000/svg", "https://leafletjs.com"}


def offline_data(html: str) -> dict:
    import json

    found = re.search(r'<script type="application/json" id="atlx-data">(.*?)</script>', html, re.S)
    assert found, "the file carries its points as data"
    return json.loads(found.group(1))


@pytest.mark.backends
def test_offline_html_fetches_nothing_and_carries_each_feature_once(client):
    """Wuhan's file: no http(s) address but two that nothing fetches, no url() or @import in
    its styles, no source map; each park and project the view selects (the API's items in
    the city) once, with its popup, and the markercluster and points scripts inlined."""
    import json

    html = client.get("/export/map.html?city=420100").get_data(as_text=True)
    assert set(re.findall(r"https?://[^\s\"'<>)]+", html)) <= NOT_FETCHED
    styles = "".join(re.findall(r"<style>(.*?)</style>", html, re.S))
    assert not re.search(r"url\(\s*['\"]?(?!data:|none|#)|@import", styles) and "sourceMappingURL" not in html
    assert "markerClusterGroup" in html and "S.pointMarker" in html
    data = offline_data(html)
    for lid in ("parks", "projects"):
        items = json.loads(client.get(f"/api/collections/{lid}/items?limit=10000").data)["features"]
        # the city's own: its adcode, or one of its districts' (4201xx)
        wanted = sorted(str(f["id"]) for f in items if str(f["properties"].get("city_adcode")) == "420100")
        feats = next(lay for lay in data["layers"] if lay["id"] == lid)["features"]
        ids = [str(p["id"]) for p in feats]
        assert sorted(ids) == wanted and len(ids) == len(set(ids)), lid
        assert all(p["pop"].count("atl-title") == 1 and p["xy"] for p in feats)
    assert {"武汉市", "江夏区"} <= {p["name"] for p in next(
        lay for lay in data["layers"] if lay["id"] == "cities")["features"]}


def test_html_escapes_values_like_the_live_map(map_atlas):
    app = make_app(map_atlas, GEOPACKAGE)
    html = app.test_client().get("/export/map.html?city=420300").get_data(as_text=True)
    # names go into the inert JSON as they are (offline.js writes them with textContent); the
    # popups and tooltips there are escaped HTML; nowhere else is the name at all
    data = offline_data(html)
    outside = re.sub(r'<script type="application/json" id="atlx-data">.*?</script>', "", html, flags=re.S)
    assert XSS not in outside
    park = next(p for p in data["layers"][0]["features"] if p["name"] == XSS)
    assert XSS not in park["pop"] + park["tip"] and "&lt;img src=x onerror=alert(1)&gt;" in park["pop"]


# ---------------------------------------------------------------- the briefing deck

DECK_MAX_BYTES = 1_500_000  # the deck of one view: its map picture and text (every cluster: ~10 MB)
TITLE_PART = re.compile(r" \(\d+/\d+\)$")  # "（2/3）": one table flowing over slides


def deck(client, query: str):
    from pptx import Presentation

    r = client.get(f"/export/briefing.pptx?{query}")
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    return r.data, Presentation(io.BytesIO(r.data))


def title_of(slide) -> str:
    return slide.shapes[0].text_frame.paragraphs[0].text if slide.shapes[0].has_text_frame else ""


def tables(prs) -> dict[str, list[list[list[str]]]]:
    """Each table of the deck by its title: its slides' body rows (the header left out)."""
    out: dict[str, list] = {}
    for s in prs.slides:
        for sh in s.shapes:
            if sh.has_table:
                rows = [[c.text for c in row.cells] for row in list(sh.table.rows)[1:]]
                out.setdefault(TITLE_PART.sub("", title_of(s)), []).append(rows)
    return out


def rows_of(prs, suffix: str) -> list[list[str]]:
    found = [rows for title, parts in tables(prs).items() if title.endswith(suffix) for rows in parts]
    return [r for part in found for r in part]


def names_in(client, layer: str, query: str) -> list[str]:
    doc = client.get(f"/api/collections/{layer}/items?limit=1000&{query}").get_json()
    return [f["properties"]["name_zh"] for f in doc["features"]]


@pytest.mark.backends
def test_deck_for_a_cluster_has_map_members_and_the_parks_and_projects_of_its_page(client):
    import json

    data, prs = deck(client, f"cluster={CORRIDOR}")
    slides = list(prs.slides)
    texts = ["\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in slides]
    assert "湖北产业集群简报" in texts[0]
    assert any(sh.shape_type == 13 for sh in slides[1].shapes)  # the map is a picture
    members = rows_of(prs, "成员与定位（按原文顺序）")
    assert [m[1] for m in members] == ["武汉市", "孝感市", "随州市", "襄阳市", "十堰市"]
    assert members[0][2] == "车都" and "第" in members[0][3]
    assert members[1][2] == "原文未给出定位"  # 孝感: the documents give no role
    # the parks and projects the cluster's page lists (one rule: server.view.rules.along_cluster)
    html = client.get(f"/cluster/{CORRIDOR}").get_data(as_text=True)
    page = json.loads(re.search(r'id="atlas-data">(.*?)</script>', html, re.S).group(1))["cluster"]
    parks, projects = rows_of(prs, "· 园区"), rows_of(prs, "· 重点项目")
    assert (len(parks), len(projects)) == (len(page["parks"]), len(page["projects"])) == (23, 11)
    ids = {f["id"]: f["properties"]["name_zh"] for lid in ("parks", "projects") for f in
           client.get(f"/api/collections/{lid}/items?limit=1000").get_json()["features"]}
    assert sorted(r[0] for r in parks) == sorted(ids[i] for i in page["parks"])
    assert sorted(r[0] for r in projects) == sorted(ids[i] for i in page["projects"])
    assert all("汽车" in r[3] for r in parks)  # the corridor's industry, every one
    assert "资料来源" in texts[-1] and len(data) < DECK_MAX_BYTES


@pytest.mark.backends
def test_deck_for_a_city_has_roles_parks_projects_and_targets_of_that_city(client):
    data, prs = deck(client, "city=420100")
    assert len(data) < DECK_MAX_BYTES
    roles = rows_of(prs, "定位、称号与主导产业")
    assert roles and all(re.fullmatch(r"\d{3} 第 \d+(–\d+)? 行( \(\+\d+\))?", r[4]) for r in roles)
    kinds = {r[1] for r in roles}
    assert {"定位", "称号", "品牌", "主导产业"} <= kinds  # what the seeds say of Wuhan, every kind
    assert ["武汉市", "定位", "“汉孝随襄十”千里汽车产业走廊：车都", "2021"] in [r[:4] for r in roles]
    assert all(r[3].isdigit() for r in roles)  # the year of each statement, as a year
    parks, projects = rows_of(prs, "· 园区"), rows_of(prs, "· 重点项目")
    assert sorted(r[0] for r in parks) == sorted(names_in(client, "parks", "city_adcode=420100"))
    assert len(projects) == len(names_in(client, "projects", "city_adcode=420100"))
    assert rows_of(prs, "目标与数据")
    titles = [title_of(s) for s in prs.slides][1:-1]
    assert all(t.startswith("武汉市") for t in titles), titles  # nothing of another city


@pytest.mark.backends
def test_deck_of_a_filtered_view_holds_what_the_filters_leave(client):
    data, prs = deck(client, "city=420100&sector=auto&lang=en")
    assert len(data) < DECK_MAX_BYTES
    parks = rows_of(prs, "· Parks and zones")
    assert len(parks) == len(names_in(client, "parks", "city_adcode=420100&sector=auto")) > 0
    assert all("Automotive" in r[2] for r in parks)
    projects = rows_of(prs, "· Projects")
    assert len(projects) == len(names_in(client, "projects", "city_adcode=420100&sector=auto"))
    assert "Filters: Automotive" in prs.slides[1].shapes[0].text_frame.text
    data, prs = deck(client, "sector=auto&level=national")  # the province, filtered: no city
    parks = rows_of(prs, "· 园区")
    assert len(parks) == len(names_in(client, "parks", "sector=auto&level=national")) > 0
    assert all(r[2].endswith("国家级") for r in parks)


def test_deck_of_the_share_panels_link_is_the_view_not_every_cluster(client):
    from server.view.params import PARAMS

    # the panel (static/atlas/share.js) sends what the table lets the deck take: the view's
    # filters, city, cluster, layers, shading and language
    assert {n for n, p in PARAMS.items() if DECK in p.surfaces} == {
        "lang", "cluster", "l", "sector", "city", "kind", "level", "named", "measure", "scope"}
    data, prs = deck(client, "")
    assert len(data) < DECK_MAX_BYTES  # the province: map, clusters, counts — not every cluster
    assert len(prs.slides) < 15
    assert "scope" not in client.get("/static/atlas/share.js").get_data(as_text=True)  # that is a batch


@pytest.mark.parametrize("query", [f"cluster={CORRIDOR}", "city=421200", "city=420100&sector=auto"])
def test_deck_sources_slide_lists_only_the_documents_the_deck_cites(app, client, query):
    _, prs = deck(client, query)
    slides = list(prs.slides)
    listed = {p.text.split()[0] for sh in list(slides[-1].shapes)[1:] if sh.has_text_frame
              for p in sh.text_frame.paragraphs if p.runs and p.runs[0].font.bold}
    cited = {cell.split()[0] for rows in tables(prs).values() for part in rows for row in part
             for cell in row[-1:] if cell}
    store = app.extensions["atlas_store"]
    with app.app_context():
        view = parse_view({k: [v] for k, v in (kv.split("=") for kv in query.split("&"))}, DECK,
                          known_values(store))
        on_map = {d["code"] for d in scene(store, view).docs}  # the map picture's source line
    assert listed and listed <= cited | on_map
    assert cited <= listed  # and every document a row cites is listed


@pytest.mark.parametrize("query", ["city=420100", "city=421200", f"cluster={CORRIDOR}"])
def test_deck_tables_have_no_lone_row_slide(client, query):
    _, prs = deck(client, query)
    for title, parts in tables(prs).items():
        if sum(map(len, parts)) > 1:
            assert all(len(rows) >= 2 for rows in parts), (title, [len(r) for r in parts])
        if len(parts) > 1:  # shared out evenly
            assert max(map(len, parts)) - min(map(len, parts)) <= max(map(len, parts)) // 2 + 1


@pytest.mark.parametrize("query", [f"cluster={CORRIDOR}", "city=420100", ""])
def test_deck_map_legend_is_editable_text_of_14_points_at_least(client, query):
    from pptx.util import Pt

    _, prs = deck(client, query)
    slide = prs.slides[1]
    assert any(sh.shape_type == 13 for sh in slide.shapes)
    legend = [sh for sh in list(slide.shapes)[1:] if sh.has_text_frame]
    runs = [r for sh in legend for p in sh.text_frame.paragraphs for r in p.runs]
    assert runs and all(r.font.size >= Pt(14) for r in runs)
    text = "\n".join(sh.text_frame.text for sh in legend)
    assert "行业（园区、项目颜色）" in text and "汽车" in text and "河流与湖泊" in text


@pytest.mark.parametrize("query", ["cluster=nope", "city=1", "sector=nope", "lang=de", "scope=some",
                                   "scope=all&city=420100", "dpi=100"])
def test_deck_bad_parameters_400(client, query):
    assert client.get(f"/export/briefing.pptx?{query}").status_code == 400


def test_the_deck_of_every_cluster_is_not_a_request_but_names_its_batch_job(client):
    """Minutes of a core, longer than a worker may hold a request: the batch makes it."""
    response = client.get("/export/briefing.pptx?scope=all")
    assert response.status_code == 400
    assert "atlas export --per province" in response.get_json()["description"]
