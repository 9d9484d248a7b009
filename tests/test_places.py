"""Finer places, honestly: every point lies in the unit its precision names, no precision is
finer than its basis, projects that are parks are drawn once, and the placement targets of
the built layers (issue 9) are measured."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from layers.places import FINER_THAN_CITY, district_problem, load_streets, town_point
from layers.sources import DEFAULT_SOURCES, load_sources
from server.store import read_atlas


@pytest.fixture(scope="module")
def layers(built_atlas):
    return read_atlas(built_atlas)[0]


@pytest.fixture(scope="module")
def points(layers):
    """Parks (seed parks and catalogue zones) and projects, as the map draws them."""
    return pd.concat([layers["parks"].assign(layer="parks"), layers["projects"].assign(layer="projects")],
                     ignore_index=True)


def _has(value) -> bool:
    return value is not None and value == value


def test_every_point_lies_in_the_unit_its_precision_names(layers, points):
    counties = layers["counties"].set_index("adcode").geometry
    cities = layers["cities"].set_index("adcode").geometry
    for _, f in points.iterrows():
        if f.precision == "province":
            continue
        assert cities[int(f.city_adcode)].covers(f.geometry), (f.id, "outside its city")
        if f.precision in ("town", "district", "county"):
            assert _has(f.county_adcode), (f.id, f"{f.precision} without a county")
        if _has(f.county_adcode):
            assert counties[int(f.county_adcode)].covers(f.geometry), (f.id, "outside its county")


def test_no_feature_is_finer_than_its_basis(points):
    streets = load_streets(DEFAULT_SOURCES)
    assert len(streets) > 1000
    for _, f in points.iterrows():
        inferred = f.inferred or {}
        if _has(f.at_park):
            assert "county_adcode" not in inferred or f.at_park in inferred["county_adcode"], f.id
            continue  # the park's own point, checked as a park
        if f.precision == "district":
            problem = district_problem(inferred.get("county_adcode"), int(f.county_adcode), streets)
            assert problem is None, (f.id, problem)
        if f.precision == "town":
            assert "geonameid" in inferred and _has(f.geonameid), f.id
            assert f.geometry.equals(town_point(int(f.geonameid))), f.id
        if f.precision == "city":
            assert not _has(f.county_adcode), f.id


def test_district_basis_must_cite_streets_of_the_district():
    streets = load_streets(DEFAULT_SOURCES)
    ok = "汉南区's streets 420113001, 420113002 and 蔡甸区's 420114070"
    assert district_problem(ok, 420113, streets) is None
    assert "does not hold most" in district_problem(ok, 420114, streets)
    tie = "420111080, 420111081, 420115086, 420115087"  # 东湖高新区's split: four and four
    assert "does not hold most" in district_problem(tie, 420111, streets)
    assert "cites no" in district_problem("the zone is in 洪山区", 420111, streets)


def test_projects_that_are_parks_are_drawn_once(layers):
    sources = load_sources(DEFAULT_SOURCES)
    same = {r.id: r.data["park"] for r in sources.of("projects") if r.data.get("same_as_park")}
    assert len(same) == 14
    assert not set(same) & set(layers["projects"].id)
    parks = layers["parks"].set_index("id")
    for pid, park in same.items():
        assert pid in [p["id"] for p in parks.loc[park, "projects"]], pid
    ovm = parks.loc["xn-park-jiayu-ovm-cable"]
    assert ovm.name_zh == "嘉鱼欧维姆长江缆索园"
    assert ovm.projects[0]["name_zh"] == "嘉鱼欧维姆长江缆索园建设项目"


# Issue 9's targets, measured on the build. Where a target cannot be met honestly the test is
# an expected failure (strict: it must be revisited when it starts to pass) that states the
# measured number; see data/sources/README.md, "Places finer than a county".
def _stacks(points) -> Counter:
    return Counter((round(g.x, 6), round(g.y, 6)) for g in points.geometry)


def test_placement_numbers_are_what_the_notes_say(points):
    stacks = _stacks(points)
    finer = points.precision.isin(FINER_THAN_CITY).mean()
    assert len(points) == 303
    assert len(stacks) == 99
    assert max(stacks.values()) == 72
    assert finer == pytest.approx(164 / 303)
    at_city = points[points.precision == "city"].groupby("city_adcode").size()
    assert at_city[420100] == 72 and at_city[421200] == 38  # 武汉's and 咸宁's city points


@pytest.mark.xfail(strict=True, reason="99 distinct points: one more needs a feature of a shared "
                   "city point placed in an unused unit, and no source here places one (see notes)")
def test_at_least_100_distinct_points(points):
    assert len(_stacks(points)) >= 100


@pytest.mark.xfail(strict=True, reason="72 on Wuhan's point (33 at 东湖高新区, whose streets split 4:4 "
                   "between 洪山区 and 江夏区; 25 projects naming no single zone; 14 parks naming no "
                   "district) and 38 on Xianning's (see notes)")
def test_no_more_than_35_features_on_one_point(points):
    assert max(_stacks(points).values()) <= 35


@pytest.mark.xfail(strict=True, reason="54% (164 of 303) placed finer than their city; 182 are "
                   "needed, 18 more: no source here places another, and only 东湖高新区's group "
                   "of 33 is that large (see notes)")
def test_at_least_60_percent_finer_than_the_city(points):
    assert points.precision.isin(FINER_THAN_CITY).mean() >= 0.60
