"""Each pass of the suite really serves from the backend it names (tests/backends.py)."""

from __future__ import annotations

import json
import urllib.request

from tests import backends
from tests.conftest import serving

EXPECTED = "postgis" if backends.BACKEND == "postgis" else "geopackage"


def _get(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


def test_the_suite_pass_serves_from_its_backend(app):
    """The fixture app of this pass is on the backend the pass names."""
    assert app.test_client().get("/healthz").get_json()["storage"]["backend"] == EXPECTED


def test_live_server_of_this_pass(live_server):
    assert _get(live_server, "/healthz")["storage"]["backend"] == EXPECTED


def test_serving_helper_uses_this_pass_backend(built_atlas):
    with serving(built_atlas) as base:
        assert _get(base, "/healthz")["storage"]["backend"] == EXPECTED
