"""The `backend` fixture (tests/conftest.py): each app and server a test marked `backends`
gets really serves from the backend its id names, and a test not marked gets the GeoPackage."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.conftest import serving
from tests.support.backends import BACKENDS, GEOPACKAGE


def _get(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


@pytest.mark.backends
def test_the_app_serves_from_the_backend_it_names(app, backend, request):
    assert request.node.callspec.params["backend"] == backend in BACKENDS
    assert request.node.name.endswith(f"[{backend}]")
    assert app.test_client().get("/healthz").get_json()["storage"]["backend"] == backend


@pytest.mark.backends
def test_the_live_server_serves_from_the_backend_it_names(live_server, backend):
    assert _get(live_server, "/healthz")["storage"]["backend"] == backend


@pytest.mark.backends
def test_the_serving_helper_serves_from_the_backend_it_names(built_atlas, backend):
    with serving(built_atlas, backend) as base:
        assert _get(base, "/healthz")["storage"]["backend"] == backend


def test_a_test_not_marked_runs_once_on_the_geopackage(app, live_server, backend, request):
    assert not hasattr(request.node, "callspec") and backend == GEOPACKAGE
    assert app.test_client().get("/healthz").get_json()["storage"]["backend"] == GEOPACKAGE
    assert _get(live_server, "/healthz")["storage"]["backend"] == GEOPACKAGE


def test_the_backends_marker_parametrizes_every_backend_the_run_names(request):
    chosen = request.config.getoption("backends") or list(BACKENDS)
    ids = [item.callspec.params["backend"] for item in request.session.items
           if item.originalname == "test_the_app_serves_from_the_backend_it_names"]
    if not ids:
        pytest.skip("test_the_app_serves_from_the_backend_it_names is not in this run")
    assert ids == chosen
