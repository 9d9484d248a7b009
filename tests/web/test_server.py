"""The app factory, /healthz and the index page."""

import pytest

from server import create_app


@pytest.mark.backends
def test_healthz_reports_layer_counts(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["layers"]["cities"] == 31
    assert body["layers"]["counties"] == 225
    assert body["built_at"]


@pytest.mark.backends
def test_index_lists_layers_with_counts(client):
    response = client.get("/about")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<tr data-layer="counties">' in html
    assert "县（市、区）" in html and "Counties and districts" in html
    assert '<td class="n">225</td>' in html
    assert "Content-Security-Policy" in response.headers


def test_unknown_route_is_a_json_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.get_json()["code"] == "NotFound"


def test_without_a_build_the_app_says_how_to_make_one(tmp_path):
    app = create_app({"DATA": str(tmp_path / "missing.gpkg"), "TESTING": True})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert "atlas build" in response.get_json()["description"]


def test_a_replaced_build_is_picked_up_and_a_broken_one_ignored(tmp_path, built_atlas):
    import os
    import shutil

    path = tmp_path / "atlas.gpkg"
    shutil.copy(built_atlas, path)
    client = create_app({"DATA": str(path), "TESTING": True}).test_client()
    assert client.get("/healthz").status_code == 200
    # a corrupt file renamed into place: the loaded build keeps serving
    broken = tmp_path / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    os.replace(broken, path)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["layers"]["counties"] == 225
    # ... and the health check says so, with the reason, so a bad deploy does not look healthy
    assert response.get_json()["status"] == "degraded"
    assert "cannot be read" in response.get_json()["reason"]
    assert client.get("/api/collections/counties/items?limit=1").status_code == 200
    # a good build in place again: healthy, no reason
    fixed = tmp_path / "fixed.gpkg"
    shutil.copy(built_atlas, fixed)
    os.replace(fixed, path)
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok" and "reason" not in body
    # the file gone: the loaded build serves on, and the health check tells
    os.remove(path)
    body = client.get("/healthz").get_json()
    assert body["status"] == "degraded" and "no build" in body["reason"]
