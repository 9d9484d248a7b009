import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from geo import datum

# Published reference pairs (the coordtransform implementations' README vectors).
REFERENCE = [
    ("wgs84", "gcj02", (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ("gcj02", "bd09", (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    ("bd09", "gcj02", (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
    ("wgs84", "bd09", (116.404, 39.915), (116.41662724378733, 39.922699552216216)),
]
GEOD = Geod(ellps="WGS84")


@pytest.mark.parametrize(("src", "dst", "given", "expected"), REFERENCE)
def test_reference_pairs(src, dst, given, expected):
    lon, lat = datum.converter(src, dst)(np.array([given[0]]), np.array([given[1]]))
    assert lon[0] == pytest.approx(expected[0], abs=1e-9)
    assert lat[0] == pytest.approx(expected[1], abs=1e-9)


def _hubei_grid(n=60):
    lon, lat = np.meshgrid(np.linspace(108.3, 116.2, n), np.linspace(29.0, 33.3, n))
    return lon.ravel(), lat.ravel()


@pytest.mark.parametrize("other", ["gcj02", "bd09"])
def test_round_trip_across_hubei_is_under_half_a_metre(other):
    lon, lat = _hubei_grid()
    there = datum.converter("wgs84", other)(lon, lat)
    back_lon, back_lat = datum.converter(other, "wgs84")(*there)
    _, _, metres = GEOD.inv(lon, lat, back_lon, back_lat)
    assert metres.max() < 0.5


def test_offset_at_wuhan_is_hundreds_of_metres():
    lon, lat = datum.wgs84_to_gcj02(np.array([114.30]), np.array([30.59]))
    _, _, metres = GEOD.inv(114.30, 30.59, lon[0], lat[0])
    assert 300 < metres < 900


def test_points_outside_china_are_unchanged():
    lon = np.array([2.35, -74.0, 139.69, 151.2])  # Paris, New York, Tokyo, Sydney
    lat = np.array([48.85, 40.7, 35.69, -33.87])
    for src, dst in [("wgs84", "gcj02"), ("gcj02", "wgs84")]:
        out_lon, out_lat = datum.converter(src, dst)(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_whole_geodataframe_converts_in_one_call():
    poly = shapely.box(114.0, 30.0, 114.5, 30.5)
    frame = gpd.GeoDataFrame({"name": ["box"]}, geometry=[poly], crs="EPSG:4326")
    moved = datum.transform_frame(frame, "wgs84", "gcj02")
    back = datum.transform_frame(moved, "gcj02", "wgs84")
    assert moved.geometry.iloc[0].bounds[0] > poly.bounds[0]
    assert shapely.hausdorff_distance(back.geometry.iloc[0], poly) < 1e-8
    assert frame.geometry.iloc[0].equals(poly)  # input untouched


def test_unknown_datum_is_refused():
    with pytest.raises(ValueError, match="unknown datum"):
        datum.converter("wgs84", "utm")
