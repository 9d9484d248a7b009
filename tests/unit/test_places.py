"""Finer places, honestly: every point lies in the unit its precision names, no precision is
finer than its basis, projects that are parks are drawn once, and the placement targets of
the built layers (issue 9) are measured."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest

from layers.features import PlacementError, Placer
from layers.places import (
    FINER_THAN_CITY,
    district_problem,
    load_county_names,
    load_streets,
    town_point,
    town_problem,
)
from layers.sources import DEFAULT_SOURCES, SourceError, load_sources
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


def test_town_must_be_a_unit_of_the_county_that_the_name_names():
    streets, counties = load_streets(DEFAULT_SOURCES), load_county_names(DEFAULT_SOURCES)

    def problem(geonameid, name, county):
        return town_problem(geonameid, name, county, streets, counties)

    # By GeoNames' Chinese name (彭场 is 彭场镇 of 仙桃市), or by pinyin (盘龙城经济开发区).
    assert problem(8514307, "仙桃彭场镇无纺布产业密集区", 429004) is None
    assert problem(13609088, "湖北盘龙城经济开发区", 420116) is None
    assert problem(7757668, "湖北鄂州花湖经济开发区", 420704) is None
    # GeoNames must know the place as the unit the name names …
    assert "is not 双柳街道, the unit of 新洲区 (420117)" in problem(8514307, "武船…(双柳二期)", 420117)
    # … the name must name a unit of the declared county …
    assert "names no township-level unit of 黄陂区 (420116)" in problem(7904017, "武汉东湖新技术开发区",
                                                                   420116)
    # … and a unit named like its county (黄梅镇 of 黄梅县) does not count: 黄梅 names the county.
    assert "names no township-level unit" in problem(8569796, "湖北黄梅经济开发区", 421127)
    assert "not a place of China" in problem(2643743, "伦敦", 420116)


def test_a_town_point_outside_the_declared_county_fails_the_build(layers):
    placer = Placer(layers["counties"])
    # 黄石港区 has a 花湖街道 too, but GeoNames' 花湖 lies in 鄂城区.
    assert placer.town(7757668, 420704).equals(town_point(7757668))
    with pytest.raises(PlacementError, match="lies outside county 420202"):
        placer.town(7757668, 420202)


def test_a_wrong_town_claim_fails_with_file_and_line(sources_copy):
    path = sources_copy / "xianning" / "projects.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count("value: 1805358") == 1  # 崇阳金塘风电 at 金塘镇
    path.write_text(text.replace("value: 1805358", "value: 8512687"), encoding="utf-8")  # 石城镇's
    with pytest.raises(SourceError) as err:
        load_sources(sources_copy)
    line = text[:text.index("value: 1805358")].count("\n")  # the `geonameid:` key's line
    assert (f"xianning/projects.yaml:{line}: projects xn-pj-chongyang-jintang-wind: geonameid: "
            "GeoNames 8512687 (Shicheng) is not 金塘镇, the unit of 崇阳县 (421223) that 崇阳金塘风电 "
            "names") in str(err.value)


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
    assert len(stacks) == 105
    assert max(stacks.values()) == 72
    assert finer == pytest.approx(164 / 303)
    assert (points.precision == "town").sum() == 9
    at_city = points[points.precision == "city"].groupby("city_adcode").size()
    assert at_city[420100] == 72 and at_city[421200] == 38  # 武汉's and 咸宁's city points


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
