"""Real clients read the API from a real server (waitress): GDAL/OGR's OAPIF driver and
OWSLib's OGC API – Features client, the two that QGIS and Python scripts use."""

from __future__ import annotations

import os
import shutil
import subprocess

import pyogrio
import pytest

from layers.registry import LAYERS

pytestmark = [pytest.mark.slow, pytest.mark.backends]  # items and counts, read through a server


def ogrinfo() -> str:
    exe = shutil.which("ogrinfo")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("ogrinfo not found: `make test` installs gdal-bin (tools/system-deps.sh)")
        pytest.skip("ogrinfo (gdal-bin) not installed")
    return exe


def run_ogrinfo(*args: str) -> str:
    result = subprocess.run([ogrinfo(), "-ro", *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF"})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_gdal_lists_every_collection(live_server):
    out = run_ogrinfo("-q", f"OAPIF:{live_server}/api")
    for layer_id in LAYERS:
        assert f": {layer_id} (" in out, out


@pytest.mark.parametrize("layer_id", list(LAYERS))
def test_gdal_reads_every_feature_of_every_collection(live_server, layer_id, build_counts):
    # a small page size makes GDAL follow the `next` links across several pages
    out = run_ogrinfo("-q", "-oo", "PAGE_SIZE=40", f"OAPIF:{live_server}/api", layer_id)
    read = out.count("\nOGRFeature(") + out.startswith("OGRFeature(")
    assert read == build_counts[layer_id], f"{layer_id}: GDAL read {read}, build has {build_counts}"
    if build_counts[layer_id]:
        assert "name_zh (String) =" in out and ("POLYGON" in out or "POINT" in out
                                                  or "LINESTRING" in out)


def test_gdal_attribute_filter(live_server, built_atlas):
    counties = pyogrio.read_dataframe(built_atlas, layer="counties", read_geometry=False)
    wuhan = int((counties.parent_adcode == 420100).sum())
    out = run_ogrinfo("-q", f"OAPIF:{live_server}/api", "counties", "-where", "parent_adcode = 420100")
    assert out.count("OGRFeature(") == wuhan > 0


def test_owslib_lists_collections_and_reads_items(live_server, build_counts):
    from owslib.ogcapi.features import Features

    api = Features(f"{live_server}/api", timeout=30)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in \
        api.conformance()["conformsTo"]
    ids = [c["id"] for c in api.collections()["collections"]]
    assert ids == list(LAYERS)
    assert api.collection("parks")["id"] == "parks"
    for layer_id in ("counties", "parks"):
        items = api.collection_items(layer_id, limit=10)
        assert items["numberMatched"] == build_counts[layer_id]
        assert len(items["features"]) == min(10, build_counts[layer_id])
    cities = api.collection_items("cities", q="襄阳")
    assert [f["properties"]["name_zh"] for f in cities["features"]] == ["襄阳市"]
    assert api.collection_item("counties", "420102")["properties"]["name_zh"] == "江岸区"
    assert "/collections/{collectionId}/items" not in api.api()["paths"]  # one path per layer
