"""The 2018 national catalogue of development zones as the atlas serves it: sectors to filter
by, and catalogue-only zones told apart on the map (tests/unit/test_catalogue.py checks the
build)."""

from __future__ import annotations

import pytest

from layers.catalogue import DOCUMENT
from layers.sources import DEFAULT_SOURCES, load_sources
from server.store import read_atlas


@pytest.fixture(scope="module")
def zones(built_atlas):
    parks = read_atlas(built_atlas)[0]["parks"]
    return parks[parks.catalogue_code.notna()]


@pytest.mark.backends
def test_leading_industries_map_to_sectors_everywhere(zones, client):
    terms = load_sources(DEFAULT_SOURCES).of("catalogue_terms")
    crosswalk = {r.data["term"]: set(r.data["sectors"]) for r in terms}
    for _, z in zones.iterrows():
        wanted = set().union(*(crosswalk[t] for t in z.leading_industries_zh))
        assert wanted <= set(z.sectors), z.id
    doc = client.get("/api/collections/parks/items?sector=textiles&named_in_documents=false&limit=200").json
    ids = {f["id"] for f in doc["features"]}
    assert "zone-s427023" in ids  # 湖北襄州经济开发区: 纺织服装
    assert all(not f["properties"]["named_in_documents"] for f in doc["features"])
    assert DOCUMENT["code"] in [d["code"] for d in doc["provenance"]["documents"]]


@pytest.mark.backends
def test_map_tells_catalogue_only_zones_apart(client):
    html = client.get("/").get_data(as_text=True)
    assert "仅见于开发区目录，政策文件未提及" in html and "named_cat" in html
    assert '"doc":false' in html and '"doc":true' in html
