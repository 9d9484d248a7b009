"""Property-based fuzzing: schemathesis generates requests from /api/openapi (valid and
invalid parameter values) and hypothesis throws arbitrary query strings at the downloads.
Nothing may answer 5xx. Bounded to keep the suite fast (well under a minute here)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from layers.registry import LAYERS
from server.api.ogc import openapi
from server.downloads.formats import FORMATS

pytestmark = pytest.mark.slow

EXAMPLES = 40  # per operation and mode: 4 documents + 3 per layer = 25 operations
PATHS = list(openapi("http://localhost/api", 100, 10000)["paths"])  # the same registry-made spec
COUNT = {"requests": 0, "4xx": 0}


@pytest.fixture(scope="module")
def api_schema(app):
    """The API definition as the session's app serves it, with the app as transport."""
    return schemathesis.openapi.from_wsgi("/api/openapi", app)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("path", PATHS)
def test_no_server_error_for_any_documented_request(api_schema, path, mode):
    operation = api_schema[path]["GET"]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        response = case.call()
        COUNT["requests"] += 1
        assert response.status_code < 500, (case.path, case.query, response.text[:300])
        if response.status_code >= 400:
            COUNT["4xx"] += 1
            assert set(response.json()) == {"code", "description"}

    run()


names = st.sampled_from(["bbox", "limit", "offset", "q", "sector", "city_adcode", "kind",
                         "precision", "bbox-crs", "f", "../x", "", "sectors", "adcode"])
values = st.one_of(st.text(max_size=30), st.integers().map(str),
                   st.lists(st.floats(allow_nan=True), min_size=0, max_size=7).map(
                       lambda xs: ",".join(map(str, xs))))


@given(layer=st.sampled_from(list(LAYERS) + ["..", "x"]), fmt=st.sampled_from(list(FORMATS) + ["zip"]),
       params=st.lists(st.tuples(names, values), max_size=4))
@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_server_error_for_any_download_query(client, layer, fmt, params):
    if fmt in ("gpkg", "kml") and not params:
        return  # whole-layer GDAL files are covered in test_downloads and cost time here
    response = client.get(f"/download/{layer}.{fmt}?{urlencode(params)}")
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)[:300]


# Any view the interactive map can express must export: every combination of visible layers,
# filters and shading, a city's or a cluster's view, either language and orientation.
EXPORT_SECTORS = ["auto", "ict", "biomed", "textiles", "green", "emergency"]
export_views = st.fixed_dictionaries({}, optional={
    "l": st.lists(st.sampled_from(list(LAYERS)), unique=True, min_size=1, max_size=7).map(",".join),
    "city": st.sampled_from(["420100", "421200", "429004", "430100", "420000", "1"]),
    "cluster": st.sampled_from(["c001-han-xiao-sui-xiang-shi-auto-corridor", "c000-x"]),
    "sector": st.sampled_from(EXPORT_SECTORS),
    "kind": st.sampled_from(["high_tech_zone", "economic_zone", "base", "other"]),
    "level": st.sampled_from(["national", "provincial", "municipal"]),
    "named": st.sampled_from(["doc", "cat"]),
    "measure": st.sampled_from(["none", "n_parks", "n_projects"] + [f"sector:{s}" for s in EXPORT_SECTORS]),
    "lang": st.sampled_from(["zh", "en"]),
    "orient": st.sampled_from(["landscape", "portrait"]),
    "paper": st.sampled_from(["A4", "16:9"]),
})


@given(fmt=st.sampled_from(["png", "svg", "pdf", "html"]), view=export_views)
@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_every_view_of_the_map_exports(client, fmt, view):
    response = client.get(f"/export/map.{fmt}?{urlencode({**view, 'dpi': 72})}")
    text = response.get_data(as_text=True)[:300] if response.mimetype.endswith("json") else ""
    bad_value = view.get("city") in ("420000", "1") or view.get("cluster") == "c000-x"
    assert response.status_code == (400 if bad_value else 200), (view, text)


def test_the_fuzzing_really_ran_and_reached_the_validation():
    """Runs after the schemathesis tests (file order): they sent requests for every
    operation, and the invalid ones were refused (4xx) rather than all passing as valid."""
    if COUNT["requests"] == 0:
        pytest.skip("the schemathesis tests were deselected in this run")
    assert COUNT["requests"] >= len(PATHS) * 2 * 5, COUNT  # ≥ 5 cases per operation and mode
    assert 0 < COUNT["4xx"] < COUNT["requests"], COUNT
