"""Pages made from templates escape what they show: the offline map's title and legend, the
API's HTML documents (server/view/templates.py)."""

from __future__ import annotations

from urllib.parse import quote

NASTY = "<img src=x onerror=alert(1)>"


def test_the_offline_maps_title_is_text_not_markup(client):
    r = client.get(f"/export/map.html?title={quote(NASTY)}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert NASTY not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "class='atlx-legend'" in page


def test_api_html_escapes_the_query_and_prints_no_none(client):
    r = client.get("/api/collections/counties/items/420102?f=html")
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "江岸区" in page
    assert ">None<" not in page  # a missing value prints as nothing
    r = client.get(f"/api/collections/parks/items?f=html&q={quote(NASTY)}")  # in the self link
    assert r.status_code == 200 and NASTY not in r.get_data(as_text=True)
