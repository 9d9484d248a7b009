"""One view, one table: every surface that takes a view parameter judges its values alike (the
live map, the print map, the offline page, the deck, the API where it has the parameter), and
an export frames what the view selects — a cluster of counties included.
tests/unit/test_view.py checks the parser alone."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from server.exports.printmap import scene
from server.view.params import DECK, EXPORT, MAP, PARAMS, known_values, parse_view

COUNTY_CLUSTER = "c001-guangshui-fans"  # one member, the county-level city of Guangshui
GUANGSHUI = 421381
XIANNING = 421200

# the same request on each surface; `{q}` is the view's parameters
SURFACES = {
    "map": "/?{q}",
    "png": "/export/map.png?dpi=72&{q}",
    "html": "/export/map.html?{q}",
    "deck": "/export/briefing.pptx?{q}",
    "api": "/api/collections/parks/items?limit=1&{q}",
}
TAKES = {"map": MAP, "png": EXPORT, "html": EXPORT, "deck": DECK}
# parameter, a value no surface allows, a value every surface taking it allows
CASES = [
    ("lang", "lang=fr", "lang=en"),
    ("city", "city=999999", f"city={XIANNING}"),
    ("cluster", "cluster=nope", f"cluster={COUNTY_CLUSTER}"),
    ("l", "l=nolayer", "l=cities,parks"),
    ("sector", "sector=steel-ish", "sector=auto"),
    ("measure", "measure=bogus", "measure=sector:auto"),
    ("kind", "kind=castle", "kind=high_tech_zone"),
    ("level", "level=county", "level=national"),
    ("named", "named=maybe", "named=doc"),
    ("c", "c=91,200&z=7", "c=30.5,114.3&z=9"),
    ("z", "c=30.5,114.3&z=99", "c=30.5,114.3&z=17"),
    ("bbox", "bbox=1,2,3", "bbox=113,30,115,31"),
    ("paper", "paper=B5", "paper=A3"),  # the map's print and the exports' paper
    ("orient", "orient=sideways", "orient=portrait"),
]


# The API's bbox means what the exports' does, and it reads lang through the same table (the
# same 400, word for word). Its sector, kind and level are filters that may match nothing (a
# 200), and it has no city (city_adcode) and no cluster: PARAMS[].api
API_TAKES = {"bbox", "lang"}
API_SAME_WORDS = {"lang"}


def surfaces_of(name: str) -> list[str]:
    out = [s for s, surface in TAKES.items() if surface in PARAMS[name].surfaces]
    return out + (["api"] if name in API_TAKES else [])


@pytest.mark.parametrize("name,bad,good", CASES, ids=[c[0] for c in CASES])
def test_a_parameter_is_judged_alike_on_every_surface(client, name, bad, good):
    where = surfaces_of(name)
    assert where, name
    bodies = {}
    for surface in where:
        r = client.get(SURFACES[surface].format(q=bad))
        assert r.status_code == 400, (surface, bad, r.status_code)
        assert r.mimetype == "application/json" and r.headers["Cache-Control"] == "no-store"
        bodies[surface] = r.get_json()
        assert set(bodies[surface]) == {"code", "description"}, bodies[surface]
        assert bodies[surface]["code"] == "InvalidParameterValue"
    view_bodies = [b for s, b in bodies.items() if s != "api" or name in API_SAME_WORDS]
    assert all(b == view_bodies[0] for b in view_bodies), bodies  # one message, word for word
    for surface in where:
        # the deck's cheap case is one city's; a deck of every cluster would take a while
        q = good if surface != "deck" or name in ("city", "cluster") else f"{good}&city={XIANNING}"
        r = client.get(SURFACES[surface].format(q=q))
        assert r.status_code == 200, (surface, q, r.get_data(as_text=True)[:200])


def test_a_surface_refuses_or_ignores_a_parameter_it_does_not_take(client):
    # the exports must draw what they were asked for; the map's shared links carry messengers' tags
    assert client.get("/export/briefing.pptx?sector=auto").status_code == 400
    assert client.get("/export/map.png?base=osm").status_code == 400
    assert client.get("/?from=singlemessage&isappinstalled=0").status_code == 200
    assert client.get("/?lang=en&lang=zh").status_code == 400  # twice is one too many, everywhere


def test_the_page_carries_the_table_the_script_reads(client):
    import json
    import re

    html = client.get("/").get_data(as_text=True)
    raw = re.search(r'<script[^>]*id="atlas-data"[^>]*>(.*?)</script>', html, re.S)
    assert raw, "the page's data block"
    table = {p["name"]: p for p in json.loads(raw.group(1))["params"]}
    assert set(table) == set(PARAMS)
    assert table["lang"]["default"] == "zh" and table["z"]["range"] == list(PARAMS["z"].range or ())
    assert "deck" in table["city"]["surfaces"] and "deck" not in table["sector"]["surfaces"]


@pytest.mark.backends  # the cluster's members, polygons and extents as the store serves them
def test_a_county_clusters_export_outlines_and_shades_its_member(app, client):
    with app.app_context():
        store = app.extensions["atlas_store"]
        sc = scene(store, parse_view({"cluster": [COUNTY_CLUSTER]}, EXPORT, known_values(store)))
    assert sc.member_units == {GUANGSHUI}
    assert GUANGSHUI in {int(a) for a in sc.polygons["counties"].adcode}  # drawn as a member
    x0, y0, x1, y1 = sc.extent
    assert 0.3 < x1 - x0 < 1.5 and 0.3 < y1 - y0 < 1.5  # the county, not the province or 20 km
    r = client.get(f"/export/map.png?cluster={COUNTY_CLUSTER}&dpi=72")
    assert r.status_code == 200
    px = np.asarray(Image.open(io.BytesIO(r.data)).convert("RGB")).astype(int)
    # the member fill (#fddbc7 at 85 % over the page's ground) covers much of the map
    shaded = (np.abs(px - np.array([252, 223, 206])).max(axis=2) <= 6).mean()
    assert shaded > 0.15, shaded


@pytest.mark.backends  # the cluster's members, polygons and extents as the store serves them
def test_a_citys_export_frames_the_city_unless_an_extent_is_chosen(app):
    with app.app_context():
        store = app.extensions["atlas_store"]
        known = known_values(store)
        city = scene(store, parse_view({"city": [str(XIANNING)]}, EXPORT, known)).extent
        chosen = scene(store, parse_view({"city": [str(XIANNING)], "c": ["31.0,112.0"], "z": ["7"]},
                                         EXPORT, known)).extent
    assert 113.5 < (city[0] + city[2]) / 2 < 114.8 and city[2] - city[0] < 2.0  # Xianning alone
    assert chosen != city and chosen[2] - chosen[0] > 5  # the asked-for centre and zoom

